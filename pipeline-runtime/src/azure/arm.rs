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
//! The settings live in `arm/options.rs`, the errors in `arm/error.rs`, long-running operations in
//! `arm/lro.rs`, and the retry rules in [`super::retry`].

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

use super::auth::{ARM_SCOPE, Credential, check_token_destination};
pub(crate) use super::retry::{NextTry, describe_transport_error, next_try, seconds, time_left};
pub use super::retry::{Notice, RetryConfig, RetryListener, RetryNotice};
use super::secret::{Secret, url_for_display};

mod error;
mod lro;
mod options;

use error::service_error;
pub use error::{ArmError, ErrorDetail, ServiceError};
pub use options::{
    ApiVersions, ArmClientOptions, ENV_MAX_RETRIES, ENV_MAX_RETRY_WAIT, ENV_OPERATION_TIMEOUT,
    ENV_REQUEST_TIMEOUT, ENV_RETRY_BUDGET,
};

const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
const LOCATION: HeaderName = HeaderName::from_static("location");
const RETRY_AFTER: HeaderName = HeaderName::from_static("retry-after");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
const CORRELATION_ID: HeaderName = HeaderName::from_static("x-ms-correlation-request-id");

/// Which token a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// An ARM token ([`ARM_SCOPE`]).
    Arm,
    /// An Azure ML data-plane token ([`super::auth::AML_SCOPE`]), e.g. run history.
    AzureMl,
    /// An ARM token for the audience the v1 SDK uses ([`super::auth::LEGACY_ARM_SCOPE`]): the v1
    /// pipelines service.
    LegacyArm,
    /// No token (public documents such as workspace discovery).
    None,
}

impl TokenScope {
    fn scope(self) -> Option<&'static str> {
        match self {
            TokenScope::Arm => Some(ARM_SCOPE),
            TokenScope::AzureMl => Some(super::auth::AML_SCOPE),
            TokenScope::LegacyArm => Some(super::auth::LEGACY_ARM_SCOPE),
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
    /// `Content-Type` of the body (default `application/json`).
    pub content_type: &'static str,
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
            content_type: "application/json",
        }
    }

    /// Sets the `Content-Type` sent with the body.
    pub fn content_type(mut self, content_type: &'static str) -> Self {
        self.content_type = content_type;
        self
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
        let started = std::time::Instant::now();
        let mut url = request.url.clone();
        if let Some(v) = &request.api_version {
            url.query_pairs_mut().append_pair("api-version", v);
        }
        let shown_url = url_for_display(url.as_str()).to_owned();
        let mut attempt: u32 = 1;
        loop {
            let left = time_left(retry, started).map_err(|why| ArmError::Budget {
                operation: request.operation.clone(),
                why,
            })?;
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
                            "no answer within {} (what was left of the time budget)",
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
            let wait = match next_try(retry, attempt, asked, started) {
                NextTry::Wait(wait) => wait,
                NextTry::GiveUp(why) => {
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
                            cause: format!("{cause}; {why}"),
                            attempts: attempt,
                            elapsed: started.elapsed(),
                        },
                        other => other,
                    });
                }
            };
            attempt += 1;
            let notice = Notice::Retry(RetryNotice {
                operation: request.operation.clone(),
                reason,
                wait,
                attempt,
                attempts,
            });
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
            http.insert_header("content-type", request.content_type);
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
}

/// Why one try did not get an answer.
enum TryError {
    /// Not worth retrying (no token, a request that cannot be built).
    Fatal(ArmError),
    /// No answer (connection refused, reset, DNS): retried. The text has secrets removed.
    Transport(String),
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
