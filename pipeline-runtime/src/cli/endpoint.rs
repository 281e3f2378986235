//! `endpoint`: batch endpoints running published pipelines (the seed's `PipelineEndpoint`:
//! versions, a default version, `submit(pipeline_version=…)`, and the REST trigger any HTTP
//! client can call), through [`crate::azure::endpoints`].
//!
//! ```text
//! endpoint create E [--description D]
//! endpoint deploy E --pipeline N:V [--deployment D] [--default] [--compute C]
//! endpoint set-default E D
//! endpoint list
//! endpoint show E [--jobs N]
//! endpoint delete E [--deployment D]
//! endpoint invoke E [--deployment D] [--param k=v]… [--input k=URI|PATH]… [--experiment X] [--wait]
//! ```
//!
//! Every command that changes something takes `--dry-run [--out DIR]` ([`super::dry_run`]).
//! Exit codes: 0 done (also when nothing needed changing), 1 the service refused or failed, 2 bad
//! usage: an unknown endpoint or version, a disabled version, a value the published interface
//! does not accept (the message lists what it accepts).

use std::process::ExitCode;
use std::time::Duration;

use crate::azure::endpoints::{Endpoints, InvokeOptions, InvokePlan};
use crate::azure::publish::{OperateError, split_reference};
use crate::graph::Pipeline;
use crate::wire::WorkspaceScope;
use crate::wire::endpoint::{BatchDeployment, BatchEndpoint, BatchEndpointDefaults};

use super::CliError;
use super::args::AzureConfigArg;
use super::azure_workspace::{block_on, workspace};
use super::dry_run::{self, DryRunArgs, PlannedRequest};
use super::output::{errln, outln};

/// `endpoint`: batch endpoints that run published pipelines.
#[derive(Debug, Clone, clap::Args)]
pub struct EndpointArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: EndpointCommand,
}

/// The `endpoint` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum EndpointCommand {
    /// Create a batch endpoint (a stable URL whose deployments run published pipelines).
    Create(CreateArgs),
    /// Deploy a published pipeline version under an endpoint.
    Deploy(DeployArgs),
    /// Make a deployment the one invocations run when they name none.
    SetDefault(SetDefaultArgs),
    /// List the workspace's batch endpoints.
    List(ConfigOnly),
    /// Show an endpoint: its deployments, the default, the scoring URI, its last jobs.
    Show(ShowArgs),
    /// Delete an endpoint, or only one of its deployments.
    Delete(DeleteArgs),
    /// Run a published pipeline through its endpoint, with parameter values.
    Invoke(InvokeArgs),
}

/// `endpoint create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// The endpoint name (3 to 32 letters, digits or `-`).
    pub endpoint: String,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `endpoint deploy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// The endpoint.
    pub endpoint: String,
    /// The published pipeline version: `NAME:VERSION`.
    #[arg(long, value_name = "NAME:VERSION")]
    pub pipeline: String,
    /// The deployment name (default: `NAME-vVERSION`, e.g. `compare-models-v2`).
    #[arg(long, value_name = "D")]
    pub deployment: Option<String>,
    /// Make it the endpoint's default (the first deployment always becomes the default).
    #[arg(long)]
    pub default: bool,
    /// The compute steps run on when they name none (default: the pipeline's `default_compute`).
    #[arg(long, value_name = "C")]
    pub compute: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `endpoint set-default`.
#[derive(Debug, Clone, clap::Args)]
pub struct SetDefaultArgs {
    /// The endpoint.
    pub endpoint: String,
    /// The deployment.
    pub deployment: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// Commands that only read.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigOnly {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `endpoint show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// The endpoint.
    pub endpoint: String,
    /// How many of its last jobs to list, newest first (0: none).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub jobs: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `endpoint delete`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeleteArgs {
    /// The endpoint.
    pub endpoint: String,
    /// Delete only this deployment.
    #[arg(long, value_name = "D")]
    pub deployment: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `endpoint invoke`.
#[derive(Debug, Clone, clap::Args)]
pub struct InvokeArgs {
    /// The endpoint.
    pub endpoint: String,
    /// Run this deployment (default: the endpoint's default).
    #[arg(long, value_name = "D")]
    pub deployment: Option<String>,
    /// A parameter value: `--param name=value`, typed by the published interface.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// A data input: `--input name=azureml://datastores/DS/paths/P`, an https URL, or a local
    /// file or folder (uploaded to the default datastore first, skipped when already there).
    #[arg(long = "input", value_name = "NAME=URI")]
    pub inputs: Vec<String>,
    /// The experiment to file the job under.
    #[arg(long, value_name = "X")]
    pub experiment: Option<String>,
    /// Follow the job until it ends, as `submit --wait` does.
    #[arg(long)]
    pub wait: bool,
    /// Seconds between two status polls with `--wait`.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = super::args::seconds)]
    pub poll_interval: Duration,
    /// With `--wait`: say that the job is still running when nothing changed for this long.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = super::args::seconds)]
    pub heartbeat: Duration,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// An operation error as the command line reports it: bad input exits 2, a failed request 1.
pub(crate) fn cli_error(e: OperateError) -> CliError {
    match e {
        OperateError::Arm(e) => CliError::Arm(e),
        OperateError::Config(e) => CliError::Config(e),
        OperateError::Submit(e) => CliError::Submit(e),
        other => CliError::Usage(other.to_string()),
    }
}

/// Runs `endpoint`.
pub fn endpoint(pipeline: &Pipeline, args: &EndpointArgs) -> Result<ExitCode, CliError> {
    match &args.command {
        EndpointCommand::Create(a) => create(a),
        EndpointCommand::Deploy(a) => deploy(pipeline, a),
        EndpointCommand::SetDefault(a) => set_default(a),
        EndpointCommand::List(a) => list(a),
        EndpointCommand::Show(a) => show(a),
        EndpointCommand::Delete(a) => delete(a),
        EndpointCommand::Invoke(a) => invoke(pipeline, a),
    }
}

fn endpoint_path(scope: &WorkspaceScope, e: &str, d: Option<&str>) -> String {
    match d {
        Some(d) => scope.resource_id(&format!("batchEndpoints/{e}/deployments/{d}")),
        None => scope.resource_id(&format!("batchEndpoints/{e}")),
    }
}

fn create(args: &CreateArgs) -> Result<ExitCode, CliError> {
    let e = &args.endpoint;
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let body = BatchEndpoint::new("{location}", args.description.clone());
        let planned = [
            PlannedRequest::arm("GET", endpoint_path(&scope, e, None), &versions().endpoints),
            PlannedRequest::arm("GET", scope.id(), &versions().workspaces)
                .only_if("the endpoint does not exist yet (its region)"),
            PlannedRequest::arm("PUT", endpoint_path(&scope, e, None), &versions().endpoints)
                .with_body(json(&body)?, "endpoint.json")
                .only_if("the endpoint does not exist yet, or its description differs"),
        ];
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        errln!("Creating batch endpoint `{e}` (a long-running operation; following it)…");
        let change = Endpoints::new(&ws)
            .create(e, args.description.as_deref())
            .await
            .map_err(cli_error)?;
        let state = change
            .value
            .properties
            .provisioning_state
            .as_deref()
            .unwrap_or("unknown");
        if change.changed {
            errln!("Endpoint `{e}`: {state}.");
        } else {
            errln!("Endpoint `{e}` already exists as asked; nothing changed ({state}).");
        }
        errln!("Next: `endpoint deploy {e} --pipeline NAME:VERSION`.");
        outln!(
            "{}",
            change.value.properties.scoring_uri.as_deref().unwrap_or("")
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `NAME-vVERSION`, made a valid deployment name.
fn default_deployment_name(name: &str, version: &str) -> String {
    let mut d: String = format!("{name}-v{version}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    d.truncate(32);
    d
}

fn deploy(pipeline: &Pipeline, args: &DeployArgs) -> Result<ExitCode, CliError> {
    let (name, version) = split_reference(&args.pipeline, true).map_err(cli_error)?;
    let version = version.unwrap_or_default();
    let e = &args.endpoint;
    let d = args
        .deployment
        .clone()
        .unwrap_or_else(|| default_deployment_name(&name, &version));
    let compute = args
        .compute
        .clone()
        .or_else(|| pipeline.settings.default_compute.clone());
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let body = BatchDeployment::pipeline_component(
            "{location}",
            scope.component_version_id(&name, &version),
            compute.as_deref(),
            None,
        );
        let mut planned = vec![
            PlannedRequest::arm("GET", endpoint_path(&scope, e, None), &versions().endpoints),
            PlannedRequest::arm(
                "GET",
                scope.component_version_id(&name, &version),
                &versions().components,
            ),
            PlannedRequest::arm(
                "GET",
                endpoint_path(&scope, e, Some(&d)),
                &versions().endpoints,
            ),
            PlannedRequest::arm(
                "PUT",
                endpoint_path(&scope, e, Some(&d)),
                &versions().deployments,
            )
            .with_body(json(&body)?, "deployment.json")
            .only_if("the deployment does not run this version yet"),
        ];
        planned.push(default_put(&scope, e, &d).only_if(if args.default {
            "the endpoint's default is another deployment"
        } else {
            "the endpoint has no default deployment yet"
        }));
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        errln!(
            "Deploying `{name}:{version}` as `{d}` under endpoint `{e}` (a long-running \
             operation; following it)…"
        );
        let deployed = Endpoints::new(&ws)
            .deploy(e, &d, (&name, &version), compute.as_deref(), args.default)
            .await
            .map_err(cli_error)?;
        let state = deployed
            .deployment
            .value
            .properties
            .provisioning_state
            .clone()
            .unwrap_or_else(|| "unknown".into());
        if deployed.deployment.changed {
            errln!("Deployment `{d}` of `{e}`: {state}.");
        } else {
            errln!("Deployment `{d}` of `{e}` already runs `{name}:{version}`; nothing changed.");
        }
        if deployed.default_set.is_some() {
            errln!("`{d}` is now the default deployment of `{e}`.");
        }
        outln!("{d}");
        Ok(ExitCode::SUCCESS)
    })
}

/// The full PUT setting the default (what `set-default` sends after its GET).
fn default_put(scope: &WorkspaceScope, e: &str, d: &str) -> PlannedRequest {
    let mut body = BatchEndpoint::new("{location}", None);
    body.properties.defaults = Some(BatchEndpointDefaults {
        deployment_name: Some(d.to_owned()),
    });
    let body = serde_json::to_value(&body).unwrap_or_default();
    PlannedRequest::arm("PUT", endpoint_path(scope, e, None), &versions().endpoints)
        .with_body(body, "endpoint_default.json")
}

fn set_default(args: &SetDefaultArgs) -> Result<ExitCode, CliError> {
    let (e, d) = (&args.endpoint, &args.deployment);
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let planned = [
            PlannedRequest::arm("GET", endpoint_path(&scope, e, None), &versions().endpoints),
            PlannedRequest::arm(
                "GET",
                endpoint_path(&scope, e, Some(d)),
                &versions().endpoints,
            )
            .only_if("the default is another deployment"),
            default_put(&scope, e, d).only_if(
                "the default is another deployment (the endpoint as read, whole, with \
                 `defaults.deploymentName` set)",
            ),
        ];
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let change = Endpoints::new(&ws)
            .set_default(e, d)
            .await
            .map_err(cli_error)?;
        if change.changed {
            errln!("`{d}` is now the default deployment of `{e}`.");
        } else {
            errln!("`{d}` already is the default deployment of `{e}`; nothing changed.");
        }
        outln!("{d}");
        Ok(ExitCode::SUCCESS)
    })
}

fn list(args: &ConfigOnly) -> Result<ExitCode, CliError> {
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let all = Endpoints::new(&ws).list().await?;
        if all.is_empty() {
            errln!(
                "No batch endpoints in workspace `{}`.",
                ws.config().workspace_name
            );
        }
        for e in all {
            outln!(
                "{}\t{}\tdefault={}",
                e.name.as_deref().unwrap_or("?"),
                e.properties.provisioning_state.as_deref().unwrap_or("-"),
                e.default_deployment().unwrap_or("-")
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn show(args: &ShowArgs) -> Result<ExitCode, CliError> {
    let e = &args.endpoint;
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let endpoints = Endpoints::new(&ws);
        let found = endpoints.require(e).await.map_err(cli_error)?;
        let p = &found.properties;
        outln!("endpoint     {e}");
        outln!(
            "state        {}",
            p.provisioning_state.as_deref().unwrap_or("-")
        );
        outln!("scoring URI  {}", p.scoring_uri.as_deref().unwrap_or("-"));
        outln!("default      {}", found.default_deployment().unwrap_or("-"));
        if let Some(d) = &p.description {
            outln!("description  {d}");
        }
        for d in endpoints.deployments(e).await? {
            let name = d.name.clone().unwrap_or_default();
            let runs = d
                .component_id()
                .and_then(crate::azure::endpoints::component_name_version)
                .map(|(n, v)| format!("{n}:{v}"))
                .unwrap_or_else(|| "(not a pipeline)".into());
            let mark = if found.default_deployment() == Some(name.as_str()) {
                " (default)"
            } else {
                ""
            };
            outln!(
                "deployment   {name}{mark}\t{runs}\t{}",
                d.properties.provisioning_state.as_deref().unwrap_or("-")
            );
        }
        if args.jobs > 0 {
            let jobs = endpoints.jobs(e, args.jobs).await?;
            if jobs.is_empty() {
                errln!("Endpoint `{e}` has run no jobs yet (`endpoint invoke {e}` starts one).");
            }
            for j in jobs {
                outln!(
                    "job          {}\t{}\t{}\t{}",
                    j.name,
                    j.properties.status.as_deref().unwrap_or("-"),
                    j.deployment().unwrap_or("-"),
                    j.created_at().unwrap_or("-")
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn delete(args: &DeleteArgs) -> Result<ExitCode, CliError> {
    let (e, d) = (&args.endpoint, args.deployment.as_deref());
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let planned = [PlannedRequest::arm(
            "DELETE",
            endpoint_path(&scope, e, d),
            &versions().endpoints,
        )];
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let what = match d {
            Some(d) => format!("deployment `{d}` of endpoint `{e}`"),
            None => format!("endpoint `{e}`"),
        };
        if Endpoints::new(&ws).delete(e, d).await? {
            errln!("Deleted {what}.");
        } else {
            errln!("There is no {what}; nothing to delete.");
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn invoke_options(args: &InvokeArgs) -> Result<InvokeOptions, CliError> {
    let pairs = |l: &[String]| -> Result<Vec<(String, String)>, CliError> {
        l.iter()
            .map(|t| crate::graph::split_assignment(t).map_err(CliError::from))
            .collect()
    };
    Ok(InvokeOptions {
        deployment: args.deployment.clone(),
        params: pairs(&args.params)?,
        inputs: pairs(&args.inputs)?,
        experiment: args.experiment.clone(),
        job_name: None,
    })
}

fn invoke(pipeline: &Pipeline, args: &InvokeArgs) -> Result<ExitCode, CliError> {
    let opts = invoke_options(args)?;
    let e = &args.endpoint;
    if args.dry_run.dry_run {
        // Typed by this binary's own pipeline, since the published interface is not read.
        let scope = dry_run::scope(&args.config)?;
        let local = local_interface(pipeline);
        // Local inputs would be uploaded first: the body shows where they would go (their
        // object hash is computed here; the default datastore is named when the call is made).
        let mut opts = opts;
        for (i, path) in
            crate::azure::endpoints::local_inputs(&local, &pipeline.name, "{version}", &opts)
                .map_err(cli_error)?
        {
            let hash = crate::snapshot::object_hash(&path).map_err(|e| {
                CliError::Usage(format!("cannot read `--input {}`: {e}", opts.inputs[i].0))
            })?;
            opts.inputs[i].1 = crate::wire::LocalUpload {
                datastore: "{default_datastore}".into(),
                hash,
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "data".into()),
                is_dir: path.is_dir(),
            }
            .uri();
        }
        let body = crate::azure::endpoints::invoke_body(
            &local,
            &pipeline.name,
            "{version}",
            &InvokeOptions {
                job_name: Some("{job_name}".into()),
                ..opts
            },
            "{job_name}".into(),
        )
        .map_err(cli_error)?;
        let planned = [
            PlannedRequest::arm("GET", endpoint_path(&scope, e, None), &versions().endpoints),
            PlannedRequest::arm(
                "GET",
                endpoint_path(
                    &scope,
                    e,
                    Some(args.deployment.as_deref().unwrap_or("{default}")),
                ),
                &versions().endpoints,
            ),
            PlannedRequest::arm(
                "GET",
                scope.component_version_id("{name}", "{version}"),
                &versions().components,
            ),
            PlannedRequest {
                method: "POST",
                host: Some("{scoring_uri}".into()),
                path: String::new(),
                api_version: None,
                body: Some(json(&body)?),
                file: "invoke.json".into(),
                only_if: None,
            },
        ];
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let endpoints = Endpoints::new(&ws);
        let plan: InvokePlan = endpoints.plan_invoke(e, &opts).await.map_err(cli_error)?;
        for u in &plan.uploads {
            match &u.data.uploaded {
                Some(r) => errln!(
                    "Uploaded input `{}` ({}, {} file(s), {} bytes) to {}.",
                    u.input,
                    u.path.display(),
                    r.files,
                    r.bytes,
                    u.data.uri
                ),
                None => errln!(
                    "Input `{}` ({}) is already uploaded at {}; nothing sent.",
                    u.input,
                    u.path.display(),
                    u.data.uri
                ),
            }
        }
        errln!(
            "The same call from any HTTP client (TOKEN: an access token for https://ml.azure.com, e.g. `az account get-access-token --resource https://ml.azure.com --query accessToken -o tsv`):"
        );
        errln!("  {}", plan.curl());
        let invoked = endpoints.send_invoke(e, &plan).await.map_err(cli_error)?;
        errln!(
            "Started job `{}` of `{}` on deployment `{}` of endpoint `{e}`.",
            invoked.job_name,
            invoked.component,
            invoked.deployment
        );
        outln!("{}", invoked.job_name);
        if !args.wait {
            errln!("`endpoint invoke --wait` follows the job to its end.");
            return Ok(ExitCode::SUCCESS);
        }
        // Following ends when the job does; the command budget covered the invocation.
        crate::azure::retry::end_command_budget();
        super::submit::follow_job(&ws, &invoked.job_name, args.poll_interval, args.heartbeat).await
    })
}

/// This binary's pipeline interface as a published version would read (for `--dry-run`).
fn local_interface(pipeline: &Pipeline) -> crate::azure::components::ComponentVersion {
    let mut inputs = serde_json::Map::new();
    for i in &pipeline.inputs {
        let mut v = serde_json::json!({"type": i.ty.as_str()});
        match &i.default {
            Some(crate::graph::InputValue::Literal(l)) => v["default"] = l.to_wire().into(),
            Some(_) => v["default"] = "(local default)".into(),
            None => {}
        }
        inputs.insert(i.name.clone(), v);
    }
    crate::azure::components::ComponentVersion {
        id: String::new(),
        name: String::new(),
        properties: crate::azure::components::ComponentVersionProperties {
            component_spec: serde_json::json!({"type": "pipeline", "inputs": inputs}),
            ..Default::default()
        },
    }
}

pub(crate) fn json<T: serde::Serialize>(body: &T) -> Result<serde_json::Value, CliError> {
    crate::wire::to_json_value(body, "the request").map_err(CliError::Usage)
}

/// The api-versions `--dry-run` shows (`AZUREML_API_VERSION_<GROUP>` or the defaults).
fn versions() -> crate::azure::ApiVersions {
    crate::azure::ApiVersions::from_env()
}
