//! How each input reaches a step: by value, by path (`direct`), as a private copy (`download`)
//! or as a private read-only view (`ro_mount`, see [`super::mount`]). Nothing is ever copied into
//! itself.

use std::path::{Path, PathBuf};

use crate::graph::{AssetType, InputMode, PortType};

use super::error::LocalError;

/// How a step input reaches the process.
#[derive(Clone, Debug)]
pub(super) enum Delivery {
    /// The value itself (parameters).
    Value(String),
    /// A path handed over as it is (`direct`).
    Path(PathBuf),
    /// A private copy of `from` made at `to` (`download`).
    Copy { from: PathBuf, to: PathBuf },
    /// A private read-only view of `from` made at `to` (`ro_mount`, the default).
    View { from: PathBuf, to: PathBuf },
}

/// For a `uri_file` input fed from a step output folder: the single file inside it.
pub(super) fn file_of_folder(path: &Path, ty: PortType) -> Result<PathBuf, String> {
    if ty != PortType::Data(AssetType::UriFile) || !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    match files.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "expects a file (uri_file), but {} holds {} files",
            path.display(),
            files.len()
        )),
    }
}

/// How an input reaches the step: `download` = a private copy, `ro_mount` (and no mode, Azure
/// ML's default) = a private read-only view, `direct` = the path itself.
pub(super) fn deliver(
    path: PathBuf,
    mode: Option<InputMode>,
    step_dir: &Path,
    name: &str,
) -> Delivery {
    let base = step_dir.join("inputs").join(name);
    let to = if path.is_file() {
        base.join(path.file_name().unwrap_or(name.as_ref()))
    } else {
        base
    };
    match mode {
        Some(InputMode::Download) => Delivery::Copy { from: path, to },
        Some(InputMode::Direct) => Delivery::Path(path),
        Some(InputMode::ReadOnlyMount) | None => Delivery::View { from: path, to },
    }
}

pub(super) fn copy_tree(from: &Path, to: &Path) -> Result<(), LocalError> {
    let meta = std::fs::metadata(from).map_err(|e| LocalError::io("read", from, e))?;
    if meta.is_file() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| LocalError::io("create", parent, e))?;
        }
        std::fs::copy(from, to).map_err(|e| LocalError::io("copy", from, e))?;
        make_writable(to);
        return Ok(());
    }
    // The destination is never part of what is copied, even when it lies inside `from`.
    std::fs::create_dir_all(to).map_err(|e| LocalError::io("create", to, e))?;
    let skip = to.canonicalize().ok();
    let walk = walkdir::WalkDir::new(from)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| !(e.file_type().is_dir() && is_inside(e.path(), skip.as_deref(), to)));
    for entry in walk {
        let entry = entry.map_err(|e| super::hash::walk_error(from, e))?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).map_err(|e| LocalError::io("create", &dest, e))?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .map_err(|e| LocalError::io("copy", entry.path(), e))?;
            make_writable(&dest);
        }
    }
    Ok(())
}

/// Whether `path` is the destination `to` (or its canonical form `canonical`).
pub(crate) fn is_inside(path: &Path, canonical: Option<&Path>, to: &Path) -> bool {
    path == to || canonical.is_some_and(|c| path.canonicalize().is_ok_and(|p| p == c))
}

pub(super) fn make_writable(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        let mut perms = meta.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        let _ = std::fs::set_permissions(path, perms);
    }
}
