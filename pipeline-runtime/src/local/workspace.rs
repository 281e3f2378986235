//! The local workspace folder: datastores, the run store, logs and working copies.
//!
//! ```text
//! .azureml-local/
//!   runs.db                                   the run store (SQLite, WAL)
//!   datastores/workspaceblobstore/            the default datastore
//!     azureml/<run>/<node>/<output>/          sealed step outputs (the reuse cache)
//!     azureml/<run>/<node>/.tmp-<output>/     outputs being written (garbage if left behind)
//!   runs/<run>/logs/<node>.log                each step's stdout and stderr
//!   runs/<run>/steps/<node>/work/             the step's working copy of its snapshot
//!   runs/<run>/steps/<node>/inputs/<input>/   private copies (`download`) and read-only views
//!                                             (`ro_mount`, the default) of the step's inputs
//!   runs/<run>/bin/python                     `python` for the steps (a link to the interpreter)
//! ```

use std::path::{Path, PathBuf};

use super::error::LocalError;
use super::store::RunStore;

/// The datastore a local workspace always has, as on Azure ML.
pub const DEFAULT_DATASTORE: &str = "workspaceblobstore";

/// The environment variable that overrides the workspace folder.
pub const WORKSPACE_ENV: &str = "AZUREML_LOCAL_WORKSPACE";

/// The name of the workspace folder (see [`Workspace::locate`] for where it is looked for).
pub const DEFAULT_DIR: &str = ".azureml-local";

/// A local workspace folder.
#[derive(Clone, Debug)]
pub struct Workspace {
    root: PathBuf,
}

/// One file copied by [`Workspace::upload`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    /// The local file.
    pub from: PathBuf,
    /// Where it now is in the datastore.
    pub to: PathBuf,
    /// Its URI: `azureml://datastores/NAME/paths/P`.
    pub uri: String,
    /// Size in bytes.
    pub size: u64,
}

impl Workspace {
    /// The workspace folder to use, in this order:
    ///
    /// 1. `explicit` (a `--workspace` flag), else `$AZUREML_LOCAL_WORKSPACE`; relative paths are
    ///    taken relative to `cwd`;
    /// 2. the nearest `.azureml-local` folder in `cwd` or one of its parents, so a command run
    ///    from a sub-folder of a project finds the project's history;
    /// 3. `.azureml-local` in `project` (the folder of the crate that declares the pipeline)
    ///    when that folder exists, so `cargo run` from anywhere in the crate keeps one history;
    /// 4. `.azureml-local` in `cwd` (a pipeline binary shipped without its sources).
    pub fn locate(explicit: Option<&Path>, cwd: &Path, project: Option<&Path>) -> PathBuf {
        let env = std::env::var_os(WORKSPACE_ENV).map(PathBuf::from);
        Self::locate_with(explicit, env.as_deref(), cwd, project)
    }

    /// [`locate`](Self::locate) with the environment variable's value passed in.
    pub fn locate_with(
        explicit: Option<&Path>,
        env: Option<&Path>,
        cwd: &Path,
        project: Option<&Path>,
    ) -> PathBuf {
        if let Some(chosen) = explicit.or(env.filter(|v| !v.as_os_str().is_empty())) {
            return cwd.join(chosen);
        }
        if let Some(found) = cwd
            .ancestors()
            .map(|dir| dir.join(DEFAULT_DIR))
            .find(|candidate| candidate.is_dir())
        {
            return found;
        }
        match project.filter(|p| p.is_absolute() && p.is_dir()) {
            Some(project) => project.join(DEFAULT_DIR),
            None => cwd.join(DEFAULT_DIR),
        }
    }

    /// Opens the workspace at `dir` to read its history, creating nothing: `None` when no run
    /// was ever recorded there.
    pub fn open_existing(dir: impl AsRef<Path>) -> Option<Workspace> {
        let root = dir.as_ref();
        if !root.join("runs.db").is_file() {
            return None;
        }
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        Some(Workspace { root })
    }

    /// Opens the workspace at `dir`, creating it (with its default datastore) if needed.
    pub fn open(dir: impl AsRef<Path>) -> Result<Workspace, LocalError> {
        let root = dir.as_ref().to_path_buf();
        let store = root.join("datastores").join(DEFAULT_DATASTORE);
        std::fs::create_dir_all(&store).map_err(|e| LocalError::io("create", &store, e))?;
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        Ok(Workspace { root })
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Opens the run store.
    pub fn store(&self) -> Result<RunStore, LocalError> {
        RunStore::open(self.root.join("runs.db"))
    }

    /// Opens the run store to read the history, first closing the runs whose process died
    /// before they finished (killed with SIGKILL, a crash) the way the next `run` does: they
    /// and their unfinished steps are marked `Failed`, and their half-written outputs removed.
    /// So `runs list`, `runs show` and `graph --run` never show such a run as still running.
    pub fn history(&self) -> Result<RunStore, LocalError> {
        let store = self.store()?;
        self.close_abandoned_runs(&store)?;
        Ok(store)
    }

    /// Closes the runs whose process died before they finished; returns their ids.
    pub(crate) fn close_abandoned_runs(&self, store: &RunStore) -> Result<Vec<String>, LocalError> {
        let closed = store.close_abandoned_runs()?;
        for id in &closed {
            self.remove_unsealed(id);
        }
        Ok(closed)
    }

    /// The datastores (folders under `datastores/`), sorted.
    pub fn datastores(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root.join("datastores"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The folder of datastore `name`; `input` names what asked, for the error.
    pub fn datastore(&self, name: &str, input: &str) -> Result<PathBuf, LocalError> {
        let dir = self.root.join("datastores").join(name);
        if valid_name(name) && dir.is_dir() {
            return Ok(dir);
        }
        Err(LocalError::UnknownDatastore {
            input: input.to_owned(),
            datastore: name.to_owned(),
            workspace: self.root.clone(),
            known: self.datastores().join(", "),
        })
    }

    /// Resolves a data URI to a local path: `azureml://datastores/NAME/paths/P` → the file or
    /// folder `P` in datastore `NAME`. Other URIs cannot be read locally.
    pub fn resolve_uri(&self, uri: &str, input: &str) -> Result<PathBuf, LocalError> {
        let unsupported = |hint: &str| LocalError::UnsupportedUri {
            input: input.to_owned(),
            uri: uri.to_owned(),
            hint: hint.to_owned(),
        };
        if let Some(rest) = uri.strip_prefix("azureml://datastores/") {
            let (name, path) = rest
                .split_once("/paths/")
                .ok_or_else(|| unsupported("write it as `azureml://datastores/NAME/paths/PATH`"))?;
            let base = self.datastore(name, input)?;
            let path = path.trim_start_matches('/');
            if path.split('/').any(|c| c == "..") {
                return Err(unsupported("a datastore path cannot contain `..`"));
            }
            return Ok(base.join(path));
        }
        if uri.starts_with("azureml:") {
            return super::data_assets::resolve(self, uri, input);
        }
        Err(unsupported(
            "a local run reads local files only; download the data and pass `--input NAME=PATH`",
        ))
    }

    /// Copies local files or folders into `datastore` under `target_path` (the seed's
    /// `upload_files` / `upload`). Existing files are kept unless `overwrite`.
    pub fn upload(
        &self,
        sources: &[PathBuf],
        datastore: &str,
        target_path: &str,
        overwrite: bool,
    ) -> Result<Vec<Uploaded>, LocalError> {
        let base = self.datastore(datastore, "")?;
        let target = target_path.trim_matches('/');
        if target.split('/').any(|c| c == "..") {
            return Err(LocalError::UnsupportedUri {
                input: "upload".into(),
                uri: target_path.into(),
                hint: "a datastore path cannot contain `..`".into(),
            });
        }
        let mut done = Vec::new();
        for src in sources {
            let meta = std::fs::metadata(src).map_err(|_| LocalError::MissingInput {
                input: "upload".into(),
                path: src.clone(),
                hint: None,
            })?;
            let name = src
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let files: Vec<(PathBuf, String)> = if meta.is_dir() {
                let mut v = Vec::new();
                for entry in walkdir::WalkDir::new(src)
                    .follow_links(true)
                    .sort_by_file_name()
                {
                    let entry = entry.map_err(|e| super::hash::walk_error(src, e))?;
                    if entry.file_type().is_file() {
                        let rel = entry.path().strip_prefix(src).unwrap_or(entry.path());
                        v.push((entry.path().to_path_buf(), format!("{name}/{}", slash(rel))));
                    }
                }
                v
            } else {
                vec![(src.clone(), name)]
            };
            for (from, rel) in files {
                let rel = if target.is_empty() {
                    rel
                } else {
                    format!("{target}/{rel}")
                };
                let to = base.join(&rel);
                if to.exists() && !overwrite {
                    return Err(LocalError::Exists {
                        datastore: datastore.to_owned(),
                        path: to,
                    });
                }
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| LocalError::io("create", parent, e))?;
                }
                let size =
                    std::fs::copy(&from, &to).map_err(|e| LocalError::io("copy", &from, e))?;
                done.push(Uploaded {
                    from,
                    uri: format!("azureml://datastores/{datastore}/paths/{rel}"),
                    to,
                    size,
                });
            }
        }
        Ok(done)
    }

    pub(crate) fn run_dir(&self, run: &str) -> PathBuf {
        self.root.join("runs").join(run)
    }

    pub(crate) fn log_path(&self, run: &str, node: &str) -> PathBuf {
        self.run_dir(run).join("logs").join(format!("{node}.log"))
    }

    pub(crate) fn step_dir(&self, run: &str, node: &str) -> PathBuf {
        self.run_dir(run).join("steps").join(node)
    }

    /// The folder a step's sealed outputs go to.
    pub(crate) fn outputs_dir(&self, run: &str, node: &str) -> PathBuf {
        self.root
            .join("datastores")
            .join(DEFAULT_DATASTORE)
            .join("azureml")
            .join(run)
            .join(node)
    }

    /// Removes output folders that were being written when a run was killed, and gives the
    /// read-only input views it left behind their write permission back.
    pub(crate) fn remove_unsealed(&self, run: &str) {
        super::mount::release(&self.run_dir(run).join("steps"));
        let dir = self
            .root
            .join("datastores")
            .join(DEFAULT_DATASTORE)
            .join("azureml")
            .join(run);
        for node in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            for out in std::fs::read_dir(node.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if out.file_name().to_string_lossy().starts_with(".tmp-") {
                    let _ = remove_tree(&out.path());
                }
            }
        }
    }
}

/// Removes a folder tree, giving its folders their write permission back first if needed
/// (read-only input views). Files are left as they are: they may be hard links to sealed
/// outputs, and removing a file needs only its folder to be writable.
pub(crate) fn remove_tree(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            super::mount::release(path);
            std::fs::remove_dir_all(path)
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datastore_uris_resolve_inside_the_datastore() {
        let d = tempfile::tempdir().unwrap();
        let ws = Workspace::open(d.path().join("ws")).unwrap();
        let p = ws
            .resolve_uri("azureml://datastores/workspaceblobstore/paths/a/b.csv", "x")
            .unwrap();
        assert!(p.ends_with("datastores/workspaceblobstore/a/b.csv"));
        let e = ws
            .resolve_uri("azureml://datastores/other/paths/a", "x")
            .unwrap_err();
        assert!(matches!(e, LocalError::UnknownDatastore { .. }));
        for bad in [
            "azureml://datastores/workspaceblobstore/paths/../../etc",
            "azureml://datastores/workspaceblobstore/a",
            "https://example.invalid/x",
            "azureml:iris:1",
        ] {
            assert!(
                matches!(
                    ws.resolve_uri(bad, "x"),
                    Err(LocalError::UnsupportedUri { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn locate_prefers_the_flag_then_the_environment() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        std::fs::create_dir(cwd.join(DEFAULT_DIR)).unwrap();
        let env = Some(Path::new("from-env"));
        assert_eq!(
            Workspace::locate_with(Some(Path::new("w")), env, cwd, None),
            cwd.join("w")
        );
        assert_eq!(
            Workspace::locate_with(None, env, cwd, None),
            cwd.join("from-env")
        );
        // An empty variable counts as unset.
        assert_eq!(
            Workspace::locate_with(None, Some(Path::new("")), cwd, None),
            cwd.join(DEFAULT_DIR)
        );
    }

    #[test]
    fn locate_finds_the_nearest_workspace_above_then_the_project() {
        let d = tempfile::tempdir().unwrap();
        let top = d.path().join("top");
        let project = top.join("project");
        let sub = project.join("src/deep");
        std::fs::create_dir_all(&sub).unwrap();
        let elsewhere = d.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();

        // Nothing anywhere: the project's folder when it exists, else the current folder
        // (unless the machine has a workspace above the temporary folder, which would win).
        let clean = !d.path().ancestors().any(|a| a.join(DEFAULT_DIR).is_dir());
        assert!(
            clean,
            "a `{DEFAULT_DIR}` folder above {} hides what this test checks; remove it",
            d.path().display()
        );
        assert_eq!(
            Workspace::locate_with(None, None, &sub, Some(&project)),
            project.join(DEFAULT_DIR)
        );
        assert_eq!(
            Workspace::locate_with(None, None, &elsewhere, Some(&d.path().join("gone"))),
            elsewhere.join(DEFAULT_DIR)
        );
        // The nearest existing one above the current folder wins over the project's.
        std::fs::create_dir(top.join(DEFAULT_DIR)).unwrap();
        assert_eq!(
            Workspace::locate_with(None, None, &sub, Some(&project)),
            top.join(DEFAULT_DIR)
        );
        std::fs::create_dir(project.join("src").join(DEFAULT_DIR)).unwrap();
        assert_eq!(
            Workspace::locate_with(None, None, &sub, Some(&project)),
            project.join("src").join(DEFAULT_DIR)
        );
    }

    #[test]
    fn open_existing_creates_nothing() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("ws");
        assert!(Workspace::open_existing(&dir).is_none());
        assert!(!dir.exists());
        let ws = Workspace::open(&dir).unwrap();
        ws.store().unwrap();
        assert!(Workspace::open_existing(&dir).is_some());
    }
}
