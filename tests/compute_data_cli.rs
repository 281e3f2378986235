//! `compute …` and `data …` from the example binary, as a user runs them, against the fake
//! Azure ML (over real HTTP), with blob traffic to a real Azurite where data is uploaded.

mod support;

use std::process::{Command, Output};

use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::{FakeAmlOptions, FakeAzureMl};
use serde_json::{Value, json};
use support::run_example;

/// A token only this test knows: it must never be printed.
const TOKEN: &str = "planted-bearer-5be0c2a1";
/// A Databricks access token only this test knows.
const DATABRICKS_TOKEN: &str = "dapi-planted-7f3e9b0c11d2";
/// The workspace the dry runs name (the fake's defaults).
const WS_PATH: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

/// `compare_models ARGS` with the workspace and login taken from the environment.
fn cli(fake: &FakeAzureMl, azurite: Option<&Azurite>, args: &[&str]) -> Command {
    let o = fake.options();
    let mut cmd = run_example("compare_models");
    cmd.args(args)
        .env("AZUREML_SUBSCRIPTION_ID", o.subscription_id)
        .env("AZUREML_RESOURCE_GROUP", o.resource_group)
        .env("AZUREML_WORKSPACE_NAME", o.workspace_name)
        .env("AZUREML_ARM_ENDPOINT", fake.url())
        .env("AZUREML_TEST_TOKEN", TOKEN)
        .env_remove("DATABRICKS_TOKEN");
    if let Some(a) = azurite {
        cmd.env("AZUREML_BLOB_ENDPOINT", a.blob_endpoint());
    }
    cmd
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn fake(polls: usize) -> FakeAzureMl {
    let fake = FakeAzureMl::start_with(FakeAmlOptions {
        operation_polls: polls,
        ..Default::default()
    })
    .await;
    fake.accept_token("cli", TOKEN);
    fake
}

const CREATE: &[&str] = &[
    "compute",
    "create",
    "cpu-cluster",
    "--size",
    "STANDARD_DS3_V2",
    "--min",
    "0",
    "--max",
    "4",
    "--idle-seconds",
    "300",
    "--poll-interval",
    "0.01",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compute_create_waits_until_usable_and_is_idempotent() {
    let fake = fake(2).await;
    let out = output(cli(&fake, None, CREATE)).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Creating compute `cpu-cluster` (STANDARD_DS3_V2, 0–4 nodes, idle 300 s)"),
        "{stderr}"
    );
    assert!(stderr.contains("cpu-cluster: Creating"), "{stderr}");
    assert!(
        stdout.contains("Compute `cpu-cluster` is ready: Succeeded, STANDARD_DS3_V2, 0–4 nodes"),
        "{stdout}"
    );
    // What reached the service: the §13 body, idle time as ISO 8601, the workspace's region.
    let put = &fake.requests_to("PUT", "/computes/cpu-cluster")[0];
    assert_eq!(put.query["api-version"], "2023-08-01-preview");
    assert_eq!(
        put.body,
        json!({"location": "eastus", "properties": {"computeType": "AmlCompute",
            "disableLocalAuth": true, "properties": {"vmSize": "STANDARD_DS3_V2",
            "osType": "Linux", "remoteLoginPortPublicAccess": "NotSpecified",
            "enableNodePublicIp": true, "scaleSettings": {"maxNodeCount": 4, "minNodeCount": 0,
            "nodeIdleTimeBeforeScaleDown": "PT5M"}}}})
    );
    // Polled until usable: two answers still creating, then succeeded.
    assert_eq!(fake.requests_to("GET", "/computes/cpu-cluster").len(), 4);
    assert_eq!(fake.computes().creates(), 1);

    // The same create again changes nothing, and says so.
    let out = output(cli(&fake, None, CREATE)).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("Compute `cpu-cluster` already exists as asked")
            && stdout.contains("nothing changed"),
        "{stdout}"
    );
    assert_eq!(fake.computes().creates(), 1, "a second PUT was sent");

    // Another size: what differs is named, nothing is sent.
    let mut other: Vec<&str> = CREATE.to_vec();
    other[4] = "STANDARD_D2_V2";
    other[8] = "2";
    let out = output(cli(&fake, None, &other)).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("size: STANDARD_DS3_V2 -> STANDARD_D2_V2, max nodes: 4 -> 2"),
        "{stderr}"
    );
    assert!(stderr.contains("compute resize cpu-cluster"), "{stderr}");
    assert_eq!(fake.computes().creates(), 1);
    assert!(!stderr.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_provisioning_shows_the_service_error() {
    let fake = fake(1).await;
    fake.computes().fail_next_create(
        "QuotaExceeded",
        "Operation results in exceeding quota limits of Core. Maximum allowed: 0",
    );
    let out = output(cli(&fake, None, CREATE)).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "PUT computes/cpu-cluster: the operation ended Failed: QuotaExceeded: \
             Operation results in exceeding quota limits of Core"
        ),
        "{stderr}"
    );
    // `compute show` names the error too.
    let out = output(cli(&fake, None, &["compute", "show", "cpu-cluster"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("state:       Failed"), "{stdout}");
    assert!(
        stdout.contains("error:       QuotaExceeded: Operation results"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_show_resize_delete() {
    let fake = fake(0).await;
    fake.add_compute("my-ci", "ComputeInstance");
    let out = output(cli(&fake, None, CREATE)).await;
    assert!(out.status.success(), "{}", text(&out).1);

    let out = output(cli(&fake, None, &["compute", "list"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("NAME"), "{stdout}");
    assert!(
        lines[1].contains("cpu-cluster")
            && lines[1].contains("AmlCompute")
            && lines[1].contains("Succeeded")
            && lines[1].contains("STANDARD_DS3_V2, 0–4 nodes"),
        "{stdout}"
    );
    assert!(
        lines[2].contains("my-ci") && lines[2].contains("ComputeInstance"),
        "{stdout}"
    );

    let out = output(cli(&fake, None, &["compute", "show", "cpu-cluster"])).await;
    let (stdout, _) = text(&out);
    assert!(stdout.contains("type:        AmlCompute"), "{stdout}");
    assert!(
        stdout.contains("size:        STANDARD_DS3_V2 (dedicated)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("scale:       min 0, max 4, idle 300 s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("nodes:       0 now, 0 target, allocation Steady"),
        "{stdout}"
    );

    let out = output(cli(
        &fake,
        None,
        &[
            "compute",
            "resize",
            "cpu-cluster",
            "--min",
            "1",
            "--max",
            "8",
        ],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("Compute `cpu-cluster` resized"), "{stdout}");
    assert!(stdout.contains("1–8 nodes"), "{stdout}");
    let patch = &fake.requests_to("PATCH", "/computes/cpu-cluster")[0];
    assert_eq!(
        patch.body,
        json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 8,
            "minNodeCount": 1}}}})
    );

    // A name that does not exist is named with the computes that do.
    let out = output(cli(&fake, None, &["compute", "show", "gpu-cluster"])).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cpu-cluster (AmlCompute), my-ci (ComputeInstance)"),
        "{stderr}"
    );

    let out = output(cli(&fake, None, &["compute", "delete", "cpu-cluster"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("Compute `cpu-cluster` deleted."),
        "{stdout}"
    );
    assert_eq!(
        fake.requests_to("DELETE", "/computes/cpu-cluster")[0].query["underlyingResourceAction"],
        "Delete"
    );
    assert_eq!(fake.computes().names(), ["my-ci"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_databricks_sends_the_token_and_never_prints_it() {
    let fake = fake(0).await;
    let dbx = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Databricks/workspaces/dbx";
    let args = [
        "compute",
        "attach",
        "databricks",
        "--type",
        "databricks",
        "--resource-id",
        dbx,
        "--workspace-url",
        "https://adb-1.azuredatabricks.net",
        "--poll-interval",
        "0.01",
    ];
    // Without the variable: named, nothing sent.
    let out = output(cli(&fake, None, &args)).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`DATABRICKS_TOKEN`, which is not set"),
        "{stderr}"
    );
    assert!(fake.requests_to("PUT", "/computes/").is_empty());

    let mut cmd = cli(&fake, None, &args);
    cmd.env("DATABRICKS_TOKEN", DATABRICKS_TOKEN)
        .env("RUST_LOG", "trace");
    let out = output(cmd).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("Compute `databricks` is attached: Succeeded, Databricks"),
        "{stdout}"
    );
    assert!(!stdout.contains(DATABRICKS_TOKEN) && !stderr.contains(DATABRICKS_TOKEN));
    assert_eq!(
        fake.computes().received_secrets("databricks"),
        [DATABRICKS_TOKEN]
    );
    let put = &fake.requests_to("PUT", "/computes/databricks")[0];
    assert_eq!(
        put.body["properties"],
        json!({"computeType": "Databricks", "resourceId": dbx, "properties": {
            "databricksAccessToken": DATABRICKS_TOKEN,
            "workspaceUrl": "https://adb-1.azuredatabricks.net"}})
    );
    let out = output(cli(&fake, None, &["compute", "show", "databricks"])).await;
    let (stdout, _) = text(&out);
    assert!(stdout.contains("attached:    yes"), "{stdout}");
    assert!(!stdout.contains(DATABRICKS_TOKEN));

    // Data Lake Analytics: retired, and the CLI says what to use instead.
    let out = output(cli(
        &fake,
        None,
        &[
            "compute",
            "attach",
            "adla",
            "--type",
            "data-lake-analytics",
            "--resource-id",
            "x",
        ],
    ))
    .await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("retired by Azure on 2024-02-29"),
        "{stderr}"
    );
    assert!(stderr.contains("--type synapse-spark"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_kubernetes_synapse_and_a_vm() {
    let fake = fake(0).await;
    let cases: [(&str, &[&str], Value); 3] = [
        (
            "k8s",
            &[
                "--type",
                "kubernetes",
                "--resource-id",
                "/k8s-id",
                "--namespace",
                "ml",
            ],
            json!({"computeType": "Kubernetes", "resourceId": "/k8s-id",
                   "properties": {"namespace": "ml"}}),
        ),
        (
            "spark",
            &["--type", "synapse-spark", "--resource-id", "/pool-id"],
            json!({"computeType": "SynapseSpark", "resourceId": "/pool-id"}),
        ),
        (
            "vm1",
            &[
                "--type",
                "virtual-machine",
                "--resource-id",
                "/vm-id",
                "--address",
                "10.0.0.4",
                "--username",
                "azureuser",
                "--password-env",
                "VM_PASSWORD",
            ],
            json!({"computeType": "VirtualMachine", "resourceId": "/vm-id",
                   "properties": {"sshPort": 22, "address": "10.0.0.4",
                       "administratorAccount": {"username": "azureuser",
                                                "password": "planted-vm-password-1"}}}),
        ),
    ];
    for (name, extra, expected) in cases {
        let mut args = vec!["compute", "attach", name, "--poll-interval", "0.01"];
        args.extend_from_slice(extra);
        let mut cmd = cli(&fake, None, &args);
        cmd.env("VM_PASSWORD", "planted-vm-password-1");
        let out = output(cmd).await;
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{name}: {stderr}");
        assert!(!stdout.contains("planted-vm-password") && !stderr.contains("planted-vm-password"));
        let put = &fake.requests_to("PUT", &format!("/computes/{name}"))[0];
        assert_eq!(put.body["properties"], expected, "{name}");
        assert_eq!(put.body["location"], "eastus");
        // A Synapse pool reaches data through the compute's managed identity; nothing else
        // sends one.
        let identity = if name == "spark" {
            json!({"type": "SystemAssigned"})
        } else {
            Value::Null
        };
        assert_eq!(put.body["identity"], identity, "{name}");
    }
    assert_eq!(fake.computes().names(), ["k8s", "spark", "vm1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_synapse_with_user_assigned_identities_sends_them_key_by_key() {
    let fake = fake(0).await;
    let uai = |n: &str| {
        format!(
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
        )
    };
    let (a, b) = (uai("reader"), uai("writer"));
    let out = output(cli(
        &fake,
        None,
        &[
            "compute",
            "attach",
            "pool",
            "--poll-interval",
            "0.01",
            "--type",
            "synapse-spark",
            "--resource-id",
            "/pool-id",
            "--user-assigned-identity",
            &a,
            "--user-assigned-identity",
            &b,
        ],
    ))
    .await;
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let put = &fake.requests_to("PUT", "/computes/pool")[0];
    let body = put.body.as_object().unwrap();
    let keys: Vec<&str> = body.keys().map(String::as_str).collect();
    assert_eq!(keys, ["location", "identity", "properties"]);
    assert_eq!(
        body["identity"],
        json!({"type": "UserAssigned", "userAssignedIdentities": {a.clone(): {}, b.clone(): {}}})
    );
    assert_eq!(
        body["properties"],
        json!({"computeType": "SynapseSpark", "resourceId": "/pool-id"})
    );

    // `--identity user-assigned` without an id, and an identity on another kind, are refused
    // before anything is sent.
    fake.clear_requests();
    for args in [
        &[
            "--type",
            "synapse-spark",
            "--resource-id",
            "/p",
            "--identity",
            "user-assigned",
        ][..],
        &[
            "--type",
            "kubernetes",
            "--resource-id",
            "/k",
            "--identity",
            "system-assigned",
        ][..],
    ] {
        let mut all = vec!["compute", "attach", "other"];
        all.extend_from_slice(args);
        let out = output(cli(&fake, None, &all)).await;
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--identity"), "{stderr}");
    }
    assert!(fake.requests_to("PUT", "/computes/").is_empty());
}

/// The model fields of api-version 2025-12-01 (`arm_ml_service_2025-12-01_models.txt`) a
/// request body may carry, by the path of the object in the body.
fn allowed_keys(model: &str) -> &'static [&'static str] {
    match model {
        "ComputeResource" => &["properties", "location", "tags", "sku", "identity"],
        "Compute" => &[
            "computeType",
            "computeLocation",
            "description",
            "resourceId",
            "disableLocalAuth",
            "properties",
        ],
        "AmlComputeProperties" => &[
            "osType",
            "vmSize",
            "vmPriority",
            "virtualMachineImage",
            "isolatedNetwork",
            "scaleSettings",
            "userAccountCredentials",
            "subnet",
            "remoteLoginPortPublicAccess",
            "enableNodePublicIp",
            "propertyBag",
        ],
        "ScaleSettings" => &[
            "maxNodeCount",
            "minNodeCount",
            "nodeIdleTimeBeforeScaleDown",
        ],
        "ClusterUpdateParameters" | "ClusterUpdateProperties" => &["properties"],
        "ScaleSettingsInformation" => &["scaleSettings"],
        "DatabricksProperties" => &["databricksAccessToken", "workspaceUrl"],
        "DataVersionBase" => &["properties"],
        "DataVersionBaseProperties" => &[
            "description",
            "properties",
            "tags",
            "isAnonymous",
            "isArchived",
            "dataType",
            "dataUri",
        ],
        "MLTableData" => &[
            "description",
            "properties",
            "tags",
            "isAnonymous",
            "isArchived",
            "dataType",
            "dataUri",
            "referencedUris",
        ],
        other => panic!("no model {other}"),
    }
}

/// Every key of `body` at each `(pointer, model)` is a field of that model.
fn assert_keys(body: &Value, models: &[(&str, &str)]) {
    for (pointer, model) in models {
        let obj = body
            .pointer(pointer)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("no object at {pointer} in {body}"));
        for key in obj.keys() {
            assert!(
                allowed_keys(model).contains(&key.as_str()),
                "`{key}` at {pointer} is not a field of {model}: {body}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compute_dry_runs_contact_nothing_and_match_the_reference_key_by_key() {
    let fake = fake(0).await;
    let run = |args: Vec<&str>| {
        let mut cmd = cli(&fake, None, &args);
        cmd.env("DATABRICKS_TOKEN", DATABRICKS_TOKEN);
        output(cmd)
    };
    let mut args = CREATE.to_vec();
    args.extend(["--low-priority", "--dry-run"]);
    let out = run(args).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let reqs: Value = serde_json::from_str(&stdout).unwrap();
    let compute = format!("{WS_PATH}/computes/cpu-cluster");
    assert_eq!(reqs[0]["method"], "GET");
    assert_eq!(reqs[0]["path"], WS_PATH);
    let put = &reqs[2];
    assert_eq!(
        (put["method"].as_str(), put["path"].as_str()),
        (Some("PUT"), Some(compute.as_str()))
    );
    assert_eq!(put["api-version"], "2023-08-01-preview");
    // §13: location, computeType AmlCompute, disableLocalAuth, Linux, NotSpecified, node public
    // IP, scale settings with the idle time as ISO 8601; vmPriority only when asked.
    assert_eq!(
        put["body"],
        json!({"location": "{workspace_location}", "properties": {"computeType": "AmlCompute",
            "disableLocalAuth": true, "properties": {"vmSize": "STANDARD_DS3_V2",
            "vmPriority": "LowPriority", "osType": "Linux",
            "remoteLoginPortPublicAccess": "NotSpecified", "enableNodePublicIp": true,
            "scaleSettings": {"maxNodeCount": 4, "minNodeCount": 0,
                              "nodeIdleTimeBeforeScaleDown": "PT5M"}}}})
    );
    assert_keys(
        &put["body"],
        &[
            ("", "ComputeResource"),
            ("/properties", "Compute"),
            ("/properties/properties", "AmlComputeProperties"),
            ("/properties/properties/scaleSettings", "ScaleSettings"),
        ],
    );

    let out = run(vec![
        "compute",
        "resize",
        "cpu-cluster",
        "--min",
        "1",
        "--max",
        "2",
        "--idle-seconds",
        "90",
        "--dry-run",
    ])
    .await;
    let reqs: Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(reqs[0]["method"], "PATCH");
    assert_eq!(
        reqs[0]["body"],
        json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 2,
            "minNodeCount": 1, "nodeIdleTimeBeforeScaleDown": "PT1M30S"}}}})
    );
    assert_keys(
        &reqs[0]["body"],
        &[
            ("", "ClusterUpdateParameters"),
            ("/properties", "ClusterUpdateProperties"),
            ("/properties/properties", "ScaleSettingsInformation"),
            ("/properties/properties/scaleSettings", "ScaleSettings"),
        ],
    );

    let out = run(vec![
        "compute",
        "delete",
        "cpu-cluster",
        "--detach",
        "--dry-run",
    ])
    .await;
    let reqs: Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(
        reqs,
        json!([{"method": "DELETE",
            "path": format!("{compute}?underlyingResourceAction=Detach"),
            "api-version": "2023-08-01-preview", "body": null}])
    );

    // The token is read at run time, never shown: the dry run names its variable.
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("attach");
    let out = run(vec![
        "compute",
        "attach",
        "dbx",
        "--type",
        "databricks",
        "--resource-id",
        "/dbx-id",
        "--workspace-url",
        "https://adb-1.azuredatabricks.net",
        "--location",
        "westeurope",
        "--dry-run",
        "--out",
        out_dir.to_str().unwrap(),
    ])
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(!stdout.contains(DATABRICKS_TOKEN) && !stderr.contains(DATABRICKS_TOKEN));
    let body: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("attach.json")).unwrap())
            .unwrap();
    assert_eq!(
        body,
        json!({"location": "westeurope", "properties": {"computeType": "Databricks",
            "resourceId": "/dbx-id", "properties": {
                "databricksAccessToken": "{env:DATABRICKS_TOKEN}",
                "workspaceUrl": "https://adb-1.azuredatabricks.net"}}})
    );
    assert_keys(
        &body,
        &[
            ("", "ComputeResource"),
            ("/properties", "Compute"),
            ("/properties/properties", "DatabricksProperties"),
        ],
    );
    let files = std::fs::read_to_string(out_dir.join("requests.json")).unwrap();
    assert!(!files.contains(DATABRICKS_TOKEN));
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

const CONTAINER: &str = "azureml-blobstore-data";

/// The fake Azure ML on a real Azurite, with one compute.
async fn fake_on_azurite(compute: &str) -> (Azurite, FakeAzureMl) {
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, CONTAINER).await;
    fake.accept_token("cli", TOKEN);
    fake.add_compute(compute, "AmlCompute");
    (azurite, fake)
}

/// How many files `data create` says it uploaded (`None`: it uploaded nothing).
fn uploaded_files(stderr: &str) -> Option<usize> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("Uploaded "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_asset_is_registered_locally_and_runs_locally() {
    let fake = fake(0).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let ws_arg = ws.to_str().unwrap();
    let local = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--workspace", ws_arg]);
        output(cli(&fake, None, &all))
    };
    let create = [
        "data",
        "create",
        "iris",
        "--version",
        "1",
        "--type",
        "uri_file",
        "--path",
        "examples/compare_models/data/iris.csv",
    ];
    let out = local(&create).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("Registered `iris:1` (uri_file) in the local workspace"),
        "{stdout}"
    );
    // Again: nothing changes. Other data under the same version: refused.
    let out = local(&create).await;
    assert!(
        text(&out)
            .0
            .contains("already exists with the same data; nothing changed")
    );
    let mut other = create.to_vec();
    other[8] = "examples/compare_models/main.rs";
    let out = local(&other).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("a version never changes"),
        "{}",
        text(&out).1
    );

    // The pipeline runs with the asset as its input.
    let out = local(&["run", "--input", "iris=azureml:iris:1"]).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let out = local(&["run", "--input", "iris=azureml:iris@latest"]).await;
    assert!(out.status.success(), "{}", text(&out).1);

    // A missing one is named, with how to register it.
    let out = local(&["run", "--input", "iris=azureml:wine:1"]).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no data asset `wine` in the local workspace"),
        "{stderr}"
    );

    // Archive hides it from @latest; restore brings it back.
    let out = local(&["data", "archive", "iris:1"]).await;
    assert!(text(&out).0.contains("Archived `iris:1`."));
    let out = local(&["run", "--input", "iris=azureml:iris@latest"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("every one is archived"),
        "{}",
        text(&out).1
    );
    let out = local(&["data", "restore", "iris:1"]).await;
    assert!(text(&out).0.contains("Restored `iris:1`."));
    let out = local(&["data", "list"]).await;
    assert!(
        text(&out).0.starts_with("iris  latest 1  uri_file"),
        "{}",
        text(&out).0
    );
    assert!(
        fake.requests().is_empty(),
        "a local command contacted Azure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_table_is_materialised_as_its_folder() {
    let fake = fake(0).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let ws_arg = ws.to_str().unwrap();
    let local = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--workspace", ws_arg]);
        output(cli(&fake, None, &all))
    };
    let out = local(&[
        "upload",
        "examples/compare_models/data/iris.csv",
        "--target-path",
        "train-dataset",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out).1);
    let out = local(&[
        "data",
        "create-tabular",
        "iris-table",
        "--version",
        "1",
        "--from-delimited",
        "azureml://datastores/workspaceblobstore/paths/train-dataset/*.csv",
    ])
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("1 file(s) read as delimited text"),
        "{stdout}"
    );
    let out = local(&["data", "show", "iris-table:1"]).await;
    let (stdout, _) = text(&out);
    let folder = std::path::PathBuf::from(stdout.trim().rsplit(" -> ").next().unwrap());
    let table: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(folder.join("MLTable")).unwrap()).unwrap();
    assert_eq!(table["paths"], json!([{"pattern": "./*.csv"}]));
    assert_eq!(
        table["transformations"],
        json!([{"read_delimited": {"delimiter": ",", "encoding": "utf8",
            "header": "all_files_same_headers"}}])
    );
    assert!(folder.join("iris.csv").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_azure_data_asset_uploads_once_and_is_submitted_by_id() {
    let (azurite, fake) = fake_on_azurite("aml-compute").await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("iris-folder");
    std::fs::create_dir(&folder).unwrap();
    for i in 0..5 {
        std::fs::write(
            folder.join(format!("part-{i}.csv")),
            format!("a,b\n{i},1\n"),
        )
        .unwrap();
    }
    let create = |version: &'static str| {
        let folder = folder.to_str().unwrap().to_owned();
        let args = vec![
            "data".to_owned(),
            "create".into(),
            "iris".into(),
            "--version".into(),
            version.into(),
            "--type".into(),
            "uri_folder".into(),
            "--path".into(),
            folder,
            "--azure".into(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        output(cli(&fake, Some(&azurite), &args))
    };
    let out = create("1").await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(uploaded_files(&stderr), Some(5), "{stderr}");
    let put = &fake.requests_to("PUT", "/data/iris/versions/1")[0];
    assert_eq!(put.query["api-version"], "2023-04-01-preview");
    let uri = put.body["properties"]["dataUri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        uri.starts_with("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
            && uri.ends_with("/iris-folder/"),
        "{uri}"
    );
    assert_eq!(put.body["properties"]["dataType"], "uri_folder");
    assert!(
        stdout.contains("Registered `iris:1` (uri_folder)"),
        "{stdout}"
    );

    // The same again: nothing uploaded, nothing registered.
    let out = create("1").await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("already exists with the same data; nothing changed"),
        "{stdout}"
    );
    assert_eq!(uploaded_files(&stderr), None, "{stderr}");
    assert_eq!(fake.data().puts(), 1);
    // A new version of the same folder: registered, but no file sent.
    let out = create("2").await;
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("is already uploaded"), "{stderr}");
    assert_eq!(uploaded_files(&stderr), None);
    assert_eq!(fake.data().puts(), 2);

    // Archive and restore; @latest follows the newest version not archived.
    let out = output(cli(
        &fake,
        Some(&azurite),
        &["data", "archive", "iris:2", "--azure"],
    ))
    .await;
    assert!(
        text(&out).0.contains("Archived `iris:2`."),
        "{}",
        text(&out).1
    );
    let out = output(cli(&fake, Some(&azurite), &["data", "list", "--azure"])).await;
    assert!(
        text(&out).0.contains("iris  latest 1  uri_folder"),
        "{}",
        text(&out).0
    );
    let out = output(cli(
        &fake,
        Some(&azurite),
        &["data", "show", "iris", "--azure"],
    ))
    .await;
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("iris:2  uri_folder") && stdout.contains("(archived)"),
        "{stdout}"
    );
    let out = output(cli(
        &fake,
        Some(&azurite),
        &["data", "restore", "iris:2", "--azure"],
    ))
    .await;
    assert!(text(&out).0.contains("Restored `iris:2`."));

    // Submitted: the input is the asset's ARM id.
    let out = output(cli(
        &fake,
        Some(&azurite),
        &["submit", "--input", "iris=azureml:iris@latest"],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let job = fake.job(stdout.trim()).unwrap();
    assert_eq!(
        job["properties"]["inputs"]["iris"]["uri"],
        format!("{}/data/iris/versions/2", fake.workspace_id())
    );
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    assert!(!stderr.contains(azurite.account_key()));
}

/// The seed's `Dataset.Tabular.from_delimited_files`, end to end on Azure: the MLTable file is
/// uploaded to the default datastore (Azurite) under `LocalUpload/…/NAME/`, marked complete,
/// and the version registered as an `mltable` pointing at it; the same again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_create_tabular_on_azure_uploads_the_mltable_and_registers_it() {
    let (azurite, fake) = fake_on_azurite("aml-compute").await;
    let pattern = "azureml://datastores/workspaceblobstore/paths/train-dataset/*.csv";
    let args = [
        "data",
        "create-tabular",
        "iris-table",
        "--version",
        "1",
        "--from-delimited",
        pattern,
        "--delimiter",
        ";",
        "--azure",
    ];
    let out = output(cli(&fake, Some(&azurite), &args)).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    assert!(!stderr.contains(azurite.account_key()));

    let puts = fake.requests_to("PUT", "/data/iris-table/versions/1");
    assert_eq!(puts.len(), 1);
    let props = &puts[0].body["properties"];
    assert_eq!(props["dataType"], "mltable");
    assert_eq!(props["referencedUris"], json!([pattern]));
    let data_uri = props["dataUri"].as_str().unwrap();
    let prefix = "azureml://datastores/workspaceblobstore/paths/";
    assert!(
        data_uri.starts_with(&format!("{prefix}LocalUpload/"))
            && data_uri.ends_with("/iris-table/"),
        "{data_uri}"
    );
    // The datastore's key was asked for as the SDK asks (§13).
    let secrets = fake.requests_to("POST", "listSecrets");
    assert_eq!(
        secrets[0].body,
        json!({"expirableSecret": true, "expireAfterHours": 1})
    );

    // What Azurite holds: the MLTable file, at the path the version points at.
    let blob = format!("{}MLTable", &data_uri[prefix.len()..]);
    let blobs = azurite.list_blobs(CONTAINER).await;
    assert_eq!(blobs, std::slice::from_ref(&blob), "{blobs:?}");
    let table: Value =
        serde_yaml_ng::from_slice(&azurite.download(CONTAINER, &blob).await).unwrap();
    assert_eq!(table["paths"], json!([{"pattern": pattern}]));
    assert_eq!(
        table["transformations"],
        json!([{"read_delimited": {"delimiter": ";", "encoding": "utf8",
            "header": "all_files_same_headers"}}])
    );
    assert_eq!(
        azurite.blob_metadata(CONTAINER, &blob).await["upload_status"],
        "completed"
    );

    // The same again: nothing uploaded, nothing registered.
    let out = output(cli(&fake, Some(&azurite), &args)).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("already exists with the same data; nothing changed"),
        "{stdout}"
    );
    assert_eq!(uploaded_files(&stderr), None, "{stderr}");
    assert_eq!(fake.data().puts(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_compute_is_named_before_anything_is_uploaded() {
    let (azurite, fake2) = fake_on_azurite("gpu-cluster").await;
    let out = output(cli(&fake2, Some(&azurite), &["submit"])).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "no compute `aml-compute` in workspace `ws`; it has: gpu-cluster (AmlCompute)"
        ),
        "{stderr}"
    );
    assert!(fake2.requests_to("POST", "startPendingUpload").is_empty());
    assert!(fake2.requests_to("GET", "/codes/").is_empty());
    assert!(fake2.requests_to("POST", "listSecrets").is_empty());
    assert_eq!(fake2.job_puts(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dry_runs_match_the_reference_key_by_key() {
    let fake = fake(0).await;
    let out = output(cli(
        &fake,
        None,
        &[
            "data",
            "create-tabular",
            "iris-table",
            "--version",
            "3",
            "--from-delimited",
            "azureml://datastores/workspaceblobstore/paths/train-dataset/*.csv",
            "--azure",
            "--dry-run",
        ],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let reqs: Value = serde_json::from_str(&stdout).unwrap();
    let put = reqs.as_array().unwrap().last().unwrap();
    assert_eq!(put["method"], "PUT");
    assert_eq!(put["path"], format!("{WS_PATH}/data/iris-table/versions/3"));
    assert_eq!(put["api-version"], "2023-04-01-preview");
    let body = &put["body"];
    assert_keys(
        body,
        &[("", "DataVersionBase"), ("/properties", "MLTableData")],
    );
    assert_eq!(body["properties"]["dataType"], "mltable");
    assert_eq!(
        body["properties"]["referencedUris"],
        json!(["azureml://datastores/workspaceblobstore/paths/train-dataset/*.csv"])
    );
    let data_uri = body["properties"]["dataUri"].as_str().unwrap();
    assert!(
        data_uri.starts_with("azureml://datastores/{default_datastore}/paths/LocalUpload/")
            && data_uri.ends_with("/iris-table/"),
        "{data_uri}"
    );
    assert_eq!(reqs[2]["method"], "POST");
    assert_eq!(
        reqs[2]["body"],
        json!({"expirableSecret": true, "expireAfterHours": 1})
    );

    // A URI needs no upload: the body is the SDK's (§7), key for key.
    let out = output(cli(
        &fake,
        None,
        &[
            "data",
            "create",
            "raw",
            "--version",
            "1",
            "--type",
            "uri_folder",
            "--path",
            "azureml://datastores/workspaceblobstore/paths/data/",
            "--description",
            "d",
            "--azure",
            "--dry-run",
        ],
    ))
    .await;
    let reqs: Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(reqs.as_array().unwrap().len(), 2);
    let body = &reqs[1]["body"];
    assert_eq!(
        body,
        &json!({"properties": {"dataType": "uri_folder",
            "dataUri": "azureml://datastores/workspaceblobstore/paths/data/",
            "description": "d", "tags": {}, "properties": {}, "isAnonymous": false,
            "isArchived": false}})
    );
    assert_keys(
        body,
        &[
            ("", "DataVersionBase"),
            ("/properties", "DataVersionBaseProperties"),
        ],
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}
