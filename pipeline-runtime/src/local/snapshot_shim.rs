//! TEMPORARY: a minimal stand-in for the `snapshot` room's API (`Snapshot::scan`, `files`,
//! `excluded`, `ignore_file`, `total_size`, `content_hash`, `copy_to`), used until the real
//! room lands. Same names and shapes, so dropping this file is a one-line `use` change in
//! `local/mod.rs`. Rules: the root `.amlignore`, else the root `.gitignore`; gitwildmatch
//! patterns, last match wins; links are followed and loops reported. Hash version 202208.

use std::io::Read;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use sha2::{Digest, Sha256};

/// Why a folder could not be snapshotted.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The folder does not exist or is not a folder.
    #[error("{0} is not a folder")]
    NotADirectory(PathBuf),
    /// A symlink points back at one of its own parents.
    #[error("symlink loop: {path} points back to {ancestor}")]
    SymlinkLoop {
        /// The link.
        path: PathBuf,
        /// The folder it loops back to.
        ancestor: PathBuf,
    },
    /// Reading failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The ignore file is not valid.
    #[error("bad ignore file {path}: {reason}")]
    IgnoreFile {
        /// The ignore file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// One file of a snapshot.
#[derive(Clone, Debug)]
pub struct SnapshotFile {
    /// Path relative to the snapshot root, `/`-separated.
    pub relative: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// One path an ignore rule excluded.
#[derive(Clone, Debug)]
pub struct Excluded {
    /// Path relative to the snapshot root, `/`-separated.
    pub relative: String,
    /// The pattern that excluded it.
    pub rule: String,
    /// The ignore file the rule comes from.
    pub source: PathBuf,
    /// The rule's line in that file (1-based).
    pub line: usize,
}

/// The files of a source folder after the ignore rules.
#[derive(Clone, Debug)]
pub struct Snapshot {
    root: PathBuf,
    files: Vec<SnapshotFile>,
    excluded: Vec<Excluded>,
    ignore_file: Option<PathBuf>,
}

impl Snapshot {
    /// Walks `root` and applies its ignore file.
    pub fn scan(root: impl AsRef<Path>) -> Result<Snapshot, SnapshotError> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(SnapshotError::NotADirectory(root));
        }
        let ignore_file = [".amlignore", ".gitignore"]
            .iter()
            .map(|n| root.join(n))
            .find(|p| p.is_file());
        let (matcher, lines) = match &ignore_file {
            Some(path) => {
                let mut b = GitignoreBuilder::new(&root);
                if let Some(e) = b.add(path) {
                    return Err(SnapshotError::IgnoreFile {
                        path: path.clone(),
                        reason: e.to_string(),
                    });
                }
                let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
                    path: path.clone(),
                    source,
                })?;
                let g = b.build().map_err(|e| SnapshotError::IgnoreFile {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                (Some(g), text.lines().map(str::to_owned).collect::<Vec<_>>())
            }
            None => (None, Vec::new()),
        };
        let mut files = Vec::new();
        let mut excluded = Vec::new();
        let mut walk = walkdir::WalkDir::new(&root)
            .follow_links(true)
            .min_depth(1)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = walk.next() {
            let entry = entry.map_err(|e| walk_error(&root, e))?;
            let relative = relative_of(&root, entry.path());
            let is_dir = entry.file_type().is_dir();
            if let Some(g) = &matcher
                && let Some(glob) = matched(g, &relative, is_dir)
            {
                let line = lines
                    .iter()
                    .position(|l| l.trim_end() == glob)
                    .map_or(0, |i| i + 1);
                excluded.push(Excluded {
                    relative,
                    rule: glob.to_owned(),
                    source: ignore_file.clone().unwrap_or_default(),
                    line,
                });
                if is_dir {
                    walk.skip_current_dir();
                }
                continue;
            }
            if is_dir {
                continue;
            }
            let size = entry.metadata().map_err(|e| walk_error(&root, e))?.len();
            files.push(SnapshotFile {
                relative,
                path: entry.path().to_path_buf(),
                size,
            });
        }
        files.sort_by_key(|f| f.relative.to_lowercase());
        Ok(Snapshot {
            root,
            files,
            excluded,
            ignore_file,
        })
    }

    /// The included files, sorted by lower-cased relative path.
    pub fn files(&self) -> &[SnapshotFile] {
        &self.files
    }

    /// What the ignore rules excluded.
    pub fn excluded(&self) -> &[Excluded] {
        &self.excluded
    }

    /// The ignore file that applied, if any.
    pub fn ignore_file(&self) -> Option<&Path> {
        self.ignore_file.as_deref()
    }

    /// The total size of the included files.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Azure ML's content hash (hash version 202208).
    pub fn content_hash(&self) -> Result<String, SnapshotError> {
        let mut h = Sha256::new();
        h.update(self.files.len().to_string().as_bytes());
        for f in &self.files {
            h.update(format!("#{}#", f.relative).as_bytes());
            h.update(f.size.to_string().as_bytes());
        }
        let mut buf = vec![0u8; 64 * 1024];
        for f in &self.files {
            let mut file = std::fs::File::open(&f.path).map_err(|source| SnapshotError::Io {
                path: f.path.clone(),
                source,
            })?;
            loop {
                let n = file.read(&mut buf).map_err(|source| SnapshotError::Io {
                    path: f.path.clone(),
                    source,
                })?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
        }
        Ok(hex(&h.finalize()))
    }

    /// Copies the included files into `dest` (created if needed).
    pub fn copy_to(&self, dest: impl AsRef<Path>) -> Result<(), SnapshotError> {
        let dest = dest.as_ref();
        for f in &self.files {
            let to = dest.join(&f.relative);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|source| SnapshotError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::copy(&f.path, &to).map_err(|source| SnapshotError::Io {
                path: f.path.clone(),
                source,
            })?;
        }
        let _ = &self.root;
        Ok(())
    }
}

fn matched<'a>(g: &'a Gitignore, relative: &str, is_dir: bool) -> Option<&'a str> {
    match g.matched(relative, is_dir) {
        ignore::Match::Ignore(glob) => Some(glob.original()),
        _ => None,
    }
}

fn relative_of(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn walk_error(root: &Path, e: walkdir::Error) -> SnapshotError {
    if let Some(ancestor) = e.loop_ancestor() {
        return SnapshotError::SymlinkLoop {
            path: e.path().unwrap_or(root).to_path_buf(),
            ancestor: ancestor.to_path_buf(),
        };
    }
    let path = e.path().unwrap_or(root).to_path_buf();
    SnapshotError::Io {
        path,
        source: e
            .into_io_error()
            .unwrap_or_else(|| std::io::Error::other("walk failed")),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
