//! [`Snapshot::content_hash_cached`](super::Snapshot::content_hash_cached): the content hash of a
//! snapshot whose files have not changed since it was last computed, without reading them.
//!
//! "Not changed" is decided the way git decides a file is clean from its index: every file's
//! relative path, size, modification and status-change times (nanoseconds) and inode are the
//! same as when the hash was computed. These are folded into a *stamp* (SHA-256, together with
//! the root and the hash version) that names a small cache entry holding the hash. Anything
//! that writes a file changes its status-change time, which no tool can set back, so an edited
//! file always misses. An entry is only written when every file's times are at least
//! [`SETTLE`] in the past, so a file written again within the same clock tick as the stamp was
//! taken cannot be mistaken for unchanged (git's "racily clean" rule).
//!
//! The cache lives in `AZUREML_HASH_CACHE` if set (`off` disables it), else
//! `$XDG_CACHE_HOME/azureml-pipelines/content-hashes`, else
//! `~/.cache/azureml-pipelines/content-hashes`. A cache that cannot be read or written is
//! ignored: the hash is then computed as usual.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::hash::Sha256;

use super::{HASH_VERSION, SnapshotError, SnapshotFile, hex};

/// Environment variable naming the cache folder (`off` disables the cache).
pub const CACHE_ENV: &str = "AZUREML_HASH_CACHE";

/// How old every file's times must be before a hash is cached.
const SETTLE: Duration = Duration::from_secs(2);

/// The cache folder: `AZUREML_HASH_CACHE`, else the user's cache folder; `None` when disabled or
/// there is no home.
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var_os(CACHE_ENV) {
        Some(v) if v == "off" || v == "0" => return None,
        Some(v) if !v.is_empty() => return Some(PathBuf::from(v)),
        _ => {}
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("azureml-pipelines").join("content-hashes"))
}

/// The stamp of `files` under `root`, and whether every file has settled (times older than
/// [`SETTLE`]).
fn stamp(root: &Path, files: &[SnapshotFile]) -> Result<(String, bool), SnapshotError> {
    let threads = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(files.len().div_ceil(2048))
        .max(1);
    let chunk = files.len().div_ceil(threads).max(1);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let settle = SETTLE.as_nanos() as i128;
    let part = |files: &[SnapshotFile]| -> Result<(Vec<u8>, bool), SnapshotError> {
        let mut bytes = Vec::with_capacity(files.len() * 96);
        let mut settled = true;
        for f in files {
            let meta =
                fs::metadata(&f.path).map_err(|e| SnapshotError::io("inspect", &f.path, e))?;
            let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            let ctime = i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec());
            settled &= now - mtime.max(ctime) >= settle;
            bytes.extend_from_slice(f.relative.as_bytes());
            bytes.push(0);
            for n in [
                i128::from(meta.len()),
                mtime,
                ctime,
                i128::from(meta.ino()),
                i128::from(meta.dev()),
            ] {
                bytes.extend_from_slice(&n.to_le_bytes());
            }
        }
        Ok((bytes, settled))
    };
    let parts: Vec<Result<(Vec<u8>, bool), SnapshotError>> = if threads == 1 {
        vec![part(files)]
    } else {
        thread::scope(|scope| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .map(|c| scope.spawn(move || part(c)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let mut hasher = Sha256::new();
    hasher.update(HASH_VERSION.to_le_bytes());
    hasher.update(root.as_os_str().as_encoded_bytes());
    hasher.update([0]);
    hasher.update((files.len() as u64).to_le_bytes());
    let mut settled = true;
    for p in parts {
        let (bytes, s) = p?;
        hasher.update(&bytes);
        settled &= s;
    }
    Ok((hex(&hasher.finalize()), settled))
}

/// The hash from the cache in `dir`, or `compute()`d and stored there.
pub(super) fn content_hash(
    root: &Path,
    files: &[SnapshotFile],
    dir: Option<&Path>,
    compute: impl FnOnce() -> Result<String, SnapshotError>,
) -> Result<String, SnapshotError> {
    let Some(dir) = dir else {
        return compute();
    };
    let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let (key, settled) = stamp(&root, files)?;
    let entry = dir.join(&key[..2]).join(&key[2..]);
    if let Ok(text) = fs::read_to_string(&entry) {
        let text = text.trim();
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(text.to_owned());
        }
    }
    let hash = compute()?;
    if settled {
        let _ = store(&entry, &hash);
    }
    Ok(hash)
}

/// Writes an entry atomically (a temporary file renamed into place).
fn store(entry: &Path, hash: &str) -> std::io::Result<()> {
    let parent = entry.parent().unwrap_or(entry);
    fs::create_dir_all(parent)?;
    let mut tmp = tempfile_in(parent)?;
    tmp.1.write_all(hash.as_bytes())?;
    tmp.1.sync_all().ok();
    fs::rename(&tmp.0, entry)
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let path = dir.join(format!(".tmp-{}-{nanos}", std::process::id()));
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}
