//! Operating published pipelines from the example binary, as a user runs it, against the fake
//! Azure ML (ARM, long-running operations, the scoring host) over real HTTP, with snapshots
//! uploaded to a real Azurite: publish → endpoint create → deploy (two versions) → set-default
//! → invoke (default, and a named version with parameters) → disable → invoke refused → enable
//! → schedule create/disable/enable; the same flow under injected faults; `--dry-run` bodies.

mod support;

use azureml_pipelines::graph::{DataLocation, InputValue};
use azureml_pipelines::prelude::*;
use azureml_pipelines::wire::{self, WireContext};

use std::process::{Command, Output};

use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::{FakeAzureMl, Fault, FaultRule};
use serde_json::{Value, json};
use support::run_example;

/// A token only this test knows: it must never be printed.
const TOKEN: &str = "planted-operate-token-7c1e";
const CONTAINER: &str = "operate-uploads";
const IRIS: &str = "iris=azureml://datastores/workspaceblobstore/paths/iris/iris.csv";

struct Env {
    azurite: Azurite,
    fake: FakeAzureMl,
}

async fn env() -> Env {
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, CONTAINER).await;
    fake.accept_token("cli", TOKEN);
    // `publish` and `schedule create` check the computes the pipeline names, as `submit` does.
    fake.add_compute("aml-compute", "AmlCompute");
    Env { azurite, fake }
}

fn cmd(env: &Env, args: &[&str]) -> Command {
    let o = env.fake.options();
    let mut cmd = run_example("compare_models");
    cmd.args(args)
        .env("AZUREML_SUBSCRIPTION_ID", o.subscription_id)
        .env("AZUREML_RESOURCE_GROUP", o.resource_group)
        .env("AZUREML_WORKSPACE_NAME", o.workspace_name)
        .env("AZUREML_ARM_ENDPOINT", env.fake.url())
        .env("AZUREML_BLOB_ENDPOINT", env.azurite.blob_endpoint())
        .env("AZUREML_TEST_TOKEN", TOKEN)
        .env("AZUREML_MAX_RETRY_WAIT", "0.2");
    cmd
}

/// Runs `compare_models ARGS`; returns (exit code, stdout, stderr), checking no secret shows.
async fn run(env: &Env, args: &[&str]) -> (i32, String, String) {
    let mut c = cmd(env, args);
    let out: Output = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    for shown in [&stdout, &stderr] {
        assert!(!shown.contains(TOKEN), "token printed: {shown}");
        assert!(
            !shown.contains(env.azurite.account_key()),
            "key printed: {shown}"
        );
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

async fn ok(env: &Env, args: &[&str]) -> (String, String) {
    let (code, stdout, stderr) = run(env, args).await;
    assert_eq!(code, 0, "{args:?}\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// The whole operate flow; returns the invoked job names.
async fn flow(env: &Env) -> Vec<String> {
    let (id, err) = ok(env, &["publish", "--version", "1"]).await;
    assert!(
        id.trim().ends_with("/components/compare_models/versions/1"),
        "{id}"
    );
    assert!(
        err.contains("endpoint deploy ENDPOINT --pipeline compare_models:1"),
        "{err}"
    );
    ok(
        env,
        &["publish", "--version", "2", "--description", "second"],
    )
    .await;
    ok(
        env,
        &["endpoint", "create", "compare-ep", "--description", "iris"],
    )
    .await;
    let (_, err) = ok(
        env,
        &[
            "endpoint",
            "deploy",
            "compare-ep",
            "--pipeline",
            "compare_models:1",
            "--deployment",
            "v1",
        ],
    )
    .await;
    assert!(err.contains("`v1` is now the default deployment"), "{err}");
    ok(
        env,
        &[
            "endpoint",
            "deploy",
            "compare-ep",
            "--pipeline",
            "compare_models:2",
            "--deployment",
            "v2",
        ],
    )
    .await;
    ok(env, &["endpoint", "set-default", "compare-ep", "v2"]).await;
    let (job_default, err) = ok(env, &["endpoint", "invoke", "compare-ep", "--input", IRIS]).await;
    assert!(err.contains("curl -X POST"), "{err}");
    assert!(err.contains("Bearer $TOKEN"), "{err}");
    assert!(!err.contains("azureml-model-deployment"), "{err}");
    assert!(err.contains("on deployment `v2`"), "{err}");
    let (job_v1, err) = ok(
        env,
        &[
            "endpoint",
            "invoke",
            "compare-ep",
            "--deployment",
            "v1",
            "--param",
            "pipeline_arg=20",
            "--input",
            IRIS,
            "--experiment",
            "nightly",
            "--wait",
            "--poll-interval",
            "0.05",
        ],
    )
    .await;
    assert!(err.contains("-H 'azureml-model-deployment: v1'"), "{err}");
    assert!(err.contains(" completed after "), "{err}");
    vec![job_default.trim().to_owned(), job_v1.trim().to_owned()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_deploy_invoke_disable_enable_and_schedule() {
    let env = env().await;
    let jobs = flow(&env).await;

    // The endpoint as the service holds it, and the jobs the invocations made.
    let (endpoints, deployments, invoked) = env.fake.operate(|s| {
        (
            s.endpoints.clone(),
            s.deployments_of("compare-ep"),
            s.jobs.clone(),
        )
    });
    assert_eq!(endpoints.len(), 1);
    assert_eq!(
        endpoints["compare-ep"]["properties"]["defaults"]["deploymentName"],
        json!("v2")
    );
    assert_eq!(
        endpoints["compare-ep"]["properties"]["description"],
        json!("iris")
    );
    assert_eq!(deployments, ["v1", "v2"]);
    assert_eq!(invoked.len(), 2);
    let v1_job = &invoked[&jobs[1]];
    assert_eq!(v1_job.deployment, "v1");
    assert_eq!(
        v1_job.body["properties"]["inputData"]["pipeline_arg"],
        json!({"jobInputType": "Literal", "value": "20"})
    );
    assert_eq!(
        v1_job.body["properties"]["properties"]["experimentName"],
        json!("nightly")
    );
    assert_eq!(invoked[&jobs[0]].deployment, "v2");

    // Re-running changes nothing and says so.
    let (_, err) = ok(&env, &["publish", "--version", "1"]).await;
    assert!(
        err.contains("already published with this definition; nothing changed"),
        "{err}"
    );
    let (_, err) = ok(
        &env,
        &["endpoint", "create", "compare-ep", "--description", "iris"],
    )
    .await;
    assert!(err.contains("nothing changed"), "{err}");
    let (_, err) = ok(
        &env,
        &[
            "endpoint",
            "deploy",
            "compare-ep",
            "--pipeline",
            "compare_models:2",
            "--deployment",
            "v2",
        ],
    )
    .await;
    assert!(
        err.contains("already runs `compare_models:2`; nothing changed"),
        "{err}"
    );
    let (_, err) = ok(&env, &["endpoint", "set-default", "compare-ep", "v2"]).await;
    assert!(err.contains("already is the default"), "{err}");

    // A value the published interface does not take: exit 2, listing what it accepts.
    let (code, _, err) = run(
        &env,
        &[
            "endpoint",
            "invoke",
            "compare-ep",
            "--param",
            "nope=1",
            "--input",
            IRIS,
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown parameter `nope`"), "{err}");
    assert!(
        err.contains("--param pipeline_arg: integer (default: 10)"),
        "{err}"
    );
    assert!(err.contains("--input iris: uri_file"), "{err}");
    let (code, _, err) = run(
        &env,
        &[
            "endpoint",
            "invoke",
            "compare-ep",
            "--param",
            "pipeline_arg=ten",
            "--input",
            IRIS,
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a integer"), "{err}");

    // Disable: invoke and deploy refuse the version; enable: it runs again.
    let (out, _) = ok(&env, &["published", "disable", "compare_models:1"]).await;
    assert_eq!(out.trim(), "disabled");
    let (code, _, err) = run(
        &env,
        &[
            "endpoint",
            "invoke",
            "compare-ep",
            "--deployment",
            "v1",
            "--input",
            IRIS,
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`compare_models` version `1` is disabled"),
        "{err}"
    );
    assert!(err.contains("published enable compare_models:1"), "{err}");
    let (code, _, err) = run(
        &env,
        &[
            "endpoint",
            "deploy",
            "compare-ep",
            "--pipeline",
            "compare_models:1",
            "--deployment",
            "v1b",
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    let (out, _) = ok(&env, &["published", "list", "compare_models"]).await;
    assert!(out.contains("compare_models:1\tdisabled"), "{out}");
    assert!(out.contains("compare_models:2\tenabled"), "{out}");
    ok(&env, &["published", "enable", "compare_models:1"]).await;
    let (_, err) = ok(&env, &["published", "enable", "compare_models:1"]).await;
    assert!(err.contains("already enabled; nothing changed"), "{err}");
    ok(
        &env,
        &[
            "endpoint",
            "invoke",
            "compare-ep",
            "--deployment",
            "v1",
            "--input",
            IRIS,
        ],
    )
    .await;
    assert_eq!(env.fake.operate(|s| s.jobs.len()), 3);

    let (out, _) = ok(&env, &["endpoint", "show", "compare-ep"]).await;
    assert!(
        out.contains("deployment   v2 (default)\tcompare_models:2\tSucceeded"),
        "{out}"
    );
    // Its last jobs, newest first, each with status, deployment and creation time: all three
    // (over two pages of the data plane's list), then a bounded count.
    let (third, created) = env.fake.operate(|s| {
        let (name, job) = s
            .jobs
            .iter()
            .max_by(|a, b| a.1.created.cmp(&b.1.created))
            .unwrap();
        (name.clone(), job.created.clone())
    });
    let listed: Vec<&str> = out.lines().filter(|l| l.starts_with("job ")).collect();
    assert_eq!(listed.len(), 3, "{out}");
    assert_eq!(
        listed[0],
        format!("job          {third}\tRunning\tv1\t{created}"),
        "{out}"
    );
    assert!(
        listed[1].starts_with(&format!("job          {}\tCompleted\tv1\t", jobs[1])),
        "{out}"
    );
    assert!(
        listed[2].starts_with(&format!("job          {}\tRunning\tv2\t", jobs[0])),
        "{out}"
    );
    let (out, _) = ok(&env, &["endpoint", "show", "compare-ep", "--jobs", "1"]).await;
    let listed: Vec<&str> = out.lines().filter(|l| l.starts_with("job ")).collect();
    assert_eq!(listed.len(), 1, "{out}");
    assert!(listed[0].contains(&third), "{out}");
    let (out, _) = ok(&env, &["endpoint", "show", "compare-ep", "--jobs", "0"]).await;
    assert!(!out.contains("job "), "{out}");

    // Schedules.
    let (out, _) = ok(
        &env,
        &["schedule", "create", "nightly", "--cron", "0 6 * * *"],
    )
    .await;
    assert_eq!(out.trim(), "enabled");
    let (out, _) = ok(&env, &["schedule", "disable", "nightly"]).await;
    assert_eq!(out.trim(), "disabled");
    let (out, _) = ok(&env, &["schedule", "enable", "nightly"]).await;
    assert_eq!(out.trim(), "enabled");
    let (_, err) = ok(
        &env,
        &["schedule", "create", "nightly", "--cron", "0 6 * * *"],
    )
    .await;
    assert!(
        err.contains("already exists as asked; nothing changed"),
        "{err}"
    );
    let schedule = env.fake.operate(|s| s.schedules["nightly"].clone());
    assert_eq!(
        schedule["properties"]["trigger"],
        json!({"triggerType": "Cron", "expression": "0 6 * * *", "timeZone": "UTC"})
    );
    assert_eq!(
        schedule["properties"]["action"]["actionType"],
        json!("CreateJob")
    );
    assert_eq!(
        schedule["properties"]["action"]["jobDefinition"]["jobType"],
        json!("Pipeline")
    );
    let (out, _) = ok(&env, &["schedule", "list"]).await;
    assert!(
        out.contains("nightly\tenabled\tcron \"0 6 * * *\" (UTC)"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_every_new_call_still_make_one_of_each() {
    let env = env().await;
    for (method, path) in [
        ("PUT", "/batchEndpoints/compare-ep"),
        ("PUT", "/deployments/v1"),
        ("PUT", "/deployments/v2"),
        ("GET", "/fake/operate/operations/"),
        ("POST", "/fake/scoring/"),
        ("PUT", "/components/compare_models/versions/"),
    ] {
        env.fake.inject(
            FaultRule::new(method, path)
                .fault(Fault::throttle_ms(50))
                .times(1),
        );
        env.fake.inject(
            FaultRule::new(method, path)
                .fault(Fault::unavailable())
                .times(1),
        );
        env.fake.inject(
            FaultRule::new(method, path)
                .fault(Fault::DropAfterProcessing)
                .times(1),
        );
    }
    let jobs = flow(&env).await;
    let (endpoints, deployments, invoked) = env.fake.operate(|s| {
        (
            s.endpoints.len(),
            s.deployments_of("compare-ep"),
            s.jobs.clone(),
        )
    });
    assert_eq!(endpoints, 1);
    assert_eq!(deployments, ["v1", "v2"]);
    assert_eq!(invoked.len(), 2, "{:?}", invoked.keys());
    assert!(jobs.iter().all(|j| invoked.contains_key(j)));
    let faulted = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert!(faulted >= 12, "faults were not all hit: {faulted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_bodies_have_the_reference_shapes_and_contact_nothing() {
    let env = env().await;
    let plan = |stdout: &str| -> Vec<Value> { serde_json::from_str(stdout).expect("json") };
    let (out, _) = ok(
        &env,
        &[
            "endpoint",
            "deploy",
            "e1",
            "--pipeline",
            "p:3",
            "--deployment",
            "d1",
            "--dry-run",
        ],
    )
    .await;
    let requests = plan(&out);
    let put = &requests[3];
    assert_eq!(put["method"], json!("PUT"));
    assert_eq!(put["api-version"], json!("2023-02-01-preview"));
    assert_eq!(
        put["body"],
        json!({"location": "{location}", "tags": {}, "properties": {
            "deploymentConfiguration": {"deploymentConfigurationType": "PipelineComponent",
                "componentId": {"referenceType": "Id", "assetId":
                    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/components/p/versions/3"},
                "settings": {"default_compute": "aml-compute", "continue_on_step_failure": false}},
            "errorThreshold": -1, "maxConcurrencyPerInstance": 1, "miniBatchSize": 10,
            "outputFileName": "predictions.csv"}})
    );
    let (out, _) = ok(
        &env,
        &[
            "endpoint",
            "create",
            "e1",
            "--description",
            "d",
            "--dry-run",
        ],
    )
    .await;
    assert_eq!(
        plan(&out)[2]["body"],
        json!({"location": "{location}", "tags": {}, "properties": {
            "authMode": "aadToken", "description": "d", "properties": {}}})
    );
    let (out, _) = ok(
        &env,
        &[
            "endpoint",
            "invoke",
            "e1",
            "--param",
            "pipeline_arg=7",
            "--input",
            IRIS,
            "--dry-run",
        ],
    )
    .await;
    let post = &plan(&out)[3];
    assert_eq!(post["host"], json!("{scoring_uri}"));
    assert_eq!(
        post["body"],
        json!({"properties": {"inputData": {
            "pipeline_arg": {"jobInputType": "Literal", "value": "7"},
            "iris": {"jobInputType": "UriFile", "uri": "azureml://datastores/workspaceblobstore/paths/iris/iris.csv"}},
            "name": "{job_name}"}})
    );
    let (out, _) = ok(
        &env,
        &[
            "schedule",
            "create",
            "s1",
            "--every",
            "day",
            "--at",
            "06:30",
            "--dry-run",
        ],
    )
    .await;
    let requests = plan(&out);
    let put = requests.last().unwrap();
    assert_eq!(put["api-version"], json!("2023-06-01-preview"));
    let p = &put["body"]["properties"];
    assert_eq!(
        p["trigger"],
        json!({"triggerType": "Recurrence", "frequency": "day", "interval": 1,
               "schedule": {"hours": [6], "minutes": [30]}, "timeZone": "UTC"})
    );
    assert_eq!(p["action"]["actionType"], json!("CreateJob"));
    assert_eq!(p["action"]["jobDefinition"]["jobType"], json!("Pipeline"));
    assert!(p.get("isEnabled").is_none());
    let (out, _) = ok(&env, &["publish", "--version", "4", "--dry-run"]).await;
    let requests = plan(&out);
    let put = requests.last().unwrap();
    let spec = &put["body"]["properties"]["componentSpec"];
    assert_eq!(spec["type"], json!("pipeline"));
    assert_eq!(
        spec["inputs"]["pipeline_arg"],
        json!({"type": "integer", "default": "10"})
    );
    assert!(
        spec["jobs"].as_object().is_some_and(|j| j.len() == 3),
        "{spec}"
    );
    assert!(spec.get("settings").is_none());
    assert_eq!(put["body"]["properties"]["isArchived"], json!(false));
    let (out, _) = ok(&env, &["published", "disable", "p:1", "--dry-run"]).await;
    assert_eq!(
        plan(&out)[1]["body"]["properties"]["isArchived"],
        json!(true)
    );
    assert!(
        env.fake.requests().is_empty(),
        "a dry run contacted the fake"
    );
}

/// The reference section a request follows (`azureml-rest.md`).
fn section(method: &str, path: &str) -> &'static str {
    match () {
        _ if path.starts_with("/fake/scoring/") => "§13 Invoke (§10)",
        _ if path.starts_with("/fake/operate/operations/") => "§2.4 long-running operation",
        _ if path.starts_with("/history/") => "§3 run history",
        _ if path == "/discovery" => "§2 discovery",
        _ if path.contains("/batchEndpoints/") && path.contains("/deployments") => {
            "§13 Endpoint and deployment (deployment)"
        }
        _ if path.contains("/batchEndpoints/") => "§13 Endpoint and deployment (endpoint)",
        _ if path.contains("/components/azureml_anonymous/") => "§5 anonymous component",
        _ if path.contains("/components/") && method == "PUT" => "§13 Publish",
        _ if path.contains("/components/") => "§13 Publish / Disable-enable (read)",
        _ if path.contains("/codes/") => "§6 code asset",
        _ if path.contains("/computes/") => "§9 compute (checked before any upload)",
        _ if path.contains("/datastores") => "§8 datastore",
        _ if path.contains("/jobs/") => "§3 job",
        _ if path.contains("/schedules/") => "§13 Schedules",
        _ => "§2 workspace",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flow_sends_the_reviewed_requests() {
    let env = env().await;
    let jobs = flow(&env).await;
    ok(&env, &["published", "disable", "compare_models:1"]).await;
    ok(&env, &["published", "enable", "compare_models:1"]).await;
    ok(
        &env,
        &["schedule", "create", "nightly", "--cron", "0 6 * * *"],
    )
    .await;
    ok(&env, &["schedule", "disable", "nightly"]).await;
    let ws = env.fake.workspace_id();
    let mut log = String::from(
        "# Every request of: publish v1, publish v2, endpoint create, deploy v1, deploy v2,\n\
         # set-default v2, invoke (default), invoke --deployment v1 --param … --wait,\n\
         # published disable/enable, schedule create, schedule disable.\n\
         # METHOD path (below the workspace) [api-version] [deployment header]  reference\n",
    );
    // Code assets and step components are registered concurrently and arrive in any order: each
    // run of consecutive such requests is sorted; every other request keeps its place.
    let mut lines: Vec<(String, String)> = Vec::new();
    for r in env.fake.requests() {
        let mut path = r.path.strip_prefix(&ws).unwrap_or(&r.path).to_owned();
        for (i, job) in jobs.iter().enumerate() {
            path = path.replace(job.as_str(), &format!("{{job{}}}", i + 1));
        }
        if let Some(ws_in_history) = path.find("/subscriptions/") {
            path.truncate(ws_in_history);
            path.push_str("/{workspace}/…");
        }
        let api = r
            .query
            .get("api-version")
            .map(|v| format!(" [{v}]"))
            .unwrap_or_default();
        let header = r
            .headers
            .get("azureml-model-deployment")
            .map(|d| format!(" [azureml-model-deployment: {d}]"))
            .unwrap_or_default();
        let tag = section(&r.method, &r.path);
        let kind = if tag.starts_with("§5") || tag.starts_with("§6") {
            tag.to_owned()
        } else {
            format!("{}", lines.len())
        };
        lines.push((
            kind,
            format!(
                "{} {}{api}{header}  {}\n",
                r.method,
                if path.is_empty() { "/" } else { &path },
                section(&r.method, &r.path)
            ),
        ));
    }
    for group in lines.chunk_by(|a, b| a.0 == b.0) {
        let mut group: Vec<&str> = group.iter().map(|(_, l)| l.as_str()).collect();
        group.sort_unstable();
        log.extend(group);
    }
    support::assert_golden("operate/flow.log", &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_provisioning_shows_the_service_error() {
    let env = env().await;
    env.fake
        .operate(|s| s.fail_next = Some("Quota exceeded for batch endpoints in eastus".into()));
    let (code, _, err) = run(&env, &["endpoint", "create", "broken-ep"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ended Failed"), "{err}");
    assert!(
        err.contains("Quota exceeded for batch endpoints in eastus"),
        "{err}"
    );
    let state = env
        .fake
        .operate(|s| s.endpoints["broken-ep"]["properties"]["provisioningState"].clone());
    assert_eq!(state, json!("Failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_versions_of_endpoints_deployments_and_schedules_are_settable() {
    let env = env().await;
    let run_with = |args: &[&str]| {
        let mut c = cmd(&env, args);
        c.env("AZUREML_API_VERSION_ENDPOINTS", "2025-12-01")
            .env("AZUREML_API_VERSION_DEPLOYMENTS", "2025-01-01-preview")
            .env("AZUREML_API_VERSION_SCHEDULES", "2024-10-01");
        c
    };
    // Against the service: every endpoint and schedule request carries the chosen version.
    let out = run_with(&["endpoint", "create", "versioned-ep"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = run_with(&["schedule", "create", "versioned", "--cron", "0 6 * * *"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut seen = (0, 0);
    for r in env.fake.requests() {
        let v = r.query.get("api-version").cloned().unwrap_or_default();
        if r.path.contains("/batchEndpoints/") {
            assert_eq!(v, "2025-12-01", "{} {}", r.method, r.path);
            seen.0 += 1;
        }
        if r.path.contains("/schedules/") {
            assert_eq!(v, "2024-10-01", "{} {}", r.method, r.path);
            seen.1 += 1;
        }
    }
    assert!(seen.0 >= 2 && seen.1 >= 2, "{seen:?}");
    // `--dry-run` shows the same versions, the deployment PUT its own.
    let out = run_with(&[
        "endpoint",
        "deploy",
        "e1",
        "--pipeline",
        "p:3",
        "--deployment",
        "d1",
        "--dry-run",
    ])
    .output()
    .unwrap();
    let plan: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(plan[0]["api-version"], json!("2025-12-01"));
    assert_eq!(plan[3]["method"], json!("PUT"));
    assert_eq!(plan[3]["api-version"], json!("2025-01-01-preview"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_uploads_local_inputs_once_and_sends_their_uri() {
    let env = env().await;
    ok(&env, &["publish", "--version", "1"]).await;
    ok(&env, &["endpoint", "create", "local-ep"]).await;
    ok(
        &env,
        &[
            "endpoint",
            "deploy",
            "local-ep",
            "--pipeline",
            "compare_models:1",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("iris.csv");
    std::fs::write(&file, "sepal_length,species\n5.1,setosa\n").unwrap();
    let local = format!("iris={}", file.display());

    // First invoke: uploaded to the default datastore, the job gets its azureml:// URI.
    let (job, err) = ok(&env, &["endpoint", "invoke", "local-ep", "--input", &local]).await;
    assert!(err.contains("Uploaded input `iris`"), "{err}");
    let body = env.fake.operate(|s| s.jobs[job.trim()].body.clone());
    let uri = body["properties"]["inputData"]["iris"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        body["properties"]["inputData"]["iris"]["jobInputType"],
        json!("UriFile")
    );
    let prefix = "azureml://datastores/workspaceblobstore/paths/LocalUpload/";
    assert!(
        uri.starts_with(prefix) && uri.ends_with("/iris.csv"),
        "{uri}"
    );
    let blob = &uri[prefix.len() - "LocalUpload/".len()..];
    let blobs = env.azurite.list_blobs(CONTAINER).await;
    assert!(blobs.iter().any(|b| b == blob), "{blob} not in {blobs:?}");
    assert_eq!(
        env.azurite.download(CONTAINER, blob).await,
        b"sepal_length,species\n5.1,setosa\n"
    );

    // Second invoke of the same content: nothing uploaded, the same URI.
    let (job2, err) = ok(&env, &["endpoint", "invoke", "local-ep", "--input", &local]).await;
    assert!(err.contains("is already uploaded"), "{err}");
    let body = env.fake.operate(|s| s.jobs[job2.trim()].body.clone());
    assert_eq!(body["properties"]["inputData"]["iris"]["uri"], json!(uri));

    // `--dry-run` shows the same place (its hash computed locally), contacting nothing.
    let before = env.fake.requests().len();
    let (out, _) = ok(
        &env,
        &[
            "endpoint",
            "invoke",
            "local-ep",
            "--input",
            &local,
            "--dry-run",
        ],
    )
    .await;
    let plan: Vec<Value> = serde_json::from_str(&out).unwrap();
    let dry_uri = plan[3]["body"]["properties"]["inputData"]["iris"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        dry_uri.replace("{default_datastore}", "workspaceblobstore"),
        uri
    );
    assert_eq!(env.fake.requests().len(), before);

    // URIs keep working; a folder for a file input, or a missing path: exit 2, no job, no upload.
    ok(&env, &["endpoint", "invoke", "local-ep", "--input", IRIS]).await;
    let jobs = env.fake.operate(|s| s.jobs.len());
    let folder = format!("iris={}", dir.path().display());
    let (code, _, err) = run(
        &env,
        &["endpoint", "invoke", "local-ep", "--input", &folder],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is a folder, but `iris` is a uri_file"),
        "{err}"
    );
    let missing = format!("iris={}", dir.path().join("nope.csv").display());
    let (code, _, err) = run(
        &env,
        &["endpoint", "invoke", "local-ep", "--input", &missing],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no such local file or folder"), "{err}");
    // A wrong parameter is refused before anything is uploaded.
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "x\n").unwrap();
    let other_input = format!("iris={}", other.display());
    let (code, _, err) = run(
        &env,
        &[
            "endpoint",
            "invoke",
            "local-ep",
            "--input",
            &other_input,
            "--param",
            "pipeline_arg=ten",
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        env.azurite
            .list_blobs(CONTAINER)
            .await
            .iter()
            .filter(|b| b.starts_with("LocalUpload/"))
            .count(),
        blobs
            .iter()
            .filter(|b| b.starts_with("LocalUpload/"))
            .count()
    );
    assert_eq!(env.fake.operate(|s| s.jobs.len()), jobs);
}

/// A 429 with `Retry-After` (capped by `AZUREML_MAX_RETRY_WAIT`), a 503 and a connection dropped
/// after the service acted, once each, on the next requests with this method and path.
fn three_faults(env: &Env, method: &str, path: &str) {
    for fault in [
        Fault::throttle_secs(1),
        Fault::unavailable(),
        Fault::DropAfterProcessing,
    ] {
        env.fake
            .inject(FaultRule::new(method, path).fault(fault).times(1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_reads_schedules_and_archive_still_make_one_of_each() {
    let env = env().await;
    // The reads of the flow: endpoint, deployment, component version and job GETs.
    for (method, path) in [
        ("GET", "/batchEndpoints/compare-ep"),
        ("GET", "/deployments/v1"),
        ("GET", "/components/compare_models/versions/1"),
        ("GET", "/jobs/"),
    ] {
        three_faults(&env, method, path);
    }
    let jobs = flow(&env).await;
    // Archive and restore PUTs, the component list, the endpoint's job list, schedule PUTs and
    // GETs.
    for (method, path) in [
        ("PUT", "/components/compare_models/versions/1"),
        ("GET", "/components/compare_models/versions"),
        ("GET", "/mferp/"),
        ("PUT", "/schedules/nightly"),
        ("GET", "/schedules/nightly"),
    ] {
        three_faults(&env, method, path);
    }
    ok(&env, &["published", "disable", "compare_models:1"]).await;
    let (out, _) = ok(&env, &["published", "list", "compare_models"]).await;
    assert!(out.contains("compare_models:1\tdisabled"), "{out}");
    ok(&env, &["published", "enable", "compare_models:1"]).await;
    let (out, _) = ok(&env, &["published", "list", "compare_models"]).await;
    assert!(out.contains("compare_models:1\tenabled"), "{out}");
    let (out, _) = ok(&env, &["endpoint", "show", "compare-ep"]).await;
    assert_eq!(
        out.lines().filter(|l| l.starts_with("job ")).count(),
        2,
        "{out}"
    );
    let (out, _) = ok(
        &env,
        &["schedule", "create", "nightly", "--cron", "0 6 * * *"],
    )
    .await;
    assert_eq!(out.trim(), "enabled");
    let (out, _) = ok(&env, &["schedule", "disable", "nightly"]).await;
    assert_eq!(out.trim(), "disabled");
    let (out, _) = ok(&env, &["schedule", "enable", "nightly"]).await;
    assert_eq!(out.trim(), "enabled");

    let (endpoints, deployments, invoked, schedules) = env.fake.operate(|s| {
        (
            s.endpoints.len(),
            s.deployments_of("compare-ep"),
            s.jobs.clone(),
            s.schedules.clone(),
        )
    });
    assert_eq!(endpoints, 1);
    assert_eq!(deployments, ["v1", "v2"]);
    assert_eq!(invoked.len(), 2, "{:?}", invoked.keys());
    assert!(jobs.iter().all(|j| invoked.contains_key(j)));
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules["nightly"]["properties"]["isEnabled"], json!(true));
    // Every injected fault was met: 9 rules × 3 faults.
    let faulted: Vec<String> = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(faulted.len(), 27, "{faulted:#?}");
}

#[step(
    command = "python fit.py --train ${{inputs.train}} --rate ${{inputs.rate}} --model ${{outputs.model}}",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    outputs(model(mode = "upload"))
)]
fn fit_rate(
    train: Data<UriFolder>,
    #[min(0.0)]
    #[max(1.0)]
    rate: Param<f64>,
) -> Data<UriFolder>;

#[pipeline(outputs(model))]
fn tuned(
    train: Data<UriFolder>,
    #[default(0.1)]
    #[min(0.0)]
    #[max(1.0)]
    rate: Param<f64>,
) -> Data<UriFolder> {
    fit_rate(train, rate)
}

#[pipeline(default_compute = "cpu-cluster", outputs(model))]
fn around_tuned(train: Data<UriFolder>, rate: Param<f64>) -> Data<UriFolder> {
    tuned(train, rate)
}

#[test]
fn a_published_interface_is_the_one_a_job_declares_for_the_same_pipeline() {
    // `tuned` published, and `tuned` as a sub-pipeline inside a job: the same inputs (types,
    // default, rules) and outputs (type, mode), written by the one lowering.
    let inner = azureml_pipelines::build(tuned).unwrap();
    let outer = azureml_pipelines::build(around_tuned).unwrap();
    let train = || {
        Some(InputValue::Data(DataLocation::Uri(
            "azureml://datastores/d/paths/t/".into(),
        )))
    };
    let in_job = wire::rest_bodies(&outer, &[train(), None], &WireContext::default()).unwrap();
    let sub = in_job
        .components
        .iter()
        .map(|c| serde_json::to_value(&c.body).unwrap())
        .find(|c| c["properties"]["componentSpec"]["type"] == "pipeline")
        .expect("the sub-pipeline's component");
    let own = wire::rest_bodies(&inner, &[train(), None], &WireContext::default()).unwrap();
    let published = wire::endpoint::pipeline_component(&inner, &own.job, "tuned", None).unwrap();
    let published = serde_json::to_value(&published).unwrap();
    let (p, j) = (
        &published["properties"]["componentSpec"],
        &sub["properties"]["componentSpec"],
    );
    assert_eq!(p["inputs"], j["inputs"]);
    assert_eq!(p["outputs"], j["outputs"]);
    assert_eq!(
        p["inputs"]["rate"],
        json!({"type": "number", "default": "0.1", "min": "0.0", "max": "1.0"})
    );
    assert_eq!(
        p["outputs"]["model"],
        json!({"type": "uri_folder", "mode": "upload"})
    );
    assert_eq!(p["type"], json!("pipeline"));
}
