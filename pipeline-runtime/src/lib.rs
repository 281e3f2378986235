//! Runtime of `azureml-pipelines`.
//!
//! Use it through the `azureml-pipelines` crate, which re-exports these modules and the macros.
//! [`graph`] holds the typed handles and the pipeline graph; [`wire`] turns a pipeline into the
//! Azure ML REST bodies and job YAML; [`snapshot`] lists and hashes a step's source folder as
//! Azure ML does; [`local`] runs pipelines on this machine; [`azure`] talks to an Azure ML
//! workspace; `mlflow` sends a step's metrics to its Azure ML job's MLflow run (with the `azure`
//! feature); [`cli`] is the command line a pipeline binary gets.
//!
//! Dependencies run one way: `graph` <- `wire` <- {`local`, `azure`} <- `cli`.

#[cfg(feature = "azure")]
pub mod azure;
pub mod cli;
pub mod embedded;
pub mod graph;
pub mod local;
pub mod metrics;
#[cfg(feature = "azure")]
pub mod mlflow;
pub mod rust_step;
pub mod snapshot;
pub mod wire;

#[doc(hidden)]
pub mod __private;
