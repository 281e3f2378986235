//! Datastores: list, the default one, get, and their secrets (`listSecrets`).

use azure_core::http::Method;

use super::arm::{ArmError, ArmRequest};
use super::secret::Secret;
use super::workspace::Workspace;
use crate::wire::rest::ListSecretsRequest;
pub use crate::wire::rest::{
    CredentialsType, DEFAULT_DATASTORE, Datastore, DatastoreCredentials, DatastoreProperties,
    DatastoreType,
};

/// A datastore's secret, by `secretsType`. Every variant redacts itself in `Debug`.
pub type DatastoreSecrets = crate::wire::rest::DatastoreSecrets<Secret>;

/// Datastore operations of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct Datastores<'a> {
    ws: &'a Workspace,
}

impl<'a> Datastores<'a> {
    pub(crate) fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    fn version(self) -> &'a str {
        &self.ws.arm().options().api_versions.datastores
    }

    /// All datastores (`GET {WS}/datastores`).
    pub async fn list(self) -> Result<Vec<Datastore>, ArmError> {
        self.ws
            .arm()
            .list_all(
                self.ws.url(&["datastores"]),
                self.version(),
                "list datastores",
            )
            .await
    }

    /// The workspace's default datastore (`GET {WS}/datastores?isDefault=true`, as the Python SDK
    /// does).
    pub async fn get_default(self) -> Result<Datastore, ArmError> {
        let mut url = self.ws.url(&["datastores"]);
        url.query_pairs_mut().append_pair("isDefault", "true");
        let op = "get default datastore";
        let found: Vec<Datastore> = self.ws.arm().list_all(url, self.version(), op).await?;
        found
            .into_iter()
            .find(|d| d.properties.is_default)
            .ok_or_else(|| ArmError::InvalidRequest {
                operation: op.to_owned(),
                message: format!(
                    "workspace `{}` has no default datastore; name one explicitly (usually \
                     `{DEFAULT_DATASTORE}`)",
                    self.ws.config().workspace_name
                ),
            })
    }

    /// One datastore by name.
    pub async fn get(self, name: &str) -> Result<Datastore, ArmError> {
        let op = format!("GET datastores/{name}");
        match self
            .ws
            .arm()
            .get_json(self.ws.url(&["datastores", name]), self.version(), &op)
            .await
        {
            Err(e) if e.status() == Some(404) => {
                let names = self
                    .list()
                    .await
                    .map(|all| {
                        all.into_iter()
                            .map(|d| d.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                Err(e.with_hint(format!(
                    "no datastore `{name}` in workspace `{}`; it has: {names}",
                    self.ws.config().workspace_name
                )))
            }
            other => other,
        }
    }

    /// The datastore's secret (`POST .../listSecrets` with
    /// `{"expirableSecret": true, "expireAfterHours": 1}`, as the Python SDK sends).
    pub async fn list_secrets(self, name: &str) -> Result<DatastoreSecrets, ArmError> {
        let op = format!("POST datastores/{name}/listSecrets");
        self.ws
            .arm()
            .send(
                ArmRequest::new(
                    Method::Post,
                    self.ws.url(&["datastores", name, "listSecrets"]),
                    &op,
                )
                .api_version(self.version())
                .json(
                    crate::wire::to_json_value(&ListSecretsRequest::default(), &op).map_err(
                        |message| ArmError::InvalidRequest {
                            operation: op.clone(),
                            message,
                        },
                    )?,
                ),
            )
            .await?
            .json(&op)
    }
}
