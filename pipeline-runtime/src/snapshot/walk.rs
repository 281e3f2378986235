//! [`Snapshot::scan`]: the SDK's `os.walk(root, followlinks=True)` + ignore-file filter.
//!
//! Order matters for ties only: the SDK sorts `(path, relative)` pairs by `relative.lower()`
//! with Python's stable sort, starting from `os.walk` order (per folder: its files in directory
//! order, then each sub-folder in directory order). The walk below produces that order and the
//! sort is stable too, so even names that differ only in case come out as in the SDK.
//!
//! Sub-folders are walked in parallel (rayon), and their results joined in walk order, so the
//! list, and the first error in it, are those of a sequential walk. Each file's size is asked
//! of its folder's open handle (`statx` relative to it), which spares the kernel a lookup of
//! the whole path per file.
//!
//! The ignore rules see each file as the SDK builds it: the *resolved* folder path joined with the
//! file name, made relative to the ignore file's (resolved) folder. Inside a linked folder that
//! points outside the root, paths therefore start with `../`, as in the SDK.

use std::collections::HashSet;
use std::fs::{self, DirEntry};
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

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
    let walker = Walker {
        rules: rules.as_ref(),
    };
    let found = walker.walk(
        &Dir {
            path: root.to_path_buf(),
            relative: String::new(),
            canonical,
            utf8: true,
        },
        None,
    )?;
    let files = sorted(found.files, |f| &f.relative);
    let excluded = sorted(found.excluded, |e| &e.relative);
    let total_size = files.iter().map(|f| f.size).sum();
    Ok(Snapshot {
        root: root.to_path_buf(),
        files,
        excluded,
        ignore_file,
        total_size,
    })
}

/// Python's `sorted(key=lambda x: x[1].lower())`: stable, by code point of the lowercased text
/// (UTF-8 byte order is code point order). The keys are made once, the sort is parallel, and
/// ties are broken by walk position, which keeps it stable.
fn sorted<T: Send + Sync>(items: Vec<T>, relative: impl Fn(&T) -> &str + Sync) -> Vec<T> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    if items.iter().all(|item| relative(item).is_ascii()) {
        // ASCII lowercases byte by byte: every key in one buffer, compared as bytes.
        let mut keys = Vec::with_capacity(items.iter().map(|i| relative(i).len()).sum());
        let mut spans = Vec::with_capacity(items.len());
        for item in &items {
            let start = keys.len();
            keys.extend(relative(item).bytes().map(|b| b.to_ascii_lowercase()));
            spans.push(start..keys.len());
        }
        let key = |i: usize| &keys[spans[i].clone()];
        order.par_sort_unstable_by(|&a, &b| key(a).cmp(key(b)).then(a.cmp(&b)));
    } else {
        let keys: Vec<String> = items
            .par_iter()
            .map(|item| relative(item).to_lowercase())
            .collect();
        order.par_sort_unstable_by(|&a, &b| keys[a].cmp(&keys[b]).then(a.cmp(&b)));
    }
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| slots[i].take().expect("each index once"))
        .collect()
}

struct Walker<'r> {
    rules: Option<&'r IgnoreRules>,
}

/// What a folder's walk found, in walk order.
#[derive(Default)]
struct Found {
    files: Vec<SnapshotFile>,
    excluded: Vec<Excluded>,
    /// Links found to lead back into an ancestor: (the ancestor's depth, link, target).
    loops: Vec<(usize, PathBuf, PathBuf)>,
}

impl Found {
    fn append(&mut self, mut other: Found) {
        self.files.append(&mut other.files);
        self.excluded.append(&mut other.excluded);
        self.loops.append(&mut other.loops);
    }
}

/// The resolved paths of the folders being walked, innermost first (a list shared by the
/// parallel walks below a folder).
struct Chain<'a> {
    canonical: &'a Path,
    depth: usize,
    parent: Option<&'a Chain<'a>>,
}

impl Chain<'_> {
    /// The depth of the folder in the chain resolving to `canonical`, if any.
    fn find(&self, canonical: &Path) -> Option<usize> {
        let mut link = Some(self);
        while let Some(chain) = link {
            if chain.canonical == canonical {
                return Some(chain.depth);
            }
            link = chain.parent;
        }
        None
    }
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

/// A sub-folder met while listing a folder.
struct SubDir {
    path: PathBuf,
    relative: String,
    utf8: bool,
    link: bool,
}

impl Walker<'_> {
    fn walk(&self, dir: &Dir, parent: Option<&Chain<'_>>) -> Result<Found, SnapshotError> {
        let chain = Chain {
            canonical: &dir.canonical,
            depth: parent.map_or(0, |p| p.depth + 1),
            parent,
        };
        // What the rules match a file of this folder against: the folder's match path, `/`,
        // the file name (one buffer, the name replaced per file).
        let mut match_buf = self.rules.map(|r| {
            let dir = r.match_path(&dir.canonical);
            if dir == "." { String::new() } else { dir + "/" }
        });
        let match_base = match_buf.as_ref().map_or(0, String::len);

        let mut found = Found::default();
        let entries = fs::read_dir(&dir.path).map_err(|e| list_error(&dir.path, e))?;
        let mut subdirs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| list_error(&dir.path, e))?;
            let kind = Kind::of(&entry)?;
            let name = entry.file_name();
            let name_text = name.to_string_lossy();
            let relative = join(&dir.relative, &name_text);
            if let Kind::Dir { link } = kind {
                subdirs.push(SubDir {
                    path: entry.path(),
                    relative,
                    utf8: dir.utf8 && name.to_str().is_some(),
                    link,
                });
                continue;
            }

            if let (Some(rules), Some(buf)) = (self.rules, &mut match_buf)
                && let Some(verdict) = {
                    buf.truncate(match_base);
                    buf.push_str(&name_text);
                    rules.excluded(buf)
                }
            {
                found.excluded.push(Excluded {
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
                Kind::File { size: Some(size) } => size,
                // Asked of the folder's handle: no lookup of the whole path.
                Kind::File { size: None } => match entry.metadata() {
                    Ok(meta) if meta.is_file() => meta.len(),
                    Ok(_) => return Err(SnapshotError::NotRegularFile { path }),
                    Err(e) => return Err(io_error(&path, e)),
                },
                Kind::Special => return Err(SnapshotError::NotRegularFile { path }),
                Kind::Unresolvable(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(SnapshotError::BrokenSymlink { path });
                }
                Kind::Unresolvable(e) => return Err(io_error(&path, e)),
                Kind::Dir { .. } => unreachable!("folders were set aside above"),
            };
            found.files.push(SnapshotFile {
                relative,
                path,
                size,
            });
        }

        // Sub-folders in parallel; joined in order, the first error in walk order wins.
        let subs: Vec<Result<Found, SnapshotError>> = subdirs
            .into_par_iter()
            .map(|sub| self.sub_dir(sub, dir, &chain))
            .collect();
        for sub in subs {
            found.append(sub?);
        }

        if let Some(i) = found.loops.iter().position(|(d, ..)| *d == chain.depth) {
            // Walking the link would repeat this folder (the SDK goes round until the OS refuses
            // the path). The repeated files are judged by the same resolved paths, so the loop
            // matters only if this folder includes any file.
            if !found.files.is_empty() {
                let (_, path, target) = found.loops.swap_remove(i);
                return Err(SnapshotError::SymlinkLoop { path, target });
            }
            found.loops.retain(|(d, ..)| *d != chain.depth);
        }
        Ok(found)
    }

    /// Walks a sub-folder of `dir`, unless it leads back into the chain or the rules exclude
    /// everything below it.
    fn sub_dir(&self, sub: SubDir, dir: &Dir, chain: &Chain<'_>) -> Result<Found, SnapshotError> {
        let canonical = if sub.link {
            fs::canonicalize(&sub.path).map_err(|e| io_error(&sub.path, e))?
        } else {
            dir.canonical.join(sub.path.file_name().unwrap_or_default())
        };
        let mut found = Found::default();
        if let Some(ancestor) = chain.find(&canonical) {
            found.loops.push((ancestor, sub.path, canonical));
            return Ok(found);
        }
        if let Some(rules) = self.rules {
            let match_path = rules.match_path(&canonical);
            if let Some(verdict) = rules.excludes_everything_below(&match_path) {
                found.excluded.push(Excluded {
                    relative: sub.relative.clone() + "/",
                    rule: verdict.text.to_string(),
                    source: rules.source().to_path_buf(),
                    line: verdict.line,
                });
                let mut seen = HashSet::from([canonical]);
                self.probe_links(
                    &sub.path,
                    &sub.relative,
                    sub.utf8,
                    chain,
                    &mut seen,
                    &mut found,
                )?;
                return Ok(found);
            }
        }
        let sub = Dir {
            path: sub.path,
            relative: sub.relative,
            canonical,
            utf8: sub.utf8,
        };
        self.walk(&sub, Some(chain))
    }

    /// Looks inside a folder whose every path the rules exclude, for what could still be
    /// included: a linked folder resolving to a place the rules do not exclude (the SDK matches
    /// resolved folders, so what is seen through such a link is included). Only folders are
    /// listed here; no file is inspected. Listing errors are ignored, as `os.walk` ignores them
    /// and nothing below is included anyway.
    fn probe_links(
        &self,
        path: &Path,
        relative: &str,
        utf8: bool,
        chain: &Chain<'_>,
        seen: &mut HashSet<PathBuf>,
        found: &mut Found,
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
                self.probe_links(&entry.path(), &sub_relative, sub_utf8, chain, seen, found)?;
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
            if let Some(ancestor) = chain.find(&canonical) {
                found.loops.push((ancestor, sub_path, canonical));
                continue;
            }
            if rules
                .excludes_everything_below(&rules.match_path(&canonical))
                .is_some()
            {
                self.probe_links(&sub_path, &sub_relative, sub_utf8, chain, seen, found)?;
            } else {
                let sub = Dir {
                    path: sub_path,
                    relative: sub_relative,
                    canonical,
                    utf8: sub_utf8,
                };
                found.append(self.walk(&sub, Some(chain))?);
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
    /// A regular file; its size is looked up once the ignore rules have kept it, unless it
    /// came with a link.
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

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        return name.to_string();
    }
    let mut joined = String::with_capacity(dir.len() + 1 + name.len());
    joined.push_str(dir);
    joined.push('/');
    joined.push_str(name);
    joined
}

fn io_error(path: &Path, e: io::Error) -> SnapshotError {
    SnapshotError::io("inspect", path, e)
}

fn list_error(path: &Path, e: io::Error) -> SnapshotError {
    SnapshotError::io("list", path, e)
}
