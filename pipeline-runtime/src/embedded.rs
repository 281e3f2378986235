//! Step folders and data defaults built into a pipeline binary, so that the binary ships alone.
//!
//! `#[step(source_dir = "...")]` and a `#[default("data/x.csv")]` of a `#[pipeline]` name paths
//! relative to the crate. The macros embed the files found there when the crate is built (with
//! `include_bytes!`, so editing one rebuilds the binary) and hand them to [`step_root`] and
//! [`data_default`]:
//!
//! * while the crate's folder is where it was built (development), the files there are used, so
//!   an edit to a script is picked up even before the next build;
//! * otherwise (the binary was copied to another folder or machine: a CI job, a container), the
//!   embedded files are unpacked once into a cache folder named after their content, and used
//!   from there. The snapshot of an unpacked folder holds the same files as the source folder
//!   did, so its content hash, and every code asset and reuse decision that hangs on it, is the
//!   same.
//!
//! The cache folder is `AZUREML_EMBED_CACHE` if set, else
//! `$XDG_CACHE_HOME/azureml-pipelines/embedded`, else `~/.cache/azureml-pipelines/embedded`, else
//! the system's temporary folder. `AZUREML_EMBEDDED=always` uses the embedded files even when
//! the source folders exist (to try a shipped binary where it was built); `never` uses only the
//! source folders.
//!
//! What is embedded: every file of a step folder except those a simple `.amlignore` (or, without
//! one, `.gitignore`) line certainly excludes (`name`, `name/`, `*.ext`); anything else is kept,
//! and the snapshot applies the full rules to the unpacked copy as it does to the source. A step
//! folder over 64 MiB or 5,000 files, or a data default over 16 MiB, is not embedded: ship it
//! next to the binary at the path the build used. A file *added* to a step folder does not by
//! itself rebuild the binary (Rust has no stable way for a macro to watch a folder): touch the
//! file that declares the step, or `cargo clean -p` the crate, before building a binary to ship.
//! [`added_since_build`] finds such files, and `run`, `export` and `submit` say so. No pipeline
//! code runs from the cache: it holds the files a step's process is given.

use std::io;
use std::path::{Path, PathBuf};

use crate::graph::DefaultValue;

/// The environment variable naming the folder embedded files are unpacked into.
pub const CACHE_ENV: &str = "AZUREML_EMBED_CACHE";

/// The environment variable choosing between source folders and embedded files: `always`
/// (embedded files even when the source folders exist), `never` (source folders only), or
/// unset (source folders when they exist, else embedded files).
pub const USE_ENV: &str = "AZUREML_EMBEDDED";

/// One embedded file.
#[derive(Debug)]
pub struct EmbeddedFile {
    /// Its path relative to the crate folder, with `/` separators.
    pub path: &'static str,
    /// Its Unix permission bits.
    pub mode: u32,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// The embedded files of one step folder or data default.
#[derive(Debug)]
pub struct EmbeddedTree {
    /// A key for their content (paths, modes and bytes), computed when the crate was built.
    pub key: &'static str,
    /// The folder or file, relative to the crate folder, with `/` separators.
    pub root: &'static str,
    /// The files.
    pub files: &'static [EmbeddedFile],
}

/// Which copy to use, from [`USE_ENV`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prefer {
    Source,
    Embedded,
    SourceOnly,
}

fn prefer() -> Prefer {
    match std::env::var(USE_ENV).as_deref() {
        Ok("always") => Prefer::Embedded,
        Ok("never") => Prefer::SourceOnly,
        _ => Prefer::Source,
    }
}

/// Whether the crate's folder is used as the project folder: it exists where the crate was
/// built, and `AZUREML_EMBEDDED` is not `always`.
pub fn crate_folder_present(manifest_dir: &Path) -> bool {
    prefer() != Prefer::Embedded && manifest_dir.is_dir()
}

/// The step folders [`step_root`] was asked about, to check them for files added after the
/// build ([`added_since_build`]).
static STEP_TREES: std::sync::Mutex<Vec<(&'static str, &'static EmbeddedTree)>> =
    std::sync::Mutex::new(Vec::new());

/// A step folder that holds files its binary's built-in copy lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedSinceBuild {
    /// The folder, relative to the crate folder.
    pub root: &'static str,
    /// The files the snapshot takes that the binary lacks, relative to the folder.
    pub files: Vec<String>,
}

/// The step folders (of the pipelines built so far) that gained files after the binary was
/// built. `include_bytes!` rebuilds a binary when an embedded file changes or disappears, but
/// nothing tells the compiler about a new file: such a binary still runs correctly where it was
/// built (it reads the folder), but a copy shipped elsewhere would lack the new files. Only
/// folders read from the crate's folder are checked.
pub fn added_since_build() -> Vec<AddedSinceBuild> {
    let trees = STEP_TREES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    trees
        .into_iter()
        .filter(|(manifest_dir, tree)| {
            prefer() == Prefer::Source && Path::new(manifest_dir).join(tree.root).is_dir()
        })
        .filter_map(|(manifest_dir, tree)| added(Path::new(manifest_dir), tree))
        .collect()
}

fn added(manifest_dir: &Path, tree: &'static EmbeddedTree) -> Option<AddedSinceBuild> {
    let snapshot = crate::snapshot::Snapshot::scan(&manifest_dir.join(tree.root)).ok()?;
    let prefix = format!("{}/", tree.root);
    let built: std::collections::HashSet<&str> = tree
        .files
        .iter()
        .filter_map(|f| f.path.strip_prefix(&prefix))
        .collect();
    let files: Vec<String> = snapshot
        .files()
        .iter()
        .filter(|f| !built.contains(f.relative.as_str()))
        .map(|f| f.relative.clone())
        .collect();
    (!files.is_empty()).then_some(AddedSinceBuild {
        root: tree.root,
        files,
    })
}

/// The folder a step's `source_dir` is relative to: `manifest_dir` (where the crate was
/// built) when the folder exists there, else the cache folder the embedded copy was unpacked
/// into (mirroring the crate's layout). Falls back to `manifest_dir` if unpacking fails, so
/// the error then names the missing source folder.
pub fn step_root(manifest_dir: &'static str, tree: &'static EmbeddedTree) -> &'static str {
    {
        let mut trees = STEP_TREES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !trees.iter().any(|(_, t)| std::ptr::eq(*t, tree)) {
            trees.push((manifest_dir, tree));
        }
    }
    match resolve(Path::new(manifest_dir), tree, prefer(), &cache_dir()) {
        Some(root) => Box::leak(root.to_string_lossy().into_owned().into_boxed_str()),
        None => manifest_dir,
    }
}

/// A pipeline's data default: a local path relative to the crate stays as it is while it
/// exists there, else it becomes the absolute path of its unpacked embedded copy.
pub fn data_default(
    value: DefaultValue,
    manifest_dir: &str,
    tree: &'static EmbeddedTree,
) -> DefaultValue {
    match value {
        DefaultValue::Data(path) if path.trim_end_matches('/') == tree.root => {
            match resolve(Path::new(manifest_dir), tree, prefer(), &cache_dir()) {
                Some(root) => DefaultValue::Data(root.join(&path).to_string_lossy().into_owned()),
                None => DefaultValue::Data(path),
            }
        }
        other => other,
    }
}

/// The cache folder (see the module docs).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .map(|base| base.join("azureml-pipelines").join("embedded"))
        .unwrap_or_else(|| std::env::temp_dir().join("azureml-pipelines-embedded"))
}

/// `path` as a user wrote it when it is inside an unpacked copy (`examples/x/data/iris.csv`
/// rather than `~/.cache/…/<key>/examples/x/data/iris.csv`).
pub fn relative_to_cache(path: &Path) -> Option<PathBuf> {
    let rest = path.strip_prefix(cache_dir()).ok()?;
    let mut parts = rest.components();
    parts.next()?;
    let rel = parts.as_path();
    (!rel.as_os_str().is_empty()).then(|| rel.to_path_buf())
}

/// The root to use for `tree`, or `None` for `manifest_dir` itself.
fn resolve(
    manifest_dir: &Path,
    tree: &EmbeddedTree,
    prefer: Prefer,
    cache: &Path,
) -> Option<PathBuf> {
    let source_there = manifest_dir.join(tree.root).exists();
    match prefer {
        Prefer::SourceOnly => return None,
        Prefer::Source if source_there => return None,
        _ => {}
    }
    unpack(tree, cache)
        .or_else(|_| {
            unpack(
                tree,
                &std::env::temp_dir().join("azureml-pipelines-embedded"),
            )
        })
        .ok()
}

/// Unpacks `tree` into `cache/<key>/` (once: a complete copy is reused) and returns that folder.
fn unpack(tree: &EmbeddedTree, cache: &Path) -> io::Result<PathBuf> {
    let dest = cache.join(tree.key);
    if complete(&dest, tree) {
        return Ok(dest);
    }
    std::fs::create_dir_all(cache)?;
    // Written under a private name, then renamed: a reader never sees half a copy.
    let tmp = cache.join(format!(".tmp-{}-{}", tree.key, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let written = write_files(&tmp, tree);
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if std::fs::rename(&tmp, &dest).is_err() {
        // Another process got there first, or an incomplete copy is in the way.
        if !complete(&dest, tree) {
            let _ = std::fs::remove_dir_all(&dest);
            if std::fs::rename(&tmp, &dest).is_ok() {
                return Ok(dest);
            }
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if complete(&dest, tree) {
        Ok(dest)
    } else {
        Err(io::Error::other(format!(
            "cannot unpack the embedded `{}` into {}",
            tree.root,
            dest.display()
        )))
    }
}

fn write_files(dir: &Path, tree: &EmbeddedTree) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in tree.files {
        let path = dir.join(f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, f.bytes)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(f.mode & 0o777))?;
        }
    }
    // An empty folder is a folder still.
    let root = dir.join(tree.root);
    if tree.files.is_empty() {
        std::fs::create_dir_all(root)?;
    }
    Ok(())
}

/// Whether `dest` holds every file of `tree` at its size (a cheap check: the copy is only ever
/// written whole, then renamed into place).
fn complete(dest: &Path, tree: &EmbeddedTree) -> bool {
    dest.join(tree.root).exists()
        && tree.files.iter().all(|f| {
            std::fs::metadata(dest.join(f.path))
                .is_ok_and(|m| m.is_file() && m.len() == f.bytes.len() as u64)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Snapshot;

    fn leak_tree(root: &str, files: Vec<(&str, u32, Vec<u8>)>) -> &'static EmbeddedTree {
        let files: Vec<EmbeddedFile> = files
            .into_iter()
            .map(|(p, mode, b)| EmbeddedFile {
                path: Box::leak(p.to_owned().into_boxed_str()),
                mode,
                bytes: Box::leak(b.into_boxed_slice()),
            })
            .collect();
        Box::leak(Box::new(EmbeddedTree {
            key: "k0123456789abcdef",
            root: Box::leak(root.to_owned().into_boxed_str()),
            files: Box::leak(files.into_boxed_slice()),
        }))
    }

    #[test]
    fn a_missing_source_folder_is_unpacked_with_the_same_content_hash() {
        let d = tempfile::tempdir().unwrap();
        let crate_dir = d.path().join("crate");
        let src = crate_dir.join("steps/prep");
        std::fs::create_dir_all(src.join("lib")).unwrap();
        std::fs::write(src.join("prep.py"), "print('hi')\n").unwrap();
        std::fs::write(src.join("lib/util.py"), "X = 1\n").unwrap();
        std::fs::write(src.join(".amlignore"), "*.tmp\n").unwrap();
        let want = Snapshot::scan(&src).unwrap().content_hash().unwrap();
        let tree = leak_tree(
            "steps/prep",
            vec![
                ("steps/prep/.amlignore", 0o644, b"*.tmp\n".to_vec()),
                ("steps/prep/lib/util.py", 0o644, b"X = 1\n".to_vec()),
                ("steps/prep/prep.py", 0o755, b"print('hi')\n".to_vec()),
            ],
        );
        let cache = d.path().join("cache");

        // The source folder exists: it is used, nothing is unpacked.
        assert_eq!(resolve(&crate_dir, tree, Prefer::Source, &cache), None);
        assert!(!cache.exists());

        // The crate folder is gone (the binary was copied elsewhere): the embedded copy is used.
        let moved = d.path().join("moved");
        std::fs::rename(&crate_dir, &moved).unwrap();
        let root = resolve(&crate_dir, tree, Prefer::Source, &cache).unwrap();
        assert_eq!(root, cache.join(tree.key));
        let unpacked = root.join("steps/prep");
        assert_eq!(
            Snapshot::scan(&unpacked).unwrap().content_hash().unwrap(),
            want
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(unpacked.join("prep.py"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o755);
        }
        // Unpacked once: a second call reuses the copy.
        std::fs::write(unpacked.join("marker"), "").unwrap();
        assert_eq!(
            resolve(&crate_dir, tree, Prefer::Source, &cache),
            Some(root.clone())
        );
        assert!(unpacked.join("marker").exists());
        // A damaged copy (a file cut short) is written again.
        std::fs::write(unpacked.join("prep.py"), "").unwrap();
        let again = resolve(&crate_dir, tree, Prefer::Source, &cache).unwrap();
        assert_eq!(
            std::fs::read_to_string(again.join("steps/prep/prep.py")).unwrap(),
            "print('hi')\n"
        );
        // `never` sticks to the (missing) source folder.
        assert_eq!(resolve(&crate_dir, tree, Prefer::SourceOnly, &cache), None);
    }

    #[test]
    fn always_prefers_the_embedded_copy_and_data_defaults_become_absolute() {
        let d = tempfile::tempdir().unwrap();
        let crate_dir = d.path().join("crate");
        std::fs::create_dir_all(crate_dir.join("data")).unwrap();
        std::fs::write(crate_dir.join("data/x.csv"), "a\n").unwrap();
        let tree = leak_tree("data/x.csv", vec![("data/x.csv", 0o644, b"a\n".to_vec())]);
        let cache = d.path().join("cache");
        let root = resolve(&crate_dir, tree, Prefer::Embedded, &cache).unwrap();
        assert_eq!(std::fs::read(root.join("data/x.csv")).unwrap(), b"a\n");
        // Other defaults pass through untouched.
        let other = DefaultValue::Data("azureml://datastores/d/paths/p".into());
        assert_eq!(
            data_default(other.clone(), crate_dir.to_str().unwrap(), tree),
            other
        );
    }

    #[test]
    fn files_added_after_the_build_are_named() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("steps/fit");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("fit.py"), "1\n").unwrap();
        std::fs::write(src.join(".amlignore"), "*.log\n").unwrap();
        let tree = leak_tree(
            "steps/fit",
            vec![
                ("steps/fit/.amlignore", 0o644, b"*.log\n".to_vec()),
                ("steps/fit/fit.py", 0o644, b"1\n".to_vec()),
            ],
        );
        assert_eq!(added(d.path(), tree), None);
        // An ignored file does not count; a new module does.
        std::fs::write(src.join("run.log"), "x").unwrap();
        assert_eq!(added(d.path(), tree), None);
        std::fs::create_dir(src.join("lib")).unwrap();
        std::fs::write(src.join("lib/util.py"), "2\n").unwrap();
        assert_eq!(
            added(d.path(), tree),
            Some(AddedSinceBuild {
                root: "steps/fit",
                files: vec!["lib/util.py".to_owned()]
            })
        );
    }

    #[test]
    fn cache_paths_are_shown_as_the_user_wrote_them() {
        let p = cache_dir().join("k1").join("examples/x/data.csv");
        assert_eq!(
            relative_to_cache(&p),
            Some(PathBuf::from("examples/x/data.csv"))
        );
        assert_eq!(relative_to_cache(Path::new("/elsewhere/data.csv")), None);
    }
}
