//! Metrics of a step running on Azure ML, sent to the job's MLflow tracking endpoint.
//!
//! Azure ML gives every job the MLflow environment of its run:
//!
//! * `MLFLOW_TRACKING_URI` — `azureml://<region>.api.azureml.ms/mlflow/v1.0/subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/workspaces/<ws>`
//!   (the `azureml-mlflow` plugin turns `azureml://HOST/PATH` into `https://HOST/PATH`, drops the
//!   query, and appends MLflow's REST paths to it);
//! * `MLFLOW_RUN_ID` — the step's run;
//! * `MLFLOW_TRACKING_TOKEN` — a bearer token for that endpoint.
//!
//! [`MlflowClient::log_metric`] sends one point with MLflow's REST API,
//! `POST {base}/api/2.0/mlflow/runs/log-metric` with `{run_id, key, value, timestamp, step}`.
//! A number per step is a point at step 0; a series is points at steps 0, 1, 2, …
//!
//! Metrics never fail a step: [`log_metric`] (what a Rust step's metrics go through on Azure ML)
//! prints a warning line to stderr when a point cannot be sent, and after
//! [`MAX_CONSECUTIVE_FAILURES`] failures in a row stops trying, so a dead endpoint costs a
//! step at most that many timeouts ([`TIMEOUT_ENV`], 10 s by default). The token is a
//! [`Secret`]: redacted in `Debug`, in errors and in the warnings.
//!
//! The API is blocking, for use inside a step's process: each client owns a small
//! current-thread tokio runtime and drives the crate's `reqwest` client on it (no second HTTP
//! stack, and no thread pool in a step process). Called from inside another tokio runtime, the
//! request runs on a short-lived thread of its own.
//!
//! Plain `http://` tracking URIs are accepted for loopback hosts only (a local MLflow server,
//! tests); elsewhere the token goes over `https` only.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::azure::secret::{Secret, redact};

/// The tracking URI Azure ML sets in every job.
pub const TRACKING_URI_ENV: &str = "MLFLOW_TRACKING_URI";
/// The run the metrics belong to.
pub const RUN_ID_ENV: &str = "MLFLOW_RUN_ID";
/// The bearer token for the tracking endpoint.
pub const TOKEN_ENV: &str = "MLFLOW_TRACKING_TOKEN";
/// Seconds one metric request may take (default 10).
pub const TIMEOUT_ENV: &str = "AZUREML_PIPELINES_MLFLOW_TIMEOUT_SECS";
/// After this many failures in a row, [`log_metric`] stops sending for the rest of the process.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 3;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const LOG_METRIC_PATH: &str = "api/2.0/mlflow/runs/log-metric";

/// Why a metric could not be sent, or the environment not read.
#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    /// `MLFLOW_TRACKING_URI` is not a URI this client can send to.
    #[error(
        "{TRACKING_URI_ENV} `{uri}` cannot be used ({reason}); expected \
         `azureml://<host>/mlflow/v1.0/subscriptions/…/workspaces/<name>` as Azure ML sets it, \
         or an `https://` MLflow server"
    )]
    BadUri {
        /// The URI (without its query).
        uri: String,
        /// What is wrong.
        reason: String,
    },
    /// The tracking URI is set but not the run id or the token.
    #[error("{TRACKING_URI_ENV} is set but {var} is not; Azure ML sets both in a job")]
    Missing {
        /// The variable that is missing.
        var: &'static str,
    },
    /// The request could not be made or got no answer.
    #[error("sending metric `{key}` to MLflow at {host} failed: {reason}")]
    Request {
        /// The metric.
        key: String,
        /// The tracking host.
        host: String,
        /// What went wrong (secrets redacted).
        reason: String,
    },
    /// The tracking endpoint refused the metric.
    #[error("MLflow at {host} answered {status} to metric `{key}`: {body}")]
    Status {
        /// The metric.
        key: String,
        /// The tracking host.
        host: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer (secrets redacted).
        body: String,
    },
    /// The value cannot be written as JSON.
    #[error("metric `{key}` is {value}, which MLflow cannot store; log a finite number")]
    NotFinite {
        /// The metric.
        key: String,
        /// The value.
        value: f64,
    },
    /// The HTTP client or its runtime could not be created.
    #[error("cannot create the MLflow client: {0}")]
    Client(String),
}

/// Where a run's metrics go: the tracking endpoint, the run and the token.
#[derive(Clone, PartialEq, Eq)]
pub struct MlflowTarget {
    /// The base every MLflow REST path is appended to, e.g.
    /// `https://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/…/workspaces/ws`.
    pub base: String,
    /// The run id.
    pub run_id: String,
    /// The bearer token.
    pub token: Secret,
}

impl fmt::Debug for MlflowTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MlflowTarget")
            .field("base", &self.base)
            .field("run_id", &self.run_id)
            .field("token", &self.token)
            .finish()
    }
}

impl MlflowTarget {
    /// The target of this process's environment; `Ok(None)` when `MLFLOW_TRACKING_URI` is not
    /// set (not running as an Azure ML job).
    ///
    /// # Errors
    ///
    /// As [`MlflowTarget::from_vars`].
    pub fn from_env() -> Result<Option<Self>, MlflowError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The target named by environment variables read through `var`.
    ///
    /// ```
    /// use azureml_pipelines_runtime::mlflow::MlflowTarget;
    /// let vars = [
    ///     ("MLFLOW_TRACKING_URI", "azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws?x=1"),
    ///     ("MLFLOW_RUN_ID", "run-1"),
    ///     ("MLFLOW_TRACKING_TOKEN", "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2ln"),
    /// ];
    /// let get = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
    /// let target = MlflowTarget::from_vars(get).unwrap().unwrap();
    /// assert_eq!(
    ///     target.log_metric_url(),
    ///     "https://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/api/2.0/mlflow/runs/log-metric"
    /// );
    /// assert!(!format!("{target:?}").contains("eyJ0"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`MlflowError::BadUri`] for a URI that is not `azureml://`, `https://` or a loopback
    /// `http://`; [`MlflowError::Missing`] when the run id or the token is not set.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, MlflowError> {
        let Some(uri) = var(TRACKING_URI_ENV).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        let base = base_url(uri.trim())?;
        let run_id = var(RUN_ID_ENV)
            .filter(|v| !v.trim().is_empty())
            .ok_or(MlflowError::Missing { var: RUN_ID_ENV })?;
        let token = var(TOKEN_ENV)
            .filter(|v| !v.trim().is_empty())
            .ok_or(MlflowError::Missing { var: TOKEN_ENV })?;
        Ok(Some(Self {
            base,
            run_id: run_id.trim().to_owned(),
            token: Secret::new(token.trim()),
        }))
    }

    /// `POST` here to log a metric.
    pub fn log_metric_url(&self) -> String {
        format!("{}/{LOG_METRIC_PATH}", self.base)
    }

    fn host(&self) -> &str {
        let rest = self.base.split_once("://").map_or("", |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}

/// The REST base of a tracking URI: `azureml://` becomes `https://`, the query and a trailing
/// `/` are dropped.
fn base_url(uri: &str) -> Result<String, MlflowError> {
    let without_query = uri.split(['?', '#']).next().unwrap_or(uri);
    let bad = |reason: &str| MlflowError::BadUri {
        uri: without_query.to_owned(),
        reason: reason.to_owned(),
    };
    let (scheme, rest) = without_query
        .split_once("://")
        .ok_or_else(|| bad("no scheme"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "azureml" | "https" => "https",
        "http" if is_loopback(host) => "http",
        "http" => return Err(bad("plain http is accepted for loopback hosts only")),
        _ => return Err(bad("unknown scheme")),
    };
    let url = format!("{scheme}://{}", rest.trim_end_matches('/'));
    url::Url::parse(&url).map_err(|e| bad(&e.to_string()))?;
    Ok(url)
}

fn is_loopback(host: &str) -> bool {
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(name, _)| name);
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// A blocking MLflow client for one run.
pub struct MlflowClient {
    target: MlflowTarget,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    timeout: Duration,
}

impl fmt::Debug for MlflowClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MlflowClient")
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl MlflowClient {
    /// A client for `target`, each request bounded by `timeout`.
    ///
    /// # Errors
    ///
    /// [`MlflowError::Client`] when the HTTP client or its runtime cannot be created.
    pub fn new(target: MlflowTarget, timeout: Duration) -> Result<Self, MlflowError> {
        crate::azure::tls::install();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect could carry the token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| MlflowError::Client(redact(&e.to_string())))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| MlflowError::Client(e.to_string()))?;
        Ok(Self {
            target,
            http,
            runtime,
            timeout,
        })
    }

    /// The run this client logs to.
    pub fn target(&self) -> &MlflowTarget {
        &self.target
    }

    /// Logs `value` for metric `key` at `step` (0 for a single number), timestamped now.
    ///
    /// # Errors
    ///
    /// [`MlflowError`]: no answer within the timeout, or an answer other than 2xx.
    pub fn log_metric(&self, key: &str, value: f64, step: i64) -> Result<(), MlflowError> {
        if !value.is_finite() {
            return Err(MlflowError::NotFinite {
                key: key.to_owned(),
                value,
            });
        }
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let body = serde_json::json!({
            "run_id": self.target.run_id,
            "key": key,
            "value": value,
            "timestamp": timestamp,
            "step": step,
        })
        .to_string();
        let send = || self.runtime.block_on(self.send(key, body.clone()));
        if tokio::runtime::Handle::try_current().is_ok() {
            // Blocking on a runtime inside another one is refused: use a thread of its own.
            std::thread::scope(|s| s.spawn(send).join())
                .unwrap_or_else(|_| Err(MlflowError::Client("the request thread panicked".into())))
        } else {
            send()
        }
    }

    async fn send(&self, key: &str, body: String) -> Result<(), MlflowError> {
        let host = self.target.host().to_owned();
        let response = self
            .http
            .post(self.target.log_metric_url())
            .header("content-type", "application/json")
            .header(
                "authorization",
                format!("Bearer {}", self.target.token.expose()),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| MlflowError::Request {
                key: key.to_owned(),
                host: host.clone(),
                reason: redact(&error_chain(&e)),
            })?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let body: String = redact(&text).chars().take(300).collect();
        Err(MlflowError::Status {
            key: key.to_owned(),
            host,
            status,
            body,
        })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// What [`SoftLogger::log`] did with a point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Logged {
    /// Sent.
    Sent,
    /// Not sent; the warning line that says why.
    Warned(String),
    /// Not sent, silently: earlier failures stopped sending.
    Stopped,
}

/// Sends metrics without ever failing: a point that cannot be sent becomes a warning line, and
/// after [`MAX_CONSECUTIVE_FAILURES`] failures in a row nothing more is sent.
#[derive(Debug)]
pub struct SoftLogger {
    client: Result<MlflowClient, String>,
    failures: AtomicU32,
}

impl SoftLogger {
    /// A logger sending through `client`.
    pub fn new(client: MlflowClient) -> Self {
        Self {
            client: Ok(client),
            failures: AtomicU32::new(0),
        }
    }

    /// A logger that cannot send (its environment was wrong): the first point warns with
    /// `reason`, the others are dropped.
    pub fn broken(reason: String) -> Self {
        Self {
            client: Err(reason),
            failures: AtomicU32::new(MAX_CONSECUTIVE_FAILURES - 1),
        }
    }

    /// Sends one point; never fails.
    pub fn log(&self, key: &str, value: f64, step: i64) -> Logged {
        if self.failures.load(Ordering::SeqCst) >= MAX_CONSECUTIVE_FAILURES {
            return Logged::Stopped;
        }
        let error = match &self.client {
            Ok(client) => match client.log_metric(key, value, step) {
                Ok(()) => {
                    self.failures.store(0, Ordering::SeqCst);
                    return Logged::Sent;
                }
                // A value MLflow cannot store says nothing about the endpoint.
                Err(e @ MlflowError::NotFinite { .. }) => {
                    return Logged::Warned(format!("warning: {e}; the step goes on"));
                }
                Err(e) => e.to_string(),
            },
            Err(reason) => reason.clone(),
        };
        let failures = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
        let mut line =
            format!("warning: metric `{key}` not sent to MLflow: {error}; the step goes on");
        if failures >= MAX_CONSECUTIVE_FAILURES {
            line.push_str(" (no further metrics are sent to MLflow by this step)");
        }
        Logged::Warned(redact(&line))
    }
}

/// Logs a point to the MLflow run of this process's environment (an Azure ML job), printing a
/// warning line to stderr when it cannot be sent; never fails, never panics. Returns `false`
/// without doing anything when the process is not an Azure ML job (`MLFLOW_TRACKING_URI` unset).
///
/// `step` is the point's index in a series; 0 for a single number.
pub fn log_metric(key: &str, value: f64, step: i64) -> bool {
    static LOGGER: OnceLock<Mutex<Option<SoftLogger>>> = OnceLock::new();
    let logger = LOGGER.get_or_init(|| Mutex::new(logger_from_env()));
    let guard = logger.lock().unwrap_or_else(|e| e.into_inner());
    let Some(logger) = guard.as_ref() else {
        return false;
    };
    match logger.log(key, value, step) {
        Logged::Sent => true,
        Logged::Warned(line) => {
            eprintln!("{line}");
            false
        }
        Logged::Stopped => false,
    }
}

fn logger_from_env() -> Option<SoftLogger> {
    let timeout = std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64);
    match MlflowTarget::from_env() {
        Ok(None) => None,
        Ok(Some(target)) => Some(match MlflowClient::new(target, timeout) {
            Ok(client) => SoftLogger::new(client),
            Err(e) => SoftLogger::broken(e.to_string()),
        }),
        Err(e) => Some(SoftLogger::broken(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws?is-remote=true";

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn azureml_uris_map_to_https_without_the_query() {
        let t = MlflowTarget::from_vars(vars(&[
            (TRACKING_URI_ENV, URI),
            (RUN_ID_ENV, "r1"),
            (TOKEN_ENV, "tok-tok-tok-tok"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            t.base,
            "https://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
        );
        assert_eq!(t.host(), "westeurope.api.azureml.ms");
        assert_eq!(t.run_id, "r1");
        let shown = format!("{t:?}");
        assert!(!shown.contains("tok-tok"), "{shown}");
    }

    #[test]
    fn no_tracking_uri_is_not_an_error_but_a_half_environment_is() {
        assert!(MlflowTarget::from_vars(vars(&[])).unwrap().is_none());
        let err = MlflowTarget::from_vars(vars(&[(TRACKING_URI_ENV, URI), (TOKEN_ENV, "t")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "MLFLOW_TRACKING_URI is set but MLFLOW_RUN_ID is not; Azure ML sets both in a job"
        );
        let err = MlflowTarget::from_vars(vars(&[(TRACKING_URI_ENV, URI), (RUN_ID_ENV, "r")]))
            .unwrap_err();
        assert!(
            err.to_string().contains("MLFLOW_TRACKING_TOKEN is not"),
            "{err}"
        );
    }

    #[test]
    fn plain_http_only_to_loopback_and_no_unknown_schemes() {
        assert_eq!(
            base_url("http://127.0.0.1:5000/mlflow/v1.0/x/").unwrap(),
            "http://127.0.0.1:5000/mlflow/v1.0/x"
        );
        assert!(base_url("http://localhost/").is_ok());
        let err = base_url("http://tracking.example.com/x?secret=1").unwrap_err();
        assert!(err.to_string().contains("loopback hosts only"), "{err}");
        assert!(!err.to_string().contains("secret=1"), "{err}");
        assert!(base_url("file:///tmp/mlruns").is_err());
        assert!(base_url("databricks").is_err());
        assert!(base_url("azureml:///no-host").is_err());
    }

    #[test]
    fn a_broken_environment_warns_once_then_stays_quiet() {
        let logger = SoftLogger::broken("MLFLOW_RUN_ID is not set".into());
        let Logged::Warned(line) = logger.log("loss", 1.0, 0) else {
            panic!("expected a warning");
        };
        assert!(
            line.starts_with("warning: metric `loss` not sent to MLflow"),
            "{line}"
        );
        assert_eq!(logger.log("loss", 2.0, 1), Logged::Stopped);
    }
}
