//! The local commands of a pipeline binary: `run`, `runs`, `snapshot`, `upload`.

use std::process::ExitCode;

use crate::graph::Pipeline;

/// `run`: run the pipeline on this machine.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Set a pipeline parameter: `--param name=value`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Bind a data input to a local path or an `azureml://datastores/NAME/paths/P` URI.
    #[arg(long = "input", value_name = "NAME=PATH")]
    pub inputs: Vec<String>,
}

/// `runs`: the run history.
#[derive(Debug, Clone, clap::Args)]
pub struct RunsArgs {}

/// `snapshot`: what a step's snapshot holds.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotArgs {}

/// `upload`: copy local files into a datastore.
#[derive(Debug, Clone, clap::Args)]
pub struct UploadArgs {}

/// Runs `run`.
pub fn run(pipeline: &Pipeline, args: &RunArgs) -> ExitCode {
    let _ = args;
    eprintln!(
        "would run pipeline `{}` ({} steps) locally; the local backend is not built yet",
        pipeline.name,
        pipeline.nodes.len()
    );
    ExitCode::from(2)
}

/// Runs `runs`.
pub fn runs(pipeline: &Pipeline, args: &RunsArgs) -> ExitCode {
    let _ = (pipeline, args);
    eprintln!("the run history is not built yet");
    ExitCode::from(2)
}

/// Runs `snapshot`.
pub fn snapshot(pipeline: &Pipeline, args: &SnapshotArgs) -> ExitCode {
    let _ = (pipeline, args);
    eprintln!("`snapshot` is not built yet");
    ExitCode::from(2)
}

/// Runs `upload`.
pub fn upload(args: &UploadArgs) -> ExitCode {
    let _ = args;
    eprintln!("`upload` is not built yet");
    ExitCode::from(2)
}
