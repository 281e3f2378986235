//! What a local run is given and what it gives back: options, the cancel handle, events and
//! the summary. The public face of [`super::run`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::store::{RunStatus, StepStatus};

/// The environment variable that overrides the interpreter `python` resolves to.
pub const PYTHON_ENV: &str = "AZUREML_LOCAL_PYTHON";

/// A handle to stop a run: Ctrl-C handlers call [`cancel`](CancelToken::cancel); the
/// executor stops every step process and records the run as `Canceled`.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not canceled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the run was asked to stop.
    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The flag itself, for signal handlers that set an `AtomicBool`.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

/// How to run a pipeline locally.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The workspace folder (see [`Workspace::locate`](super::Workspace::locate)).
    pub workspace: PathBuf,
    /// The directory relative input paths are resolved against.
    pub cwd: PathBuf,
    /// Parameter values, `(name, value)`.
    pub params: Vec<(String, String)>,
    /// Data inputs, `(name, PATH or azureml://datastores/NAME/paths/P)`.
    pub inputs: Vec<(String, String)>,
    /// The interpreter `python` runs; default `$AZUREML_LOCAL_PYTHON`, else `python3` on PATH.
    pub python: Option<PathBuf>,
    /// How many step processes may run at once; 0 = the number of cores.
    pub max_parallel: usize,
    /// Run every step, reusing nothing (the seed's `regenerate_outputs`).
    pub regenerate_outputs: bool,
    /// Send each line the steps print as [`Event::StepOutput`].
    pub stream: bool,
    /// Overrides the pipeline's `continue_on_step_failure`.
    pub continue_on_step_failure: Option<bool>,
    /// Stops the run when canceled.
    pub cancel: CancelToken,
    /// How many of a failing step's last log lines to report.
    pub log_tail_lines: usize,
    /// How long steps get to exit after SIGTERM before they are killed.
    pub kill_grace: Duration,
}

impl RunOptions {
    /// Options with the defaults, for a workspace folder.
    pub fn new(workspace: impl Into<PathBuf>) -> Self {
        RunOptions {
            workspace: workspace.into(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            params: Vec::new(),
            inputs: Vec::new(),
            python: None,
            max_parallel: 0,
            regenerate_outputs: false,
            stream: false,
            continue_on_step_failure: None,
            cancel: CancelToken::new(),
            log_tail_lines: 20,
            kill_grace: Duration::from_secs(3),
        }
    }
}

/// Something that happened during a run, in order. The library never prints; a front end
/// renders these.
#[derive(Clone, Debug)]
pub enum Event {
    /// The run was recorded and is starting.
    RunStarted {
        /// Run id.
        run_id: String,
        /// Pipeline name.
        pipeline: String,
        /// The workspace folder.
        workspace: PathBuf,
        /// The steps, path-qualified, in plan order.
        steps: Vec<String>,
    },
    /// Something to tell the user once per run (environments are not rebuilt locally, …).
    Notice(String),
    /// A step's process started.
    StepStarted {
        /// Step name.
        step: String,
        /// Why it was not reused.
        reasons: Vec<String>,
    },
    /// A line a step printed (only with [`RunOptions::stream`]).
    StepOutput {
        /// Step name.
        step: String,
        /// The line, without its end.
        line: String,
    },
    /// A step reached its final status.
    StepFinished {
        /// Step name.
        step: String,
        /// What happened.
        outcome: StepOutcome,
        /// How long its process ran.
        elapsed: Duration,
    },
    /// Ctrl-C was seen; step processes are being stopped.
    Canceling,
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq)]
pub enum StepOutcome {
    /// It ran and its outputs were sealed.
    Ran {
        /// Why it was not reused.
        reasons: Vec<String>,
    },
    /// An earlier step run's outputs were reused.
    Reused {
        /// The run that produced them.
        run_id: String,
        /// The step (node) that produced them.
        step: String,
    },
    /// It failed.
    Failed {
        /// What went wrong.
        reason: String,
        /// The process's exit code, if it exited.
        exit_code: Option<i32>,
        /// The last lines of its log.
        log_tail: Vec<String>,
        /// The full log.
        log_path: PathBuf,
    },
    /// It did not run.
    Skipped {
        /// Why.
        because: String,
    },
    /// It was stopped by the user, or never started because the run was canceled.
    Canceled,
}

impl StepOutcome {
    /// The stored status for this outcome.
    pub fn status(&self) -> StepStatus {
        match self {
            StepOutcome::Ran { .. } => StepStatus::Completed,
            StepOutcome::Reused { .. } => StepStatus::Reused,
            StepOutcome::Failed { .. } => StepStatus::Failed,
            StepOutcome::Skipped { .. } => StepStatus::Skipped,
            StepOutcome::Canceled => StepStatus::Canceled,
        }
    }
}

/// One step of a finished run.
#[derive(Clone, Debug)]
pub struct StepSummary {
    /// Path-qualified step name.
    pub name: String,
    /// How it ended.
    pub outcome: StepOutcome,
    /// How long its process ran.
    pub elapsed: Duration,
    /// Its sealed outputs (name → folder).
    pub outputs: BTreeMap<String, PathBuf>,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// Run id.
    pub run_id: String,
    /// Final status.
    pub status: RunStatus,
    /// The workspace folder.
    pub workspace: PathBuf,
    /// Each step, in plan order.
    pub steps: Vec<StepSummary>,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

impl RunSummary {
    /// Finds a step by name.
    pub fn step(&self, name: &str) -> Option<&StepSummary> {
        self.steps.iter().find(|s| s.name == name)
    }
}
