//! Content hashes of data (inputs and sealed outputs) and of snapshot files.

use std::io::Read;
use std::path::Path;

use crate::snapshot::hash::Sha256;

use super::error::LocalError;

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of `bytes`, in hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of a file's bytes, in hex.
pub(crate) fn file_hash(path: &Path) -> Result<String, LocalError> {
    let mut h = Sha256::new();
    feed_file(&mut h, path)?;
    Ok(hex(&h.finalize()))
}

fn feed_file(h: &mut Sha256, path: &Path) -> Result<(), LocalError> {
    let mut file = std::fs::File::open(path).map_err(|e| LocalError::io("read", path, e))?;
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| LocalError::io("read", path, e))?;
        if n == 0 {
            return Ok(());
        }
        h.update(&buf[..n]);
    }
}

/// The content hash of a data location: of the bytes for a file; for a folder, of every file's
/// relative path, size and bytes, in path order (links followed, loops reported). Names and
/// contents both count; timestamps and permissions do not.
pub(crate) fn data_hash(path: &Path) -> Result<String, LocalError> {
    let meta = std::fs::metadata(path).map_err(|e| LocalError::io("read", path, e))?;
    let mut h = Sha256::new();
    if meta.is_file() {
        h.update(b"file\0");
        feed_file(&mut h, path)?;
        return Ok(hex(&h.finalize()));
    }
    h.update(b"folder\0");
    for entry in walkdir::WalkDir::new(path)
        .follow_links(true)
        .min_depth(1)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| walk_error(path, e))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = entry.path().strip_prefix(path).unwrap_or(entry.path());
        let rel = rel.to_string_lossy();
        let size = entry.metadata().map_err(|e| walk_error(path, e))?.len();
        h.update(format!("{}\0{size}\0", rel.len()).as_bytes());
        h.update(rel.as_bytes());
        feed_file(&mut h, entry.path())?;
    }
    Ok(hex(&h.finalize()))
}

/// A cheap fingerprint of a file or folder: every file's relative path, size and modification
/// time (ns). Returns `None` when a file changed in the last two seconds, since a change within
/// the file system's timestamp granularity could then go unseen (git's "racy" rule).
pub(crate) fn fingerprint(path: &Path) -> Result<Option<String>, LocalError> {
    let recent = std::time::SystemTime::now() - std::time::Duration::from_secs(2);
    let mut h = Sha256::new();
    let mut racy = false;
    for entry in walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| walk_error(path, e))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let meta = entry.metadata().map_err(|e| walk_error(path, e))?;
        let mtime = meta
            .modified()
            .map_err(|e| LocalError::io("inspect", entry.path(), e))?;
        racy |= mtime > recent;
        let ns = mtime
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let rel = entry.path().strip_prefix(path).unwrap_or(entry.path());
        h.update(format!("{}\0{}\0{ns}\0", rel.to_string_lossy(), meta.len()).as_bytes());
    }
    Ok((!racy).then(|| hex(&h.finalize())))
}

/// Turns a walk error into a [`LocalError`], naming symlink loops as such.
pub(crate) fn walk_error(root: &Path, e: walkdir::Error) -> LocalError {
    let path = e.path().unwrap_or(root).to_path_buf();
    if let Some(ancestor) = e.loop_ancestor() {
        let msg = format!("symlink loop: points back to {}", ancestor.display());
        return LocalError::io("walk", path, std::io::Error::other(msg));
    }
    let source = e
        .into_io_error()
        .unwrap_or_else(|| std::io::Error::other("walk failed"));
    LocalError::io("walk", path, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_hash_sees_names_and_contents() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.txt"), "1").unwrap();
        let h1 = data_hash(d.path()).unwrap();
        std::fs::write(d.path().join("a.txt"), "2").unwrap();
        let h2 = data_hash(d.path()).unwrap();
        std::fs::rename(d.path().join("a.txt"), d.path().join("b.txt")).unwrap();
        let h3 = data_hash(d.path()).unwrap();
        assert_ne!(h1, h2);
        assert_ne!(h2, h3);
        std::fs::write(d.path().join("b.txt"), "1").unwrap();
        assert_ne!(data_hash(d.path()).unwrap(), h1, "renamed file differs");
    }
}
