//! Retries, timeouts, error messages, token refresh and secret hygiene, against the fake Azure ML
//! over real HTTP.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::Url;
use azure_core::time::OffsetDateTime;
use azureml_pipelines_runtime::azure::arm::{RetryListener, join_bounded};
use azureml_pipelines_runtime::azure::auth::{AuthError, CredentialSource};
use azureml_pipelines_runtime::azure::{
    ArmClientOptions, ArmError, Credential, RetryConfig, Workspace, WorkspaceConfig,
};
use azureml_pipelines_testkit::fake_aml::{
    BlobBackend, FakeAmlOptions, FakeAzureMl, Fault, FaultRule,
};
use serde_json::{Value, json};

fn options() -> ArmClientOptions {
    ArmClientOptions {
        retry: RetryConfig {
            max_retries: 5,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(1),
            max_elapsed: Duration::from_secs(30),
        },
        request_timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(10),
        ..Default::default()
    }
}

fn config(fake: &FakeAzureMl) -> WorkspaceConfig {
    let o = fake.options();
    WorkspaceConfig::new(o.subscription_id, o.resource_group, o.workspace_name)
        .with_arm_endpoint(Url::parse(&fake.url()).unwrap())
}

fn workspace_with(
    fake: &FakeAzureMl,
    credential: Credential,
    options: ArmClientOptions,
) -> Workspace {
    Workspace::new(config(fake), credential, options).unwrap()
}

fn workspace(fake: &FakeAzureMl) -> Workspace {
    workspace_with(
        fake,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        options(),
    )
}

fn spec(name: &str) -> Value {
    json!({"name": name, "type": "command", "command": "python run.py"})
}

fn job_body(fake: &FakeAzureMl) -> Value {
    json!({"properties": {"jobType": "Pipeline", "experimentName": "exp",
        "computeId": format!("{}/computes/cpu-cluster", fake.workspace_id()),
        "inputs": {"n": {"jobInputType": "literal", "value": "1"}}, "jobs": {}}})
}

#[tokio::test]
async fn throttling_errors_and_dropped_connections_still_make_exactly_one_job() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.add_compute("cpu-cluster", "AmlCompute");
    fake.inject(FaultRule::new("PUT", "/jobs/job-r").fault(Fault::throttle_ms(20)));
    fake.inject(FaultRule::new("PUT", "/jobs/job-r").fault(Fault::unavailable()));
    fake.inject(FaultRule::new("PUT", "/jobs/job-r").fault(Fault::Drop));
    // The worst case: the job is created but the answer is lost; the retry must not make a
    // second job.
    fake.inject(FaultRule::new("PUT", "/jobs/job-r").fault(Fault::DropAfterProcessing));
    let ws = workspace(&fake);

    let job = ws
        .jobs()
        .create_or_update("job-r", &job_body(&fake))
        .await
        .unwrap();
    assert_eq!(job.name, "job-r");
    let puts = fake.requests_to("PUT", "/jobs/job-r");
    let faults: Vec<_> = puts.iter().map(|r| r.fault.clone()).collect();
    assert_eq!(
        faults,
        [
            Some("status 429".to_owned()),
            Some("status 503".to_owned()),
            Some("dropped connection".to_owned()),
            Some("dropped connection after processing".to_owned()),
            None
        ]
    );
    assert!(puts.iter().all(|r| r.body == job_body(&fake)));
    assert_eq!(fake.job_names(), ["job-r"]);
    assert_eq!(
        fake.job_puts(),
        2,
        "created once, then updated in place by the retry"
    );
}

#[tokio::test]
async fn concurrent_component_puts_under_faults_make_no_duplicate_versions() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.inject(
        FaultRule::new("PUT", "/components/")
            .fault(Fault::unavailable())
            .times(3),
    );
    fake.inject(
        FaultRule::new("PUT", "/components/")
            .fault(Fault::Drop)
            .times(2),
    );
    fake.inject(
        FaultRule::new("PUT", "/components/")
            .fault(Fault::DropAfterProcessing)
            .times(2),
    );
    fake.inject(
        FaultRule::new("PUT", "/components/")
            .fault(Fault::throttle_ms(10))
            .times(2),
    );
    fake.set_latency(Duration::from_millis(5));
    let ws = workspace(&fake);
    let versions: Vec<String> = (0..8).map(|i| format!("v{i}")).collect();
    let specs: Vec<Value> = versions.iter().map(|v| spec(v)).collect();
    let results = join_bounded(
        4,
        versions
            .iter()
            .zip(&specs)
            .map(|(v, s)| ws.components().create_or_update_anonymous(v, s)),
    )
    .await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let mut stored = fake.component_versions();
    stored.sort();
    let expected: Vec<(String, String)> = versions
        .iter()
        .map(|v| ("azureml_anonymous".to_owned(), v.clone()))
        .collect();
    assert_eq!(stored, expected);
    assert_eq!(fake.requests_to("PUT", "/components/").len(), 8 + 9);
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.inject(FaultRule::new("GET", "/workspaces/ws").fault(Fault::throttle_secs(1)));
    let ws = workspace(&fake);
    let started = Instant::now();
    ws.get().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests_to("GET", "/workspaces/ws").len(), 2);
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    logs();
    let fake = FakeAzureMl::start().await;
    let at = SystemTime::now() + Duration::from_secs(2);
    fake.inject(FaultRule::new("GET", "/workspaces/ws").fault(Fault::throttle_until(at)));
    let ws = workspace(&fake);
    let started = Instant::now();
    ws.get().await.unwrap();
    // HTTP dates have one-second resolution.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.inject(FaultRule::new("GET", "/datastores").fault(Fault::Delay(Duration::from_secs(5))));
    let ws = workspace_with(
        &fake,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        ArmClientOptions {
            request_timeout: Duration::from_millis(300),
            ..options()
        },
    );
    let started = Instant::now();
    let stores = ws.datastores().list().await.unwrap();
    assert_eq!(stores.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests_to("GET", "/datastores").len(), 2);
}

#[tokio::test]
async fn retries_give_up_with_a_service_error_and_a_hint() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.inject(
        FaultRule::new("GET", "/computes")
            .fault(Fault::unavailable())
            .times(100),
    );
    let ws = workspace_with(
        &fake,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        ArmClientOptions {
            retry: RetryConfig {
                max_retries: 2,
                ..options().retry
            },
            ..options()
        },
    );
    let err = ws.computes().list().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    let text = err.to_string();
    assert!(
        text.contains("list computes failed: HTTP 503 ServiceUnavailable"),
        "{text}"
    );
    assert!(text.contains("after several retries"), "{text}");
    assert!(text.contains("request id fake-request-id"), "{text}");
    assert_eq!(fake.requests_to("GET", "/computes").len(), 3);
}

#[tokio::test]
async fn unauthorized_says_how_to_sign_in() {
    logs();
    let fake = FakeAzureMl::start().await;
    let ws = workspace_with(
        &fake,
        Credential::from_static_token("not-accepted"),
        options(),
    );
    let err = ws.get().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("ExpiredAuthenticationToken"));
    assert!(err.to_string().contains("az login"), "{err}");
    let sent = fake.requests_to("GET", "/workspaces/ws");
    assert_eq!(sent.len(), 2, "one retry with a fresh token");
    assert_eq!(sent[0].token_label.as_deref(), Some("<rejected>"));
}

#[tokio::test]
async fn forbidden_names_the_missing_permission() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.add_compute("cpu-cluster", "AmlCompute");
    fake.inject(FaultRule::new("PUT", "/jobs/").fault(Fault::arm_error(
        403,
        "AuthorizationFailed",
        "The client 'someone@example.com' with object id '1234' does not have authorization to \
         perform action 'Microsoft.MachineLearningServices/workspaces/jobs/write' over scope \
         '/subscriptions/x' or the scope is invalid.",
    )));
    let ws = workspace(&fake);
    let err = ws
        .jobs()
        .create_or_update("j", &job_body(&fake))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    let text = err.to_string();
    assert!(
        text.contains("PUT jobs/j failed: HTTP 403 AuthorizationFailed"),
        "{text}"
    );
    assert!(
        text.contains("not allowed `Microsoft.MachineLearningServices/workspaces/jobs/write`"),
        "{text}"
    );
    assert!(text.contains("AzureML Data Scientist"), "{text}");
}

#[tokio::test]
async fn unknown_compute_lists_the_computes_that_exist() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.add_compute("cpu-cluster", "AmlCompute");
    fake.add_compute("my-ci", "ComputeInstance");
    let ws = workspace(&fake);

    let err = ws.computes().get("gpu-cluster").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let text = err.to_string();
    assert!(
        text.contains("no compute `gpu-cluster` in workspace `ws`"),
        "{text}"
    );
    assert!(
        text.contains("cpu-cluster (AmlCompute), my-ci (ComputeInstance)"),
        "{text}"
    );

    let mut body = job_body(&fake);
    body["properties"]["computeId"] =
        json!(format!("{}/computes/gpu-cluster", fake.workspace_id()));
    let err = ws.jobs().create_or_update("j", &body).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    let text = err.to_string();
    assert!(
        text.contains("cpu-cluster (AmlCompute), my-ci (ComputeInstance)"),
        "{text}"
    );
    assert!(fake.job_names().is_empty());
}

#[tokio::test]
async fn plain_http_to_a_non_loopback_host_is_refused_before_sending() {
    logs();
    let config = WorkspaceConfig::new("s", "r", "w")
        .with_arm_endpoint(Url::parse("http://management.example.invalid").unwrap());
    let ws = Workspace::new(config, Credential::from_static_token("t"), options()).unwrap();
    let err = ws.get().await.unwrap_err();
    assert!(
        matches!(err, ArmError::Auth(AuthError::InsecureEndpoint { .. })),
        "{err:?}"
    );
}

/// Hands out `tok-1`, `tok-2`, … valid for `lifetime`, counting calls.
#[derive(Debug)]
struct CountingCredential {
    calls: AtomicUsize,
    lifetime: Duration,
}

#[async_trait::async_trait]
impl TokenCredential for CountingCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(AccessToken::new(
            format!("tok-{n}"),
            OffsetDateTime::now_utc() + self.lifetime,
        ))
    }
}

fn counting(fake: &FakeAzureMl, lifetime: Duration) -> (Arc<CountingCredential>, Workspace) {
    for n in 1..=10 {
        fake.accept_token(&format!("tok-{n}"), &format!("tok-{n}"));
    }
    let credential = Arc::new(CountingCredential {
        calls: AtomicUsize::new(0),
        lifetime,
    });
    let ws = workspace_with(
        fake,
        Credential::from_token_credential("counting", credential.clone()),
        options(),
    );
    (credential, ws)
}

#[tokio::test]
async fn tokens_are_cached_until_close_to_expiry() {
    logs();
    let fake = FakeAzureMl::start().await;
    let (credential, ws) = counting(&fake, Duration::from_secs(3600));
    for _ in 0..3 {
        ws.computes().list().await.unwrap();
    }
    assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
    let labels: Vec<_> = fake.requests().into_iter().map(|r| r.token_label).collect();
    assert_eq!(labels, vec![Some("tok-1".to_owned()); 3]);
}

#[tokio::test]
async fn tokens_close_to_expiry_are_refreshed() {
    logs();
    let fake = FakeAzureMl::start().await;
    // Valid for 60 s: inside the five-minute refresh margin, so every call fetches anew.
    let (credential, ws) = counting(&fake, Duration::from_secs(60));
    for _ in 0..3 {
        ws.computes().list().await.unwrap();
    }
    assert_eq!(credential.calls.load(Ordering::SeqCst), 3);
    let labels: Vec<_> = fake
        .requests()
        .into_iter()
        .map(|r| r.token_label.unwrap())
        .collect();
    assert_eq!(labels, ["tok-1", "tok-2", "tok-3"]);
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once() {
    logs();
    let fake = FakeAzureMl::start().await;
    let (credential, ws) = counting(&fake, Duration::from_secs(3600));
    ws.computes().list().await.unwrap();
    fake.revoke_token("tok-1");
    ws.computes().list().await.unwrap();
    assert_eq!(credential.calls.load(Ordering::SeqCst), 2);
    let labels: Vec<_> = fake
        .requests()
        .into_iter()
        .map(|r| r.token_label.unwrap())
        .collect();
    assert_eq!(labels, ["tok-1", "<rejected>", "tok-2"]);
}

#[tokio::test]
async fn the_chain_reports_every_source_and_its_fix() {
    logs();
    let env: HashMap<&str, &str> = HashMap::from([("AZURE_CLIENT_ID", "app")]);
    let credential = Credential::chain_from_env(
        &[
            CredentialSource::EnvironmentServicePrincipal,
            CredentialSource::WorkloadIdentity,
        ],
        &env,
    );
    let err = credential
        .token("https://management.azure.com/.default")
        .await
        .unwrap_err();
    let AuthError::NoCredential { attempts } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(attempts.len(), 2);
    let text = err.to_string();
    assert!(
        text.contains(
            "service principal (environment): not configured: AZURE_TENANT_ID is not set"
        ),
        "{text}"
    );
    assert!(
        text.contains("workload identity: not configured: AZURE_FEDERATED_TOKEN_FILE is not set"),
        "{text}"
    );
    assert!(text.contains("AZURE_CLIENT_SECRET"), "{text}");
}

#[tokio::test]
async fn the_test_token_variable_short_cuts_the_chain() {
    logs();
    let env: HashMap<&str, &str> = HashMap::from([("AZUREML_TEST_TOKEN", "from-env")]);
    let credential = Credential::chain_from_env(&CredentialSource::DEFAULT_ORDER, &env);
    let token = credential
        .token("https://management.azure.com/.default")
        .await
        .unwrap();
    assert_eq!(token.expose(), "from-env");
}

/// A `MakeWriter` collecting every log line in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every log line of this test binary (all tests), at TRACE level. A process-wide subscriber,
/// because a thread-local one misses callsites first hit on other test threads.
fn logs() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
        logs
    })
    .clone()
}

#[tokio::test]
async fn planted_secrets_never_appear_in_debug_display_errors_or_logs() {
    const CLIENT_SECRET: &str = "planted-client-secret-7Q";
    const ACCOUNT_KEY: &str = "planted-account-key-Zm9v";
    const SAS_SIG: &str = "planted-sas-sig-YmFy";
    const BEARER: &str = "planted-bearer-token-QUJD";

    let logs = logs();

    let fake = FakeAzureMl::start_with(FakeAmlOptions {
        blob: BlobBackend {
            account_key: ACCOUNT_KEY.into(),
            sas_token: format!("sv=2024-08-04&sr=c&sp=rwl&sig={SAS_SIG}"),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    fake.accept_token("planted", BEARER);
    fake.add_compute("cpu-cluster", "AmlCompute");
    let ws = workspace_with(&fake, Credential::from_static_token(BEARER), options());

    let mut shown = Vec::new();
    // A service principal built from the environment (never asked for a token here).
    let env: HashMap<&str, &str> = HashMap::from([
        ("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("AZURE_CLIENT_ID", "app"),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
    ]);
    let chain = Credential::chain_from_env(&[CredentialSource::EnvironmentServicePrincipal], &env);
    shown.push(format!("{chain:?}"));
    // A chain that fails, with the secret in the environment.
    let env_no_tenant: HashMap<&str, &str> = HashMap::from([
        ("AZURE_CLIENT_ID", "app"),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
    ]);
    let failing = Credential::chain_from_env(
        &[CredentialSource::EnvironmentServicePrincipal],
        &env_no_tenant,
    );
    let err = failing
        .token("https://management.azure.com/.default")
        .await
        .unwrap_err();
    shown.push(format!("{err} {err:?}"));

    shown.push(format!("{ws:?}"));
    let secrets = ws
        .datastores()
        .list_secrets("workspaceblobstore")
        .await
        .unwrap();
    shown.push(format!("{secrets:?}"));
    let upload = ws.codes().start_pending_upload("c", "1").await.unwrap();
    shown.push(format!(
        "{upload:?} {} {:?}",
        upload.sas_uri, upload.sas_uri
    ));
    assert!(
        upload.sas_uri.expose().contains(SAS_SIG),
        "the real value is still reachable"
    );
    let job = ws
        .jobs()
        .create_or_update("j", &job_body(&fake))
        .await
        .unwrap();
    shown.push(format!("{job:?}"));
    fake.inject(FaultRule::new("GET", "/jobs/j").fault(Fault::arm_error(
        403,
        "AuthorizationFailed",
        "no",
    )));
    let err = ws.jobs().get("j").await.unwrap_err();
    shown.push(format!("{err} {err:?}"));
    shown.push(format!("{:?}", fake.requests()));

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("sending"), "logs were captured: {logged}");
    shown.push(logged);
    for text in &shown {
        for secret in [CLIENT_SECRET, ACCOUNT_KEY, SAS_SIG, BEARER] {
            assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
        }
    }
}

/// Options from the documented variables (`AZUREML_REQUEST_TIMEOUT`, ...), as a command reads them,
/// with every retry notice collected.
fn options_from(vars: &[(&str, &str)]) -> (ArmClientOptions, Arc<Mutex<Vec<String>>>) {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let seen = notices.clone();
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let options = ArmClientOptions {
        on_retry: RetryListener::new(move |n| seen.lock().unwrap().push(n.to_string())),
        ..ArmClientOptions::with_overrides(|k| vars.get(k).cloned()).unwrap()
    };
    (options, notices)
}

#[tokio::test]
async fn a_huge_retry_after_is_not_slept_and_the_error_says_why() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.inject(
        FaultRule::new("GET", "/workspaces/ws")
            .fault(Fault::throttle_secs(100_000))
            .times(50),
    );
    // The default budget: no short knobs needed, the answer comes at once.
    let (options, notices) = options_from(&[]);
    let ws = workspace_with(
        &fake,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        options,
    );
    let started = Instant::now();
    let err = ws.get().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert_eq!(err.status(), Some(429), "{text}");
    assert!(text.contains("asked to wait 100000 s"), "{text}");
    assert!(text.contains("AZUREML_RETRY_BUDGET"), "{text}");
    assert_eq!(fake.requests_to("GET", "/workspaces/ws").len(), 1);
    assert!(notices.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_waits_the_cap_and_is_announced() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.inject(FaultRule::new("GET", "/workspaces/ws").fault(Fault::throttle_secs(20)));
    let (options, notices) = options_from(&[("AZUREML_MAX_RETRY_WAIT", "0.2")]);
    let ws = workspace_with(
        &fake,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        options,
    );
    let started = Instant::now();
    ws.get().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let notices = notices.lock().unwrap().clone();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].starts_with("429 from ")
            && notices[0].ends_with("; retrying in 200 ms, attempt 2 of 11"),
        "{notices:?}"
    );
    let logged = String::from_utf8(logs().0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains(&notices[0]), "the notice is also logged");
}

#[tokio::test]
async fn a_hang_times_out_each_try_and_gives_up_within_the_budget() {
    logs();
    let fake = FakeAzureMl::start().await;
    fake.inject(
        FaultRule::new("GET", "/workspaces/ws")
            .fault(Fault::Delay(Duration::from_secs(3600)))
            .times(100),
    );
    let (mut options, notices) = options_from(&[
        ("AZUREML_REQUEST_TIMEOUT", "0.3"),
        ("AZUREML_RETRY_BUDGET", "1.5"),
    ]);
    options.notice_every = Duration::from_millis(100);
    let ws = workspace_with(
        &fake,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        options,
    );
    let started = Instant::now();
    let err = ws.get().await.unwrap_err();
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    let text = err.to_string();
    assert!(matches!(err, ArmError::Transport { .. }), "{err:?}");
    assert!(text.contains("no answer within"), "{text}");
    assert!(text.contains("AZUREML_REQUEST_TIMEOUT"), "{text}");
    let notices = notices.lock().unwrap().clone();
    assert!(!notices.is_empty(), "each retry is announced");
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("no answer within 300 ms from GET ")),
        "each retry is announced: {notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("no answer yet from GET ")
                && n.ends_with("; this try is given up after 300 ms")),
        "a long wait is announced before it ends: {notices:?}"
    );
}

#[test]
fn time_limits_from_the_environment_are_checked() {
    for (name, value) in [
        ("AZUREML_REQUEST_TIMEOUT", "1e300"),
        ("AZUREML_RETRY_BUDGET", "-1"),
        ("AZUREML_MAX_RETRY_WAIT", "soon"),
        ("AZUREML_MAX_RETRIES", "1000"),
    ] {
        let err = ArmClientOptions::with_overrides(|k| (k == name).then(|| value.to_owned()))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(name) && text.contains(value), "{text}");
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn service_principal_env(authority: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        (
            "AZURE_TENANT_ID",
            "72f988bf-86f1-41af-91ab-2d7cd011db47".to_owned(),
        ),
        ("AZURE_CLIENT_ID", "app".to_owned()),
        ("AZURE_CLIENT_SECRET", "planted-sp-secret-R2Vo".to_owned()),
        ("AZURE_AUTHORITY_HOST", authority.to_owned()),
        ("AZUREML_CREDENTIAL_TIMEOUT", "0.5".to_owned()),
    ])
}

#[tokio::test]
async fn a_refused_token_endpoint_is_named_at_once() {
    logs();
    let env = service_principal_env(&format!("https://127.0.0.1:{}", closed_port()));
    let env: HashMap<&str, &str> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let credential = Credential::chain_from_env(
        &[
            CredentialSource::EnvironmentServicePrincipal,
            CredentialSource::WorkloadIdentity,
        ],
        &env,
    );
    let started = Instant::now();
    let err = credential
        .token(azureml_pipelines_runtime::azure::auth::ARM_SCOPE)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(
        text.contains("service principal (environment): connection refused"),
        "{text}"
    );
    assert!(text.contains("workload identity: not configured"), "{text}");
    assert!(!text.contains("planted-sp-secret-R2Vo"), "{text}");
}

#[tokio::test]
async fn a_token_endpoint_that_never_answers_is_bounded_and_the_chain_runs_once() {
    logs();
    // Accepts connections and never answers (not even the TLS handshake).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    let env = service_principal_env(&format!("https://127.0.0.1:{port}"));
    let env: HashMap<&str, &str> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let credential =
        Credential::chain_from_env(&[CredentialSource::EnvironmentServicePrincipal], &env);
    let started = Instant::now();
    let scope = azureml_pipelines_runtime::azure::auth::ARM_SCOPE;
    let results = join_bounded(3, (0..3).map(|_| credential.token(scope))).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for result in &results {
        let text = result.as_ref().unwrap_err().to_string();
        assert!(
            text.contains("service principal (environment): no answer within 500 ms"),
            "{text}"
        );
    }
    // The outcome is kept: a later call fails at once without another login.
    let again = Instant::now();
    credential.token(scope).await.unwrap_err();
    assert!(
        again.elapsed() < Duration::from_millis(400),
        "{:?}",
        again.elapsed()
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "one login attempt for every request"
    );
    server.abort();
}

#[tokio::test]
async fn service_errors_that_quote_secrets_are_redacted_everywhere() {
    const ACCOUNT_KEY: &str = "cGxhbnRlZC1rZXktaW4tZXJyb3I=";
    const SAS_SIG: &str = "planted-sig-in-error-UVJT";
    const BEARER: &str = "planted-bearer-in-error-WFla";
    let logs = logs();
    let fake = FakeAzureMl::start_with(FakeAmlOptions {
        blob: BlobBackend {
            account_key: ACCOUNT_KEY.into(),
            sas_token: format!("sv=2024-08-04&sr=c&sp=rwl&sig={SAS_SIG}"),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    fake.accept_token("planted", BEARER);
    let (options, notices) = options_from(&[
        ("AZUREML_RETRY_BUDGET", "1"),
        ("AZUREML_MAX_RETRY_WAIT", "0.05"),
    ]);
    let ws = workspace_with(&fake, Credential::from_static_token(BEARER), options);
    // The process now holds the account key, as `submit` does.
    ws.datastores()
        .list_secrets("workspaceblobstore")
        .await
        .unwrap();
    let quoting = format!(
        "Invalid uri https://acct.blob.core.windows.net/c/x?sv=2024-08-04&sig={SAS_SIG}&sp=r \
         (account key {ACCOUNT_KEY}); request had Authorization: Bearer {BEARER}"
    );
    let mut shown = Vec::new();
    // A 400 with an ARM body, message, target and details all quoting secrets.
    fake.inject(
        FaultRule::new("PUT", "/jobs/leaky").fault(Fault::Respond {
            status: 400,
            headers: Vec::new(),
            body: json!({"error": {"code": "UserError", "message": quoting, "target": quoting,
            "details": [{"code": "Inner", "message": quoting}]}})
            .to_string(),
        }),
    );
    let err = ws
        .jobs()
        .create_or_update("leaky", &job_body(&fake))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    shown.push(format!("{err} {err:?}"));
    // A retried 503 whose body is not JSON, until the budget is spent.
    fake.inject(
        FaultRule::new("GET", "/jobs/leaky")
            .fault(Fault::Respond {
                status: 503,
                headers: Vec::new(),
                body: format!("<html>upstream said: {quoting}</html>"),
            })
            .times(1000),
    );
    let err = ws.jobs().get("leaky").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    shown.push(format!("{err} {err:?}"));
    assert!(shown.iter().all(|s| s.contains("<redacted>")), "{shown:?}");
    shown.extend(notices.lock().unwrap().iter().cloned());
    shown.push(String::from_utf8(logs.0.lock().unwrap().clone()).unwrap());
    for text in &shown {
        for secret in [ACCOUNT_KEY, SAS_SIG, BEARER] {
            assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
        }
    }
}
