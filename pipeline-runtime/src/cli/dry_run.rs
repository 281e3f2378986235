//! `--dry-run [--out DIR]`, shared by every command that changes something in Azure: nothing is
//! contacted; the requests the command would send are printed as a JSON array (or written to
//! `DIR/requests.json`, with one file per body) in the form of `export --format json`:
//!
//! ```json
//! [{ "method": "PUT", "path": "/subscriptions/…", "api-version": "2025-12-01", "body": {…} }]
//! ```
//!
//! `host` is present when the request does not go to Azure Resource Manager (for example
//! `"{pipelines}"`, the workspace's discovered v1 host); `only_if` says when a request is only
//! sent in some cases (for example "the endpoint does not exist yet"). Names the command learns
//! from an earlier response are written as `{placeholders}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::azure::WorkspaceConfig;
use crate::azure::config::{ConfigError, ProcessEnv};
use crate::wire::{self, WorkspaceScope};

use super::args::AzureConfigArg;
use super::output::{errln, out};
use super::{CliError, cwd};

/// `--dry-run [--out DIR]`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DryRunArgs {
    /// Contact nothing: print the requests that would be sent.
    #[arg(long)]
    pub dry_run: bool,
    /// With `--dry-run`: write `requests.json` and the bodies into this folder instead.
    #[arg(long, value_name = "DIR", requires = "dry_run")]
    pub out: Option<PathBuf>,
}

/// One request a dry run shows.
#[derive(Debug, Clone)]
pub struct PlannedRequest {
    /// HTTP method.
    pub method: &'static str,
    /// The host when it is not Azure Resource Manager (`{pipelines}`, `{scoring_uri}`).
    pub host: Option<String>,
    /// The path (an ARM resource id for ARM requests).
    pub path: String,
    /// The `api-version` query parameter, if the request carries one.
    pub api_version: Option<String>,
    /// The JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// File the body is written to with `--out` (`endpoint.json`); unused without a body.
    pub file: String,
    /// When the request is only sent in some cases.
    pub only_if: Option<String>,
}

impl PlannedRequest {
    /// A request to Azure Resource Manager at `path` with `api_version`.
    pub fn arm(method: &'static str, path: String, api_version: &str) -> Self {
        Self {
            method,
            host: None,
            path,
            api_version: Some(api_version.to_owned()),
            body: None,
            file: String::new(),
            only_if: None,
        }
    }

    /// The same request with a body, written to `file` with `--out`.
    pub fn with_body(mut self, body: serde_json::Value, file: impl Into<String>) -> Self {
        self.body = Some(body);
        self.file = file.into();
        self
    }

    /// The same request, only sent when `condition` holds.
    pub fn only_if(mut self, condition: impl Into<String>) -> Self {
        self.only_if = Some(condition.into());
        self
    }
}

/// The workspace ids the paths name: from the workspace config when one is found (reading it
/// contacts nothing), else placeholders (`{subscription_id}`, …).
pub fn scope(config: &AzureConfigArg) -> Result<WorkspaceScope, CliError> {
    let found = match &config.file {
        Some(path) => WorkspaceConfig::from_path(path).map(Some),
        None => match WorkspaceConfig::discover(&cwd(), &ProcessEnv) {
            Err(ConfigError::NotFound { .. }) => Ok(None),
            other => other.map(Some),
        },
    }?;
    Ok(match found {
        Some(c) => WorkspaceScope {
            subscription_id: c.subscription_id,
            resource_group: c.resource_group,
            workspace_name: c.workspace_name,
        },
        None => WorkspaceScope::default(),
    })
}

/// Prints the requests (or writes them under `out_dir`) and exits 0.
pub fn show(requests: &[PlannedRequest], out_dir: Option<&Path>) -> Result<ExitCode, CliError> {
    let mut manifest = Vec::new();
    let mut files = BTreeMap::new();
    for r in requests {
        let body = match (&r.body, out_dir) {
            (None, _) => serde_json::Value::Null,
            (Some(b), None) => b.clone(),
            (Some(b), Some(_)) => {
                files.insert(r.file.clone(), wire::to_json_pretty(b));
                serde_json::Value::String(r.file.clone())
            }
        };
        let mut entry = serde_json::Map::new();
        entry.insert("method".into(), r.method.into());
        if let Some(host) = &r.host {
            entry.insert("host".into(), host.clone().into());
        }
        entry.insert("path".into(), r.path.clone().into());
        entry.insert(
            "api-version".into(),
            r.api_version
                .clone()
                .map_or(serde_json::Value::Null, Into::into),
        );
        entry.insert("body".into(), body);
        if let Some(cond) = &r.only_if {
            entry.insert("only_if".into(), cond.clone().into());
        }
        manifest.push(serde_json::Value::Object(entry));
    }
    let text = wire::to_json_pretty(&serde_json::Value::Array(manifest));
    match out_dir {
        None => out!("{text}"),
        Some(dir) => {
            files.insert("requests.json".to_owned(), text);
            for (name, content) in &files {
                let path = dir.join(name);
                path.parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&path, content))
                    .map_err(|source| super::export::ExportError::Write { path, source })?;
            }
            errln!(
                "Wrote {} request(s) to {} (nothing was sent).",
                requests.len(),
                super::shown(&dir.join("requests.json"))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
