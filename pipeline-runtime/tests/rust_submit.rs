//! Submitting Rust steps: the Linux binary uploaded as their code asset once per content (blob
//! requests counted through a recording proxy in front of Azurite), the command line of their
//! components, the default image registered as an anonymous environment. The fake Azure ML
//! over real HTTP, blob traffic to a real Azurite.

#![cfg(feature = "azure")]

use std::sync::Arc;
use std::time::Duration;

use azure_core::http::Url;
use azureml_pipelines::prelude::*;
use azureml_pipelines_runtime::azure::environments::{
    ANONYMOUS_ENVIRONMENT_NAME, anonymous_version,
};
use azureml_pipelines_runtime::azure::linux_binary::{self, LinuxBinaryOptions};
use azureml_pipelines_runtime::azure::submit::SubmitError;
use azureml_pipelines_runtime::azure::submit::{self, SubmitEvents, SubmitOptions};
use azureml_pipelines_runtime::azure::{
    ArmClientOptions, Credential, RetryConfig, Workspace, WorkspaceConfig,
};
use azureml_pipelines_runtime::graph::{InputValue, PipelineFn};
use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::{BlobBackend, FakeAmlOptions, FakeAzureMl};
use azureml_pipelines_testkit::request_log::RequestLog;

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

/// Scales every number of a CSV file (a Rust step).
#[step(compute = "aml-compute")]
fn scale(
    table: Input<UriFile>,
    factor: f64,
    scaled: Output<UriFolder>,
) -> Result<(), std::io::Error> {
    let text = std::fs::read_to_string(&table)?;
    std::fs::write(scaled.join("factor.txt"), format!("{factor}\n{text}"))
}

#[pipeline(default_compute = "aml-compute")]
fn rust_pipeline(table: Data<UriFile>, #[default(2.0)] factor: Param<f64>) -> Data<UriFolder> {
    let scaled = scale(table, factor);
    train_curated(scaled)
}

/// Azurite behind a recording proxy: the fake's uploads and the workspace's blob endpoint go
/// through it.
struct Env {
    _azurite: Azurite,
    blobs: RequestLog,
    fake: FakeAzureMl,
    ws: Workspace,
}

async fn proxied_env(container: &str) -> Env {
    let azurite = Azurite::start();
    azurite.create_container(container).await;
    let blobs = RequestLog::start(([127, 0, 0, 1], azurite.port()).into()).await;
    let mut blob = BlobBackend::from_azurite(&azurite, container);
    blob.endpoint = format!("{}/{}", blobs.url(), azurite.account_name());
    let fake = FakeAzureMl::start_with(FakeAmlOptions {
        blob,
        ..Default::default()
    })
    .await;
    fake.add_compute("aml-compute", "AmlCompute");
    let ws = workspace(&fake, &azurite);
    Env {
        _azurite: azurite,
        blobs,
        fake,
        ws,
    }
}

/// A static Linux binary, staged as `submit` stages one.
fn staged_binary(dir: &std::path::Path) -> linux_binary::LinuxBinary {
    let src = dir.join("hello.rs");
    std::fs::write(&src, "fn main() { println!(\"hello\"); }\n").unwrap();
    let exe = dir.join("hello-musl");
    let out = std::process::Command::new("rustc")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
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
    let mut opts = LinuxBinaryOptions::from_env();
    opts.env_binary = Some(exe);
    opts.staging_root = dir.join("staging");
    linux_binary::prepare(&opts, &mut |_: &str| {}).unwrap()
}

fn table_values(pipeline: &azureml_pipelines_runtime::graph::Pipeline) -> Vec<InputValue> {
    pipeline
        .bind(
            &[],
            &[(
                "table".into(),
                "azureml://datastores/workspaceblobstore/paths/table.csv".into(),
            )],
            std::path::Path::new("."),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_linux_binary_is_uploaded_once_per_content_and_run_by_the_component() {
    let tmp = tempfile::tempdir().unwrap();
    let staged = staged_binary(tmp.path());
    let env = proxied_env("azureml-blobstore-rust").await;
    let pipeline = rust_pipeline.build().unwrap();
    let values = table_values(&pipeline);
    let events: SubmitEvents = Arc::new(|_| {});
    let options = |job: &str| SubmitOptions {
        job_name: Some(job.into()),
        rust_binary: Some(staged.dir.clone()),
        ..Default::default()
    };

    let first = submit::submit(&env.ws, &pipeline, &values, &options("rust_1"), &events)
        .await
        .unwrap();
    // The binary's folder and train's snapshot.
    assert_eq!((first.codes_uploaded, first.codes_reused), (2, 0));
    let hex = staged.dir.file_name().unwrap().to_str().unwrap();
    let binary_puts: Vec<String> = env
        .blobs
        .requests()
        .into_iter()
        .filter(|r| {
            // The blob path's `/` is sent percent-encoded; `comp=metadata` marks the upload
            // complete and carries no content.
            r.method == "PUT"
                && r.target.contains(&format!("/{hex}%2Fazureml-pipeline?"))
                && !r.target.contains("comp=metadata")
        })
        .map(|r| r.target)
        .collect();
    assert_eq!(binary_puts.len(), 1, "{:#?}", env.blobs.requests());

    // The code version points at the folder holding only the binary.
    let code_puts = env.fake.requests_to("PUT", "/codes/");
    let binary_code = code_puts
        .iter()
        .find(|r| {
            r.body["properties"]["codeUri"]
                .as_str()
                .is_some_and(|u| u.ends_with(&format!("/{hex}")))
        })
        .expect("a code version for the binary's folder");
    let code_id = format!(
        "azureml:{}/codes/{}/versions/1",
        env.fake.workspace_id(),
        binary_code.path.rsplit('/').nth(2).unwrap()
    );

    // The Rust step's component: the binary's code, the entry point's command line, the
    // default image registered as an environment.
    let components = env.fake.requests_to("PUT", "/components/");
    let spec = components
        .iter()
        .map(|r| &r.body["properties"]["componentSpec"])
        .find(|c| c["command"].as_str().is_some_and(|c| c.contains("__step")))
        .expect("the Rust step's component");
    assert_eq!(
        spec["command"],
        "chmod +x ./azureml-pipeline 2>/dev/null; ./azureml-pipeline __step scale \
         --input table=${{inputs.table}} --param factor=${{inputs.factor}} \
         --output scaled=${{outputs.scaled}}"
    );
    assert_eq!(spec["code"], code_id);
    let image = azureml_pipelines_runtime::rust_step::DEFAULT_ENVIRONMENT;
    assert_eq!(
        spec["environment"],
        format!(
            "azureml:{}/environments/{ANONYMOUS_ENVIRONMENT_NAME}/versions/{}",
            env.fake.workspace_id(),
            anonymous_version(image)
        )
    );
    assert_eq!(
        env.fake.environment_versions()[0].2,
        image,
        "the default image of Rust steps"
    );

    // A second submission of the same binary uploads nothing.
    env.blobs.clear();
    let second = submit::submit(&env.ws, &pipeline, &values, &options("rust_2"), &events)
        .await
        .unwrap();
    assert_eq!((second.codes_uploaded, second.codes_reused), (0, 2));
    let puts: Vec<_> = env
        .blobs
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert!(puts.is_empty(), "{puts:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_steps_without_a_linux_binary_are_refused_before_any_request() {
    let env = proxied_env("azureml-blobstore-nobin").await;
    let pipeline = rust_pipeline.build().unwrap();
    let values = table_values(&pipeline);
    let events: SubmitEvents = Arc::new(|_| {});
    let err = submit::submit(
        &env.ws,
        &pipeline,
        &values,
        &SubmitOptions::default(),
        &events,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, SubmitError::NoLinuxBinary { step } if step == "scale"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("SubmitOptions::rust_binary"),
        "{err}"
    );
    assert!(env.fake.requests().is_empty());
    assert!(env.blobs.requests().is_empty());
}
