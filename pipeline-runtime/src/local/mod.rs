//! The embedded local backend: runs a pipeline on this machine, with real processes, no Azure
//! account.
//!
//! * [`run`] executes a [`Pipeline`]: each command step in its own working copy of its snapshot,
//!   `python` resolved to `python3` on PATH, inputs materialised by mode, outputs written under
//!   a temporary name and sealed (renamed, recorded) only on success, independent steps in
//!   parallel, every reuse decision explained.
//! * [`Workspace`] is the local workspace folder (`.azureml-local/`): datastores, the run store,
//!   logs and the reuse cache.
//! * [`RunStore`] is the run history in an embedded SQLite database.
//! * [`step_statuses`] gives a recorded run's step statuses (for `graph --run`).
//!
//! ```no_run
//! # fn demo(pipeline: &azureml_pipelines_runtime::graph::Pipeline) -> Result<(), Box<dyn std::error::Error>> {
//! use azureml_pipelines_runtime::local::{self, RunOptions, Event, StepOutcome};
//!
//! let mut opts = RunOptions::new(".azureml-local");
//! opts.params.push(("pipeline_arg".into(), "20".into()));
//! let summary = local::run(pipeline, &opts, |event| {
//!     if let Event::StepFinished { step, outcome, .. } = event {
//!         println!("{step}: {:?}", outcome.status());
//!     }
//! })?;
//! println!("run {} {}", summary.run_id, summary.status);
//! # Ok(()) }
//! ```

mod clock;
mod command;
mod copy;
pub mod data_assets;
mod deliver;
mod error;
mod exec;
mod git;
mod hash;
mod kinds;
mod logs;
mod mount;
mod options;
mod plan;
mod preflight;
mod process;
mod reuse;
mod rust_step;
mod spark;
pub mod store;
mod watchdog;
mod workspace;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use clock::format_utc;
pub use error::LocalError;
pub use exec::{run, run_bound};
pub use options::{
    CancelToken, Event, PYTHON_ENV, RunOptions, RunSummary, StepOutcome, StepSummary,
};
pub use store::{GitInfo, OutputRecord, RunRecord, RunStatus, RunStore, StepRunRecord, StepStatus};
pub use workspace::{DEFAULT_DATASTORE, DEFAULT_DIR, Uploaded, WORKSPACE_ENV, Workspace};

use crate::graph::{Component, Pipeline};

pub(crate) use crate::snapshot::Snapshot as SnapshotImpl;

/// The git facts (commit, branch, dirty, remote) of the repository holding `dir`; empty outside
/// a repository or without `git`. Recorded with every local run, and sent as job properties on
/// submission.
pub fn git_info(dir: &Path) -> GitInfo {
    git::info(dir)
}

/// The status of each step (path-qualified node name) of a recorded run, e.g. to colour a graph.
pub fn step_statuses(
    workspace: impl AsRef<Path>,
    run_id: &str,
) -> Result<BTreeMap<String, StepStatus>, LocalError> {
    let ws = Workspace::open(workspace)?;
    let store = ws.history()?;
    let run = store.find_run(run_id, ws.root())?;
    Ok(store
        .steps(&run.id)?
        .into_iter()
        .map(|s| (s.node, s.status))
        .collect())
}

/// Every command step of `pipeline` (sub-pipelines flattened), as `(path-qualified name, step)`.
pub fn steps_of(pipeline: &Pipeline) -> Vec<(String, &'static crate::graph::StepDef)> {
    fn walk(p: &Pipeline, prefix: &str, out: &mut Vec<(String, &'static crate::graph::StepDef)>) {
        for node in &p.nodes {
            let name = format!("{prefix}{}", node.name);
            match &node.component {
                Component::Step(def) => out.push((name, def)),
                Component::Pipeline(inner) => walk(inner, &format!("{name}."), out),
            }
        }
    }
    let mut out = Vec::new();
    walk(pipeline, "", &mut out);
    out
}

/// The source folder of a step, found by its node name (`train`, `outer.inner`) or its
/// component name.
pub fn step_source(pipeline: &Pipeline, step: &str) -> Result<PathBuf, LocalError> {
    let steps = steps_of(pipeline);
    let def = steps
        .iter()
        .find(|(n, _)| n == step)
        .or_else(|| steps.iter().find(|(_, d)| d.name == step))
        .map(|(_, d)| *d)
        .ok_or_else(|| LocalError::UnknownStep {
            step: step.to_owned(),
            scope: format!("pipeline `{}`", pipeline.name),
            known: steps
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    def.source_path()
        .ok_or_else(|| LocalError::NoSourceDir(step.to_owned()))
}

/// The last `lines` lines of a step's log in a recorded run (`None` = the whole log), and its
/// path.
pub fn step_log(
    workspace: impl AsRef<Path>,
    run_id: &str,
    step: &str,
    lines: Option<usize>,
) -> Result<(PathBuf, String), LocalError> {
    let ws = Workspace::open(workspace)?;
    let store = ws.history()?;
    let run = store.find_run(run_id, ws.root())?;
    let steps = store.steps(&run.id)?;
    let rec = steps
        .iter()
        .find(|s| s.node == step)
        .ok_or_else(|| LocalError::UnknownStep {
            step: step.to_owned(),
            scope: format!("run {}", run.id),
            known: steps
                .iter()
                .map(|s| format!("`{}`", s.node))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let Some(path) = rec.log_path.clone() else {
        return Ok((PathBuf::new(), String::new()));
    };
    let text = match lines {
        Some(n) => logs::log_tail(&path, n).join("\n"),
        None => std::fs::read_to_string(&path).map_err(|e| LocalError::io("read", &path, e))?,
    };
    Ok((path, text))
}
