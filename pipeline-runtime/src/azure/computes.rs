//! Computes: list, get (with the list of existing computes when a name is wrong), and
//! create-or-update as a long-running operation.

use azure_core::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::arm::{ArmError, ArmRequest};
use super::workspace::Workspace;

/// A compute resource (`{WS}/computes/{name}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Compute {
    /// ARM id: what a job's `computeId` is.
    #[serde(default)]
    pub id: String,
    /// Compute name.
    pub name: String,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Properties.
    pub properties: ComputeProperties,
}

/// `properties` of a [`Compute`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComputeProperties {
    /// `AmlCompute`, `ComputeInstance`, `Kubernetes`, …
    #[serde(rename = "computeType")]
    pub compute_type: String,
    /// `Succeeded`, `Creating`, `Failed`, … (read-only).
    #[serde(
        rename = "provisioningState",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub provisioning_state: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Type-specific properties (VM size, scale settings, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
}

/// Compute operations of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct Computes<'a> {
    ws: &'a Workspace,
}

impl<'a> Computes<'a> {
    pub(crate) fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    fn version(self) -> &'a str {
        &self.ws.arm().options().api_versions.computes
    }

    /// All computes of the workspace.
    pub async fn list(self) -> Result<Vec<Compute>, ArmError> {
        self.ws
            .arm()
            .list_all(self.ws.url(&["computes"]), self.version(), "list computes")
            .await
    }

    /// One compute. On 404 the error's hint lists the computes that do exist.
    pub async fn get(self, name: &str) -> Result<Compute, ArmError> {
        let op = format!("GET computes/{name}");
        match self
            .ws
            .arm()
            .get_json(self.ws.url(&["computes", name]), self.version(), &op)
            .await
        {
            Err(e) if e.status() == Some(404) => {
                let hint = self.not_found_hint(name).await;
                Err(e.with_hint(hint))
            }
            other => other,
        }
    }

    /// "no compute `x`; the workspace has: a (AmlCompute), b (ComputeInstance)".
    pub(crate) async fn not_found_hint(self, name: &str) -> String {
        let ws = &self.ws.config().workspace_name;
        match self.list().await {
            Ok(all) if all.is_empty() => format!(
                "no compute `{name}` in workspace `{ws}`, and it has no computes yet: create one \
                 in Azure ML studio (Compute > Compute clusters)"
            ),
            Ok(all) => format!(
                "no compute `{name}` in workspace `{ws}`; it has: {}",
                all.iter()
                    .map(|c| format!("{} ({})", c.name, c.properties.compute_type))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(_) => format!("no compute `{name}` in workspace `{ws}`"),
        }
    }

    /// Creates or updates a compute (`PUT {WS}/computes/{name}`, body `ComputeResource` e.g.
    /// `{"location": …, "properties": {"computeType": "AmlCompute", "properties": {…}}}`) and
    /// waits for the long-running operation to finish.
    pub async fn create_or_update(self, name: &str, body: &Value) -> Result<Compute, ArmError> {
        let op = format!("PUT computes/{name}");
        let url = self.ws.url(&["computes", name]);
        let arm = self.ws.arm();
        let started = arm
            .send(
                ArmRequest::new(Method::Put, url.clone(), &op)
                    .api_version(self.version())
                    .json(body.clone()),
            )
            .await?;
        arm.wait_for_completion(started, Method::Put, &url, self.version(), &op)
            .await?
            .json(&op)
    }
}
