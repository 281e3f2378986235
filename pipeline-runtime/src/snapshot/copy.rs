//! [`Snapshot::copy_to`](super::Snapshot::copy_to): a step's working copy of its snapshot.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::Path;

use super::{SnapshotError, SnapshotFile};

pub(super) fn copy_to(files: &[SnapshotFile], dest: &Path) -> Result<(), SnapshotError> {
    match fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(SnapshotError::DestinationNotEmpty {
                    path: dest.to_path_buf(),
                });
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dest).map_err(|e| SnapshotError::io("create", dest, e))?;
        }
        Err(e) => return Err(SnapshotError::io("list", dest, e)),
    }

    let mut made = HashSet::new();
    for file in files {
        let target = dest.join(&file.relative);
        if let Some(parent) = target.parent()
            && parent != dest
            && made.insert(parent.to_path_buf())
        {
            fs::create_dir_all(parent).map_err(|e| SnapshotError::io("create", parent, e))?;
        }
        // `fs::copy` follows links, keeps permissions and uses the kernel's copy offload.
        let copied =
            fs::copy(&file.path, &target).map_err(|e| SnapshotError::io("copy", &file.path, e))?;
        if copied != file.size {
            return Err(SnapshotError::Changed {
                path: file.path.clone(),
                expected: file.size,
                found: format!("now {copied} bytes"),
            });
        }
    }
    Ok(())
}
