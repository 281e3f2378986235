//! The settings of an [`ArmClient`](super::ArmClient): api-versions per operation group, and the
//! time limits, read from the environment (`AZUREML_*`) or set in code.

use std::time::Duration;

use super::super::retry::{ENV_COMMAND_BUDGET, RetryConfig, RetryListener};
use super::ArmError;

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
    /// Batch endpoint PUT, GET, list and DELETE, and deployment GET, list and DELETE (default
    /// `2023-10-01`).
    pub endpoints: String,
    /// Pipeline-component batch deployment PUT (default `2023-02-01-preview`).
    pub deployments: String,
    /// Schedule PUT, GET, list and DELETE (default `2023-06-01-preview`).
    pub schedules: String,
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
            endpoints: "2023-10-01".into(),
            deployments: "2023-02-01-preview".into(),
            schedules: "2023-06-01-preview".into(),
        }
    }
}

impl ApiVersions {
    /// The defaults with overrides from `AZUREML_API_VERSION_<GROUP>` variables (`JOBS`,
    /// `COMPONENTS`, `CODES`, `DATASTORES`, `COMPUTES`, `WORKSPACES`, `DATA`, `ENVIRONMENTS`,
    /// `ENDPOINTS`, `DEPLOYMENTS`, `SCHEDULES`),
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
            ("ENDPOINTS", &mut v.endpoints),
            ("DEPLOYMENTS", &mut v.deployments),
            ("SCHEDULES", &mut v.schedules),
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
    /// Give up waiting for a long-running operation after this long (default 60 min,
    /// `AZUREML_OPERATION_TIMEOUT`).
    pub operation_timeout: Duration,
    /// Most requests [`join_bounded`] callers should keep in flight (default 16).
    pub max_concurrency: usize,
    /// Told about each retry before its wait, and about a try that has had no answer for
    /// [`notice_every`](Self::notice_every) (a command line prints each notice on stderr). Every
    /// notice is also logged as a `tracing` warning.
    pub on_retry: RetryListener,
    /// The budget of all requests of one command (default 1 h, `AZUREML_COMMAND_BUDGET`); it
    /// takes effect through [`start_command_budget`](super::super::retry::start_command_budget),
    /// which a command line calls with it.
    pub command_budget: Duration,
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
            command_budget: super::super::retry::DEFAULT_COMMAND_BUDGET,
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
/// Variable: how long to wait for a long-running operation, in seconds.
pub const ENV_OPERATION_TIMEOUT: &str = "AZUREML_OPERATION_TIMEOUT";
/// Variable: the most retries after the first try.
pub const ENV_MAX_RETRIES: &str = "AZUREML_MAX_RETRIES";

impl ArmClientOptions {
    /// The defaults, with api-versions from [`ApiVersions::from_env`] and the time limits from
    /// `AZUREML_REQUEST_TIMEOUT`, `AZUREML_RETRY_BUDGET`, `AZUREML_MAX_RETRY_WAIT`, `AZUREML_OPERATION_TIMEOUT`, `AZUREML_COMMAND_BUDGET` (seconds,
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
            (ENV_OPERATION_TIMEOUT, &mut o.operation_timeout),
            (ENV_COMMAND_BUDGET, &mut o.command_budget),
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
    fn operate_groups_default_to_the_sdk_and_take_overrides() {
        let d = ApiVersions::default();
        assert_eq!(
            (
                d.endpoints.as_str(),
                d.deployments.as_str(),
                d.schedules.as_str()
            ),
            ("2023-10-01", "2023-02-01-preview", "2023-06-01-preview")
        );
        let v = ApiVersions::with_overrides(|k| match k {
            "AZUREML_API_VERSION_ENDPOINTS" => Some("2025-12-01".to_owned()),
            "AZUREML_API_VERSION_DEPLOYMENTS" => Some("2024-10-01".to_owned()),
            "AZUREML_API_VERSION_SCHEDULES" => Some("2025-01-01-preview".to_owned()),
            _ => None,
        });
        assert_eq!(
            (
                v.endpoints.as_str(),
                v.deployments.as_str(),
                v.schedules.as_str()
            ),
            ("2025-12-01", "2024-10-01", "2025-01-01-preview")
        );
        assert_eq!(v.jobs, d.jobs);
    }
}
