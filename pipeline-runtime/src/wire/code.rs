//! Code assets (`{WS}/codes/{name}/versions/{version}`): the version resource, the body that
//! registers one, and `startPendingUpload`'s request and answer.
//!
//! The upload credential's type is a parameter (`S`): the I/O room reads it into its redacting
//! SAS-URL type, so the wire room never holds a secret in a type of its own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The content-hash algorithm version the Python SDK sends (`hashVersion`, `hash_version`).
pub const HASH_VERSION: &str = "202208";

/// A code version resource (`{WS}/codes/{name}/versions/{version}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeVersion {
    /// ARM id, `…/codes/{name}/versions/{version}`.
    #[serde(default)]
    pub id: String,
    /// The version.
    #[serde(default)]
    pub name: String,
    /// Properties.
    pub properties: CodeVersionProperties,
}

/// `properties` of a [`CodeVersion`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CodeVersionProperties {
    /// Where the files are: the uploaded folder's URL.
    #[serde(rename = "codeUri", default, skip_serializing_if = "Option::is_none")]
    pub code_uri: Option<String>,
    /// Anonymous (unnamed) asset.
    #[serde(rename = "isAnonymous", default)]
    pub is_anonymous: bool,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Asset properties; `hash_sha256` and `hash_version` identify the content.
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

impl CodeVersion {
    /// `(name, version)` parsed from the ARM id (`…/codes/{name}/versions/{version}`).
    pub fn name_and_version(&self) -> Option<(&str, &str)> {
        let rest = &self.id[self.id.find("/codes/")? + "/codes/".len()..];
        let (name, rest) = rest.split_once("/versions/")?;
        Some((name, rest.split('/').next()?))
    }

    /// The content hash recorded on the asset.
    pub fn hash(&self) -> Option<&str> {
        self.properties
            .properties
            .get("hash_sha256")
            .map(String::as_str)
    }
}

impl CodeVersionProperties {
    /// The properties registering an uploaded snapshot: where it is and its content hash
    /// (`hash_sha256`, `hash_version`), as the Python SDK records them.
    pub fn snapshot(code_uri: &str, hash_sha256: &str, is_anonymous: bool) -> Self {
        Self {
            code_uri: Some(code_uri.to_owned()),
            is_anonymous,
            properties: BTreeMap::from([
                ("hash_sha256".to_owned(), hash_sha256.to_owned()),
                ("hash_version".to_owned(), HASH_VERSION.to_owned()),
            ]),
            ..Self::default()
        }
    }
}

/// `PUT {WS}/codes/{name}/versions/{version}` body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeVersionBody {
    /// Properties.
    pub properties: CodeVersionProperties,
}

/// `POST …/codes/{name}/versions/{version}/startPendingUpload` body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingUploadRequest {
    /// The kind of upload location asked for.
    #[serde(rename = "pendingUploadType")]
    pub pending_upload_type: PendingUploadType,
}

impl Default for PendingUploadRequest {
    fn default() -> Self {
        Self {
            pending_upload_type: PendingUploadType::TemporaryBlobReference,
        }
    }
}

/// `PendingUploadType`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum PendingUploadType {
    /// A temporary blob container with a SAS.
    TemporaryBlobReference,
    /// No upload.
    None,
}

/// The answer of `startPendingUpload`; `S` is the SAS-URL type the reader redacts with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PendingUploadResponse<S> {
    /// The upload id.
    #[serde(
        rename = "pendingUploadId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pending_upload_id: Option<String>,
    /// Where to upload.
    #[serde(rename = "blobReferenceForConsumption")]
    pub blob_reference: BlobReference<S>,
}

/// `blobReferenceForConsumption` of a [`PendingUploadResponse`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlobReference<S> {
    /// The container URL (no credential).
    #[serde(rename = "blobUri")]
    pub blob_uri: String,
    /// ARM id of the storage account.
    #[serde(
        rename = "storageAccountArmId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub storage_account_arm_id: Option<String>,
    /// The credential.
    pub credential: PendingUploadCredential<S>,
}

/// `credential` of a [`BlobReference`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PendingUploadCredential<S> {
    /// The container URL with a SAS.
    #[serde(rename = "sasUri")]
    pub sas_uri: S,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_body_records_the_hash_as_the_sdk_does() {
        let body = CodeVersionBody {
            properties: CodeVersionProperties::snapshot("https://a/b", "abc", true),
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"properties":{"codeUri":"https://a/b","isAnonymous":true,"properties":{"hash_sha256":"abc","hash_version":"202208"}}}"#
        );
        assert_eq!(
            serde_json::to_string(&PendingUploadRequest::default()).unwrap(),
            r#"{"pendingUploadType":"TemporaryBlobReference"}"#
        );
    }
}
