//! What the local backend does differently for a Rust step (`StepKind::Rust`): everything else
//! (working folder, inputs by mode, outputs sealed on success, logs, cancel, timeouts, the
//! watchdog) is the command step's machinery, since a Rust step is a process too: the pipeline
//! binary itself (`std::env::current_exe()`) started with the hidden `__step` entry point.
//!
//! * [`command_line`]: the rendered entry point arguments, prefixed with the binary and the
//!   variable naming the step's metrics file. It goes through `/bin/sh -c` as any command.
//! * [`identity`]: the part of the reuse key a command step's snapshot hash plays.
//! * [`store_metrics`]: moves the metrics file into the run store once the step ended.

use std::path::{Path, PathBuf};

use crate::graph::{StepDef, StepKind};
use crate::rust_step::METRICS_FILE_ENV;

use super::error::LocalError;
use super::plan::{Plan, PlannedStep};
use super::reuse::RustIdentity;
use super::store::RunStore;
use super::workspace::Workspace;

/// Whether a step of `plan` runs `python` (a command step whose command names it): then the
/// run needs an interpreter. A pipeline of Rust steps only does not.
pub(super) fn runs_python(plan: &Plan) -> bool {
    plan.steps
        .iter()
        .any(|s| !matches!(s.def.kind, StepKind::Rust(_)) && s.def.command.contains("python"))
}

/// The metrics file of a step: beside its log.
pub(super) fn metrics_path(log: &Path) -> PathBuf {
    log.with_extension("metrics.jsonl")
}

/// For a Rust step, `rendered` (the entry point's arguments with placeholders filled) as the
/// full shell command; any other step's command unchanged.
pub(super) fn command_line(def: &StepDef, rendered: String, log: &Path) -> Result<String, String> {
    if !matches!(def.kind, StepKind::Rust(_)) {
        return Ok(rendered);
    }
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this pipeline binary to run the Rust step: {e}"))?;
    let quote = |p: &Path| {
        let s = p.to_string_lossy();
        shlex::try_quote(&s)
            .map(|q| q.into_owned())
            .unwrap_or_else(|_| s.into_owned())
    };
    Ok(format!(
        "{METRICS_FILE_ENV}={} {} {rendered}",
        quote(&metrics_path(log)),
        quote(&exe)
    ))
}

/// The reuse identity of a Rust step (`None` for other steps).
pub(super) fn identity(def: &StepDef) -> Option<RustIdentity> {
    match &def.kind {
        StepKind::Rust(r) => Some(RustIdentity {
            step: def.name.to_owned(),
            body: r.body_hash.to_owned(),
            version: r.version.unwrap_or_default().to_owned(),
            krate: format!("{} {}", r.crate_name, r.crate_version),
        }),
        _ => None,
    }
}

/// Stores the metrics a Rust step logged (nothing for other steps, or when it logged none).
pub(super) fn store_metrics(
    store: &RunStore,
    ws: &Workspace,
    step: &PlannedStep,
    run: &str,
) -> Result<(), LocalError> {
    if !matches!(step.def.kind, StepKind::Rust(_)) {
        return Ok(());
    }
    let path = metrics_path(&ws.log_path(run, &step.name));
    let node = &step.name;
    let metrics = crate::metrics::read_file(&path);
    if metrics.is_empty() {
        return Ok(());
    }
    store.store_metrics(run, node, &metrics)
}
