//! A fake Azure ML server over real HTTP.
//!
//! [`FakeAzureMl::start`] listens on `127.0.0.1:0` and speaks the subset of the Azure ML control
//! plane (ARM, `Microsoft.MachineLearningServices`) and run-history API the client uses, with
//! in-memory state:
//!
//! | path under `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}` | verbs |
//! |---|---|
//! | `` (the workspace) | GET |
//! | `/data/{n}`, `/data/{n}/versions/{v}` (seeded with `add_data_version`) | GET, GET |
//! | `/datastores` (`isDefault=true` filter), `/datastores/{n}`, `/datastores/{n}/listSecrets` | GET, GET, POST |
//! | `/codes/{n}/versions` (`hash`, `hashVersion` filter across names), `/codes/{n}/versions/{v}`, `…/startPendingUpload` | GET, PUT/GET, POST |
//! | `/components/{n}/versions/{v}` | PUT/GET |
//! | `/jobs` (paged), `/jobs/{n}`, `/jobs/{n}/cancel` (202 + `Location`) | GET, PUT/GET, POST |
//! | `/computes`, `/computes/{n}` (PUT: 201 + `Azure-AsyncOperation`) | GET, GET/PUT |
//!
//! plus `/discovery` (no token) and
//! `/history/v1.0/subscriptions/…/workspaces/{ws}/runs/{id}/children` (paged).
//!
//! Every request is recorded ([`FakeAzureMl::requests`]) with `Authorization` and
//! `x-azureml-token` redacted; which registered token it carried is kept as a label. Bodies are
//! checked against the REST contract (required fields; `jobType`, `jobInputType`,
//! `jobOutputType`, delivery modes, `computeType`, `pendingUploadType` enum values of api-version
//! 2025-12-01) and rejected with 400 and an ARM error body when wrong. Requests without an
//! accepted bearer token get 401; ARM requests without `api-version` get 400.
//!
//! Faults are injected per path with [`FakeAzureMl::inject`] (429 with `Retry-After`, 503, any ARM
//! error, dropped connections, slow answers, each for N requests) and
//! [`FakeAzureMl::set_latency`] adds a delay to every request.
//!
//! Jobs go through a scripted status progression, one step per `GET`
//! (`NotStarted` → `Running` → `Completed` by default, see [`FakeAzureMl::set_job_status_script`]);
//! a pipeline job gets one child run per node of its `jobs`, each with the status the last job
//! `GET` answered.
//!
//! ```no_run
//! # async fn demo() {
//! use azureml_pipelines_testkit::fake_aml::{Fault, FaultRule, FakeAzureMl};
//! let fake = FakeAzureMl::start().await;
//! fake.inject(FaultRule::new("PUT", "/jobs/").fault(Fault::throttle_secs(1)).times(2));
//! // point the client at fake.url() with token FakeAzureMl::DEFAULT_TOKEN …
//! assert_eq!(fake.requests().len(), 0);
//! # }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod codes;
mod components;
mod computes;
mod data;
mod datastores;
mod history;
mod jobs;
mod operations;
mod router;
mod validate;
mod workspace;

use validate::enums;

const PROVIDER: &str = "Microsoft.MachineLearningServices";

/// The blob storage behind the fake's default datastore and `startPendingUpload` (e.g. an
/// Azurite started by [`crate::azurite`]).
#[derive(Clone)]
pub struct BlobBackend {
    /// Blob service URL, e.g. `http://127.0.0.1:10000/devstoreaccount1`.
    pub endpoint: String,
    /// Storage account name.
    pub account_name: String,
    /// Account key returned by `listSecrets`.
    pub account_key: String,
    /// Container used by the default datastore and handed out by `startPendingUpload`.
    pub container: String,
    /// SAS query string (without `?`) appended to the container URL by `startPendingUpload`.
    pub sas_token: String,
}

impl std::fmt::Debug for BlobBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobBackend")
            .field("endpoint", &self.endpoint)
            .field("account_name", &self.account_name)
            .field("container", &self.container)
            .finish_non_exhaustive()
    }
}

impl BlobBackend {
    /// A running Azurite as the blob storage, with `container` (which must exist) behind the
    /// default datastore and `startPendingUpload`, and an account SAS for the latter.
    pub fn from_azurite(azurite: &crate::azurite::Azurite, container: &str) -> Self {
        Self {
            endpoint: azurite.blob_endpoint().to_owned(),
            account_name: azurite.account_name().to_owned(),
            account_key: azurite.account_key().to_owned(),
            container: container.to_owned(),
            sas_token: azurite.account_sas(),
        }
    }
}

impl Default for BlobBackend {
    /// Azurite's well-known development account on its default port.
    fn default() -> Self {
        Self {
            endpoint: "http://127.0.0.1:10000/devstoreaccount1".into(),
            account_name: "devstoreaccount1".into(),
            account_key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==".into(),
            container: "azureml-blobstore-fake".into(),
            sas_token: "sv=2024-08-04&sr=c&sp=rwl&se=2099-01-01T00%3A00%3A00Z&sig=FAKESIG".into(),
        }
    }
}

/// How to start a [`FakeAzureMl`].
#[derive(Debug, Clone)]
pub struct FakeAmlOptions {
    /// Subscription id the fake answers for.
    pub subscription_id: String,
    /// Resource group.
    pub resource_group: String,
    /// Workspace name.
    pub workspace_name: String,
    /// Workspace region.
    pub location: String,
    /// Blob storage for the default datastore and uploads.
    pub blob: BlobBackend,
    /// Items per page of list answers (jobs, run children, datastores, computes, codes).
    pub page_size: usize,
    /// How many polls a long-running operation stays in progress.
    pub operation_polls: usize,
}

impl Default for FakeAmlOptions {
    fn default() -> Self {
        Self {
            subscription_id: "00000000-0000-0000-0000-000000000000".into(),
            resource_group: "rg".into(),
            workspace_name: "ws".into(),
            location: "eastus".into(),
            blob: BlobBackend::default(),
            page_size: 50,
            operation_polls: 1,
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `PUT`.
    pub method: String,
    /// Path, percent-decoded.
    pub path: String,
    /// Query parameters, decoded.
    pub query: BTreeMap<String, String>,
    /// Headers, lower-case names; `authorization` and `x-azureml-token` values are `<redacted>`.
    pub headers: BTreeMap<String, String>,
    /// Label of the registered bearer token the request carried (`Some("<rejected>")` when it
    /// carried one the fake does not accept, `None` when none).
    pub token_label: Option<String>,
    /// Label of the registered token in `x-azureml-token`, if any.
    pub aml_token_label: Option<String>,
    /// JSON body (`Value::Null` when empty, a string when not JSON).
    pub body: Value,
    /// The fault answered instead of the normal answer, if one was injected.
    pub fault: Option<String>,
}

/// What to do instead of answering normally.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status, headers and body.
    Respond {
        /// Status.
        status: u16,
        /// Headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: String,
    },
    /// Close the connection after reading the request, without answering (nothing is done).
    Drop,
    /// Handle the request (state changes happen), then close the connection without answering:
    /// the client cannot know whether it worked.
    DropAfterProcessing,
    /// Wait this long, then answer normally.
    Delay(Duration),
}

impl Fault {
    /// 429 with `Retry-After: <secs>`.
    pub fn throttle_secs(secs: u64) -> Self {
        Self::throttle_with(("retry-after", secs.to_string()))
    }

    /// 429 with `retry-after-ms: <ms>`.
    pub fn throttle_ms(ms: u64) -> Self {
        Self::throttle_with(("retry-after-ms", ms.to_string()))
    }

    /// 429 with `Retry-After: <HTTP date>`.
    pub fn throttle_until(at: SystemTime) -> Self {
        Self::throttle_with(("retry-after", httpdate::fmt_http_date(at)))
    }

    fn throttle_with((name, value): (&str, String)) -> Self {
        Self::Respond {
            status: 429,
            headers: vec![(name.to_owned(), value)],
            body: arm_error_body(
                "TooManyRequests",
                "The request is being throttled as the limit has been reached for operation type.",
                None,
            ),
        }
    }

    /// 503 with an ARM error body and no `Retry-After`.
    pub fn unavailable() -> Self {
        Self::arm_error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable.",
        )
    }

    /// Any status with an ARM error body `{"error": {"code", "message"}}`.
    pub fn arm_error(status: u16, code: &str, message: &str) -> Self {
        Self::Respond {
            status,
            headers: Vec::new(),
            body: arm_error_body(code, message, None),
        }
    }

    fn describe(&self) -> String {
        match self {
            Fault::Respond { status, .. } => format!("status {status}"),
            Fault::Drop => "dropped connection".into(),
            Fault::DropAfterProcessing => "dropped connection after processing".into(),
            Fault::Delay(d) => format!("delay {d:?}"),
        }
    }
}

/// A fault for the next `times` requests whose method and path match.
#[derive(Debug, Clone)]
pub struct FaultRule {
    method: Option<String>,
    path_contains: String,
    fault: Fault,
    times: usize,
}

impl FaultRule {
    /// Matches requests with this method (`"*"` for any) whose path contains `path_contains`.
    /// Defaults to 503, once.
    pub fn new(method: &str, path_contains: &str) -> Self {
        Self {
            method: (method != "*").then(|| method.to_ascii_uppercase()),
            path_contains: path_contains.to_owned(),
            fault: Fault::unavailable(),
            times: 1,
        }
    }

    /// The fault to answer with.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    /// How many matching requests get the fault.
    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }
}

#[derive(Debug, Clone)]
struct JobState {
    body: Value,
    gets: usize,
    canceled: bool,
}

#[derive(Debug)]
struct Operation {
    polls_left: usize,
    kind: OperationKind,
}

#[derive(Debug)]
enum OperationKind {
    Compute(String),
    Cancel,
}

struct State {
    options: FakeAmlOptions,
    base: String,
    tokens: HashMap<String, String>,
    requests: Vec<RecordedRequest>,
    faults: Vec<FaultRule>,
    latency: Duration,
    status_script: Vec<String>,
    datastores: BTreeMap<String, Value>,
    codes: BTreeMap<(String, String), Value>,
    components: BTreeMap<(String, String), Value>,
    component_puts: usize,
    jobs: BTreeMap<String, JobState>,
    job_puts: usize,
    computes: BTreeMap<String, Value>,
    /// Data asset versions by (name, version), in the order they were created.
    data: Vec<((String, String), Value)>,
    operations: HashMap<String, Operation>,
    next_id: u64,
    pipelines_url: Option<String>,
}

/// A running fake Azure ML server. Stops when dropped.
pub struct FakeAzureMl {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeAzureMl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAzureMl")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeAzureMl {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAzureMl {
    /// The bearer token the fake accepts out of the box (label `default`).
    pub const DEFAULT_TOKEN: &'static str = "fake-arm-token";

    /// Starts a fake with [`FakeAmlOptions::default`].
    pub async fn start() -> Self {
        Self::start_with(FakeAmlOptions::default()).await
    }

    /// Starts a fake with the given options. Panics if no loopback port can be bound.
    pub async fn start_with(options: FakeAmlOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let base = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State::new(options, base)));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    // A service error (an injected `Drop`) closes the connection unanswered.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// Starts a fake whose default datastore and `startPendingUpload` use `container` (created
    /// here) in `azurite`, with default options otherwise.
    pub async fn start_on_azurite(azurite: &crate::azurite::Azurite, container: &str) -> Self {
        azurite.create_container(container).await;
        Self::start_with(FakeAmlOptions {
            blob: BlobBackend::from_azurite(azurite, container),
            ..Default::default()
        })
        .await
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://127.0.0.1:<port>`: the ARM endpoint to point the client at.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The workspace's ARM id.
    pub fn workspace_id(&self) -> String {
        self.state().workspace_id()
    }

    /// The options the fake was started with.
    pub fn options(&self) -> FakeAmlOptions {
        self.state().options.clone()
    }

    /// Accepts `token` as a bearer token (ARM or Azure ML), recorded under `label`.
    pub fn accept_token(&self, label: &str, token: &str) {
        self.state()
            .tokens
            .insert(token.to_owned(), label.to_owned());
    }

    /// Stops accepting `token` (requests carrying it get 401 `ExpiredAuthenticationToken`).
    pub fn revoke_token(&self, token: &str) {
        self.state().tokens.remove(token);
    }

    /// Adds a fault rule (rules are tried in the order added).
    pub fn inject(&self, rule: FaultRule) {
        self.state().faults.push(rule);
    }

    /// The `pipelines` URL `/discovery` answers (default: this server), e.g. a
    /// [`crate::fake_pipelines_v1::FakePipelinesV1`].
    pub fn set_pipelines_url(&self, url: &str) {
        self.state().pipelines_url = Some(url.to_owned());
    }

    /// Delay added before answering every request.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// The statuses a job goes through, one per `GET` (the last one stays). Must be `JobStatus`
    /// values.
    pub fn set_job_status_script(&self, statuses: &[&str]) {
        assert!(
            !statuses.is_empty() && statuses.iter().all(|s| enums::JOB_STATUS.contains(s)),
            "job statuses must be JobStatus values"
        );
        self.state().status_script = statuses.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Adds a compute (`computeType` e.g. `AmlCompute`), provisioned.
    pub fn add_compute(&self, name: &str, compute_type: &str) {
        let mut state = self.state();
        let id = format!("{}/computes/{name}", state.workspace_id());
        let location = state.options.location.clone();
        state.computes.insert(
            name.to_owned(),
            json!({"id": id, "name": name, "type": "Microsoft.MachineLearningServices/workspaces/computes",
                   "location": location,
                   "properties": {"computeType": compute_type, "provisioningState": "Succeeded"}}),
        );
    }

    /// Registers a data asset version (`data/{name}/versions/{version}`) pointing at `uri`; the
    /// latest version of an asset is the one added last.
    pub fn add_data_version(&self, name: &str, version: &str, data_type: &str, uri: &str) {
        let mut state = self.state();
        let id = format!("{}/data/{name}/versions/{version}", state.workspace_id());
        let body = json!({"id": id, "name": version,
            "type": "Microsoft.MachineLearningServices/workspaces/data/versions",
            "properties": {"dataType": data_type, "dataUri": uri, "isAnonymous": false,
                           "isArchived": false}});
        state
            .data
            .retain(|(k, _)| *k != (name.to_owned(), version.to_owned()));
        state
            .data
            .push(((name.to_owned(), version.to_owned()), body));
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// Requests with this method whose path contains `path_contains`.
    pub fn requests_to(&self, method: &str, path_contains: &str) -> Vec<RecordedRequest> {
        self.state()
            .requests
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.contains(path_contains))
            .cloned()
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state().requests.clear();
    }

    /// Names of the jobs that exist.
    pub fn job_names(&self) -> Vec<String> {
        self.state().jobs.keys().cloned().collect()
    }

    /// The stored body of job `name` (as last PUT, plus server fields).
    pub fn job(&self, name: &str) -> Option<Value> {
        self.state().jobs.get(name).map(|j| j.body.clone())
    }

    /// How many job PUTs were answered 200/201.
    pub fn job_puts(&self) -> usize {
        self.state().job_puts
    }

    /// `(name, version)` of every component version that exists.
    pub fn component_versions(&self) -> Vec<(String, String)> {
        self.state().components.keys().cloned().collect()
    }

    /// How many component version PUTs were answered 200/201.
    pub fn component_puts(&self) -> usize {
        self.state().component_puts
    }

    /// `(name, version)` of every code version that exists.
    pub fn code_versions(&self) -> Vec<(String, String)> {
        self.state().codes.keys().cloned().collect()
    }
}

impl State {
    fn new(options: FakeAmlOptions, base: String) -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(FakeAzureMl::DEFAULT_TOKEN.to_owned(), "default".to_owned());
        let mut state = Self {
            options,
            base,
            tokens,
            requests: Vec::new(),
            faults: Vec::new(),
            latency: Duration::ZERO,
            status_script: vec!["NotStarted".into(), "Running".into(), "Completed".into()],
            datastores: BTreeMap::new(),
            data: Vec::new(),
            codes: BTreeMap::new(),
            components: BTreeMap::new(),
            component_puts: 0,
            jobs: BTreeMap::new(),
            job_puts: 0,
            computes: BTreeMap::new(),
            operations: HashMap::new(),
            next_id: 0,
            pipelines_url: None,
        };
        let blob = state.options.blob.clone();
        let id = format!("{}/datastores/workspaceblobstore", state.workspace_id());
        state.datastores.insert(
            "workspaceblobstore".into(),
            json!({"id": id, "name": "workspaceblobstore",
                   "type": "Microsoft.MachineLearningServices/workspaces/datastores",
                   "properties": {"datastoreType": "AzureBlob", "isDefault": true,
                                  "accountName": blob.account_name, "containerName": blob.container,
                                  "endpoint": "core.windows.net", "protocol": "https",
                                  "credentials": {"credentialsType": "AccountKey"},
                                  "tags": {}}}),
        );
        state
    }

    fn workspace_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{PROVIDER}/workspaces/{}",
            self.options.subscription_id, self.options.resource_group, self.options.workspace_name
        )
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:08x}-0000-4000-8000-{:012x}", self.next_id, self.next_id)
    }

    fn job_status(&self, job: &JobState) -> String {
        self.status_at(job, job.gets)
    }

    /// The status the last job GET answered (what its steps show meanwhile).
    fn last_reported_status(&self, job: &JobState) -> String {
        self.status_at(job, job.gets.saturating_sub(1))
    }

    fn status_at(&self, job: &JobState, step: usize) -> String {
        if job.canceled {
            return "Canceled".into();
        }
        let i = step.min(self.status_script.len() - 1);
        self.status_script[i].clone()
    }
}

type Answer = Response<Full<Bytes>>;

/// The error that makes hyper close the connection without answering.
#[derive(Debug)]
struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected dropped connection")
    }
}

impl std::error::Error for DroppedConnection {}

fn arm_error_body(code: &str, message: &str, target: Option<&str>) -> String {
    let mut error = json!({"code": code, "message": message});
    if let Some(t) = target {
        error["target"] = json!(t);
    }
    json!({ "error": error }).to_string()
}

fn respond(status: u16, body: &Value) -> Answer {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header("x-ms-request-id", "fake-request-id")
        .body(Full::new(Bytes::from(text)))
        .expect("valid response")
}

fn error(status: u16, code: &str, message: &str, target: Option<&str>) -> Answer {
    let body: Value =
        serde_json::from_str(&arm_error_body(code, message, target)).expect("valid json");
    respond(status, &body)
}

fn with_header(mut answer: Answer, name: &'static str, value: &str) -> Answer {
    answer
        .headers_mut()
        .insert(name, value.parse().expect("valid header value"));
    answer
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(v: &str) -> String {
    v.replace('%', "%25")
        .replace('&', "%26")
        .replace(' ', "%20")
        .replace('+', "%2B")
        .replace('#', "%23")
}

fn parse_query(query: Option<&str>) -> BTreeMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Answer, DroppedConnection> {
    let method = req.method().as_str().to_owned();
    let raw_path = req.uri().path().to_owned();
    let query = parse_query(req.uri().query());
    let mut headers = BTreeMap::new();
    for (name, value) in req.headers() {
        let value = value.to_str().unwrap_or("<binary>").to_owned();
        headers.insert(name.as_str().to_owned(), value);
    }
    let body_bytes = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = if body_bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body_bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body_bytes).into_owned()))
    };
    let bearer = headers
        .get("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_owned);
    let aml_token = headers.get("x-azureml-token").cloned();
    for secret in ["authorization", "x-azureml-token"] {
        if let Some(v) = headers.get_mut(secret) {
            *v = "<redacted>".into();
        }
    }

    let (fault, latency) = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        let label = |t: &Option<String>| {
            t.as_ref().map(|t| {
                s.tokens
                    .get(t)
                    .cloned()
                    .unwrap_or_else(|| "<rejected>".into())
            })
        };
        let token_label = label(&bearer);
        let aml_token_label = label(&aml_token);
        let fault = s
            .faults
            .iter_mut()
            .find(|r| {
                r.times > 0
                    && r.method.as_deref().is_none_or(|m| m == method)
                    && raw_path.contains(&r.path_contains)
            })
            .map(|r| {
                r.times -= 1;
                r.fault.clone()
            });
        s.faults.retain(|r| r.times > 0);
        s.requests.push(RecordedRequest {
            method: method.clone(),
            path: percent_decode(&raw_path),
            query: query.clone(),
            headers,
            token_label,
            aml_token_label,
            body: body.clone(),
            fault: fault
                .as_ref()
                .filter(|f| !matches!(f, Fault::Delay(_)))
                .map(Fault::describe),
        });
        (fault, s.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Some(Fault::Drop) => return Err(DroppedConnection),
        Some(Fault::Respond {
            status,
            headers,
            body,
        }) => {
            let mut answer = respond(status, &Value::Null);
            *answer.body_mut() = Full::new(Bytes::from(body));
            for (name, value) in headers {
                answer.headers_mut().insert(
                    hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                    value.parse().expect("header value"),
                );
            }
            return Ok(answer);
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::DropAfterProcessing) => {
            let _ = router::route(&state, &method, &raw_path, &query, bearer.as_deref(), &body);
            return Err(DroppedConnection);
        }
        None => {}
    }
    Ok(router::route(
        &state,
        &method,
        &raw_path,
        &query,
        bearer.as_deref(),
        &body,
    ))
}

/// The answer to a method and path this fake does not serve.
fn unserved(method: &str, rest: &[&str]) -> Answer {
    error(
        404,
        "NoRegisteredProviderFound",
        &format!(
            "The fake Azure ML does not serve {method} {}",
            rest.join("/")
        ),
        None,
    )
}

/// A page of `items` starting at `$skip`, with `nextLink` when more remain.
fn page(s: &State, path: &str, query: &BTreeMap<String, String>, items: Vec<Value>) -> Value {
    let skip: usize = query.get("$skip").and_then(|v| v.parse().ok()).unwrap_or(0);
    let size = s.options.page_size.max(1);
    let value: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
    let mut answer = json!({ "value": value });
    if skip + size < items.len() {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(k, _)| *k != "$skip")
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        q.push(format!("$skip={}", skip + size));
        answer["nextLink"] = json!(format!("{}{}?{}", s.base, path, q.join("&")));
    }
    answer
}

fn not_found(s: &State, collection: &str, name: &str) -> Answer {
    error(
        404,
        "ResourceNotFound",
        &format!(
            "The Resource 'Microsoft.MachineLearningServices/workspaces/{}/{collection}/{name}' \
             under resource group '{}' was not found.",
            s.options.workspace_name, s.options.resource_group
        ),
        None,
    )
}
