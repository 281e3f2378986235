//! The command line a pipeline binary gets from one call in `main`:
//!
//! ```no_run
//! # use azureml_pipelines::prelude::*;
//! # #[pipeline] fn my_pipeline() {}
//! fn main() -> std::process::ExitCode {
//!     azureml_pipelines::cli::main(my_pipeline)
//! }
//! ```

pub mod local;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::graph::{Pipeline, PipelineFn};

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
    /// Inspect earlier runs.
    Runs(local::RunsArgs),
    /// Show which files a step's snapshot holds and its content hash.
    Snapshot(local::SnapshotArgs),
    /// Copy local files into a datastore.
    Upload(local::UploadArgs),
}

/// Builds the pipeline from `f`, parses the process arguments and runs the command.
///
/// Exit codes: 0 success, 1 the pipeline or a request failed, 2 bad usage or bad input.
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

/// Like [`main`], for a pipeline already built and explicit arguments.
pub fn main_with<I, T>(pipeline: &Pipeline, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
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
        Some(Command::Runs(a)) => local::runs(pipeline, &a),
        Some(Command::Snapshot(a)) => local::snapshot(pipeline, &a),
        Some(Command::Upload(a)) => local::upload(&a),
    }
}
