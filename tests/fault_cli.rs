//! Faults and bad input met by `submit` as a user runs it, against the fake Azure ML (over real
//! HTTP) with blob traffic to a real Azurite: every wait is bounded and announced, no secret is
//! printed, bad input costs no request.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::{FakeAzureMl, Fault, FaultRule};
use support::run_example;

const CONTAINER: &str = "azureml-blobstore-faults";
/// A token only this test knows: it must never be printed.
const TOKEN: &str = "planted-bearer-5be1a0c3";

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
    let o = env.fake.options();
    let mut cmd = run_example("compare_models");
    cmd.arg("submit")
        .args(args)
        .env("AZUREML_SUBSCRIPTION_ID", o.subscription_id)
        .env("AZUREML_RESOURCE_GROUP", o.resource_group)
        .env("AZUREML_WORKSPACE_NAME", o.workspace_name)
        .env("AZUREML_ARM_ENDPOINT", env.fake.url())
        .env("AZUREML_BLOB_ENDPOINT", env.azurite.blob_endpoint())
        .env("AZUREML_TEST_TOKEN", TOKEN);
    cmd
}

async fn output(mut cmd: Command) -> (Output, Duration) {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let out = cmd.output().unwrap();
        (out, started.elapsed())
    })
    .await
    .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Nothing secret in what the user sees, and no panic.
fn assert_clean(env: &Env, out: &Output) {
    let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out));
    assert_ne!(out.status.code(), Some(101), "panicked:\n{shown}");
    assert!(!shown.contains("panicked"), "panicked:\n{shown}");
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
async fn bad_local_inputs_cost_no_request() {
    let env = env().await;
    for (arg, expected) in [
        ("iris=does/not/exist.csv", "does not exist"),
        ("iris=examples", "is a folder (uri_folder)"),
        ("iris=", "got an empty value"),
    ] {
        let (out, _) = output(submit_cmd(&env, &["--input", arg])).await;
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{arg}: {text}");
        assert!(text.contains("input `iris`"), "{text}");
        assert!(text.contains(expected), "{text}");
        assert!(!text.contains("source_dir"), "{text}");
        assert_clean(&env, &out);
    }
    assert!(
        env.fake.requests().is_empty(),
        "requests were sent: {:?}",
        env.fake.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_request_is_announced_on_stderr() {
    let env = env().await;
    env.fake
        .inject(FaultRule::new("GET", "/workspaces/ws").fault(Fault::throttle_secs(1)));
    let (out, _) = output(submit_cmd(&env, &[])).await;
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("429 from ") && text.contains("; retrying in 1 s, attempt 2 of 11"),
        "{text}"
    );
    assert_clean(&env, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_retry_after_fails_at_once_with_default_settings() {
    let env = env().await;
    env.fake.inject(
        FaultRule::new("GET", "/workspaces/ws")
            .fault(Fault::throttle_secs(100_000))
            .times(100),
    );
    let (out, took) = output(submit_cmd(&env, &[])).await;
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("asked to wait 100000 s"), "{text}");
    assert!(text.contains("AZUREML_RETRY_BUDGET"), "{text}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert_clean(&env, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_never_answers_is_given_up_on_within_the_budget() {
    let env = env().await;
    env.fake.inject(
        FaultRule::new("GET", "/workspaces/ws")
            .fault(Fault::Delay(Duration::from_secs(3600)))
            .times(100),
    );
    let mut cmd = submit_cmd(&env, &[]);
    cmd.env("AZUREML_REQUEST_TIMEOUT", "0.5")
        .env("AZUREML_RETRY_BUDGET", "2");
    let (out, took) = output(cmd).await;
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // The first request of a submission checks the pipeline's compute.
    assert!(
        text.contains("no answer within 500 ms from GET computes/aml-compute"),
        "{text}"
    );
    assert!(text.contains("retrying in"), "{text}");
    assert!(text.contains("AZUREML_REQUEST_TIMEOUT"), "{text}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert_clean(&env, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_time_limit_setting_is_refused() {
    let env = env().await;
    let mut cmd = submit_cmd(&env, &[]);
    cmd.env("AZUREML_REQUEST_TIMEOUT", "1e300");
    let (out, _) = output(cmd).await;
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("AZUREML_REQUEST_TIMEOUT=\"1e300\" is not valid"),
        "{text}"
    );
    assert!(env.fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_error_quoting_secrets_prints_none_of_them() {
    let env = env().await;
    let sas = env.azurite.account_sas();
    let quoting = format!(
        "Invalid data uri {}/{CONTAINER}/x?{sas}; key {}; header Authorization: Bearer {TOKEN}",
        env.azurite.blob_endpoint(),
        env.azurite.account_key()
    );
    env.fake
        .inject(FaultRule::new("PUT", "/jobs/").fault(Fault::arm_error(
            400,
            "UserError",
            &quoting,
        )));
    let mut cmd = submit_cmd(&env, &[]);
    cmd.env("RUST_LOG", "trace");
    let (out, _) = output(cmd).await;
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("HTTP 400 UserError"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
    assert_clean(&env, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_command_gives_up_when_its_budget_is_spent() {
    let env = env().await;
    // Every request answers, slowly: no single request runs out of time, the command does.
    env.fake.inject(
        FaultRule::new("*", "/")
            .fault(Fault::Delay(Duration::from_millis(400)))
            .times(1000),
    );
    let mut cmd = submit_cmd(&env, &[]);
    cmd.env("AZUREML_COMMAND_BUDGET", "1");
    let (out, took) = output(cmd).await;
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("the command budget of 1 s (AZUREML_COMMAND_BUDGET)"),
        "{text}"
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert_eq!(env.fake.job_puts(), 0, "no job was created");
    assert_clean(&env, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_command_budget_is_refused_before_any_request() {
    let env = env().await;
    let mut cmd = submit_cmd(&env, &[]);
    cmd.env("AZUREML_COMMAND_BUDGET", "soon");
    let (out, _) = output(cmd).await;
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("AZUREML_COMMAND_BUDGET=\"soon\" is not valid"),
        "{text}"
    );
    assert!(env.fake.requests().is_empty());
}
