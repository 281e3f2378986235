//! `publish [--name N] [--version V] [--description D]`: the seed's `publish_pipeline`, on Azure
//! ML v2 a named, versioned pipeline component ([`crate::azure::publish`]). Prints the component
//! id and how to deploy it; publishing the same definition again changes nothing and says so.
//! `--dry-run [--out DIR]` shows the requests instead ([`super::dry_run`]).

use std::process::ExitCode;
use std::sync::Arc;

use crate::azure::publish::{self, PublishOptions};
use crate::azure::submit::{SubmitEvent, SubmitEvents};
use crate::graph::Pipeline;
use crate::wire;

use super::CliError;
use super::args::AzureConfigArg;
use super::azure_workspace::{block_on, workspace};
use super::dry_run::{self, DryRunArgs, PlannedRequest};
use super::endpoint::{cli_error, json};
use super::output::{errln, outln};

/// `publish`.
#[derive(Debug, Clone, clap::Args)]
pub struct PublishArgs {
    /// The published name (default: the pipeline's name).
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// The version (default: the latest when unchanged, else the next number).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// Description (default: the pipeline's doc comment).
    #[arg(long, value_name = "D")]
    pub description: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// Runs `publish`.
pub fn publish(pipeline: &Pipeline, args: &PublishArgs) -> Result<ExitCode, CliError> {
    let name = args.name.clone().unwrap_or_else(|| pipeline.name.clone());
    if args.dry_run.dry_run {
        return dry(pipeline, args, &name);
    }
    block_on(async {
        // Rust steps: their Linux binary, checked before any request.
        let rust_binary = super::submit::linux_binary_for(pipeline).await?;
        let ws = workspace(args.config.file.as_deref())?;
        errln!(
            "Publishing `{}` as `{name}` to Azure ML workspace `{}`.",
            pipeline.name,
            ws.config().workspace_name
        );
        let events: SubmitEvents = Arc::new(|e| match e {
            SubmitEvent::CodeUploaded { path, .. } => {
                errln!("Uploaded snapshot {}", super::shown(&path))
            }
            SubmitEvent::CodeReused { path, .. } => {
                errln!("Reused snapshot {}", super::shown(&path))
            }
            SubmitEvent::ComponentsRegistered { count } => {
                errln!("Registered {count} step component(s).")
            }
            _ => {}
        });
        let opts = PublishOptions {
            name: Some(name.clone()),
            version: args.version.clone(),
            description: args.description.clone(),
            submit: crate::azure::submit::SubmitOptions {
                rust_binary,
                ..Default::default()
            },
        };
        let published = publish::publish_with_events(&ws, pipeline, &opts, &events)
            .await
            .map_err(cli_error)?;
        let (n, v) = (&published.name, &published.version);
        if published.changed {
            errln!("Published `{n}:{v}`.");
        } else {
            errln!("`{n}:{v}` is already published with this definition; nothing changed.");
        }
        errln!(
            "Deploy it with `endpoint create ENDPOINT` and `endpoint deploy ENDPOINT --pipeline \
             {n}:{v}`."
        );
        outln!("{}", published.id);
        Ok(ExitCode::SUCCESS)
    })
}

fn dry(pipeline: &Pipeline, args: &PublishArgs, name: &str) -> Result<ExitCode, CliError> {
    let scope = dry_run::scope(&args.config)?;
    let unbound = vec![None; pipeline.inputs.len()];
    let ctx = super::export::wire_context(
        pipeline,
        &unbound,
        scope.clone(),
        "workspaceblobstore",
        false,
    )?;
    let bodies =
        wire::rest_bodies(pipeline, &unbound, &ctx).map_err(|e| CliError::Usage(e.to_string()))?;
    let mut planned = Vec::new();
    for code in ctx.code.values() {
        planned.push(
            PlannedRequest::arm("GET", format!("{}/versions", code.rsplit_once("/versions").map_or(code.as_str(), |(a, _)| a)), "2023-04-01")
                .only_if("the snapshot is looked up by content hash (then uploaded when new, as `submit` does)"),
        );
    }
    for (i, c) in bodies.components.iter().enumerate() {
        planned.push(
            PlannedRequest::arm(
                "PUT",
                scope.resource_id(&bodies.component_path(i)),
                "2024-01-01-preview",
            )
            .with_body(json(&c.body)?, format!("component_{i}.json")),
        );
    }
    let version = args.version.clone().unwrap_or_else(|| "{version}".into());
    if args.version.is_none() {
        planned.push(PlannedRequest::arm(
            "GET",
            scope.resource_id(&format!("components/{name}/versions")),
            "2024-01-01-preview",
        ));
    }
    planned.push(PlannedRequest::arm(
        "GET",
        scope.component_version_id(name, &version),
        "2024-01-01-preview",
    ));
    let body =
        wire::endpoint::pipeline_component(pipeline, &bodies.job, name, args.description.clone())
            .map_err(|e| CliError::from(crate::azure::submit::SubmitError::from(e)))?;
    planned.push(
        PlannedRequest::arm(
            "PUT",
            scope.component_version_id(name, &version),
            "2024-01-01-preview",
        )
        .with_body(json(&body)?, "pipeline_component.json")
        .only_if("the version is not published yet"),
    );
    dry_run::show(&planned, args.dry_run.out.as_deref())
}
