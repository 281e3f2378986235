//! The Azure Resource Manager client every operation goes through.
//!
//! [`ArmClient`] sends requests on `azure_core`'s HTTP pipeline, which retries with exponential
//! backoff on 408, 429, 500, 502, 503, 504 and on connection errors, and waits at least as long
//! as a `Retry-After` (seconds or HTTP date), `retry-after-ms` or `x-ms-retry-after-ms` header asks
//! on 429 and 503 (the statuses ARM sends it with). On top of that it:
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

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use azure_core::http::headers::{HeaderName, Headers};
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, Method, Pipeline, PipelineSendOptions,
    Request, RetryOptions, StatusCode, Transport, Url,
};
use futures::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::auth::{ARM_SCOPE, AuthError, Credential, check_token_destination};
use super::secret::{Secret, url_for_display};

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

/// How hard to retry a request that failed with a retryable status or a connection error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfig {
    /// Retries after the first try (default 8).
    pub max_retries: u32,
    /// First backoff; doubled each retry, plus up to 255 ms of jitter (default 800 ms).
    pub initial_delay: Duration,
    /// Longest backoff between two tries, unless the server's `Retry-After` asks for more
    /// (default 60 s).
    pub max_delay: Duration,
    /// Give up once this much time has passed since the first try (default 5 min).
    pub max_elapsed: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 8,
            initial_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
            max_elapsed: Duration::from_secs(300),
        }
    }
}

/// Settings of an [`ArmClient`].
#[derive(Debug, Clone)]
pub struct ArmClientOptions {
    /// api-version per operation group.
    pub api_versions: ApiVersions,
    /// Retry behaviour.
    pub retry: RetryConfig,
    /// Time limit for one try of one request, headers and body (default 120 s).
    pub request_timeout: Duration,
    /// Time between two polls of a long-running operation when the service gives no
    /// `Retry-After` (default 5 s).
    pub poll_interval: Duration,
    /// Give up waiting for a long-running operation after this long (default 60 min).
    pub operation_timeout: Duration,
    /// Most requests [`join_bounded`] callers should keep in flight (default 16).
    pub max_concurrency: usize,
}

impl Default for ArmClientOptions {
    fn default() -> Self {
        Self {
            api_versions: ApiVersions::default(),
            retry: RetryConfig::default(),
            request_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(3600),
            max_concurrency: 16,
        }
    }
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
    /// No answer: connection refused or reset, timeout (after retries).
    #[error(
        "{operation}: no answer from {url}: {source}; check the network (proxy, firewall, DNS) and \
         that the endpoint is right"
    )]
    Transport {
        /// What was being done.
        operation: String,
        /// The URL without its query.
        url: String,
        /// The transport error.
        #[source]
        source: Box<azure_core::Error>,
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
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .connect_timeout(Duration::from_secs(30))
            // ARM does not redirect; following a redirect could carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ArmError::InvalidRequest {
                operation: "create HTTP client".into(),
                message: e.to_string(),
            })?;
        let to_time = |d: Duration| {
            azure_core::time::Duration::try_from(d).unwrap_or(azure_core::time::Duration::MAX)
        };
        let client_options = ClientOptions {
            transport: Some(Transport::new(Arc::new(http))),
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: to_time(options.retry.initial_delay),
                max_retries: options.retry.max_retries,
                max_total_elapsed: to_time(options.retry.max_elapsed),
                max_delay: to_time(options.retry.max_delay),
            }),
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

    async fn send_once(&self, request: &ArmRequest) -> Result<ArmResponse, ArmError> {
        let mut url = request.url.clone();
        if let Some(v) = &request.api_version {
            url.query_pairs_mut().append_pair("api-version", v);
        }
        let mut http = Request::new(url.clone(), request.method);
        if let Some(scope) = request.scope.scope() {
            check_token_destination(&url)?;
            let token = self.inner.credential.token(scope).await?;
            http.insert_header("authorization", format!("Bearer {}", token.expose()));
        }
        http.insert_header("accept", "application/json");
        for (name, value) in &request.headers {
            http.insert_header(*name, value.expose().to_owned());
        }
        if let Some(body) = &request.body {
            let bytes = serde_json::to_vec(body).map_err(|e| ArmError::InvalidRequest {
                operation: request.operation.clone(),
                message: e.to_string(),
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
            .map_err(|source| ArmError::Transport {
                operation: request.operation.clone(),
                url: url_for_display(url.as_str()).to_owned(),
                source: Box::new(source),
            })?;
        let (status, headers, body) = raw.deconstruct();
        let status_code = u16::from(status);
        let response = ArmResponse {
            status: status_code,
            headers,
            body: ResponseBody(body.to_vec()),
        };
        if status.is_success() {
            tracing::debug!(operation = %request.operation, status = status_code, "done");
            Ok(response)
        } else {
            Err(service_error(&request.operation, status, &response))
        }
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

    fn poll_delay(&self, response: &ArmResponse) -> Duration {
        response
            .header(&RETRY_AFTER)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or(self.inner.options.poll_interval)
    }
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
