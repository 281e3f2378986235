//! Checks made before any step starts: the pipeline's data inputs, datastore URIs, each
//! snapshot (scanned once per folder), every command template, and the interpreter `python`
//! resolves to.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::graph::{DataLocation, InputValue, Pipeline};

use super::SnapshotImpl as Snapshot;
use super::command::{self, Values};
use super::error::LocalError;
use super::hash::file_hash;
use super::options::PYTHON_ENV;
use super::plan::{Plan, PlannedStep, Source};
use super::workspace::Workspace;

pub(super) struct SnapInfo {
    pub(super) snapshot: Arc<Snapshot>,
    pub(super) hash: String,
    pub(super) files: BTreeMap<String, String>,
}

/// Checks the data inputs of the pipeline itself, naming them as the user does.
pub(super) fn check_pipeline_inputs(
    pipeline: &Pipeline,
    values: &[InputValue],
    ws: &Workspace,
    cwd: &Path,
) -> Result<(), LocalError> {
    for (input, value) in pipeline.inputs.iter().zip(values) {
        if let InputValue::Data(d) = value {
            let path = match d {
                DataLocation::Local(p) => cwd.join(p),
                DataLocation::Uri(u) => ws.resolve_uri(u, &input.name)?,
            };
            if !path.exists() {
                return Err(LocalError::MissingInput {
                    input: input.name.clone(),
                    path,
                    hint: Some(format!(
                        "pass another with `--input {}=PATH` or `--input {}=azureml://datastores/NAME/paths/P`",
                        input.name, input.name
                    )),
                });
            }
            if let (Ok(folder), Ok(workspace)) = (path.canonicalize(), ws.root().canonicalize())
                && folder.is_dir()
                && workspace.starts_with(&folder)
            {
                return Err(LocalError::InputContainsWorkspace {
                    input: input.name.clone(),
                    path,
                    workspace,
                });
            }
        }
    }
    Ok(())
}

/// The local path of every data input bound to a location.
pub(super) fn resolve_data(
    plan: &Plan,
    ws: &Workspace,
) -> Result<Vec<Vec<Option<PathBuf>>>, LocalError> {
    plan.steps
        .iter()
        .map(|s| {
            s.def
                .inputs
                .iter()
                .zip(&s.inputs)
                .map(|(input, source)| match source {
                    Source::Data(d) => {
                        let qualified = format!("{}.{}", s.name, input.name);
                        let path = match d {
                            DataLocation::Local(p) => p.clone(),
                            DataLocation::Uri(u) => ws.resolve_uri(u, &qualified)?,
                        };
                        if !path.exists() {
                            return Err(LocalError::MissingInput {
                                input: qualified,
                                path,
                                hint: None,
                            });
                        }
                        Ok(Some(path))
                    }
                    _ => Ok(None),
                })
                .collect()
        })
        .collect()
}

/// Scans each distinct source folder once: the snapshot, its content hash and file hashes.
pub(super) fn scan_snapshots(plan: &Plan) -> Result<HashMap<PathBuf, SnapInfo>, LocalError> {
    let mut out = HashMap::new();
    for s in &plan.steps {
        let Some(dir) = s.def.source_path() else {
            continue;
        };
        if out.contains_key(&dir) {
            continue;
        }
        let err = |reason: String| LocalError::Snapshot {
            step: s.name.clone(),
            dir: dir.clone(),
            reason,
        };
        if !dir.is_dir() {
            return Err(err(format!(
                "the folder does not exist (source_dir = \"{}\", relative to {})",
                s.def.source_dir.unwrap_or_default(),
                s.def.manifest_dir
            )));
        }
        let snapshot = Snapshot::scan(&dir).map_err(|e| err(e.to_string()))?;
        let hash = snapshot
            .content_hash_cached()
            .map_err(|e| err(e.to_string()))?;
        let mut files = BTreeMap::new();
        for f in snapshot.files() {
            files.insert(
                f.relative.to_string(),
                file_hash(&f.path).map_err(|e| err(e.to_string()))?,
            );
        }
        if let Some(script) = s.def.script
            && !files.contains_key(script)
        {
            return Err(err(format!(
                "the script `{script}` is not in the snapshot (missing, or excluded by an ignore rule)"
            )));
        }
        out.insert(
            dir,
            SnapInfo {
                snapshot: Arc::new(snapshot),
                hash,
                files,
            },
        );
    }
    Ok(out)
}

/// Fills every command template with stand-in values, so a bad placeholder is reported before
/// anything runs.
pub(super) fn check_commands(plan: &Plan) -> Result<(), LocalError> {
    for s in plan.steps.iter().map(|s: &PlannedStep| s) {
        let mut values = Values::new();
        for i in s.def.inputs {
            values.insert(format!("inputs.{}", i.name), Some("x".into()));
        }
        for o in s.def.outputs {
            values.insert(format!("outputs.{}", o.name), Some("x".into()));
        }
        command::render(s.def.command, &values).map_err(|message| LocalError::Command {
            step: s.name.clone(),
            message,
        })?;
    }
    Ok(())
}

/// The interpreter `python` resolves to in step commands.
pub(crate) fn find_python(explicit: Option<&Path>) -> Result<PathBuf, LocalError> {
    let env = std::env::var_os(PYTHON_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    if let Some(p) = explicit.map(Path::to_path_buf).or(env) {
        if p.components().count() > 1 {
            return if p.is_file() {
                Ok(p)
            } else {
                Err(LocalError::Python {
                    wanted: p.display().to_string(),
                    on_path: false,
                })
            };
        }
        return which(&p.to_string_lossy()).ok_or(LocalError::Python {
            wanted: p.display().to_string(),
            on_path: true,
        });
    }
    which("python3").ok_or(LocalError::Python {
        wanted: "python3".into(),
        on_path: true,
    })
}

pub(super) fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

pub(super) fn link_python(python: &Path, link: &Path) -> Result<(), LocalError> {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(python, link).map_err(|e| LocalError::io("create", link, e))
}
