//! Why a command failed, and the exit code that says so.

use std::process::ExitCode;

#[cfg(feature = "azure")]
use crate::azure::{ArmError, ConfigError, submit::SubmitError};

/// Why a command of the command line failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage the argument parser cannot see (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A `--param`/`--input` value does not fit the pipeline (exit code 2).
    #[error(transparent)]
    Bind(#[from] crate::graph::BindError),
    /// The local backend failed: bad input (exit code 2) or this machine (exit code 1).
    #[error(transparent)]
    Local(#[from] crate::local::LocalError),
    /// `export` failed.
    #[error(transparent)]
    Export(#[from] super::export::ExportError),
    /// A folder's snapshot could not be read (exit code 2).
    #[error("{what}: {source}")]
    Snapshot {
        /// The step or folder.
        what: String,
        /// What went wrong.
        source: crate::snapshot::SnapshotError,
    },
    /// The Azure ML workspace config is missing or malformed (exit code 2).
    #[cfg(feature = "azure")]
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A request to Azure ML failed (exit code 2 for a 404, else 1).
    #[cfg(feature = "azure")]
    #[error(transparent)]
    Arm(#[from] ArmError),
    /// Submission failed.
    #[cfg(feature = "azure")]
    #[error(transparent)]
    Submit(Box<SubmitError>),
    /// No usable Linux binary for the Rust steps (exit code 2, 1 when a build failed).
    #[cfg(feature = "azure")]
    #[error(transparent)]
    LinuxBinary(#[from] crate::azure::linux_binary::LinuxBinaryError),
    /// A command reads a local history where no run was ever recorded (exit code 2).
    #[error(
        "no local runs in `{}`; run the pipeline first, or point `--workspace` (or \
         AZUREML_LOCAL_WORKSPACE) at the folder that holds them",
        workspace.display()
    )]
    NoHistory {
        /// The workspace folder looked at.
        workspace: std::path::PathBuf,
    },
    /// The async runtime could not start (exit code 1).
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

#[cfg(feature = "azure")]
impl From<SubmitError> for CliError {
    fn from(e: SubmitError) -> Self {
        CliError::Submit(Box::new(e))
    }
}

impl CliError {
    /// The exit code: 2 for bad usage or input, 1 for a failure.
    pub fn exit_code(&self) -> ExitCode {
        let bad_input = match self {
            CliError::Usage(_)
            | CliError::Bind(_)
            | CliError::Snapshot { .. }
            | CliError::NoHistory { .. } => true,
            CliError::Local(e) => e.is_bad_input(),
            CliError::Export(e) => !matches!(e, super::export::ExportError::Write { .. }),
            #[cfg(feature = "azure")]
            CliError::Config(_) => true,
            #[cfg(feature = "azure")]
            CliError::Arm(e) => {
                e.status() == Some(404)
                    || matches!(e, crate::azure::ArmError::InvalidSetting { .. })
            }
            #[cfg(feature = "azure")]
            CliError::Submit(e) => matches!(
                **e,
                SubmitError::Snapshot { .. }
                    | SubmitError::Data { .. }
                    | SubmitError::Wire(_)
                    | SubmitError::NoLinuxBinary { .. }
            ),
            #[cfg(feature = "azure")]
            CliError::LinuxBinary(e) => e.is_bad_input(),
            CliError::Runtime(_) => false,
        };
        ExitCode::from(if bad_input { 2 } else { 1 })
    }
}
