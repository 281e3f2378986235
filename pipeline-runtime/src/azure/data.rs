//! Data assets: what a pipeline input `azureml:NAME@latest` stands for.

use super::arm::{ArmError, ArmRequest};
use super::workspace::Workspace;
use crate::wire::rest::DataContainer;
use azure_core::http::Method;

/// Data asset operations of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct DataAssets<'a> {
    ws: &'a Workspace,
}

impl<'a> DataAssets<'a> {
    pub(crate) fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    fn version(self) -> &'a str {
        &self.ws.arm().options().api_versions.data
    }

    /// The data asset container (`GET {WS}/data/{name}`).
    pub async fn get_container(self, name: &str) -> Result<DataContainer, ArmError> {
        let op = format!("GET data/{name}");
        self.ws
            .arm()
            .send(
                ArmRequest::new(Method::Get, self.ws.url(&["data", name]), &op)
                    .api_version(self.version()),
            )
            .await
            .map_err(|e| match e.status() {
                Some(404) => e.with_hint(format!(
                    "no data asset `{name}` in workspace `{}`: register it first (`az ml data \
                     create`), or check the name",
                    self.ws.config().workspace_name
                )),
                _ => e,
            })?
            .json(&op)
    }

    /// The latest version of data asset `name` (the container's `latestVersion`, as
    /// Microsoft's SDK resolves `azureml:NAME@latest`).
    pub async fn latest_version(self, name: &str) -> Result<String, ArmError> {
        let container = self.get_container(name).await?;
        container
            .properties
            .latest_version
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ArmError::InvalidRequest {
                operation: format!("GET data/{name}"),
                message: format!(
                    "data asset `{name}` has no versions yet; register one or name a version \
                     (`azureml:{name}:VERSION`)"
                ),
            })
    }
}
