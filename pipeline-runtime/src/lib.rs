//! Runtime of `azureml-pipelines`.
//!
//! One module per room (see the project's design): [`graph`] holds the typed handles and the
//! pipeline DAG; [`wire`] turns a pipeline into Azure ML wire forms; [`snapshot`] walks a step's
//! source folder with Azure ML's ignore rules and hashes it; [`local`] runs pipelines on this
//! machine; [`azure`] talks to Azure ML; [`cli`] is the command line a pipeline binary gets.
//!
//! Arrows run one way: `graph` <- `wire` <- {`local`, `azure`} <- `cli`.

#[cfg(feature = "azure")]
pub mod azure;
pub mod cli;
pub mod embedded;
pub mod graph;
pub mod local;
pub mod snapshot;
pub mod wire;

#[doc(hidden)]
pub mod __private;
