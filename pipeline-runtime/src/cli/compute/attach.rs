//! `compute attach`: a compute made elsewhere (Kubernetes, a Synapse Spark pool, a VM, Databricks)
//! given a name in the workspace. Its secrets are read from environment variables and never
//! printed; Data Lake Analytics, retired by Azure, is refused with what to use instead.

use std::process::ExitCode;
use std::time::Duration;

use crate::azure::computes::Wait;
use crate::azure::secret::Secret;
use crate::wire::compute::{
    ComputeIdentity, ComputeKind, ComputeProperties, ComputeResource, DatabricksProperties,
    KubernetesProperties, SynapseSparkProperties, VirtualMachineProperties,
    VirtualMachineSshCredentials, WireSecret,
};

use super::super::CliError;
use super::super::args::{AzureConfigArg, seconds};
use super::super::dry_run::{self, DryRunArgs, PlannedRequest};
use super::super::output::{errln, outln};
use super::{body_json, check_name, location, summary, workspace_get};

/// What `compute attach` attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AttachKind {
    /// An Azure Arc-enabled or AKS Kubernetes cluster with the Azure ML extension.
    Kubernetes,
    /// A Synapse Spark pool (`--resource-id` of the pool).
    SynapseSpark,
    /// A Linux VM reached over SSH.
    VirtualMachine,
    /// An Azure Databricks workspace.
    Databricks,
    /// Azure Data Lake Analytics: retired by Azure on 2024-02-29 (the command says what to use).
    DataLakeAnalytics,
}

/// The managed identity of an attached Synapse Spark pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AttachIdentity {
    /// The compute's own identity, managed by Azure (`SystemAssigned`).
    SystemAssigned,
    /// User-assigned identities (`UserAssigned`), named with `--user-assigned-identity`.
    UserAssigned,
}

/// `compute attach`.
#[derive(Debug, Clone, clap::Args)]
pub struct AttachArgs {
    /// The name the compute gets in the workspace.
    pub name: String,
    /// What to attach.
    #[arg(long = "type", value_name = "KIND")]
    pub kind: AttachKind,
    /// ARM id of the resource (cluster, Spark pool, VM, Databricks workspace).
    #[arg(long, value_name = "ID")]
    pub resource_id: Option<String>,
    /// Kubernetes: the namespace jobs run in.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Virtual machine: host name or IP address.
    #[arg(long, value_name = "HOST")]
    pub address: Option<String>,
    /// Virtual machine: SSH port.
    #[arg(long, value_name = "PORT", default_value_t = 22)]
    pub ssh_port: u16,
    /// Virtual machine: SSH user.
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Virtual machine: the environment variable holding the SSH password.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Virtual machine: the environment variable holding the SSH private key.
    #[arg(long, value_name = "VAR")]
    pub ssh_key_env: Option<String>,
    /// Databricks: the workspace URL (`https://adb-….azuredatabricks.net`).
    #[arg(long, value_name = "URL")]
    pub workspace_url: Option<String>,
    /// Databricks: the environment variable holding the access token.
    #[arg(long, value_name = "VAR", default_value = "DATABRICKS_TOKEN")]
    pub token_env: String,
    /// Synapse Spark: the identity the pool's jobs reach data with: the compute's own
    /// (`system-assigned`, the default) or the ones `--user-assigned-identity` names.
    #[arg(long, value_name = "KIND")]
    pub identity: Option<AttachIdentity>,
    /// Synapse Spark: ARM id of a user-assigned managed identity (repeatable; implies
    /// `--identity user-assigned`).
    #[arg(long = "user-assigned-identity", value_name = "ID")]
    pub user_assigned_identities: Vec<String>,
    /// Region (default: the workspace's).
    #[arg(long, value_name = "REGION")]
    pub location: Option<String>,
    /// Seconds between two looks at the compute while it is attached.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = seconds)]
    pub poll_interval: Duration,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// What the CLI says about Data Lake Analytics.
pub const ADLA_RETIRED: &str = "Azure Data Lake Analytics was retired by Azure on 2024-02-29 and \
     can no longer be attached; run U-SQL work as Spark instead: attach a Synapse Spark pool \
     (`compute attach NAME --type synapse-spark --resource-id POOL_ID`) or use Azure ML's \
     serverless Spark, and keep the data in Azure Data Lake Storage Gen2";

/// A secret from an environment variable: `{env:VAR}` for a dry run, else the value
/// (registered for redaction).
fn env_secret(var: &str, dry_run: bool, what: &str) -> Result<WireSecret, CliError> {
    if dry_run {
        return Ok(WireSecret::new(format!("{{env:{var}}}")));
    }
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => {
            let s = Secret::new(v.trim());
            Ok(WireSecret::new(s.expose()))
        }
        _ => Err(CliError::Usage(format!(
            "the {what} is read from the environment variable `{var}`, which is not set: \
             `export {var}=…` first (it is never taken from the command line)"
        ))),
    }
}

/// The body `compute attach` sends (`{env:VAR}` in place of secrets for a dry run).
pub fn attach_body(
    a: &AttachArgs,
    location: Option<String>,
    dry_run: bool,
) -> Result<ComputeResource, CliError> {
    let need = |flag: &str, v: &Option<String>| {
        v.clone().ok_or_else(|| {
            CliError::Usage(format!(
                "`compute attach --type {}` needs `--{flag}`",
                match a.kind {
                    AttachKind::Kubernetes => "kubernetes",
                    AttachKind::SynapseSpark => "synapse-spark",
                    AttachKind::VirtualMachine => "virtual-machine",
                    AttachKind::Databricks => "databricks",
                    AttachKind::DataLakeAnalytics => "data-lake-analytics",
                }
            ))
        })
    };
    let kind = match a.kind {
        AttachKind::DataLakeAnalytics => return Err(CliError::Usage(ADLA_RETIRED.into())),
        AttachKind::Kubernetes => ComputeKind::Kubernetes(Some(KubernetesProperties {
            namespace: a.namespace.clone(),
            default_instance_type: None,
        })),
        AttachKind::SynapseSpark => ComputeKind::SynapseSpark(None::<SynapseSparkProperties>),
        AttachKind::VirtualMachine => {
            let username = need("username", &a.username)?;
            let password = a
                .password_env
                .as_deref()
                .map(|v| env_secret(v, dry_run, "SSH password"))
                .transpose()?;
            let key = a
                .ssh_key_env
                .as_deref()
                .map(|v| env_secret(v, dry_run, "SSH private key"))
                .transpose()?;
            if password.is_none() && key.is_none() {
                return Err(CliError::Usage(
                    "`compute attach --type virtual-machine` needs `--password-env VAR` or \
                     `--ssh-key-env VAR`"
                        .into(),
                ));
            }
            ComputeKind::VirtualMachine(Some(VirtualMachineProperties {
                virtual_machine_size: None,
                ssh_port: Some(a.ssh_port),
                address: a.address.clone(),
                administrator_account: Some(VirtualMachineSshCredentials {
                    username: Some(username),
                    password,
                    private_key_data: key,
                    public_key_data: None,
                }),
            }))
        }
        AttachKind::Databricks => ComputeKind::Databricks(Some(DatabricksProperties {
            databricks_access_token: Some(env_secret(
                &a.token_env,
                dry_run,
                "Databricks access token",
            )?),
            workspace_url: Some(need("workspace-url", &a.workspace_url)?),
        })),
    };
    let resource_id = need("resource-id", &a.resource_id)?;
    let mut body = ComputeResource::new(
        location,
        ComputeProperties {
            kind,
            resource_id: Some(resource_id),
            ..Default::default()
        },
    );
    body.identity = attach_identity(a)?;
    Ok(body)
}

/// The identity an attach sends: a Synapse Spark pool reaches data through a managed identity
/// (the system-assigned one unless user-assigned ones are named), as `az ml compute attach
/// --identity-type` and Microsoft's SDK (`IdentityConfiguration`) send it; other kinds send none.
fn attach_identity(a: &AttachArgs) -> Result<Option<ComputeIdentity>, CliError> {
    let user = &a.user_assigned_identities;
    if a.kind != AttachKind::SynapseSpark {
        if a.identity.is_some() || !user.is_empty() {
            return Err(CliError::Usage(
                "`--identity` and `--user-assigned-identity` apply to `--type synapse-spark` only"
                    .into(),
            ));
        }
        return Ok(None);
    }
    match (a.identity, user.is_empty()) {
        (None | Some(AttachIdentity::SystemAssigned), true) => {
            Ok(Some(ComputeIdentity::system_assigned()))
        }
        (Some(AttachIdentity::SystemAssigned), false) => Err(CliError::Usage(
            "`--user-assigned-identity` names user-assigned identities; drop \
             `--identity system-assigned`, or drop the identities to use the system-assigned one"
                .into(),
        )),
        (Some(AttachIdentity::UserAssigned), true) => Err(CliError::Usage(
            "`--identity user-assigned` needs `--user-assigned-identity ID` (the ARM id of a \
             Microsoft.ManagedIdentity/userAssignedIdentities resource)"
                .into(),
        )),
        (_, false) => Ok(Some(ComputeIdentity::user_assigned(user.iter().cloned()))),
    }
}

pub(super) fn attach(a: &AttachArgs) -> Result<ExitCode, CliError> {
    check_name(&a.name)?;
    let versions = crate::azure::ApiVersions::from_env();
    if a.dry_run.dry_run {
        let location = a
            .location
            .clone()
            .unwrap_or_else(|| "{workspace_location}".into());
        let body = attach_body(a, Some(location), true)?;
        let scope = dry_run::scope(&a.config)?;
        let mut reqs = Vec::new();
        if a.location.is_none() {
            reqs.push(workspace_get(&scope, &versions.computes));
        }
        let path = scope.compute_id(&a.name);
        reqs.push(
            PlannedRequest::arm("PUT", path.clone(), &versions.computes)
                .with_body(body_json(&body, "the compute")?, "attach.json"),
        );
        reqs.push(
            PlannedRequest::arm("GET", path, &versions.computes)
                .only_if("repeated until provisioningState is Succeeded, Failed or Canceled"),
        );
        return dry_run::show(&reqs, a.dry_run.out.as_deref());
    }
    // Checked before anything is sent.
    attach_body(a, None, false)?;
    super::super::azure_workspace::block_on(async {
        let ws = super::super::azure_workspace::workspace(a.config.file.as_deref())?;
        let location = location(&ws, a.location.as_deref()).await?;
        let body = attach_body(a, location, false)?;
        errln!(
            "Attaching {} `{}`…",
            body.properties.kind.compute_type(),
            a.name
        );
        let done = ws
            .computes()
            .create_or_update(
                &a.name,
                &body,
                Wait {
                    interval: a.poll_interval,
                    ..Wait::default()
                },
                |c| {
                    errln!("  {}: {}", a.name, summary(c));
                },
            )
            .await?;
        outln!("Compute `{}` is attached: {}.", a.name, summary(&done));
        Ok(ExitCode::SUCCESS)
    })
}
