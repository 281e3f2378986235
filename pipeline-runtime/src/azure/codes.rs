//! Code assets: the uploaded snapshot of a step's source folder.
//!
//! The flow (as the Python SDK does it): look up an existing version by content hash
//! ([`Codes::find_by_hash`]); if none, ask for an upload location ([`Codes::start_pending_upload`]),
//! upload the files there with the SAS URL (the blob room), then register the version
//! ([`Codes::create_or_update`]) with the hash in `properties.properties`.

use std::collections::BTreeMap;

use azure_core::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::arm::{ArmError, ArmRequest};
use super::secret::SasUrl;
use super::workspace::Workspace;

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

/// Where to upload a snapshot: the answer of `startPendingUpload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    /// The upload id.
    pub pending_upload_id: Option<String>,
    /// The container URL (no credential).
    pub blob_uri: String,
    /// The container URL with a SAS granting read, write and list (redacted when shown).
    pub sas_uri: SasUrl,
    /// ARM id of the storage account.
    pub storage_account_arm_id: Option<String>,
}

#[derive(Deserialize)]
struct PendingUploadResponse {
    #[serde(rename = "pendingUploadId", default)]
    pending_upload_id: Option<String>,
    #[serde(rename = "blobReferenceForConsumption")]
    blob_reference: BlobReference,
}

#[derive(Deserialize)]
struct BlobReference {
    #[serde(rename = "blobUri")]
    blob_uri: String,
    #[serde(rename = "storageAccountArmId", default)]
    storage_account_arm_id: Option<String>,
    credential: PendingUploadCredential,
}

#[derive(Deserialize)]
struct PendingUploadCredential {
    #[serde(rename = "sasUri")]
    sas_uri: SasUrl,
}

/// Code asset operations of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct Codes<'a> {
    ws: &'a Workspace,
}

impl<'a> Codes<'a> {
    pub(crate) fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    fn version(self) -> &'a str {
        &self.ws.arm().options().api_versions.codes
    }

    /// A code version with this content hash, if the workspace has one
    /// (`GET {WS}/codes/{name}/versions?hash=…&hashVersion=202208`; the service matches the hash
    /// across names, so `name` may be the fresh name about to be created).
    pub async fn find_by_hash(
        self,
        name: &str,
        hash_sha256: &str,
    ) -> Result<Option<CodeVersion>, ArmError> {
        let mut url = self.ws.url(&["codes", name, "versions"]);
        url.query_pairs_mut()
            .append_pair("hash", hash_sha256)
            .append_pair("hashVersion", HASH_VERSION);
        let op = format!("find code by hash {hash_sha256}");
        let found: Vec<CodeVersion> = match self.ws.arm().list_all(url, self.version(), &op).await {
            Err(e) if e.status() == Some(404) => return Ok(None),
            other => other?,
        };
        Ok(found
            .into_iter()
            .find(|c| c.hash().is_none_or(|h| h.eq_ignore_ascii_case(hash_sha256))))
    }

    /// Asks for a temporary blob container to upload a snapshot to
    /// (`POST …/versions/{version}/startPendingUpload`).
    pub async fn start_pending_upload(
        self,
        name: &str,
        version: &str,
    ) -> Result<PendingUpload, ArmError> {
        let op = format!("POST codes/{name}/versions/{version}/startPendingUpload");
        let answer: PendingUploadResponse = self
            .ws
            .arm()
            .send(
                ArmRequest::new(
                    Method::Post,
                    self.ws
                        .url(&["codes", name, "versions", version, "startPendingUpload"]),
                    &op,
                )
                .api_version(self.version())
                .json(json!({"pendingUploadType": "TemporaryBlobReference"})),
            )
            .await?
            .json(&op)?;
        Ok(PendingUpload {
            pending_upload_id: answer.pending_upload_id,
            blob_uri: answer.blob_reference.blob_uri,
            sas_uri: answer.blob_reference.credential.sas_uri,
            storage_account_arm_id: answer.blob_reference.storage_account_arm_id,
        })
    }

    /// Registers a code version (`PUT {WS}/codes/{name}/versions/{version}`), recording the
    /// content hash as `properties.properties.hash_sha256` / `hash_version`.
    pub async fn create_or_update(
        self,
        name: &str,
        version: &str,
        code_uri: &str,
        hash_sha256: &str,
        is_anonymous: bool,
    ) -> Result<CodeVersion, ArmError> {
        let op = format!("PUT codes/{name}/versions/{version}");
        let body = json!({"properties": {
            "codeUri": code_uri,
            "isAnonymous": is_anonymous,
            "properties": {"hash_sha256": hash_sha256, "hash_version": HASH_VERSION},
        }});
        self.ws
            .arm()
            .send(
                ArmRequest::new(
                    Method::Put,
                    self.ws.url(&["codes", name, "versions", version]),
                    &op,
                )
                .api_version(self.version())
                .json(body),
            )
            .await?
            .json(&op)
    }

    /// One code version.
    pub async fn get(self, name: &str, version: &str) -> Result<CodeVersion, ArmError> {
        let op = format!("GET codes/{name}/versions/{version}");
        self.ws
            .arm()
            .get_json(
                self.ws.url(&["codes", name, "versions", version]),
                self.version(),
                &op,
            )
            .await
    }
}
