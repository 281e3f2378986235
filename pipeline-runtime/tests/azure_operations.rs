//! Operations against the fake Azure ML over real HTTP: request shapes, api-versions, paging,
//! long-running operations, job status and child runs.

use std::time::Duration;

use azure_core::http::Url;
use azureml_pipelines_runtime::azure::arm::join_bounded;
use azureml_pipelines_runtime::azure::jobs::JobStatus;
use azureml_pipelines_runtime::azure::{
    ArmClientOptions, Credential, RetryConfig, Workspace, WorkspaceConfig,
};
use azureml_pipelines_testkit::fake_aml::{FakeAmlOptions, FakeAzureMl};
use serde_json::{Value, json};

fn options() -> ArmClientOptions {
    ArmClientOptions {
        retry: RetryConfig {
            max_retries: 4,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(1),
            max_elapsed: Duration::from_secs(30),
        },
        request_timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(10),
        ..Default::default()
    }
}

fn workspace(fake: &FakeAzureMl) -> Workspace {
    let o = fake.options();
    let config = WorkspaceConfig::new(o.subscription_id, o.resource_group, o.workspace_name)
        .with_arm_endpoint(Url::parse(&fake.url()).unwrap());
    Workspace::new(
        config,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        options(),
    )
    .unwrap()
}

fn command_spec(name: &str) -> Value {
    json!({"name": name, "type": "command", "command": "python run.py",
           "is_deterministic": true, "inputs": {}, "outputs": {"out": {"type": "uri_folder"}}})
}

fn pipeline_body(ws: &str, components: &[&str], compute: &str) -> Value {
    let jobs: serde_json::Map<String, Value> = components
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                format!("step{i}"),
                json!({"name": format!("step{i}"), "type": "command",
                       "componentId": format!("{ws}/components/azureml_anonymous/versions/{v}"),
                       "inputs": {"lr": {"value": "${{parent.inputs.lr}}", "job_input_type": "literal"}},
                       "outputs": {"out": {"job_output_type": "uri_folder"}}}),
            )
        })
        .collect();
    json!({"properties": {
        "jobType": "Pipeline", "displayName": "demo", "experimentName": "exp",
        "computeId": format!("{ws}/computes/{compute}"),
        "inputs": {"lr": {"jobInputType": "literal", "value": "0.1"},
                   "data": {"jobInputType": "uri_folder", "uri": "azureml://datastores/workspaceblobstore/paths/data/", "mode": "ReadOnlyMount"}},
        "outputs": {"final": {"jobOutputType": "uri_folder", "mode": "ReadWriteMount"}},
        "jobs": jobs,
        "settings": {"default_compute": format!("{ws}/computes/{compute}"), "_source": "DSL"}}})
}

#[tokio::test]
async fn workspace_and_discovery() {
    let fake = FakeAzureMl::start().await;
    let ws = workspace(&fake);
    let info = ws.get().await.unwrap();
    assert_eq!(info.location.as_deref(), Some("eastus"));
    assert_eq!(info.id, fake.workspace_id());
    let discovery = ws.discovery().await.unwrap();
    assert_eq!(discovery.api, fake.url());
    // Cached: a second call sends nothing.
    ws.discovery().await.unwrap();
    assert_eq!(fake.requests_to("GET", "/discovery").len(), 1);
    let ws_get = &fake.requests_to("GET", "/workspaces/ws")[0];
    assert_eq!(ws_get.query["api-version"], "2025-12-01");
    assert_eq!(ws_get.token_label.as_deref(), Some("default"));
    assert_eq!(ws_get.headers["authorization"], "<redacted>");
    // No token goes to the discovery URL.
    assert_eq!(fake.requests_to("GET", "/discovery")[0].token_label, None);
}

#[tokio::test]
async fn datastores_default_get_and_secrets() {
    let fake = FakeAzureMl::start().await;
    let ws = workspace(&fake);
    let default = ws.datastores().get_default().await.unwrap();
    assert_eq!(default.name, "workspaceblobstore");
    assert!(default.properties.is_default);
    assert_eq!(
        default.blob_container_url().as_deref(),
        Some("https://devstoreaccount1.blob.core.windows.net/azureml-blobstore-fake")
    );
    let listed = &fake.requests_to("GET", "/datastores")[0];
    assert_eq!(listed.query["isDefault"], "true");
    assert_eq!(listed.query["api-version"], "2024-10-01-preview");

    let secrets = ws
        .datastores()
        .list_secrets("workspaceblobstore")
        .await
        .unwrap();
    match &secrets {
        azureml_pipelines_runtime::azure::datastores::DatastoreSecrets::AccountKey { key } => {
            assert_eq!(key.expose(), fake.options().blob.account_key)
        }
        other => panic!("{other:?}"),
    }
    let post = &fake.requests_to("POST", "/listSecrets")[0];
    assert_eq!(
        post.body,
        json!({"expirableSecret": true, "expireAfterHours": 1})
    );

    let err = ws.datastores().get("nope").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(
        err.to_string().contains("it has: workspaceblobstore"),
        "{err}"
    );
}

#[tokio::test]
async fn code_asset_flow_reuses_by_hash_across_names() {
    let fake = FakeAzureMl::start().await;
    let ws = workspace(&fake);
    let codes = ws.codes();
    let hash = "ab".repeat(32);
    assert!(codes.find_by_hash("name-1", &hash).await.unwrap().is_none());
    let lookup = &fake.requests_to("GET", "/codes/name-1/versions")[0];
    assert_eq!(lookup.query["hash"], hash);
    assert_eq!(lookup.query["hashVersion"], "202208");
    assert_eq!(lookup.query["api-version"], "2023-04-01");

    let upload = codes.start_pending_upload("name-1", "1").await.unwrap();
    assert_eq!(
        upload.blob_uri,
        "http://127.0.0.1:10000/devstoreaccount1/azureml-blobstore-fake"
    );
    assert!(upload.sas_uri.expose().contains("sig=FAKESIG"));
    assert_eq!(
        fake.requests_to("POST", "startPendingUpload")[0].body,
        json!({"pendingUploadType": "TemporaryBlobReference"})
    );

    let code_uri = format!("{}/src", upload.blob_uri);
    let created = codes
        .create_or_update("name-1", "1", &code_uri, &hash, true)
        .await
        .unwrap();
    assert_eq!(created.name_and_version(), Some(("name-1", "1")));
    let put = &fake.requests_to("PUT", "/codes/name-1/versions/1")[0];
    assert_eq!(
        put.body,
        json!({"properties": {"codeUri": code_uri, "isAnonymous": true,
                              "properties": {"hash_sha256": hash, "hash_version": "202208"}}})
    );

    // A later submission with a fresh random name finds the same content.
    let found = codes.find_by_hash("name-2", &hash).await.unwrap().unwrap();
    assert_eq!(found.name_and_version(), Some(("name-1", "1")));
    assert_eq!(found.hash(), Some(hash.as_str()));
}

#[tokio::test]
async fn anonymous_components_are_idempotent() {
    let fake = FakeAzureMl::start().await;
    let ws = workspace(&fake);
    let first = ws
        .components()
        .create_or_update_anonymous("v-1", &command_spec("a"))
        .await
        .unwrap();
    assert!(
        first
            .id
            .ends_with("/components/azureml_anonymous/versions/v-1")
    );
    assert!(first.properties.is_anonymous);
    ws.components()
        .create_or_update_anonymous("v-1", &command_spec("a"))
        .await
        .unwrap();
    assert_eq!(
        fake.component_versions(),
        vec![("azureml_anonymous".into(), "v-1".into())]
    );
    let put = &fake.requests_to("PUT", "/components/")[0];
    assert_eq!(put.query["api-version"], "2024-01-01-preview");
    assert_eq!(put.body["properties"]["isAnonymous"], json!(true));
    assert_eq!(put.body["properties"]["componentSpec"], command_spec("a"));

    // The fake rejects a body the service would reject.
    let err = ws
        .components()
        .create_or_update_anonymous("v-2", &json!({"command": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    let service = err.service().unwrap();
    assert_eq!(
        service.target.as_deref(),
        Some("properties.componentSpec.type")
    );
}

#[tokio::test]
async fn pipeline_job_submit_follow_children_and_cancel() {
    let fake = FakeAzureMl::start_with(FakeAmlOptions {
        page_size: 2,
        ..Default::default()
    })
    .await;
    fake.add_compute("cpu-cluster", "AmlCompute");
    let ws = workspace(&fake);
    let versions = ["c1", "c2", "c3"];
    let specs: Vec<Value> = versions.iter().map(|v| command_spec(v)).collect();
    let results = join_bounded(
        2,
        versions
            .iter()
            .zip(&specs)
            .map(|(v, spec)| ws.components().create_or_update_anonymous(v, spec)),
    )
    .await;
    assert!(results.iter().all(Result::is_ok));

    let body = pipeline_body(&fake.workspace_id(), &versions, "cpu-cluster");
    let job = ws.jobs().create_or_update("job-1", &body).await.unwrap();
    assert_eq!(job.name, "job-1");
    assert_eq!(
        job.properties.job_type,
        azureml_pipelines_runtime::wire::rest::JobType::Pipeline
    );
    assert_eq!(job.properties.status, Some(JobStatus::NotStarted));
    let put = &fake.requests_to("PUT", "/jobs/job-1")[0];
    assert_eq!(put.query["api-version"], "2024-01-01-preview");
    assert_eq!(put.aml_token_label.as_deref(), Some("default"));
    assert_eq!(put.headers["x-azureml-token"], "<redacted>");
    assert_eq!(put.body, body);

    // NotStarted -> Running -> Completed, one step per GET.
    let seen = ws.jobs().get("job-1").await.unwrap().properties.status;
    assert_eq!(seen, Some(JobStatus::NotStarted));
    let done = ws
        .jobs()
        .wait("job-1", Duration::from_millis(5))
        .await
        .unwrap();
    assert_eq!(done.properties.status, Some(JobStatus::Completed));

    // Three children over two pages, with an Azure ML token.
    let children = ws.jobs().list_children("job-1").await.unwrap();
    let mut names: Vec<_> = children
        .iter()
        .map(|r| r.display_name.clone().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["step0", "step1", "step2"]);
    assert!(
        children
            .iter()
            .all(|r| r.parent_run_id.as_deref() == Some("job-1"))
    );
    assert_eq!(fake.requests_to("GET", "/children").len(), 2);

    let listed = ws.jobs().list(Some("Pipeline")).await.unwrap();
    assert_eq!(listed.len(), 1);

    ws.jobs().cancel("job-1").await.unwrap();
    // 202 + Location, polled until it stops answering 202.
    assert_eq!(fake.requests_to("GET", "/fake/operationResults/").len(), 2);
    let canceled = ws.jobs().get("job-1").await.unwrap();
    assert_eq!(canceled.properties.status, Some(JobStatus::Canceled));
}

#[tokio::test]
async fn job_body_validation_errors_name_the_field() {
    let fake = FakeAzureMl::start().await;
    fake.add_compute("cpu-cluster", "AmlCompute");
    let ws = workspace(&fake);
    let mut body = pipeline_body(&fake.workspace_id(), &[], "cpu-cluster");
    body["properties"]["inputs"]["lr"]["jobInputType"] = json!("Literal");
    let err = ws.jobs().create_or_update("bad", &body).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("UserError"));
    assert_eq!(
        err.service().unwrap().target.as_deref(),
        Some("properties.inputs.lr.jobInputType")
    );
    assert!(
        err.to_string().contains("'Literal' is not a valid value"),
        "{err}"
    );

    // A node pointing at a component that was never registered.
    let body = pipeline_body(&fake.workspace_id(), &["missing"], "cpu-cluster");
    let err = ws.jobs().create_or_update("bad", &body).await.unwrap_err();
    assert!(err.to_string().contains("step0"), "{err}");
    assert!(fake.job_names().is_empty());
}

#[tokio::test]
async fn compute_create_polls_until_the_cluster_is_usable() {
    let fake = FakeAzureMl::start_with(FakeAmlOptions {
        operation_polls: 2,
        ..Default::default()
    })
    .await;
    let ws = workspace(&fake);
    let body: azureml_pipelines_runtime::wire::compute::ComputeResource =
        serde_json::from_value(json!({"location": "eastus", "properties": {"computeType": "AmlCompute",
        "properties": {"vmSize": "STANDARD_DS3_V2", "scaleSettings": {"maxNodeCount": 2, "minNodeCount": 0}}}}))
        .unwrap();
    let wait = azureml_pipelines_runtime::azure::computes::Wait {
        interval: std::time::Duration::from_millis(1),
        ..Default::default()
    };
    let mut states = Vec::new();
    let compute = ws
        .computes()
        .create_or_update("cpu-cluster", &body, wait, |c| {
            states.push(c.properties.provisioning_state.clone().unwrap_or_default())
        })
        .await
        .unwrap();
    assert_eq!(
        compute.properties.provisioning_state.as_deref(),
        Some("Succeeded")
    );
    // `Creating` from the PUT, then polls of the resource until it is usable.
    assert_eq!(states, ["Creating", "Succeeded"]);
    let polls = fake.requests_to("GET", "/computes/cpu-cluster");
    assert_eq!(polls.len(), 3, "two polls still creating, the third usable");
    assert_eq!(polls[0].query["api-version"], "2023-08-01-preview");
    assert_eq!(ws.computes().list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn lists_follow_next_link() {
    let fake = FakeAzureMl::start_with(FakeAmlOptions {
        page_size: 2,
        ..Default::default()
    })
    .await;
    for i in 0..5 {
        fake.add_compute(&format!("c{i}"), "AmlCompute");
    }
    let ws = workspace(&fake);
    let all = ws.computes().list().await.unwrap();
    assert_eq!(all.len(), 5);
    let pages = fake.requests_to("GET", "/computes");
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[2].query["$skip"], "4");
    assert_eq!(pages[2].query["api-version"], "2023-08-01-preview");
}
