//! The scheduler: decides, step by step, whether to reuse or run; starts step processes (a
//! bounded number at once) and records every state change. Each step's state lives in one
//! [`StepState`].
//!
//! The file is longer than most because reuse decisions, launches and completions all read and
//! change the same executor state; what can stand alone lives beside it (`preflight`, `deliver`,
//! `process`, `logs`, `options`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::graph::{InputValue, Pipeline, PortType};

use super::command::Values;
use super::error::LocalError;
use super::hash::{data_hash, fingerprint};
use super::plan::{Plan, Source, interface};
use super::reuse::ReuseParts;
use super::store::{OutputRecord, RunRecord, RunStatus, RunStore, StepStatus, now_ms};
use super::watchdog::Watchdog;
use super::workspace::Workspace;
use super::{clock, git};

use super::deliver::*;
use super::options::*;
use super::preflight::*;
use super::process::*;

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
    events: impl FnMut(Event),
) -> Result<RunSummary, LocalError> {
    let values = pipeline.bind(&opts.params, &opts.inputs, &opts.cwd)?;
    run_bound(pipeline, &values, opts, events)
}

/// Runs `pipeline` with inputs already bound by [`Pipeline::bind`] (one value per pipeline
/// input), as `azure::submit` takes them; [`RunOptions::params`] and [`RunOptions::inputs`] are
/// not read.
pub fn run_bound(
    pipeline: &Pipeline,
    values: &[InputValue],
    opts: &RunOptions,
    mut events: impl FnMut(Event),
) -> Result<RunSummary, LocalError> {
    let t0 = Instant::now();
    if values.len() != pipeline.inputs.len() {
        return Err(LocalError::Bind(crate::graph::BindError::ValueCount {
            pipeline: pipeline.name.clone(),
            given: values.len(),
            expected: pipeline.inputs.len(),
        }));
    }
    let values = values.to_vec();
    let ws = Workspace::open(&opts.workspace)?;
    let mut store = ws.store()?;
    ws.close_abandoned_runs(&store)?;
    check_pipeline_inputs(pipeline, &values, &ws, &opts.cwd)?;
    let plan = Plan::new(pipeline, &values, &opts.cwd);
    let resolved = resolve_data(&plan, &ws)?;
    let snaps = scan_snapshots(&plan)?;
    check_commands(&plan)?;
    let python = if super::rust_step::runs_python(&plan) {
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
        // A Rust step runs this binary itself: its image is no environment to tell about.
        let mut v: Vec<&str> = plan
            .steps
            .iter()
            .filter(|s| !matches!(s.def.kind, crate::graph::StepKind::Rust(_)))
            .filter_map(|s| s.environment)
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
        steps: resolved.into_iter().map(StepState::new).collect(),
        snaps,
        path_env,
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
    } else if exec.steps.iter().all(|s| s.status.succeeded()) {
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
            outcome: exec.steps[i]
                .outcome
                .clone()
                .map_or(StepOutcome::Canceled, |(o, _)| o),
            elapsed: exec.steps[i]
                .outcome
                .as_ref()
                .map_or(Duration::ZERO, |(_, e)| *e),
            outputs: exec.steps[i]
                .sealed
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

/// Everything the scheduler knows about one step of the run.
struct StepState {
    /// Where it stands.
    status: StepStatus,
    /// Whether reuse-or-run has been decided.
    decided: bool,
    /// Its outputs, once sealed or reused.
    sealed: Option<BTreeMap<String, OutputRecord>>,
    /// How it ended (or, while running, why it runs) and how long it took.
    outcome: Option<(StepOutcome, Duration)>,
    /// When its process started.
    started: Option<Instant>,
    /// Set when the step ran past its `timeout` and was told to stop: when to kill it.
    timed_out: Option<Instant>,
    /// Local path of each `Source::Data` input, by input position.
    resolved: Vec<Option<PathBuf>>,
}

impl StepState {
    fn new(resolved: Vec<Option<PathBuf>>) -> Self {
        Self {
            status: StepStatus::NotStarted,
            decided: false,
            sealed: None,
            outcome: None,
            started: None,
            timed_out: None,
            resolved,
        }
    }
}

struct Executor<'a> {
    pipeline: &'a Pipeline,
    plan: &'a Plan,
    opts: &'a RunOptions,
    ws: &'a Workspace,
    store: &'a RunStore,
    run_id: String,
    snaps: HashMap<PathBuf, SnapInfo>,
    path_env: std::ffi::OsString,
    /// One entry per planned step, in plan order.
    steps: Vec<StepState>,
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
            self.enforce_timeouts();
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
        let pending: Vec<usize> = (0..self.steps.len())
            .filter(|&i| !self.steps[i].status.is_final())
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
        let elapsed = self.steps[i]
            .started
            .map_or(Duration::ZERO, |t| t.elapsed());
        let step = &self.plan.steps[i];
        super::rust_step::store_metrics(self.store, self.ws, step, &self.run_id)?;
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
                self.steps[i].status = StepStatus::Completed;
                self.steps[i].sealed = Some(outputs);
                let reasons = match &self.steps[i].outcome {
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
                // A step stopped for its timeout failed, and says why.
                let timeout = step
                    .def
                    .timeout
                    .filter(|_| self.steps[i].timed_out.is_some());
                let reason = match timeout {
                    Some(t) if !canceled => {
                        let text = format!("timed out after {t} s");
                        self.failure
                            .get_or_insert_with(|| format!("step `{}` {text}", step.name));
                        text
                    }
                    _ => reason,
                };
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
                self.steps[i].status = status;
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
                if !self.steps[d].status.is_final() && !self.is_running(d) {
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
        self.steps[i].status == StepStatus::Running
    }

    /// Marks every step that has not started as not run.
    fn not_run_all(
        &mut self,
        status: StepStatus,
        why: &str,
        events: &mut impl FnMut(Event),
    ) -> Result<(), LocalError> {
        self.queue.clear();
        for i in 0..self.steps.len() {
            if self.steps[i].status == StepStatus::NotStarted {
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
        self.steps[i].status = status;
        self.steps[i].decided = true;
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
        self.steps[i].outcome = Some((outcome.clone(), elapsed));
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
                if self.steps[i].decided
                    || !self.plan.steps[i]
                        .upstream
                        .iter()
                        .all(|&u| self.steps[u].status.succeeded())
                {
                    continue;
                }
                self.steps[i].decided = true;
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
                if let Some((o, e)) = &self.steps[i].outcome {
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
        self.steps[i].status = StepStatus::Failed;
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
            command: super::kinds::template(def).into_owned(),
            environment: def.environment.unwrap_or_default().to_owned(),
            interface: interface(def),
            env_vars: def
                .environment_variables
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            rust: super::rust_step::identity(def),
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
                    let hash = self.steps[*u]
                        .sealed
                        .as_ref()
                        .and_then(|o| o.get(out_name))
                        .map(|o| o.hash.clone())
                        .unwrap_or_default();
                    parts.inputs.insert(input.name.to_owned(), hash);
                }
                (_, Source::Data(_)) => {
                    let Some(path) = self.steps[i].resolved[k].clone() else {
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
                (_, Source::Unbound) => {}
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
                                "output `{}` of `{}` changed since run {}",
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
                self.steps[i].status = StepStatus::Reused;
                self.steps[i].sealed = Some(found.outputs.clone());
                self.steps[i].outcome = Some((
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
                Source::Unbound => {
                    values.insert(format!("inputs.{}", input.name), None);
                    continue;
                }
                Source::Literal(l) => Delivery::Value(l.to_wire()),
                Source::Upstream { step: u, output } => {
                    let out_name = self.plan.steps[*u].def.outputs[*output].name;
                    let path = self.steps[*u]
                        .sealed
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
                Source::Data(d) => match &self.steps[i].resolved[k] {
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
        let command = match super::command::render(&super::kinds::template(def), &values)
            .and_then(|c| super::rust_step::command_line(def, c, &log))
        {
            Ok(c) => c,
            Err(e) => {
                bad.get_or_insert(e);
                String::new()
            }
        };
        self.store
            .step_started(&self.run_id, &step.name, &parts, &reasons, &command, &log)?;
        self.steps[i].status = StepStatus::Running;
        self.steps[i].started = Some(Instant::now());
        self.steps[i].outcome = Some((
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
            self.steps[i].status = StepStatus::Running;
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
                let result = super::kinds::execute(&job, &tx);
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

    /// Stops each running step past its `timeout` the way a cancel stops the run (SIGTERM to
    /// its process group, SIGKILL after `kill_grace`); [`finished`](Self::finished) then marks
    /// it failed with the reason.
    fn enforce_timeouts(&mut self) {
        let now = Instant::now();
        for (i, state) in self.steps.iter_mut().enumerate() {
            if state.status != StepStatus::Running {
                continue;
            }
            let signal = match (
                state.timed_out,
                state.started,
                self.plan.steps[i].def.timeout,
            ) {
                (Some(kill_at), _, _) if now >= kill_at => {
                    // Once is enough; the process ends and `finished` follows.
                    state.timed_out = Some(kill_at + Duration::from_secs(24 * 3600));
                    libc::SIGKILL
                }
                (None, Some(started), Some(limit))
                    if now.duration_since(started) >= Duration::from_secs(limit) =>
                {
                    state.timed_out = Some(now + self.opts.kill_grace);
                    libc::SIGTERM
                }
                _ => continue,
            };
            let pid = self.pids.lock().ok().and_then(|p| p.get(&i).copied());
            if let Some(pid) = pid {
                signal_group(pid, signal);
            }
        }
    }

    fn signal_all(&self, signal: libc::c_int) {
        let pids = self.pids.lock().map(|p| p.clone()).unwrap_or_default();
        for pid in pids.values() {
            signal_group(*pid, signal);
        }
    }
}
