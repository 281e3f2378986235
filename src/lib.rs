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
//! * `#[step(...)]` on a bodiless fn declares a command step (an Azure ML command component).
//! * `#[pipeline(...)]` on a fn whose body calls steps declares a pipeline; its arguments are the
//!   pipeline's inputs and parameters, its return value the pipeline's outputs.
//! * [`Data<K>`](graph::Data) and [`Param<T>`](graph::Param) are typed handles: a
//!   `Data<UriFile>` cannot be passed where a `Data<UriFolder>` is expected.
//! * [`build`] turns a `#[pipeline]` fn into a [`Pipeline`](graph::Pipeline) value;
//!   [`wire`] writes the Azure ML REST bodies and CLI YAML; [`cli::main`] gives a pipeline binary
//!   its command line.

pub use azureml_pipelines_macros::{DataKind, pipeline, step};
#[cfg(feature = "azure")]
pub use azureml_pipelines_runtime::azure;
pub use azureml_pipelines_runtime::graph::build;
pub use azureml_pipelines_runtime::{cli, embedded, graph, local, snapshot, wire};

/// Everything a pipeline file needs: the macros, the handles and the data kinds.
pub mod prelude {
    pub use crate::graph::{
        CustomModel, Data, DataKind, MlTable, MlflowModel, Param, UriFile, UriFolder,
    };
    pub use azureml_pipelines_macros::{DataKind, pipeline, step};
}

#[doc(hidden)]
pub use azureml_pipelines_runtime::__private;
