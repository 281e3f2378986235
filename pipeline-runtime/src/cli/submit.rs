//! `submit`: run the pipeline on Azure ML.

use std::process::ExitCode;

use crate::graph::Pipeline;

/// `submit`: upload snapshots, register components, create the pipeline job.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SubmitArgs {
    /// Set a pipeline parameter: `--param name=value`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Bind a data input to a local path (uploaded) or an `azureml://` URI.
    #[arg(long = "input", value_name = "NAME=PATH")]
    pub inputs: Vec<String>,
}

/// Runs `submit`.
pub fn submit(pipeline: &Pipeline, args: &SubmitArgs) -> ExitCode {
    let _ = args;
    eprintln!(
        "would submit pipeline `{}` to Azure ML; submission is not built yet",
        pipeline.name
    );
    ExitCode::from(2)
}
