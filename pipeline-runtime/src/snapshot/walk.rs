//! [`Snapshot::scan`]: the SDK's `os.walk(root, followlinks=True)` + ignore-file filter.
//!
//! Order matters for ties only: the SDK sorts `(path, relative)` pairs by `relative.lower()`
//! with Python's stable sort, starting from `os.walk` order (per folder: its files in directory
//! order, then each sub-folder in directory order). The walk below produces that order and the
//! sort is stable too, so even names that differ only in case come out as in the SDK.
//!
//! The ignore rules see each file as the SDK builds it: the *resolved* folder path joined with the
//! file name, made relative to the ignore file's (resolved) folder. Inside a linked folder that
//! points outside the root, paths therefore start with `../`, as in the SDK.

use std::collections::HashSet;
use std::fs::{self, DirEntry};
use std::io;
use std::path::{Path, PathBuf};
use std::thread;

use super::ignore::IgnoreRules;
use super::{Excluded, Snapshot, SnapshotError, SnapshotFile};

pub(super) fn scan(root: &Path) -> Result<Snapshot, SnapshotError> {
    let meta = match fs::metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(if fs::symlink_metadata(root).is_ok() {
                SnapshotError::BrokenSymlink {
                    path: root.to_path_buf(),
                }
            } else {
                SnapshotError::RootNotFound {
                    path: root.to_path_buf(),
                }
            });
        }
        Err(e) => return Err(io_error(root, e)),
    };
    let canonical = fs::canonicalize(root).map_err(|e| io_error(root, e))?;

    if meta.is_file() {
        // `get_content_hash` resolves a linked root first: the name is the target's.
        let name = canonical.file_name().unwrap_or_default();
        let relative = name.to_str().ok_or_else(|| SnapshotError::NonUtf8Name {
            path: root.to_path_buf(),
        })?;
        return Ok(Snapshot {
            root: root.to_path_buf(),
            files: vec![SnapshotFile {
                relative: relative.to_string(),
                path: root.to_path_buf(),
                size: meta.len(),
            }],
            excluded: Vec::new(),
            ignore_file: None,
            total_size: meta.len(),
        });
    }
    if !meta.is_dir() {
        return Err(SnapshotError::RootNotFileOrDir {
            path: root.to_path_buf(),
        });
    }

    let mut ignore_file = None;
    let rules = IgnoreRules::find(root, &mut ignore_file)?;
    let mut walker = Walker {
        rules: rules.as_ref(),
        files: Vec::new(),
        excluded: Vec::new(),
        chain: Vec::new(),
        loops: Vec::new(),
    };
    walker.walk(&Dir {
        path: root.to_path_buf(),
        relative: String::new(),
        canonical,
        utf8: true,
    })?;

    let Walker {
        mut files,
        mut excluded,
        ..
    } = walker;
    fill_sizes(&mut files)?;
    // Python's `sorted(key=lambda x: x[1].lower())`: stable, by code point of the lowercased
    // text (UTF-8 byte order is code point order).
    files.sort_by_cached_key(|f| f.relative.to_lowercase());
    excluded.sort_by_cached_key(|f| f.relative.to_lowercase());
    let total_size = files.iter().map(|f| f.size).sum();
    Ok(Snapshot {
        root: root.to_path_buf(),
        files,
        excluded,
        ignore_file,
        total_size,
    })
}

struct Walker<'r> {
    rules: Option<&'r IgnoreRules>,
    files: Vec<SnapshotFile>,
    excluded: Vec<Excluded>,
    /// Resolved paths of the folders being walked, root first.
    chain: Vec<PathBuf>,
    /// Links found to lead back into `chain[depth]`: (depth, link, target).
    loops: Vec<(usize, PathBuf, PathBuf)>,
}

/// A folder to walk.
struct Dir {
    /// Where it is reached: the root joined with link names (what the SDK hashes as relative).
    path: PathBuf,
    /// `path` relative to the root, `/`-separated; empty for the root.
    relative: String,
    /// `path` with every link resolved (what the SDK matches ignore rules against).
    canonical: PathBuf,
    /// Whether every name in `relative` is valid UTF-8.
    utf8: bool,
}

impl Walker<'_> {
    fn walk(&mut self, dir: &Dir) -> Result<(), SnapshotError> {
        let depth = self.chain.len();
        let files_before = self.files.len();
        self.chain.push(dir.canonical.clone());
        let match_dir = self.rules.map(|r| r.match_path(&dir.canonical));

        let entries = fs::read_dir(&dir.path).map_err(|e| list_error(&dir.path, e))?;
        let mut subdirs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| list_error(&dir.path, e))?;
            let kind = Kind::of(&entry)?;
            let name = entry.file_name();
            let name_text = name.to_string_lossy();
            let relative = join(&dir.relative, &name_text);
            if let Kind::Dir { link } = kind {
                subdirs.push((entry.path(), relative, name.to_str().is_some(), link));
                continue;
            }

            if let (Some(rules), Some(match_dir)) = (self.rules, &match_dir)
                && let Some(verdict) = rules.excluded(&join_match(match_dir, &name_text))
            {
                self.excluded.push(Excluded {
                    relative,
                    rule: verdict.text.to_string(),
                    source: rules.source().to_path_buf(),
                    line: verdict.line,
                });
                continue;
            }
            let path = entry.path();
            if !dir.utf8 || name.to_str().is_none() {
                return Err(SnapshotError::NonUtf8Name { path });
            }
            let size = match kind {
                Kind::File { size } => size.unwrap_or(UNKNOWN_SIZE),
                Kind::Special => return Err(SnapshotError::NotRegularFile { path }),
                Kind::Unresolvable(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(SnapshotError::BrokenSymlink { path });
                }
                Kind::Unresolvable(e) => return Err(io_error(&path, e)),
                Kind::Dir { .. } => unreachable!("folders were set aside above"),
            };
            self.files.push(SnapshotFile {
                relative,
                path,
                size,
            });
        }

        for (path, relative, utf8, link) in subdirs {
            let canonical = if link {
                fs::canonicalize(&path).map_err(|e| io_error(&path, e))?
            } else {
                dir.canonical.join(path.file_name().unwrap_or_default())
            };
            if let Some(ancestor) = self.chain.iter().position(|c| *c == canonical) {
                // Walking it would repeat `ancestor` (the SDK goes round until the OS refuses the
                // path). The repeated files are judged by the same resolved paths, so they
                // matter only if that folder includes any file: decided when it is done.
                self.loops.push((ancestor, path, canonical));
                continue;
            }
            if let Some(rules) = self.rules {
                let match_path = rules.match_path(&canonical);
                if let Some(verdict) = rules.excludes_everything_below(&match_path) {
                    self.excluded.push(Excluded {
                        relative: relative.clone() + "/",
                        rule: verdict.text.to_string(),
                        source: rules.source().to_path_buf(),
                        line: verdict.line,
                    });
                    let mut seen = HashSet::from([canonical]);
                    self.probe_links(&path, &relative, dir.utf8 && utf8, &mut seen)?;
                    continue;
                }
            }
            let sub = Dir {
                path,
                relative,
                canonical,
                utf8: dir.utf8 && utf8,
            };
            self.walk(&sub)?;
        }

        self.chain.pop();
        if let Some(i) = self.loops.iter().position(|(d, ..)| *d == depth) {
            if self.files.len() > files_before {
                let (_, path, target) = self.loops.swap_remove(i);
                return Err(SnapshotError::SymlinkLoop { path, target });
            }
            self.loops.retain(|(d, ..)| *d != depth);
        }
        Ok(())
    }
}

impl Walker<'_> {
    /// Looks inside a folder whose every path the rules exclude, for what could still be
    /// included: a linked folder resolving to a place the rules do not exclude (the SDK matches
    /// resolved folders, so what is seen through such a link is included). Only folders are
    /// listed here; no file is inspected. Listing errors are ignored, as `os.walk` ignores them
    /// and nothing below is included anyway.
    fn probe_links(
        &mut self,
        path: &Path,
        relative: &str,
        utf8: bool,
        seen: &mut HashSet<PathBuf>,
    ) -> Result<(), SnapshotError> {
        let Some(rules) = self.rules else {
            return Ok(());
        };
        let Ok(entries) = fs::read_dir(path) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let sub_relative = join(relative, &name.to_string_lossy());
            let sub_utf8 = utf8 && name.to_str().is_some();
            if file_type.is_dir() {
                self.probe_links(&entry.path(), &sub_relative, sub_utf8, seen)?;
                continue;
            }
            if !file_type.is_symlink() {
                continue;
            }
            let sub_path = entry.path();
            let Ok(canonical) = fs::canonicalize(&sub_path) else {
                continue;
            };
            if !canonical.is_dir() || !seen.insert(canonical.clone()) {
                continue;
            }
            if let Some(ancestor) = self.chain.iter().position(|c| *c == canonical) {
                self.loops.push((ancestor, sub_path, canonical));
                continue;
            }
            if rules
                .excludes_everything_below(&rules.match_path(&canonical))
                .is_some()
            {
                self.probe_links(&sub_path, &sub_relative, sub_utf8, seen)?;
            } else {
                let sub = Dir {
                    path: sub_path,
                    relative: sub_relative,
                    canonical,
                    utf8: sub_utf8,
                };
                self.walk(&sub)?;
            }
        }
        Ok(())
    }
}

/// What a directory entry is once links are followed (`os.walk` asks `entry.is_dir()`).
enum Kind {
    Dir {
        link: bool,
    },
    /// A regular file; its size is looked up later, in parallel, unless it came with a link.
    File {
        size: Option<u64>,
    },
    /// A pipe, socket or device.
    Special,
    /// A link that cannot be followed (dangling, or a loop of links).
    Unresolvable(io::Error),
}

impl Kind {
    fn of(entry: &DirEntry) -> Result<Kind, SnapshotError> {
        let file_type = entry.file_type().map_err(|e| io_error(&entry.path(), e))?;
        if file_type.is_dir() {
            return Ok(Kind::Dir { link: false });
        }
        if file_type.is_file() {
            return Ok(Kind::File { size: None });
        }
        if !file_type.is_symlink() {
            return Ok(Kind::Special);
        }
        Ok(match fs::metadata(entry.path()) {
            Ok(meta) if meta.is_dir() => Kind::Dir { link: true },
            Ok(meta) if meta.is_file() => Kind::File {
                size: Some(meta.len()),
            },
            Ok(_) => Kind::Special,
            Err(e) => Kind::Unresolvable(e),
        })
    }
}

/// Marks a size still to be looked up by [`fill_sizes`].
const UNKNOWN_SIZE: u64 = u64::MAX;

/// Looks up the sizes the walk left unknown (most of them: the walk itself only lists folders),
/// on a few threads when there are many files.
fn fill_sizes(files: &mut [SnapshotFile]) -> Result<(), SnapshotError> {
    const PER_THREAD: usize = 2048;
    let threads = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(files.len().div_ceil(PER_THREAD))
        .max(1);
    let chunk = files.len().div_ceil(threads).max(1);
    let fill = |part: &mut [SnapshotFile]| -> Result<(), SnapshotError> {
        for file in part.iter_mut().filter(|f| f.size == UNKNOWN_SIZE) {
            let meta = fs::symlink_metadata(&file.path).map_err(|e| io_error(&file.path, e))?;
            if !meta.is_file() {
                return Err(SnapshotError::NotRegularFile {
                    path: file.path.clone(),
                });
            }
            file.size = meta.len();
        }
        Ok(())
    };
    if threads == 1 {
        return fill(files);
    }
    thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks_mut(chunk)
            .map(|part| scope.spawn(move || fill(part)))
            .collect();
        // The first error in file order wins, whatever thread finished first.
        handles
            .into_iter()
            .try_for_each(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn join_match(dir: &str, name: &str) -> String {
    if dir == "." {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn io_error(path: &Path, e: io::Error) -> SnapshotError {
    SnapshotError::io("inspect", path, e)
}

fn list_error(path: &Path, e: io::Error) -> SnapshotError {
    SnapshotError::io("list", path, e)
}
