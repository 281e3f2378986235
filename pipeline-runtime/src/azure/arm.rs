//! The Azure Resource Manager client every operation goes through.
//!
//! [`ArmClient`] sends requests on `azure_core`'s HTTP pipeline (connection pool, transport) and
//! retries them itself, so that every wait is bounded and announced:
//!
//! * each try of a request has a time limit ([`ArmClientOptions::request_timeout`], default 20 s,
//!   `AZUREML_REQUEST_TIMEOUT`), and a try still waiting is announced every 10 s;
//! * 408, 429, 500, 502, 503, 504, connection errors and tries that ran out of time are retried
//!   with exponential backoff, or after the `Retry-After` (seconds or HTTP date), `retry-after-ms`
//!   or `x-ms-retry-after-ms` the service asks for, but never longer than
//!   [`RetryConfig::max_delay`] per wait (default 30 s, `AZUREML_MAX_RETRY_WAIT`);
//! * every retry is announced before the wait, as a `tracing` warning and through
//!   [`ArmClientOptions::on_retry`] ("429 from PUT components/x; retrying in 30 s, attempt 3 of
//!   10");
//! * a request and its retries give up once [`RetryConfig::max_elapsed`] is spent (default 50 s,
//!   `AZUREML_RETRY_BUDGET`), or after [`RetryConfig::max_retries`] retries (default 10,
//!   `AZUREML_MAX_RETRIES`), with an error that says what was tried for how long.
//!   [`ArmClientOptions::from_env`] reads these variables.
//!
//! On top of that it:
//!
//! * adds the bearer token per call, from the cached [`Credential`]. This is our own step rather
//!   than `azure_core`'s bearer-token policy because that policy refuses plain http, and tests talk
//!   to a fake server on `127.0.0.1`; ours allows http for loopback hosts only
//!   ([`check_token_destination`]). A token is valid for at least the refresh margin (five minutes)
//!   when a call starts, longer than the retry budget of one call;
//! * turns ARM error bodies into [`ArmError::Service`] with the status, ARM error code, message,
//!   target, request id and a hint a person can act on (how to sign in on 401, which permission is
//!   missing on 403, ...);
//! * follows long-running operations (`Azure-AsyncOperation`, then `Location`) to the end
//!   ([`ArmClient::wait_for_completion`]) and pages (`nextLink`) to the last item;
//! * retries once with a fresh token when a call is answered 401 (a token revoked or expired
//!   early).
//!
//! [`join_bounded`] runs many calls at once with a cap on how many are in flight.
//!
//! Why one long file: sending, retrying, error bodies and long-running operations share the
//! request, the retry budget and the redaction of one call; the retry rules themselves live in
//! [`super::retry`]. Splitting the error types into their own file is the next cut when this grows.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use azure_core::http::headers::{self, HeaderName, Headers, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS};
use azure_core::http::policies::get_retry_after;
use azure_core::http::{
    ClientOptions, Context, Method, Pipeline, PipelineSendOptions, Request, RetryOptions,
    StatusCode, Transport, Url,
};
use futures::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::auth::{ARM_SCOPE, AuthError, Credential, check_token_destination};
pub use super::retry::{Notice, RetryConfig, RetryListener, RetryNotice};
pub(crate) use super::retry::{describe_transport_error, jitter, seconds};
use super::secret::{Secret, redact, url_for_display};

const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
const LOCATION: HeaderName = HeaderName::from_static("location");
const RETRY_AFTER: HeaderName = HeaderName::from_static("retry-after");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
const CORRELATION_ID: HeaderName = HeaderName::from_static("x-ms-correlation-request-id");

/// The api-version sent for each group of operations.
///
/// The defaults are what Microsoft's Python SDK (azure-ai-ml 1.35) sends, not the newest stable
/// version, because those are the versions the service is known to accept these bodies with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersions {
    /// Workspace GET (default `2025-12-01`, the generated models' version).
    pub workspaces: String,
    /// Pipeline job PUT, GET, list and cancel (default `2024-01-01-preview`).
    pub jobs: String,
    /// Component versions (default `2024-01-01-preview`).
    pub components: String,
    /// Code versions and `startPendingUpload` (default `2023-04-01`).
    pub codes: String,
    /// Data versions (default `2023-04-01-preview`).
    pub data: String,
    /// Environment versions (default `2023-04-01-preview`).
    pub environments: String,
    /// Computes (default `2023-08-01-preview`).
    pub computes: String,
    /// Datastores and `listSecrets` (default `2024-10-01-preview`).
    pub datastores: String,
}

impl Default for ApiVersions {
    fn default() -> Self {
        Self {
            workspaces: "2025-12-01".into(),
            jobs: "2024-01-01-preview".into(),
            components: "2024-01-01-preview".into(),
            codes: "2023-04-01".into(),
            data: "2023-04-01-preview".into(),
            environments: "2023-04-01-preview".into(),
            computes: "2023-08-01-preview".into(),
            datastores: "2024-10-01-preview".into(),
        }
    }
}

impl ApiVersions {
    /// The defaults with overrides from `AZUREML_API_VERSION_<GROUP>` variables (`JOBS`,
    /// `COMPONENTS`, `CODES`, `DATASTORES`, `COMPUTES`, `WORKSPACES`, `DATA`, `ENVIRONMENTS`),
    /// e.g. `AZUREML_API_VERSION_JOBS=2025-12-01`.
    pub fn from_env() -> Self {
        Self::with_overrides(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
    }

    /// The defaults with overrides looked up by variable name.
    pub fn with_overrides(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut v = Self::default();
        for (group, slot) in [
            ("WORKSPACES", &mut v.workspaces),
            ("JOBS", &mut v.jobs),
            ("COMPONENTS", &mut v.components),
            ("CODES", &mut v.codes),
            ("DATA", &mut v.data),
            ("ENVIRONMENTS", &mut v.environments),
            ("COMPUTES", &mut v.computes),
            ("DATASTORES", &mut v.datastores),
        ] {
            if let Some(value) = lookup(&format!("AZUREML_API_VERSION_{group}")) {
                *slot = value.trim().to_owned();
            }
        }
        v
    }
}

/// Settings of an [`ArmClient`].
#[derive(Debug, Clone)]
pub struct ArmClientOptions {
    /// api-version per operation group.
    pub api_versions: ApiVersions,
    /// Retry behaviour.
    pub retry: RetryConfig,
    /// Time limit for one try of one request, headers and body (default 20 s,
    /// `AZUREML_REQUEST_TIMEOUT`).
    pub request_timeout: Duration,
    /// Time between two polls of a long-running operation when the service gives no
    /// `Retry-After` (default 5 s).
    pub poll_interval: Duration,
    /// Give up waiting for a long-running operation after this long (default 60 min).
    pub operation_timeout: Duration,
    /// Most requests [`join_bounded`] callers should keep in flight (default 16).
    pub max_concurrency: usize,
    /// Told about each retry before its wait, and about a try that has had no answer for
    /// [`notice_every`](Self::notice_every) (a command line prints each notice on stderr). Every
    /// notice is also logged as a `tracing` warning.
    pub on_retry: RetryListener,
    /// How often a try still waiting for its answer is announced (default 10 s).
    pub notice_every: Duration,
}

impl Default for ArmClientOptions {
    fn default() -> Self {
        Self {
            api_versions: ApiVersions::default(),
            retry: RetryConfig::default(),
            request_timeout: Duration::from_secs(20),
            poll_interval: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(3600),
            max_concurrency: 16,
            on_retry: RetryListener::default(),
            notice_every: Duration::from_secs(10),
        }
    }
}

/// Variable: time limit of one try of one request, in seconds.
pub const ENV_REQUEST_TIMEOUT: &str = "AZUREML_REQUEST_TIMEOUT";
/// Variable: the retry budget of one request, in seconds.
pub const ENV_RETRY_BUDGET: &str = "AZUREML_RETRY_BUDGET";
/// Variable: the longest wait between two tries, in seconds (caps `Retry-After`).
pub const ENV_MAX_RETRY_WAIT: &str = "AZUREML_MAX_RETRY_WAIT";
/// Variable: the most retries after the first try.
pub const ENV_MAX_RETRIES: &str = "AZUREML_MAX_RETRIES";

impl ArmClientOptions {
    /// The defaults, with api-versions from [`ApiVersions::from_env`] and the time limits from
    /// `AZUREML_REQUEST_TIMEOUT`, `AZUREML_RETRY_BUDGET`, `AZUREML_MAX_RETRY_WAIT` (seconds,
    /// fractions allowed) and `AZUREML_MAX_RETRIES`.
    pub fn from_env() -> Result<Self, ArmError> {
        Self::with_overrides(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Like [`from_env`](Self::from_env), with variables looked up by name.
    ///
    /// ```
    /// use std::time::Duration;
    /// use azureml_pipelines_runtime::azure::ArmClientOptions;
    /// let o = ArmClientOptions::with_overrides(|k| (k == "AZUREML_RETRY_BUDGET").then(|| "2.5".into())).unwrap();
    /// assert_eq!(o.retry.max_elapsed, Duration::from_millis(2500));
    /// let bad = ArmClientOptions::with_overrides(|k| (k == "AZUREML_REQUEST_TIMEOUT").then(|| "1e300".into()));
    /// assert!(bad.unwrap_err().to_string().contains("AZUREML_REQUEST_TIMEOUT"));
    /// ```
    pub fn with_overrides(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ArmError> {
        let mut o = Self {
            api_versions: ApiVersions::with_overrides(&lookup),
            ..Self::default()
        };
        for (name, slot) in [
            (ENV_REQUEST_TIMEOUT, &mut o.request_timeout),
            (ENV_RETRY_BUDGET, &mut o.retry.max_elapsed),
            (ENV_MAX_RETRY_WAIT, &mut o.retry.max_delay),
        ] {
            if let Some(value) = lookup(name) {
                *slot = parse_seconds(name, &value)?;
            }
        }
        if let Some(value) = lookup(ENV_MAX_RETRIES) {
            o.retry.max_retries = value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= 100)
                .ok_or_else(|| ArmError::InvalidSetting {
                    name: ENV_MAX_RETRIES,
                    value: value.clone(),
                    expected: "a whole number from 0 to 100",
                })?;
        }
        Ok(o)
    }
}

/// Reads a positive number of seconds no larger than a day.
fn parse_seconds(name: &'static str, value: &str) -> Result<Duration, ArmError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| ArmError::InvalidSetting {
            name,
            value: value.to_owned(),
            expected: "a number of seconds greater than 0 and at most 86400",
        })
}

/// An ARM error body: `{"error": {"code", "message", "target", "details"}}`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Machine-readable code, e.g. `AuthorizationFailed`.
    #[serde(default)]
    pub code: Option<String>,
    /// Human-readable message.
    #[serde(default)]
    pub message: Option<String>,
    /// What the error is about, e.g. a property path.
    #[serde(default)]
    pub target: Option<String>,
    /// Nested errors.
    #[serde(default)]
    pub details: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

/// A request the service answered with an error status.
#[derive(Debug, Clone)]
pub struct ServiceError {
    /// What was being done, e.g. `PUT jobs/my-job`.
    pub operation: String,
    /// The HTTP status.
    pub status: u16,
    /// The ARM error code, when the body had one.
    pub code: Option<String>,
    /// The service's message (or the start of a non-JSON body).
    pub message: String,
    /// The ARM error target, if any.
    pub target: Option<String>,
    /// Nested error messages (`code: message`).
    pub details: Vec<String>,
    /// `x-ms-request-id` (or the correlation id), to quote when asking for support.
    pub request_id: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: HTTP {}", self.operation, self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(target) = &self.target {
            write!(f, " (target `{target}`)")?;
        }
        for detail in &self.details {
            write!(f, "; {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// Why an Azure ML control-plane call failed.
#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    /// The service answered with an error status (after retries, where retryable).
    #[error("{0}")]
    Service(Box<ServiceError>),
    /// No answer: connection refused or reset, or no answer in time (after retries).
    #[error(
        "{operation}: no answer from {url}: {cause} ({attempts} tries in {}); check the network \
         (proxy, firewall, DNS) and that the endpoint is right; the time limits are \
         AZUREML_REQUEST_TIMEOUT (per try) and AZUREML_RETRY_BUDGET (all tries)",
        seconds(*.elapsed)
    )]
    Transport {
        /// What was being done.
        operation: String,
        /// The URL without its query.
        url: String,
        /// What went wrong on the last try (secrets removed).
        cause: String,
        /// How many tries were made.
        attempts: u32,
        /// Time from the first try to giving up.
        elapsed: Duration,
    },
    /// A setting (environment variable) has a value that cannot be used.
    #[error("{name}={value:?} is not valid: expected {expected}")]
    InvalidSetting {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it may be.
        expected: &'static str,
    },
    /// No token could be had.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The answer could not be read as the expected JSON.
    #[error("{operation}: unexpected response from the service: {source}")]
    Decode {
        /// What was being done.
        operation: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A long-running operation ended `Failed` or `Canceled`.
    #[error("{operation}: the operation ended {status}{}", error_suffix(.error))]
    OperationFailed {
        /// What was being done.
        operation: String,
        /// The final status.
        status: String,
        /// The error the service reported, if any.
        error: Option<Box<ErrorDetail>>,
    },
    /// A long-running operation did not finish in time.
    #[error(
        "{operation}: still running after {waited:?}; it may still finish: look at it in Azure ML \
         studio, or raise `operation_timeout`"
    )]
    OperationTimeout {
        /// What was being done.
        operation: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The service pointed us at another host (paging or polling link); the token is not sent
    /// there.
    #[error("{operation}: the service returned a link to another host ({url}); not following it")]
    ForeignLink {
        /// What was being done.
        operation: String,
        /// The link without its query.
        url: String,
    },
    /// The request could not be built (bad name in a URL, unserialisable body).
    #[error("{operation}: invalid request: {message}")]
    InvalidRequest {
        /// What was being done.
        operation: String,
        /// What is wrong.
        message: String,
    },
}

fn error_suffix(error: &Option<Box<ErrorDetail>>) -> String {
    match error {
        Some(e) => format!(
            ": {}{}",
            e.code
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default(),
            e.message.as_deref().unwrap_or("no message")
        ),
        None => String::new(),
    }
}

impl ArmError {
    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Service(e) => Some(e.status),
            _ => None,
        }
    }

    /// The ARM error code, when the service gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ArmError::Service(e) => e.code.as_deref(),
            ArmError::OperationFailed { error, .. } => error.as_ref()?.code.as_deref(),
            _ => None,
        }
    }

    /// The service error, when the service answered with an error status.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            ArmError::Service(e) => Some(e),
            _ => None,
        }
    }

    /// Replaces the hint of a service error (operations add what they know).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        if let ArmError::Service(e) = &mut self {
            e.hint = Some(hint.into());
        }
        self
    }
}

/// Which token a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// An ARM token ([`ARM_SCOPE`]).
    Arm,
    /// An Azure ML data-plane token ([`super::auth::AML_SCOPE`]), e.g. run history.
    AzureMl,
    /// No token (public documents such as workspace discovery).
    None,
}

impl TokenScope {
    fn scope(self) -> Option<&'static str> {
        match self {
            TokenScope::Arm => Some(ARM_SCOPE),
            TokenScope::AzureMl => Some(super::auth::AML_SCOPE),
            TokenScope::None => None,
        }
    }
}

/// One request to send with [`ArmClient::send`].
#[derive(Debug)]
pub struct ArmRequest {
    /// HTTP method.
    pub method: Method,
    /// Full URL; `api-version` is appended when set below.
    pub url: Url,
    /// `api-version` query value.
    pub api_version: Option<String>,
    /// JSON body.
    pub body: Option<serde_json::Value>,
    /// Which token to send.
    pub scope: TokenScope,
    /// Extra headers; values are secrets (e.g. `x-azureml-token`) and never logged.
    pub headers: Vec<(&'static str, Secret)>,
    /// Short description for errors and logs, e.g. `PUT jobs/my-job`.
    pub operation: String,
}

impl ArmRequest {
    /// A request with an ARM token and no body.
    pub fn new(method: Method, url: Url, operation: impl Into<String>) -> Self {
        Self {
            method,
            url,
            api_version: None,
            body: None,
            scope: TokenScope::Arm,
            headers: Vec::new(),
            operation: operation.into(),
        }
    }

    /// Sets the `api-version`.
    pub fn api_version(mut self, version: &str) -> Self {
        self.api_version = Some(version.to_owned());
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sets which token is sent.
    pub fn scope(mut self, scope: TokenScope) -> Self {
        self.scope = scope;
        self
    }

    /// Adds a header whose value is a secret.
    pub fn secret_header(mut self, name: &'static str, value: Secret) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct ArmResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Headers,
    /// Raw body.
    pub body: ResponseBody,
}

/// Response body bytes. `Debug` shows the length only, since a body may carry a key.
#[derive(Clone, Default)]
pub struct ResponseBody(Vec<u8>);

impl ResponseBody {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseBody({} bytes)", self.0.len())
    }
}

impl ArmResponse {
    /// Parses the body as `T`.
    pub fn json<T: DeserializeOwned>(&self, operation: &str) -> Result<T, ArmError> {
        let bytes: &[u8] = if self.body.0.is_empty() {
            b"null"
        } else {
            &self.body.0
        };
        serde_json::from_slice(bytes).map_err(|source| ArmError::Decode {
            operation: operation.to_owned(),
            source,
        })
    }

    fn header(&self, name: &HeaderName) -> Option<&str> {
        self.headers.get_optional_str(name)
    }
}

/// A page of a list: `{"value": [...], "nextLink": "..."}`.
#[derive(Debug, Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "nextLink", default)]
    next_link: Option<String>,
}

/// The client. Cheap to clone; clones share the HTTP connection pool and the token cache.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

struct Inner {
    pipeline: Pipeline,
    credential: Credential,
    endpoint: Url,
    options: ArmClientOptions,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("credential", &self.inner.credential)
            .field("options", &self.inner.options)
            .finish()
    }
}

impl ArmClient {
    /// A client for the ARM `endpoint` (e.g. `https://management.azure.com`).
    pub fn new(
        endpoint: Url,
        credential: Credential,
        options: ArmClientOptions,
    ) -> Result<Self, ArmError> {
        super::tls::install();
        // Each try is bounded by `send_once` (so the error can say how long it waited); the
        // client's own limit is only a backstop.
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout.saturating_mul(2))
            .connect_timeout(options.request_timeout.min(Duration::from_secs(30)))
            // ARM does not redirect; following a redirect could carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ArmError::InvalidRequest {
                operation: "create HTTP client".into(),
                message: e.to_string(),
            })?;
        // Retries are ours (`send_once`): azure_core's are silent and wait as long as asked.
        let client_options = ClientOptions {
            transport: Some(Transport::new(Arc::new(http))),
            retry: RetryOptions::none(),
            ..Default::default()
        };
        let pipeline = Pipeline::new(
            Some(env!("CARGO_PKG_NAME")),
            Some(env!("CARGO_PKG_VERSION")),
            client_options,
            Vec::new(),
            Vec::new(),
            None,
        );
        Ok(Self {
            inner: Arc::new(Inner {
                pipeline,
                credential,
                endpoint,
                options,
            }),
        })
    }

    /// The ARM endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The client's settings.
    pub fn options(&self) -> &ArmClientOptions {
        &self.inner.options
    }

    /// The credential the client takes tokens from.
    pub fn credential(&self) -> &Credential {
        &self.inner.credential
    }

    /// Sends one request (with retries) and returns the answer if its status is 2xx; any other
    /// status becomes [`ArmError::Service`].
    pub async fn send(&self, request: ArmRequest) -> Result<ArmResponse, ArmError> {
        match self.send_once(&request).await {
            Err(ArmError::Service(e)) if e.status == 401 => {
                tracing::debug!(operation = %request.operation, "401: retrying once with a fresh token");
                self.inner.credential.invalidate().await;
                self.send_once(&request).await
            }
            other => other,
        }
    }

    /// Sends `request`, retrying what is worth retrying within the retry budget.
    async fn send_once(&self, request: &ArmRequest) -> Result<ArmResponse, ArmError> {
        let options = &self.inner.options;
        let retry = &options.retry;
        let attempts = retry.max_retries.saturating_add(1);
        let started = tokio::time::Instant::now();
        let deadline = started + retry.max_elapsed;
        let mut url = request.url.clone();
        if let Some(v) = &request.api_version {
            url.query_pairs_mut().append_pair("api-version", v);
        }
        let shown_url = url_for_display(url.as_str()).to_owned();
        let mut attempt: u32 = 1;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let limit = options
                .request_timeout
                .min(left.max(Duration::from_millis(1)));
            let outcome = self.try_announced(request, &url, limit).await;
            // What went wrong, and the wait the service asked for, if it is worth another try.
            let (reason, asked, last_error) = match outcome {
                Ok(Ok((status, response))) => {
                    if status.is_success() {
                        tracing::debug!(operation = %request.operation, status = response.status, "done");
                        return Ok(response);
                    }
                    let error = service_error(&request.operation, status, &response);
                    if !matches!(response.status, 408 | 429 | 500 | 502 | 503 | 504) {
                        return Err(error);
                    }
                    let asked = get_retry_after(
                        &response.headers,
                        azure_core::time::OffsetDateTime::now_utc,
                        &[RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS, headers::RETRY_AFTER],
                    )
                    .map(|d| Duration::try_from(d).unwrap_or_default());
                    (response.status.to_string(), asked, error)
                }
                Ok(Err(TryError::Fatal(e))) => return Err(e),
                Ok(Err(TryError::Transport(cause))) => {
                    let error = ArmError::Transport {
                        operation: request.operation.clone(),
                        url: shown_url.clone(),
                        cause: cause.clone(),
                        attempts: attempt,
                        elapsed: started.elapsed(),
                    };
                    (cause, None, error)
                }
                Err(_) => {
                    let cause = if limit < options.request_timeout {
                        format!(
                            "no answer within {} (what was left of the retry budget)",
                            seconds(limit)
                        )
                    } else {
                        format!("no answer within {}", seconds(limit))
                    };
                    let error = ArmError::Transport {
                        operation: request.operation.clone(),
                        url: shown_url.clone(),
                        cause: cause.clone(),
                        attempts: attempt,
                        elapsed: started.elapsed(),
                    };
                    (cause, None, error)
                }
            };
            let backoff = {
                let exp = retry
                    .initial_delay
                    .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(20)));
                exp + Duration::from_millis(u64::from(jitter()))
            };
            let wait = asked.unwrap_or(backoff).min(retry.max_delay);
            let now = tokio::time::Instant::now();
            let left = deadline.saturating_duration_since(now);
            let give_up = if attempt >= attempts {
                Some(format!("gave up after {attempt} tries"))
            } else if let Some(asked) = asked.filter(|a| *a >= left) {
                // Waiting less than asked would only be answered the same way.
                Some(format!(
                    "the service asked to wait {} before trying again, longer than the {} left of \
                     the retry budget (AZUREML_RETRY_BUDGET)",
                    seconds(asked),
                    seconds(left)
                ))
            } else if wait >= left {
                Some(format!(
                    "gave up after {attempt} tries: the retry budget of {} (AZUREML_RETRY_BUDGET) \
                     is spent",
                    seconds(retry.max_elapsed)
                ))
            } else {
                None
            };
            if let Some(why) = give_up {
                tracing::warn!(operation = %request.operation, %reason, "{why}");
                return Err(match last_error {
                    ArmError::Service(mut e) => {
                        let hint = e.hint.take();
                        e.hint = Some(match hint {
                            Some(h) => format!("{why}; {h}"),
                            None => why,
                        });
                        ArmError::Service(e)
                    }
                    ArmError::Transport {
                        operation,
                        url,
                        cause,
                        ..
                    } => ArmError::Transport {
                        operation,
                        url,
                        cause,
                        attempts: attempt,
                        elapsed: started.elapsed(),
                    },
                    other => other,
                });
            }
            attempt += 1;
            let notice = RetryNotice {
                operation: request.operation.clone(),
                reason,
                wait,
                attempt,
                attempts,
            };
            let notice = Notice::Retry(notice);
            tracing::warn!("{notice}");
            options.on_retry.notify(&notice);
            tokio::time::sleep(wait).await;
        }
    }

    /// One try within `limit`, announcing every [`ArmClientOptions::notice_every`] that it is
    /// still waiting. `Err` when the limit passed.
    async fn try_announced(
        &self,
        request: &ArmRequest,
        url: &Url,
        limit: Duration,
    ) -> Result<Result<(StatusCode, ArmResponse), TryError>, tokio::time::error::Elapsed> {
        let options = &self.inner.options;
        let started = tokio::time::Instant::now();
        let attempt = tokio::time::timeout(limit, self.try_once(request, url));
        tokio::pin!(attempt);
        let every = options.notice_every.max(Duration::from_millis(10));
        loop {
            tokio::select! {
                outcome = &mut attempt => return outcome,
                () = tokio::time::sleep(every) => {
                    let notice = Notice::StillWaiting {
                        operation: request.operation.clone(),
                        waited: started.elapsed(),
                        limit,
                    };
                    tracing::warn!("{notice}");
                    options.on_retry.notify(&notice);
                }
            }
        }
    }

    /// One try: the answer whatever its status, or why there was none.
    async fn try_once(
        &self,
        request: &ArmRequest,
        url: &Url,
    ) -> Result<(StatusCode, ArmResponse), TryError> {
        let mut http = Request::new(url.clone(), request.method);
        if let Some(scope) = request.scope.scope() {
            check_token_destination(url).map_err(|e| TryError::Fatal(e.into()))?;
            let token = self
                .inner
                .credential
                .token(scope)
                .await
                .map_err(|e| TryError::Fatal(e.into()))?;
            http.insert_header("authorization", format!("Bearer {}", token.expose()));
        }
        http.insert_header("accept", "application/json");
        for (name, value) in &request.headers {
            http.insert_header(*name, value.expose().to_owned());
        }
        if let Some(body) = &request.body {
            let bytes = serde_json::to_vec(body).map_err(|e| {
                TryError::Fatal(ArmError::InvalidRequest {
                    operation: request.operation.clone(),
                    message: e.to_string(),
                })
            })?;
            http.insert_header("content-type", "application/json");
            http.set_body(bytes);
        }
        tracing::debug!(operation = %request.operation, url = url_for_display(url.as_str()), "sending");
        let ctx = Context::new();
        let raw = self
            .inner
            .pipeline
            .send(
                &ctx,
                &mut http,
                Some(PipelineSendOptions {
                    skip_checks: true,
                    ..Default::default()
                }),
            )
            .await
            .map_err(|e| TryError::Transport(describe_transport_error(&e)))?;
        let (status, headers, body) = raw.deconstruct();
        Ok((
            status,
            ArmResponse {
                status: u16::from(status),
                headers,
                body: ResponseBody(body.to_vec()),
            },
        ))
    }

    /// GET `url` and parse the body.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: Url,
        api_version: &str,
        operation: &str,
    ) -> Result<T, ArmError> {
        self.send(ArmRequest::new(Method::Get, url, operation).api_version(api_version))
            .await?
            .json(operation)
    }

    /// GET a list and follow `nextLink` until the last page.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        url: Url,
        api_version: &str,
        operation: &str,
    ) -> Result<Vec<T>, ArmError> {
        let mut items = Vec::new();
        let mut page: Page<T> = self.get_json(url, api_version, operation).await?;
        loop {
            items.append(&mut page.value);
            let Some(next) = page.next_link.take().filter(|l| !l.is_empty()) else {
                return Ok(items);
            };
            let next = self.same_origin(&next, operation)?;
            // nextLink already carries every query parameter, api-version included.
            page = self
                .send(ArmRequest::new(Method::Get, next, operation))
                .await?
                .json(operation)?;
        }
    }

    fn same_origin(&self, link: &str, operation: &str) -> Result<Url, ArmError> {
        let foreign = || ArmError::ForeignLink {
            operation: operation.to_owned(),
            url: url_for_display(link).to_owned(),
        };
        let url = Url::parse(link).map_err(|_| foreign())?;
        if url.origin() == self.inner.endpoint.origin() {
            Ok(url)
        } else {
            Err(foreign())
        }
    }

    /// Follows a long-running operation started by `initial` (the answer to a PUT, PATCH, POST or
    /// DELETE sent to `resource_url`) until it ends, and returns the final answer:
    ///
    /// * with `Azure-AsyncOperation`: polls it until `status` is `Succeeded`, `Failed` or
    ///   `Canceled`; then, for PUT and PATCH, GETs the resource (`original-uri`), otherwise GETs
    ///   `Location` when given, else returns the last status body;
    /// * with `Location` only: polls it while the answer is 202 and returns the first other answer;
    /// * with neither: `initial` is already final.
    ///
    /// Waits `Retry-After` between polls when the service sends it, else
    /// [`ArmClientOptions::poll_interval`].
    pub async fn wait_for_completion(
        &self,
        initial: ArmResponse,
        method: Method,
        resource_url: &Url,
        api_version: &str,
        operation: &str,
    ) -> Result<ArmResponse, ArmError> {
        let started = tokio::time::Instant::now();
        let deadline = started + self.inner.options.operation_timeout;
        let timeout = || ArmError::OperationTimeout {
            operation: operation.to_owned(),
            waited: started.elapsed(),
        };
        let location = initial
            .header(&LOCATION)
            .map(|l| self.same_origin(l, operation))
            .transpose()?;
        if let Some(async_op) = initial.header(&AZURE_ASYNC_OPERATION) {
            let poll_url = self.same_origin(async_op, operation)?;
            let mut delay = self.poll_delay(&initial);
            loop {
                if tokio::time::Instant::now() + delay > deadline {
                    return Err(timeout());
                }
                tokio::time::sleep(delay).await;
                let polled = self
                    .send(ArmRequest::new(Method::Get, poll_url.clone(), operation))
                    .await?;
                #[derive(Deserialize)]
                struct OperationStatus {
                    status: String,
                    #[serde(default)]
                    error: Option<ErrorDetail>,
                }
                let status: OperationStatus = polled.json(operation)?;
                tracing::debug!(operation, status = %status.status, "long-running operation");
                match status.status.to_ascii_lowercase().as_str() {
                    "succeeded" => {
                        return if matches!(method, Method::Put | Method::Patch) {
                            self.send(
                                ArmRequest::new(Method::Get, resource_url.clone(), operation)
                                    .api_version(api_version),
                            )
                            .await
                        } else if let Some(location) = location {
                            self.send(ArmRequest::new(Method::Get, location, operation))
                                .await
                        } else {
                            Ok(polled)
                        };
                    }
                    "failed" | "canceled" | "cancelled" => {
                        return Err(ArmError::OperationFailed {
                            operation: operation.to_owned(),
                            status: status.status,
                            error: status.error.map(Box::new),
                        });
                    }
                    _ => delay = self.poll_delay(&polled),
                }
            }
        }
        if let Some(location) = location {
            let mut last = initial;
            while last.status == 202 {
                let delay = self.poll_delay(&last);
                if tokio::time::Instant::now() + delay > deadline {
                    return Err(timeout());
                }
                tokio::time::sleep(delay).await;
                last = self
                    .send(ArmRequest::new(Method::Get, location.clone(), operation))
                    .await?;
            }
            return Ok(last);
        }
        Ok(initial)
    }

    /// The wait before the next poll: `Retry-After` when given, capped at
    /// [`RetryConfig::max_delay`], else the poll interval.
    fn poll_delay(&self, response: &ArmResponse) -> Duration {
        response
            .header(&RETRY_AFTER)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(self.inner.options.retry.max_delay))
            .unwrap_or(self.inner.options.poll_interval)
    }
}

/// Why one try did not get an answer.
enum TryError {
    /// Not worth retrying (no token, a request that cannot be built).
    Fatal(ArmError),
    /// No answer (connection refused, reset, DNS): retried. The text has secrets removed.
    Transport(String),
}

fn service_error(operation: &str, status: StatusCode, response: &ArmResponse) -> ArmError {
    let status_code = u16::from(status);
    let parsed: Option<ErrorBody> = serde_json::from_slice(&response.body.0).ok();
    let (code, message, target, details) = match parsed {
        Some(ErrorBody { error }) => (
            error.code,
            error
                .message
                .unwrap_or_else(|| status.canonical_reason().into_owned()),
            error.target,
            error
                .details
                .iter()
                .map(|d| {
                    format!(
                        "{}: {}",
                        d.code.as_deref().unwrap_or("detail"),
                        d.message.as_deref().unwrap_or("")
                    )
                })
                .collect(),
        ),
        None => {
            let text = String::from_utf8_lossy(&response.body.0);
            let text = text.trim();
            let message = if text.is_empty() {
                status.canonical_reason().into_owned()
            } else {
                text.chars().take(300).collect()
            };
            (None, message, None, Vec::new())
        }
    };
    let request_id = response
        .header(&REQUEST_ID)
        .or_else(|| response.header(&CORRELATION_ID))
        .map(str::to_owned);
    // Service text may quote a SAS URL, a key we were given, or the Authorization header.
    let message = redact(&message);
    let target = target.map(|t| redact(&t));
    let details = details.iter().map(|d| redact(d)).collect();
    let hint = default_hint(status_code, code.as_deref(), &message);
    ArmError::Service(Box::new(ServiceError {
        operation: operation.to_owned(),
        status: status_code,
        code,
        message,
        target,
        details,
        request_id,
        hint,
    }))
}

/// The hint for a status when the operation knows nothing better.
fn default_hint(status: u16, code: Option<&str>, message: &str) -> Option<String> {
    match status {
        401 => Some(
            "the access token was not accepted: sign in again (`az login`), or check \
             AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET; the workspace's subscription \
             must belong to the token's tenant (`az login --tenant <tenant>`)"
                .to_owned(),
        ),
        403 => {
            let action = quoted_after(message, "perform action '");
            Some(match action {
                Some(action) => format!(
                    "your identity is not allowed `{action}` here: ask an owner of the workspace \
                     to give you a role that includes it, e.g. `AzureML Data Scientist` or \
                     `Contributor` on the workspace"
                ),
                None => "your identity lacks a permission on this workspace: ask an owner to give \
                         you the `AzureML Data Scientist` or `Contributor` role on it"
                    .to_owned(),
            })
        }
        404 if code == Some("ResourceGroupNotFound") || code == Some("SubscriptionNotFound") => {
            Some(
                "check `subscription_id` and `resource_group` in your workspace config (or \
                 AZUREML_SUBSCRIPTION_ID / AZUREML_RESOURCE_GROUP)"
                    .to_owned(),
            )
        }
        404 => Some("check the name; it must exist in this workspace".to_owned()),
        408 | 429 | 500..=599 => Some(
            "the service is busy or failing and still was after several retries; wait a minute \
             and run the command again"
                .to_owned(),
        ),
        _ => None,
    }
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let start = message.find(prefix)? + prefix.len();
    let rest = &message[start..];
    rest.find('\'').map(|end| &rest[..end])
}

/// Runs `futures` with at most `limit` of them in flight, and returns their outputs in input
/// order. Use it to issue many idempotent PUTs (components) at once without flooding ARM.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use azureml_pipelines_runtime::azure::arm::join_bounded;
/// let out = join_bounded(2, (1..=5).map(|i| async move { i * 10 })).await;
/// assert_eq!(out, vec![10, 20, 30, 40, 50]);
/// # }
/// ```
pub async fn join_bounded<I, F>(limit: usize, futures: I) -> Vec<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future,
{
    futures::stream::iter(futures)
        .buffered(limit.max(1))
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_take_overrides_per_group() {
        let v = ApiVersions::with_overrides(|k| {
            (k == "AZUREML_API_VERSION_JOBS").then(|| " 2025-12-01 ".to_owned())
        });
        assert_eq!(v.jobs, "2025-12-01");
        assert_eq!(v.components, ApiVersions::default().components);
    }

    #[test]
    fn action_is_quoted_from_authorization_failed() {
        let m = "The client 'x' with object id 'y' does not have authorization to perform action \
                 'Microsoft.MachineLearningServices/workspaces/jobs/write' over scope '/s'";
        assert_eq!(
            quoted_after(m, "perform action '"),
            Some("Microsoft.MachineLearningServices/workspaces/jobs/write")
        );
        let hint = default_hint(403, Some("AuthorizationFailed"), m).unwrap();
        assert!(hint.contains("workspaces/jobs/write"), "{hint}");
    }
}
