//! [`Snapshot::scan`]: the SDK's `os.walk(root, followlinks=True)` + ignore-file filter.
//!
//! The order is the SDK's: it sorts `(path, relative)` pairs by `relative.lower()` with Python's
//! stable sort, starting from `os.walk` order (per folder: its files in directory order, then
//! each sub-folder in directory order). Here each folder sorts its own entries by lowercased
//! name (a sub-folder's name followed by `/`, since it is the prefix of its files' paths; ties
//! in directory order), and sub-folders are walked in parallel (rayon) and joined in that order.
//! That is already the whole list's order unless two sibling folders' names differ only in case
//! (their files then interleave); a linear check finds out, and only then is the whole list
//! sorted, ties kept in walk order. Names that differ only in case therefore come out as in the
//! SDK. Errors (a broken link, a pipe, a name that is not UTF-8...) are reported for the first
//! such file the walk meets, each folder's entries taken in that order: the same file whatever
//! order the directories list their entries in (between two folders whose names differ only
//! in case, the one listed first is walked first).
//!
//! Folders are listed through [`Folder`]: on Linux an open handle read with `getdents64`, each
//! file's size asked of it with `statx`, which spares the kernel a lookup of the whole path per
//! file and the walk an allocation per entry.
//!
//! The ignore rules see each file as the SDK builds it: the *resolved* folder path joined with the
//! file name, made relative to the ignore file's (resolved) folder. Inside a linked folder that
//! points outside the root, paths therefore start with `../`, as in the SDK.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::folder::{self, EntryKind, Folder, Name};
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
    let folder = Folder::open(root).map_err(|e| list_error(root, e))?;
    let found = walker.walk(
        &Dir {
            path: root.to_path_buf(),
            relative: String::new(),
            canonical,
            utf8: true,
        },
        &folder,
        None,
    )?;
    // The walk lists each folder in order; only names differing in case alone (or links found
    // inside an excluded folder) can leave the whole list out of order.
    let files = if in_order(&found.files) {
        found.files
    } else {
        sorted(found.files, |f| &f.relative)
    };
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

/// Whether ASCII paths are already in [`sorted`]'s order (ties count as in order: they are in
/// walk order).
fn in_order(files: &[SnapshotFile]) -> bool {
    files.par_iter().all(|f| f.relative.is_ascii())
        && files.par_windows(2).all(|pair| {
            let (a, b) = (pair[0].relative.as_bytes(), pair[1].relative.as_bytes());
            let common = common_prefix(a, b);
            a[common..]
                .iter()
                .map(u8::to_ascii_lowercase)
                .cmp(b[common..].iter().map(u8::to_ascii_lowercase))
                .is_le()
        })
}

/// The length of the longest common prefix, 16 bytes at a time while it lasts.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut n = 0;
    while let (Some(x), Some(y)) = (a[n..].first_chunk::<16>(), b[n..].first_chunk::<16>())
        && x == y
    {
        n += 16;
    }
    n + a[n..]
        .iter()
        .zip(&b[n..])
        .take_while(|(x, y)| x == y)
        .count()
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

/// An entry of a folder being walked, with its sort key (a range of the folder's key buffer)
/// and its place in the listing.
struct Item {
    key: std::ops::Range<usize>,
    index: usize,
    what: What,
}

enum What {
    File(SnapshotFile),
    Dir(SubDir),
    /// A sub-folder handed to the parallel walk.
    Walked,
    /// What the SDK would fail on, or this walk refuses (reported if first in order).
    Error(SnapshotError),
}

/// A sub-folder met while listing a folder.
struct SubDir {
    path: PathBuf,
    relative: String,
    utf8: bool,
    link: bool,
}

impl Walker<'_> {
    /// Walks `dir`, open as `folder`.
    fn walk(
        &self,
        dir: &Dir,
        folder: &Folder,
        parent: Option<&Chain<'_>>,
    ) -> Result<Found, SnapshotError> {
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
        // The folder's included files, sub-folders and errors, each with its sort key (the
        // lowercased name, `/` after a folder's) in `keys`.
        let mut items = Vec::new();
        let mut keys = Vec::new();
        folder.each(
            |listed_name, listed| {
                let name = folder::os(listed_name);
                let name_text = name.to_string_lossy();
                let relative = join(&dir.relative, &name_text);
                let what = match Kind::of(folder, &dir.path, listed_name, listed) {
                    Err(e) => What::Error(e),
                    Ok(Kind::Dir { link }) => What::Dir(SubDir {
                        path: child(&dir.path, name),
                        relative,
                        utf8: dir.utf8 && name.to_str().is_some(),
                        link,
                    }),
                    Ok(kind) => {
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
                            return Ok(());
                        }
                        match self.file(folder, listed_name, dir, kind) {
                            Ok((path, size)) => What::File(SnapshotFile {
                                relative,
                                path,
                                size,
                            }),
                            Err(e) => What::Error(e),
                        }
                    }
                };
                let start = keys.len();
                if name_text.is_ascii() {
                    keys.extend(name_text.bytes().map(|b| b.to_ascii_lowercase()));
                } else {
                    keys.extend_from_slice(name_text.to_lowercase().as_bytes());
                }
                if matches!(what, What::Dir(_)) {
                    keys.push(b'/');
                }
                items.push(Item {
                    key: start..keys.len(),
                    index: items.len(),
                    what,
                });
                Ok(())
            },
            |e| list_error(&dir.path, e),
        )?;

        // The SDK's order among siblings: by lowercased name (a folder's as the prefix of its
        // files' paths), ties in listing order. Below a folder all paths share its prefix, so
        // this is the order of the whole list unless two folders' names differ only in case;
        // `scan` checks.
        items.sort_unstable_by(|a, b| {
            keys[a.key.clone()]
                .cmp(&keys[b.key.clone()])
                .then(a.index.cmp(&b.index))
        });
        // Sub-folders in parallel; joined in order, the first error in that order wins.
        let mut subs = items
            .iter_mut()
            .filter_map(
                |item| match std::mem::replace(&mut item.what, What::Walked) {
                    What::Dir(sub) => Some(sub),
                    other => {
                        item.what = other;
                        None
                    }
                },
            )
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|sub| self.sub_dir(sub, dir, folder, &chain))
            .collect::<Vec<_>>()
            .into_iter();
        for item in items {
            match item.what {
                What::File(file) => found.files.push(file),
                What::Error(e) => return Err(e),
                What::Walked => found.append(subs.next().expect("one result per sub-folder")?),
                What::Dir(_) => unreachable!("every sub-folder was walked above"),
            }
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

    /// The path and size of a file the rules keep (`kind` is not a folder).
    fn file(
        &self,
        folder: &Folder,
        listed_name: &Name,
        dir: &Dir,
        kind: Kind,
    ) -> Result<(PathBuf, u64), SnapshotError> {
        let name = folder::os(listed_name);
        let path = child(&dir.path, name);
        if !dir.utf8 || name.to_str().is_none() {
            return Err(SnapshotError::NonUtf8Name { path });
        }
        let size = match kind {
            Kind::File { size: Some(size) } => size,
            // Asked of the folder's handle: no lookup of the whole path.
            Kind::File { size: None } => match folder.stat(listed_name, false) {
                Ok(stat) if stat.kind == EntryKind::File => stat.size,
                Ok(_) => return Err(SnapshotError::NotRegularFile { path }),
                Err(e) => return Err(io_error(&path, e)),
            },
            Kind::Special => return Err(SnapshotError::NotRegularFile { path }),
            Kind::Unresolvable(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SnapshotError::BrokenSymlink { path });
            }
            Kind::Unresolvable(e) => return Err(io_error(&path, e)),
            Kind::Dir { .. } => unreachable!("folders are walked, not read"),
        };
        Ok((path, size))
    }

    /// Walks a sub-folder of `dir`, unless it leads back into the chain or the rules exclude
    /// everything below it.
    fn sub_dir(
        &self,
        sub: SubDir,
        dir: &Dir,
        folder: &Folder,
        chain: &Chain<'_>,
    ) -> Result<Found, SnapshotError> {
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
        let sub_folder = folder
            .open_sub(sub.path.file_name().unwrap_or_default(), &sub.path)
            .map_err(|e| list_error(&sub.path, e))?;
        let sub = Dir {
            path: sub.path,
            relative: sub.relative,
            canonical,
            utf8: sub.utf8,
        };
        self.walk(&sub, &sub_folder, Some(chain))
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
                let sub_folder = Folder::open(&sub_path).map_err(|e| list_error(&sub_path, e))?;
                let sub = Dir {
                    path: sub_path,
                    relative: sub_relative,
                    canonical,
                    utf8: sub_utf8,
                };
                found.append(self.walk(&sub, &sub_folder, Some(chain))?);
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
    /// A regular file; its size is looked up once the ignore rules have kept it, unless the
    /// lookup that told its type gave it already (a link, or a listing without types).
    File {
        size: Option<u64>,
    },
    /// A pipe, socket or device.
    Special,
    /// A link that cannot be followed (dangling, or a loop of links).
    Unresolvable(io::Error),
}

impl Kind {
    fn of(
        folder: &Folder,
        dir: &Path,
        name: &Name,
        listed: EntryKind,
    ) -> Result<Kind, SnapshotError> {
        // Not told by the listing: one lookup gives the type, and a file's size with it.
        let (listed, size) = match listed {
            EntryKind::Unknown => match folder.stat(name, false) {
                Ok(stat) => (stat.kind, Some(stat.size)),
                Err(e) => return Err(io_error(&child(dir, folder::os(name)), e)),
            },
            known => (known, None),
        };
        Ok(match listed {
            EntryKind::Dir => Kind::Dir { link: false },
            EntryKind::File => Kind::File { size },
            EntryKind::Other | EntryKind::Unknown => Kind::Special,
            EntryKind::Symlink => match folder.stat(name, true) {
                Ok(stat) if stat.kind == EntryKind::Dir => Kind::Dir { link: true },
                Ok(stat) if stat.kind == EntryKind::File => Kind::File {
                    size: Some(stat.size),
                },
                Ok(_) => Kind::Special,
                Err(e) => Kind::Unresolvable(e),
            },
        })
    }
}

/// `dir.join(name)` in one allocation (`join` copies `dir`, then grows the copy).
fn child(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    let mut path = PathBuf::with_capacity(dir.as_os_str().len() + 1 + name.len());
    path.push(dir);
    path.push(name);
    path
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::ffi::CString;
    use std::fs;

    use super::{EntryKind, Folder, Kind};

    /// File systems that do not say an entry's type in the listing (`DT_UNKNOWN`) get it
    /// asked of the folder instead, links followed as for any other entry.
    #[test]
    fn entries_of_unknown_type_are_looked_up() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::write(root.join("file.txt"), b"12345").unwrap();
        fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink("file.txt", root.join("to_file")).unwrap();
        std::os::unix::fs::symlink("sub", root.join("to_dir")).unwrap();
        std::os::unix::fs::symlink("missing", root.join("dangling")).unwrap();
        let folder = Folder::open(root).unwrap();
        let of = |name: &str| {
            let name = CString::new(name).unwrap();
            Kind::of(&folder, root, &name, EntryKind::Unknown).unwrap()
        };
        assert!(matches!(of("file.txt"), Kind::File { .. }));
        assert!(matches!(of("sub"), Kind::Dir { link: false }));
        assert!(matches!(of("to_file"), Kind::File { size: Some(5) }));
        assert!(matches!(of("to_dir"), Kind::Dir { link: true }));
        assert!(
            matches!(of("dangling"), Kind::Unresolvable(e) if e.kind() == std::io::ErrorKind::NotFound)
        );
        let missing = CString::new("gone").unwrap();
        let err = Kind::of(&folder, root, &missing, EntryKind::Unknown)
            .err()
            .expect("a vanished entry is an error");
        assert_eq!(err.path(), root.join("gone"));
    }
}
