//! The legacy (v1) pipelines client against the fake ARM server and the fake v1 pipelines host,
//! over real HTTP: discovery, submit by published pipeline, by endpoint id and version, by
//! endpoint name, disable/enable, 404s and throttling.

use std::time::Duration;

use azure_core::http::Url;
use azureml_pipelines_runtime::azure::legacy::LegacyPipelines;
use azureml_pipelines_runtime::azure::{
    ArmClientOptions, Credential, RetryConfig, Workspace, WorkspaceConfig,
};
use azureml_pipelines_runtime::wire::legacy::{EntityStatus, PipelineSubmissionInfo};
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;
use azureml_pipelines_testkit::fake_pipelines_v1::{FakePipelinesV1, V1Fault};
use serde_json::json;

struct Fakes {
    arm: FakeAzureMl,
    v1: FakePipelinesV1,
}

async fn fakes() -> Fakes {
    let arm = FakeAzureMl::start().await;
    let v1 = FakePipelinesV1::start_for(&arm).await;
    Fakes { arm, v1 }
}

fn workspace(fake: &FakeAzureMl) -> Workspace {
    let o = fake.options();
    let config = WorkspaceConfig::new(o.subscription_id, o.resource_group, o.workspace_name)
        .with_arm_endpoint(Url::parse(&fake.url()).unwrap());
    let options = ArmClientOptions {
        retry: RetryConfig {
            max_retries: 3,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(20),
        },
        request_timeout: Duration::from_secs(5),
        ..Default::default()
    };
    Workspace::new(
        config,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        options,
    )
    .unwrap()
}

const WS_PATH: &str = "/pipelines/v1.0/subscriptions/00000000-0000-0000-0000-000000000000/\
                       resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

#[tokio::test]
async fn submit_published_pipeline_with_parameters() {
    let f = fakes().await;
    f.v1.add_published_pipeline("pub-1", "scoring");
    let ws = workspace(&f.arm);
    let v1 = LegacyPipelines::new(&ws);
    assert_eq!(v1.host().await.unwrap(), f.v1.url(), "the discovery host");

    let body = PipelineSubmissionInfo::new("batch_scoring")
        .parameter("process_count_per_node", "6")
        .parameter("pipeline_arg", "20");
    let run = v1.submit_published("pub-1", &body).await.unwrap();
    assert_eq!(
        run.status.as_ref().and_then(|s| s.code()),
        Some("NotStarted")
    );
    assert_eq!(
        run.run_history_experiment_name.as_deref(),
        Some("batch_scoring")
    );

    let runs = f.v1.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, run.id);
    assert_eq!(runs[0].pipeline_id, "pub-1");
    assert_eq!(runs[0].parameters["process_count_per_node"], "6");

    let requests = f.v1.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path,
        format!("{WS_PATH}/PipelineRuns/PipelineSubmit/pub-1")
    );
    assert!(r.query.is_empty(), "no api-version: {:?}", r.query);
    assert_eq!(r.token_label.as_deref(), Some("default"), "ARM token");
    assert_eq!(r.headers["authorization"], "<redacted>");
    assert_eq!(
        r.headers["content-type"], "application/json-patch+json; charset=utf-8",
        "as the v1 client sends it"
    );
    assert_eq!(
        r.body,
        json!({"ExperimentName": "batch_scoring", "Description": "batch_scoring",
               "RunSource": "SDK", "RunType": "SDK",
               "ParameterAssignments": {"pipeline_arg": "20", "process_count_per_node": "6"},
               "DataPathAssignments": {}, "DataSetDefinitionValueAssignments": {}})
    );
    // Discovery went to the ARM fake, without a token.
    let discovery = f.arm.requests_to("GET", "/discovery");
    assert_eq!(discovery.len(), 1);
    assert_eq!(discovery[0].token_label, None);
    // Three round trips on a fresh workspace handle: workspace, discovery, submit.
    assert_eq!(f.arm.requests().len(), 2, "{:?}", f.arm.requests());

    // Discovery is cached: a second submit is one request.
    v1.submit_published("pub-1", &body).await.unwrap();
    assert_eq!(f.arm.requests().len(), 2);
    assert_eq!(f.v1.requests().len(), 2);
}

#[tokio::test]
async fn submit_endpoint_by_id_with_a_version_and_by_name() {
    let f = fakes().await;
    let id =
        f.v1.add_pipeline_endpoint("scoring", &[("0", "pub-a"), ("1", "pub-b")], "0");
    let ws = workspace(&f.arm);
    let v1 = LegacyPipelines::new(&ws);
    let body = PipelineSubmissionInfo::new("exp").parameter("k", "v");

    v1.submit_endpoint(&id, Some("1"), &body).await.unwrap();
    let (endpoint, _) = v1
        .submit_endpoint_by_name("scoring", None, &body)
        .await
        .unwrap();
    assert_eq!(endpoint.id, id);
    assert_eq!(endpoint.versions(), vec!["0", "1"]);
    v1.submit_endpoint_by_name("scoring", Some("0"), &body)
        .await
        .unwrap();

    let runs = f.v1.runs();
    let ran: Vec<(&str, Option<&str>)> = runs
        .iter()
        .map(|r| (r.pipeline_id.as_str(), r.version.as_deref()))
        .collect();
    assert_eq!(
        ran,
        vec![
            ("pub-b", Some("1")),
            ("pub-a", Some("0")),
            ("pub-a", Some("0"))
        ]
    );

    let requests = f.v1.requests();
    let submit_v1 = &requests[0];
    assert_eq!(
        submit_v1.path,
        format!("{WS_PATH}/PipelineRuns/PipelineEndpointSubmit/Id/{id}/1")
    );
    assert_eq!(submit_v1.query["pipelineVersion"], "1");
    let lookup = &requests[1];
    assert_eq!(lookup.method, "GET");
    assert_eq!(lookup.path, format!("{WS_PATH}/PipelineEndpoints/Name"));
    assert_eq!(lookup.query["Name"], "scoring");
    let default_submit = &requests[2];
    assert_eq!(
        default_submit.path,
        format!("{WS_PATH}/PipelineRuns/PipelineEndpointSubmit/Id/{id}")
    );
    assert!(default_submit.query.is_empty());
}

#[tokio::test]
async fn an_unknown_endpoint_version_is_refused_before_submitting() {
    let f = fakes().await;
    f.v1.add_pipeline_endpoint("scoring", &[("0", "pub-a")], "0");
    let ws = workspace(&f.arm);
    let v1 = LegacyPipelines::new(&ws);
    let err = v1
        .submit_endpoint_by_name("scoring", Some("7"), &PipelineSubmissionInfo::new("exp"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no version `7`"), "{err}");
    assert!(err.contains("its versions are 0"), "{err}");
    assert!(f.v1.runs().is_empty());
}

#[tokio::test]
async fn disable_refuses_submit_until_enabled_and_repeats_change_nothing() {
    let f = fakes().await;
    f.v1.add_published_pipeline("pub-1", "scoring");
    let ws = workspace(&f.arm);
    let v1 = LegacyPipelines::new(&ws);
    let body = PipelineSubmissionInfo::new("exp");

    let change = v1.disable("pub-1").await.unwrap();
    assert!(change.changed);
    assert_eq!(change.pipeline.entity_status, Some(EntityStatus::Active));
    assert_eq!(f.v1.status("pub-1").as_deref(), Some("Disabled"));
    let status_put =
        f.v1.requests()
            .into_iter()
            .find(|r| r.method == "PUT")
            .unwrap();
    assert_eq!(status_put.path, format!("{WS_PATH}/Pipelines/pub-1/status"));
    assert_eq!(status_put.body, json!("Disabled"));

    // Disabling again sends no change.
    assert!(!v1.disable("pub-1").await.unwrap().changed);
    assert_eq!(f.v1.status_puts(), 1);

    let err = v1.submit_published("pub-1", &body).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    let text = err.to_string();
    assert!(text.contains("is disabled"), "{text}");
    assert!(text.contains("legacy enable pub-1"), "{text}");
    assert!(f.v1.runs().is_empty());

    assert!(v1.enable("pub-1").await.unwrap().changed);
    assert!(!v1.enable("pub-1").await.unwrap().changed);
    assert_eq!(f.v1.status_puts(), 2);
    v1.submit_published("pub-1", &body).await.unwrap();
    assert_eq!(f.v1.runs().len(), 1);
}

#[tokio::test]
async fn unknown_ids_and_names_are_named_in_the_error() {
    let f = fakes().await;
    let ws = workspace(&f.arm);
    let v1 = LegacyPipelines::new(&ws);
    let body = PipelineSubmissionInfo::new("exp");
    for err in [
        v1.submit_published("nope-1", &body).await.unwrap_err(),
        v1.enable("nope-1").await.unwrap_err(),
    ] {
        assert_eq!(err.status(), Some(404));
        let text = err.to_string();
        assert!(
            text.contains("no published pipeline with id `nope-1`"),
            "{text}"
        );
    }
    let err = v1
        .submit_endpoint_by_name("missing", None, &body)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(
        err.to_string()
            .contains("no pipeline endpoint named `missing`"),
        "{err}"
    );
    let err = v1
        .submit_endpoint("e-404", Some("2"), &body)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no pipeline endpoint with id `e-404` and version `2`"),
        "{err}"
    );
}

#[tokio::test]
async fn throttled_then_unavailable_submit_makes_exactly_one_run() {
    let f = fakes().await;
    f.v1.add_published_pipeline("pub-1", "scoring");
    f.v1.inject(
        "POST",
        "PipelineSubmit",
        V1Fault::Throttle {
            retry_after_secs: 1,
        },
        1,
    );
    f.v1.inject("POST", "PipelineSubmit", V1Fault::Unavailable, 1);
    let ws = workspace(&f.arm);
    let v1 = LegacyPipelines::new(&ws);
    let started = std::time::Instant::now();
    let run = v1
        .submit_published("pub-1", &PipelineSubmissionInfo::new("exp"))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(f.v1.runs().len(), 1);
    assert_eq!(f.v1.runs()[0].id, run.id);
    let faults: Vec<_> =
        f.v1.requests()
            .into_iter()
            .map(|r| r.fault.is_some())
            .collect();
    assert_eq!(faults, vec![true, true, false]);
}

#[tokio::test]
async fn a_workspace_without_a_pipelines_host_says_so() {
    // The ARM fake alone: its discovery names itself, which has no v1 routes.
    let arm = FakeAzureMl::start().await;
    arm.set_pipelines_url("");
    let ws = workspace(&arm);
    let err = LegacyPipelines::new(&ws)
        .submit_published("p", &PipelineSubmissionInfo::new("exp"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("names no `pipelines` host"), "{err}");
}

#[tokio::test]
async fn requests_without_an_accepted_token_are_refused() {
    let f = fakes().await;
    f.v1.add_published_pipeline("pub-1", "scoring");
    let o = f.arm.options();
    let config = WorkspaceConfig::new(o.subscription_id, o.resource_group, o.workspace_name)
        .with_arm_endpoint(Url::parse(&f.arm.url()).unwrap());
    // Accepted by ARM, not by the v1 host.
    f.arm.accept_token("arm-only", "arm-only-token");
    let ws = Workspace::new(
        config,
        Credential::from_static_token("arm-only-token"),
        ArmClientOptions::default(),
    )
    .unwrap();
    let err = LegacyPipelines::new(&ws)
        .submit_published("pub-1", &PipelineSubmissionInfo::new("exp"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(!err.to_string().contains("arm-only-token"));
    assert!(f.v1.runs().is_empty());
}

#[tokio::test]
async fn a_connection_dropped_before_the_service_answers_is_retried_into_one_run() {
    let f = fakes().await;
    f.v1.add_published_pipeline("pub-1", "scoring");
    f.v1.inject("POST", "PipelineSubmit", V1Fault::Drop, 1);
    let ws = workspace(&f.arm);
    LegacyPipelines::new(&ws)
        .submit_published("pub-1", &PipelineSubmissionInfo::new("exp"))
        .await
        .unwrap();
    assert_eq!(f.v1.runs().len(), 1);
    assert_eq!(f.v1.requests().len(), 2, "the dropped try and the retry");
}
