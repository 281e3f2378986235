//! Snapshots: a step's source folder (`source_dir`) as Azure ML sees it, the files it uploads
//! and the content hash that names the code asset.
//!
//! [`Snapshot::scan`] walks a step's `source_dir` (or a single file) the way Microsoft's Python
//! SDK (azure-ai-ml 1.35.2, `azure/ai/ml/_utils/_asset_utils.py`) does before it uploads a code
//! asset: following symbolic links, honouring the root `.amlignore` (or else `.gitignore`) with
//! the SDK's exact pattern semantics, and listing the files in the SDK's order.
//! [`Snapshot::content_hash`] is then byte for byte the SDK's `get_content_hash` (hash version
//! [`HASH_VERSION`]), which Azure ML uses to find an already uploaded code asset, so a snapshot
//! hashed here is recognised by the service and by Python clients alike. [`object_hash`] is the
//! SDK's other hash, `get_object_hash`, used for `LocalUpload/<hash>/` blob prefixes.
//!
//! ```no_run
//! use azureml_pipelines_runtime::snapshot::Snapshot;
//!
//! let snapshot = Snapshot::scan("examples/compare_models/train_src".as_ref())?;
//! for skipped in snapshot.excluded() {
//!     println!("{} excluded by `{}` ({}:{})", skipped.relative, skipped.rule, skipped.source.display(), skipped.line);
//! }
//! println!("{} files, {} bytes, hash {}", snapshot.files().len(), snapshot.total_size(), snapshot.content_hash()?);
//! # Ok::<(), azureml_pipelines_runtime::snapshot::SnapshotError>(())
//! ```
//!
//! Where this differs from the SDK, it is on purpose and only where the SDK would hash something
//! meaningless or fail later: a symbolic-link loop, an unreadable folder (which `os.walk` skips
//! silently), a pipe or socket, or a file that changes while it is read are errors here.

pub mod cache;
mod copy;
mod error;
mod folder;
pub(crate) mod hash;
mod ignore;
mod object_hash;
#[cfg(target_os = "linux")]
mod uring;
mod walk;

use std::path::{Path, PathBuf};

pub use error::SnapshotError;
pub use object_hash::object_hash;

/// The content-hash algorithm version Azure ML records with a code asset (`hash_version`).
///
/// It is sent as `hashVersion` when looking a code asset up by hash, and stored in the asset's
/// `properties` next to `hash_sha256` = [`Snapshot::content_hash`].
pub const HASH_VERSION: u32 = 202208;

/// A step's source folder (or single source file) after applying Azure ML's ignore rules.
///
/// Produced by [`Snapshot::scan`]; holds the list of included files with their sizes, what was
/// excluded and why. Hashing and copying read the files again, so they see the bytes as they
/// are then (and fail with [`SnapshotError::Changed`] if a size changed meanwhile).
#[derive(Debug, Clone)]
pub struct Snapshot {
    root: PathBuf,
    files: Vec<SnapshotFile>,
    excluded: Vec<Excluded>,
    ignore_file: Option<PathBuf>,
    total_size: u64,
}

/// One file of a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// The path relative to the snapshot root, `/`-separated, as it is hashed and uploaded
    /// (for a single-file snapshot: the file name). Symbolic links keep their own name.
    pub relative: String,
    /// Where the file is on disk: the root joined with `relative` (links not resolved; reading
    /// it follows them).
    pub path: PathBuf,
    /// Size in bytes at scan time (of the link target for a symbolic link).
    pub size: u64,
}

/// A path left out of a [`Snapshot`] by an ignore-file rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    /// The path relative to the snapshot root, `/`-separated. A folder whose whole content is
    /// excluded (and that no later `!` rule could bring back) is listed once, with a trailing
    /// `/`, instead of file by file.
    pub relative: String,
    /// The rule that decided, as written in the ignore file (trailing white space removed).
    pub rule: String,
    /// The ignore file holding the rule.
    pub source: PathBuf,
    /// The rule's 1-based line number in `source`.
    pub line: usize,
}

impl Snapshot {
    /// Walks `root` (a folder or a single file) with Azure ML's ignore rules.
    ///
    /// For a folder: every file below it, following symbolic links, except those excluded by
    /// the root's `.amlignore` (or, when there is none, its `.gitignore`; ignore files in
    /// sub-folders are not read, as in the SDK). Files are sorted by `relative.to_lowercase()`,
    /// ties kept in walk order, exactly as the SDK sorts them for hashing.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::RootNotFound`] for a missing root; [`SnapshotError::SymlinkLoop`],
    /// [`SnapshotError::BrokenSymlink`], [`SnapshotError::NotRegularFile`],
    /// [`SnapshotError::NonUtf8Name`] for an included path that cannot be part of a snapshot;
    /// [`SnapshotError::InvalidPattern`] for a bad ignore-file line; [`SnapshotError::Io`] when
    /// a folder cannot be listed or a file inspected.
    pub fn scan(root: &Path) -> Result<Snapshot, SnapshotError> {
        walk::scan(root)
    }

    /// The root as given to [`Snapshot::scan`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The included files, in the order the content hash takes them.
    pub fn files(&self) -> &[SnapshotFile] {
        &self.files
    }

    /// What the ignore file excluded, and by which rule, sorted like [`Snapshot::files`].
    pub fn excluded(&self) -> &[Excluded] {
        &self.excluded
    }

    /// The ignore file in effect (`<root>/.amlignore`, else `<root>/.gitignore`), if any.
    pub fn ignore_file(&self) -> Option<&Path> {
        self.ignore_file.as_deref()
    }

    /// The sum of the included files' sizes, in bytes.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// The content hash Azure ML knows the snapshot by: lowercase hex SHA-256, identical to
    /// azure-ai-ml's `get_content_hash` (version [`HASH_VERSION`]).
    ///
    /// The digest covers the file count, then `#relative#` and the size of each file, then the
    /// bytes of each file, in [`Snapshot::files`] order. Files are read by a few threads ahead
    /// of the (single, sequential) digest, with bounded memory.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::Io`] when a file cannot be read; [`SnapshotError::Changed`] when its size
    /// is no longer the one scanned.
    pub fn content_hash(&self) -> Result<String, SnapshotError> {
        hash::content_hash(&self.files)
    }

    /// [`Snapshot::content_hash`], taken from the hash cache when no file changed since it was
    /// last computed (same paths, sizes, modification and status-change times, inodes; see
    /// [`cache`]), and stored there otherwise. The cache folder is [`cache::default_dir`].
    ///
    /// # Errors
    ///
    /// As [`Snapshot::content_hash`]; also [`SnapshotError::Io`] when a file cannot be
    /// inspected.
    pub fn content_hash_cached(&self) -> Result<String, SnapshotError> {
        self.content_hash_in(cache::default_dir().as_deref())
    }

    /// [`Snapshot::content_hash_cached`] with an explicit cache folder (`None`: no cache).
    ///
    /// # Errors
    ///
    /// As [`Snapshot::content_hash_cached`].
    pub fn content_hash_in(&self, cache_dir: Option<&Path>) -> Result<String, SnapshotError> {
        cache::content_hash(&self.root, &self.files, cache_dir, || self.content_hash())
    }

    /// Materialises the included files under `dest` (a step's working copy), keeping their
    /// relative paths. Symbolic links are copied as the files they point to.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::DestinationNotEmpty`] when `dest` exists and holds anything;
    /// [`SnapshotError::Io`] when a folder cannot be created or a file copied.
    pub fn copy_to(&self, dest: &Path) -> Result<(), SnapshotError> {
        copy::copy_to(&self.files, dest)
    }

    /// The included files whose names look like secrets: `.env` files, private keys and
    /// certificates (`*.pem`, `*.key`, `*.pfx`, `*.p12`, `id_rsa`, …), and credential files
    /// (`.netrc`, `.pypirc`, `.git-credentials`, `*credentials*.json`, `*secret*.json`,
    /// service-account keys). Uploading a snapshot puts them in the workspace's storage.
    pub fn secret_like_files(&self) -> Vec<&SnapshotFile> {
        self.files
            .iter()
            .filter(|f| looks_like_secret(&f.relative))
            .collect()
    }
}

/// Whether a file name (the last segment of `relative`) looks like it holds a secret.
fn looks_like_secret(relative: &str) -> bool {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e);
    lower == ".env"
        || (lower.starts_with(".env.")
            && !lower.ends_with(".example")
            && !lower.ends_with(".sample"))
        || matches!(
            ext,
            Some("pem" | "key" | "pfx" | "p12" | "jks" | "keystore")
        )
        || matches!(
            lower.as_str(),
            "id_rsa"
                | "id_dsa"
                | "id_ecdsa"
                | "id_ed25519"
                | ".netrc"
                | ".pypirc"
                | ".git-credentials"
        )
        || (ext == Some("json")
            && (lower.contains("credential")
                || lower.contains("secret")
                || lower.starts_with("service-account")
                || lower.starts_with("service_account")))
}

/// The hash as lowercase hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::looks_like_secret;

    #[test]
    fn secret_like_names() {
        for name in [
            ".env",
            "conf/.env.production",
            "certs/server.pem",
            "tls.key",
            "store.pfx",
            "id_rsa",
            "home/.netrc",
            "gcp-credentials.json",
            "client_secret.json",
            "service-account-prod.json",
        ] {
            assert!(looks_like_secret(name), "{name}");
        }
        for name in [
            "train.py",
            ".env.example",
            "environment.yml",
            "keys.py",
            "data/credentials.csv",
            "monkey.json",
        ] {
            assert!(!looks_like_secret(name), "{name}");
        }
    }
}
