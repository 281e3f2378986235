//! `ro_mount` inputs (and inputs without a mode, whose Azure ML default is `ro_mount`): a
//! private read-only view of the data for each step.
//!
//! The view holds the same files, hard-linked (copied where a link is impossible: another file
//! system, a symbolic link), in folders without write permission, so a step can neither add,
//! delete nor rename anything in an upstream output that reuse depends on — and whatever it does
//! to the view's folders never reaches the original. Files of step outputs are read-only once
//! sealed; files of the user's own data keep their permissions (the next run notices a change
//! through the input's fingerprint). As on any Unix system, permission bits do not stop `root`.
//!
//! After the step process ends, [`release`] gives the view's folders their write permission
//! back so the step folder can be removed (by us, or by `rm -rf`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::error::LocalError;
use super::hash::walk_error;

/// Makes a read-only view of the file or folder `from` at `to`. For a file, the folder holding
/// `to` is the one write-protected.
pub(crate) fn read_only_view(from: &Path, to: &Path) -> Result<(), LocalError> {
    let meta = fs::metadata(from).map_err(|e| LocalError::io("read", from, e))?;
    if !meta.is_dir() {
        let parent = to.parent().unwrap_or(to);
        fs::create_dir_all(parent).map_err(|e| LocalError::io("create", parent, e))?;
        link_or_copy(from, to, false)?;
        return set_writable(parent, false);
    }
    let mut dirs = Vec::new();
    fs::create_dir_all(to).map_err(|e| LocalError::io("create", to, e))?;
    // The view is never part of what it shows, even when it lies inside `from`.
    let skip = to.canonicalize().ok();
    let walk = walkdir::WalkDir::new(from)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| {
            !(e.file_type().is_dir() && super::deliver::is_inside(e.path(), skip.as_deref(), to))
        });
    for entry in walk {
        let entry = entry.map_err(|e| walk_error(from, e))?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&dest).map_err(|e| LocalError::io("create", &dest, e))?;
            dirs.push(dest);
        } else {
            link_or_copy(entry.path(), &dest, entry.path_is_symlink())?;
        }
    }
    for dir in dirs.iter().rev() {
        set_writable(dir, false)?;
    }
    Ok(())
}

/// Gives every folder under `root` (and `root`) its owner write permission back.
pub(crate) fn release(root: &Path) {
    for entry in walkdir::WalkDir::new(root).into_iter().flatten() {
        if entry.file_type().is_dir() {
            let _ = set_writable(entry.path(), true);
        }
    }
}

fn link_or_copy(from: &Path, to: &Path, symlink: bool) -> Result<(), LocalError> {
    if !symlink && fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    fs::copy(from, to).map_err(|e| LocalError::io("copy", from, e))?;
    set_writable(to, false)
}

/// Adds the owner's write permission, or removes everyone's.
fn set_writable(path: &Path, writable: bool) -> Result<(), LocalError> {
    let meta = fs::metadata(path).map_err(|e| LocalError::io("read", path, e))?;
    let mode = meta.permissions().mode();
    let new = if writable {
        mode | 0o200
    } else {
        mode & !0o222
    };
    if new != mode {
        fs::set_permissions(path, fs::Permissions::from_mode(new))
            .map_err(|e| LocalError::io("change permissions of", path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_folder_view_has_read_only_folders_and_the_same_files() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("a.txt"), "a").unwrap();
        fs::write(src.join("sub/b.txt"), "b").unwrap();
        let view = d.path().join("steps/x/inputs/data");
        read_only_view(&src, &view).unwrap();
        assert_eq!(fs::read_to_string(view.join("sub/b.txt")).unwrap(), "b");
        for dir in [&view, &view.join("sub")] {
            assert_eq!(mode(dir) & 0o222, 0, "{} is writable", dir.display());
        }
        // The original is untouched.
        assert_ne!(mode(&src) & 0o200, 0);
        release(&d.path().join("steps"));
        assert_ne!(mode(&view.join("sub")) & 0o200, 0);
        fs::remove_dir_all(d.path().join("steps")).unwrap();
        assert!(src.join("sub/b.txt").is_file());
    }

    #[test]
    fn a_file_view_protects_its_folder() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("iris.csv");
        fs::write(&src, "x").unwrap();
        let view = d.path().join("inputs/iris/iris.csv");
        read_only_view(&src, &view).unwrap();
        assert_eq!(fs::read_to_string(&view).unwrap(), "x");
        assert_eq!(mode(view.parent().unwrap()) & 0o222, 0);
        release(&d.path().join("inputs"));
    }
}
