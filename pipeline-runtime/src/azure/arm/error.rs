//! What went wrong with a control-plane call: [`ArmError`], and ARM error bodies turned into
//! [`ServiceError`]s with a hint a person can act on, service text redacted.

use std::fmt;
use std::time::Duration;

use azure_core::http::StatusCode;
use serde::Deserialize;

use super::super::auth::AuthError;
use super::super::retry::seconds;
use super::super::secret::redact;
use super::{ArmResponse, CORRELATION_ID, REQUEST_ID};

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
        "{operation}: still running after {}; it may still finish: look at it in Azure ML \
         studio, or raise AZUREML_OPERATION_TIMEOUT",
        seconds(*.waited)
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
    /// The command's time budget ([`super::super::retry::start_command_budget`]) is spent.
    #[error("{operation}: not sent: {why}")]
    Budget {
        /// What was about to be done.
        operation: String,
        /// Which budget, how large, and the variable that sets it.
        why: String,
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

pub(super) fn service_error(
    operation: &str,
    status: StatusCode,
    response: &ArmResponse,
) -> ArmError {
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

#[cfg(test)]
mod tests {
    use super::*;

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
