//! The workspace (`GET {WS}`) and its discovery document (the data-plane base URLs).

use serde::{Deserialize, Serialize};

/// The workspace resource (`GET {WS}`), the fields this crate uses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkspaceResource {
    /// ARM id.
    #[serde(default)]
    pub id: String,
    /// Workspace name.
    #[serde(default)]
    pub name: String,
    /// Azure region, e.g. `eastus`.
    #[serde(default)]
    pub location: Option<String>,
    /// Properties.
    #[serde(default)]
    pub properties: WorkspaceProperties,
}

/// `properties` of [`WorkspaceResource`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WorkspaceProperties {
    /// URL of the discovery document listing the data-plane endpoints.
    #[serde(rename = "discoveryUrl", default)]
    pub discovery_url: Option<String>,
    /// The workspace's immutable GUID.
    #[serde(rename = "workspaceId", default)]
    pub workspace_id: Option<String>,
    /// ARM id of the workspace's storage account.
    #[serde(rename = "storageAccount", default)]
    pub storage_account: Option<String>,
    /// MLflow tracking URI.
    #[serde(rename = "mlFlowTrackingUri", default)]
    pub ml_flow_tracking_uri: Option<String>,
    /// Friendly name.
    #[serde(rename = "friendlyName", default)]
    pub friendly_name: Option<String>,
}

/// The discovery document: data-plane base URLs of the workspace's region.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Discovery {
    /// Base URL of the run history, metrics and other data-plane APIs.
    pub api: String,
    /// Base URL of the v1 pipelines service.
    #[serde(default)]
    pub pipelines: Option<String>,
    /// Base URL of Azure ML studio.
    #[serde(default)]
    pub studio: Option<String>,
}
