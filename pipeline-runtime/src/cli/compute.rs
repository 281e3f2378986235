//! `compute create|list|show|resize|delete|attach`: the workspace's computes
//! ([`crate::azure::computes`]).
//!
//! ```text
//! compute create NAME --size VM [--min N] [--max N] [--idle-seconds S] [--low-priority]
//! compute list
//! compute show NAME
//! compute resize NAME --min N --max N
//! compute delete NAME [--detach]
//! compute attach NAME --type kubernetes|synapse-spark|virtual-machine|databricks --resource-id ID …
//! ```
//!
//! `create` is idempotent: a compute that already exists as asked is left alone (and the
//! command says so); one that exists with other settings is named with what differs, and
//! nothing is sent. Every changing command takes `--dry-run [--out DIR]`.
//!
//! Secrets of `attach` (a Databricks access token, a VM password or SSH key) are read from
//! environment variables, never from the command line (which other users of the machine can
//! see), and are never printed: a dry run shows `{env:VARIABLE}` in their place.
//!
//! Exit codes: 0 done (also when nothing needed changing), 1 the service refused or the
//! provisioning failed (with the service's error), 2 bad usage or a compute that exists with
//! other settings, found before any change.

use std::process::ExitCode;
use std::time::Duration;

use crate::azure::Workspace;
use crate::azure::computes::{DeleteAction, Wait, differences};
use crate::wire::WorkspaceScope;
use crate::wire::compute::{
    AmlComputeProperties, ClusterUpdateParameters, ComputeKind, ComputeProperties, ComputeResource,
    ScaleSettings, VmPriority, iso8601_seconds, iso8601_to_seconds,
};

use super::CliError;
use super::args::{AzureConfigArg, seconds};
use super::dry_run::{self, DryRunArgs, PlannedRequest};
use super::output::{errln, outln};

mod attach;

pub use attach::{ADLA_RETIRED, AttachArgs, AttachIdentity, AttachKind, attach_body};

/// `compute`: the workspace's computes.
#[derive(Debug, Clone, clap::Args)]
pub struct ComputeArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ComputeCommand,
}

/// The `compute` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ComputeCommand {
    /// Create an AmlCompute cluster and wait until it is usable (nothing changes when it
    /// already exists as asked).
    Create(CreateArgs),
    /// List the workspace's computes.
    List(ConfigOnly),
    /// Show one compute: type, state, size, node counts, errors.
    Show(NameArgs),
    /// Change the node range of a cluster.
    Resize(ResizeArgs),
    /// Delete a compute (or, with `--detach`, detach an attached one).
    Delete(DeleteArgs),
    /// Attach an existing Kubernetes cluster, Synapse Spark pool, virtual machine or
    /// Databricks workspace.
    Attach(AttachArgs),
}

/// Only the workspace.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigOnly {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// A compute name.
#[derive(Debug, Clone, clap::Args)]
pub struct NameArgs {
    /// The compute.
    pub name: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `compute create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// The compute name (2–24 letters, digits and `-`, starting with a letter).
    pub name: String,
    /// The VM size of the nodes, e.g. `STANDARD_DS3_V2`.
    #[arg(long, value_name = "VM")]
    pub size: String,
    /// Nodes kept even when idle.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min: u32,
    /// Most nodes the cluster scales to.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub max: u32,
    /// Seconds a node may idle before it is released (sent as an ISO 8601 duration).
    #[arg(long, value_name = "S", default_value_t = 120)]
    pub idle_seconds: u64,
    /// Low-priority nodes: cheaper, but Azure may preempt them.
    #[arg(long)]
    pub low_priority: bool,
    /// Region (default: the workspace's).
    #[arg(long, value_name = "REGION")]
    pub location: Option<String>,
    /// Seconds between two looks at the compute while it is created.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = seconds)]
    pub poll_interval: Duration,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `compute resize`.
#[derive(Debug, Clone, clap::Args)]
pub struct ResizeArgs {
    /// The cluster.
    pub name: String,
    /// Nodes kept even when idle.
    #[arg(long, value_name = "N")]
    pub min: u32,
    /// Most nodes the cluster scales to.
    #[arg(long, value_name = "N")]
    pub max: u32,
    /// Seconds a node may idle before it is released (default: keep the current value).
    #[arg(long, value_name = "S")]
    pub idle_seconds: Option<u64>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `compute delete`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeleteArgs {
    /// The compute.
    pub name: String,
    /// Only detach it from the workspace: the attached cluster, pool or VM stays.
    #[arg(long)]
    pub detach: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `compute …`.
pub fn compute(args: &ComputeArgs) -> Result<ExitCode, CliError> {
    match &args.command {
        ComputeCommand::Create(a) => create(a),
        ComputeCommand::List(a) => list(a),
        ComputeCommand::Show(a) => show(a),
        ComputeCommand::Resize(a) => resize(a),
        ComputeCommand::Delete(a) => delete(a),
        ComputeCommand::Attach(a) => attach::attach(a),
    }
}

fn check_name(name: &str) -> Result<(), CliError> {
    // `^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$` (reference §9).
    let ok = name.len() >= 3
        && name.len() <= 24
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name
            .rsplit_once('-')
            .is_some_and(|(_, tail)| !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "compute name `{name}` is not valid: 3 to 24 letters, digits and `-`, starting with a \
             letter and not ending in `-` followed by digits (e.g. `cpu-cluster`)"
        )))
    }
}

/// The body `compute create` sends.
pub fn cluster_body(a: &CreateArgs, location: Option<String>) -> ComputeResource {
    ComputeResource::new(
        location,
        ComputeProperties {
            kind: ComputeKind::AmlCompute(Some(AmlComputeProperties {
                vm_size: Some(a.size.clone()),
                vm_priority: a.low_priority.then_some(VmPriority::LowPriority),
                os_type: Some("Linux".into()),
                remote_login_port_public_access: Some("NotSpecified".into()),
                enable_node_public_ip: Some(true),
                scale_settings: Some(ScaleSettings {
                    max_node_count: a.max,
                    min_node_count: Some(a.min),
                    node_idle_time_before_scale_down: Some(iso8601_seconds(a.idle_seconds)),
                }),
                ..Default::default()
            })),
            disable_local_auth: Some(true),
            ..Default::default()
        },
    )
}

fn body_json<T: serde::Serialize>(body: &T, what: &str) -> Result<serde_json::Value, CliError> {
    crate::wire::to_json_value(body, what).map_err(CliError::Usage)
}

fn workspace_get(scope: &WorkspaceScope, api: &str) -> PlannedRequest {
    PlannedRequest::arm("GET", scope.id(), api)
        .only_if("no --location is given: the compute goes to the workspace's region")
}

fn create(a: &CreateArgs) -> Result<ExitCode, CliError> {
    check_name(&a.name)?;
    if a.max == 0 || a.min > a.max {
        return Err(CliError::Usage(format!(
            "`--min {}` and `--max {}`: the maximum must be at least 1 and at least the minimum",
            a.min, a.max
        )));
    }
    let versions = crate::azure::ApiVersions::from_env();
    if a.dry_run.dry_run {
        let scope = dry_run::scope(&a.config)?;
        let mut reqs = Vec::new();
        if a.location.is_none() {
            reqs.push(workspace_get(&scope, &versions.computes));
        }
        let location = a
            .location
            .clone()
            .unwrap_or_else(|| "{workspace_location}".into());
        let path = scope.compute_id(&a.name);
        reqs.push(
            PlannedRequest::arm("GET", path.clone(), &versions.computes)
                .only_if("always: a compute that exists as asked is left alone"),
        );
        reqs.push(
            PlannedRequest::arm("PUT", path.clone(), &versions.computes)
                .with_body(
                    body_json(&cluster_body(a, Some(location)), "the compute")?,
                    "compute.json",
                )
                .only_if("the compute does not exist yet"),
        );
        reqs.push(
            PlannedRequest::arm("GET", path, &versions.computes)
                .only_if("repeated until provisioningState is Succeeded, Failed or Canceled"),
        );
        return dry_run::show(&reqs, a.dry_run.out.as_deref());
    }
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(a.config.file.as_deref())?;
        if let Some(existing) = ws.computes().find(&a.name).await? {
            let wanted = cluster_body(a, None);
            let diff = differences(&existing, &wanted);
            if diff.is_empty() {
                outln!(
                    "Compute `{}` already exists as asked ({}); nothing changed.",
                    a.name,
                    summary(&existing)
                );
                return Ok(ExitCode::SUCCESS);
            }
            return Err(CliError::Usage(format!(
                "compute `{}` already exists with other settings ({}); nothing was changed: \
                 `compute resize {}` changes the node range, other settings need `compute \
                 delete {}` first",
                a.name,
                diff.join(", "),
                a.name,
                a.name
            )));
        }
        let location = location(&ws, a.location.as_deref()).await?;
        errln!(
            "Creating compute `{}` ({}, {}–{} nodes, idle {} s{}) in {}…",
            a.name,
            a.size,
            a.min,
            a.max,
            a.idle_seconds,
            if a.low_priority { ", low priority" } else { "" },
            location.as_deref().unwrap_or("the workspace's region")
        );
        let wait = Wait {
            interval: a.poll_interval,
            ..Wait::default()
        };
        let done = ws
            .computes()
            .create_or_update(&a.name, &cluster_body(a, location), wait, |c| {
                errln!("  {}: {}", a.name, summary(c));
            })
            .await?;
        outln!("Compute `{}` is ready: {}.", a.name, summary(&done));
        Ok(ExitCode::SUCCESS)
    })
}

async fn location(ws: &Workspace, given: Option<&str>) -> Result<Option<String>, CliError> {
    Ok(match given {
        Some(l) => Some(l.to_owned()),
        None => ws.get().await?.location,
    })
}

/// One line: state, size, nodes.
fn summary(c: &ComputeResource) -> String {
    let state = c
        .properties
        .provisioning_state
        .clone()
        .unwrap_or_else(|| "-".into());
    match &c.properties.kind {
        ComputeKind::AmlCompute(Some(p)) => {
            let mut s = format!("{state}, {}", p.vm_size.as_deref().unwrap_or("-"));
            if p.vm_priority == Some(VmPriority::LowPriority) {
                s.push_str(" low priority");
            }
            if let Some(scale) = &p.scale_settings {
                s.push_str(&format!(
                    ", {}–{} nodes",
                    scale.min_node_count.unwrap_or(0),
                    scale.max_node_count
                ));
            }
            if let Some(n) = p.current_node_count {
                s.push_str(&format!(", {n} now"));
            }
            if let Some(a) = &p.allocation_state {
                s.push_str(&format!(", allocation {a}"));
            }
            s
        }
        kind => format!("{state}, {}", kind.compute_type()),
    }
}

fn list(a: &ConfigOnly) -> Result<ExitCode, CliError> {
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(a.config.file.as_deref())?;
        let all = ws.computes().list().await?;
        if all.is_empty() {
            outln!(
                "No computes in workspace `{}`: create one with `compute create NAME --size \
                 STANDARD_DS3_V2`.",
                ws.config().workspace_name
            );
            return Ok(ExitCode::SUCCESS);
        }
        let width = all
            .iter()
            .map(|c| c.display_name().len())
            .max()
            .unwrap_or(4)
            .max(4);
        outln!(
            "{:<width$}  {:<16}  {:<10}  DETAILS",
            "NAME",
            "TYPE",
            "STATE"
        );
        for c in &all {
            let details = match &c.properties.kind {
                ComputeKind::AmlCompute(Some(p)) => format!(
                    "{}, {} nodes",
                    p.vm_size.as_deref().unwrap_or("-"),
                    p.scale_settings.as_ref().map_or_else(
                        || "?".to_owned(),
                        |s| format!("{}–{}", s.min_node_count.unwrap_or(0), s.max_node_count)
                    )
                ),
                _ => c
                    .properties
                    .resource_id
                    .clone()
                    .unwrap_or_else(|| "-".into()),
            };
            outln!(
                "{:<width$}  {:<16}  {:<10}  {details}",
                c.display_name(),
                c.properties.kind.compute_type(),
                c.properties.provisioning_state.as_deref().unwrap_or("-")
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn show(a: &NameArgs) -> Result<ExitCode, CliError> {
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(a.config.file.as_deref())?;
        let c = ws.computes().get(&a.name).await?;
        for line in describe(&c) {
            outln!("{line}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The lines `compute show` prints.
pub fn describe(c: &ComputeResource) -> Vec<String> {
    let p = &c.properties;
    let mut out = vec![
        format!("name:        {}", c.display_name()),
        format!("type:        {}", p.kind.compute_type()),
        format!(
            "state:       {}",
            p.provisioning_state.as_deref().unwrap_or("-")
        ),
    ];
    if let Some(l) = &c.location {
        out.push(format!("location:    {l}"));
    }
    match &p.kind {
        ComputeKind::AmlCompute(Some(a)) => {
            out.push(format!(
                "size:        {} ({})",
                a.vm_size.as_deref().unwrap_or("-"),
                if a.vm_priority == Some(VmPriority::LowPriority) {
                    "low priority"
                } else {
                    "dedicated"
                }
            ));
            if let Some(s) = &a.scale_settings {
                let idle = s
                    .node_idle_time_before_scale_down
                    .as_deref()
                    .map(|d| {
                        iso8601_to_seconds(d).map_or_else(|| d.to_owned(), |s| format!("{s} s"))
                    })
                    .unwrap_or_else(|| "-".into());
                out.push(format!(
                    "scale:       min {}, max {}, idle {idle}",
                    s.min_node_count.unwrap_or(0),
                    s.max_node_count
                ));
            }
            out.push(format!(
                "nodes:       {} now, {} target{}",
                a.current_node_count.unwrap_or(0),
                a.target_node_count.unwrap_or(0),
                a.allocation_state
                    .as_deref()
                    .map(|s| format!(", allocation {s}"))
                    .unwrap_or_default()
            ));
            if let Some(n) = &a.node_state_counts {
                out.push(format!(
                    "node states: idle {}, running {}, preparing {}, unusable {}, leaving {}, \
                     preempted {}",
                    n.idle_node_count,
                    n.running_node_count,
                    n.preparing_node_count,
                    n.unusable_node_count,
                    n.leaving_node_count,
                    n.preempted_node_count
                ));
            }
            for e in a.errors.iter().flatten().filter_map(|e| e.error.as_ref()) {
                out.push(format!("error:       {e}"));
            }
        }
        ComputeKind::Databricks(Some(d)) => {
            if let Some(u) = &d.workspace_url {
                out.push(format!("workspace:   {u}"));
            }
        }
        ComputeKind::Kubernetes(Some(k)) => {
            if let Some(n) = &k.namespace {
                out.push(format!("namespace:   {n}"));
            }
        }
        ComputeKind::VirtualMachine(Some(v)) => {
            if let Some(addr) = &v.address {
                out.push(format!("address:     {addr}:{}", v.ssh_port.unwrap_or(22)));
            }
        }
        _ => {}
    }
    if let Some(r) = &p.resource_id {
        out.push(format!("resource:    {r}"));
    }
    if p.is_attached_compute == Some(true) {
        out.push("attached:    yes (delete with --detach to keep the resource)".into());
    }
    for e in p
        .provisioning_errors
        .iter()
        .filter_map(|e| e.error.as_ref())
    {
        out.push(format!("error:       {e}"));
    }
    if let Some(id) = &c.id {
        out.push(format!("id:          {id}"));
    }
    out
}

fn resize(a: &ResizeArgs) -> Result<ExitCode, CliError> {
    if a.max == 0 || a.min > a.max {
        return Err(CliError::Usage(format!(
            "`--min {}` and `--max {}`: the maximum must be at least 1 and at least the minimum",
            a.min, a.max
        )));
    }
    let update = ClusterUpdateParameters::resize(ScaleSettings {
        max_node_count: a.max,
        min_node_count: Some(a.min),
        node_idle_time_before_scale_down: a.idle_seconds.map(iso8601_seconds),
    });
    let versions = crate::azure::ApiVersions::from_env();
    if a.dry_run.dry_run {
        let scope = dry_run::scope(&a.config)?;
        let req = PlannedRequest::arm("PATCH", scope.compute_id(&a.name), &versions.computes)
            .with_body(body_json(&update, "the resize")?, "resize.json");
        return dry_run::show(&[req], a.dry_run.out.as_deref());
    }
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(a.config.file.as_deref())?;
        let done = ws.computes().resize(&a.name, &update).await?;
        outln!("Compute `{}` resized: {}.", a.name, summary(&done));
        Ok(ExitCode::SUCCESS)
    })
}

fn delete(a: &DeleteArgs) -> Result<ExitCode, CliError> {
    let action = if a.detach {
        DeleteAction::Detach
    } else {
        DeleteAction::Delete
    };
    let versions = crate::azure::ApiVersions::from_env();
    if a.dry_run.dry_run {
        let scope = dry_run::scope(&a.config)?;
        let path = format!(
            "{}?underlyingResourceAction={}",
            scope.compute_id(&a.name),
            action.as_str()
        );
        let req = PlannedRequest::arm("DELETE", path, &versions.computes);
        return dry_run::show(&[req], a.dry_run.out.as_deref());
    }
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(a.config.file.as_deref())?;
        // A name that does not exist is named with the computes that do.
        ws.computes().get(&a.name).await?;
        ws.computes().delete(&a.name, action).await?;
        outln!(
            "Compute `{}` {}.",
            a.name,
            if a.detach { "detached" } else { "deleted" }
        );
        Ok(ExitCode::SUCCESS)
    })
}
