//! Talking to an Azure Machine Learning workspace through its v2 control-plane REST API: what
//! `submit`, `runs --azure`, `datastores` and `upload --azure` use.
//!
//! * [`config`] — which workspace (`config.json` search, environment overrides);
//! * [`auth`] — credentials and cached tokens;
//! * [`arm`] — the HTTP client: retries, `Retry-After`, long-running operations, ARM errors;
//! * [`workspace`] — the [`Workspace`] handle every operation hangs off, workspace discovery;
//! * [`datastores`], [`codes`], [`components`], [`jobs`], [`computes`] — one module per
//!   resource, typed after the REST field names;
//! * [`linux_binary`] — the Linux x86_64 build of the pipeline binary that Rust steps run
//!   from: found or built, checked, staged as a code folder;
//! * [`environments`] — container images registered as anonymous environments;
//! * [`legacy`] — triggering, enabling and disabling pipelines published with the v1 SDK;
//! * [`blob`], [`sas`] — blob uploads through a container SAS (snapshots, datastore uploads);
//! * [`tls`] — the TLS provider (rustls on `ring`) every connection uses;
//! * [`secret`] — types that keep tokens, keys and SAS URLs out of logs and messages;
//! * [`submit`] — submitting a pipeline (snapshots, local inputs, components, the job) and
//!   following the job to its end.
//!
//! ```no_run
//! # async fn demo() -> Result<(), azureml_pipelines_runtime::azure::Error> {
//! use azureml_pipelines_runtime::azure::Workspace;
//! let ws = Workspace::from_config()?;
//! let default_store = ws.datastores().get_default().await?;
//! println!("{}", default_store.name);
//! # Ok(()) }
//! ```

pub mod arm;
pub mod auth;
pub mod blob;
pub mod codes;
pub mod components;
pub mod computes;
pub mod config;
pub mod data;
pub mod datastores;
pub mod endpoints;
pub mod environments;
pub mod jobs;
pub mod legacy;
pub mod linux_binary;
pub mod publish;
pub mod retry;
pub mod sas;
pub mod schedules;
pub mod secret;
pub mod submit;
pub mod tls;
pub mod workspace;

pub use arm::{ApiVersions, ArmClient, ArmClientOptions, ArmError, RetryConfig};
pub use auth::{AuthError, Credential};
pub use config::{ConfigError, WorkspaceConfig};
pub use workspace::Workspace;

/// Any error of the `azure` room, for callers that do not need to tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The workspace config could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No access token could be had.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A control-plane call failed.
    #[error(transparent)]
    Arm(#[from] ArmError),
}
