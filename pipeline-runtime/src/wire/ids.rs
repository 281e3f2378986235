//! Every ARM id, datastore URI and upload URI the house writes, built here and nowhere else.
//!
//! * ARM ids (`/subscriptions/…/workspaces/WS/computes/NAME`, …) come from a [`WorkspaceScope`];
//!   exported without a workspace, the scope holds `{subscription_id}`-style placeholders.
//! * Datastore URIs are `azureml://datastores/NAME/paths/PATH` ([`datastore_uri`]).
//! * Local inputs are uploaded to `LocalUpload/<object hash>/<name>` on the workspace's default
//!   datastore ([`LocalUpload`]); a folder's URI ends in `/`, as Microsoft's SDK writes it.
//! * Data-asset references (`azureml:NAME:VERSION`, `azureml:NAME@latest`) are parsed by
//!   [`DataAssetRef`] and sent as the data version's ARM id, as the SDK does.

/// The workspace ARM ids point into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceScope {
    /// Subscription id.
    pub subscription_id: String,
    /// Resource group.
    pub resource_group: String,
    /// Workspace name.
    pub workspace_name: String,
}

impl Default for WorkspaceScope {
    /// Placeholders, for exporting without a workspace.
    fn default() -> Self {
        WorkspaceScope {
            subscription_id: "{subscription_id}".to_owned(),
            resource_group: "{resource_group}".to_owned(),
            workspace_name: "{workspace_name}".to_owned(),
        }
    }
}

impl WorkspaceScope {
    /// `/subscriptions/…/workspaces/NAME`.
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
            self.subscription_id, self.resource_group, self.workspace_name
        )
    }

    /// The ARM id of a resource below the workspace (`computes/NAME`, …).
    pub fn resource_id(&self, path: &str) -> String {
        format!("{}/{path}", self.id())
    }

    /// ARM id of a compute.
    pub fn compute_id(&self, name: &str) -> String {
        self.resource_id(&format!("computes/{name}"))
    }

    /// ARM id of a datastore.
    pub fn datastore_id(&self, name: &str) -> String {
        self.resource_id(&format!("datastores/{name}"))
    }

    /// ARM id of a component version.
    pub fn component_version_id(&self, name: &str, version: &str) -> String {
        self.resource_id(&component_version_path(name, version))
    }

    /// ARM id of a data asset version (`…/data/NAME/versions/VERSION`).
    pub fn data_version_id(&self, name: &str, version: &str) -> String {
        self.resource_id(&format!("data/{name}/versions/{version}"))
    }

    /// ARM id of a code asset version.
    pub fn code_version_id(&self, name: &str, version: &str) -> String {
        self.resource_id(&format!("codes/{name}/versions/{version}"))
    }

    /// ARM id of the code asset we register for a snapshot with this content hash: the name is
    /// derived from the hash, so the same snapshot always maps to the same asset.
    pub fn code_id_for_hash(&self, content_hash: &str) -> String {
        self.code_version_id(&code_name_for_hash(content_hash), CODE_VERSION)
    }

    /// ARM id of a job (`{job_name}` when exporting before the name is chosen).
    pub fn job_id(&self, name: &str) -> String {
        self.resource_id(&format!("jobs/{name}"))
    }
}

/// The code asset version we register (names are per content hash, so one version suffices).
pub const CODE_VERSION: &str = "1";

/// `components/NAME/versions/VERSION`, the path of a component version below the workspace.
pub fn component_version_path(name: &str, version: &str) -> String {
    format!("components/{name}/versions/{version}")
}

/// The code asset name for a snapshot content hash (a UUID made of its first 32 hex digits).
pub fn code_name_for_hash(content_hash: &str) -> String {
    let padded = format!("{content_hash:0<32}");
    super::to_rest::uuid_from_hex(&padded)
}

/// `azureml://datastores/NAME/paths/PATH`.
pub fn datastore_uri(datastore: &str, path: &str) -> String {
    format!("azureml://datastores/{datastore}/paths/{path}")
}

/// Where a local file or folder is uploaded: `LocalUpload/<object hash>/…` on a datastore, as
/// Microsoft's SDK does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUpload {
    /// The datastore (the workspace's default one).
    pub datastore: String,
    /// The object hash of the file or folder ([`crate::snapshot::object_hash`]).
    pub hash: String,
    /// The file or folder name.
    pub name: String,
    /// Whether it is a folder.
    pub is_dir: bool,
}

impl LocalUpload {
    /// The blob prefix the files go under: `LocalUpload/<hash>/<name>` for a folder (its files
    /// below it), `LocalUpload/<hash>` for a file (the file itself is `<prefix>/<name>`).
    pub fn blob_prefix(&self) -> String {
        if self.is_dir {
            format!("LocalUpload/{}/{}", self.hash, self.name)
        } else {
            format!("LocalUpload/{}", self.hash)
        }
    }

    /// The input's URI: `azureml://datastores/DS/paths/LocalUpload/<hash>/<name>`, with a
    /// trailing `/` for a folder (what the SDK sends for a `uri_folder`).
    pub fn uri(&self) -> String {
        let path = format!("LocalUpload/{}/{}", self.hash, self.name);
        let mut uri = datastore_uri(&self.datastore, &path);
        if self.is_dir {
            uri.push('/');
        }
        uri
    }
}

/// The default location of a pipeline job output on a datastore:
/// `azureml://datastores/DS/paths/azureml/{job}/{output}/`.
pub fn job_output_uri(datastore: &str, job: &str, output: &str) -> String {
    datastore_uri(datastore, &format!("azureml/{job}/{output}/"))
}

/// A reference to a registered data asset, as a user writes it in an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataAssetRef {
    /// The asset name.
    pub name: String,
    /// The version; `None` for `@latest`.
    pub version: Option<String>,
}

impl DataAssetRef {
    /// Parses `azureml:NAME:VERSION` or `azureml:NAME@latest`; anything else (an
    /// `azureml://` URI, an ARM id, a URL) is not a data-asset reference.
    pub fn parse(text: &str) -> Option<DataAssetRef> {
        let rest = text.strip_prefix("azureml:")?;
        if rest.starts_with('/') {
            return None;
        }
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        if let Some(name) = rest.strip_suffix("@latest") {
            return ok(name).then(|| DataAssetRef {
                name: name.to_owned(),
                version: None,
            });
        }
        let (name, version) = rest.split_once(':')?;
        (ok(name) && ok(version)).then(|| DataAssetRef {
            name: name.to_owned(),
            version: Some(version.to_owned()),
        })
    }
}

/// The version placeholder an exported `azureml:NAME@latest` gets when no workspace resolved it.
pub const LATEST_PLACEHOLDER: &str = "{latest}";

/// Whether `name` is a valid Azure ML asset or experiment name: 1 to 255 letters, digits, `_` or
/// `-`, starting with a letter or a digit.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_end_in_a_slash_files_do_not() {
        let mut up = LocalUpload {
            datastore: "store".into(),
            hash: "abc".into(),
            name: "data".into(),
            is_dir: true,
        };
        assert_eq!(
            up.uri(),
            "azureml://datastores/store/paths/LocalUpload/abc/data/"
        );
        assert_eq!(up.blob_prefix(), "LocalUpload/abc/data");
        up.is_dir = false;
        assert_eq!(
            up.uri(),
            "azureml://datastores/store/paths/LocalUpload/abc/data"
        );
        assert_eq!(up.blob_prefix(), "LocalUpload/abc");
    }

    #[test]
    fn data_asset_references() {
        assert_eq!(
            DataAssetRef::parse("azureml:iris:3"),
            Some(DataAssetRef {
                name: "iris".into(),
                version: Some("3".into())
            })
        );
        assert_eq!(
            DataAssetRef::parse("azureml:iris@latest"),
            Some(DataAssetRef {
                name: "iris".into(),
                version: None
            })
        );
        for not in [
            "azureml://datastores/a/paths/b",
            "azureml:/subscriptions/x",
            "azureml:iris",
            "azureml::1",
            "https://x/y",
            "azureml:ir is:1",
        ] {
            assert_eq!(DataAssetRef::parse(not), None, "{not}");
        }
        assert_eq!(
            WorkspaceScope::default().data_version_id("iris", "3"),
            "/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.MachineLearningServices/workspaces/{workspace_name}/data/iris/versions/3"
        );
    }
}
