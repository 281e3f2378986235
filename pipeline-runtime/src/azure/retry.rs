//! How long requests may wait, and what a person waiting is told: [`RetryConfig`] (the retry
//! budget, backoff and the cap on `Retry-After`), [`Notice`]s for each retry and each long wait,
//! and transport errors named the way a person says them. [`super::arm::ArmClient`] applies them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::secret::redact;

/// How hard to retry a request that failed with a retryable status, a connection error or no
/// answer in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfig {
    /// Retries after the first try (default 10, `AZUREML_MAX_RETRIES`).
    pub max_retries: u32,
    /// First backoff; doubled each retry, plus up to 255 ms of jitter (default 800 ms).
    pub initial_delay: Duration,
    /// Longest wait between two tries, also when the service's `Retry-After` asks for more
    /// (default 30 s, `AZUREML_MAX_RETRY_WAIT`).
    pub max_delay: Duration,
    /// The retry budget: a request and its retries give up once this much time has passed since
    /// the first try, and no wait that would end past it is started (default 50 s,
    /// `AZUREML_RETRY_BUDGET`).
    pub max_elapsed: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 10,
            initial_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(50),
        }
    }
}

/// One retry about to happen: what failed, how long the wait is, which try comes next.
///
/// Its `Display` is the line a person sees:
///
/// ```
/// use std::time::Duration;
/// use azureml_pipelines_runtime::azure::arm::RetryNotice;
/// let notice = RetryNotice {
///     operation: "PUT components/prep".into(),
///     reason: "429".into(),
///     wait: Duration::from_secs(30),
///     attempt: 3,
///     attempts: 11,
/// };
/// assert_eq!(notice.to_string(), "429 from PUT components/prep; retrying in 30 s, attempt 3 of 11");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryNotice {
    /// The request, e.g. `PUT components/prep`.
    pub operation: String,
    /// What went wrong: a status (`429`), `no answer within 30 s`, `connection refused`, ...
    pub reason: String,
    /// How long until the next try.
    pub wait: Duration,
    /// The number of the next try (the first try is 1).
    pub attempt: u32,
    /// The most tries there will be.
    pub attempts: u32,
}

impl fmt::Display for RetryNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} from {}; retrying in {}, attempt {} of {}",
            self.reason,
            self.operation,
            seconds(self.wait),
            self.attempt,
            self.attempts
        )
    }
}

/// A duration for people: `30 s`, `1.5 s`, `250 ms`.
pub(crate) fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else if d >= Duration::from_secs(3600) {
        format!("{} s ({:.1} h)", d.as_secs(), d.as_secs_f64() / 3600.0)
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// What a person waiting on a request is told: a retry about to happen, or a try that has had no
/// answer for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A retry is about to happen.
    Retry(RetryNotice),
    /// A try has had no answer for `waited` (said every [`ArmClientOptions::notice_every`](super::arm::ArmClientOptions::notice_every)).
    StillWaiting {
        /// The request.
        operation: String,
        /// How long this try has waited so far.
        waited: Duration,
        /// When this try is given up.
        limit: Duration,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Retry(r) => r.fmt(f),
            Notice::StillWaiting {
                operation,
                waited,
                limit,
            } => write!(
                f,
                "no answer yet from {operation} after {}; this try is given up after {}",
                seconds(*waited),
                seconds(*limit)
            ),
        }
    }
}

/// Told about each retry before its wait and about each long wait for an answer; see
/// [`ArmClientOptions::on_retry`](super::arm::ArmClientOptions::on_retry).
#[derive(Clone, Default)]
pub struct RetryListener(Option<Arc<RetryFn>>);

type RetryFn = dyn Fn(&Notice) + Send + Sync;

impl RetryListener {
    /// A listener that calls `f` with each notice.
    pub fn new(f: impl Fn(&Notice) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(f)))
    }

    pub(crate) fn notify(&self, notice: &Notice) {
        if let Some(f) = &self.0 {
            f(notice);
        }
    }
}

impl fmt::Debug for RetryListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "RetryListener(set)"
        } else {
            "RetryListener(none)"
        })
    }
}

/// Up to 255 ms of jitter, so clients that failed together do not retry together.
pub(crate) fn jitter() -> u8 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    (nanos % 256) as u8
}

/// A transport error and its causes on one line, named the way a person says it (`connection
/// refused`, `host not found`), secrets removed.
pub(crate) fn describe_transport_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut kind = None;
    let mut texts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            kind = kind.or(match io.kind() {
                std::io::ErrorKind::ConnectionRefused => Some("connection refused"),
                std::io::ErrorKind::ConnectionReset => Some("connection reset"),
                std::io::ErrorKind::ConnectionAborted => Some("connection aborted"),
                std::io::ErrorKind::TimedOut => Some("no answer in time"),
                std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable => {
                    Some("host unreachable")
                }
                _ => None,
            });
        }
        let text = e.to_string();
        if !texts.iter().any(|t| t.contains(&text)) {
            texts.push(text);
        }
        current = e.source();
    }
    let joined = texts.join(": ");
    let lower = joined.to_ascii_lowercase();
    let kind = kind.or(
        if lower.contains("dns error") || lower.contains("failed to lookup") {
            Some("host not found")
        } else if lower.contains("connection refused") {
            Some("connection refused")
        } else if lower.contains("timed out") {
            Some("no answer in time")
        } else if lower.contains("connection closed") || lower.contains("incomplete message") {
            Some("connection closed without an answer")
        } else {
            None
        },
    );
    // The outer layers only repeat the URL (already shown by the caller); the innermost cause
    // says what happened.
    match kind {
        Some(k) => k.to_owned(),
        None => redact(texts.last().map_or("", String::as_str)),
    }
}
