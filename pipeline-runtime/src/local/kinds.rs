//! Where the local executor treats copy and Spark steps differently from command steps: the
//! command line it records (and reuses by), and how the step runs. Everything else (inputs
//! delivered by mode, outputs sealed only on success, logs, reuse, cancel) is the same.

use std::borrow::Cow;
use std::sync::mpsc::Sender;

use crate::graph::{StepDef, StepKind};

use super::process::{Job, JobResult, Msg, execute as run_command};

/// The command template of a step: its own command, a copy's `SOURCE DESTINATION`, or the
/// whole `spark-submit` line of a Spark step.
pub(super) fn template(def: &StepDef) -> Cow<'static, str> {
    match &def.kind {
        StepKind::Command | StepKind::Rust(_) => Cow::Borrowed(def.command),
        StepKind::Copy(_) => Cow::Owned(super::copy::template(def)),
        StepKind::Spark(spark) => Cow::Owned(super::spark::template(def, spark)),
    }
}

/// Runs one step to its end on a worker thread.
pub(super) fn execute(job: &Job, tx: &Sender<Msg>) -> JobResult {
    match &job.def.kind {
        StepKind::Command | StepKind::Rust(_) => run_command(job, tx),
        StepKind::Copy(_) => super::copy::execute(job),
        StepKind::Spark(_) => super::spark::execute(job, tx),
    }
}
