//! Metrics a Rust step logs from its body: a number per name ([`log`]) or a series of numbers
//! indexed by a step such as an epoch ([`log_at`]).
//!
//! ```no_run
//! azureml_pipelines::metrics::log("accuracy", 0.93);
//! for epoch in 0..3 {
//!     azureml_pipelines::metrics::log_at("loss", epoch, 1.0 / (epoch as f64 + 1.0));
//! }
//! ```
//!
//! Where they go:
//!
//! * run locally, the executor names a file in [`METRICS_FILE_ENV`](crate::rust_step::METRICS_FILE_ENV);
//!   each call appends one JSON line to it, and when the step ends the executor stores them in
//!   the run store, where `runs show RUN` prints them;
//! * on Azure ML (no such file, `MLFLOW_TRACKING_URI` set) they go to the job's MLflow tracking
//!   endpoint ([`send_to_mlflow`]);
//! * anywhere else they are printed to stderr (`metric accuracy = 0.93`), so a body run by hand
//!   shows them.
//!
//! Logging never fails the step: a metric that cannot be written is reported once on stderr.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::rust_step::METRICS_FILE_ENV;

/// One logged value, as written to the metrics file (one JSON object per line).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The metric's name.
    pub name: String,
    /// The index in a series (`log_at`); `None` for a single value (`log`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<i64>,
    /// The value.
    pub value: f64,
}

/// Logs `value` under `name` (a single number: the last one logged wins where one is shown).
pub fn log(name: &str, value: f64) {
    record(Metric {
        name: name.to_owned(),
        step: None,
        value,
    });
}

/// Logs `value` under `name` at index `step` of a series (an epoch, an iteration).
pub fn log_at(name: &str, step: i64, value: f64) {
    record(Metric {
        name: name.to_owned(),
        step: Some(step),
        value,
    });
}

static WARNED: AtomicBool = AtomicBool::new(false);

fn warn_once(message: &str) {
    if !WARNED.swap(true, Ordering::Relaxed) {
        let _ = writeln!(std::io::stderr(), "warning: {message}");
    }
}

fn record(metric: Metric) {
    if let Some(path) = std::env::var_os(METRICS_FILE_ENV).filter(|p| !p.is_empty()) {
        let line = match serde_json::to_string(&metric) {
            Ok(l) => l,
            Err(e) => return warn_once(&format!("metric `{}` not recorded: {e}", metric.name)),
        };
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            warn_once(&format!(
                "metrics cannot be written to {}: {e}; they are left out",
                std::path::Path::new(&path).display()
            ));
        }
    } else if std::env::var_os("MLFLOW_TRACKING_URI").is_some_and(|v| !v.is_empty()) {
        if let Err(e) = send_to_mlflow(&metric) {
            warn_once(&format!(
                "metric `{}` not sent to MLflow: {e}; later metrics may be lost too",
                metric.name
            ));
        }
    } else {
        let at = metric.step.map(|s| format!(" at {s}")).unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "metric {}{at} = {}",
            metric.name,
            metric.value
        );
    }
}

/// Sends one metric to the MLflow tracking endpoint Azure ML gives every job through its
/// environment (`MLFLOW_TRACKING_URI`, `MLFLOW_RUN_ID`, `MLFLOW_TRACKING_TOKEN`).
///
/// Sent by [`crate::mlflow::log_metric`], which prints its own warning when a point cannot be
/// sent (never a failure of the step); a single value is the point at step 0. A build without
/// the `azure` feature has no MLflow client: the metric is reported as not sent.
pub fn send_to_mlflow(metric: &Metric) -> Result<(), String> {
    #[cfg(feature = "azure")]
    {
        crate::mlflow::log_metric(&metric.name, metric.value, metric.step.unwrap_or(0));
        Ok(())
    }
    #[cfg(not(feature = "azure"))]
    {
        let _ = metric;
        Err("this build has no MLflow client (the `azure` feature is off)".to_owned())
    }
}

/// Reads a metrics file written by [`log`] / [`log_at`]; lines that do not parse are skipped
/// (a step killed mid-write leaves at most one).
pub fn read_file(path: &std::path::Path) -> Vec<Metric> {
    std::fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_round_trip_through_the_file_form() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let lines = [
            serde_json::to_string(&Metric {
                name: "acc".into(),
                step: None,
                value: 0.5,
            })
            .unwrap(),
            "{broken".to_owned(),
            serde_json::to_string(&Metric {
                name: "loss".into(),
                step: Some(3),
                value: 1.25,
            })
            .unwrap(),
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let read = read_file(&path);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].name, "acc");
        assert_eq!(read[0].step, None);
        assert_eq!(read[1].step, Some(3));
        assert_eq!(read[1].value, 1.25);
        assert!(read_file(&dir.path().join("absent")).is_empty());
    }
}
