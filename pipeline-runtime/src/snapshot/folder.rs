//! Listing one folder for [`walk`](super::walk): each entry's name and kind, and a file's size.
//!
//! On Linux a folder is an open handle: entries come from `getdents64` into one reused buffer
//! (no allocation per entry), sizes from `statx` relative to the handle asking for the type and
//! size only, and sub-folders are opened relative to it. That is one path lookup per file
//! instead of one per path component, and about a third less CPU than `std::fs::read_dir` with
//! `DirEntry::metadata` on the 20,000-file benchmark tree. Elsewhere a folder is its path and
//! the standard library does the work.

#[cfg(target_os = "linux")]
pub(super) use handle::{Folder, Name, os};
#[cfg(not(target_os = "linux"))]
pub(super) use portable::{Folder, Name, os};

/// What a directory entry is, as the listing tells it (links not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EntryKind {
    Dir,
    File,
    Symlink,
    /// A pipe, socket or device.
    Other,
    /// The file system does not say: ask [`Folder::stat`].
    Unknown,
}

/// What [`Folder::stat`] found.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stat {
    /// `Dir`, `File`, `Symlink` (only when not following links) or `Other`.
    pub(super) kind: EntryKind,
    pub(super) size: u64,
}

/// Linux: a folder is an open handle.
#[cfg(target_os = "linux")]
mod handle {
    use std::ffi::{CStr, OsStr};
    use std::io;
    use std::mem::MaybeUninit;
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, RawDir, StatxFlags};

    use super::{EntryKind, Stat};

    /// An entry's name as the listing gives it, NUL-terminated: asking for its size copies
    /// nothing.
    pub(crate) type Name = CStr;

    /// The name as an `OsStr`.
    pub(crate) fn os(name: &Name) -> &OsStr {
        OsStr::from_bytes(name.to_bytes())
    }

    /// An open folder.
    pub(crate) struct Folder {
        fd: OwnedFd,
    }

    /// Bytes of directory entries asked for per `getdents64`.
    const LISTING_BUFFER: usize = 32 * 1024;

    const DIR_FLAGS: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::CLOEXEC)
        .union(OFlags::NOCTTY);

    impl Folder {
        pub(crate) fn open(path: &Path) -> io::Result<Folder> {
            let fd = rustix::fs::openat(CWD, path, DIR_FLAGS, Mode::empty())?;
            Ok(Folder { fd })
        }

        pub(crate) fn open_sub(&self, name: &OsStr, _path: &Path) -> io::Result<Folder> {
            let fd = rustix::fs::openat(self.fd.as_fd(), name, DIR_FLAGS, Mode::empty())?;
            Ok(Folder { fd })
        }

        pub(crate) fn each<E>(
            &self,
            mut f: impl FnMut(&CStr, EntryKind) -> Result<(), E>,
            list_error: impl Fn(io::Error) -> E,
        ) -> Result<(), E> {
            let mut buf = [MaybeUninit::<u8>::uninit(); LISTING_BUFFER];
            let mut dir = RawDir::new(self.fd.as_fd(), &mut buf);
            while let Some(entry) = dir.next() {
                let entry = entry.map_err(|e| list_error(e.into()))?;
                let name = entry.file_name();
                if matches!(name.to_bytes(), b"." | b"..") {
                    continue;
                }
                f(name, kind(entry.file_type()))?;
            }
            Ok(())
        }

        pub(crate) fn stat(&self, name: &CStr, follow: bool) -> io::Result<Stat> {
            let flags = if follow {
                AtFlags::empty()
            } else {
                AtFlags::SYMLINK_NOFOLLOW
            };
            let stat = rustix::fs::statx(
                self.fd.as_fd(),
                name,
                flags,
                StatxFlags::TYPE | StatxFlags::SIZE,
            )?;
            Ok(Stat {
                kind: kind(FileType::from_raw_mode(stat.stx_mode.into())),
                size: stat.stx_size,
            })
        }
    }

    fn kind(file_type: FileType) -> EntryKind {
        match file_type {
            FileType::Directory => EntryKind::Dir,
            FileType::RegularFile => EntryKind::File,
            FileType::Symlink => EntryKind::Symlink,
            FileType::Unknown => EntryKind::Unknown,
            _ => EntryKind::Other,
        }
    }
}

/// Elsewhere (and in this module's tests): a folder is its path.
#[cfg(any(not(target_os = "linux"), test))]
mod portable {
    use std::ffi::OsStr;
    use std::fs;
    use std::io;
    use std::path::{Path, PathBuf};

    use super::{EntryKind, Stat};

    /// An entry's name.
    pub(crate) type Name = OsStr;

    /// The name as an `OsStr`.
    pub(crate) fn os(name: &Name) -> &OsStr {
        name
    }

    /// A folder that could be listed when it was opened.
    pub(crate) struct Folder {
        path: PathBuf,
    }

    impl Folder {
        pub(crate) fn open(path: &Path) -> io::Result<Folder> {
            // Fails now, as opening a handle would, if the folder cannot be listed.
            fs::read_dir(path)?;
            Ok(Folder {
                path: path.to_path_buf(),
            })
        }

        pub(crate) fn open_sub(&self, _name: &OsStr, path: &Path) -> io::Result<Folder> {
            Folder::open(path)
        }

        pub(crate) fn each<E>(
            &self,
            mut f: impl FnMut(&OsStr, EntryKind) -> Result<(), E>,
            list_error: impl Fn(io::Error) -> E,
        ) -> Result<(), E> {
            for entry in fs::read_dir(&self.path).map_err(&list_error)? {
                let entry = entry.map_err(&list_error)?;
                let kind = match entry.file_type() {
                    Ok(t) => kind(t),
                    Err(_) => EntryKind::Unknown,
                };
                f(&entry.file_name(), kind)?;
            }
            Ok(())
        }

        pub(crate) fn stat(&self, name: &OsStr, follow: bool) -> io::Result<Stat> {
            let path = self.path.join(name);
            let meta = if follow {
                fs::metadata(path)?
            } else {
                fs::symlink_metadata(path)?
            };
            Ok(Stat {
                kind: kind(meta.file_type()),
                size: meta.len(),
            })
        }
    }

    fn kind(file_type: fs::FileType) -> EntryKind {
        if file_type.is_dir() {
            EntryKind::Dir
        } else if file_type.is_file() {
            EntryKind::File
        } else if file_type.is_symlink() {
            EntryKind::Symlink
        } else {
            EntryKind::Other
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::collections::BTreeMap;
    use std::fs;
    use std::io;
    use std::path::Path;

    use super::{EntryKind, handle, portable};

    /// Each entry's kind as listed, and its stat without and with following links.
    type Seen = BTreeMap<
        String,
        (
            EntryKind,
            Option<(EntryKind, u64)>,
            Option<(EntryKind, u64)>,
        ),
    >;

    /// What listing `path` through one implementation's `Folder` sees.
    macro_rules! seen_through {
        ($imp:ident, $path:expr) => {{
            let folder = $imp::Folder::open($path).unwrap();
            let mut seen = Seen::new();
            folder
                .each(
                    |name, kind| {
                        let stat =
                            |follow| folder.stat(name, follow).ok().map(|s| (s.kind, s.size));
                        let key = $imp::os(name).to_string_lossy().into_owned();
                        seen.insert(key, (kind, stat(false), stat(true)));
                        Ok::<(), io::Error>(())
                    },
                    |e| e,
                )
                .unwrap();
            seen
        }};
    }

    fn through_handle(path: &Path) -> Seen {
        seen_through!(handle, path)
    }

    fn through_path(path: &Path) -> Seen {
        seen_through!(portable, path)
    }

    #[test]
    fn handle_and_path_listings_agree() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::write(root.join("file.txt"), b"12345").unwrap();
        fs::write(root.join("empty"), b"").unwrap();
        fs::create_dir_all(root.join("sub/inner")).unwrap();
        fs::write(root.join("sub/inner/deep.bin"), vec![7u8; 70_000]).unwrap();
        std::os::unix::fs::symlink("file.txt", root.join("to_file")).unwrap();
        std::os::unix::fs::symlink("sub", root.join("to_dir")).unwrap();
        std::os::unix::fs::symlink("missing", root.join("dangling")).unwrap();
        let long = "n".repeat(255);
        fs::write(root.join(&long), b"long name").unwrap();

        let seen = through_handle(root);
        assert_eq!(seen, through_path(root));
        assert_eq!(
            seen["file.txt"],
            (
                EntryKind::File,
                Some((EntryKind::File, 5)),
                Some((EntryKind::File, 5))
            )
        );
        assert_eq!(seen["to_file"].0, EntryKind::Symlink);
        assert_eq!(seen["to_file"].1.unwrap().0, EntryKind::Symlink);
        assert_eq!(seen["to_file"].2, Some((EntryKind::File, 5)));
        assert_eq!(seen["to_dir"].2.unwrap().0, EntryKind::Dir);
        assert_eq!(seen["dangling"].2, None);
        assert_eq!(seen[&long].1, Some((EntryKind::File, 9)));
        assert!(!seen.contains_key(".") && !seen.contains_key(".."));
        assert_eq!(seen.len(), 7);

        // Sub-folders opened relative to their parent list the same as opened by path.
        let parent = handle::Folder::open(root).unwrap();
        let sub = parent.open_sub("sub".as_ref(), &root.join("sub")).unwrap();
        let mut names = Vec::new();
        sub.each(
            |name, kind| {
                names.push((handle::os(name).to_owned(), kind));
                Ok::<(), io::Error>(())
            },
            |e| e,
        )
        .unwrap();
        assert_eq!(names, [("inner".into(), EntryKind::Dir)]);
        let by_path = portable::Folder::open(root)
            .unwrap()
            .open_sub("sub".as_ref(), &root.join("sub"))
            .unwrap();
        let mut by_path_names = Vec::new();
        by_path
            .each(
                |name, kind| {
                    by_path_names.push((name.to_owned(), kind));
                    Ok::<(), io::Error>(())
                },
                |e| e,
            )
            .unwrap();
        assert_eq!(names, by_path_names);
        assert!(handle::Folder::open(&root.join("file.txt")).is_err());
        assert!(portable::Folder::open(&root.join("file.txt")).is_err());
    }
}
