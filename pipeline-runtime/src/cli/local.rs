//! The local commands of a pipeline binary: `run`, `runs`, `snapshot`, `upload`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::graph::{Pipeline, split_assignment};
use crate::local::{
    self, CancelToken, Event, LocalError, RunOptions, RunStatus, StepOutcome, StepStatus, Workspace,
};
use crate::snapshot::Snapshot;

/// `run`: run the pipeline on this machine.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Set a pipeline parameter: `--param name=value`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Bind a data input to a local path or an `azureml://datastores/NAME/paths/P` URI.
    #[arg(long = "input", value_name = "NAME=PATH")]
    pub inputs: Vec<String>,
    /// Run every step, reusing nothing from earlier runs.
    #[arg(long)]
    pub regenerate_outputs: bool,
    /// Show what the steps print, each line prefixed by the step's name.
    #[arg(long)]
    pub stream: bool,
    /// Keep running independent branches after a step fails.
    #[arg(long)]
    pub continue_on_step_failure: bool,
    /// How many steps may run at once (default: the number of cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub max_parallel: Option<usize>,
    /// The interpreter `python` runs in step commands (default: `python3` on PATH).
    #[arg(long, value_name = "PATH", env = "AZUREML_LOCAL_PYTHON")]
    pub python: Option<PathBuf>,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
}

/// `--workspace DIR`: the local workspace folder.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WorkspaceArg {
    /// The local workspace folder (default: `.azureml-local` in the current directory).
    #[arg(
        long = "workspace",
        value_name = "DIR",
        env = "AZUREML_LOCAL_WORKSPACE",
        global = true
    )]
    pub dir: Option<PathBuf>,
}

impl WorkspaceArg {
    /// The workspace folder: the flag, else `AZUREML_LOCAL_WORKSPACE`, else `.azureml-local`.
    pub fn path(&self) -> PathBuf {
        Workspace::locate(self.dir.as_deref(), &cwd())
    }
}

/// `runs`: the run history.
#[derive(Debug, Clone, clap::Args)]
pub struct RunsArgs {
    /// What to show.
    #[command(subcommand)]
    pub command: RunsCommand,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Pipeline jobs of the Azure ML workspace instead of local runs
    /// (`runs list --azure`, `runs show --azure JOB`).
    #[arg(long, global = true)]
    pub azure: bool,
    /// The workspace config file for `--azure` (default: `config.json` or
    /// `.azureml/config.json` in the current folder or a parent).
    #[arg(long, value_name = "FILE", env = "AZUREML_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

/// The `runs` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RunsCommand {
    /// The most recent runs.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// A run's steps with status, duration, reuse and outputs.
    Show {
        /// Run id, a unique prefix of one, or `last`.
        run: String,
    },
    /// A step's log.
    Logs {
        /// Run id, a unique prefix of one, or `last`.
        run: String,
        /// Step name (`train`, or `outer.inner` inside a sub-pipeline).
        step: String,
        /// Only the last N lines.
        #[arg(long, value_name = "N")]
        tail: Option<usize>,
    },
}

/// `snapshot`: what a step's snapshot holds.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotArgs {
    /// The step whose `source_dir` to show.
    #[arg(long, conflicts_with = "path")]
    pub step: Option<String>,
    /// A folder to show instead.
    pub path: Option<PathBuf>,
    /// List at most this many files and exclusions (0 = all).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// `upload`: copy local files into a datastore (the seed's `upload_files`).
#[derive(Debug, Clone, clap::Args)]
pub struct UploadArgs {
    /// Files or folders to copy.
    #[arg(required = true, value_name = "SRC")]
    pub sources: Vec<PathBuf>,
    /// The datastore.
    #[arg(long, default_value = local::DEFAULT_DATASTORE)]
    pub datastore: String,
    /// The folder inside the datastore.
    #[arg(long, default_value = "", value_name = "PATH")]
    pub target_path: String,
    /// Replace files that exist.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Upload to the datastore of the Azure ML workspace instead of the local workspace.
    #[arg(long)]
    pub azure: bool,
    /// The workspace config file for `--azure` (default: the `config.json` search).
    #[arg(long, value_name = "FILE", env = "AZUREML_CONFIG")]
    pub config: Option<PathBuf>,
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

fn fail(e: &LocalError) -> ExitCode {
    super::fail(e, ExitCode::from(if e.is_bad_input() { 2 } else { 1 }))
}

/// Whether an Azure ML workspace is configured for `submit`, found by the same rules (a
/// `config.json` in the current directory, `.azureml/` or a parent; `AZUREML_CONFIG`; the
/// `AZUREML_SUBSCRIPTION_ID` / `AZUREML_RESOURCE_GROUP` / `AZUREML_WORKSPACE_NAME` trio).
enum AzureWorkspace {
    /// Nothing names a workspace.
    None,
    /// A workspace, and where it was named.
    Configured { name: String, from: String },
    /// Something names one, but it cannot be used.
    Broken(String),
}

fn azure_workspace() -> AzureWorkspace {
    use crate::azure::config::{ConfigError, ProcessEnv, WorkspaceConfig};
    match WorkspaceConfig::discover(&cwd(), &ProcessEnv) {
        Ok(c) => AzureWorkspace::Configured {
            from: match &c.source {
                Some(p) => p.display().to_string(),
                None => "the AZUREML_* environment variables".to_owned(),
            },
            name: c.workspace_name,
        },
        Err(ConfigError::NotFound { .. }) => AzureWorkspace::None,
        Err(e) => AzureWorkspace::Broken(e.to_string()),
    }
}

fn pairs(items: &[String]) -> Result<Vec<(String, String)>, LocalError> {
    items
        .iter()
        .map(|s| split_assignment(s).map_err(LocalError::from))
        .collect()
}

/// Runs `run`.
pub fn run(pipeline: &Pipeline, args: &RunArgs) -> ExitCode {
    let (params, inputs) = match (pairs(&args.params), pairs(&args.inputs)) {
        (Ok(p), Ok(i)) => (p, i),
        (Err(e), _) | (_, Err(e)) => return fail(&e),
    };
    let workspace = args.workspace.path();
    let here = format!(
        "`{}` on this machine in {}",
        pipeline.name,
        workspace.display()
    );
    match azure_workspace() {
        AzureWorkspace::None => eprintln!(
            "No Azure ML workspace configured: running {here} (to run on Azure ML, add a \
             config.json or set AZUREML_SUBSCRIPTION_ID, AZUREML_RESOURCE_GROUP and \
             AZUREML_WORKSPACE_NAME, then use `submit`)."
        ),
        AzureWorkspace::Configured { name, from } => eprintln!(
            "Running {here} (`submit` runs it in the Azure ML workspace `{name}` of {from})."
        ),
        AzureWorkspace::Broken(e) => eprintln!("Running {here} (`submit` would fail: {e})."),
    }
    let cancel = CancelToken::new();
    let handlers = super::install_ctrl_c(&cancel.flag());
    let mut opts = RunOptions::new(workspace);
    opts.cwd = cwd();
    opts.params = params;
    opts.inputs = inputs;
    opts.python = args.python.clone();
    opts.max_parallel = args.max_parallel.unwrap_or(0);
    opts.regenerate_outputs = args.regenerate_outputs;
    opts.stream = args.stream;
    opts.continue_on_step_failure = args.continue_on_step_failure.then_some(true);
    opts.cancel = cancel;
    let mut view = Progress::new();
    // Bound here, as `submit` binds, so both backends take the same bound inputs.
    let result = pipeline
        .bind(&opts.params, &opts.inputs, &opts.cwd)
        .map_err(LocalError::from)
        .and_then(|values| local::run_bound(pipeline, &values, &opts, |e| view.event(e)));
    view.clear();
    for id in handlers {
        signal_hook::low_level::unregister(id);
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
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
            eprintln!(
                "Run {} completed in {took}: {} ran, {} reused.",
                summary.run_id,
                count(StepStatus::Completed),
                count(StepStatus::Reused)
            );
            for o in &pipeline.outputs {
                let node = &pipeline.nodes[o.from.node];
                let out = node.component.output_name(o.from.output);
                if let Some(path) = summary.step(&node.name).and_then(|s| s.outputs.get(out)) {
                    eprintln!("Output {}: {}", o.name, path.display());
                }
            }
            ExitCode::SUCCESS
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
                    eprintln!();
                    eprintln!("Step `{}` failed: {reason}", s.name);
                    if !log_tail.is_empty() {
                        eprintln!("--- last {} lines of its log ---", log_tail.len());
                        for line in log_tail {
                            eprintln!("{line}");
                        }
                        eprintln!("---");
                    }
                    if log_path.is_file() {
                        eprintln!("Full log: {}", log_path.display());
                    }
                }
            }
            eprintln!();
            eprintln!(
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
            ExitCode::from(1)
        }
    }
}

fn secs(d: Duration) -> String {
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
        }
    }

    fn line(&self, text: String) {
        if self.tty {
            let _ = self.multi.println(text);
        } else {
            eprintln!("{text}");
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

/// Runs `runs`.
pub fn runs(pipeline: &Pipeline, args: &RunsArgs) -> ExitCode {
    let _ = pipeline;
    let ws_dir = args.workspace.path();
    let result = match &args.command {
        RunsCommand::List { limit } => runs_list(&ws_dir, *limit),
        RunsCommand::Show { run } => runs_show(&ws_dir, run),
        RunsCommand::Logs { run, step, tail } => {
            local::step_log(&ws_dir, run, step, *tail).map(|(path, text)| {
                if path.as_os_str().is_empty() {
                    eprintln!("step `{step}` has no log (it did not run)");
                } else {
                    print!("{text}");
                    if !text.ends_with('\n') && !text.is_empty() {
                        println!();
                    }
                    eprintln!("({})", path.display());
                }
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn ms_between(start: i64, end: Option<i64>) -> String {
    match end {
        Some(e) if e >= start => secs(Duration::from_millis((e - start) as u64)),
        _ => "-".to_owned(),
    }
}

fn runs_list(ws_dir: &Path, limit: usize) -> Result<(), LocalError> {
    let ws = Workspace::open(ws_dir)?;
    let runs = ws.history()?.list_runs(limit)?;
    if runs.is_empty() {
        println!("No runs yet in {}.", ws.root().display());
        return Ok(());
    }
    println!(
        "{:<22} {:<10} {:<24} {:<20} {:>8}  GIT",
        "RUN", "STATUS", "PIPELINE", "STARTED (UTC)", "DURATION"
    );
    for r in runs {
        let git = match (&r.git.commit, r.git.dirty) {
            (Some(c), Some(true)) => format!("{} (dirty)", &c[..c.len().min(8)]),
            (Some(c), _) => c[..c.len().min(8)].to_owned(),
            _ => "-".to_owned(),
        };
        println!(
            "{:<22} {:<10} {:<24} {:<20} {:>8}  {git}",
            r.id,
            r.status.as_str(),
            r.pipeline,
            local::format_utc(r.started_ms),
            ms_between(r.started_ms, r.ended_ms)
        );
    }
    Ok(())
}

/// `4f014f8f8378 on main, dirty`: the commit, branch and state of the tree a run started from.
fn git_line(git: &local::GitInfo) -> Option<String> {
    let commit = git.commit.as_deref()?;
    let mut text = commit[..commit.len().min(12)].to_owned();
    if let Some(b) = &git.branch {
        text.push_str(&format!(" on {b}"));
    }
    match git.dirty {
        Some(true) => text.push_str(", dirty (uncommitted changes)"),
        Some(false) => text.push_str(", clean"),
        None => {}
    }
    Some(text)
}

fn runs_show(ws_dir: &Path, run: &str) -> Result<(), LocalError> {
    let ws = Workspace::open(ws_dir)?;
    let store = ws.history()?;
    let r = store.find_run(run, ws.root())?;
    println!("Run        {}", r.id);
    println!("Pipeline   {} (experiment {})", r.pipeline, r.experiment);
    println!("Status     {}", r.status);
    println!(
        "Started    {} UTC, took {}",
        local::format_utc(r.started_ms),
        ms_between(r.started_ms, r.ended_ms)
    );
    if let Some(e) = &r.error {
        println!("Error      {e}");
    }
    if let Some(git) = git_line(&r.git) {
        println!("Git        {git}");
    }
    for (k, v) in &r.params {
        println!("Param      {k} = {v}");
    }
    for (k, v) in &r.inputs {
        println!("Input      {k} = {v}");
    }
    for (k, v) in &r.properties {
        println!("Property   {k} = {v}");
    }
    let steps = store.steps(&r.id)?;
    let w = steps.iter().map(|s| s.node.len()).max().unwrap_or(4).max(4);
    println!();
    println!("{:<w$}  {:<10} {:>8}  REUSE", "STEP", "STATUS", "DURATION");
    for s in &steps {
        let reuse = match (&s.reused_from, s.status) {
            (Some((run, node)), _) => format!("reused (run {run}, step {node})"),
            (None, StepStatus::Skipped | StepStatus::Canceled) => {
                s.error.clone().unwrap_or_default()
            }
            (None, _) if !s.reasons.is_empty() => format!("not reused: {}", s.reasons.join("; ")),
            _ => String::new(),
        };
        let duration = s.duration().map_or_else(|| "-".to_owned(), secs);
        println!(
            "{:<w$}  {:<10} {:>8}  {reuse}",
            s.node,
            s.status.as_str(),
            duration
        );
        if s.status == StepStatus::Failed
            && let Some(e) = &s.error
        {
            println!("{:<w$}    error: {e}", "");
        }
        for (name, out) in &s.outputs {
            println!("{:<w$}    output {name}: {}", "", out.path.display());
        }
        if let Some(log) = &s.log_path
            && matches!(s.status, StepStatus::Failed | StepStatus::Completed)
        {
            println!("{:<w$}    log: {}", "", log.display());
        }
    }
    Ok(())
}

/// Runs `snapshot`.
pub fn snapshot(pipeline: &Pipeline, args: &SnapshotArgs) -> ExitCode {
    let roots: Vec<(String, PathBuf)> = match (&args.step, &args.path) {
        (Some(step), _) => match local::step_source(pipeline, step) {
            Ok(p) => vec![(format!("step `{step}`"), p)],
            Err(e) => return fail(&e),
        },
        (None, Some(path)) => vec![(path.display().to_string(), cwd().join(path))],
        (None, None) => {
            let mut seen = Vec::new();
            for (name, def) in local::steps_of(pipeline) {
                if let Some(p) = def.source_path()
                    && !seen.iter().any(|(_, q)| q == &p)
                {
                    seen.push((format!("step `{name}`"), p));
                }
            }
            seen
        }
    };
    let mut code = ExitCode::SUCCESS;
    let detailed = roots.len() == 1;
    for (label, root) in roots {
        let snap = match Snapshot::scan(&root) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {label}: {e}");
                code = ExitCode::from(2);
                continue;
            }
        };
        let hash = match snap.content_hash_cached() {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {label}: {e}");
                code = ExitCode::from(2);
                continue;
            }
        };
        println!("{label}: {}", root.display());
        match snap.ignore_file() {
            Some(f) => println!("  ignore file   {}", f.display()),
            None => println!("  ignore file   none (.amlignore or .gitignore)"),
        }
        println!(
            "  files         {} ({} bytes)",
            snap.files().len(),
            snap.total_size()
        );
        println!("  excluded      {}", snap.excluded().len());
        println!(
            "  content hash  {hash} (version {})",
            crate::snapshot::HASH_VERSION
        );
        if detailed {
            let limit = if args.limit == 0 {
                usize::MAX
            } else {
                args.limit
            };
            println!("  included:");
            for f in snap.files().iter().take(limit) {
                println!("    {:>10}  {}", f.size, f.relative);
            }
            if snap.files().len() > limit {
                println!(
                    "    … {} more (--limit 0 shows all)",
                    snap.files().len() - limit
                );
            }
            if !snap.excluded().is_empty() {
                println!("  excluded:");
                for x in snap.excluded().iter().take(limit) {
                    let source = x
                        .source
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    println!("    {}  by `{}` ({source}:{})", x.relative, x.rule, x.line);
                }
                if snap.excluded().len() > limit {
                    println!("    … {} more", snap.excluded().len() - limit);
                }
            }
        }
    }
    code
}

/// Runs `upload`.
pub fn upload(args: &UploadArgs) -> ExitCode {
    let result = Workspace::open(args.workspace.path()).and_then(|ws| {
        let sources: Vec<PathBuf> = args.sources.iter().map(|s| cwd().join(s)).collect();
        ws.upload(&sources, &args.datastore, &args.target_path, args.overwrite)
    });
    match result {
        Ok(done) => {
            let bytes: u64 = done.iter().map(|u| u.size).sum();
            for u in &done {
                println!("{}", u.uri);
            }
            eprintln!(
                "Uploaded {} files ({bytes} bytes) to datastore `{}`.",
                done.len(),
                args.datastore
            );
            match done.as_slice() {
                [one] => eprintln!("Use it with `--input NAME={}`.", one.uri),
                _ => {
                    let dir = args.target_path.trim_matches('/');
                    eprintln!(
                        "Use them with `--input NAME=azureml://datastores/{}/paths/{}`.",
                        args.datastore,
                        if dir.is_empty() { "<file>" } else { dir }
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_facts_fit_one_line() {
        let mut git = local::GitInfo {
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            branch: Some("main".into()),
            dirty: Some(true),
            repository: None,
        };
        assert_eq!(
            git_line(&git).unwrap(),
            "0123456789ab on main, dirty (uncommitted changes)"
        );
        git.dirty = Some(false);
        git.branch = None;
        assert_eq!(git_line(&git).unwrap(), "0123456789ab, clean");
        assert_eq!(git_line(&local::GitInfo::default()), None);
    }
}
