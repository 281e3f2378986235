//! `submit` from the example binaries, as a user runs it, against the fake Azure ML (over real
//! HTTP) with blob traffic to a real Azurite.

mod support;

use std::process::{Command, Output};

use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;
use support::run_example;

const CONTAINER: &str = "azureml-blobstore-cli";
/// A token only this test knows: it must never be printed.
const TOKEN: &str = "planted-bearer-9c1f2e7d";

struct Env {
    azurite: Azurite,
    fake: FakeAzureMl,
}

async fn env() -> Env {
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, CONTAINER).await;
    fake.accept_token("cli", TOKEN);
    fake.add_compute("aml-compute", "AmlCompute");
    Env { azurite, fake }
}

/// `compare_models submit ARGS` with the workspace and login taken from the environment.
fn submit_cmd(env: &Env, args: &[&str]) -> Command {
    let mut all = vec!["submit"];
    all.extend_from_slice(args);
    azure_cmd(env, &all)
}

/// `compare_models ARGS` with the workspace and login taken from the environment.
fn azure_cmd(env: &Env, args: &[&str]) -> Command {
    let o = env.fake.options();
    let mut cmd = run_example("compare_models");
    cmd.args(args)
        .env("AZUREML_SUBSCRIPTION_ID", o.subscription_id)
        .env("AZUREML_RESOURCE_GROUP", o.resource_group)
        .env("AZUREML_WORKSPACE_NAME", o.workspace_name)
        .env("AZUREML_ARM_ENDPOINT", env.fake.url())
        .env("AZUREML_BLOB_ENDPOINT", env.azurite.blob_endpoint())
        .env("AZUREML_TEST_TOKEN", TOKEN);
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

/// Nothing secret in what the user sees.
fn assert_no_secrets(env: &Env, shown: &str) {
    assert!(!shown.contains(TOKEN), "the token leaked:\n{shown}");
    assert!(
        !shown.contains(env.azurite.account_key()),
        "the account key leaked:\n{shown}"
    );
    let sas = env.azurite.account_sas();
    let sig = sas.split('&').find_map(|p| p.strip_prefix("sig=")).unwrap();
    assert!(!shown.contains(sig), "a SAS signature leaked:\n{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_wait_runs_compare_models_to_completion() {
    let env = env().await;
    env.fake
        .set_job_status_script(&["NotStarted", "Running", "Completed"]);
    let out = output(submit_cmd(
        &env,
        &[
            "--wait",
            "--poll-interval",
            "0.02",
            "--param",
            "pipeline_arg=20",
        ],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    // What the user saw (shown with `--nocapture`).
    eprintln!("{stderr}");

    // The job name alone on stdout; it is the job the fake holds.
    let name = stdout.trim();
    assert_eq!(env.fake.job_names(), vec![name.to_owned()]);
    assert!(name.starts_with("compare_models_"), "{name}");
    let job = env.fake.job(name).unwrap();
    assert_eq!(job["properties"]["inputs"]["pipeline_arg"]["value"], "20");
    assert_eq!(
        job["properties"]["experimentName"], "Compare_Models_Exp",
        "the pipeline's experiment"
    );

    for expected in [
        "Submitting `compare_models` to Azure ML workspace `ws`",
        "snapshot ",
        "input iris: uploaded 1 file",
        "registered 3 components",
        &format!("Created job `{name}`"),
        "Studio: https://ml.azure.com/runs/",
        &format!("job {name}: Running"),
        "step train: Completed",
        &format!("Job {name} completed"),
        "Output comparison: azureml://datastores/workspaceblobstore/paths/azureml/",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert_no_secrets(&env, &format!("{stdout}{stderr}"));
    // Every request carried the token from the environment.
    assert!(
        env.fake
            .requests()
            .iter()
            .filter(|r| !r.path.contains("/discovery"))
            .all(|r| r.token_label.as_deref() == Some("cli"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_exits_one_and_names_the_failed_steps() {
    let env = env().await;
    env.fake.set_job_status_script(&["Running", "Failed"]);
    let out = output(submit_cmd(&env, &["--wait", "--poll-interval", "0.02"])).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let name = stdout.trim();
    assert!(
        stderr.contains(&format!("Job {name} ended Failed")),
        "{stderr}"
    );
    assert!(stderr.contains("Step data_prep failed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_wait_submit_returns_after_creating_the_job() {
    let env = env().await;
    let out = output(submit_cmd(&env, &["--regenerate-outputs"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let job = env.fake.job(stdout.trim()).unwrap();
    assert_eq!(job["properties"]["settings"]["force_rerun"], true);
    assert!(
        env.fake.requests_to("GET", "/jobs/").is_empty(),
        "nothing is polled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_any_request() {
    let env = env().await;
    let out = output(submit_cmd(&env, &["--param", "pipeline_arg=ten"])).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pipeline_arg"), "{stderr}");
    let out = output(submit_cmd(&env, &["--input", "iris=does/not/exist.csv"])).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("input `iris`"), "{stderr}");
    assert!(
        env.fake.job_names().is_empty(),
        "no job for a bad submission"
    );
}

#[test]
fn without_a_workspace_config_submit_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = run_example("compare_models");
    cmd.current_dir(dir.path()).arg("submit");
    let out = cmd.output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no Azure ML workspace config found"),
        "{stderr}"
    );
    assert!(stderr.contains("AZUREML_SUBSCRIPTION_ID"), "{stderr}");
}

#[test]
fn a_malformed_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{\"subscription_id\": 3").unwrap();
    let mut cmd = run_example("compare_models");
    cmd.current_dir(dir.path()).arg("submit");
    let out = cmd.output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("config.json"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_waiting_cancels_the_job() {
    let env = env().await;
    env.fake.set_job_status_script(&["Running"]);
    let mut cmd = submit_cmd(&env, &["--wait", "--poll-interval", "0.05"]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    // Wait until the job is being followed, then press Ctrl-C.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while env.fake.requests_to("GET", "/jobs/").len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the job was never polled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let name = stdout.trim();
    assert!(
        stderr.contains(&format!("asked Azure ML to cancel job {name}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("Job {name} was canceled")),
        "{stderr}"
    );
    assert_eq!(
        env.fake
            .requests_to("POST", &format!("/jobs/{name}/cancel"))
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_show_and_list_azure_jobs() {
    let env = env().await;
    env.fake.set_job_status_script(&["Completed"]);
    let out = output(submit_cmd(&env, &[])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let name = stdout.trim().to_owned();

    let out = output(azure_cmd(&env, &["runs", "list", "--azure"])).await;
    let (list, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let row = list
        .lines()
        .find(|l| l.starts_with(&name))
        .unwrap_or_else(|| panic!("{name} not listed:\n{list}"));
    assert!(
        row.contains("Completed") && row.contains("Compare_Models_Exp"),
        "{row}"
    );

    let out = output(azure_cmd(&env, &["runs", "show", "--azure", &name])).await;
    let (show, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(show.contains("Status     Completed"), "{show}");
    assert!(
        show.contains("Studio     https://ml.azure.com/runs/"),
        "{show}"
    );
    assert!(show.contains("Git        commit="), "{show}");
    for step in ["data_prep", "train", "compare"] {
        assert!(
            show.lines()
                .any(|l| l.starts_with(step) && l.contains("Completed")),
            "{step} missing:\n{show}"
        );
    }
    assert!(show.contains("Output comparison: azureml://"), "{show}");

    let out = output(azure_cmd(&env, &["runs", "show", "--azure", "no_such_job"])).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no_such_job"), "{stderr}");
    assert_no_secrets(&env, &format!("{list}{show}{stderr}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_azure_puts_files_in_the_datastore() {
    let env = env().await;
    let out = output(azure_cmd(
        &env,
        &[
            "upload",
            "--azure",
            "examples/compare_models/data",
            "--datastore",
            "workspaceblobstore",
            "--target-path",
            "raw/2024",
        ],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("azureml://datastores/workspaceblobstore/paths/raw/2024/data/iris.csv"),
        "{stdout}"
    );
    let blobs = env.azurite.list_blobs(CONTAINER).await;
    assert!(
        blobs.contains(&"raw/2024/data/iris.csv".to_owned()),
        "{blobs:?}"
    );
    let local =
        std::fs::read(support::repo().join("examples/compare_models/data/iris.csv")).unwrap();
    assert_eq!(
        env.azurite
            .download(CONTAINER, "raw/2024/data/iris.csv")
            .await,
        local
    );
    assert_no_secrets(&env, &format!("{stdout}{stderr}"));

    let out = output(azure_cmd(
        &env,
        &[
            "upload",
            "--azure",
            "examples/compare_models/data",
            "--datastore",
            "nope",
        ],
    ))
    .await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");

    let out = output(azure_cmd(&env, &["datastores"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("workspaceblobstore") && l.contains("(default)")),
        "{stdout}"
    );
}

/// One line (plus an indented body summary) per request, grouped by what it does, in the order
/// the groups happen; requests of one group run concurrently, so they are sorted.
fn review_log(env: &Env) -> String {
    let ws = env.fake.workspace_id();
    let mut groups: Vec<(usize, String)> = Vec::new();
    for r in env.fake.requests() {
        let path = r.path.replace(&ws, "{WS}");
        let query: Vec<String> = r
            .query
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(&ws, "{WS}")))
            .collect();
        let (rank, what) = match (r.method.as_str(), path.as_str()) {
            ("GET", p) if p.starts_with("{WS}/computes/") => (
                0,
                "the compute the pipeline names exists, checked before any upload (§9)",
            ),
            ("GET", p) if p.starts_with("{WS}/codes/") => {
                (1, "look a snapshot up by content hash (§6 step 2)")
            }
            ("POST", p) if p.ends_with("/startPendingUpload") => {
                (2, "ask where to upload it (§6 step 3)")
            }
            ("PUT", p) if p.starts_with("{WS}/codes/") => {
                (3, "register the code version (§6 step 6)")
            }
            ("GET", p) if p.starts_with("{WS}/datastores") => {
                (4, "the default datastore, for the local input (§8)")
            }
            ("POST", p) if p.ends_with("/listSecrets") => (5, "its credentials (§8)"),
            ("PUT", p) if p.starts_with("{WS}/components/") => {
                (6, "register an anonymous component (§5)")
            }
            ("PUT", p) if p.starts_with("{WS}/jobs/") => (7, "create the pipeline job (§3, §4)"),
            _ => (8, "other"),
        };
        // Git facts differ between checkouts (a CI clone may have no branch): shown by name only.
        let mut body = r.body.clone();
        if let Some(map) = body
            .pointer_mut("/properties/properties")
            .and_then(|p| p.as_object_mut())
        {
            for (k, v) in map.iter_mut() {
                if k.contains(".git.") {
                    *v = serde_json::json!("<git>");
                }
            }
            map.retain(|k, _| k == "azureml.git.commit" || !k.contains(".git."));
        }
        let summary = match rank {
            6 => {
                let spec = &body["properties"]["componentSpec"];
                format!(
                    "componentSpec: name={} code={} environment={} is_deterministic={}",
                    spec["name"], spec["code"], spec["environment"], spec["is_deterministic"]
                )
            }
            7 => format!(
                "jobType={} experimentName={} computeId={} jobs={} inputs={} properties={}",
                body["properties"]["jobType"],
                body["properties"]["experimentName"],
                body["properties"]["computeId"],
                body["properties"]["jobs"]
                    .as_object()
                    .map_or(0, |j| j.len()),
                body["properties"]["inputs"],
                body["properties"]["properties"],
            ),
            _ if body.is_null() => String::new(),
            _ => body.to_string(),
        }
        .replace(&ws, "{WS}")
        .replace(env.azurite.blob_endpoint(), "{BLOB}");
        let token = match (&r.token_label, &r.aml_token_label) {
            (Some(t), Some(a)) => format!("  [bearer: {t}; x-azureml-token: {a}]"),
            (Some(t), None) => format!("  [bearer: {t}]"),
            _ => String::new(),
        };
        let mut line = format!(
            "{} {path}?{}{token}\n    # {what}\n",
            r.method,
            query.join("&")
        );
        if !summary.is_empty() {
            line.push_str(&format!("    {summary}\n"));
        }
        groups.push((rank, line));
    }
    groups.sort();
    groups.into_iter().map(|(_, l)| l).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_for_compare_models_is_in_the_review_log() {
    let env = env().await;
    let out = output(submit_cmd(&env, &["--job-name", "compare_models_review"])).await;
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let log = review_log(&env);
    assert!(!log.contains(" other"), "an unexpected request:\n{log}");
    support::assert_golden("submit_compare_models.log", &log);
}

/// The `uri` of pipeline input `iris` in a JSON export or a job body.
fn iris_uri(job_body: &serde_json::Value) -> String {
    job_body["properties"]["inputs"]["iris"]["uri"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_the_upload_uri_submit_sends() {
    // A folder's URI (with its trailing `/`) is checked in
    // `pipeline-runtime/tests/azure_submit.rs`: no example has a folder input.
    let env = env().await;
    let file = "examples/compare_models/data/iris.csv";
    let out = output(submit_cmd(&env, &["--input", &format!("iris={file}")])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let sent = iris_uri(&env.fake.job(stdout.trim()).unwrap());
    assert!(
        sent.starts_with("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
            && sent.ends_with("/iris.csv"),
        "{sent}"
    );

    // Export, with no workspace, writes the same URI (the default datastore's usual name).
    let export = run_example("compare_models")
        .args(["export", "--input", &format!("iris={file}")])
        .output()
        .unwrap();
    let requests: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    let job = &requests.as_array().unwrap().last().unwrap()["body"];
    assert_eq!(iris_uri(job), sent);

    // A workspace whose default datastore has another name says so with `--datastore`.
    let export = run_example("compare_models")
        .args(["export", "--input", &format!("iris={file}")])
        .args(["--datastore", "lake"])
        .output()
        .unwrap();
    let requests: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    let job = &requests.as_array().unwrap().last().unwrap()["body"];
    assert_eq!(
        iris_uri(job),
        sent.replace("datastores/workspaceblobstore/", "datastores/lake/")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_asset_at_latest_is_resolved_to_its_arm_id_at_submit() {
    let env = env().await;
    let uri = "azureml://datastores/workspaceblobstore/paths/iris.csv";
    env.fake.add_data_version("iris", "1", "uri_file", uri);
    env.fake.add_data_version("iris", "2", "uri_file", uri);
    let out = output(submit_cmd(&env, &["--input", "iris=azureml:iris@latest"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let job = env.fake.job(stdout.trim()).unwrap();
    assert_eq!(
        iris_uri(&job),
        format!("{}/data/iris/versions/2", env.fake.workspace_id())
    );
    assert_eq!(env.fake.requests_to("GET", "/data/iris").len(), 1);

    // A version named is checked once (it exists) and sent as its ARM id.
    env.fake.clear_requests();
    let out = output(submit_cmd(&env, &["--input", "iris=azureml:iris:1"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let job = env.fake.job(stdout.trim()).unwrap();
    assert_eq!(
        iris_uri(&job),
        format!("{}/data/iris/versions/1", env.fake.workspace_id())
    );
    assert_eq!(
        env.fake.requests_to("GET", "/data/").len(),
        1,
        "one GET of data/iris/versions/1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_data_asset_version_is_named_with_its_versions_before_any_upload() {
    let env = env().await;
    let uri = "azureml://datastores/workspaceblobstore/paths/iris.csv";
    env.fake.add_data_version("iris", "1", "uri_file", uri);
    env.fake.add_data_version("iris", "2", "uri_file", uri);
    let out = output(submit_cmd(&env, &["--input", "iris=azureml:iris:7"])).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no version `7` of data asset `iris`; it has versions 2, 1"),
        "{stderr}"
    );
    assert!(
        env.fake
            .requests_to("POST", "startPendingUpload")
            .is_empty()
    );
    assert!(env.fake.requests_to("GET", "/codes/").is_empty());
    assert_eq!(env.fake.component_puts(), 0);
    assert_eq!(env.fake.job_puts(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_data_asset_is_named_before_anything_is_uploaded() {
    let env = env().await;
    let out = output(submit_cmd(&env, &["--input", "iris=azureml:nope@latest"])).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no data asset `nope`"), "{stderr}");
    assert!(
        env.fake
            .requests_to("POST", "startPendingUpload")
            .is_empty()
    );
    assert!(env.fake.requests_to("GET", "/codes/").is_empty());
    assert_eq!(env.fake.component_puts(), 0);
    assert_eq!(env.fake.job_puts(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_sends_exactly_the_bodies_export_shows() {
    let env = env().await;
    let out = output(submit_cmd(&env, &["--param", "pipeline_arg=7"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let o = env.fake.options();
    let export = run_example("compare_models")
        .args(["export", "--param", "pipeline_arg=7"])
        .args(["--subscription-id", &o.subscription_id])
        .args(["--resource-group", &o.resource_group])
        .args(["--workspace-name", &o.workspace_name])
        .output()
        .unwrap();
    assert!(export.status.success());
    let exported: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    let exported = exported.as_array().unwrap();
    let puts = env.fake.requests_to("PUT", "/components/");
    assert_eq!(puts.len(), exported.len() - 1);
    for put in &puts {
        let same = exported
            .iter()
            .find(|e| e["path"].as_str() == Some(put.path.as_str()))
            .unwrap_or_else(|| panic!("{} is not in the export", put.path));
        assert_eq!(put.body, same["body"], "{}", put.path);
    }
    // The job: the same body but for the properties submit adds (git facts).
    let name = stdout.trim();
    let mut sent = env.fake.requests_to("PUT", &format!("/jobs/{name}"))[0]
        .body
        .clone();
    let mut shown = exported.last().unwrap()["body"].clone();
    sent["properties"]["properties"] = serde_json::json!({});
    shown["properties"]["properties"] = serde_json::json!({});
    assert_eq!(sent, shown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_wait_says_it_is_still_waiting_when_nothing_changes() {
    let env = env().await;
    let mut script = vec!["Running"; 12];
    script.push("Completed");
    env.fake.set_job_status_script(&script);
    let out = output(submit_cmd(
        &env,
        &["--wait", "--poll-interval", "0.05", "--heartbeat", "0.2"],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let name = stdout.trim();
    assert!(
        stderr.contains(&format!(
            "job {name}: still Running; waiting for it to finish (Ctrl-C cancels it)"
        )),
        "{stderr}"
    );
}
