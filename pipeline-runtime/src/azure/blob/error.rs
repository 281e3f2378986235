//! What went wrong with a blob upload: [`BlobError`], the record of an incomplete upload, and
//! storage client errors turned into ours (status, storage code, a hint, SAS signatures
//! redacted).

use std::path::PathBuf;
use std::time::Duration;

use azure_core::error::ErrorKind;
use azure_core::http::headers::{self, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS};
use azure_core::http::policies::get_retry_after;
use azure_storage_blob::StorageError;

use super::super::sas::{SasError, redact_url_str};

/// Errors from blob uploads.
///
/// None of them carries a SAS signature or an account key: messages from the HTTP stack are
/// redacted before they are kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// A SAS or account key could not be used.
    #[error(transparent)]
    Sas(#[from] SasError),
    /// The container URL or credential cannot make a storage client.
    #[error("cannot use container `{container}`: {reason}")]
    Client {
        /// The container URL, without any SAS.
        container: String,
        /// Why.
        reason: String,
    },
    /// A local file or folder could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The local path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file name is not valid UTF-8, so it cannot become a blob name.
    #[error("`{}` has a name that is not valid UTF-8; blob names must be text: rename it", path.display())]
    NonUtf8Path {
        /// The local path.
        path: PathBuf,
    },
    /// The storage service refused a request.
    #[error("blob `{blob}`: storage answered HTTP {status}{}: {message}{}", code_suffix(.code), hint_suffix(.hint.as_deref()))]
    Storage {
        /// The blob name.
        blob: String,
        /// The HTTP status.
        status: u16,
        /// The storage error code (`AuthenticationFailed`, `BlobAlreadyExists`, …).
        code: Option<String>,
        /// The service's message.
        message: String,
        /// What to do about it, when we know.
        hint: Option<String>,
    },
    /// The request could not be completed (connection refused or reset, timeout), retries
    /// included.
    #[error("blob `{blob}`: request failed after retries: {message}")]
    Transport {
        /// The blob name.
        blob: String,
        /// What happened, redacted.
        message: String,
    },
    /// Some files were not uploaded; the others were.
    #[error("{}", describe_incomplete(.0))]
    Incomplete(Box<IncompleteUpload>),
}

impl BlobError {
    /// The HTTP status, for a refused request.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Storage { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The storage error code, for a refused request.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Storage { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether this error means no other request to the container can succeed either (bad
    /// credentials, missing container): then the remaining files are not attempted.
    pub(super) fn is_fatal_for_container(&self) -> bool {
        match self {
            Self::Storage { status, code, .. } => {
                matches!(status, 401 | 403) || code.as_deref() == Some("ContainerNotFound")
            }
            _ => false,
        }
    }
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_ref().map(|c| format!(" {c}")).unwrap_or_default()
}

fn hint_suffix(hint: Option<&str>) -> String {
    hint.map(|h| format!(" (hint: {h})")).unwrap_or_default()
}

fn describe_incomplete(i: &IncompleteUpload) -> String {
    let mut text = format!(
        "{} of {} files were not uploaded",
        i.failed.len() + i.not_attempted.len(),
        i.uploaded + i.failed.len() + i.not_attempted.len()
    );
    if let Some(first) = i.failed.first() {
        text.push_str(&format!("; first failure: {}", first.error));
    }
    if !i.not_attempted.is_empty() {
        text.push_str(&format!(
            "; {} not attempted after that error",
            i.not_attempted.len()
        ));
    }
    text
}

/// What an upload that did not fully succeed did and did not do.
#[derive(Debug)]
pub struct IncompleteUpload {
    /// How many files were uploaded.
    pub uploaded: usize,
    /// The files that failed, each with its error.
    pub failed: Vec<FailedFile>,
    /// The files not attempted because an earlier error showed that none could succeed (for
    /// example a rejected SAS).
    pub not_attempted: Vec<(PathBuf, String)>,
}

/// One file that failed to upload.
#[derive(Debug)]
pub struct FailedFile {
    /// The local file.
    pub local: PathBuf,
    /// The blob name it was going to.
    pub blob: String,
    /// Why it failed.
    pub error: BlobError,
}

/// Turns a storage client error into ours: status, storage code and message for a refused
/// request, a redacted description for anything else.
pub(super) fn to_blob_error(blob: &str, err: azure_core::Error) -> BlobError {
    if err.http_status().is_some() {
        match StorageError::try_from(err) {
            Ok(se) => {
                let status = u16::from(se.status_code);
                let code = se.error_code.map(|c| c.to_string());
                let message = se
                    .message
                    .as_deref()
                    .map(|m| m.lines().next().unwrap_or_default().trim())
                    .filter(|m| !m.is_empty())
                    .map(redact_url_str)
                    .or(se
                        .authentication_error_detail
                        .as_deref()
                        .map(redact_url_str))
                    .unwrap_or_else(|| "no details given".to_owned());
                let hint = hint_for(status, code.as_deref()).map(str::to_owned);
                BlobError::Storage {
                    blob: blob.to_owned(),
                    status,
                    code,
                    message,
                    hint,
                }
            }
            Err(other) => BlobError::Transport {
                blob: blob.to_owned(),
                message: error_chain(&other),
            },
        }
    } else {
        BlobError::Transport {
            blob: blob.to_owned(),
            message: error_chain(&err),
        }
    }
}

/// The wait a refused request asks for (`Retry-After`, `retry-after-ms`, `x-ms-retry-after-ms`).
pub(super) fn asked_wait(err: &azure_core::Error) -> Option<Duration> {
    let ErrorKind::HttpResponse {
        raw_response: Some(raw),
        ..
    } = err.kind()
    else {
        return None;
    };
    get_retry_after(
        raw.headers(),
        azure_core::time::OffsetDateTime::now_utc,
        &[RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS, headers::RETRY_AFTER],
    )
    .map(|d| Duration::try_from(d).unwrap_or_default())
}

/// An error and its causes on one line, with any SAS signature redacted.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    redact_url_str(&text)
}

/// What a person can do about a refused request.
pub(super) fn hint_for(status: u16, code: Option<&str>) -> Option<&'static str> {
    Some(match (status, code) {
        (403, Some("AuthenticationFailed" | "AuthorizationFailure")) => {
            "the SAS or account key was refused: check the key, that the SAS has not expired and grants create, write and read, the machine's clock, and any storage firewall"
        }
        (403, Some("AuthorizationPermissionMismatch" | "AuthorizationResourceTypeMismatch")) => {
            "the credential lacks a permission: uploads need create and write, the completion check needs read"
        }
        (403, Some("AuthorizationProtocolMismatch")) => {
            "the SAS allows https only: use an https endpoint"
        }
        (403, _) | (401, _) => "the credential was refused: check it and its expiry",
        (404, Some("ContainerNotFound")) => {
            "the container does not exist: create it, or ask Azure ML for a new upload URL"
        }
        (409, Some("BlobAlreadyExists")) => {
            "the blob exists and overwrite is off: turn overwrite on or choose another name"
        }
        (413, _) => "the request was too large: use a smaller block size",
        (500..=599, _) => "the storage service kept failing after retries: try again later",
        _ => return None,
    })
}
