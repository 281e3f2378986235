//! The command line a pipeline binary gets from one call in `main`:
//!
//! ```no_run
//! # use azureml_pipelines::prelude::*;
//! # #[step(command = "echo hello", environment = "python:3.12")] fn hello();
//! # #[pipeline] fn my_pipeline() { hello() }
//! fn main() -> std::process::ExitCode {
//!     azureml_pipelines::cli::main(my_pipeline)
//! }
//! ```
//!
//! Exit codes: 0 success; 1 the pipeline (or a step, a job, or a request) failed or was
//! canceled; 2 bad usage or bad input (a missing or malformed workspace config included); 130 a
//! second Ctrl-C.

mod azure;
pub mod export;
pub mod graph;
pub mod local;
pub mod submit;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::graph::{InputValue, Pipeline, PipelineFn, PortType};

/// The command line of a pipeline binary.
#[derive(Debug, Parser)]
#[command(disable_version_flag = true)]
pub struct Cli {
    /// What to do; `run` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline on this machine (the default).
    Run(local::RunArgs),
    /// Run the pipeline on Azure ML: upload snapshots, register components, create the job.
    Submit(submit::SubmitArgs),
    /// Write the pipeline as Azure ML REST bodies (json) or a CLI v2 pipeline job (yaml).
    Export(export::ExportArgs),
    /// Draw the pipeline as a Mermaid or Graphviz graph.
    Graph(GraphArgs),
    /// Inspect earlier runs.
    Runs(local::RunsArgs),
    /// Show which files a step's snapshot holds and its content hash.
    Snapshot(local::SnapshotArgs),
    /// Copy local files into a datastore (local, or with `--azure` the workspace's).
    Upload(local::UploadArgs),
    /// List the datastores of the Azure ML workspace.
    Datastores(DatastoresArgs),
}

/// `datastores`: the Azure ML workspace's datastores.
#[derive(Debug, Clone, clap::Args)]
pub struct DatastoresArgs {
    /// The workspace config file (default: `config.json` or `.azureml/config.json` in the
    /// current folder or a parent).
    #[arg(long, value_name = "FILE", env = "AZUREML_CONFIG")]
    pub config: Option<std::path::PathBuf>,
}

/// Graph formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// `graph`: draw the pipeline.
#[derive(Debug, Clone, clap::Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: GraphFormat,
    /// Colour the steps by their status in this local run (an id, a unique prefix, or `last`).
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub workspace: local::WorkspaceArg,
}

/// Step colours from a local run; a sub-pipeline node takes the worst status of its steps.
fn run_colours(
    pipeline: &Pipeline,
    args: &GraphArgs,
) -> Result<BTreeMap<String, graph::NodeColour>, crate::local::LocalError> {
    use crate::local::StepStatus;
    use graph::NodeColour;
    let Some(run) = &args.run else {
        return Ok(BTreeMap::new());
    };
    let statuses = crate::local::step_statuses(args.workspace.path(), run)?;
    let colour = |s: StepStatus| match s {
        StepStatus::Completed => NodeColour::Completed,
        StepStatus::Reused => NodeColour::Reused,
        StepStatus::Failed => NodeColour::Failed,
        StepStatus::Skipped => NodeColour::Skipped,
        StepStatus::Canceled => NodeColour::Canceled,
        StepStatus::NotStarted | StepStatus::Running => NodeColour::Running,
    };
    let rank = |c: NodeColour| match c {
        NodeColour::Failed => 5,
        NodeColour::Canceled => 4,
        NodeColour::Running => 3,
        NodeColour::Skipped => 2,
        NodeColour::Completed => 1,
        NodeColour::Reused => 0,
    };
    let mut colours: BTreeMap<String, NodeColour> = BTreeMap::new();
    for node in &pipeline.nodes {
        let prefix = format!("{}.", node.name);
        for (name, status) in &statuses {
            if *name == node.name || name.starts_with(&prefix) {
                let c = colour(*status);
                let slot = colours.entry(node.name.clone()).or_insert(c);
                if rank(c) > rank(*slot) {
                    *slot = c;
                }
            }
        }
    }
    Ok(colours)
}

/// Prints `e` and each cause it does not already say, and returns `code`.
fn fail(e: &(dyn std::error::Error + 'static), code: ExitCode) -> ExitCode {
    let text = e.to_string();
    eprintln!("error: {text}");
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            eprintln!("  caused by: {cause}");
        }
        source = s.source();
    }
    code
}

/// First Ctrl-C (or SIGTERM) raises `flag` (the run or the job is canceled cleanly); a second
/// one exits at once with code 130. Unregister the returned handlers when done.
fn install_ctrl_c(flag: &std::sync::Arc<std::sync::atomic::AtomicBool>) -> Vec<signal_hook::SigId> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut ids = Vec::new();
    for sig in [SIGINT, SIGTERM] {
        if let Ok(id) = signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone()) {
            ids.push(id);
        }
        if let Ok(id) = signal_hook::flag::register(sig, flag.clone()) {
            ids.push(id);
        }
    }
    ids
}

/// Builds the pipeline from `f`, parses the process arguments and runs the command.
pub fn main<Args, F: PipelineFn<Args>>(f: F) -> ExitCode {
    let pipeline = match f.build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    main_with(&pipeline, std::env::args_os())
}

/// The `--help` text listing the pipeline's inputs and parameters.
pub fn inputs_help(pipeline: &Pipeline) -> String {
    let mut s = String::new();
    let data: Vec<_> = pipeline
        .inputs
        .iter()
        .filter(|i| matches!(i.ty, PortType::Data(_)))
        .collect();
    let params: Vec<_> = pipeline
        .inputs
        .iter()
        .filter(|i| matches!(i.ty, PortType::Param(_)))
        .collect();
    let default = |v: &Option<InputValue>| match v {
        Some(InputValue::Literal(l)) => format!(" (default: {l})"),
        Some(InputValue::Data(d)) => format!(" (default: {d})"),
        None => " (required)".to_owned(),
    };
    if !data.is_empty() {
        s.push_str(
            "Pipeline inputs (--input NAME=PATH or NAME=azureml://datastores/DS/paths/P):\n",
        );
        for i in data {
            let _ = writeln!(s, "  {:<20} {}{}", i.name, i.ty, default(&i.default));
        }
    }
    if !params.is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str("Pipeline parameters (--param NAME=VALUE):\n");
        for i in params {
            let ty = match i.ty {
                PortType::Param(p) => p.rust_type(),
                PortType::Data(_) => "",
            };
            let _ = writeln!(s, "  {:<20} {}{}", i.name, ty, default(&i.default));
        }
    }
    s
}

/// Like [`main`], for a pipeline already built and explicit arguments.
pub fn main_with<I, T>(pipeline: &Pipeline, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let about = match &pipeline.description {
        Some(d) => format!("Pipeline `{}`: {d}", pipeline.name),
        None => format!("Pipeline `{}`", pipeline.name),
    };
    let help = inputs_help(pipeline);
    let command = Cli::command()
        .name(pipeline.name.clone())
        .about(about)
        .after_help(help.clone())
        .mut_subcommand("run", |c| c.after_help(help.clone()))
        .mut_subcommand("submit", |c| c.after_help(help.clone()))
        .mut_subcommand("export", |c| c.after_help(help.clone()));
    let parsed = command
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        None => local::run(pipeline, &local::RunArgs::default()),
        Some(Command::Run(a)) => local::run(pipeline, &a),
        Some(Command::Submit(a)) => submit::submit(pipeline, &a),
        Some(Command::Export(a)) => {
            let cwd = std::env::current_dir().unwrap_or_default();
            match export::export(pipeline, &a, &cwd) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some(Command::Graph(a)) => {
            let colours = match run_colours(pipeline, &a) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let text = match a.format {
                GraphFormat::Mermaid => graph::mermaid(pipeline, &colours),
                GraphFormat::Dot => graph::dot(pipeline, &colours),
            };
            print!("{text}");
            ExitCode::SUCCESS
        }
        Some(Command::Runs(a)) if a.azure => {
            let config = a.config.as_deref();
            match &a.command {
                local::RunsCommand::List { limit } => {
                    azure::runs_list(config, Some(pipeline.experiment_name()), *limit)
                }
                local::RunsCommand::Show { run } => azure::runs_show(config, run),
                local::RunsCommand::Logs { run, .. } => {
                    eprintln!(
                        "error: the logs of Azure ML jobs are in the studio; `runs show --azure {run}` prints its link"
                    );
                    ExitCode::from(2)
                }
            }
        }
        Some(Command::Runs(a)) => local::runs(pipeline, &a),
        Some(Command::Snapshot(a)) => local::snapshot(pipeline, &a),
        Some(Command::Upload(a)) if a.azure => azure::upload(
            a.config.as_deref(),
            &a.sources,
            &a.datastore,
            &a.target_path,
            a.overwrite,
        ),
        Some(Command::Upload(a)) => local::upload(&a),
        Some(Command::Datastores(a)) => azure::datastores(a.config.as_deref()),
    }
}
