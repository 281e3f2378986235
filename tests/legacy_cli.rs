//! `legacy submit|enable|disable` from the example binary, as a user runs it, against the fake
//! ARM server (workspace and discovery) and the fake v1 pipelines host, over real HTTP.

mod support;

use std::process::{Command, Output};

use azureml_pipelines_testkit::fake_aml::FakeAzureMl;
use azureml_pipelines_testkit::fake_pipelines_v1::{FakePipelinesV1, V1Fault};
use serde_json::{Value, json};
use support::run_example;

/// A token only this test knows: it must never be printed.
const TOKEN: &str = "planted-bearer-5be07a41";

struct Env {
    arm: FakeAzureMl,
    v1: FakePipelinesV1,
}

async fn env() -> Env {
    let arm = FakeAzureMl::start().await;
    let v1 = FakePipelinesV1::start_for(&arm).await;
    arm.accept_token("cli", TOKEN);
    v1.accept_token("cli", TOKEN);
    Env { arm, v1 }
}

/// `compare_models legacy ARGS` with the workspace and login taken from the environment.
fn legacy(env: &Env, args: &[&str]) -> Command {
    let o = env.arm.options();
    let mut cmd = run_example("compare_models");
    cmd.arg("legacy")
        .args(args)
        .env("AZUREML_SUBSCRIPTION_ID", o.subscription_id)
        .env("AZUREML_RESOURCE_GROUP", o.resource_group)
        .env("AZUREML_WORKSPACE_NAME", o.workspace_name)
        .env("AZUREML_ARM_ENDPOINT", env.arm.url())
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

const WS_PATH: &str = "/pipelines/v1.0/subscriptions/00000000-0000-0000-0000-000000000000/\
                       resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_a_published_pipeline_with_parameters() {
    let env = env().await;
    env.v1.add_published_pipeline("pub-1", "scoring");
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--published-pipeline",
            "pub-1",
            "--experiment",
            "batch_scoring",
            "--param",
            "pipeline_arg=20",
            "--param",
            "note=a b=c",
        ],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    eprintln!("{stderr}");
    let runs = env.v1.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(stdout.trim(), runs[0].id, "the run id alone on stdout");
    assert_eq!(runs[0].pipeline_id, "pub-1");
    assert_eq!(runs[0].experiment, "batch_scoring");
    assert_eq!(runs[0].parameters["pipeline_arg"], "20");
    assert_eq!(runs[0].parameters["note"], "a b=c");
    for expected in [
        &format!("Started run `{}` of published pipeline `pub-1`", runs[0].id),
        "in experiment `batch_scoring` with note=a b=c, pipeline_arg=20",
        "status NotStarted",
        "Studio: https://ml.azure.com/runs/",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(!format!("{stdout}{stderr}").contains(TOKEN));
    assert!(
        env.v1
            .requests()
            .iter()
            .all(|r| r.token_label.as_deref() == Some("cli"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_an_endpoint_by_name_and_by_id_with_a_version() {
    let env = env().await;
    let id = env
        .v1
        .add_pipeline_endpoint("scoring", &[("0", "pub-a"), ("1", "pub-b")], "0");
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--pipeline-endpoint",
            "scoring",
            "--version",
            "1",
            "--experiment",
            "exp",
        ],
    ))
    .await;
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("of pipeline endpoint `scoring` version `1`"),
        "{stderr}"
    );
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--pipeline-endpoint-id",
            &id,
            "--experiment",
            "exp",
        ],
    ))
    .await;
    assert!(out.status.success(), "{}", text(&out).1);
    let ran: Vec<(String, Option<String>)> = env
        .v1
        .runs()
        .into_iter()
        .map(|r| (r.pipeline_id, r.version))
        .collect();
    assert_eq!(
        ran,
        vec![
            ("pub-b".to_owned(), Some("1".to_owned())),
            ("pub-a".to_owned(), Some("0".to_owned()))
        ]
    );

    // A version the endpoint lacks: refused after the lookup, before any submit.
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--pipeline-endpoint",
            "scoring",
            "--version",
            "9",
            "--experiment",
            "exp",
        ],
    ))
    .await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no version `9`; its versions are 0, 1"),
        "{stderr}"
    );
    assert_eq!(env.v1.runs().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_refuses_submit_until_enable_and_repeats_change_nothing() {
    let env = env().await;
    env.v1.add_published_pipeline("pub-1", "scoring");
    let submit = [
        "submit",
        "--published-pipeline",
        "pub-1",
        "--experiment",
        "exp",
    ];

    let out = output(legacy(&env, &["disable", "pub-1"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "Disabled");
    assert!(
        stderr.contains("Published pipeline `pub-1` (`scoring`) is now disabled (was Active)."),
        "{stderr}"
    );
    let out = output(legacy(&env, &["disable", "pub-1"])).await;
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("is already disabled; nothing changed"),
        "{stderr}"
    );
    assert_eq!(env.v1.status_puts(), 1, "the second disable sent no change");

    let out = output(legacy(&env, &submit)).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("HTTP 400"), "{stderr}");
    assert!(
        stderr.contains(
            "published pipeline `pub-1` is disabled: enable it with `legacy enable pub-1`"
        ),
        "{stderr}"
    );
    assert!(env.v1.runs().is_empty());

    let out = output(legacy(&env, &["enable", "pub-1"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "Active");
    assert!(stderr.contains("is now enabled (was Disabled)"), "{stderr}");
    let out = output(legacy(&env, &["enable", "pub-1"])).await;
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "Published pipeline `pub-1` (`scoring`) is already enabled; nothing changed."
        ),
        "{stderr}"
    );
    assert_eq!(env.v1.status_puts(), 2);

    let out = output(legacy(&env, &submit)).await;
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(env.v1.runs().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_id_exits_one_naming_it() {
    let env = env().await;
    for args in [
        &[
            "submit",
            "--published-pipeline",
            "no-such-id",
            "--experiment",
            "exp",
        ][..],
        &["enable", "no-such-id"][..],
        &["disable", "no-such-id"][..],
    ] {
        let out = output(legacy(&env, args)).await;
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(stderr.contains("HTTP 404"), "{stderr}");
        assert!(
            stderr.contains("no published pipeline with id `no-such-id` in workspace `ws`"),
            "{stderr}"
        );
        assert!(!stderr.contains(TOKEN));
    }
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--pipeline-endpoint",
            "nameless",
            "--experiment",
            "exp",
        ],
    ))
    .await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no pipeline endpoint named `nameless`"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_usage_exits_two_before_any_request() {
    let env = env().await;
    env.v1.add_published_pipeline("pub-1", "scoring");
    for (args, expected) in [
        (
            &["--param", "no_equals_sign"][..],
            "`no_equals_sign` is not `name=value`",
        ),
        (&["--param", "=1"][..], "`=1` is not `name=value`"),
        (
            &["--param", "a=1", "--param", "a=2"][..],
            "`--param a` is given twice",
        ),
        (&["--version", "1"][..], "cannot be used with"),
    ] {
        let mut all = vec![
            "submit",
            "--published-pipeline",
            "pub-1",
            "--experiment",
            "exp",
        ];
        all.extend_from_slice(args);
        let out = output(legacy(&env, &all)).await;
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--published-pipeline",
            "pub-1",
            "--experiment",
            "bad name!",
        ],
    ))
    .await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a valid experiment name"), "{stderr}");
    let out = output(legacy(&env, &["submit", "--experiment", "exp"])).await;
    assert_eq!(out.status.code(), Some(2), "no target");
    assert!(env.arm.requests().is_empty(), "{:?}", env.arm.requests());
    assert!(env.v1.requests().is_empty(), "{:?}", env.v1.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_contacts_nothing_and_prints_the_reference_body() {
    let env = env().await;
    env.v1.add_published_pipeline("pub-1", "scoring");
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--published-pipeline",
            "pub-1",
            "--experiment",
            "batch_scoring",
            "--param",
            "process_count_per_node=6",
            "--param",
            "pipeline_arg=20",
            "--dry-run",
        ],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let requests: Value = serde_json::from_str(&stdout).unwrap();
    // The reference (§13, legacy v1): PascalCase keys, Description = the experiment, RunSource
    // and RunType `SDK`, parameter values as strings, empty data assignments; no api-version.
    assert_eq!(
        requests,
        json!([{
            "method": "POST",
            "host": "{pipelines}",
            "path": format!("{WS_PATH}/PipelineRuns/PipelineSubmit/pub-1"),
            "api-version": null,
            "body": {
                "ExperimentName": "batch_scoring",
                "Description": "batch_scoring",
                "RunSource": "SDK",
                "RunType": "SDK",
                "ParameterAssignments": {"pipeline_arg": "20", "process_count_per_node": "6"},
                "DataPathAssignments": {},
                "DataSetDefinitionValueAssignments": {}
            }
        }])
    );
    // Key by key, in the order the reference lists them.
    let keys: Vec<&str> = requests[0]["body"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "ExperimentName",
            "Description",
            "RunSource",
            "RunType",
            "ParameterAssignments",
            "DataPathAssignments",
            "DataSetDefinitionValueAssignments"
        ]
    );

    // With --out: requests.json naming a body file, and the body file.
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("v1");
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--pipeline-endpoint",
            "scoring",
            "--version",
            "2",
            "--experiment",
            "exp",
            "--dry-run",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("requests.json")).unwrap())
            .unwrap();
    assert_eq!(manifest[0]["method"], "GET");
    assert_eq!(
        manifest[0]["path"],
        format!("{WS_PATH}/PipelineEndpoints/Name?Name=scoring")
    );
    assert_eq!(manifest[1]["method"], "POST");
    assert_eq!(
        manifest[1]["path"],
        format!(
            "{WS_PATH}/PipelineRuns/PipelineEndpointSubmit/Id/{{endpoint_id}}/2?pipelineVersion=2"
        )
    );
    assert_eq!(manifest[1]["body"], "legacy_submit.json");
    let body: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("legacy_submit.json")).unwrap())
            .unwrap();
    assert_eq!(body["ExperimentName"], "exp");
    assert_eq!(body["ParameterAssignments"], json!({}));

    // enable: the status read, and the change only if needed.
    let out = output(legacy(&env, &["enable", "pub-1", "--dry-run"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let requests: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        requests[0]["path"],
        format!("{WS_PATH}/PublishedPipelines/pub-1")
    );
    assert_eq!(requests[1]["method"], "PUT");
    assert_eq!(
        requests[1]["path"],
        format!("{WS_PATH}/Pipelines/pub-1/status")
    );
    assert_eq!(requests[1]["body"], "Active");

    assert!(env.arm.requests().is_empty(), "ARM was contacted");
    assert!(env.v1.requests().is_empty(), "the v1 host was contacted");
    assert!(env.v1.runs().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_submit_makes_exactly_one_run() {
    let env = env().await;
    env.v1.add_published_pipeline("pub-1", "scoring");
    env.v1.inject(
        "POST",
        "PipelineSubmit",
        V1Fault::Throttle {
            retry_after_secs: 1,
        },
        1,
    );
    env.v1
        .inject("POST", "PipelineSubmit", V1Fault::Unavailable, 1);
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--published-pipeline",
            "pub-1",
            "--experiment",
            "exp",
        ],
    ))
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let runs = env.v1.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(stdout.trim(), runs[0].id);
    assert_eq!(env.v1.requests().len(), 3, "429, 503, then the run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_wait_follows_the_run_and_the_exit_code_says_how_it_ended() {
    let env = env().await;
    env.v1.add_published_pipeline("pub-1", "scoring");
    let wait = |extra: &[&str]| {
        let mut args = vec![
            "submit",
            "--published-pipeline",
            "pub-1",
            "--experiment",
            "batch_scoring",
            "--wait",
            "--poll-interval",
            "0.05",
        ];
        args.extend_from_slice(extra);
        legacy(&env, &args)
    };
    // Finished: exit 0, a line per status change, the run id on stdout.
    let out = output(wait(&[])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let id = stdout.trim().to_owned();
    assert!(stderr.contains(&format!("run {id}: Running")), "{stderr}");
    assert!(stderr.contains(&format!("run {id}: Finished")), "{stderr}");
    assert!(
        stderr.contains(&format!("Run {id} finished after ")),
        "{stderr}"
    );
    let reads = env
        .v1
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/PipelineRuns/{id}")))
        .count();
    assert_eq!(reads, 2, "one read while running, one at the end");
    // Failed and canceled: exit 1, saying so.
    for (outcome, said) in [
        ("Failed", "failed after"),
        ("Canceled", "was canceled after"),
    ] {
        env.v1.set_run_outcome(outcome);
        let out = output(wait(&[])).await;
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
    }
    // A run that never ends: the command budget bounds the wait, exit 1 naming it.
    env.v1.set_run_outcome("Running");
    let mut cmd = wait(&[]);
    cmd.env("AZUREML_COMMAND_BUDGET", "0.5");
    let out = output(cmd).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("AZUREML_COMMAND_BUDGET"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "{stderr}");
    // Without --wait, nothing is read after the submit.
    let before = env.v1.requests().len();
    let out = output(legacy(
        &env,
        &[
            "submit",
            "--published-pipeline",
            "pub-1",
            "--experiment",
            "x",
        ],
    ))
    .await;
    assert!(out.status.success());
    assert_eq!(env.v1.requests().len(), before + 1);
    // `--dry-run --wait` shows the status read after the submit, and contacts nothing.
    let out = output(wait(&["--dry-run"])).await;
    let plan: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json plan");
    assert_eq!(plan.len(), 2, "{plan:?}");
    assert_eq!(plan[1]["method"], json!("GET"));
    assert!(
        plan[1]["path"]
            .as_str()
            .unwrap()
            .ends_with("/PipelineRuns/{run_id}"),
        "{plan:?}"
    );
    assert_eq!(env.v1.requests().len(), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_every_v1_call_still_make_one_run_each_and_the_status_right() {
    let env = env().await;
    env.v1.add_published_pipeline("pub-1", "scoring");
    env.v1
        .add_pipeline_endpoint("scoring-ep", &[("0", "pub-1"), ("1", "pub-2")], "0");
    // A 429 with Retry-After, a 503 and a dropped connection on each v1 call. A submit carries
    // no client-chosen id, so its dropped connection is one the service never acted on (one
    // lost after the run started could make a second run: see `azure::legacy`); every other
    // call is safe to repeat and gets a connection dropped after the service acted.
    for (method, path, drop) in [
        (
            "GET",
            "PipelineEndpoints/Name",
            V1Fault::DropAfterProcessing,
        ),
        ("POST", "PipelineEndpointSubmit", V1Fault::Drop),
        ("POST", "PipelineSubmit/pub-1", V1Fault::Drop),
        ("GET", "PipelineRuns/", V1Fault::DropAfterProcessing),
        (
            "GET",
            "PublishedPipelines/pub-1",
            V1Fault::DropAfterProcessing,
        ),
        (
            "PUT",
            "Pipelines/pub-1/status",
            V1Fault::DropAfterProcessing,
        ),
    ] {
        env.v1.inject(
            method,
            path,
            V1Fault::Throttle {
                retry_after_secs: 1,
            },
            1,
        );
        env.v1.inject(method, path, V1Fault::Unavailable, 1);
        env.v1.inject(method, path, drop, 1);
    }
    let run = |args: &[&str]| {
        let mut cmd = legacy(&env, args);
        cmd.env("AZUREML_MAX_RETRY_WAIT", "0.2");
        output(cmd)
    };
    let out = run(&[
        "submit",
        "--pipeline-endpoint",
        "scoring-ep",
        "--version",
        "1",
        "--experiment",
        "exp",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out).1);
    let out = run(&[
        "submit",
        "--published-pipeline",
        "pub-1",
        "--experiment",
        "exp",
        "--wait",
        "--poll-interval",
        "0.05",
    ])
    .await;
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("finished after"), "{stderr}");
    let out = run(&["disable", "pub-1"]).await;
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(env.v1.status("pub-1").as_deref(), Some("Disabled"));
    let out = run(&["enable", "pub-1"]).await;
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(env.v1.status("pub-1").as_deref(), Some("Active"));

    let ran: Vec<(String, Option<String>)> = env
        .v1
        .runs()
        .into_iter()
        .map(|r| (r.pipeline_id, r.version))
        .collect();
    assert_eq!(
        ran,
        [
            ("pub-2".to_owned(), Some("1".to_owned())),
            ("pub-1".to_owned(), None)
        ]
    );
    let faulted = env
        .v1
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert_eq!(faulted, 18, "every fault was met");
}
