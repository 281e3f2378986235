//! How long requests may wait, and what a person waiting is told: [`RetryConfig`] (the retry
//! budget, backoff and the cap on `Retry-After`), the [command budget](start_command_budget)
//! that bounds all requests of one command, [`Notice`]s for each retry and each long wait, and
//! transport errors named the way a person says them. [`super::arm::ArmClient`] and
//! [`super::blob::BlobUploader`] apply them.

use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

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

/// Variable: the budget of all requests of one command, in seconds (default 3600).
pub const ENV_COMMAND_BUDGET: &str = "AZUREML_COMMAND_BUDGET";

/// The default [command budget](start_command_budget): one hour.
pub const DEFAULT_COMMAND_BUDGET: Duration = Duration::from_secs(3600);

/// The budget of one command: no request (control plane or blob upload) starts a try, and no
/// retry waits, past `started + budget`. Following a job to its end (`submit --wait`) is not
/// counted: it ends when the job does, and each of its requests keeps its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandBudget {
    /// When the command started.
    pub started: Instant,
    /// How long its requests may take in all.
    pub budget: Duration,
}

impl CommandBudget {
    /// When the budget is spent.
    pub fn deadline(&self) -> Instant {
        self.started + self.budget
    }
}

static COMMAND_BUDGET: Mutex<Option<CommandBudget>> = Mutex::new(None);

/// Starts the budget of this process's command: from now on, requests give up once `budget`
/// has passed, with an error naming `AZUREML_COMMAND_BUDGET`. A command line calls it once,
/// before its first request; a library user may call it too.
pub fn start_command_budget(budget: Duration) {
    *COMMAND_BUDGET.lock().unwrap_or_else(|e| e.into_inner()) = Some(CommandBudget {
        started: Instant::now(),
        budget,
    });
}

/// Ends the command budget (before following a job, which ends when the job does).
pub fn end_command_budget() {
    *COMMAND_BUDGET.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The command budget in force, if any.
pub fn command_budget() -> Option<CommandBudget> {
    *COMMAND_BUDGET.lock().unwrap_or_else(|e| e.into_inner())
}

static PROCESS_LISTENER: RwLock<Option<RetryListener>> = RwLock::new(None);

/// Sets the listener told about retries of clients built without one of their own (blob
/// uploads made inside a submission). A command line sets it to print each notice on stderr.
pub fn set_process_listener(listener: RetryListener) {
    *PROCESS_LISTENER.write().unwrap_or_else(|e| e.into_inner()) = Some(listener);
}

/// The listener set by [`set_process_listener`], or one that tells nobody.
pub fn process_listener() -> RetryListener {
    PROCESS_LISTENER
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// What comes after a failed try: a wait, or giving up and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NextTry {
    /// Wait this long, then try again.
    Wait(Duration),
    /// Give up; the text says why (and which setting bounds it).
    GiveUp(String),
}

/// Decides what follows failed try number `attempt` (1 for the first) of a request that started
/// at `started`: a wait with exponential backoff (or the `asked` `Retry-After`, capped), or
/// giving up when the tries, the request's retry budget or the command budget are spent.
pub(crate) fn next_try(
    config: &RetryConfig,
    attempt: u32,
    asked: Option<Duration>,
    started: Instant,
) -> NextTry {
    let backoff = config
        .initial_delay
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(20)))
        .saturating_add(Duration::from_millis(u64::from(jitter())));
    let wait = asked.unwrap_or(backoff).min(config.max_delay);
    let now = Instant::now();
    let request_left = (started + config.max_elapsed).saturating_duration_since(now);
    let command = command_budget();
    let command_left = command.map(|c| c.deadline().saturating_duration_since(now));
    let (left, budget_text) = match command_left {
        Some(c) if c < request_left => (
            c,
            format!(
                "the command budget of {} ({ENV_COMMAND_BUDGET})",
                seconds(command.map(|c| c.budget).unwrap_or_default())
            ),
        ),
        _ => (
            request_left,
            format!(
                "the retry budget of {} (AZUREML_RETRY_BUDGET)",
                seconds(config.max_elapsed)
            ),
        ),
    };
    if attempt > config.max_retries {
        NextTry::GiveUp(format!(
            "gave up after {attempt} tries (AZUREML_MAX_RETRIES={})",
            config.max_retries
        ))
    } else if let Some(asked) = asked.filter(|a| *a >= left) {
        // Waiting less than asked would only be answered the same way.
        NextTry::GiveUp(format!(
            "the service asked to wait {} before trying again, longer than the {} left of \
             {budget_text}",
            seconds(asked),
            seconds(left)
        ))
    } else if wait >= left {
        NextTry::GiveUp(format!(
            "gave up after {attempt} tries: {budget_text} is spent"
        ))
    } else {
        NextTry::Wait(wait)
    }
}

/// The time a request that started at `started` may still use: what is left of its retry
/// budget, or of the command budget when that ends first. `None` when the command budget is
/// already spent (the text says so).
pub(crate) fn time_left(config: &RetryConfig, started: Instant) -> Result<Duration, String> {
    let now = Instant::now();
    let request_left = (started + config.max_elapsed).saturating_duration_since(now);
    match command_budget() {
        Some(c) if c.deadline() <= now => Err(format!(
            "the command budget of {} ({ENV_COMMAND_BUDGET}) is spent; raise it for long \
             submissions",
            seconds(c.budget)
        )),
        Some(c) => Ok(request_left.min(c.deadline().saturating_duration_since(now))),
        None => Ok(request_left),
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
    /// A long-running operation is still going (said when its status changes, and at least
    /// every [`ArmClientOptions::notice_every`](super::arm::ArmClientOptions::notice_every)).
    Operation {
        /// The request that started it, e.g. `PUT computes/cpu`.
        operation: String,
        /// Its status as the service last gave it (`Creating`, `InProgress`, ...).
        status: String,
        /// How long it has run so far.
        waited: Duration,
        /// When waiting for it is given up.
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
            Notice::Operation {
                operation,
                status,
                waited,
                limit,
            } => write!(
                f,
                "{operation}: {status} after {}; waiting up to {} (AZUREML_OPERATION_TIMEOUT)",
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
