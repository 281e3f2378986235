//! Submitting steps that run in a container image (Rust steps by default): the image is
//! registered as an anonymous environment before the components, and the components name it.
//! The fake Azure ML over real HTTP, blob traffic to a real Azurite.

#![cfg(feature = "azure")]

use std::sync::Arc;
use std::time::Duration;

use azure_core::http::Url;
use azureml_pipelines::prelude::*;
use azureml_pipelines_runtime::azure::environments::{
    ANONYMOUS_ENVIRONMENT_NAME, anonymous_version,
};
use azureml_pipelines_runtime::azure::submit::{self, SubmitEvents, SubmitOptions};
use azureml_pipelines_runtime::azure::{
    ArmClientOptions, Credential, RetryConfig, Workspace, WorkspaceConfig,
};
use azureml_pipelines_runtime::graph::PipelineFn;
use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;

const IMAGE: &str = "docker.io/library/debian:bookworm-slim";

#[step(
    script = "prepare.py",
    source_dir = "../examples/compare_models/dataprep_src",
    environment = "docker.io/library/debian:bookworm-slim",
    output = "output_data1"
)]
fn prep_in_image(input: Data<UriFile>) -> Data<UriFolder>;

#[step(
    script = "train.py",
    source_dir = "../examples/compare_models/train_src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "training_results"
)]
fn train_curated(prepped_data: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline(default_compute = "aml-compute")]
fn image_pipeline(iris: Data<UriFile>) -> Data<UriFolder> {
    train_curated(prep_in_image(iris))
}

fn workspace(fake: &FakeAzureMl, azurite: &Azurite) -> Workspace {
    let o = fake.options();
    let config = WorkspaceConfig::new(o.subscription_id, o.resource_group, o.workspace_name)
        .with_arm_endpoint(Url::parse(&fake.url()).unwrap())
        .with_blob_endpoint(Url::parse(azurite.blob_endpoint()).unwrap());
    let options = ArmClientOptions {
        retry: RetryConfig {
            max_retries: 2,
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_elapsed: Duration::from_secs(10),
        },
        request_timeout: Duration::from_secs(10),
        poll_interval: Duration::from_millis(10),
        ..Default::default()
    };
    Workspace::new(
        config,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        options,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_environment_is_registered_once_and_named_by_its_component() {
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, "azureml-blobstore-env").await;
    fake.add_compute("aml-compute", "AmlCompute");
    let ws = workspace(&fake, &azurite);
    let pipeline = image_pipeline.build().unwrap();
    let values = pipeline
        .bind(
            &[],
            &[(
                "iris".into(),
                "azureml://datastores/workspaceblobstore/paths/iris.csv".into(),
            )],
            std::path::Path::new("."),
        )
        .unwrap();
    let events: SubmitEvents = Arc::new(|_| {});
    for job in ["image_1", "image_2"] {
        let options = SubmitOptions {
            job_name: Some(job.into()),
            ..Default::default()
        };
        submit::submit(&ws, &pipeline, &values, &options, &events)
            .await
            .unwrap();
    }

    let version = anonymous_version(IMAGE);
    assert_eq!(
        fake.environment_versions(),
        [(
            ANONYMOUS_ENVIRONMENT_NAME.to_owned(),
            version.clone(),
            IMAGE.to_owned()
        )]
    );
    let puts = fake.requests_to("PUT", "/environments/");
    assert_eq!(puts.len(), 2, "one PUT per submission, same version");
    assert_eq!(
        puts[0].body,
        serde_json::json!({"properties": {"image": IMAGE, "isAnonymous": true, "osType": "Linux"}})
    );
    // Registered before any component.
    let requests = fake.requests();
    let env_at = requests
        .iter()
        .position(|r| r.path.contains("/environments/"))
        .unwrap();
    let first_component = requests
        .iter()
        .position(|r| r.path.contains("/components/"))
        .unwrap();
    assert!(env_at < first_component);

    let envs: Vec<String> = fake
        .requests_to("PUT", "/components/")
        .iter()
        .map(|r| {
            r.body["properties"]["componentSpec"]["environment"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let registered = format!(
        "azureml:{}/environments/{ANONYMOUS_ENVIRONMENT_NAME}/versions/{version}",
        fake.workspace_id()
    );
    assert!(envs.contains(&registered), "{envs:#?}");
    assert!(
        envs.contains(&"azureml:AzureML-sklearn-1.5@latest".to_owned()),
        "a reference is sent as written: {envs:#?}"
    );
    assert!(!envs.iter().any(|e| e == IMAGE), "{envs:#?}");
}
