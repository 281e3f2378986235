//! The executor: decides, step by step, whether to reuse or run; runs command steps as real
//! processes (a bounded number at once); seals outputs; records every state change.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::graph::{AssetType, DataLocation, InputMode, InputValue, Pipeline, PortType, StepDef};

use super::SnapshotImpl as Snapshot;
use super::command::{self, Values};
use super::error::LocalError;
use super::hash::{data_hash, file_hash, fingerprint};
use super::plan::{Plan, PlannedStep, Source, interface};
use super::reuse::ReuseParts;
use super::store::{OutputRecord, RunRecord, RunStatus, RunStore, StepStatus, now_ms};
use super::watchdog::Watchdog;
use super::workspace::{Workspace, remove_tree};
use super::{clock, git, mount};

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
    /// The workspace folder (see [`Workspace::locate`]).
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

struct SnapInfo {
    snapshot: Arc<Snapshot>,
    hash: String,
    files: BTreeMap<String, String>,
}

/// How a step input reaches the process.
#[derive(Clone, Debug)]
enum Delivery {
    /// The value itself (parameters).
    Value(String),
    /// A path handed over as it is (`direct`).
    Path(PathBuf),
    /// A private copy of `from` made at `to` (`download`).
    Copy { from: PathBuf, to: PathBuf },
    /// A private read-only view of `from` made at `to` (`ro_mount`, the default).
    View { from: PathBuf, to: PathBuf },
}

struct Job {
    index: usize,
    name: String,
    def: &'static StepDef,
    snapshot: Option<Arc<Snapshot>>,
    work: PathBuf,
    step_dir: PathBuf,
    copies: Vec<(PathBuf, PathBuf)>,
    views: Vec<(PathBuf, PathBuf)>,
    outputs: Vec<(String, PathBuf, PathBuf)>,
    command: String,
    log: PathBuf,
    path_env: std::ffi::OsString,
    run_id: String,
    stream: bool,
    tail: usize,
    pids: Arc<Mutex<HashMap<usize, u32>>>,
    watchdog: Option<Arc<Watchdog>>,
    cancel: CancelToken,
}

enum Msg {
    Output { index: usize, line: String },
    Done { index: usize, result: JobResult },
}

enum JobResult {
    Sealed(BTreeMap<String, OutputRecord>),
    Failed {
        reason: String,
        exit_code: Option<i32>,
        log_tail: Vec<String>,
        canceled: bool,
    },
}

/// Runs `pipeline` on this machine. Events are delivered on the calling thread, in order.
///
/// Returns `Err` for anything wrong before the run starts (bad parameters, missing inputs,
/// unknown datastores, a snapshot that cannot be scanned, …); a failing step is not an error:
/// the summary's status says `Failed`.
///
/// ```no_run
/// # fn demo(pipeline: &azureml_pipelines_runtime::graph::Pipeline) {
/// use azureml_pipelines_runtime::local::{self, RunOptions};
/// let summary = local::run(pipeline, &RunOptions::new(".azureml-local"), |event| {
///     eprintln!("{event:?}");
/// });
/// # }
/// ```
pub fn run(
    pipeline: &Pipeline,
    opts: &RunOptions,
    mut events: impl FnMut(Event),
) -> Result<RunSummary, LocalError> {
    let t0 = Instant::now();
    let values = pipeline.bind(&opts.params, &opts.inputs, &opts.cwd)?;
    let ws = Workspace::open(&opts.workspace)?;
    let mut store = ws.store()?;
    ws.close_abandoned_runs(&store)?;
    check_pipeline_inputs(pipeline, &values, &ws, &opts.cwd)?;
    let plan = Plan::new(pipeline, &values, &opts.cwd);
    let resolved = resolve_data(&plan, &ws)?;
    let snaps = scan_snapshots(&plan)?;
    check_commands(&plan)?;
    let python = if plan.steps.iter().any(|s| s.def.command.contains("python")) {
        Some(find_python(opts.python.as_deref())?)
    } else {
        None
    };

    let started_ms = now_ms();
    let run_id = clock::new_run_id(started_ms);
    let git_dir = if pipeline.manifest_dir.is_dir() {
        pipeline.manifest_dir.clone()
    } else {
        opts.cwd.clone()
    };
    let git = git::info(&git_dir);
    let record = RunRecord {
        id: run_id.clone(),
        pipeline: pipeline.name.clone(),
        experiment: pipeline.experiment_name().to_owned(),
        status: RunStatus::Running,
        params: pipeline
            .inputs
            .iter()
            .zip(&values)
            .filter_map(|(i, v)| match v {
                InputValue::Literal(l) => Some((i.name.clone(), l.to_wire())),
                InputValue::Data(_) => None,
            })
            .collect(),
        inputs: pipeline
            .inputs
            .iter()
            .zip(&values)
            .filter_map(|(i, v)| match v {
                InputValue::Data(d) => Some((i.name.clone(), d.to_string())),
                InputValue::Literal(_) => None,
            })
            .collect(),
        properties: git.properties(),
        git,
        started_ms,
        ended_ms: None,
        pid: std::process::id(),
        error: None,
    };
    let names: Vec<(String, String)> = plan
        .steps
        .iter()
        .map(|s| (s.name.clone(), s.def.name.to_owned()))
        .collect();
    store.create_run(&record, &names)?;

    let bin = ws.run_dir(&run_id).join("bin");
    let mut path_env = std::ffi::OsString::new();
    if let Some(py) = &python {
        std::fs::create_dir_all(&bin).map_err(|e| LocalError::io("create", &bin, e))?;
        link_python(py, &bin.join("python"))?;
        path_env.push(&bin);
        path_env.push(":");
    }
    path_env.push(std::env::var_os("PATH").unwrap_or_default());

    events(Event::RunStarted {
        run_id: run_id.clone(),
        pipeline: pipeline.name.clone(),
        workspace: ws.root().to_path_buf(),
        steps: plan.steps.iter().map(|s| s.name.clone()).collect(),
    });
    let envs: Vec<&str> = {
        let mut v: Vec<&str> = plan
            .steps
            .iter()
            .filter_map(|s| s.def.environment)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    if let Some(py) = &python {
        let declared = if envs.is_empty() {
            String::new()
        } else {
            format!(" (declared: {})", envs.join(", "))
        };
        events(Event::Notice(format!(
            "environments are not rebuilt locally: `python` runs {}{declared}",
            py.display()
        )));
    } else if !envs.is_empty() {
        events(Event::Notice(format!(
            "environments are not rebuilt locally: steps run with this machine's tools (declared: {})",
            envs.join(", ")
        )));
    }

    let mut exec = Executor {
        pipeline,
        plan: &plan,
        opts,
        ws: &ws,
        store: &store,
        run_id: run_id.clone(),
        resolved,
        snaps,
        path_env,
        status: vec![StepStatus::NotStarted; plan.steps.len()],
        decided: vec![false; plan.steps.len()],
        sealed: vec![None; plan.steps.len()],
        outcomes: vec![None; plan.steps.len()],
        started: vec![None; plan.steps.len()],
        hash_cache: HashMap::new(),
        pids: Arc::new(Mutex::new(HashMap::new())),
        watchdog: None,
        queue: VecDeque::new(),
        running: 0,
        stop_launching: false,
        canceled: false,
        failure: None,
    };
    let result = exec.drive(&mut events);
    if result.is_err() {
        // The run store failed mid-run: stop what still runs rather than leave it behind.
        exec.signal_all(libc::SIGKILL);
    }
    let status = if exec.canceled {
        RunStatus::Canceled
    } else if exec.status.iter().all(|s| s.succeeded()) {
        RunStatus::Completed
    } else {
        RunStatus::Failed
    };
    let error = match (&result, status) {
        (Err(e), _) => Some(e.to_string()),
        (_, RunStatus::Canceled) => Some("canceled by the user".to_owned()),
        _ => exec.failure.clone(),
    };
    store.finish_run(&run_id, status, error.as_deref())?;
    result?;
    let steps = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepSummary {
            name: s.name.clone(),
            outcome: exec.outcomes[i]
                .clone()
                .map_or(StepOutcome::Canceled, |(o, _)| o),
            elapsed: exec.outcomes[i]
                .as_ref()
                .map_or(Duration::ZERO, |(_, e)| *e),
            outputs: exec.sealed[i]
                .as_ref()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.path.clone())).collect())
                .unwrap_or_default(),
        })
        .collect();
    Ok(RunSummary {
        run_id,
        status,
        workspace: ws.root().to_path_buf(),
        steps,
        elapsed: t0.elapsed(),
    })
}

struct Executor<'a> {
    pipeline: &'a Pipeline,
    plan: &'a Plan,
    opts: &'a RunOptions,
    ws: &'a Workspace,
    store: &'a RunStore,
    run_id: String,
    /// Local path of each `Source::Data` input: `[step][input]`.
    resolved: Vec<Vec<Option<PathBuf>>>,
    snaps: HashMap<PathBuf, SnapInfo>,
    path_env: std::ffi::OsString,
    status: Vec<StepStatus>,
    decided: Vec<bool>,
    sealed: Vec<Option<BTreeMap<String, OutputRecord>>>,
    outcomes: Vec<Option<(StepOutcome, Duration)>>,
    started: Vec<Option<Instant>>,
    hash_cache: HashMap<PathBuf, String>,
    pids: Arc<Mutex<HashMap<usize, u32>>>,
    /// Started with the first step process.
    watchdog: Option<Arc<Watchdog>>,
    queue: VecDeque<(usize, ReuseParts, Vec<String>)>,
    running: usize,
    stop_launching: bool,
    canceled: bool,
    failure: Option<String>,
}

impl Executor<'_> {
    fn drive(&mut self, events: &mut impl FnMut(Event)) -> Result<(), LocalError> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let max = if self.opts.max_parallel == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            self.opts.max_parallel
        };
        let mut kill_at: Option<Instant> = None;
        loop {
            if !self.canceled && self.opts.cancel.is_canceled() {
                self.canceled = true;
                events(Event::Canceling);
                self.signal_all(libc::SIGTERM);
                kill_at = Some(Instant::now() + self.opts.kill_grace);
                self.not_run_all(StepStatus::Canceled, "the run was canceled", events)?;
            }
            if let Some(at) = kill_at
                && Instant::now() >= at
            {
                self.signal_all(libc::SIGKILL);
                kill_at = None;
            }
            if !self.canceled && !self.stop_launching {
                self.decide(events)?;
                while self.running < max
                    && let Some((i, parts, reasons)) = self.queue.pop_front()
                {
                    self.launch(i, parts, reasons, &tx, events)?;
                }
            }
            if self.running == 0 {
                break;
            }
            self.receive(&rx, events)?;
        }
        // Whatever never became ready (an upstream step failed) did not run.
        let pending: Vec<usize> = (0..self.status.len())
            .filter(|&i| !self.status[i].is_final())
            .collect();
        for i in pending {
            let why = self
                .failure
                .clone()
                .unwrap_or_else(|| "an upstream step did not finish".to_owned());
            self.finish_not_run(i, StepStatus::Skipped, &why, events)?;
        }
        Ok(())
    }

    fn receive(
        &mut self,
        rx: &Receiver<Msg>,
        events: &mut impl FnMut(Event),
    ) -> Result<(), LocalError> {
        let msg = match rx.recv_timeout(Duration::from_millis(25)) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => return Ok(()),
            Err(RecvTimeoutError::Disconnected) => {
                self.running = 0;
                return Ok(());
            }
        };
        match msg {
            Msg::Output { index, line } => events(Event::StepOutput {
                step: self.plan.steps[index].name.clone(),
                line,
            }),
            Msg::Done { index, result } => {
                self.running -= 1;
                self.finished(index, result, events)?;
            }
        }
        Ok(())
    }

    fn finished(
        &mut self,
        i: usize,
        result: JobResult,
        events: &mut impl FnMut(Event),
    ) -> Result<(), LocalError> {
        let elapsed = self.started[i].map_or(Duration::ZERO, |t| t.elapsed());
        let step = &self.plan.steps[i];
        match result {
            JobResult::Sealed(outputs) => {
                self.store.step_finished(
                    &self.run_id,
                    &step.name,
                    StepStatus::Completed,
                    Some(0),
                    &outputs,
                    None,
                )?;
                self.status[i] = StepStatus::Completed;
                self.sealed[i] = Some(outputs);
                let reasons = match &self.outcomes[i] {
                    Some((StepOutcome::Ran { reasons }, _)) => reasons.clone(),
                    _ => Vec::new(),
                };
                self.outcome(i, StepOutcome::Ran { reasons }, elapsed, events);
            }
            JobResult::Failed {
                reason,
                exit_code,
                log_tail,
                canceled,
            } => {
                // `canceled`: the run's cancel token was set when the process ended. The
                // executor may not have seen the token yet (a step stopped right after its
                // spawn), so the step's own observation decides.
                let (status, outcome) = if canceled {
                    (StepStatus::Canceled, StepOutcome::Canceled)
                } else {
                    (
                        StepStatus::Failed,
                        StepOutcome::Failed {
                            reason: reason.clone(),
                            exit_code,
                            log_tail,
                            log_path: self.ws.log_path(&self.run_id, &step.name),
                        },
                    )
                };
                self.store.step_finished(
                    &self.run_id,
                    &step.name,
                    status,
                    exit_code,
                    &BTreeMap::new(),
                    Some(&reason),
                )?;
                self.status[i] = status;
                self.outcome(i, outcome, elapsed, events);
                if status == StepStatus::Failed {
                    self.step_failed(i, events)?;
                }
            }
        }
        Ok(())
    }

    /// After step `i` failed: skip what depends on it, or (without
    /// `continue_on_step_failure`) everything not started yet.
    fn step_failed(&mut self, i: usize, events: &mut impl FnMut(Event)) -> Result<(), LocalError> {
        let name = self.plan.steps[i].name.clone();
        if self.failure.is_none() {
            self.failure = Some(format!("step `{name}` failed"));
        }
        let keep_going = self
            .opts
            .continue_on_step_failure
            .unwrap_or(self.pipeline.settings.continue_on_step_failure);
        if keep_going {
            for d in self.plan.downstream_closure(i) {
                if !self.status[d].is_final() && !self.is_running(d) {
                    self.queue.retain(|(q, _, _)| *q != d);
                    self.finish_not_run(
                        d,
                        StepStatus::Skipped,
                        &format!("`{name}` failed"),
                        events,
                    )?;
                }
            }
        } else {
            self.stop_launching = true;
            let why =
                format!("`{name}` failed and the pipeline does not set `continue_on_step_failure`");
            self.not_run_all(StepStatus::Skipped, &why, events)?;
        }
        Ok(())
    }

    fn is_running(&self, i: usize) -> bool {
        self.status[i] == StepStatus::Running
    }

    /// Marks every step that has not started as not run.
    fn not_run_all(
        &mut self,
        status: StepStatus,
        why: &str,
        events: &mut impl FnMut(Event),
    ) -> Result<(), LocalError> {
        self.queue.clear();
        for i in 0..self.status.len() {
            if self.status[i] == StepStatus::NotStarted {
                self.finish_not_run(i, status, why, events)?;
            }
        }
        Ok(())
    }

    fn finish_not_run(
        &mut self,
        i: usize,
        status: StepStatus,
        why: &str,
        events: &mut impl FnMut(Event),
    ) -> Result<(), LocalError> {
        self.store
            .step_not_run(&self.run_id, &self.plan.steps[i].name, status, why)?;
        self.status[i] = status;
        self.decided[i] = true;
        let outcome = if status == StepStatus::Canceled {
            StepOutcome::Canceled
        } else {
            StepOutcome::Skipped {
                because: why.to_owned(),
            }
        };
        self.outcome(i, outcome, Duration::ZERO, events);
        Ok(())
    }

    fn outcome(
        &mut self,
        i: usize,
        outcome: StepOutcome,
        elapsed: Duration,
        events: &mut impl FnMut(Event),
    ) {
        self.outcomes[i] = Some((outcome.clone(), elapsed));
        events(Event::StepFinished {
            step: self.plan.steps[i].name.clone(),
            outcome,
            elapsed,
        });
    }

    /// Decides every step whose inputs are ready: reuse it now, or queue it to run.
    fn decide(&mut self, events: &mut impl FnMut(Event)) -> Result<(), LocalError> {
        loop {
            let mut progressed = false;
            for i in 0..self.plan.steps.len() {
                if self.decided[i]
                    || !self.plan.steps[i]
                        .upstream
                        .iter()
                        .all(|&u| self.status[u].succeeded())
                {
                    continue;
                }
                self.decided[i] = true;
                let parts = match self.parts(i) {
                    Ok(p) => p,
                    Err(e) => {
                        self.fail_before_start(i, e.to_string(), events)?;
                        return Ok(());
                    }
                };
                match self.reuse_or_reasons(i, &parts)? {
                    Ok(()) => progressed = true,
                    Err(reasons) => self.queue.push_back((i, parts, reasons)),
                }
                if let Some((o, e)) = &self.outcomes[i] {
                    events(Event::StepFinished {
                        step: self.plan.steps[i].name.clone(),
                        outcome: o.clone(),
                        elapsed: *e,
                    });
                }
            }
            if !progressed {
                return Ok(());
            }
        }
    }

    fn fail_before_start(
        &mut self,
        i: usize,
        reason: String,
        events: &mut impl FnMut(Event),
    ) -> Result<(), LocalError> {
        let name = self.plan.steps[i].name.clone();
        let log_path = self.ws.log_path(&self.run_id, &name);
        self.store.step_finished(
            &self.run_id,
            &name,
            StepStatus::Failed,
            None,
            &BTreeMap::new(),
            Some(&reason),
        )?;
        self.status[i] = StepStatus::Failed;
        self.outcome(
            i,
            StepOutcome::Failed {
                reason,
                exit_code: None,
                log_tail: Vec::new(),
                log_path,
            },
            Duration::ZERO,
            events,
        );
        self.step_failed(i, events)
    }

    /// The reuse parts of step `i` (all its upstream steps have succeeded).
    fn parts(&mut self, i: usize) -> Result<ReuseParts, LocalError> {
        let step = &self.plan.steps[i];
        let def = step.def;
        let mut parts = ReuseParts {
            command: def.command.to_owned(),
            environment: def.environment.unwrap_or_default().to_owned(),
            interface: interface(def),
            env_vars: def
                .environment_variables
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..ReuseParts::default()
        };
        if let Some(src) = def.source_path()
            && let Some(info) = self.snaps.get(&src)
        {
            parts.snapshot = info.hash.clone();
            parts.files = info.files.clone();
        }
        for (k, (input, source)) in def.inputs.iter().zip(&step.inputs).enumerate() {
            match (input.ty, source) {
                (PortType::Param(_), Source::Literal(l)) => {
                    parts.params.insert(input.name.to_owned(), l.to_wire());
                }
                (_, Source::Literal(l)) => {
                    parts.params.insert(input.name.to_owned(), l.to_wire());
                }
                (_, Source::Upstream { step: u, output }) => {
                    let out_name = self.plan.steps[*u].def.outputs[*output].name;
                    let hash = self.sealed[*u]
                        .as_ref()
                        .and_then(|o| o.get(out_name))
                        .map(|o| o.hash.clone())
                        .unwrap_or_default();
                    parts.inputs.insert(input.name.to_owned(), hash);
                }
                (_, Source::Data(_)) => {
                    let Some(path) = self.resolved[i][k].clone() else {
                        continue;
                    };
                    let hash = match self.hash_cache.get(&path) {
                        Some(h) => h.clone(),
                        None => {
                            let h = self.input_hash(&path)?;
                            self.hash_cache.insert(path, h.clone());
                            h
                        }
                    };
                    parts.inputs.insert(input.name.to_owned(), hash);
                }
            }
        }
        Ok(parts)
    }

    /// The content hash of a local input, from the store when its files' names, sizes and
    /// times have not changed since it was last hashed.
    fn input_hash(&self, path: &Path) -> Result<String, LocalError> {
        let fp = fingerprint(path)?;
        if let Some(fp) = &fp
            && let Some(h) = self.store.cached_data_hash(path, fp)
        {
            return Ok(h);
        }
        let h = data_hash(path)?;
        if let Some(fp) = &fp {
            self.store.cache_data_hash(path, fp, &h)?;
        }
        Ok(h)
    }

    /// Reuses an earlier step run (`Ok`), or says why not (`Err(reasons)`).
    fn reuse_or_reasons(
        &mut self,
        i: usize,
        parts: &ReuseParts,
    ) -> Result<Result<(), Vec<String>>, LocalError> {
        let step = &self.plan.steps[i];
        if !step.def.reuse {
            return Ok(Err(vec!["reuse = false".to_owned()]));
        }
        if self.opts.regenerate_outputs {
            return Ok(Err(vec!["--regenerate-outputs".to_owned()]));
        }
        let mut gone = None;
        if let Some(found) = self.store.find_reusable(&parts.key())? {
            // Reuse never trusts changed bytes: each output must still hash to what was sealed
            // (from the hash cache while its files' names, sizes and times are unchanged).
            let mut problem = None;
            for o in step.def.outputs.iter() {
                match found.outputs.get(o.name) {
                    Some(r) if r.path.is_dir() => {
                        if self.input_hash(&r.path)? != r.hash {
                            problem = Some(format!(
                                "output {} of {} changed since run {}",
                                o.name, found.node, found.run_id
                            ));
                            break;
                        }
                    }
                    _ => {
                        problem = Some(format!(
                            "the outputs of run {} step {} are gone",
                            found.run_id, found.node
                        ));
                        break;
                    }
                }
            }
            if problem.is_none() {
                self.store
                    .step_reused(&self.run_id, &step.name, parts, &found)?;
                self.status[i] = StepStatus::Reused;
                self.sealed[i] = Some(found.outputs.clone());
                self.outcomes[i] = Some((
                    StepOutcome::Reused {
                        run_id: found.run_id.clone(),
                        step: found.node.clone(),
                    },
                    Duration::ZERO,
                ));
                return Ok(Ok(()));
            }
            gone = problem;
        }
        let mut reasons = match self.store.latest_success(&self.pipeline.name, &step.name)? {
            None => vec!["no earlier run".to_owned()],
            Some(prev) => match &prev.reuse_parts {
                Some(p) => parts.explain(p),
                None => vec!["no earlier run".to_owned()],
            },
        };
        if let Some(g) = gone {
            reasons.retain(|r| !r.is_empty());
            reasons.push(g);
        }
        if reasons.is_empty() {
            reasons.push("no earlier run with these inputs".to_owned());
        }
        Ok(Err(reasons))
    }

    /// Starts step `i`'s process on a worker thread.
    fn launch(
        &mut self,
        i: usize,
        parts: ReuseParts,
        reasons: Vec<String>,
        tx: &Sender<Msg>,
        events: &mut impl FnMut(Event),
    ) -> Result<(), LocalError> {
        let step = &self.plan.steps[i];
        let def = step.def;
        let step_dir = self.ws.step_dir(&self.run_id, &step.name);
        let work = step_dir.join("work");
        let out_dir = self.ws.outputs_dir(&self.run_id, &step.name);
        let mut values = Values::new();
        let mut copies = Vec::new();
        let mut views = Vec::new();
        let mut bad = None;
        for (k, (input, source)) in def.inputs.iter().zip(&step.inputs).enumerate() {
            let delivery = match source {
                Source::Literal(l) => Delivery::Value(l.to_wire()),
                Source::Upstream { step: u, output } => {
                    let out_name = self.plan.steps[*u].def.outputs[*output].name;
                    let path = self.sealed[*u]
                        .as_ref()
                        .and_then(|o| o.get(out_name))
                        .map(|o| o.path.clone())
                        .unwrap_or_default();
                    match file_of_folder(&path, input.ty) {
                        Ok(p) => deliver(p, input.mode, &step_dir, input.name),
                        Err(e) => {
                            bad = Some(format!("input `{}`: {e}", input.name));
                            Delivery::Path(path)
                        }
                    }
                }
                Source::Data(d) => match &self.resolved[i][k] {
                    Some(p) => deliver(p.clone(), input.mode, &step_dir, input.name),
                    None => Delivery::Value(d.to_string()),
                },
            };
            let value = match delivery {
                Delivery::Value(v) => v,
                Delivery::Path(p) => p.to_string_lossy().into_owned(),
                Delivery::Copy { from, to } => {
                    let v = to.to_string_lossy().into_owned();
                    copies.push((from, to));
                    v
                }
                Delivery::View { from, to } => {
                    let v = to.to_string_lossy().into_owned();
                    views.push((from, to));
                    v
                }
            };
            values.insert(format!("inputs.{}", input.name), Some(value));
        }
        let mut outputs = Vec::new();
        for o in def.outputs {
            let tmp = out_dir.join(format!(".tmp-{}", o.name));
            let fin = out_dir.join(o.name);
            values.insert(
                format!("outputs.{}", o.name),
                Some(tmp.to_string_lossy().into_owned()),
            );
            outputs.push((o.name.to_owned(), tmp, fin));
        }
        let log = self.ws.log_path(&self.run_id, &step.name);
        let command = match command::render(def.command, &values) {
            Ok(c) => c,
            Err(e) => {
                bad.get_or_insert(e);
                String::new()
            }
        };
        self.store
            .step_started(&self.run_id, &step.name, &parts, &reasons, &command, &log)?;
        self.status[i] = StepStatus::Running;
        self.started[i] = Some(Instant::now());
        self.outcomes[i] = Some((
            StepOutcome::Ran {
                reasons: reasons.clone(),
            },
            Duration::ZERO,
        ));
        events(Event::StepStarted {
            step: step.name.clone(),
            reasons,
        });
        if let Some(reason) = bad {
            self.status[i] = StepStatus::Running;
            self.running += 1;
            let _ = tx.send(Msg::Done {
                index: i,
                result: JobResult::Failed {
                    reason,
                    exit_code: None,
                    log_tail: Vec::new(),
                    canceled: false,
                },
            });
            return Ok(());
        }
        let job = Job {
            index: i,
            name: step.name.clone(),
            def,
            snapshot: def
                .source_path()
                .and_then(|p| self.snaps.get(&p))
                .map(|s| s.snapshot.clone()),
            work,
            step_dir,
            copies,
            views,
            outputs,
            command,
            log,
            path_env: self.path_env.clone(),
            run_id: self.run_id.clone(),
            stream: self.opts.stream,
            tail: self.opts.log_tail_lines,
            pids: self.pids.clone(),
            watchdog: self.watchdog().cloned(),
            cancel: self.opts.cancel.clone(),
        };
        let tx = tx.clone();
        self.running += 1;
        let spawned = std::thread::Builder::new()
            .name(format!("step {}", step.name))
            .spawn(move || {
                let index = job.index;
                let result = execute(&job, &tx);
                let _ = tx.send(Msg::Done { index, result });
            });
        if let Err(e) = spawned {
            self.running -= 1;
            return Err(LocalError::io(
                "start a thread for",
                self.ws.root().to_path_buf(),
                e,
            ));
        }
        Ok(())
    }

    /// The run's watchdog, started on first use.
    fn watchdog(&mut self) -> Option<&Arc<Watchdog>> {
        if self.watchdog.is_none() {
            self.watchdog = Watchdog::start().map(Arc::new);
        }
        self.watchdog.as_ref()
    }

    fn signal_all(&self, signal: libc::c_int) {
        let pids = self.pids.lock().map(|p| p.clone()).unwrap_or_default();
        for pid in pids.values() {
            signal_group(*pid, signal);
        }
    }
}

fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: sends a signal to the process group the step process leads (it was started
        // with its own group); no memory is touched.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// For a `uri_file` input fed from a step output folder: the single file inside it.
fn file_of_folder(path: &Path, ty: PortType) -> Result<PathBuf, String> {
    if ty != PortType::Data(AssetType::UriFile) || !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    match files.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "expects a file (uri_file), but {} holds {} files",
            path.display(),
            files.len()
        )),
    }
}

/// How an input reaches the step: `download` = a private copy, `ro_mount` (and no mode, Azure
/// ML's default) = a private read-only view, `direct` = the path itself.
fn deliver(path: PathBuf, mode: Option<InputMode>, step_dir: &Path, name: &str) -> Delivery {
    let base = step_dir.join("inputs").join(name);
    let to = if path.is_file() {
        base.join(path.file_name().unwrap_or(name.as_ref()))
    } else {
        base
    };
    match mode {
        Some(InputMode::Download) => Delivery::Copy { from: path, to },
        Some(InputMode::Direct) => Delivery::Path(path),
        Some(InputMode::ReadOnlyMount) | None => Delivery::View { from: path, to },
    }
}

/// Runs one step process to its end (on a worker thread), then gives read-only views their
/// write permission back and, if the step succeeded, removes its folder.
fn execute(job: &Job, tx: &Sender<Msg>) -> JobResult {
    let result = run_process(job, tx);
    if !job.views.is_empty() {
        mount::release(&job.step_dir.join("inputs"));
    }
    if matches!(result, JobResult::Sealed(_)) {
        let _ = remove_tree(&job.step_dir);
    }
    result
}

fn run_process(job: &Job, tx: &Sender<Msg>) -> JobResult {
    let fail = |reason: String| JobResult::Failed {
        reason,
        exit_code: None,
        log_tail: Vec::new(),
        canceled: false,
    };
    if let Err(e) = prepare(job) {
        // Nothing half-delivered stays on disk.
        let inputs = job.step_dir.join("inputs");
        mount::release(&inputs);
        let _ = remove_tree(&inputs);
        return fail(e.to_string());
    }
    let log = match File::create(&job.log) {
        Ok(f) => f,
        Err(e) => return fail(LocalError::io("create", &job.log, e).to_string()),
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(&job.command)
        .current_dir(&job.work)
        .stdin(Stdio::null())
        .env("PATH", &job.path_env)
        .env("AZUREML_RUN_ID", format!("{}_{}", job.run_id, job.name))
        .env("AZUREML_PIPELINE_RUN_ID", &job.run_id)
        .env("AZUREML_STEP_NAME", &job.name)
        .env("PYTHONUNBUFFERED", "1");
    for (k, v) in job.def.environment_variables {
        cmd.env(k, v);
    }
    let log = Arc::new(Mutex::new(log));
    if job.stream {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        let (Ok(out), Ok(err)) = (
            log.lock().map(|f| f.try_clone()),
            log.lock().map(|f| f.try_clone()),
        ) else {
            return fail("cannot share the log file".into());
        };
        match (out, err) {
            (Ok(o), Ok(e)) => {
                cmd.stdout(o).stderr(e);
            }
            (Err(e), _) | (_, Err(e)) => {
                return fail(LocalError::io("open", &job.log, e).to_string());
            }
        }
    }
    isolate(&mut cmd, job.watchdog.as_deref().and_then(Watchdog::fd));
    if job.cancel.is_canceled() {
        return JobResult::Failed {
            reason: "canceled before it started".into(),
            exit_code: None,
            log_tail: Vec::new(),
            canceled: true,
        };
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot start `/bin/sh -c {}`: {e}", job.command)),
    };
    if let Ok(mut p) = job.pids.lock() {
        p.insert(job.index, child.id());
    }
    // A cancel that came between the check above and the registration would miss this step.
    if job.cancel.is_canceled() {
        signal_group(child.id(), libc::SIGTERM);
    }
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|pipe| {
        let tx = tx.clone();
        let log = log.clone();
        let index = job.index;
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buf = Vec::new();
            while reader.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
                if let Ok(mut f) = log.lock() {
                    let _ = f.write_all(&buf);
                }
                let line = String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_owned();
                let _ = tx.send(Msg::Output { index, line });
                buf.clear();
            }
        })
    })
    .collect();
    let status = child.wait();
    if let Ok(mut p) = job.pids.lock() {
        p.remove(&job.index);
    }
    if let Some(w) = &job.watchdog {
        w.forget(child.id());
    }
    for r in readers {
        let _ = r.join();
    }
    let status = match status {
        Ok(s) => s,
        Err(e) => return fail(format!("waiting for the process failed: {e}")),
    };
    if !status.success() {
        discard_outputs(job);
        let tail = log_tail(&job.log, job.tail);
        let canceled = job.cancel.is_canceled();
        let reason = match status.code() {
            Some(code) => format!("exited with code {code}"),
            None => {
                use std::os::unix::process::ExitStatusExt;
                format!("killed by signal {}", status.signal().unwrap_or(0))
            }
        };
        return JobResult::Failed {
            reason,
            exit_code: status.code(),
            log_tail: tail,
            canceled,
        };
    }
    match seal(job) {
        Ok(outputs) => JobResult::Sealed(outputs),
        Err(reason) => {
            discard_outputs(job);
            JobResult::Failed {
                reason,
                exit_code: Some(0),
                log_tail: log_tail(&job.log, job.tail),
                canceled: false,
            }
        }
    }
}

/// The working copy, private input copies, fresh output folders and the log folder.
fn prepare(job: &Job) -> Result<(), LocalError> {
    std::fs::create_dir_all(&job.work).map_err(|e| LocalError::io("create", &job.work, e))?;
    if let Some(s) = &job.snapshot {
        s.copy_to(&job.work).map_err(|e| LocalError::Snapshot {
            step: job.name.clone(),
            dir: job.work.clone(),
            reason: e.to_string(),
        })?;
    }
    for (from, to) in &job.copies {
        copy_tree(from, to)?;
    }
    for (from, to) in &job.views {
        mount::read_only_view(from, to)?;
    }
    for (_, tmp, _) in &job.outputs {
        let _ = remove_tree(tmp);
        std::fs::create_dir_all(tmp).map_err(|e| LocalError::io("create", tmp, e))?;
    }
    if let Some(parent) = job.log.parent() {
        std::fs::create_dir_all(parent).map_err(|e| LocalError::io("create", parent, e))?;
    }
    Ok(())
}

/// Checks, hashes, write-protects and renames each output into place.
fn seal(job: &Job) -> Result<BTreeMap<String, OutputRecord>, String> {
    let mut sealed = BTreeMap::new();
    for (name, tmp, _) in &job.outputs {
        let empty = std::fs::read_dir(tmp)
            .map(|mut d| d.next().is_none())
            .unwrap_or(true);
        if empty {
            return Err(format!(
                "the step exited 0 but wrote nothing to output `{name}`; write at least one file \
                 into the folder `${{{{outputs.{name}}}}}` names"
            ));
        }
    }
    for (name, tmp, fin) in &job.outputs {
        let hash = data_hash(tmp).map_err(|e| format!("output `{name}`: {e}"))?;
        write_protect(tmp);
        let _ = remove_tree(fin);
        std::fs::rename(tmp, fin).map_err(|e| {
            format!(
                "output `{name}`: cannot move {} into place: {e}",
                tmp.display()
            )
        })?;
        sealed.insert(
            name.clone(),
            OutputRecord {
                path: fin.clone(),
                hash,
            },
        );
    }
    Ok(sealed)
}

fn discard_outputs(job: &Job) {
    for (_, tmp, _) in &job.outputs {
        let _ = remove_tree(tmp);
    }
}

/// Makes the files of a sealed output read-only, so steps reading it through a view cannot
/// change them.
fn write_protect(dir: &Path) {
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if entry.file_type().is_file()
            && let Ok(meta) = entry.metadata()
        {
            let mut perms = meta.permissions();
            perms.set_readonly(true);
            let _ = std::fs::set_permissions(entry.path(), perms);
        }
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), LocalError> {
    let meta = std::fs::metadata(from).map_err(|e| LocalError::io("read", from, e))?;
    if meta.is_file() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| LocalError::io("create", parent, e))?;
        }
        std::fs::copy(from, to).map_err(|e| LocalError::io("copy", from, e))?;
        make_writable(to);
        return Ok(());
    }
    // The destination is never part of what is copied, even when it lies inside `from`.
    std::fs::create_dir_all(to).map_err(|e| LocalError::io("create", to, e))?;
    let skip = to.canonicalize().ok();
    let walk = walkdir::WalkDir::new(from)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| !(e.file_type().is_dir() && is_inside(e.path(), skip.as_deref(), to)));
    for entry in walk {
        let entry = entry.map_err(|e| super::hash::walk_error(from, e))?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).map_err(|e| LocalError::io("create", &dest, e))?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .map_err(|e| LocalError::io("copy", entry.path(), e))?;
            make_writable(&dest);
        }
    }
    Ok(())
}

/// Whether `path` is the destination `to` (or its canonical form `canonical`).
pub(crate) fn is_inside(path: &Path, canonical: Option<&Path>, to: &Path) -> bool {
    path == to || canonical.is_some_and(|c| path.canonicalize().is_ok_and(|p| p == c))
}

fn make_writable(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        let mut perms = meta.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        let _ = std::fs::set_permissions(path, perms);
    }
}

/// Puts the step in its own process group (so a cancel reaches its whole tree), on the run
/// watchdog's list (so the whole group dies if this process dies without cleaning up) and, on
/// Linux, has the step's shell killed at once if this process dies.
fn isolate(cmd: &mut Command, watchdog: Option<std::os::fd::RawFd>) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    // SAFETY: `prctl` and `enlist_self` are async-signal-safe; the closure allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if let Some(fd) = watchdog {
                Watchdog::enlist_self(fd);
            }
            Ok(())
        });
    }
}

/// The last `n` lines of a log file.
pub(crate) fn log_tail(path: &Path, n: usize) -> Vec<String> {
    let Ok(mut f) = File::open(path) else {
        return Vec::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let start = len.saturating_sub(64 * 1024);
    if f.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(n);
    lines[from..].iter().map(|l| (*l).to_owned()).collect()
}

/// Checks the data inputs of the pipeline itself, naming them as the user does.
fn check_pipeline_inputs(
    pipeline: &Pipeline,
    values: &[InputValue],
    ws: &Workspace,
    cwd: &Path,
) -> Result<(), LocalError> {
    for (input, value) in pipeline.inputs.iter().zip(values) {
        if let InputValue::Data(d) = value {
            let path = match d {
                DataLocation::Local(p) => cwd.join(p),
                DataLocation::Uri(u) => ws.resolve_uri(u, &input.name)?,
            };
            if !path.exists() {
                return Err(LocalError::MissingInput {
                    input: input.name.clone(),
                    path,
                    hint: Some(format!(
                        "pass another with `--input {}=PATH` or `--input {}=azureml://datastores/NAME/paths/P`",
                        input.name, input.name
                    )),
                });
            }
            if let (Ok(folder), Ok(workspace)) = (path.canonicalize(), ws.root().canonicalize())
                && folder.is_dir()
                && workspace.starts_with(&folder)
            {
                return Err(LocalError::InputContainsWorkspace {
                    input: input.name.clone(),
                    path,
                    workspace,
                });
            }
        }
    }
    Ok(())
}

/// The local path of every data input bound to a location.
fn resolve_data(plan: &Plan, ws: &Workspace) -> Result<Vec<Vec<Option<PathBuf>>>, LocalError> {
    plan.steps
        .iter()
        .map(|s| {
            s.def
                .inputs
                .iter()
                .zip(&s.inputs)
                .map(|(input, source)| match source {
                    Source::Data(d) => {
                        let qualified = format!("{}.{}", s.name, input.name);
                        let path = match d {
                            DataLocation::Local(p) => p.clone(),
                            DataLocation::Uri(u) => ws.resolve_uri(u, &qualified)?,
                        };
                        if !path.exists() {
                            return Err(LocalError::MissingInput {
                                input: qualified,
                                path,
                                hint: None,
                            });
                        }
                        Ok(Some(path))
                    }
                    _ => Ok(None),
                })
                .collect()
        })
        .collect()
}

/// Scans each distinct source folder once: the snapshot, its content hash and file hashes.
fn scan_snapshots(plan: &Plan) -> Result<HashMap<PathBuf, SnapInfo>, LocalError> {
    let mut out = HashMap::new();
    for s in &plan.steps {
        let Some(dir) = s.def.source_path() else {
            continue;
        };
        if out.contains_key(&dir) {
            continue;
        }
        let err = |reason: String| LocalError::Snapshot {
            step: s.name.clone(),
            dir: dir.clone(),
            reason,
        };
        if !dir.is_dir() {
            return Err(err(format!(
                "the folder does not exist (source_dir = \"{}\", relative to {})",
                s.def.source_dir.unwrap_or_default(),
                s.def.manifest_dir
            )));
        }
        let snapshot = Snapshot::scan(&dir).map_err(|e| err(e.to_string()))?;
        let hash = snapshot
            .content_hash_cached()
            .map_err(|e| err(e.to_string()))?;
        let mut files = BTreeMap::new();
        for f in snapshot.files() {
            files.insert(
                f.relative.to_string(),
                file_hash(&f.path).map_err(|e| err(e.to_string()))?,
            );
        }
        if let Some(script) = s.def.script
            && !files.contains_key(script)
        {
            return Err(err(format!(
                "the script `{script}` is not in the snapshot (missing, or excluded by an ignore rule)"
            )));
        }
        out.insert(
            dir,
            SnapInfo {
                snapshot: Arc::new(snapshot),
                hash,
                files,
            },
        );
    }
    Ok(out)
}

/// Fills every command template with stand-in values, so a bad placeholder is reported before
/// anything runs.
fn check_commands(plan: &Plan) -> Result<(), LocalError> {
    for s in plan.steps.iter().map(|s: &PlannedStep| s) {
        let mut values = Values::new();
        for i in s.def.inputs {
            values.insert(format!("inputs.{}", i.name), Some("x".into()));
        }
        for o in s.def.outputs {
            values.insert(format!("outputs.{}", o.name), Some("x".into()));
        }
        command::render(s.def.command, &values).map_err(|message| LocalError::Command {
            step: s.name.clone(),
            message,
        })?;
    }
    Ok(())
}

/// The interpreter `python` resolves to in step commands.
pub(crate) fn find_python(explicit: Option<&Path>) -> Result<PathBuf, LocalError> {
    let env = std::env::var_os(PYTHON_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    if let Some(p) = explicit.map(Path::to_path_buf).or(env) {
        if p.components().count() > 1 {
            return if p.is_file() {
                Ok(p)
            } else {
                Err(LocalError::Python {
                    wanted: p.display().to_string(),
                    on_path: false,
                })
            };
        }
        return which(&p.to_string_lossy()).ok_or(LocalError::Python {
            wanted: p.display().to_string(),
            on_path: true,
        });
    }
    which("python3").ok_or(LocalError::Python {
        wanted: "python3".into(),
        on_path: true,
    })
}

fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn link_python(python: &Path, link: &Path) -> Result<(), LocalError> {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(python, link).map_err(|e| LocalError::io("create", link, e))
}
