//! What can go wrong while listing or hashing a snapshot.

use std::io;
use std::path::{Path, PathBuf};

/// Why a snapshot could not be scanned, hashed or copied.
///
/// Every variant names the file or folder at fault; [`SnapshotError::hint`] says what to do about
/// it, and the `Display` text ends with the same hint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The snapshot root does not exist.
    #[error("snapshot root `{}` does not exist (hint: {})", path.display(), self.hint())]
    RootNotFound {
        /// The root as given.
        path: PathBuf,
    },

    /// The snapshot root is neither a regular file nor a folder.
    #[error("snapshot root `{}` is neither a file nor a folder (hint: {})", path.display(), self.hint())]
    RootNotFileOrDir {
        /// The root as given.
        path: PathBuf,
    },

    /// A file or folder could not be read, listed, created or written.
    #[error("cannot {action} `{}`: {source} (hint: {})", path.display(), self.hint())]
    Io {
        /// What was being done: "read", "list", "inspect", "create", "copy to", ...
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's answer.
        #[source]
        source: io::Error,
    },

    /// Following symbolic links leads back into a folder that contains the link.
    #[error(
        "symbolic link `{}` points back to its ancestor `{}`, which would repeat the folder forever (hint: {})",
        path.display(), target.display(), self.hint()
    )]
    SymlinkLoop {
        /// The link that closes the loop.
        path: PathBuf,
        /// The folder it leads back to.
        target: PathBuf,
    },

    /// A symbolic link whose target does not exist.
    #[error("symbolic link `{}` points to nothing (hint: {})", path.display(), self.hint())]
    BrokenSymlink {
        /// The dangling link.
        path: PathBuf,
    },

    /// A FIFO, socket or device node where a file is expected.
    #[error("`{}` is not a regular file (a pipe, socket or device) (hint: {})", path.display(), self.hint())]
    NotRegularFile {
        /// The special file.
        path: PathBuf,
    },

    /// A file or folder name that is not valid UTF-8 (Azure ML blob names and hashes need text).
    #[error("the name of `{}` is not valid UTF-8 (hint: {})", path.display(), self.hint())]
    NonUtf8Name {
        /// The file or folder.
        path: PathBuf,
    },

    /// A line of `.amlignore` / `.gitignore` is not a valid pattern.
    #[error(
        "invalid pattern `{pattern}` at `{}` line {line}: {reason} (hint: {})",
        path.display(), self.hint()
    )]
    InvalidPattern {
        /// The ignore file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line as written (trailing white space removed).
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A file's size changed between [`Snapshot::scan`](super::Snapshot::scan) and reading it.
    #[error(
        "`{}` changed while the snapshot was being read ({expected} bytes when scanned, {found}) (hint: {})",
        path.display(), self.hint()
    )]
    Changed {
        /// The file.
        path: PathBuf,
        /// Its size at scan time.
        expected: u64,
        /// What was found when reading it ("more bytes" or the byte count).
        found: String,
    },

    /// [`Snapshot::copy_to`](super::Snapshot::copy_to) was given a destination that already holds files.
    #[error("destination `{}` is not an empty folder (hint: {})", path.display(), self.hint())]
    DestinationNotEmpty {
        /// The destination.
        path: PathBuf,
    },
}

impl SnapshotError {
    /// The file or folder the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::RootNotFound { path }
            | Self::RootNotFileOrDir { path }
            | Self::Io { path, .. }
            | Self::SymlinkLoop { path, .. }
            | Self::BrokenSymlink { path }
            | Self::NotRegularFile { path }
            | Self::NonUtf8Name { path }
            | Self::InvalidPattern { path, .. }
            | Self::Changed { path, .. }
            | Self::DestinationNotEmpty { path } => path,
        }
    }

    /// What the user can do about the error.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::RootNotFound { .. } => {
                "check the step's `source_dir`; it is relative to the folder of the crate that declares the step (where its `Cargo.toml` is), not to the current folder"
            }
            Self::RootNotFileOrDir { .. } => "point the step's `source_dir` at a folder or a file",
            Self::Io { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
                "make it readable, or exclude it in `.amlignore`"
            }
            Self::Io { .. } => "check that the path is accessible, or exclude it in `.amlignore`",
            Self::SymlinkLoop { .. } => "remove the link, or exclude it in `.amlignore`",
            Self::BrokenSymlink { .. } => "fix or remove the link, or exclude it in `.amlignore`",
            Self::NotRegularFile { .. } => {
                "remove it from the source folder, or exclude it in `.amlignore`"
            }
            Self::NonUtf8Name { .. } => "rename it, or exclude it in `.amlignore`",
            Self::InvalidPattern { .. } => {
                "fix the line (escape a trailing `\\`, and a lone `!` is not a pattern); Azure ML rejects it too"
            }
            Self::Changed { .. } => {
                "do not modify the source folder while a snapshot is taken, then retry"
            }
            Self::DestinationNotEmpty { .. } => "copy into a new or empty folder",
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
