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
//! | `/environments/{n}/versions/{v}` (`image` or `build` required) | PUT/GET |
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
//! Layout: `fake_aml/router.rs` authenticates and hands the path after the workspace to one
//! module per resource (`workspace`, `datastores`, `codes`, `components`, `jobs`, `data`,
//! `computes`; `history` for the run history, `operations` for long-running operations), each
//! with a `route(state, method, rest, query, body)`; `validate.rs` holds the body rules, read
//! from the contract fact file the tests use; `http.rs` the request plumbing and answer helpers;
//! `faults.rs` the injected faults. A new resource is a module with its `route`, one `mod` line
//! here, its field in `State` and one line in the router.
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
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod codes;
mod components;
mod datastores;
mod environments;
mod faults;
mod history;
pub(crate) mod http;
mod jobs;
mod node_kinds;
mod operations;
mod router;
mod validate;
mod workspace;

use validate::enums;

pub use faults::{Fault, FaultRule};
use http::{
    Answer, error, handle, not_found, page, percent_decode, respond, unserved, with_header,
};

/// A request as a resource module sees it: the path after `…/workspaces/{ws}/` split into
/// segments, the decoded query and the JSON body (`null` when empty).
#[derive(Clone, Copy)]
struct Call<'a> {
    method: &'a str,
    rest: &'a [&'a str],
    query: &'a BTreeMap<String, String>,
    body: &'a Value,
}

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

#[derive(Debug, Clone)]
struct JobState {
    body: Value,
    gets: usize,
    canceled: bool,
}

#[derive(Debug)]
struct Operation {
    polls_left: usize,
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
    environments: BTreeMap<(String, String), Value>,
    jobs: BTreeMap<String, JobState>,
    job_puts: usize,
    computes: crate::fake_computes::FakeComputes,
    data: crate::fake_data::FakeData,
    operations: HashMap<String, Operation>,
    next_id: u64,
    pipelines_url: Option<String>,
    operate: crate::fake_operate::OperateState,
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
        let state = self.state();
        let (ws, location) = (state.workspace_id(), state.options.location.clone());
        state.computes.add(&ws, &location, name, compute_type);
    }

    /// The computes of the fake workspace (script a failed provisioning, read what was sent).
    pub fn computes(&self) -> crate::fake_computes::FakeComputes {
        self.state().computes.clone()
    }

    /// Registers a data asset version (`data/{name}/versions/{version}`) pointing at `uri`; the
    /// latest version of an asset is the one added last.
    pub fn add_data_version(&self, name: &str, version: &str, data_type: &str, uri: &str) {
        let state = self.state();
        let ws = state.workspace_id();
        state.data.add(&ws, name, version, data_type, uri);
    }

    /// The data assets of the fake workspace.
    pub fn data(&self) -> crate::fake_data::FakeData {
        self.state().data.clone()
    }

    /// Reads or steers batch endpoints, deployments, invoked jobs and schedules
    /// ([`crate::fake_operate`]).
    pub fn operate<T>(&self, f: impl FnOnce(&mut crate::fake_operate::OperateState) -> T) -> T {
        f(&mut self.state().operate)
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

    /// `(name, version, image)` of every environment version that exists.
    pub fn environment_versions(&self) -> Vec<(String, String, String)> {
        self.state()
            .environments
            .iter()
            .map(|((n, v), body)| {
                let image = body["properties"]["image"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                (n.clone(), v.clone(), image)
            })
            .collect()
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
            data: Default::default(),
            codes: BTreeMap::new(),
            components: BTreeMap::new(),
            component_puts: 0,
            environments: BTreeMap::new(),
            jobs: BTreeMap::new(),
            job_puts: 0,
            computes: Default::default(),
            operations: HashMap::new(),
            next_id: 0,
            pipelines_url: None,
            operate: Default::default(),
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
