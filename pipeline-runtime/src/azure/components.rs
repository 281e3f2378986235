//! Component versions: the registered form of a step (command, code, environment, interface).
//!
//! Each step of a submitted pipeline is registered as an anonymous component
//! (`components/azureml_anonymous/versions/{content hash}`, `isAnonymous: true`), so the same step
//! registered twice is the same version — a retried PUT can never make a second one.

use azure_core::http::Method;
use serde::Serialize;

use super::arm::{ArmError, ArmRequest};
use super::workspace::Workspace;
use crate::wire::rest::{self, AnonymousComponentVersion};
pub use crate::wire::rest::{
    ComponentVersionResource as ComponentVersion,
    ComponentVersionResourceProperties as ComponentVersionProperties,
};

/// The component name every anonymous component version lives under.
pub const ANONYMOUS_COMPONENT_NAME: &str = crate::wire::ANONYMOUS_COMPONENT;

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

    /// Writes a named component version back with changed properties (archive, restore):
    /// `PUT {WS}/components/{name}/versions/{version}` with the properties read from it.
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
