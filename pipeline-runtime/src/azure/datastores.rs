//! Datastores: list, the default one, get, and their secrets (`listSecrets`).

use std::collections::BTreeMap;

use azure_core::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::arm::{ArmError, ArmRequest};
use super::secret::Secret;
use super::workspace::Workspace;

/// The datastore the Python SDK uses when none is named.
pub const DEFAULT_DATASTORE: &str = "workspaceblobstore";

/// A datastore resource (`{WS}/datastores/{name}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Datastore {
    /// ARM id.
    #[serde(default)]
    pub id: String,
    /// Datastore name.
    pub name: String,
    /// Properties.
    pub properties: DatastoreProperties,
}

/// `properties` of a [`Datastore`] (blob, ADLS Gen2 and file share fields).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatastoreProperties {
    /// `AzureBlob`, `AzureDataLakeGen1`, `AzureDataLakeGen2`, `AzureFile` or `OneLake`.
    #[serde(rename = "datastoreType")]
    pub datastore_type: String,
    /// Whether this is the workspace's default datastore (read-only).
    #[serde(rename = "isDefault", default)]
    pub is_default: bool,
    /// Storage account name.
    #[serde(
        rename = "accountName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub account_name: Option<String>,
    /// Blob container (AzureBlob).
    #[serde(
        rename = "containerName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub container_name: Option<String>,
    /// File system (AzureDataLakeGen2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<String>,
    /// File share (AzureFile).
    #[serde(
        rename = "fileShareName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub file_share_name: Option<String>,
    /// Storage endpoint suffix, e.g. `core.windows.net`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `https` (or `http` for emulators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// How the workspace authenticates to the storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<DatastoreCredentials>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// The kind of credential a datastore holds (the secret itself comes from
/// [`Datastores::list_secrets`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DatastoreCredentials {
    /// `AccountKey`, `Certificate`, `None`, `Sas` or `ServicePrincipal`.
    #[serde(rename = "credentialsType")]
    pub credentials_type: String,
}

impl Datastore {
    /// The blob container URL of an `AzureBlob` datastore,
    /// `{protocol}://{account}.blob.{endpoint}/{container}`.
    pub fn blob_container_url(&self) -> Option<String> {
        Some(format!(
            "{}/{}",
            self.blob_service_url()?,
            self.properties.container_name.as_deref()?
        ))
    }

    /// The blob service URL of an `AzureBlob` datastore, `{protocol}://{account}.blob.{endpoint}`.
    pub fn blob_service_url(&self) -> Option<String> {
        let p = &self.properties;
        if p.datastore_type != "AzureBlob" {
            return None;
        }
        Some(format!(
            "{}://{}.blob.{}",
            p.protocol.as_deref().unwrap_or("https"),
            p.account_name.as_deref()?,
            p.endpoint.as_deref().unwrap_or("core.windows.net"),
        ))
    }
}

/// A datastore's secret, by `secretsType`. Every variant redacts itself in `Debug`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "secretsType")]
pub enum DatastoreSecrets {
    /// A storage account key.
    AccountKey {
        /// The key.
        key: Secret,
    },
    /// A SAS token (query string).
    Sas {
        /// The SAS token.
        #[serde(rename = "sasToken")]
        sas_token: Secret,
    },
    /// A service principal's secret.
    ServicePrincipal {
        /// The client secret.
        #[serde(rename = "clientSecret")]
        client_secret: Secret,
    },
    /// A certificate.
    Certificate {
        /// The certificate.
        certificate: Secret,
    },
}

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
                .json(json!({"expirableSecret": true, "expireAfterHours": 1})),
            )
            .await?
            .json(&op)
    }
}
