//! Submission end to end: the fake Azure ML over real HTTP, blob traffic to a real Azurite.
//!
//! The pipeline is the seed's (the `compare_models` example's steps and scripts).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::http::Url;
use azureml_pipelines::prelude::*;
use azureml_pipelines_runtime::azure::jobs::JobStatus;
use azureml_pipelines_runtime::azure::submit::{
    self, FollowEvent, FollowOptions, SubmitError, SubmitEvent, SubmitEvents, SubmitOptions,
};
use azureml_pipelines_runtime::azure::{
    ArmClientOptions, Credential, RetryConfig, Workspace, WorkspaceConfig,
};
use azureml_pipelines_runtime::graph::Pipeline;
use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::{FakeAzureMl, Fault, FaultRule};

#[step(
    script = "prepare.py",
    source_dir = "../examples/compare_models/dataprep_src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    args = "--input ${{inputs.input}} --output ${{outputs.output_data1}}",
    output = "output_data1"
)]
fn data_prep(#[mode(download)] input: Data<UriFile>) -> Data<UriFolder>;

#[step(
    script = "train.py",
    source_dir = "../examples/compare_models/train_src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "training_results"
)]
fn train(prepped_data: Data<UriFolder>) -> Data<UriFolder>;

#[step(
    script = "compare.py",
    source_dir = "../examples/compare_models/compare_src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "output_data",
    reuse = false
)]
fn compare(
    comp_data1: Data<UriFolder>,
    comp_data2: Data<UriFolder>,
    param1: Param<i64>,
) -> Data<UriFolder>;

#[pipeline(experiment = "Compare_Models_Exp", default_compute = "aml-compute")]
fn compare_models(
    #[default("../examples/compare_models/data/iris.csv")] iris: Data<UriFile>,
    #[default(10)] pipeline_arg: Param<i64>,
) -> Data<UriFolder> {
    let prepped = data_prep(iris);
    let results = train(prepped);
    compare(prepped, results, pipeline_arg)
}

/// A step whose snapshot holds a `.env` file.
#[step(
    script = "score.py",
    source_dir = "tests/submit_fixtures/with_secret",
    environment = "azureml:AzureML-sklearn-1.5@latest"
)]
fn score() -> Data<UriFolder>;

#[pipeline(default_compute = "aml-compute")]
fn with_secret() -> Data<UriFolder> {
    score()
}

const CONTAINER: &str = "azureml-blobstore-test";

struct Env {
    azurite: Azurite,
    fake: FakeAzureMl,
    ws: Workspace,
}

async fn env() -> Env {
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, CONTAINER).await;
    fake.add_compute("aml-compute", "AmlCompute");
    let ws = workspace(&fake, &azurite);
    Env { azurite, fake, ws }
}

fn workspace(fake: &FakeAzureMl, azurite: &Azurite) -> Workspace {
    let o = fake.options();
    let config = WorkspaceConfig::new(o.subscription_id, o.resource_group, o.workspace_name)
        .with_arm_endpoint(Url::parse(&fake.url()).unwrap())
        .with_blob_endpoint(Url::parse(azurite.blob_endpoint()).unwrap());
    let options = ArmClientOptions {
        retry: RetryConfig {
            max_retries: 5,
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(30),
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

fn build<A, F: azureml_pipelines_runtime::graph::PipelineFn<A>>(f: F) -> Pipeline {
    f.build().unwrap()
}

fn recorder() -> (SubmitEvents, Arc<Mutex<Vec<SubmitEvent>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (Arc::new(move |e| sink.lock().unwrap().push(e)), seen)
}

fn opts(job: &str) -> SubmitOptions {
    SubmitOptions {
        job_name: Some(job.to_owned()),
        ..Default::default()
    }
}

/// `METHOD path-after-workspace` of every control-plane request, in order.
fn trail(fake: &FakeAzureMl) -> Vec<String> {
    let ws = fake.workspace_id();
    fake.requests()
        .iter()
        .map(|r| {
            let path = r.path.strip_prefix(&ws).unwrap_or(&r.path);
            format!("{} {path}", r.method)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_models_is_submitted_as_the_reference_describes() {
    let Env { azurite, fake, ws } = env().await;
    let pipeline = build(compare_models);
    let values = pipeline
        .bind(
            &[("pipeline_arg".into(), "20".into())],
            &[],
            std::path::Path::new("."),
        )
        .unwrap();
    let (events, seen) = recorder();
    let mut options = opts("compare_models_1");
    options
        .properties
        .insert("azureml.git.commit".into(), "abc123".into());
    let done = submit::submit(&ws, &pipeline, &values, &options, &events)
        .await
        .unwrap();
    assert_eq!(done.name, "compare_models_1");
    assert_eq!((done.codes_uploaded, done.codes_reused), (3, 0));
    assert_eq!(done.components, 3);
    assert!(
        done.studio_url
            .starts_with("https://ml.azure.com/runs/compare_models_1"),
        "{}",
        done.studio_url
    );

    // The requests, as the reference orders them: per snapshot a hash lookup, then
    // startPendingUpload and the code PUT; the default datastore and its secret for the local
    // input; the components; the job.
    let trail = trail(&fake);
    let count = |prefix: &str| trail.iter().filter(|t| t.starts_with(prefix)).count();
    assert_eq!(count("GET /codes/"), 3, "{trail:#?}");
    assert_eq!(count("POST /codes/"), 3, "{trail:#?}");
    assert_eq!(count("PUT /codes/"), 3, "{trail:#?}");
    assert_eq!(count("GET /datastores"), 1, "{trail:#?}");
    assert_eq!(count("POST /datastores/workspaceblobstore/listSecrets"), 1);
    assert_eq!(count("PUT /components/azureml_anonymous/versions/"), 3);
    assert_eq!(trail.last().unwrap(), "PUT /jobs/compare_models_1");
    let first_component = trail
        .iter()
        .position(|t| t.starts_with("PUT /components"))
        .unwrap();
    let last_code = trail
        .iter()
        .rposition(|t| t.starts_with("PUT /codes"))
        .unwrap();
    assert!(last_code < first_component, "{trail:#?}");
    let lookups = fake.requests_to("GET", "/codes/");
    for r in &lookups {
        assert_eq!(
            r.query.get("hashVersion").map(String::as_str),
            Some("202208")
        );
        assert_eq!(r.query.get("hash").map(String::len), Some(64));
    }
    let job_put = &fake.requests_to("PUT", "/jobs/")[0];
    assert_eq!(job_put.aml_token_label.as_deref(), Some("default"));

    // The snapshots are in the upload container under their folder names, each marked complete.
    let blobs = azurite.list_blobs(CONTAINER).await;
    for file in [
        "dataprep_src/prepare.py",
        "train_src/train.py",
        "compare_src/compare.py",
    ] {
        assert!(blobs.contains(&file.to_owned()), "{file} not in {blobs:#?}");
    }
    let local = std::fs::read("../examples/compare_models/dataprep_src/prepare.py").unwrap();
    assert_eq!(
        azurite.download(CONTAINER, "dataprep_src/prepare.py").await,
        local
    );
    let marker = azurite
        .blob_metadata(CONTAINER, "compare_src/compare.py")
        .await;
    assert_eq!(
        marker.get("upload_status").map(String::as_str),
        Some("completed")
    );
    // The local input went to LocalUpload/<object hash>/iris.csv on the default datastore.
    let iris = blobs
        .iter()
        .find(|b| b.starts_with("LocalUpload/") && b.ends_with("/iris.csv"))
        .unwrap_or_else(|| panic!("no uploaded iris.csv in {blobs:#?}"));

    // The job body points at what was registered.
    let job = fake.job("compare_models_1").unwrap();
    let props = &job["properties"];
    assert_eq!(props["jobType"], "Pipeline");
    assert_eq!(props["experimentName"], "Compare_Models_Exp");
    assert_eq!(props["properties"]["azureml.git.commit"], "abc123");
    assert_eq!(props["inputs"]["pipeline_arg"]["value"], "20");
    assert_eq!(
        props["inputs"]["iris"]["uri"],
        format!("azureml://datastores/workspaceblobstore/paths/{iris}")
    );
    let registered: Vec<String> = fake
        .component_versions()
        .into_iter()
        .map(|(n, v)| format!("{}/components/{n}/versions/{v}", fake.workspace_id()))
        .collect();
    for (_, node) in props["jobs"].as_object().unwrap() {
        let id = node["componentId"].as_str().unwrap();
        assert!(registered.iter().any(|r| r == id), "{id} not registered");
    }
    let codes: Vec<String> = fake
        .code_versions()
        .into_iter()
        .map(|(n, v)| format!("{}/codes/{n}/versions/{v}", fake.workspace_id()))
        .collect();
    assert_eq!(codes.len(), 3);
    for put in fake.requests_to("PUT", "/components/") {
        let code = put.body["properties"]["componentSpec"]["code"]
            .as_str()
            .unwrap();
        let code = code.strip_prefix("azureml:").unwrap_or(code);
        assert!(codes.iter().any(|c| c == code), "{code} not a code asset");
    }

    // Events tell the story in order.
    let seen = seen.lock().unwrap().clone();
    let hashed = seen
        .iter()
        .filter(|e| matches!(e, SubmitEvent::SnapshotHashed { .. }))
        .count();
    assert_eq!(hashed, 3);
    assert!(seen.iter().any(|e| matches!(
        e,
        SubmitEvent::DataUploaded { input, report: Some(r), .. } if input == "iris" && r.files == 1
    )));
    assert!(matches!(
        seen.last(),
        Some(SubmitEvent::JobCreated { name }) if name == "compare_models_1"
    ));
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, SubmitEvent::SecretLikeFiles { .. })),
        "the example has no secret-like files"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_submission_reuses_code_and_components() {
    let Env {
        fake,
        ws,
        azurite: _azurite,
    } = env().await;
    let pipeline = build(compare_models);
    let values = pipeline.bind(&[], &[], std::path::Path::new(".")).unwrap();
    let (events, _) = recorder();
    submit::submit(&ws, &pipeline, &values, &opts("first"), &events)
        .await
        .unwrap();
    let components = fake.component_versions();
    let codes = fake.code_versions();
    fake.clear_requests();

    let (events, seen) = recorder();
    let again = submit::submit(&ws, &pipeline, &values, &opts("second"), &events)
        .await
        .unwrap();
    assert_eq!((again.codes_uploaded, again.codes_reused), (0, 3));
    assert!(fake.requests_to("POST", "startPendingUpload").is_empty());
    assert!(fake.requests_to("PUT", "/codes/").is_empty());
    assert_eq!(fake.code_versions(), codes);
    assert_eq!(
        fake.component_versions(),
        components,
        "same versions, none new"
    );
    assert_eq!(
        fake.job_names(),
        vec!["first".to_owned(), "second".to_owned()]
    );
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.iter()
            .filter(|e| matches!(e, SubmitEvent::CodeReused { .. }))
            .count(),
        3
    );
    // The input's earlier upload is recognised by its completion marker.
    assert!(
        seen.iter()
            .any(|e| matches!(e, SubmitEvent::DataUploaded { report: None, .. }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_still_make_exactly_one_job_and_no_duplicates() {
    let Env {
        fake,
        ws,
        azurite: _azurite,
    } = env().await;
    fake.inject(
        FaultRule::new("GET", "/codes/")
            .fault(Fault::throttle_ms(20))
            .times(2),
    );
    fake.inject(
        FaultRule::new("POST", "startPendingUpload")
            .fault(Fault::unavailable())
            .times(1),
    );
    fake.inject(
        FaultRule::new("PUT", "/components/")
            .fault(Fault::unavailable())
            .times(2),
    );
    fake.inject(
        FaultRule::new("PUT", "/components/")
            .fault(Fault::DropAfterProcessing)
            .times(1),
    );
    fake.inject(
        FaultRule::new("PUT", "/jobs/")
            .fault(Fault::DropAfterProcessing)
            .times(1),
    );
    fake.inject(
        FaultRule::new("PUT", "/jobs/")
            .fault(Fault::throttle_ms(20))
            .times(1),
    );
    let pipeline = build(compare_models);
    let values = pipeline.bind(&[], &[], std::path::Path::new(".")).unwrap();
    let (events, _) = recorder();
    let done = submit::submit(&ws, &pipeline, &values, &opts("resilient"), &events)
        .await
        .unwrap();
    assert_eq!(done.name, "resilient");
    assert_eq!(fake.job_names(), vec!["resilient".to_owned()]);
    assert!(fake.job_puts() >= 2, "the job PUT was retried");
    assert_eq!(fake.component_versions().len(), 3);
    assert!(fake.component_puts() > 3, "component PUTs were retried");
    assert_eq!(fake.code_versions().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_like_files_are_reported_before_upload() {
    let Env {
        ws,
        fake: _fake,
        azurite: _azurite,
    } = env().await;
    let pipeline = build(with_secret);
    let (events, seen) = recorder();
    submit::submit(&ws, &pipeline, &[], &opts("secretive"), &events)
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    let warning = seen
        .iter()
        .find_map(|e| match e {
            SubmitEvent::SecretLikeFiles {
                files, ignore_file, ..
            } => Some((files.clone(), ignore_file.clone())),
            _ => None,
        })
        .expect("a warning about .env");
    assert_eq!(warning.0, vec![".env".to_owned()]);
    assert!(warning.1.ends_with("with_secret/.amlignore"));
    let text = format!("{seen:?}");
    assert!(!text.contains("planted-value"), "the content never shows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_local_input_is_named() {
    let Env {
        ws,
        fake: _fake,
        azurite: _azurite,
    } = env().await;
    let pipeline = build(compare_models);
    let values = pipeline
        .bind(
            &[],
            &[("iris".into(), "no/such/file.csv".into())],
            std::path::Path::new("/tmp"),
        )
        .unwrap();
    let (events, _) = recorder();
    let err = submit::submit(&ws, &pipeline, &values, &opts("x"), &events)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SubmitError::Data { .. }), "{err}");
    assert!(
        text.contains("input `iris`") && text.contains("no/such/file.csv"),
        "{text}"
    );
}

/// Lists a folder: a step whose input is a folder, which no example has.
#[step(
    command = "ls ${{inputs.data}} > ${{outputs.output}}/listing",
    environment = "azureml:AzureML-sklearn-1.5@latest"
)]
fn list_files(data: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline(default_compute = "aml-compute")]
fn folder_input(data: Data<UriFolder>) -> Data<UriFolder> {
    list_files(data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_the_upload_uri_submit_sends_for_a_folder() {
    use azureml_pipelines_runtime::cli::export::wire_context;
    use azureml_pipelines_runtime::wire::{self, WorkspaceScope};
    let env = env().await;
    let pipeline = build(folder_input);
    let cwd = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let inputs = [(
        "data".to_owned(),
        "../examples/compare_models/dataprep_src".to_owned(),
    )];
    let values = pipeline.bind(&[], &inputs, cwd).unwrap();
    let (events, _) = recorder();
    submit::submit(&env.ws, &pipeline, &values, &opts("folder_job"), &events)
        .await
        .unwrap();
    let job = env.fake.job("folder_job").unwrap();
    let sent = job["properties"]["inputs"]["data"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sent.starts_with("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
            && sent.ends_with("/dataprep_src/"),
        "{sent}"
    );

    // Export computes the same URI without a workspace.
    let partial = pipeline.bind_partial(&[], &inputs, cwd).unwrap();
    let ctx = wire_context(
        &pipeline,
        &partial,
        WorkspaceScope::default(),
        "workspaceblobstore",
        false,
    )
    .unwrap();
    let bodies = wire::rest_bodies(&pipeline, &partial, &ctx).unwrap();
    let exported = serde_json::to_value(&bodies.job).unwrap();
    assert_eq!(
        exported["properties"]["inputs"]["data"]["uri"],
        sent.as_str()
    );
}

async fn submitted(env: &Env, name: &str) {
    let pipeline = build(compare_models);
    let values = pipeline.bind(&[], &[], std::path::Path::new(".")).unwrap();
    let (events, _) = recorder();
    submit::submit(&env.ws, &pipeline, &values, &opts(name), &events)
        .await
        .unwrap();
}

fn follow_opts() -> FollowOptions {
    FollowOptions {
        interval: Duration::from_millis(5),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_reports_job_and_step_statuses_to_the_end() {
    let env = env().await;
    env.fake
        .set_job_status_script(&["NotStarted", "Running", "Running", "Completed"]);
    submitted(&env, "followed").await;
    let mut events = Vec::new();
    let done = submit::follow(&env.ws, "followed", &follow_opts(), |e| events.push(e))
        .await
        .unwrap();
    assert_eq!(done.status(), JobStatus::Completed);
    let jobs: Vec<JobStatus> = events
        .iter()
        .filter_map(|e| match e {
            FollowEvent::Job(s) => Some(*s),
            _ => None,
        })
        .collect();
    assert_eq!(
        jobs,
        vec![
            JobStatus::NotStarted,
            JobStatus::Running,
            JobStatus::Completed
        ]
    );
    let mut steps: Vec<String> = done.steps.iter().map(submit::step_name).collect();
    steps.sort();
    assert_eq!(steps, ["compare", "data_prep", "train"]);
    assert!(events.iter().any(|e| matches!(
        e,
        FollowEvent::Step { name, status } if name == "train" && status == "Completed"
    )));
    let outputs = submit::output_locations(&done.job);
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].0, "output");
    assert!(
        outputs[0].1.contains("/azureml/followed/output/"),
        "{outputs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_ends_following_with_failed() {
    let env = env().await;
    env.fake.set_job_status_script(&["Running", "Failed"]);
    submitted(&env, "doomed").await;
    let done = submit::follow(&env.ws, "doomed", &follow_opts(), |_| {})
        .await
        .unwrap();
    assert_eq!(done.status(), JobStatus::Failed);
    assert!(
        done.steps
            .iter()
            .all(|s| s.status.as_deref() == Some("Failed"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cancel_flag_asks_the_service_to_cancel() {
    let env = env().await;
    env.fake.set_job_status_script(&["Running"]);
    submitted(&env, "stopped").await;
    let opts = follow_opts();
    let flag = Arc::clone(&opts.cancel);
    let mut events = Vec::new();
    let mut polls = 0;
    let done = submit::follow(&env.ws, "stopped", &opts, |e| {
        if matches!(e, FollowEvent::Job(JobStatus::Running)) {
            polls += 1;
            flag.store(true, Ordering::SeqCst);
        }
        events.push(e);
    })
    .await
    .unwrap();
    assert_eq!(polls, 1);
    assert_eq!(done.status(), JobStatus::Canceled);
    assert!(events.contains(&FollowEvent::CancelRequested));
    assert_eq!(
        env.fake.requests_to("POST", "/jobs/stopped/cancel").len(),
        1
    );
}
