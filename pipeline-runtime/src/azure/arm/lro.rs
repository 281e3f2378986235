//! Long-running operations: following `Azure-AsyncOperation` or `Location` to the end, saying
//! what is being waited for.

use std::time::Duration;

use azure_core::http::{Method, Url};
use serde::Deserialize;
use tokio::time::Instant;

use super::{
    AZURE_ASYNC_OPERATION, ArmClient, ArmError, ArmRequest, ArmResponse, ErrorDetail, LOCATION,
    Notice, RETRY_AFTER,
};

/// The body of an `Azure-AsyncOperation` poll.
#[derive(Deserialize)]
struct OperationStatus {
    status: String,
    #[serde(default)]
    error: Option<ErrorDetail>,
}

/// Tells the person waiting how a long-running operation is going: when its status changes and
/// at least every `notice_every`.
struct Progress<'a> {
    client: &'a ArmClient,
    operation: &'a str,
    started: Instant,
    last_status: Option<String>,
    last_notice: Instant,
}

impl Progress<'_> {
    fn notice(&mut self, status: &str) {
        self.last_status = Some(status.to_owned());
        self.last_notice = Instant::now();
        let options = &self.client.inner.options;
        let notice = Notice::Operation {
            operation: self.operation.to_owned(),
            status: status.to_owned(),
            waited: self.started.elapsed(),
            limit: options.operation_timeout,
        };
        tracing::info!("{notice}");
        options.on_retry.notify(&notice);
    }

    /// Says `status` if it changed.
    fn status(&mut self, status: &str) {
        if self.last_status.as_deref() != Some(status) {
            self.notice(status);
        }
    }

    /// Sleeps `delay`, saying the last status again whenever `notice_every` passes silently.
    async fn sleep(&mut self, delay: Duration) {
        let every = self
            .client
            .inner
            .options
            .notice_every
            .max(Duration::from_millis(10));
        let end = Instant::now() + delay;
        loop {
            let now = Instant::now();
            if now >= end {
                return;
            }
            let next_notice = self.last_notice + every;
            if next_notice <= now {
                let status = self
                    .last_status
                    .clone()
                    .unwrap_or_else(|| "started".to_owned());
                self.notice(&status);
                continue;
            }
            tokio::time::sleep_until(end.min(next_notice)).await;
        }
    }
}

impl ArmClient {
    /// Follows a long-running operation started by `initial` (the answer to a PUT, PATCH, POST or
    /// DELETE sent to `resource_url`) until it ends, and returns the final answer:
    ///
    /// * with `Azure-AsyncOperation`: polls it until `status` is `Succeeded`, `Failed` or
    ///   `Canceled`; then, for PUT and PATCH, GETs the resource (`original-uri`), otherwise GETs
    ///   `Location` when given, else returns the last status body;
    /// * with `Location` only: polls it while the answer is 202 and returns the first other answer;
    /// * with neither: `initial` is already final.
    ///
    /// Waits `Retry-After` between polls when the service sends it (capped at
    /// [`RetryConfig::max_delay`](super::RetryConfig::max_delay)), else
    /// [`ArmClientOptions::poll_interval`](super::ArmClientOptions::poll_interval). Each status
    /// change, and the status at least every
    /// [`ArmClientOptions::notice_every`](super::ArmClientOptions::notice_every), is announced
    /// through [`ArmClientOptions::on_retry`](super::ArmClientOptions::on_retry) as a
    /// [`Notice::Operation`]; waiting ends after
    /// [`ArmClientOptions::operation_timeout`](super::ArmClientOptions::operation_timeout)
    /// (`AZUREML_OPERATION_TIMEOUT`).
    pub async fn wait_for_completion(
        &self,
        initial: ArmResponse,
        method: Method,
        resource_url: &Url,
        api_version: &str,
        operation: &str,
    ) -> Result<ArmResponse, ArmError> {
        let started = Instant::now();
        let deadline = started + self.inner.options.operation_timeout;
        let timeout = || ArmError::OperationTimeout {
            operation: operation.to_owned(),
            waited: started.elapsed(),
        };
        let mut progress = Progress {
            client: self,
            operation,
            started,
            last_status: None,
            last_notice: started,
        };
        let location = initial
            .header(&LOCATION)
            .map(|l| self.same_origin(l, operation))
            .transpose()?;
        if let Some(async_op) = initial.header(&AZURE_ASYNC_OPERATION) {
            let poll_url = self.same_origin(async_op, operation)?;
            let mut delay = self.poll_delay(&initial);
            loop {
                if Instant::now() + delay > deadline {
                    return Err(timeout());
                }
                progress.sleep(delay).await;
                let polled = self
                    .send(ArmRequest::new(Method::Get, poll_url.clone(), operation))
                    .await?;
                let status: OperationStatus = polled.json(operation)?;
                tracing::debug!(operation, status = %status.status, "long-running operation");
                match status.status.to_ascii_lowercase().as_str() {
                    "succeeded" => {
                        progress.status(&status.status);
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
                    _ => {
                        progress.status(&status.status);
                        delay = self.poll_delay(&polled);
                    }
                }
            }
        }
        if let Some(location) = location {
            let mut last = initial;
            while last.status == 202 {
                progress.status("Accepted");
                let delay = self.poll_delay(&last);
                if Instant::now() + delay > deadline {
                    return Err(timeout());
                }
                progress.sleep(delay).await;
                last = self
                    .send(ArmRequest::new(Method::Get, location.clone(), operation))
                    .await?;
            }
            return Ok(last);
        }
        Ok(initial)
    }

    /// The wait before the next poll: `Retry-After` when given, capped at
    /// [`RetryConfig::max_delay`](super::RetryConfig::max_delay), else the poll interval.
    fn poll_delay(&self, response: &ArmResponse) -> Duration {
        response
            .header(&RETRY_AFTER)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(self.inner.options.retry.max_delay))
            .unwrap_or(self.inner.options.poll_interval)
    }
}
