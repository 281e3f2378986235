//! Code assets: the uploaded snapshot of a step's source folder.
//!
//! The flow (as the Python SDK does it): look up an existing version by content hash
//! ([`Codes::find_by_hash`]); if none, ask for an upload location ([`Codes::start_pending_upload`]),
//! upload the files there with the SAS URL (the blob room), then register the version
//! ([`Codes::create_or_update`]) with the hash in `properties.properties`.

use azure_core::http::Method;

use super::arm::{ArmError, ArmRequest};
use super::secret::SasUrl;
use super::workspace::Workspace;
pub use crate::wire::rest::{CodeVersion, CodeVersionProperties, HASH_VERSION};
use crate::wire::rest::{CodeVersionBody, PendingUploadRequest, PendingUploadResponse};

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
        let answer: PendingUploadResponse<SasUrl> = self
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
                .json(body(&PendingUploadRequest::default(), &op)?),
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
        let body = body(
            &CodeVersionBody {
                properties: CodeVersionProperties::snapshot(code_uri, hash_sha256, is_anonymous),
            },
            &op,
        )?;
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

fn body(value: &impl serde::Serialize, op: &str) -> Result<serde_json::Value, ArmError> {
    crate::wire::to_json_value(value, op).map_err(|message| ArmError::InvalidRequest {
        operation: op.to_owned(),
        message,
    })
}
