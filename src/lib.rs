//! Define, run, track and publish Azure Machine Learning pipelines as typed Rust functions.
//!
//! ```no_run
//! use azureml_pipelines::prelude::*;
//!
//! /// Cleans the raw iris CSV.
//! #[step(command = "python prepare.py --input ${{inputs.input}} --output ${{outputs.output}}",
//!        environment = "azureml:AzureML-sklearn-1.5@latest")]
//! fn data_prep(#[mode(download)] input: Data<UriFile>) -> Data<UriFolder>;
//!
//! #[pipeline(experiment = "Compare_Models_Exp", default_compute = "aml-compute")]
//! fn prep_only(iris: Data<UriFile>) -> Data<UriFolder> {
//!     data_prep(iris)
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     azureml_pipelines::cli::main(prep_only)
//! }
//! ```
//!
//! * [`#[step(...)]`](macro@step) on a bodiless fn declares a command step (the Python SDK v1's
//!   `PythonScriptStep`, an Azure ML command component): its parameters are the inputs, its
//!   return value the outputs.
//! * [`#[pipeline(...)]`](macro@pipeline) on a fn whose body calls steps declares a pipeline; its
//!   arguments are the pipeline's inputs and parameters, its return value the pipeline's outputs.
//! * [`Data<K>`](graph::Data) and [`Param<T>`](graph::Param) are typed handles: a
//!   `Data<UriFile>` cannot be passed where a `Data<UriFolder>` is expected, and
//!   [`#[derive(DataKind)]`](derive@DataKind) declares kinds of your own.
//! * [`cli::main`] gives a pipeline binary its command line: `run` (locally, the default),
//!   `submit` (to Azure ML), `export`, `graph`, `runs`, ...
//! * [`#[step(...)]`](macro@step) on a fn **with a body** declares a Rust step: the body runs as
//!   the step, its [`Input<K>`](rust_step::Input) parameters are readable paths, its
//!   [`Output<K>`](rust_step::Output) parameters folders to write, its `i64`/`f64`/`bool`/`String`
//!   parameters plain values; it can log [`metrics`]. See [`rust_step`] for the whole form.
//!
//! The modules, for use beyond `cli::main`:
//!
//! * [`build`] turns a `#[pipeline]` fn into a [`Pipeline`](graph::Pipeline) value to inspect
//!   or test; [`graph`] holds it and the handles;
//! * [`local`] runs a pipeline on this machine (processes, reuse, run history);
//! * [`azure`] talks to an Azure ML workspace (submit, runs, datastores, uploads);
//! * [`wire`] writes the Azure ML REST bodies and the job YAML (`export`);
//! * [`snapshot`] lists and hashes a step's source folder as Azure ML does.
//!
//! Paths in `source_dir` and in data defaults are relative to your crate's root (the folder
//! of its `Cargo.toml`); the README's "Your own crate" shows a layout.

pub use azureml_pipelines_macros::{DataKind, pipeline, step};
#[cfg(feature = "azure")]
pub use azureml_pipelines_runtime::azure;
pub use azureml_pipelines_runtime::graph::build;
#[cfg(feature = "azure")]
pub use azureml_pipelines_runtime::mlflow;
pub use azureml_pipelines_runtime::{
    cli, embedded, graph, local, metrics, rust_step, snapshot, wire,
};

/// Everything a pipeline file needs: the macros, the handles and the data kinds.
pub mod prelude {
    pub use crate::graph::{
        CustomModel, Data, DataKind, MlTable, MlflowModel, Param, UriFile, UriFolder,
    };
    pub use crate::rust_step::{Input, Output};
    pub use azureml_pipelines_macros::{DataKind, pipeline, step};
}

#[doc(hidden)]
pub use azureml_pipelines_runtime::__private;
