//! Arguments several commands share, declared once: the pipeline's inputs, the local workspace,
//! the Azure ML workspace config, and the parser every duration flag uses.

use std::path::PathBuf;
use std::time::Duration;

/// `--param`, `--input`, `--regenerate-outputs`: what a run of the pipeline is given
/// (`run`, `submit`, `export`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PipelineInputArgs {
    /// Set a pipeline parameter: `--param name=value`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Bind a data input to a local path (relative to the current folder) or an
    /// `azureml://datastores/NAME/paths/P` URI.
    #[arg(long = "input", value_name = "NAME=PATH")]
    pub inputs: Vec<String>,
    /// Run every step again, reusing nothing from earlier runs (on Azure ML:
    /// `settings.force_rerun`).
    #[arg(long)]
    pub regenerate_outputs: bool,
}

impl PipelineInputArgs {
    /// The `--param` assignments as `(name, value)` pairs.
    pub fn param_pairs(&self) -> Result<Vec<(String, String)>, crate::graph::BindError> {
        pairs(&self.params)
    }

    /// The `--input` assignments as `(name, value)` pairs.
    pub fn input_pairs(&self) -> Result<Vec<(String, String)>, crate::graph::BindError> {
        pairs(&self.inputs)
    }
}

fn pairs(list: &[String]) -> Result<Vec<(String, String)>, crate::graph::BindError> {
    list.iter()
        .map(|a| crate::graph::split_assignment(a))
        .collect()
}

/// `--workspace DIR`: the local workspace folder.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WorkspaceArg {
    /// The local workspace folder (default: the nearest `.azureml-local` in the current folder
    /// or a parent, else `.azureml-local` in the pipeline's crate folder).
    #[arg(
        long = "workspace",
        value_name = "DIR",
        env = "AZUREML_LOCAL_WORKSPACE"
    )]
    pub dir: Option<PathBuf>,
}

impl WorkspaceArg {
    /// The workspace folder for `pipeline`: the flag, else `AZUREML_LOCAL_WORKSPACE`, else the
    /// nearest `.azureml-local` in the current folder or a parent, else `.azureml-local` in the
    /// pipeline's crate folder (or the current folder when the binary runs without its
    /// sources); see [`Workspace::locate`](crate::local::Workspace::locate).
    pub fn path(&self, pipeline: &crate::graph::Pipeline) -> PathBuf {
        let project = &pipeline.manifest_dir;
        crate::local::Workspace::locate(
            self.dir.as_deref(),
            &super::cwd(),
            crate::embedded::crate_folder_present(project).then_some(project.as_path()),
        )
    }
}

/// `--config FILE`: the Azure ML workspace config.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AzureConfigArg {
    /// The Azure ML workspace config file (default: `config.json` or `.azureml/config.json`
    /// in the current folder or a parent).
    #[arg(long = "config", value_name = "FILE", env = "AZUREML_CONFIG")]
    pub file: Option<PathBuf>,
}

/// The longest duration a flag accepts: one day.
pub const MAX_SECONDS: f64 = 86_400.0;

/// Parses a duration flag given in seconds (`5`, `0.5`): a finite number above zero and at
/// most a day, so a value like `1e300` is refused before any work starts.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds (write e.g. `5` or `0.5`)"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("`{text}` is not a positive number of seconds"));
    }
    if value > MAX_SECONDS {
        return Err(format!(
            "`{text}` seconds is too long; the most is {MAX_SECONDS} (one day)"
        ));
    }
    Duration::try_from_secs_f64(value).map_err(|e| format!("`{text}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_takes_positive_bounded_numbers_only() {
        assert_eq!(seconds("5").unwrap(), Duration::from_secs(5));
        assert_eq!(seconds("0.25").unwrap(), Duration::from_millis(250));
        assert_eq!(seconds("86400").unwrap(), Duration::from_secs(86_400));
        for bad in ["1e300", "86401", "0", "-1", "NaN", "inf", "", "five"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert!(seconds("1e300").unwrap_err().contains("too long"));
        assert!(seconds("x").unwrap_err().contains("not a number"));
    }
}
