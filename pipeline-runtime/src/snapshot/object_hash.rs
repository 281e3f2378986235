//! [`object_hash`]: the SDK's `get_object_hash`, the older hash used for upload prefixes.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::hash::Sha256;

use super::ignore::IgnoreRules;
use super::{SnapshotError, hex};

/// What the SDK seeds the digest with.
const SEED: &[u8] = b"Initialize for october 2021 AML CLI version";

/// The hash azure-ai-ml's `get_object_hash` gives `path` (a folder or a file), lowercase hex.
///
/// The Python SDK uses it for the `LocalUpload/<hash>/` blob prefix of artifacts uploaded to a
/// datastore, and for data and environment builds; code assets are looked up by
/// [`Snapshot::content_hash`](super::Snapshot::content_hash) instead. It walks folder by
/// folder, entries sorted by lowercased name, hashing each name then the file's bytes (or the
/// folder's entries), with the root's `.amlignore` / `.gitignore` applied to files *and* folders
/// exactly as the SDK does (`build` skips a folder and its name, `build/` keeps the name but
/// skips what is inside). Links are followed; a dangling link or a pipe counts by its name only.
///
/// # Errors
///
/// [`SnapshotError::RootNotFound`] for a missing `path`; [`SnapshotError::SymlinkLoop`] when
/// links lead back into a folder being hashed; [`SnapshotError::NonUtf8Name`] for an included
/// name that is not UTF-8; [`SnapshotError::Io`] when a folder or file cannot be read.
pub fn object_hash(path: &Path) -> Result<String, SnapshotError> {
    let mut hasher = Sha256::new_with_prefix(SEED);
    let mut buf = vec![0; 256 * 1024];
    let meta = fs::metadata(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            SnapshotError::RootNotFound {
                path: path.to_path_buf(),
            }
        } else {
            SnapshotError::io("inspect", path, e)
        }
    })?;
    if meta.is_dir() {
        let mut ignore_file = None;
        let rules = IgnoreRules::find(path, &mut ignore_file)?;
        let mut walk = ObjectWalk {
            rules: rules.as_ref(),
            chain: Vec::new(),
            buf: &mut buf,
            hasher: &mut hasher,
        };
        walk.dir(path)?;
    } else if meta.is_file() {
        hash_file(path, &mut buf, &mut hasher)?;
    } else {
        return Err(SnapshotError::RootNotFileOrDir {
            path: path.to_path_buf(),
        });
    }
    Ok(hex(&hasher.finalize()))
}

struct ObjectWalk<'a> {
    rules: Option<&'a IgnoreRules>,
    /// Resolved paths of the folders being hashed.
    chain: Vec<PathBuf>,
    buf: &'a mut [u8],
    hasher: &'a mut Sha256,
}

impl ObjectWalk<'_> {
    /// `_get_dir_hash(directory)`.
    fn dir(&mut self, directory: &Path) -> Result<(), SnapshotError> {
        let canonical =
            fs::canonicalize(directory).map_err(|e| SnapshotError::io("inspect", directory, e))?;
        if let Some(ancestor) = self.chain.iter().find(|c| **c == canonical) {
            return Err(SnapshotError::SymlinkLoop {
                path: directory.to_path_buf(),
                target: ancestor.clone(),
            });
        }
        self.chain.push(canonical);

        let mut entries = Vec::new();
        for entry in fs::read_dir(directory).map_err(|e| SnapshotError::io("list", directory, e))? {
            let entry = entry.map_err(|e| SnapshotError::io("list", directory, e))?;
            entries.push(entry.path());
        }
        // `sorted(iterdir(), key=lambda p: str(p).lower())`: stable, the folder part is shared.
        entries.sort_by_cached_key(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_lowercase()
        });

        for path in entries {
            if let Some(rules) = self.rules
                && rules.excluded(&rules.match_path(&path)).is_some()
            {
                continue;
            }
            let name = path.file_name().unwrap_or_default();
            let name = name
                .to_str()
                .ok_or_else(|| SnapshotError::NonUtf8Name { path: path.clone() })?;
            self.hasher.update(name.as_bytes());
            // `_resolve_path` then `is_file()` / `is_dir()`; a dangling link is neither.
            let target = match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => match fs::canonicalize(&path) {
                    Ok(resolved) => resolved,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(SnapshotError::io("inspect", &path, e)),
                },
                Ok(_) => path,
                Err(e) => return Err(SnapshotError::io("inspect", &path, e)),
            };
            let meta =
                fs::metadata(&target).map_err(|e| SnapshotError::io("inspect", &target, e))?;
            if meta.is_file() {
                hash_file(&target, self.buf, self.hasher)?;
            } else if meta.is_dir() {
                self.dir(&target)?;
            }
        }
        self.chain.pop();
        Ok(())
    }
}

fn hash_file(path: &Path, buf: &mut [u8], hasher: &mut Sha256) -> Result<(), SnapshotError> {
    let read_error = |e| SnapshotError::io("read", path, e);
    let mut file = File::open(path).map_err(read_error)?;
    loop {
        match file.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e)),
        }
    }
}
