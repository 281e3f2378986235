//! Faults injected in front of routing: an answer instead of the real one, a dropped
//! connection, a delay.

use std::time::{Duration, SystemTime};

use super::http::arm_error_body;

/// What to do instead of answering normally.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status, headers and body.
    Respond {
        /// Status.
        status: u16,
        /// Headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: String,
    },
    /// Close the connection after reading the request, without answering (nothing is done).
    Drop,
    /// Handle the request (state changes happen), then close the connection without answering:
    /// the client cannot know whether it worked.
    DropAfterProcessing,
    /// Wait this long, then answer normally.
    Delay(Duration),
}

impl Fault {
    /// 429 with `Retry-After: <secs>`.
    pub fn throttle_secs(secs: u64) -> Self {
        Self::throttle_with(("retry-after", secs.to_string()))
    }

    /// 429 with `retry-after-ms: <ms>`.
    pub fn throttle_ms(ms: u64) -> Self {
        Self::throttle_with(("retry-after-ms", ms.to_string()))
    }

    /// 429 with `Retry-After: <HTTP date>`.
    pub fn throttle_until(at: SystemTime) -> Self {
        Self::throttle_with(("retry-after", httpdate::fmt_http_date(at)))
    }

    fn throttle_with((name, value): (&str, String)) -> Self {
        Self::Respond {
            status: 429,
            headers: vec![(name.to_owned(), value)],
            body: arm_error_body(
                "TooManyRequests",
                "The request is being throttled as the limit has been reached for operation type.",
                None,
            ),
        }
    }

    /// 503 with an ARM error body and no `Retry-After`.
    pub fn unavailable() -> Self {
        Self::arm_error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable.",
        )
    }

    /// Any status with an ARM error body `{"error": {"code", "message"}}`.
    pub fn arm_error(status: u16, code: &str, message: &str) -> Self {
        Self::Respond {
            status,
            headers: Vec::new(),
            body: arm_error_body(code, message, None),
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Fault::Respond { status, .. } => format!("status {status}"),
            Fault::Drop => "dropped connection".into(),
            Fault::DropAfterProcessing => "dropped connection after processing".into(),
            Fault::Delay(d) => format!("delay {d:?}"),
        }
    }
}

/// A fault for the next `times` requests whose method and path match.
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub(super) method: Option<String>,
    pub(super) path_contains: String,
    pub(super) fault: Fault,
    pub(super) times: usize,
}

impl FaultRule {
    /// Matches requests with this method (`"*"` for any) whose path contains `path_contains`.
    /// Defaults to 503, once.
    pub fn new(method: &str, path_contains: &str) -> Self {
        Self {
            method: (method != "*").then(|| method.to_ascii_uppercase()),
            path_contains: path_contains.to_owned(),
            fault: Fault::unavailable(),
            times: 1,
        }
    }

    /// The fault to answer with.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    /// How many matching requests get the fault.
    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }
}
