//! What the Azure commands share: the workspace from `--config` or the usual `config.json`
//! search, and a runtime to drive their requests on.

use std::path::Path;

use super::CliError;
use crate::azure::{ArmClientOptions, Credential, Workspace, WorkspaceConfig};

/// The workspace from `--config FILE` or the usual `config.json` search, with the default
/// credential chain.
pub(crate) fn workspace(config: Option<&Path>) -> Result<Workspace, CliError> {
    let config = match config {
        Some(path) => WorkspaceConfig::from_path(path)?,
        None => WorkspaceConfig::from_config()?,
    };
    let listener =
        crate::azure::arm::RetryListener::new(|notice| super::output::errln!("{notice}"));
    let options = ArmClientOptions {
        on_retry: listener.clone(),
        ..ArmClientOptions::from_env()?
    };
    // Every request of this command, blob uploads included, within one budget; retries of
    // uploads are announced like those of control-plane calls.
    crate::azure::retry::start_command_budget(options.command_budget);
    crate::azure::retry::set_process_listener(listener);
    Ok(Workspace::new(
        config,
        Credential::default_chain(),
        options,
    )?)
}

/// Runs `f` on a fresh single-threaded runtime.
pub(crate) fn block_on<T, F>(f: F) -> Result<T, CliError>
where
    F: std::future::Future<Output = Result<T, CliError>>,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?
        .block_on(f)
}

/// Whether an Azure ML workspace is configured for `submit`, found by the same rules (a
/// `config.json` in the current folder, `.azureml/` or a parent; `AZUREML_CONFIG`; the
/// `AZUREML_SUBSCRIPTION_ID` / `AZUREML_RESOURCE_GROUP` / `AZUREML_WORKSPACE_NAME` trio).
pub(crate) enum Configured {
    /// Nothing names a workspace.
    None,
    /// A workspace, by name.
    Named(String),
    /// Something names one, but it cannot be used.
    Broken(String),
}

/// Finds the Azure ML workspace `submit` would use, without any request.
pub(crate) fn configured() -> Configured {
    use crate::azure::config::{ConfigError, ProcessEnv};
    match WorkspaceConfig::discover(&super::cwd(), &ProcessEnv) {
        Ok(c) => Configured::Named(c.workspace_name),
        Err(ConfigError::NotFound { .. }) => Configured::None,
        Err(e) => Configured::Broken(e.to_string()),
    }
}
