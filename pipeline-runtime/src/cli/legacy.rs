//! `legacy submit|enable|disable`: trigger, enable and disable pipelines published with Azure
//! ML's v1 SDK, through the workspace's v1 pipelines service ([`crate::azure::legacy`]).
//!
//! ```text
//! legacy submit --published-pipeline ID --experiment X [--param k=v]… [--wait]
//! legacy submit --pipeline-endpoint NAME [--version V] --experiment X [--param k=v]… [--wait]
//! legacy submit --pipeline-endpoint-id ID [--version V] --experiment X [--param k=v]… [--wait]
//! legacy disable ID
//! legacy enable ID
//! ```
//!
//! Each takes `--dry-run [--out DIR]`: nothing is contacted; the requests are printed (or
//! written to `DIR/requests.json` with one file per body) in the form of `export --format json`,
//! with `"host": "{pipelines}"` standing for the workspace's discovered v1 host.
//!
//! `--wait` follows the run (`GET PipelineRuns/{id}`) until it ends, printing each status
//! change, and a line when nothing changed for `--heartbeat`; every read counts against the
//! command budget (`AZUREML_COMMAND_BUDGET`), so the wait is bounded by it.
//!
//! Exit codes: 0 done (also when nothing needed changing; with `--wait`, the run finished), 1
//! the service refused or failed (an unknown id included: the error names it; with `--wait`, the
//! run failed or was canceled), 2 bad usage (a `--param` without `=`, a bad experiment name),
//! found before any request.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::azure::legacy::{LegacyPipelines, StatusChange};
use crate::wire::WorkspaceScope;
use crate::wire::legacy::{EntityStatus, LegacyRequest, PipelineSubmissionInfo, RunOutcome};

use super::CliError;
use super::args::AzureConfigArg;
use super::dry_run::{self, DryRunArgs, PlannedRequest};
use super::output::{errln, outln, print_error};

/// `legacy`: pipelines published with the v1 SDK.
#[derive(Debug, Clone, clap::Args)]
pub struct LegacyArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: LegacyCommand,
}

/// The `legacy` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum LegacyCommand {
    /// Run a v1 published pipeline or pipeline endpoint with parameter values.
    Submit(LegacySubmitArgs),
    /// Disable a v1 published pipeline: it refuses runs until enabled.
    Disable(LegacyStatusArgs),
    /// Enable a disabled v1 published pipeline.
    Enable(LegacyStatusArgs),
}

/// `legacy submit`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args([
    "published_pipeline", "pipeline_endpoint", "pipeline_endpoint_id"])))]
pub struct LegacySubmitArgs {
    /// The id of the published pipeline to run (`PublishedPipeline.id`).
    #[arg(long, value_name = "ID")]
    pub published_pipeline: Option<String>,
    /// The name of the pipeline endpoint to run (looked up to its id first).
    #[arg(long, value_name = "NAME")]
    pub pipeline_endpoint: Option<String>,
    /// The id of the pipeline endpoint to run.
    #[arg(long, value_name = "ID")]
    pub pipeline_endpoint_id: Option<String>,
    /// The endpoint version to run (default: the endpoint's default version).
    #[arg(long, value_name = "V", conflicts_with = "published_pipeline")]
    pub version: Option<String>,
    /// The experiment to file the run under.
    #[arg(long, value_name = "NAME")]
    pub experiment: String,
    /// A pipeline parameter value: `--param name=value` (sent as a string).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Follow the run until it ends (exit 0 finished, 1 failed or canceled).
    #[arg(long)]
    pub wait: bool,
    /// Seconds between two status reads with `--wait`.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = super::args::seconds)]
    pub poll_interval: Duration,
    /// With `--wait`: say that the run is still going when nothing changed for this long.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = super::args::seconds)]
    pub heartbeat: Duration,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `legacy enable|disable ID`.
#[derive(Debug, Clone, clap::Args)]
pub struct LegacyStatusArgs {
    /// The id of the published pipeline.
    #[arg(value_name = "ID")]
    pub id: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// Runs `legacy`.
pub fn legacy(args: &LegacyArgs) -> Result<ExitCode, CliError> {
    match &args.command {
        LegacyCommand::Submit(a) => submit(a),
        LegacyCommand::Disable(a) => set_status(a, EntityStatus::Disabled),
        LegacyCommand::Enable(a) => set_status(a, EntityStatus::Active),
    }
}

/// The submit body from the flags, checked before anything is sent.
pub fn submission(args: &LegacySubmitArgs) -> Result<PipelineSubmissionInfo, CliError> {
    check_experiment(&args.experiment)?;
    let mut body = PipelineSubmissionInfo::new(args.experiment.clone());
    for text in &args.params {
        let (name, value) = crate::graph::split_assignment(text)?;
        if body.parameter_assignments.contains_key(&name) {
            return Err(CliError::Usage(format!(
                "`--param {name}` is given twice; give each parameter once"
            )));
        }
        body = body.parameter(name, value);
    }
    Ok(body)
}

/// Azure ML experiment names: 1 to 255 letters, digits, `_` or `-`, starting with a letter or a
/// digit.
fn check_experiment(name: &str) -> Result<(), CliError> {
    if crate::wire::is_valid_name(name) {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "`--experiment {name}` is not a valid experiment name: use 1 to 255 letters, digits, \
             `_` or `-`, starting with a letter or a digit"
        )))
    }
}

fn submit(args: &LegacySubmitArgs) -> Result<ExitCode, CliError> {
    let body = submission(args)?;
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let requests = match (&args.published_pipeline, &args.pipeline_endpoint) {
            (Some(id), _) => vec![LegacyRequest::submit_published(id, &body)],
            (None, Some(name)) => vec![
                LegacyRequest::endpoint_by_name(name),
                LegacyRequest::submit_endpoint(ENDPOINT_ID, args.version.as_deref(), &body),
            ],
            (None, None) => vec![LegacyRequest::submit_endpoint(
                args.pipeline_endpoint_id.as_deref().unwrap_or_default(),
                args.version.as_deref(),
                &body,
            )],
        };
        let mut planned: Vec<PlannedRequest> = requests
            .into_iter()
            .map(|request| planned(request, &scope, "legacy_submit.json"))
            .collect();
        if args.wait {
            planned.push(
                self::planned(LegacyRequest::get_run(RUN_ID), &scope, "")
                    .only_if("--wait: repeated every --poll-interval until the run ends"),
            );
        }
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(args.config.file.as_deref())?;
        let v1 = LegacyPipelines::new(&ws);
        let params = if body.parameter_assignments.is_empty() {
            String::new()
        } else {
            format!(
                " with {}",
                body.parameter_assignments
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let (what, result) = match (&args.published_pipeline, &args.pipeline_endpoint) {
            (Some(id), _) => (
                format!("published pipeline `{id}`"),
                v1.submit_published(id, &body).await,
            ),
            (None, Some(name)) => (
                format!("pipeline endpoint `{name}`{}", version_text(args)),
                v1.submit_endpoint_by_name(name, args.version.as_deref(), &body)
                    .await
                    .map(|(_, run)| run),
            ),
            (None, None) => {
                let id = args.pipeline_endpoint_id.as_deref().unwrap_or_default();
                (
                    format!("pipeline endpoint `{id}`{}", version_text(args)),
                    v1.submit_endpoint(id, args.version.as_deref(), &body).await,
                )
            }
        };
        let run = match result {
            Ok(run) => run,
            Err(e) => return Ok(failed(&e)),
        };
        errln!(
            "Started run `{}` of {what} in experiment `{}`{params} (workspace `{}`, v1 pipelines \
             service); status {}.",
            run.id,
            args.experiment,
            ws.config().workspace_name,
            run.status
                .as_ref()
                .and_then(|s| s.code())
                .unwrap_or("unknown")
        );
        errln!("Studio: {}", studio_url(&ws.resource_id(), &run.id));
        outln!("{}", run.id);
        if !args.wait {
            errln!("`legacy submit --wait` follows the run to its end.");
            return Ok(ExitCode::SUCCESS);
        }
        follow(&v1, &run.id, args.poll_interval, args.heartbeat).await
    })
}

/// Follows run `id` to its end with progress lines; the exit code says how it ended.
async fn follow(
    v1: &LegacyPipelines<'_>,
    id: &str,
    interval: Duration,
    heartbeat: Duration,
) -> Result<ExitCode, CliError> {
    let started = Instant::now();
    let stamp = || {
        let s = started.elapsed().as_secs();
        format!("{:>3}:{:02}", s / 60, s % 60)
    };
    let mut last: Option<String> = None;
    let mut last_line = Instant::now();
    let followed = v1
        .follow_run(id, interval, |run| {
            let code = run
                .status
                .as_ref()
                .and_then(|s| s.code())
                .unwrap_or("unknown")
                .to_owned();
            if last.as_deref() != Some(code.as_str()) {
                errln!("[{}] run {id}: {code}", stamp());
                last = Some(code);
                last_line = Instant::now();
            } else if last_line.elapsed() >= heartbeat {
                errln!(
                    "[{}] run {id}: still {code}; waiting for it to finish",
                    stamp()
                );
                last_line = Instant::now();
            }
        })
        .await;
    let (_, outcome) = match followed {
        Ok(f) => f,
        Err(e) => return Ok(failed(&e)),
    };
    let elapsed = stamp();
    let elapsed = elapsed.trim();
    Ok(match outcome {
        RunOutcome::Finished => {
            errln!("Run {id} finished after {elapsed}.");
            ExitCode::SUCCESS
        }
        RunOutcome::Failed => {
            errln!("Run {id} failed after {elapsed}; its logs are in the studio (link above).");
            ExitCode::from(1)
        }
        RunOutcome::Canceled => {
            errln!("Run {id} was canceled after {elapsed}.");
            ExitCode::from(1)
        }
    })
}

fn version_text(args: &LegacySubmitArgs) -> String {
    match &args.version {
        Some(v) => format!(" version `{v}`"),
        None => " (default version)".to_owned(),
    }
}

/// The run's page in Azure ML studio.
fn studio_url(workspace_id: &str, run_id: &str) -> String {
    let mut url = azure_core::http::Url::parse("https://ml.azure.com/runs/").expect("constant URL");
    url.path_segments_mut()
        .expect("http URL")
        .pop_if_empty()
        .push(run_id);
    url.query_pairs_mut().append_pair("wsid", workspace_id);
    url.to_string()
}

/// Prints a failed call and exits 1. Not through `CliError::Arm`, which exits 2 on a 404: here
/// an unknown id is a failed call (the service was asked and said no), as the command's
/// documentation says.
fn failed(e: &crate::azure::ArmError) -> ExitCode {
    print_error(e);
    ExitCode::from(1)
}

fn set_status(args: &LegacyStatusArgs, status: EntityStatus) -> Result<ExitCode, CliError> {
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let only_if = format!("the pipeline's `EntityStatus` is not `{status}`");
        let planned = [
            planned(LegacyRequest::get_published(&args.id), &scope, ""),
            planned(
                LegacyRequest::set_status(&args.id, status),
                &scope,
                "legacy_status.json",
            )
            .only_if(only_if),
        ];
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(args.config.file.as_deref())?;
        let v1 = LegacyPipelines::new(&ws);
        let result = match status {
            EntityStatus::Disabled => v1.disable(&args.id).await,
            _ => v1.enable(&args.id).await,
        };
        let change: StatusChange = match result {
            Ok(c) => c,
            Err(e) => return Ok(failed(&e)),
        };
        let name = change
            .pipeline
            .name
            .as_deref()
            .map(|n| format!(" (`{n}`)"))
            .unwrap_or_default();
        let verb = if change.status == EntityStatus::Disabled {
            "disabled"
        } else {
            "enabled"
        };
        if change.changed {
            errln!(
                "Published pipeline `{}`{name} is now {verb} (was {}).",
                args.id,
                change
                    .pipeline
                    .entity_status
                    .as_ref()
                    .map(EntityStatus::as_str)
                    .unwrap_or("unknown")
            );
        } else {
            errln!(
                "Published pipeline `{}`{name} is already {verb}; nothing changed.",
                args.id
            );
        }
        outln!("{}", change.status);
        Ok(ExitCode::SUCCESS)
    })
}

/// Stands for the endpoint id a name is looked up to, in a dry run.
const ENDPOINT_ID: &str = "{endpoint_id}";
/// Stands for the id of the run a submit starts, in a dry run.
const RUN_ID: &str = "{run_id}";

/// A v1 request as a dry run shows it: on the `{pipelines}` host, without an `api-version`.
fn planned(request: LegacyRequest, scope: &WorkspaceScope, file: &str) -> PlannedRequest {
    PlannedRequest {
        method: request.method,
        host: Some("{pipelines}".to_owned()),
        path: request
            .path(scope)
            .replace("%7Bendpoint_id%7D", ENDPOINT_ID)
            .replace("%7Brun_id%7D", RUN_ID),
        api_version: None,
        body: request.body,
        file: file.to_owned(),
        only_if: None,
    }
}
