//! Data assets (`{WS}/data/{name}/versions/{version}`): register, list, show, archive and
//! restore versions (typed after [`crate::wire::data`]), upload local files for them as
//! Microsoft's SDK does, and resolve what a pipeline input `azureml:NAME@latest` stands for.
//!
//! Local files go to the workspace's default blob datastore under `LocalUpload/<object
//! hash>/<name>` (the SDK's legacy object hash of the file or folder), authorised by the
//! datastore's `listSecrets`; the first blob is marked `upload_status: completed` when all are
//! up, and an upload whose marker is found is skipped, so registering the same folder again
//! sends no file.

use std::path::Path;

use super::arm::{ArmError, ArmRequest};
use super::blob::{SnapshotMarker, SnapshotUpload, UploadOptions, UploadReport, files_under};
use super::submit::{SubmitError, datastore_uploader};
use super::workspace::Workspace;
use crate::wire::LocalUpload;
use crate::wire::data::DataVersion;
use crate::wire::rest::DataContainer;
use azure_core::http::Method;

/// Which versions a listing shows (`listViewType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListView {
    /// Versions not archived (the service's default).
    #[default]
    ActiveOnly,
    /// Archived versions only.
    ArchivedOnly,
    /// Every version.
    All,
}

impl ListView {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            ListView::ActiveOnly => "ActiveOnly",
            ListView::ArchivedOnly => "ArchivedOnly",
            ListView::All => "All",
        }
    }
}

/// Where a local file or folder was put for a data asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalData {
    /// `azureml://datastores/DS/paths/LocalUpload/<hash>/<name>` (a folder ends in `/`).
    pub uri: String,
    /// What was uploaded; `None` when an earlier upload of the same content was found.
    pub uploaded: Option<UploadReport>,
}

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

    /// Registers version `version` of data asset `name` (`PUT data/{name}/versions/{version}`).
    pub async fn create_version(
        self,
        name: &str,
        version: &str,
        body: &DataVersion,
    ) -> Result<DataVersion, ArmError> {
        let op = format!("PUT data/{name}/versions/{version}");
        let json = serde_json::to_value(body.for_put()).map_err(|e| ArmError::InvalidRequest {
            operation: op.clone(),
            message: format!("cannot write the body: {e}"),
        })?;
        self.ws
            .arm()
            .send(
                ArmRequest::new(
                    Method::Put,
                    self.ws.url(&["data", name, "versions", version]),
                    &op,
                )
                .api_version(self.version())
                .json(json),
            )
            .await?
            .json(&op)
    }

    /// One version (`GET data/{name}/versions/{version}`); `None` when it does not exist.
    pub async fn find_version(
        self,
        name: &str,
        version: &str,
    ) -> Result<Option<DataVersion>, ArmError> {
        let op = format!("GET data/{name}/versions/{version}");
        match self
            .ws
            .arm()
            .get_json(
                self.ws.url(&["data", name, "versions", version]),
                self.version(),
                &op,
            )
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One version; on 404 the hint lists the versions that exist.
    pub async fn get_version(self, name: &str, version: &str) -> Result<DataVersion, ArmError> {
        if let Some(v) = self.find_version(name, version).await? {
            return Ok(v);
        }
        let known = match self.list_versions(name, ListView::All).await {
            Ok(vs) if !vs.is_empty() => format!(
                "it has versions {}",
                vs.iter()
                    .filter_map(|v| v.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => format!("no data asset `{name}` exists: see `data list`"),
        };
        Err(ArmError::InvalidRequest {
            operation: format!("GET data/{name}/versions/{version}"),
            message: format!("no version `{version}` of data asset `{name}`; {known}"),
        })
    }

    /// The data asset containers of the workspace (`GET data`).
    pub async fn list(self) -> Result<Vec<DataContainer>, ArmError> {
        self.ws
            .arm()
            .list_all(self.ws.url(&["data"]), self.version(), "list data assets")
            .await
    }

    /// The versions of data asset `name`, newest first (`GET data/{name}/versions?$orderBy=
    /// createdtime desc&listViewType=…`).
    pub async fn list_versions(
        self,
        name: &str,
        view: ListView,
    ) -> Result<Vec<DataVersion>, ArmError> {
        let mut url = self.ws.url(&["data", name, "versions"]);
        url.query_pairs_mut()
            .append_pair("$orderBy", "createdtime desc")
            .append_pair("listViewType", view.as_str());
        self.ws
            .arm()
            .list_all(
                url,
                self.version(),
                &format!("list versions of data/{name}"),
            )
            .await
    }

    /// Archives (`true`) or restores (`false`) a version: GET it, PUT it back with
    /// `isArchived` changed. Returns whether anything changed.
    pub async fn set_archived(
        self,
        name: &str,
        version: &str,
        archived: bool,
    ) -> Result<bool, ArmError> {
        let mut v = self.get_version(name, version).await?;
        if v.properties.is_archived == archived {
            return Ok(false);
        }
        v.properties.is_archived = archived;
        self.create_version(name, version, &v).await?;
        Ok(true)
    }

    /// Uploads a local file or folder to the default datastore as Microsoft's SDK does
    /// (`LocalUpload/<object hash>/<name>`), skipping it when an earlier upload of the same
    /// content is marked complete. `what` names it in errors.
    pub async fn upload_local(
        self,
        path: &Path,
        what: &str,
        opts: &UploadOptions,
    ) -> Result<LocalData, SubmitError> {
        let store = self.ws.datastores().get_default().await?;
        let uploader = datastore_uploader(self.ws, &store).await?;
        let p = path.to_path_buf();
        let hash = tokio::task::spawn_blocking(move || crate::snapshot::object_hash(&p))
            .await
            .map_err(|e| SubmitError::Internal(format!("hashing {what}: {e}")))?
            .map_err(|source| SubmitError::Data {
                input: what.to_owned(),
                path: path.to_path_buf(),
                source,
            })?;
        let target = LocalUpload {
            datastore: store.name.clone(),
            hash: hash.clone(),
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "data".to_owned()),
            is_dir: path.is_dir(),
        };
        let upload_err = |source| SubmitError::Upload {
            what: what.to_owned(),
            source,
        };
        let files = files_under(path, &target.blob_prefix())
            .await
            .map_err(upload_err)?;
        let marker = SnapshotMarker {
            name: "LocalUpload".to_owned(),
            version: hash,
        };
        let uploaded = match uploader
            .upload_snapshot(&files, &marker, opts)
            .await
            .map_err(upload_err)?
        {
            SnapshotUpload::Uploaded(r) => Some(r),
            SnapshotUpload::AlreadyUploaded(_) => None,
        };
        Ok(LocalData {
            uri: target.uri(),
            uploaded,
        })
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
                    "no data asset `{name}` in workspace `{}`: register it first (`data create \
                     {name} --version 1 --type uri_folder --path PATH --azure`), or check the name",
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
