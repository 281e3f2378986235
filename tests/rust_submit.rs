//! Rust steps on Azure ML, as a user runs them: `rust_steps submit` against the fake Azure ML
//! (real HTTP) and a real Azurite, with the Linux binary named by
//! `AZUREML_PIPELINES_LINUX_BINARY` (a prebuilt static binary: a release musl build of the
//! example takes minutes; `pipeline-runtime/tests/linux_binary.rs` tests the build itself), and
//! a Rust step's process run as Azure ML runs it, its metrics going to a fake MLflow.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;
use azureml_pipelines_testkit::fake_mlflow::FakeMlflow;
use support::{example, repo, run_example};

const CONTAINER: &str = "azureml-blobstore-rust-cli";
const TOKEN: &str = "planted-bearer-4b7e1d0a";

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A static x86_64 Linux binary standing for the release musl build of the example.
fn static_binary(dir: &Path) -> PathBuf {
    let src = dir.join("hello.rs");
    std::fs::write(&src, "fn main() {}\n").unwrap();
    let exe = dir.join("rust_steps-musl");
    let out = Command::new("rustc")
        .current_dir(repo())
        .args(["--target", "x86_64-unknown-linux-musl", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn submit_cmd(fake: &FakeAzureMl, azurite: &Azurite, binary: &Path, target: &Path) -> Command {
    let o = fake.options();
    let mut cmd = run_example("rust_steps");
    cmd.arg("submit")
        .env("AZUREML_SUBSCRIPTION_ID", o.subscription_id)
        .env("AZUREML_RESOURCE_GROUP", o.resource_group)
        .env("AZUREML_WORKSPACE_NAME", o.workspace_name)
        .env("AZUREML_ARM_ENDPOINT", fake.url())
        .env("AZUREML_BLOB_ENDPOINT", azurite.blob_endpoint())
        .env("AZUREML_TEST_TOKEN", TOKEN)
        .env("AZUREML_PIPELINES_LINUX_BINARY", binary)
        // Staged under the test's own folder, not the shared target dir.
        .env("CARGO_TARGET_DIR", target);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_steps_submit_uploads_the_binary_once_and_runs_the_entry_point() {
    let tmp = tempfile::tempdir().unwrap();
    let binary = static_binary(tmp.path());
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, CONTAINER).await;
    fake.accept_token("cli", TOKEN);
    fake.add_compute("aml-compute", "AmlCompute");
    let target = tmp.path().join("target");

    let out = output(submit_cmd(&fake, &azurite, &binary, &target)).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    eprintln!("{err}");
    assert!(err.contains("Linux binary: "), "{err}");
    assert!(err.contains("(static, "), "{err}");
    // Two code assets: the binary's folder and compare's snapshot.
    assert!(err.contains("(2 snapshots uploaded, 0 reused;"), "{err}");
    let staged: Vec<PathBuf> = std::fs::read_dir(target.join("azureml-linux-binary"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(staged.len(), 1);
    assert_eq!(
        std::fs::read(staged[0].join("azureml-pipeline")).unwrap(),
        std::fs::read(&binary).unwrap()
    );

    let commands: Vec<String> = fake
        .requests_to("PUT", "/components/")
        .iter()
        .filter_map(|r| {
            r.body["properties"]["componentSpec"]["command"]
                .as_str()
                .map(str::to_owned)
        })
        .filter(|c| c.contains("__step"))
        .collect();
    assert_eq!(
        commands,
        [
            "chmod +x ./azureml-pipeline 2>/dev/null; ./azureml-pipeline __step data_prep \
             --input input=${{inputs.input}} --output output_data1=${{outputs.output_data1}}",
            "chmod +x ./azureml-pipeline 2>/dev/null; ./azureml-pipeline __step train \
             --input prepped_data=${{inputs.prepped_data}} \
             --output training_results=${{outputs.training_results}}",
        ]
    );

    // Submitting again: the same binary is reused by its content hash.
    let out = output(submit_cmd(&fake, &azurite, &binary, &target)).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("(0 snapshots uploaded, 2 reused;"), "{err}");
    assert!(!err.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_that_needs_a_newer_glibc_exits_2_before_any_request() {
    let tmp = tempfile::tempdir().unwrap();
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, CONTAINER).await;
    fake.accept_token("cli", TOKEN);
    fake.add_compute("aml-compute", "AmlCompute");
    // The example binary itself, built for this machine (glibc 2.36).
    let host = example("rust_steps");
    let out = output(submit_cmd(&fake, &azurite, &host, &tmp.path().join("t"))).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("needs glibc 2."), "{err}");
    assert!(err.contains("newer than 2.31"), "{err}");
    assert!(
        err.contains("cargo build --release --target x86_64-unknown-linux-musl"),
        "{err}"
    );
    assert!(fake.requests().is_empty(), "{:#?}", fake.requests());
}

/// `rust_steps __step data_prep …` as Azure ML runs it: MLflow's variables set, no local
/// metrics file.
fn azure_step(dir: &Path, tracking_uri: &str, token: &str) -> Command {
    let mut cmd = run_example("rust_steps");
    cmd.args(["__step", "data_prep", "--input"])
        .arg(format!(
            "input={}",
            repo()
                .join("examples/compare_models/data/iris.csv")
                .display()
        ))
        .arg("--output")
        .arg(format!("output_data1={}", dir.display()))
        .env_remove("AZUREML_PIPELINES_METRICS_FILE")
        .env("MLFLOW_TRACKING_URI", tracking_uri)
        .env("MLFLOW_RUN_ID", "data_prep_run")
        .env("MLFLOW_TRACKING_TOKEN", token)
        .env("AZUREML_PIPELINES_MLFLOW_TIMEOUT_SECS", "5");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_step_on_azure_ml_logs_its_metrics_to_the_jobs_mlflow_run() {
    let mlflow = FakeMlflow::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = output(azure_step(
        tmp.path(),
        &mlflow.tracking_uri(),
        FakeMlflow::TOKEN,
    ))
    .await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");
    let logged: Vec<(String, f64, i64)> = mlflow
        .metrics()
        .iter()
        .map(|m| {
            assert_eq!(m["run_id"], "data_prep_run");
            (
                m["key"].as_str().unwrap().to_owned(),
                m["value"].as_f64().unwrap(),
                m["step"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        logged,
        [
            ("rows".to_owned(), 150.0, 0),
            ("dropped".to_owned(), 0.0, 0)
        ]
    );
    assert!(tmp.path().join("prepped.csv").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_mlflow_warns_and_the_step_still_succeeds() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = tempfile::tempdir().unwrap();
    let token = "unreachable-token-5e8c0b1f";
    let uri = format!(
        "http://127.0.0.1:{port}/mlflow/v1.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
    );
    let out = output(azure_step(tmp.path(), &uri, token)).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: metric `rows` not sent to MLflow: sending metric `rows` to MLflow at 127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("the step goes on"), "{err}");
    assert!(!err.contains(token), "{err}");
    assert!(tmp.path().join("prepped.csv").is_file());
}

fn export_json(linux_binary: Option<&Path>, target: &Path) -> (Output, serde_json::Value) {
    let mut cmd = run_example("rust_steps");
    cmd.args(["export", "--format", "json"])
        .env_remove("AZUREML_PIPELINES_LINUX_BINARY")
        .env("CARGO_TARGET_DIR", target);
    if let Some(b) = linux_binary {
        cmd.env("AZUREML_PIPELINES_LINUX_BINARY", b);
    }
    let out = cmd.output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, json)
}

/// The `code` of the components whose command runs the entry point.
fn rust_codes(requests: &serde_json::Value) -> Vec<String> {
    requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["body"]["properties"]["componentSpec"])
        .filter(|c| c["command"].as_str().is_some_and(|c| c.contains("__step")))
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn export_names_the_binarys_code_asset_when_one_is_given_and_checks_it() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("target");
    let (out, placeholder) = export_json(None, &target);
    assert!(out.status.success(), "{}", stderr(&out));
    let placeholder = rust_codes(&placeholder);
    assert_eq!(placeholder.len(), 2);

    let binary = static_binary(tmp.path());
    let (out, real) = export_json(Some(&binary), &target);
    assert!(out.status.success(), "{}", stderr(&out));
    let real = rust_codes(&real);
    let staged = std::fs::read_dir(target.join("azureml-linux-binary"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let hash = azureml_pipelines::snapshot::Snapshot::scan(&staged)
        .unwrap()
        .content_hash()
        .unwrap();
    let id = format!(
        "azureml:{}",
        azureml_pipelines::wire::WorkspaceScope::default().code_id_for_hash(&hash)
    );
    assert_eq!(real, [id.clone(), id]);
    assert_ne!(real, placeholder);

    let (out, _) = export_json(Some(&example("rust_steps")), &target);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("newer than 2.31"), "{}", stderr(&out));
}

#[test]
fn the_yaml_export_runs_rust_steps_in_an_inline_image_and_ships_the_binary_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let binary = static_binary(tmp.path());
    let dir = tmp.path().join("export");
    let out = run_example("rust_steps")
        .args(["export", "--format", "yaml", "--out"])
        .arg(&dir)
        .env("AZUREML_PIPELINES_LINUX_BINARY", &binary)
        .env("CARGO_TARGET_DIR", tmp.path().join("target"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let yaml = std::fs::read_to_string(dir.join("pipeline.yml")).unwrap();
    let image = azureml_pipelines::rust_step::DEFAULT_ENVIRONMENT;
    // CLI v2 wants an image as an inline environment, not a string.
    assert_eq!(
        yaml.matches(&format!("environment:\n        image: \"{image}\"\n"))
            .count(),
        2,
        "{yaml}"
    );
    assert_eq!(yaml.matches("code: \"./rust-binary\"").count(), 2, "{yaml}");
    assert_eq!(
        std::fs::read(dir.join("rust-binary/azureml-pipeline")).unwrap(),
        std::fs::read(&binary).unwrap()
    );

    // Microsoft's loader takes it, when it is installed (`.ci/run` installs it).
    let Some(python) = std::env::var_os("AZUREML_TEST_SDK_PYTHON").filter(|p| !p.is_empty()) else {
        eprintln!("SKIPPED the SDK check: AZUREML_TEST_SDK_PYTHON is not set");
        return;
    };
    let check = "import sys, warnings, logging\nwarnings.simplefilter('ignore')\n\
                 logging.disable(logging.WARNING)\nfrom azure.ai.ml import load_job\n\
                 r = load_job(sys.argv[1])._validate()\nprint(r.passed, r.error_messages)\n";
    let out = Command::new(python)
        .args(["-c", check])
        .arg(dir.join("pipeline.yml"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.starts_with("True"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
