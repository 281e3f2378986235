//! The [`Workspace`] handle: one workspace, one client, and the workspace's own resource
//! (location, discovery of the data-plane endpoints).

use std::sync::Arc;

use azure_core::http::{Method, Url};
use tokio::sync::OnceCell;

use super::arm::{ArmClient, ArmClientOptions, ArmError, ArmRequest, TokenScope};
use super::auth::Credential;
use super::config::WorkspaceConfig;
use super::{Error, codes, components, computes, data, datastores, jobs};
pub use crate::wire::rest::{Discovery, WorkspaceProperties, WorkspaceResource};

/// A handle on one Azure ML workspace. Cheap to clone; operations hang off it:
/// [`Workspace::jobs`], [`Workspace::components`], [`Workspace::codes`],
/// [`Workspace::datastores`], [`Workspace::computes`].
#[derive(Debug, Clone)]
pub struct Workspace {
    arm: ArmClient,
    config: Arc<WorkspaceConfig>,
    discovery: Arc<OnceCell<Discovery>>,
}

impl Workspace {
    /// A handle on the workspace `config` names, with tokens from `credential`.
    pub fn new(
        config: WorkspaceConfig,
        credential: Credential,
        options: ArmClientOptions,
    ) -> Result<Self, ArmError> {
        let arm = ArmClient::new(config.arm_endpoint.clone(), credential, options)?;
        Ok(Self {
            arm,
            config: Arc::new(config),
            discovery: Arc::new(OnceCell::new()),
        })
    }

    /// The workspace from [`WorkspaceConfig::from_config`] with the default credential chain and
    /// options.
    pub fn from_config() -> Result<Self, Error> {
        let config = WorkspaceConfig::from_config()?;
        Ok(Self::new(
            config,
            Credential::default_chain(),
            ArmClientOptions::default(),
        )?)
    }

    /// The ARM client.
    pub fn arm(&self) -> &ArmClient {
        &self.arm
    }

    /// Which workspace this is.
    pub fn config(&self) -> &WorkspaceConfig {
        &self.config
    }

    /// The workspace's ARM resource id.
    pub fn resource_id(&self) -> String {
        self.scope().id()
    }

    /// `{endpoint}/subscriptions/…/workspaces/{ws}/{segments…}`, each segment percent-encoded.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.config.arm_endpoint.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("ARM endpoint is an http(s) URL");
            path.pop_if_empty().extend([
                "subscriptions",
                &self.config.subscription_id,
                "resourceGroups",
                &self.config.resource_group,
                "providers",
                "Microsoft.MachineLearningServices",
                "workspaces",
                &self.config.workspace_name,
            ]);
            path.extend(segments);
        }
        url
    }

    /// `GET {WS}`: region, discovery URL, storage account.
    pub async fn get(&self) -> Result<WorkspaceResource, ArmError> {
        let op = format!("GET workspace {}", self.config.workspace_name);
        self.arm
            .get_json(
                self.url(&[]),
                &self.arm.options().api_versions.workspaces,
                &op,
            )
            .await
            .map_err(|e| match e.status() {
                Some(404) => e.with_hint(format!(
                    "no workspace `{}` in resource group `{}` of subscription `{}`: check your \
                     workspace config (or AZUREML_WORKSPACE_NAME / AZUREML_RESOURCE_GROUP / \
                     AZUREML_SUBSCRIPTION_ID)",
                    self.config.workspace_name,
                    self.config.resource_group,
                    self.config.subscription_id
                )),
                _ => e,
            })
    }

    /// The workspace's discovery document (fetched once, then cached): `GET {WS}` for
    /// `discoveryUrl`, then `GET` that URL (no token is sent to it).
    pub async fn discovery(&self) -> Result<&Discovery, ArmError> {
        self.discovery
            .get_or_try_init(|| async {
                let ws = self.get().await?;
                let op = "GET workspace discovery";
                let url = ws
                    .properties
                    .discovery_url
                    .ok_or_else(|| ArmError::InvalidRequest {
                        operation: op.to_owned(),
                        message: "the workspace has no `properties.discoveryUrl`".to_owned(),
                    })?;
                let url = Url::parse(&url).map_err(|e| ArmError::InvalidRequest {
                    operation: op.to_owned(),
                    message: format!("bad discoveryUrl: {e}"),
                })?;
                self.arm
                    .send(ArmRequest::new(Method::Get, url, op).scope(TokenScope::None))
                    .await?
                    .json(op)
            })
            .await
    }

    /// Jobs of this workspace.
    pub fn jobs(&self) -> jobs::Jobs<'_> {
        jobs::Jobs::new(self)
    }

    /// Components of this workspace.
    pub fn components(&self) -> components::Components<'_> {
        components::Components::new(self)
    }

    /// Code assets (snapshots) of this workspace.
    pub fn codes(&self) -> codes::Codes<'_> {
        codes::Codes::new(self)
    }

    /// Datastores of this workspace.
    pub fn datastores(&self) -> datastores::Datastores<'_> {
        datastores::Datastores::new(self)
    }

    /// Data assets of this workspace.
    pub fn data(&self) -> data::DataAssets<'_> {
        data::DataAssets::new(self)
    }

    /// The ids of this workspace's resources ([`crate::wire::WorkspaceScope`]).
    pub fn scope(&self) -> crate::wire::WorkspaceScope {
        crate::wire::WorkspaceScope {
            subscription_id: self.config.subscription_id.clone(),
            resource_group: self.config.resource_group.clone(),
            workspace_name: self.config.workspace_name.clone(),
        }
    }

    /// Computes of this workspace.
    pub fn computes(&self) -> computes::Computes<'_> {
        computes::Computes::new(self)
    }
}
