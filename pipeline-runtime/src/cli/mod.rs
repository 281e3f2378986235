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
//! One file per command (`run.rs`, `submit.rs`, `export.rs`, …), each with its clap argument
//! struct and one function returning `Result<ExitCode, CliError>`; arguments several commands
//! take are declared once in [`args`]. Every line printed goes through one path that never
//! panics (a closed pipe or a full disk becomes an exit code), and every error is printed by
//! one printer.
//!
//! Exit codes: 0 success (also when a reader such as `head` closes the pipe early); 1 the
//! pipeline (or a step, a job, a request, or writing the output) failed or was canceled; 2 bad
//! usage or bad input (a missing or malformed workspace config included); 130 a second Ctrl-C.

pub mod args;
#[cfg(feature = "azure")]
mod azure_workspace;
#[cfg(feature = "azure")]
pub mod compute;
pub mod data;
#[cfg(feature = "azure")]
pub mod datastores;
#[cfg(feature = "azure")]
pub mod dry_run;
#[cfg(feature = "azure")]
pub mod endpoint;
mod error;
pub mod export;
pub mod graph;
#[cfg(feature = "azure")]
pub mod legacy;
mod output;
#[cfg(feature = "azure")]
pub mod publish;
#[cfg(feature = "azure")]
pub mod published;
pub mod run;
pub mod runs;
#[cfg(feature = "azure")]
pub mod schedule;
pub mod snapshot;
mod step_entry;
#[cfg(feature = "azure")]
pub mod submit;
pub mod upload;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use error::CliError;
use output::{errln, out};

use crate::graph::{DataLocation, InputValue, Pipeline, PipelineFn, PortType};

/// The command line of a pipeline binary.
#[derive(Debug, Parser)]
#[command(disable_version_flag = true, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; `run` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The flags of `run`, taken when no command is given (`--param x=1` runs the pipeline).
    #[command(flatten)]
    pub run: run::RunArgs,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline on this machine (the default).
    Run(run::RunArgs),
    /// Run the pipeline on Azure ML: upload snapshots, register components, create the job.
    #[cfg(feature = "azure")]
    Submit(submit::SubmitArgs),
    /// Write the pipeline as Azure ML REST bodies (json) or a CLI v2 pipeline job (yaml).
    Export(export::ExportArgs),
    /// Draw the pipeline as a Mermaid or Graphviz graph.
    Graph(graph::GraphArgs),
    /// Inspect earlier runs.
    Runs(runs::RunsArgs),
    /// Show which files a step's snapshot holds and its content hash.
    Snapshot(snapshot::SnapshotArgs),
    /// Copy local files into a datastore (local, or with `--azure` the workspace's).
    Upload(upload::UploadArgs),
    /// List the datastores of the Azure ML workspace.
    #[cfg(feature = "azure")]
    Datastores(datastores::DatastoresArgs),
    /// Trigger, enable or disable pipelines published with Azure ML's v1 SDK.
    #[cfg(feature = "azure")]
    Legacy(legacy::LegacyArgs),
    /// Publish the pipeline as a named, versioned pipeline component in Azure ML.
    #[cfg(feature = "azure")]
    Publish(publish::PublishArgs),
    /// Batch endpoints that run published pipelines: create, deploy, set-default, invoke, …
    #[cfg(feature = "azure")]
    Endpoint(endpoint::EndpointArgs),
    /// Published pipeline versions: list, show, disable, enable.
    #[cfg(feature = "azure")]
    Published(published::PublishedArgs),
    /// Run the pipeline on Azure ML on a cron or recurrence schedule.
    #[cfg(feature = "azure")]
    Schedule(schedule::ScheduleArgs),
    /// Register, list, show, archive and restore data assets (local, or with `--azure`).
    Data(data::DataArgs),
    /// Create, list, show, resize, delete and attach the workspace's computes.
    #[cfg(feature = "azure")]
    Compute(compute::ComputeArgs),
}

/// The current folder (`.` if it cannot be read).
pub(crate) fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// A path relative to the current folder when it is below it, else as it is.
pub(crate) fn shown(path: &Path) -> String {
    path.strip_prefix(cwd())
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| path.display().to_string())
}

/// The one line `run` starts with: where it runs, and whether `submit` has a workspace.
pub(crate) fn banner(pipeline: &Pipeline, workspace: &Path) -> String {
    let here = format!(
        "Running `{}` on this machine in {}",
        pipeline.name,
        shown(workspace)
    );
    #[cfg(feature = "azure")]
    {
        use azure_workspace::Configured;
        match azure_workspace::configured() {
            Configured::None => {
                format!("{here} (no Azure ML workspace configured for `submit`).")
            }
            Configured::Named(name) => {
                format!("{here} (`submit` runs it in Azure ML workspace `{name}`).")
            }
            Configured::Broken(e) => format!("{here} (`submit` would fail: {e})."),
        }
    }
    #[cfg(not(feature = "azure"))]
    format!("{here}.")
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
            output::print_error(&e);
            return output::finish(ExitCode::from(2));
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
        Some(InputValue::Data(DataLocation::Local(path))) => {
            format!(" (default: {})", as_written(pipeline, path))
        }
        Some(InputValue::Data(d)) => format!(" (default: {d})"),
        None => " (required)".to_owned(),
    };
    if !data.is_empty() {
        s.push_str(
            "Pipeline inputs (--input NAME=PATH or NAME=azureml://datastores/DS/paths/P; a PATH is\n\
             relative to the current folder, a default to the pipeline crate's folder):\n",
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

/// Whether `command` reads the steps' snapshot folders.
fn uses_snapshots(command: &Command) -> bool {
    match command {
        Command::Run(_) | Command::Export(_) => true,
        #[cfg(feature = "azure")]
        Command::Submit(_) | Command::Publish(_) | Command::Schedule(_) => true,
        _ => false,
    }
}

/// Says which step folders gained files the binary's built-in copy lacks (a new file does not
/// trigger a rebuild by itself), so a binary is not shipped without them.
fn note_files_added_since_build() {
    for added in crate::embedded::added_since_build() {
        let mut files: Vec<String> = added
            .files
            .iter()
            .take(3)
            .map(|f| format!("`{f}`"))
            .collect();
        if added.files.len() > 3 {
            files.push(format!("{} more", added.files.len() - 3));
        }
        errln!(
            "Note: `{}` has files this binary was built without ({}); they are used here, but \
             touch the file that declares the step and rebuild before shipping the binary.",
            added.root,
            files.join(", ")
        );
    }
}

/// A local data default as the pipeline's author wrote it (relative to the crate), whether it
/// is read from the crate's folder or from the binary's unpacked copy: help never shows the
/// build machine's folders.
fn as_written(pipeline: &Pipeline, path: &Path) -> String {
    path.strip_prefix(&pipeline.manifest_dir)
        .ok()
        .map(Path::to_path_buf)
        .or_else(|| crate::embedded::relative_to_cache(path))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// Like [`main`], for a pipeline already built and explicit arguments.
pub fn main_with<I, T>(pipeline: &Pipeline, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    // The hidden entry point a Rust step runs as (not a clap command: never in `--help`).
    if step_entry::is_entry(&args) {
        return output::finish(step_entry::run(pipeline, &args));
    }
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
        .mut_subcommand("export", |c| c.after_help(help.clone()))
        // `runs --workspace W list` and `runs list --workspace W` both work.
        .mut_subcommand("runs", |c| c.mut_arg("dir", |a| a.global(true)));
    #[cfg(feature = "azure")]
    let command = command
        .mut_subcommand("submit", |c| c.after_help(help.clone()))
        .mut_subcommand("runs", |c| c.mut_arg("file", |a| a.global(true)));
    let parsed = command
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            // Help and usage errors go through the same writers as everything else.
            let text = e.render().to_string();
            let code = if e.use_stderr() {
                errln!("{}", text.trim_end());
                ExitCode::from(2)
            } else {
                out!("{text}");
                ExitCode::SUCCESS
            };
            return output::finish(code);
        }
    };
    let command = cli.command.unwrap_or(Command::Run(cli.run));
    if uses_snapshots(&command) {
        note_files_added_since_build();
    }
    let result = match command {
        Command::Run(a) => run::run(pipeline, &a),
        #[cfg(feature = "azure")]
        Command::Submit(a) => submit::submit(pipeline, &a),
        Command::Export(a) => export::export(pipeline, &a, &cwd())
            .map(|text| {
                out!("{text}");
                ExitCode::SUCCESS
            })
            .map_err(CliError::from),
        Command::Graph(a) => graph::graph(pipeline, &a),
        Command::Runs(a) => runs::runs(pipeline, &a),
        Command::Snapshot(a) => snapshot::snapshot(pipeline, &a),
        Command::Upload(a) => upload::upload(pipeline, &a),
        #[cfg(feature = "azure")]
        Command::Datastores(a) => datastores::datastores(&a),
        #[cfg(feature = "azure")]
        Command::Legacy(a) => legacy::legacy(&a),
        #[cfg(feature = "azure")]
        Command::Publish(a) => publish::publish(pipeline, &a),
        #[cfg(feature = "azure")]
        Command::Endpoint(a) => endpoint::endpoint(pipeline, &a),
        #[cfg(feature = "azure")]
        Command::Published(a) => published::published(&a),
        #[cfg(feature = "azure")]
        Command::Schedule(a) => schedule::schedule(pipeline, &a),
        #[cfg(feature = "azure")]
        Command::Compute(a) => compute::compute(&a),
        Command::Data(a) => data::data(pipeline, &a),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e);
            e.exit_code()
        }
    };
    output::finish(code)
}
