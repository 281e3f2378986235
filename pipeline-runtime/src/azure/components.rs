//! Component versions: the registered form of a step (command, code, environment, interface).
//!
//! Each step of a submitted pipeline is registered as an anonymous component
//! (`components/azureml_anonymous/versions/{content hash}`, `isAnonymous: true`), so the same step
//! registered twice is the same version — a retried PUT can never make a second one.

use std::collections::BTreeMap;

use azure_core::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::arm::{ArmError, ArmRequest};
use super::workspace::Workspace;
use crate::wire::rest::{self, AnonymousComponentVersion};

/// The component name every anonymous component version lives under.
pub const ANONYMOUS_COMPONENT_NAME: &str = crate::wire::ANONYMOUS_COMPONENT;

/// A component version resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentVersion {
    /// ARM id, `…/components/{name}/versions/{version}`: what a pipeline node's `componentId` is.
    #[serde(default)]
    pub id: String,
    /// The version.
    #[serde(default)]
    pub name: String,
    /// Properties.
    pub properties: ComponentVersionProperties,
}

/// `properties` of a [`ComponentVersion`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ComponentVersionProperties {
    /// The component definition (the component YAML as JSON), produced by the wire room.
    #[serde(rename = "componentSpec", default)]
    pub component_spec: Value,
    /// Anonymous (unnamed) component.
    #[serde(rename = "isAnonymous", default)]
    pub is_anonymous: bool,
    /// Archived.
    #[serde(rename = "isArchived", default)]
    pub is_archived: bool,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Asset properties.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// `Succeeded`, `Creating`, … (read-only).
    #[serde(
        rename = "provisioningState",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub provisioning_state: Option<String>,
}

/// Component operations of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct Components<'a> {
    ws: &'a Workspace,
}

impl<'a> Components<'a> {
    pub(crate) fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    fn version(self) -> &'a str {
        &self.ws.arm().options().api_versions.components
    }

    /// Registers an anonymous component version
    /// (`PUT {WS}/components/azureml_anonymous/versions/{version}` with `isAnonymous: true`).
    /// `version` is the content hash of `component_spec` computed by the caller.
    pub async fn create_or_update_anonymous(
        self,
        version: &str,
        component_spec: &(impl Serialize + Sync),
    ) -> Result<ComponentVersion, ArmError> {
        let body = AnonymousComponentVersion::new(component_spec);
        self.put(ANONYMOUS_COMPONENT_NAME, version, &body).await
    }

    /// Registers a component version with the body the wire room wrote
    /// (`PUT {WS}/components/{name}/versions/{version}`), the same bytes `export` shows.
    pub async fn create_or_update_version(
        self,
        name: &str,
        version: &str,
        body: &rest::ComponentVersion,
    ) -> Result<ComponentVersion, ArmError> {
        self.put(name, version, body).await
    }

    /// Registers a named component version (`PUT {WS}/components/{name}/versions/{version}`).
    pub async fn create_or_update(
        self,
        name: &str,
        version: &str,
        properties: &ComponentVersionProperties,
    ) -> Result<ComponentVersion, ArmError> {
        #[derive(Serialize)]
        struct Body<'a> {
            properties: &'a ComponentVersionProperties,
        }
        self.put(name, version, &Body { properties }).await
    }

    async fn put(
        self,
        name: &str,
        version: &str,
        body: &impl Serialize,
    ) -> Result<ComponentVersion, ArmError> {
        let op = format!("PUT components/{name}/versions/{version}");
        let body =
            crate::wire::to_json_value(body, &op).map_err(|message| ArmError::InvalidRequest {
                operation: op.clone(),
                message,
            })?;
        self.ws
            .arm()
            .send(
                ArmRequest::new(
                    Method::Put,
                    self.ws.url(&["components", name, "versions", version]),
                    &op,
                )
                .api_version(self.version())
                .json(body),
            )
            .await?
            .json(&op)
    }

    /// One component version.
    pub async fn get(self, name: &str, version: &str) -> Result<ComponentVersion, ArmError> {
        let op = format!("GET components/{name}/versions/{version}");
        self.ws
            .arm()
            .get_json(
                self.ws.url(&["components", name, "versions", version]),
                self.version(),
                &op,
            )
            .await
    }
}
