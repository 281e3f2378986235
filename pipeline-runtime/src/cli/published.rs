//! `published list [NAME]`, `published show N[:V]`, `published disable N:V`,
//! `published enable N:V`: the versions `publish` made, and the seed's
//! `PublishedPipeline.disable()` / `enable()` — on Azure ML v2, archiving and restoring the
//! component version ([`crate::azure::publish`]). A disabled version is refused by
//! `endpoint deploy` and `endpoint invoke`.

use std::process::ExitCode;

use crate::azure::components::ComponentVersion;
use crate::azure::endpoints::accepted_inputs;
use crate::azure::publish::{Published, Versions, split_reference};

use super::CliError;
use super::args::AzureConfigArg;
use super::azure_workspace::{block_on, workspace};
use super::dry_run::{self, DryRunArgs, PlannedRequest};
use super::endpoint::cli_error;
use super::output::{errln, outln};

/// `published`: published pipeline versions.
#[derive(Debug, Clone, clap::Args)]
pub struct PublishedArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: PublishedCommand,
}

/// The `published` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PublishedCommand {
    /// List published pipelines, or the versions of one.
    List(ListArgs),
    /// Show a version (the newest when none is given): its interface and state.
    Show(ShowArgs),
    /// Disable a version (archive it): it is no longer deployed or invoked.
    Disable(StatusArgs),
    /// Enable a disabled version (restore it).
    Enable(StatusArgs),
}

/// `published list`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Only this pipeline's versions.
    pub name: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `published show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// `NAME` or `NAME:VERSION`.
    pub reference: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `published disable|enable`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// `NAME:VERSION`.
    pub reference: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// Runs `published`.
pub fn published(args: &PublishedArgs) -> Result<ExitCode, CliError> {
    match &args.command {
        PublishedCommand::List(a) => list(a),
        PublishedCommand::Show(a) => show(a),
        PublishedCommand::Disable(a) => set_archived(a, true),
        PublishedCommand::Enable(a) => set_archived(a, false),
    }
}

fn state(v: &ComponentVersion) -> &'static str {
    if v.properties.is_archived {
        "disabled"
    } else {
        "enabled"
    }
}

fn list(args: &ListArgs) -> Result<ExitCode, CliError> {
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let versions = Versions::new(&ws);
        match &args.name {
            Some(name) => {
                let all = versions.list(name).await?;
                if all.is_empty() {
                    errln!("No published versions of `{name}`.");
                }
                for v in all {
                    outln!("{name}:{}\t{}", v.name, state(&v));
                }
            }
            None => {
                for name in versions.names().await? {
                    outln!("{name}");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn show(args: &ShowArgs) -> Result<ExitCode, CliError> {
    let (name, version) = split_reference(&args.reference, false).map_err(cli_error)?;
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let v = Versions::new(&ws)
            .resolve(&name, version.as_deref())
            .await
            .map_err(cli_error)?;
        outln!("pipeline  {name}:{}", v.name);
        outln!("state     {}", state(&v));
        outln!("id        {}", v.id);
        if let Some(d) = &v.properties.description {
            outln!("about     {d}");
        }
        for (n, t, d) in accepted_inputs(&v) {
            let d = d.map(|d| format!(" (default: {d})")).unwrap_or_default();
            outln!("input     {n}: {t}{d}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn set_archived(args: &StatusArgs, archived: bool) -> Result<ExitCode, CliError> {
    let (name, version) = split_reference(&args.reference, true).map_err(cli_error)?;
    let version = version.unwrap_or_default();
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let path = scope.component_version_id(&name, &version);
        let body = serde_json::json!({"properties": {
            "componentSpec": "{as read}", "isAnonymous": false, "isArchived": archived}});
        let planned = [
            PlannedRequest::arm("GET", path.clone(), "2024-01-01-preview"),
            PlannedRequest::arm("PUT", path, "2024-01-01-preview")
                .with_body(body, "component_version.json")
                .only_if(format!(
                    "`isArchived` is not {archived} (the version as read, whole, with it set)"
                )),
        ];
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let (v, changed) = Published::archive(&ws, &name, &version, archived)
            .await
            .map_err(cli_error)?;
        let now = state(&v);
        if changed {
            errln!("`{name}:{version}` is now {now}.");
        } else {
            errln!("`{name}:{version}` is already {now}; nothing changed.");
        }
        outln!("{now}");
        Ok(ExitCode::SUCCESS)
    })
}
