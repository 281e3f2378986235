//! Datastores (`{WS}/datastores/{name}`): the resource, its kinds, and `listSecrets`.
//!
//! The secret's type is a parameter (`S`): the I/O room reads it into its redacting secret type,
//! so the wire room never holds a secret in a type of its own.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

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
    /// The discriminator.
    #[serde(rename = "datastoreType")]
    pub datastore_type: DatastoreType,
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
/// `listSecrets`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DatastoreCredentials {
    /// The discriminator.
    #[serde(rename = "credentialsType")]
    pub credentials_type: CredentialsType,
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
        if p.datastore_type != DatastoreType::AzureBlob {
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

/// A datastore's secret, by `secretsType`; `S` is the secret type the reader redacts with.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "secretsType")]
pub enum DatastoreSecrets<S> {
    /// A storage account key.
    AccountKey {
        /// The key.
        key: S,
    },
    /// A SAS token (query string).
    Sas {
        /// The SAS token.
        #[serde(rename = "sasToken")]
        sas_token: S,
    },
    /// A service principal's secret.
    ServicePrincipal {
        /// The client secret.
        #[serde(rename = "clientSecret")]
        client_secret: S,
    },
    /// A certificate.
    Certificate {
        /// The certificate.
        certificate: S,
    },
}

/// `datastoreType`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum DatastoreType {
    AzureBlob,
    AzureDataLakeGen1,
    AzureDataLakeGen2,
    AzureFile,
    OneLake,
    /// A kind this client does not know (read from an answer; never sent).
    #[serde(other)]
    Unknown,
}

impl DatastoreType {
    /// The name as the REST API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AzureBlob => "AzureBlob",
            Self::AzureDataLakeGen1 => "AzureDataLakeGen1",
            Self::AzureDataLakeGen2 => "AzureDataLakeGen2",
            Self::AzureFile => "AzureFile",
            Self::OneLake => "OneLake",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for DatastoreType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// `credentialsType`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CredentialsType {
    AccountKey,
    Certificate,
    None,
    Sas,
    ServicePrincipal,
    /// A kind this client does not know (read from an answer; never sent).
    #[serde(other)]
    Unknown,
}

/// `POST {WS}/datastores/{name}/listSecrets` body: a secret that expires, as the Python SDK asks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ListSecretsRequest {
    /// Ask for an expiring secret.
    #[serde(rename = "expirableSecret")]
    pub expirable_secret: bool,
    /// Hours until it expires.
    #[serde(rename = "expireAfterHours")]
    pub expire_after_hours: u32,
}

impl Default for ListSecretsRequest {
    fn default() -> Self {
        Self {
            expirable_secret: true,
            expire_after_hours: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_enums_and_print_padded() {
        let d: Datastore = serde_json::from_value(serde_json::json!({
            "name": "files",
            "properties": {"datastoreType": "AzureFile", "credentials": {"credentialsType": "Sas"}}
        }))
        .unwrap();
        assert_eq!(d.properties.datastore_type, DatastoreType::AzureFile);
        assert_eq!(
            d.properties.credentials.unwrap().credentials_type,
            CredentialsType::Sas
        );
        assert_eq!(
            format!("[{:<11}]", DatastoreType::AzureBlob),
            "[AzureBlob  ]"
        );
        let other: DatastoreProperties =
            serde_json::from_str(r#"{"datastoreType": "Hdfs"}"#).unwrap();
        assert_eq!(other.datastore_type, DatastoreType::Unknown);
    }

    #[test]
    fn list_secrets_asks_for_an_expiring_secret() {
        assert_eq!(
            serde_json::to_string(&ListSecretsRequest::default()).unwrap(),
            r#"{"expirableSecret":true,"expireAfterHours":1}"#
        );
    }
}
