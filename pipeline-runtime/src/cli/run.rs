//! `run` (the default command): run the pipeline on this machine.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{PipelineInputArgs, WorkspaceArg};
use super::output::errln;
use super::{CliError, cwd};
use crate::graph::Pipeline;
use crate::local::{self, CancelToken, Event, RunOptions, RunStatus, StepOutcome, StepStatus};

/// `run`: run the pipeline on this machine. Its flags are also accepted without the word `run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub pipeline: PipelineInputArgs,
    /// Show what the steps print, each line prefixed by the step's name.
    #[arg(long)]
    pub stream: bool,
    /// Keep running independent branches after a step fails.
    #[arg(long)]
    pub continue_on_step_failure: bool,
    /// How many steps may run at once (default: the number of cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub max_parallel: Option<usize>,
    /// When stderr is not a terminal: while steps run and nothing was printed for this many
    /// seconds, say which steps are still running (more than 0, at most 86400).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = super::args::seconds)]
    pub heartbeat: Duration,
    /// The interpreter `python` runs in step commands (default: `python3` on PATH).
    #[arg(long, value_name = "PATH", env = "AZUREML_LOCAL_PYTHON")]
    pub python: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub workspace: WorkspaceArg,
}

/// Runs `run`.
pub fn run(pipeline: &Pipeline, args: &RunArgs) -> Result<ExitCode, CliError> {
    let params = args.pipeline.param_pairs()?;
    let inputs = args.pipeline.input_pairs()?;
    // Bad values are refused before anything is printed or created.
    let values = pipeline.bind(&params, &inputs, &cwd())?;
    let workspace = args.workspace.path(pipeline);
    errln!("{}", super::banner(pipeline, &workspace));
    let cancel = CancelToken::new();
    let handlers = super::install_ctrl_c(&cancel.flag());
    let mut opts = RunOptions::new(workspace);
    opts.cwd = cwd();
    opts.params = params;
    opts.inputs = inputs;
    opts.python = args.python.clone();
    opts.max_parallel = args.max_parallel.unwrap_or(0);
    opts.regenerate_outputs = args.pipeline.regenerate_outputs;
    opts.stream = args.stream;
    opts.continue_on_step_failure = args.continue_on_step_failure.then_some(true);
    opts.cancel = cancel;
    let mut view = Progress::new();
    let heartbeat = (!view.tty).then(|| Heartbeat::start(Arc::clone(&view.shared), args.heartbeat));
    // Bound above, as `submit` binds, so both backends take the same bound inputs.
    let result = local::run_bound(pipeline, &values, &opts, |e| view.event(e));
    if let Some(h) = heartbeat {
        h.stop();
    }
    view.clear();
    for id in handlers {
        signal_hook::low_level::unregister(id);
    }
    let summary = result?;
    let count = |status: StepStatus| {
        summary
            .steps
            .iter()
            .filter(|s| s.outcome.status() == status)
            .count()
    };
    let took = secs(summary.elapsed);
    match summary.status {
        RunStatus::Completed => {
            errln!(
                "Run {} completed in {took}: {} ran, {} reused.",
                summary.run_id,
                count(StepStatus::Completed),
                count(StepStatus::Reused)
            );
            for o in &pipeline.outputs {
                let node = &pipeline.nodes[o.from.node];
                let out = node.component.output_name(o.from.output);
                if let Some(path) = summary.step(&node.name).and_then(|s| s.outputs.get(out)) {
                    errln!("Output {}: {}", o.name, path.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        status => {
            for s in &summary.steps {
                if let StepOutcome::Failed {
                    reason,
                    log_tail,
                    log_path,
                    ..
                } = &s.outcome
                {
                    errln!();
                    errln!("Step `{}` failed: {reason}", s.name);
                    if !log_tail.is_empty() {
                        errln!("--- last {} lines of its log ---", log_tail.len());
                        for line in log_tail {
                            errln!("{line}");
                        }
                        errln!("---");
                    }
                    if log_path.is_file() {
                        errln!("Full log: {}", log_path.display());
                    }
                }
            }
            errln!();
            errln!(
                "Run {} {} after {took}: {} ran, {} reused, {} failed, {} skipped, {} canceled. \
                 Details: `runs show {}`.",
                summary.run_id,
                if status == RunStatus::Canceled {
                    "was canceled"
                } else {
                    "failed"
                },
                count(StepStatus::Completed),
                count(StepStatus::Reused),
                count(StepStatus::Failed),
                count(StepStatus::Skipped),
                count(StepStatus::Canceled),
                summary.run_id
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// `12.3s`, `2m05s`.
pub(crate) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Renders run events: a spinner line per running step (on a terminal), a line per finished
/// step, streamed output prefixed by the step's name.
struct Progress {
    multi: MultiProgress,
    tty: bool,
    bars: std::collections::HashMap<String, ProgressBar>,
    width: usize,
    /// What the heartbeat reads: the running steps and when the last line was printed.
    shared: Arc<Mutex<Running>>,
}

/// The steps running now (name, since when) and when the last line was printed.
struct Running {
    steps: Vec<(String, Instant)>,
    last_line: Instant,
}

/// Off a terminal, where no spinner shows time passing: a thread that prints which steps are
/// still running whenever nothing was printed for `every`.
struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Heartbeat {
    fn start(shared: Arc<Mutex<Running>>, every: Duration) -> Self {
        let every = if every.is_zero() {
            Duration::from_secs(10)
        } else {
            every
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let tick = (every / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                let mut running = shared.lock().unwrap_or_else(|e| e.into_inner());
                if running.steps.is_empty() || running.last_line.elapsed() < every {
                    continue;
                }
                running.last_line = Instant::now();
                let list = running
                    .steps
                    .iter()
                    .map(|(step, since)| format!("{step} ({})", secs(since.elapsed())))
                    .collect::<Vec<_>>()
                    .join(", ");
                errln!("  … still running: {list}");
            }
        });
        Self { stop, thread }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

impl Progress {
    fn new() -> Self {
        let tty = std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Progress {
            multi,
            tty,
            bars: std::collections::HashMap::new(),
            width: 12,
            shared: Arc::new(Mutex::new(Running {
                steps: Vec::new(),
                last_line: Instant::now(),
            })),
        }
    }

    fn line(&self, text: String) {
        self.shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last_line = Instant::now();
        if self.tty {
            let _ = self.multi.println(text);
        } else {
            errln!("{text}");
        }
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::RunStarted {
                run_id,
                steps,
                workspace,
                ..
            } => {
                self.width = steps.iter().map(String::len).max().unwrap_or(8).max(8);
                self.line(format!(
                    "Run {run_id}: {} steps (logs in {})",
                    steps.len(),
                    workspace.join("runs").join(&run_id).join("logs").display()
                ));
            }
            Event::Notice(n) => self.line(format!("Note: {n}")),
            Event::StepStarted { step, reasons } => {
                self.shared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .steps
                    .push((step.clone(), Instant::now()));
                let why = format!("not reused: {}", reasons.join("; "));
                if self.tty {
                    let bar = self.multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template(&format!(
                            "  {{spinner}} {{prefix:{}}} running {{elapsed}}  {{msg}}",
                            self.width
                        ))
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(step.clone());
                    bar.set_message(why);
                    bar.enable_steady_tick(Duration::from_millis(120));
                    self.bars.insert(step, bar);
                } else {
                    self.line(format!("  > {step:w$} started ({why})", w = self.width));
                }
            }
            Event::StepOutput { step, line } => self.line(format!("[{step}] {line}")),
            Event::StepFinished {
                step,
                outcome,
                elapsed,
            } => {
                self.shared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .steps
                    .retain(|(s, _)| *s != step);
                if let Some(bar) = self.bars.remove(&step) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let w = self.width;
                let text = match &outcome {
                    StepOutcome::Ran { reasons } => format!(
                        "  ✓ {step:w$} ran {}  (not reused: {})",
                        secs(elapsed),
                        reasons.join("; ")
                    ),
                    StepOutcome::Reused { run_id, step: from } => {
                        format!("  ✓ {step:w$} reused (run {run_id}, step {from})")
                    }
                    StepOutcome::Failed { reason, .. } => {
                        format!("  ✗ {step:w$} failed after {}: {reason}", secs(elapsed))
                    }
                    StepOutcome::Skipped { because } => {
                        format!("  - {step:w$} skipped: {because}")
                    }
                    StepOutcome::Canceled => format!("  ■ {step:w$} canceled"),
                };
                self.line(text);
            }
            Event::Canceling => {
                self.line("Canceling: stopping every step process…".to_owned());
            }
        }
    }

    fn clear(&mut self) {
        for (_, bar) in self.bars.drain() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}
