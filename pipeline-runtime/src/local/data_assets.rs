//! The local workspace's data assets: what `data create` without `--azure` registers, so that
//! `--input iris=azureml:iris:1` (or `azureml:iris@latest`) runs locally as it does on Azure.
//!
//! ```text
//! .azureml-local/
//!   data_assets.json                     the registry: every version of every asset
//!   data_assets/<name>/<version>/…       the files of a version registered from a local path
//!                                        (a copy: a version never changes), or the folder of
//!                                        an MLTable (its `MLTable` file and the files it reads)
//! ```
//!
//! A version registered from `azureml://datastores/DS/paths/P` points into the local datastore
//! `DS`, as on Azure it points into the workspace's datastore. The registry is a small JSON file
//! rather than a table of the run store: it is read by a person as often as by the program,
//! and it is written only by `data create|archive|restore`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::LocalError;
use super::workspace::Workspace;
use crate::wire::DataAssetRef;
use crate::wire::data::DataType;

const REGISTRY: &str = "data_assets.json";
const FILES: &str = "data_assets";

/// One version of a local data asset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LocalDataVersion {
    /// The asset.
    pub name: String,
    /// The version.
    pub version: String,
    /// `uri_file`, `uri_folder` or `mltable`.
    pub data_type: DataType,
    /// Where the data is: a path relative to the workspace folder (a registered copy), or an
    /// `azureml://datastores/…` URI.
    pub location: String,
    /// What it was registered from (a local path or a URI), for `data show`.
    pub source: String,
    /// The object hash of what was registered from a local path (tells a repeated `data create`
    /// from a conflicting one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Archived versions are hidden from `data list` and from `@latest`.
    #[serde(default)]
    pub archived: bool,
    /// Registration order (for `@latest`: the most recently created version).
    pub created: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Registry {
    versions: Vec<LocalDataVersion>,
}

/// The data assets of a local [`Workspace`].
#[derive(Debug, Clone)]
pub struct LocalDataAssets {
    root: PathBuf,
}

impl LocalDataAssets {
    /// The data assets of `ws`.
    pub fn new(ws: &Workspace) -> Self {
        Self {
            root: ws.root().to_path_buf(),
        }
    }

    fn read(&self) -> Result<Registry, LocalError> {
        let path = self.root.join(REGISTRY);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                LocalError::io(
                    "read",
                    &path,
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Registry::default()),
            Err(e) => Err(LocalError::io("read", &path, e)),
        }
    }

    fn write(&self, registry: &Registry) -> Result<(), LocalError> {
        let path = self.root.join(REGISTRY);
        let tmp = self.root.join(format!("{REGISTRY}.tmp"));
        let text = serde_json::to_string_pretty(registry).unwrap_or_default();
        std::fs::write(&tmp, text).map_err(|e| LocalError::io("write", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| LocalError::io("write", &path, e))
    }

    /// Every version of every asset, archived ones included, in registration order.
    pub fn all(&self) -> Result<Vec<LocalDataVersion>, LocalError> {
        Ok(self.read()?.versions)
    }

    /// The versions of `name`, newest first.
    pub fn versions(&self, name: &str) -> Result<Vec<LocalDataVersion>, LocalError> {
        let mut v: Vec<_> = self.all()?.into_iter().filter(|v| v.name == name).collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.created));
        Ok(v)
    }

    /// One version.
    pub fn get(&self, name: &str, version: &str) -> Result<Option<LocalDataVersion>, LocalError> {
        Ok(self
            .all()?
            .into_iter()
            .find(|v| v.name == name && v.version == version))
    }

    /// The newest version not archived.
    pub fn latest(&self, name: &str) -> Result<Option<LocalDataVersion>, LocalError> {
        Ok(self.versions(name)?.into_iter().find(|v| !v.archived))
    }

    /// The folder a version registered from local files is copied into.
    pub fn files_dir(&self, name: &str, version: &str) -> PathBuf {
        self.root.join(FILES).join(name).join(version)
    }

    /// Registers a version whose files were copied to [`Self::files_dir`] (`location` relative
    /// to the workspace) or that points at a datastore URI. The caller checks first that the
    /// version does not exist.
    pub fn insert(&self, mut version: LocalDataVersion) -> Result<LocalDataVersion, LocalError> {
        let mut registry = self.read()?;
        version.created = registry
            .versions
            .iter()
            .map(|v| v.created)
            .max()
            .map_or(1, |c| c + 1);
        registry
            .versions
            .retain(|v| !(v.name == version.name && v.version == version.version));
        registry.versions.push(version.clone());
        self.write(&registry)?;
        Ok(version)
    }

    /// Archives or restores a version: `Some(true)` when it changed, `Some(false)` when it
    /// already was so, `None` when there is no such version.
    pub fn set_archived(
        &self,
        name: &str,
        version: &str,
        archived: bool,
    ) -> Result<Option<bool>, LocalError> {
        let mut registry = self.read()?;
        let Some(v) = registry
            .versions
            .iter_mut()
            .find(|v| v.name == name && v.version == version)
        else {
            return Ok(None);
        };
        if v.archived == archived {
            return Ok(Some(false));
        }
        v.archived = archived;
        self.write(&registry)?;
        Ok(Some(true))
    }

    /// The local path of a version: its copy in the workspace, or the datastore path its URI
    /// names. An MLTable is its folder.
    pub fn path_of(&self, ws: &Workspace, v: &LocalDataVersion) -> Result<PathBuf, LocalError> {
        if v.location.starts_with("azureml://") {
            ws.resolve_uri(&v.location, &v.name)
        } else {
            Ok(self.root.join(&v.location))
        }
    }
}

/// Resolves `azureml:NAME:VERSION` or `azureml:NAME@latest` (input `input`) to the local path
/// of the registered version; what is missing is named with what exists and how to register it.
pub fn resolve(ws: &Workspace, uri: &str, input: &str) -> Result<PathBuf, LocalError> {
    let unsupported = |hint: String| LocalError::UnsupportedUri {
        input: input.to_owned(),
        uri: uri.to_owned(),
        hint,
    };
    let Some(asset) = DataAssetRef::parse(uri) else {
        return Err(unsupported(
            "write a data asset as `azureml:NAME:VERSION` or `azureml:NAME@latest`".into(),
        ));
    };
    let assets = LocalDataAssets::new(ws);
    let found = match &asset.version {
        Some(v) => assets.get(&asset.name, v)?,
        None => assets.latest(&asset.name)?,
    };
    match found {
        Some(v) => assets.path_of(ws, &v),
        None => {
            let known = assets.versions(&asset.name)?;
            let hint = if known.is_empty() {
                format!(
                    "no data asset `{}` in the local workspace {}; register it with `data create \
                     {} --version 1 --type uri_folder --path PATH` (add `--azure` for the Azure \
                     ML workspace)",
                    asset.name,
                    ws.root().display(),
                    asset.name
                )
            } else {
                format!(
                    "the local workspace has versions {} of `{}`{}",
                    known
                        .iter()
                        .map(|v| format!(
                            "{}{}",
                            v.version,
                            if v.archived { " (archived)" } else { "" }
                        ))
                        .collect::<Vec<_>>()
                        .join(", "),
                    asset.name,
                    if asset.version.is_none() {
                        "; every one is archived: `data restore` one"
                    } else {
                        ""
                    }
                )
            };
            Err(unsupported(hint))
        }
    }
}

/// Copies a file or folder to `to` (created; a file keeps its name inside it).
pub fn copy_into(from: &Path, to: &Path) -> Result<(), LocalError> {
    std::fs::create_dir_all(to).map_err(|e| LocalError::io("create", to, e))?;
    let name = from.file_name().map(PathBuf::from).unwrap_or_default();
    if from.is_file() {
        let dest = to.join(&name);
        std::fs::copy(from, &dest).map_err(|e| LocalError::io("copy", from, e))?;
        return Ok(());
    }
    for entry in walkdir::WalkDir::new(from).follow_links(true) {
        let entry = entry
            .map_err(|e| LocalError::io("read", from, std::io::Error::other(e.to_string())))?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(&name).join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).map_err(|e| LocalError::io("create", &dest, e))?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .map_err(|e| LocalError::io("copy", entry.path(), e))?;
        }
    }
    Ok(())
}

/// Whether file name `name` matches glob `pattern` (`*`, `?`; no `/`).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str, v: &str) -> LocalDataVersion {
        LocalDataVersion {
            name: name.into(),
            version: v.into(),
            data_type: DataType::UriFile,
            location: format!("data_assets/{name}/{v}/iris.csv"),
            source: "iris.csv".into(),
            hash: None,
            description: None,
            archived: false,
            created: 0,
        }
    }

    #[test]
    fn latest_is_the_newest_version_not_archived() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        let assets = LocalDataAssets::new(&ws);
        assets.insert(version("iris", "1")).unwrap();
        assets.insert(version("iris", "2")).unwrap();
        assert_eq!(assets.latest("iris").unwrap().unwrap().version, "2");
        assert_eq!(assets.set_archived("iris", "2", true).unwrap(), Some(true));
        assert_eq!(assets.set_archived("iris", "2", true).unwrap(), Some(false));
        assert_eq!(assets.latest("iris").unwrap().unwrap().version, "1");
        let p = resolve(&ws, "azureml:iris@latest", "iris").unwrap();
        assert!(
            p.ends_with("data_assets/iris/1/iris.csv"),
            "{}",
            p.display()
        );
        let err = resolve(&ws, "azureml:iris:3", "iris")
            .unwrap_err()
            .to_string();
        assert!(err.contains("versions 2 (archived), 1 of `iris`"), "{err}");
        let err = resolve(&ws, "azureml:wine:1", "w").unwrap_err().to_string();
        assert!(err.contains("data create wine --version 1"), "{err}");
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.csv", "a.csv"));
        assert!(glob_match("part-?.csv", "part-1.csv"));
        assert!(!glob_match("*.csv", "a.txt"));
        assert!(glob_match("*", ""));
    }
}
