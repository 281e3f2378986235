//! `Snapshot` against Microsoft's Python SDK.
//!
//! Each fixture below is a small source tree; `SDK_HASHES` holds the `get_content_hash` and
//! `get_object_hash` values azure-ai-ml 1.35.2 computes for it. CI does not install azure-ai-ml:
//! the constants are committed, and `snapshot_hash_reference.py` is only for regenerating them:
//!
//! ```text
//! SNAPSHOT_FIXTURES=/tmp/snapshot-fixtures cargo test -p azureml-pipelines-runtime \
//!     --test snapshot -- --ignored write_fixtures
//! python3 pipeline-runtime/tests/snapshot_hash_reference.py --fixtures /tmp/snapshot-fixtures
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use azureml_pipelines_runtime::snapshot::{
    HASH_VERSION, Snapshot, SnapshotError, SnapshotFile, object_hash,
};

/// (fixture, content hash, object hash) as printed by `snapshot_hash_reference.py --fixtures`.
const SDK_HASHES: &[(&str, &str, &str)] = &[
    (
        "amlignore_wins",
        "dab94be2992862ca2fb4ae85b135b2a74919a8025bf49cf4c4bfbbcadbe49931",
        "6f1d21352069cf91d96d8ca9d51552968b6139dc4e26ab49a03f28a86f8e01ea",
    ),
    (
        "bom_crlf",
        "ea02e1168ff7801bade4c2c81acf425e7c6ad517c849d52d2b8904bcedbe4892",
        "9b1f5af47766ec05021c14a4b8c685cfacdc01fc24eeed67cfccb482cba67d32",
    ),
    (
        "empty_files",
        "c94bfa1b523ff7b2a6ad2ceba543c56330fa021ebe3ce0fed1ee1c3d98a4932d",
        "05085be72894eaca15e5d9fbc6b8f1fe21291db414608c456b40eb485645fb28",
    ),
    (
        "folder_negation",
        "39aee3fd65a1424d732fdc32c231c80aa7e8e275609042795b7dfc9c167ba405",
        "2c61b904be02b0d5a2dcbd6c0be871bb99173f599f2f2499cd1aa4949d15387a",
    ),
    (
        "gitignore_only",
        "3710a26cef24f0483fad2cbd34862afa1efc2e0c27bffed8b8527e3889be1360",
        "f25d663300dc7342f10bd782c08a226ea6476bb10abc04c77a2574146955fdf1",
    ),
    (
        "ignored_dirs",
        "18501d8b5f9d3b9649893abda2bc25351ee353367b167670700fb498b381348a",
        "a3930da7756df5bd883e3912b0ed76a39aae36f4a0512b4ce9a244ce161b3219",
    ),
    (
        "negation",
        "23bc205f635859f00b5e521b5f96e9f51e8732b6525cc7516e2283edb60f85f3",
        "2419f40d8303d998c30e3fce39934e6baa12ea93c5089c9a609d1bf6b30dc5c1",
    ),
    (
        "nested_case",
        "87587d73c9e700dab02b511d68b856d8995aef6ce8cd16153f4c5c543d851e43",
        "f4d22958e04a556709840ed63644fc20317171a68560c1bf7deb65603ef0bfe6",
    ),
    (
        "single_file",
        "b463c4dc46aad4f582b40efc7acb6d14c100cbe2f13d2531ee8d0440a7e4b2bc",
        "405964b3d3650b656de227e69acaa630fde4c34dbec4dfe6a4e674c096cb6b00",
    ),
    (
        "symlinks",
        "8244b69c6b9ff4f227c6c347278e0406f64ee207d0426b653086eeeea55aa994",
        "ee22d43c3e341b857d73509a9a5cfe7e368a5034759e14708b20bc904a2df9af",
    ),
    (
        "unicode",
        "500ab0f653d10d4dd3b15c43f0e6425e312a62ebd110c7e78e2897b20b18e789",
        "668bcad4fff764b07fb034a3a31b2d7d97b3ea99de74f7233a92d8190e58a666",
    ),
];

/// A fixture: a name, where its snapshot root is inside the fixture folder, and how to build it.
struct Fixture {
    name: &'static str,
    root: &'static str,
    build: fn(&Path),
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "nested_case",
        root: "root",
        build: nested_case,
    },
    Fixture {
        name: "amlignore_wins",
        root: "root",
        build: amlignore_wins,
    },
    Fixture {
        name: "gitignore_only",
        root: "root",
        build: gitignore_only,
    },
    Fixture {
        name: "negation",
        root: "root",
        build: negation,
    },
    Fixture {
        name: "folder_negation",
        root: "root",
        build: folder_negation,
    },
    Fixture {
        name: "ignored_dirs",
        root: "root",
        build: ignored_dirs,
    },
    Fixture {
        name: "empty_files",
        root: "root",
        build: empty_files,
    },
    Fixture {
        name: "single_file",
        root: "src/train.py",
        build: single_file,
    },
    Fixture {
        name: "unicode",
        root: "root",
        build: unicode,
    },
    Fixture {
        name: "bom_crlf",
        root: "root",
        build: bom_crlf,
    },
    Fixture {
        name: "symlinks",
        root: "root",
        build: symlinks,
    },
];

fn write(dir: &Path, relative: &str, content: &[u8]) {
    let path = dir.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// Deterministic bytes that are not a repeating short pattern.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn nested_case(d: &Path) {
    let r = d.join("root");
    write(&r, "a.txt", b"alpha\n");
    write(&r, "B.txt", b"bravo\n");
    write(&r, "Zeta.md", b"# zeta\n");
    write(&r, "_under.py", b"u = 1\n");
    write(&r, "alpha/x.py", b"print('x')\n");
    write(&r, "a-b/x", b"dash");
    write(&r, "a.b", b"dot");
    write(&r, "C/d/E.txt", b"E");
    write(&r, "c/e.txt", b"e");
    write(
        &r,
        "dir/sub/deeper/file.bin",
        &(0..=255u8).cycle().take(1024).collect::<Vec<_>>(),
    );
    // Bigger than a read batch, and enough bytes for the threaded reader.
    write(&r, "data/Big.bin", &noise(2_600_000, 7));
    write(&r, "data/small.bin", &noise(1000, 9));
    fs::create_dir_all(r.join("empty_dir/inner")).unwrap();
}

fn amlignore_wins(d: &Path) {
    let r = d.join("root");
    write(&r, ".amlignore", b"*.txt\n");
    write(&r, ".gitignore", b"*.py\n");
    write(&r, "a.txt", b"a");
    write(&r, "b.py", b"b");
    write(&r, "c.md", b"c");
    write(&r, "sub/d.txt", b"d");
    write(&r, "sub/e.py", b"e");
}

fn gitignore_only(d: &Path) {
    let r = d.join("root");
    write(&r, ".gitignore", b"*.py\n# a comment\n\n/top.md\nsub/\n");
    write(&r, "a.py", b"a");
    write(&r, "top.md", b"top");
    write(&r, "x/top.md", b"nested top");
    write(&r, "sub/in.txt", b"in");
    write(&r, "other/sub/in2.txt", b"in2");
    write(&r, "sub.txt", b"not the folder");
    write(&r, "keep.txt", b"keep");
}

fn negation(d: &Path) {
    let r = d.join("root");
    write(
        &r,
        ".amlignore",
        b"*.log\n!keep.log\nbuild/\n!build/keep.txt\n/root_only.txt\ndocs/*.md\n**/tmp\na/**/b\n\
          \\#hash\n[abc].dat\n?.q\ntrailing   \n\t\n",
    );
    for f in [
        "x.log",
        "keep.log",
        "sub/keep.log",
        "sub/other.log",
        "build/out.o",
        "build/keep.txt",
        "build/deep/keep.txt",
        "root_only.txt",
        "sub/root_only.txt",
        "docs/readme.md",
        "docs/sub/readme.md",
        "docs/x.txt",
        "tmp/t1",
        "deep/tmp/t2",
        "a/b",
        "a/x/y/b",
        "a/x/c",
        "#hash",
        "a.dat",
        "d.dat",
        "1.q",
        "12.q",
        "trailing",
        "trailing.x",
    ] {
        write(&r, f, f.as_bytes());
    }
}

/// `*.log` then `!logs/`: the SDK re-includes `logs/a.log` (git would not).
fn folder_negation(d: &Path) {
    let r = d.join("root");
    write(&r, ".amlignore", b"*.log\n!logs/\n");
    write(&r, "logs/a.log", b"a");
    write(&r, "b.log", b"b");
    write(&r, "logs/sub/c.log", b"c");
    write(&r, "main.py", b"main");
}

fn ignored_dirs(d: &Path) {
    let r = d.join("root");
    write(
        &r,
        ".amlignore",
        b"node_modules/\n__pycache__\n.git\n*.pyc\n",
    );
    write(&r, "node_modules/pkg/index.js", b"js");
    write(&r, "node_modules/.bin/x", b"bin");
    write(&r, "src/__pycache__/m.cpython-311.pyc", b"pyc");
    write(&r, "src/m.py", b"m");
    write(&r, "src/a.pyc", b"pyc");
    write(&r, "src/node_modules/y.js", b"y");
    write(&r, ".git/HEAD", b"ref: refs/heads/main\n");
    write(&r, ".git/objects/ab/cd", b"obj");
    write(&r, ".gitkeep", b"");
}

fn empty_files(d: &Path) {
    let r = d.join("root");
    // An empty `.amlignore` still wins: `.gitignore` is not read.
    write(&r, ".amlignore", b"");
    write(&r, ".gitignore", b"x\n");
    write(&r, "e1", b"");
    write(&r, "sub/e2", b"");
    write(&r, "x", b"1");
    fs::create_dir_all(r.join("sub/deeper")).unwrap();
}

fn single_file(d: &Path) {
    write(d, "src/train.py", b"import sys\nprint(sys.argv)\n");
    write(d, "src/.amlignore", b"*.py\n");
    write(d, "src/other.py", b"other");
}

fn unicode(d: &Path) {
    let r = d.join("root");
    for f in [
        "Ärger.txt",
        "zebra.txt",
        "émile.txt",
        "Ωmega.txt",
        "straße.txt",
        "STRASSE.txt",
        "İstanbul.txt",
        "ix.txt",
        "ΟΔΟΣ.txt",
        "ΟΔΟΣ",
        "日本/語.txt",
        "emoji_😀.txt",
        "Ǆ.txt",
        "Zz.txt",
    ] {
        write(&r, f, f.as_bytes());
    }
    write(&r, ".gitignore", "ü*\n!üb.txt\n".as_bytes());
    write(&r, "ü.txt", b"u");
    write(&r, "üb.txt", b"ub");
}

fn bom_crlf(d: &Path) {
    let r = d.join("root");
    write(
        &r,
        ".gitignore",
        b"\xef\xbb\xbf*.tmp\r\n!keep.tmp\r\n  spaced.txt  \r\nold\rmac.txt\n",
    );
    for f in ["a.tmp", "keep.tmp", "spaced.txt", "b.txt", "mac.txt", "old"] {
        write(&r, f, f.as_bytes());
    }
}

#[cfg(unix)]
fn symlinks(d: &Path) {
    use std::os::unix::fs::symlink;
    let r = d.join("root");
    write(&r, "real.txt", b"real");
    write(&r, "real_dir/inner.txt", b"inner");
    write(d, "outside/secret.txt", b"secret");
    write(d, "outside/pub.txt", b"pub");
    write(d, "outside/nested/n.txt", b"n");
    write(d, "outside2/f.txt", b"f");
    // Anchored patterns see the *resolved* folder of a linked folder (`../outside/...`).
    write(
        &r,
        ".amlignore",
        b"linked/pub.txt\nsecret.txt\ndangling\nnode_modules/\n",
    );
    write(&r, "node_modules/pkg/x.js", b"x");
    symlink("real.txt", r.join("link.txt")).unwrap();
    symlink("../outside", r.join("linked")).unwrap();
    symlink("real_dir", r.join("alias")).unwrap();
    symlink("nowhere", r.join("dangling")).unwrap();
    // Inside an excluded folder, but resolving outside it: the SDK includes what it sees.
    symlink("../../outside2", r.join("node_modules/escape")).unwrap();
}

#[cfg(not(unix))]
fn symlinks(d: &Path) {
    nested_case(d);
}

fn build(fixture: &Fixture, dir: &Path) -> PathBuf {
    let d = dir.join(fixture.name);
    fs::create_dir_all(&d).unwrap();
    (fixture.build)(&d);
    fs::write(d.join("ROOT"), fixture.root).unwrap();
    d.join(fixture.root)
}

fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let f = FIXTURES.iter().find(|f| f.name == name).unwrap();
    let root = build(f, tmp.path());
    (tmp, root)
}

fn relatives(s: &Snapshot) -> Vec<&str> {
    s.files().iter().map(|f| f.relative.as_str()).collect()
}

fn excluded(s: &Snapshot) -> Vec<(&str, &str, usize)> {
    s.excluded()
        .iter()
        .map(|e| (e.relative.as_str(), e.rule.as_str(), e.line))
        .collect()
}

/// Writes every fixture under `$SNAPSHOT_FIXTURES`, for `snapshot_hash_reference.py`.
#[test]
#[ignore = "writes the fixtures for regenerating SDK_HASHES"]
fn write_fixtures() {
    let dir = PathBuf::from(std::env::var_os("SNAPSHOT_FIXTURES").expect("set SNAPSHOT_FIXTURES"));
    let _ = fs::remove_dir_all(&dir);
    for f in FIXTURES {
        build(f, &dir);
    }
}

#[test]
fn hashes_equal_the_python_sdk() {
    assert_eq!(HASH_VERSION, 202208);
    assert_eq!(
        SDK_HASHES.len(),
        FIXTURES.len(),
        "every fixture has SDK hashes"
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for (name, content, object) in SDK_HASHES {
        let f = FIXTURES.iter().find(|f| f.name == *name).unwrap();
        let root = build(f, tmp.path());
        let ours = Snapshot::scan(&root).unwrap().content_hash().unwrap();
        if ours != *content {
            wrong.push(format!("{name}: content hash {ours}, SDK {content}"));
        }
        let ours = object_hash(&root).unwrap();
        if ours != *object {
            wrong.push(format!("{name}: object hash {ours}, SDK {object}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn files_sort_by_lowercased_relative_path() {
    let (_tmp, root) = fixture("nested_case");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(
        relatives(&s),
        [
            "_under.py",
            "a-b/x",
            "a.b",
            "a.txt",
            "alpha/x.py",
            "B.txt",
            "C/d/E.txt",
            "c/e.txt",
            "data/Big.bin",
            "data/small.bin",
            "dir/sub/deeper/file.bin",
            "Zeta.md",
        ]
    );
    assert_eq!(s.ignore_file(), None);
    assert!(s.excluded().is_empty());
    assert_eq!(
        s.total_size(),
        6 + 6 + 7 + 6 + 11 + 4 + 3 + 1 + 1 + 2_600_000 + 1000 + 1024
    );
    assert_eq!(s.root(), root);
    let big = &s.files()[8];
    assert_eq!(big.path, root.join("data/Big.bin"));
    assert_eq!(big.size, 2_600_000);
}

#[test]
fn amlignore_wins_over_gitignore() {
    let (_tmp, root) = fixture("amlignore_wins");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(s.ignore_file(), Some(root.join(".amlignore").as_path()));
    assert_eq!(
        relatives(&s),
        [".amlignore", ".gitignore", "b.py", "c.md", "sub/e.py"]
    );
    assert_eq!(
        excluded(&s),
        [("a.txt", "*.txt", 1), ("sub/d.txt", "*.txt", 1)]
    );
    assert_eq!(s.excluded()[0].source, root.join(".amlignore"));
}

#[test]
fn empty_amlignore_still_wins() {
    let (_tmp, root) = fixture("empty_files");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(s.ignore_file(), Some(root.join(".amlignore").as_path()));
    assert_eq!(
        relatives(&s),
        [".amlignore", ".gitignore", "e1", "sub/e2", "x"]
    );
}

#[test]
fn gitignore_patterns() {
    let (_tmp, root) = fixture("gitignore_only");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(
        relatives(&s),
        [".gitignore", "keep.txt", "sub.txt", "x/top.md"]
    );
    assert_eq!(
        excluded(&s),
        [
            ("a.py", "*.py", 1),
            ("other/sub/", "sub/", 5),
            ("sub/", "sub/", 5),
            ("top.md", "/top.md", 4)
        ]
    );
}

#[test]
fn last_match_wins_with_negation() {
    let (_tmp, root) = fixture("negation");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(
        relatives(&s),
        [
            ".amlignore",
            "12.q",
            "a/x/c",
            "build/keep.txt",
            "d.dat",
            "docs/sub/readme.md",
            "docs/x.txt",
            "keep.log",
            "sub/keep.log",
            "sub/root_only.txt",
            "trailing.x",
        ]
    );
    let rules: Vec<_> = excluded(&s);
    assert!(rules.contains(&("build/out.o", "build/", 3)));
    assert!(rules.contains(&("trailing", "trailing", 12)));
    assert!(rules.contains(&("#hash", "\\#hash", 9)));
}

#[test]
fn folder_negation_reincludes_like_the_sdk() {
    let (_tmp, root) = fixture("folder_negation");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(
        relatives(&s),
        [".amlignore", "logs/a.log", "logs/sub/c.log", "main.py"]
    );
    assert_eq!(excluded(&s), [("b.log", "*.log", 1)]);
}

#[test]
fn excluded_folders_are_listed_once() {
    let (_tmp, root) = fixture("ignored_dirs");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(relatives(&s), [".amlignore", ".gitkeep", "src/m.py"]);
    assert_eq!(
        excluded(&s),
        [
            (".git/", ".git", 3),
            ("node_modules/", "node_modules/", 1),
            ("src/__pycache__/", "__pycache__", 2),
            ("src/a.pyc", "*.pyc", 4),
            ("src/node_modules/", "node_modules/", 1),
        ]
    );
}

#[test]
fn single_file_root_is_hashed_by_its_name() {
    let (tmp, root) = fixture("single_file");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(
        s.files(),
        [SnapshotFile {
            relative: "train.py".into(),
            path: root.clone(),
            size: 27
        }]
    );
    assert_eq!(s.ignore_file(), None);
    let dest = tmp.path().join("copy");
    s.copy_to(&dest).unwrap();
    assert_eq!(
        fs::read(dest.join("train.py")).unwrap(),
        fs::read(&root).unwrap()
    );
}

#[test]
fn unicode_sorts_by_python_lower() {
    let (_tmp, root) = fixture("unicode");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(
        relatives(&s),
        [
            ".gitignore",
            "emoji_😀.txt",
            "ix.txt",
            "İstanbul.txt",
            "STRASSE.txt",
            "straße.txt",
            "zebra.txt",
            "Zz.txt",
            "Ärger.txt",
            "émile.txt",
            "üb.txt",
            "Ǆ.txt",
            "ΟΔΟΣ",
            "ΟΔΟΣ.txt",
            "Ωmega.txt",
            "日本/語.txt",
        ]
    );
}

#[test]
fn bom_and_universal_newlines_in_ignore_file() {
    let (_tmp, root) = fixture("bom_crlf");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(relatives(&s), [".gitignore", "b.txt", "keep.tmp"]);
    assert_eq!(
        excluded(&s),
        [
            ("a.tmp", "*.tmp", 1),
            ("mac.txt", "mac.txt", 5),
            ("old", "old", 4),
            ("spaced.txt", "  spaced.txt", 3)
        ]
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_and_matched_resolved() {
    let (_tmp, root) = fixture("symlinks");
    let s = Snapshot::scan(&root).unwrap();
    assert_eq!(
        relatives(&s),
        [
            ".amlignore",
            "alias/inner.txt",
            "link.txt",
            "linked/nested/n.txt",
            "linked/pub.txt",
            "node_modules/escape/f.txt",
            "real.txt",
            "real_dir/inner.txt",
        ]
    );
    assert_eq!(s.files()[2].size, 4);
    assert_eq!(
        excluded(&s),
        [
            ("dangling", "dangling", 3),
            ("linked/secret.txt", "secret.txt", 2),
            ("node_modules/", "node_modules/", 4),
        ]
    );
}

#[test]
fn copy_to_materialises_included_files() {
    let (tmp, root) = fixture("ignored_dirs");
    let s = Snapshot::scan(&root).unwrap();
    let dest = tmp.path().join("work");
    s.copy_to(&dest).unwrap();
    let copy = Snapshot::scan(&dest).unwrap();
    assert_eq!(relatives(&copy), relatives(&s));
    assert_eq!(copy.content_hash().unwrap(), s.content_hash().unwrap());
    assert!(!dest.join("node_modules").exists());
    let err = s.copy_to(&dest).unwrap_err();
    assert!(
        matches!(err, SnapshotError::DestinationNotEmpty { .. }),
        "{err}"
    );
}

#[test]
fn content_hash_changes_with_a_byte() {
    let (_tmp, root) = fixture("nested_case");
    let before = Snapshot::scan(&root).unwrap().content_hash().unwrap();
    let mut big = fs::read(root.join("data/Big.bin")).unwrap();
    big[2_000_000] ^= 1;
    fs::write(root.join("data/Big.bin"), big).unwrap();
    let after = Snapshot::scan(&root).unwrap().content_hash().unwrap();
    assert_ne!(before, after);
}

#[test]
fn missing_root_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = Snapshot::scan(&missing).unwrap_err();
    assert!(matches!(err, SnapshotError::RootNotFound { .. }), "{err}");
    assert_eq!(err.path(), missing);
    assert!(err.to_string().contains("hint: "), "{err}");
    assert!(matches!(
        object_hash(&missing).unwrap_err(),
        SnapshotError::RootNotFound { .. }
    ));
}

#[test]
fn file_changed_after_scan_is_an_error() {
    let (_tmp, root) = fixture("nested_case");
    let s = Snapshot::scan(&root).unwrap();
    fs::write(root.join("a.txt"), b"alpha, longer now\n").unwrap();
    let err = s.content_hash().unwrap_err();
    assert!(matches!(err, SnapshotError::Changed { .. }), "{err}");
    assert_eq!(err.path(), root.join("a.txt"));
    fs::write(root.join("data/Big.bin"), b"short").unwrap();
    fs::write(root.join("a.txt"), b"alpha\n").unwrap();
    let err = s.content_hash().unwrap_err();
    assert_eq!(err.path(), root.join("data/Big.bin"), "{err}");
}

/// A tree big enough for the threaded hash (reader threads, batched reads through io_uring on
/// Linux): many small files per batch, empty files, files cut into several pieces.
fn large_tree(root: &Path) {
    for i in 0..1500 {
        let len = [0, 1, 700, 1500, 4096][i % 5];
        write(
            root,
            &format!("m{:02}/f{i:04}.txt", i % 13),
            &noise(len, i as u64),
        );
    }
    write(root, "big/A.bin", &noise(1_300_000, 7));
    write(root, "big/b.bin", &noise(524_288, 8));
    write(root, "big/c.bin", &noise(524_289, 9));
}

/// `get_content_hash` written out plainly: count, `#relative#size` per file, then the bytes.
fn plain_content_hash(s: &Snapshot) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(s.files().len().to_string());
    for f in s.files() {
        hasher.update(format!("#{}#{}", f.relative, f.size));
    }
    for f in s.files() {
        hasher.update(fs::read(&f.path).unwrap());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn threaded_hash_of_a_large_tree_is_the_plain_hash() {
    let tmp = tempfile::tempdir().unwrap();
    large_tree(tmp.path());
    let s = Snapshot::scan(tmp.path()).unwrap();
    assert!(s.total_size() > 4_000_000, "big enough to be read ahead");
    let expected = plain_content_hash(&s);
    for _ in 0..3 {
        assert_eq!(s.content_hash().unwrap(), expected);
    }
}

#[test]
fn threaded_hash_reports_the_file_that_changed_or_went() {
    let tmp = tempfile::tempdir().unwrap();
    large_tree(tmp.path());
    let s = Snapshot::scan(tmp.path()).unwrap();
    let root = tmp.path();

    // Grown, in the middle of a batch of small files.
    let grown = root.join("m00/f0702.txt");
    fs::write(&grown, noise(701, 1)).unwrap();
    let err = s.content_hash().unwrap_err();
    assert!(matches!(err, SnapshotError::Changed { .. }), "{err}");
    assert_eq!(err.path(), grown);
    assert!(err.to_string().contains("now larger"), "{err}");
    fs::write(&grown, noise(700, 702)).unwrap();

    // Shrunk: the last piece of a file read in pieces.
    let shrunk = root.join("big/A.bin");
    fs::write(&shrunk, noise(1_200_000, 7)).unwrap();
    let err = s.content_hash().unwrap_err();
    assert!(matches!(err, SnapshotError::Changed { .. }), "{err}");
    assert_eq!(err.path(), shrunk);
    assert!(err.to_string().contains("now 1200000 bytes"), "{err}");
    fs::write(&shrunk, noise(1_300_000, 7)).unwrap();

    // Gone.
    let gone = root.join("m12/f1494.txt");
    fs::remove_file(&gone).unwrap();
    let err = s.content_hash().unwrap_err();
    assert!(matches!(err, SnapshotError::Io { .. }), "{err}");
    assert_eq!(err.path(), gone);
    fs::write(&gone, noise(4096, 1494)).unwrap();

    // Restored: the same hash as before anything changed.
    assert_eq!(s.content_hash().unwrap(), plain_content_hash(&s));
}

/// The two tests above again, in a child process with io_uring turned off: the plain reads
/// that every other system uses give the same hash and the same errors.
#[test]
fn threaded_hash_without_io_uring() {
    if std::env::var_os("AZUREML_IO_URING").is_some() {
        return; // The child itself, or a run that chose already.
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "threaded_hash_of_a_large_tree_is_the_plain_hash",
            "threaded_hash_reports_the_file_that_changed_or_went",
        ])
        .env("AZUREML_IO_URING", "off")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 passed"), "{stdout}");
}

#[test]
fn invalid_pattern_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), ".amlignore", b"ok\n!\n");
    let err = Snapshot::scan(tmp.path()).unwrap_err();
    match &err {
        SnapshotError::InvalidPattern {
            path,
            line,
            pattern,
            ..
        } => {
            assert_eq!(*line, 2);
            assert_eq!(pattern, "!");
            assert_eq!(path, &tmp.path().join(".amlignore"));
        }
        other => panic!("unexpected {other}"),
    }
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_an_error_not_a_hang() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "a/file.txt", b"x");
    std::os::unix::fs::symlink("..", tmp.path().join("a/up")).unwrap();
    let err = Snapshot::scan(tmp.path()).unwrap_err();
    assert!(matches!(err, SnapshotError::SymlinkLoop { .. }), "{err}");
    assert_eq!(err.path(), tmp.path().join("a/up"));
    assert!(matches!(
        object_hash(tmp.path()).unwrap_err(),
        SnapshotError::SymlinkLoop { .. }
    ));

    // Through the loop the SDK sees the root's files again, with the same (resolved) paths for
    // the ignore rules: excluding `a/` does not exclude them.
    write(tmp.path(), ".amlignore", b"a/\n");
    let err = Snapshot::scan(tmp.path()).unwrap_err();
    assert!(matches!(err, SnapshotError::SymlinkLoop { .. }), "{err}");

    // A loop that only repeats an excluded folder adds nothing, as in the SDK.
    fs::remove_file(tmp.path().join("a/up")).unwrap();
    std::os::unix::fs::symlink(".", tmp.path().join("a/again")).unwrap();
    let s = Snapshot::scan(tmp.path()).unwrap();
    assert_eq!(relatives(&s), [".amlignore"]);
    assert_eq!(excluded(&s), [("a/", "a/", 1)]);
}

#[cfg(unix)]
#[test]
fn broken_symlink_and_pipe_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "ok.txt", b"x");
    std::os::unix::fs::symlink("missing", tmp.path().join("dangling")).unwrap();
    let err = Snapshot::scan(tmp.path()).unwrap_err();
    assert!(matches!(err, SnapshotError::BrokenSymlink { .. }), "{err}");
    fs::remove_file(tmp.path().join("dangling")).unwrap();

    let fifo = tmp.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let err = Snapshot::scan(tmp.path()).unwrap_err();
        assert!(matches!(err, SnapshotError::NotRegularFile { .. }), "{err}");
    }
}

/// Sub-folders are walked in parallel; names that differ only in case must still come out in
/// `os.walk`'s order, and the error reported must be the first in the list's order, every time.
#[cfg(unix)]
#[test]
fn parallel_walk_keeps_walk_order_and_reports_the_first_error() {
    let tmp = tempfile::tempdir().unwrap();
    for d in 0..12 {
        for f in 0..30 {
            // Names equal but for case: only walk order decides their order in the list.
            write(tmp.path(), &format!("d{d:02}/sub/F{f}.txt"), b"upper");
            write(tmp.path(), &format!("d{d:02}/sub/f{f}.txt"), b"lower");
        }
    }
    // What a sequential walk sees first, among names equal but for case.
    let walk_order = |dir: &Path| -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    };
    let first = Snapshot::scan(tmp.path()).unwrap();
    assert_eq!(first.files().len(), 12 * 60);
    for d in 0..12 {
        let sub = tmp.path().join(format!("d{d:02}/sub"));
        let order = walk_order(&sub);
        let listed: Vec<&str> = first
            .files()
            .iter()
            .filter(|f| f.relative.starts_with(&format!("d{d:02}/")))
            .map(|f| f.relative.rsplit('/').next().unwrap())
            .collect();
        for pair in listed.chunks(2) {
            let pos = |n: &str| order.iter().position(|o| o == n).unwrap();
            assert!(pos(pair[0]) < pos(pair[1]), "{pair:?} out of walk order");
        }
    }
    for _ in 0..10 {
        assert_eq!(Snapshot::scan(tmp.path()).unwrap().files(), first.files());
    }

    // A broken link in every sub-folder: the first in the list's order is named, not the first
    // the directory listing happens to give.
    for d in (0..12).rev() {
        std::os::unix::fs::symlink("missing", tmp.path().join(format!("d{d:02}/sub/broken")))
            .unwrap();
    }
    for _ in 0..10 {
        let err = Snapshot::scan(tmp.path()).unwrap_err();
        assert!(matches!(err, SnapshotError::BrokenSymlink { .. }), "{err}");
        assert_eq!(err.path(), tmp.path().join("d00/sub/broken"), "{err}");
    }
}

/// Folders whose names differ only in case: their files interleave in the SDK's order (it sorts
/// whole paths), and a path equal but for case comes first from the folder `os.walk` lists
/// first.
#[cfg(unix)]
#[test]
fn folders_equal_but_for_case_interleave_their_files() {
    let tmp = tempfile::tempdir().unwrap();
    for (dir, names) in [
        ("Data", ["b.txt", "d.txt", "e.txt"]),
        ("data", ["a.txt", "c.txt", "e.txt"]),
    ] {
        for name in names {
            write(tmp.path(), &format!("{dir}/{name}"), dir.as_bytes());
        }
    }
    write(tmp.path(), "data.txt", b"between");
    write(tmp.path(), "data0", b"after");
    let first = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.eq_ignore_ascii_case("data"))
        .unwrap();
    let second = if first == "Data" { "data" } else { "Data" };
    let snapshot = Snapshot::scan(tmp.path()).unwrap();
    assert_eq!(
        relatives(&snapshot),
        [
            "data.txt".to_string(),
            "data/a.txt".into(),
            "Data/b.txt".into(),
            "data/c.txt".into(),
            "Data/d.txt".into(),
            format!("{first}/e.txt"),
            format!("{second}/e.txt"),
            "data0".into(),
        ]
    );
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "secret.txt", b"x");
    let path = tmp.path().join("secret.txt");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&path).is_ok() {
        // Running with privileges that read anything: nothing to test here.
        return;
    }
    let err = Snapshot::scan(tmp.path())
        .unwrap()
        .content_hash()
        .unwrap_err();
    assert!(matches!(err, SnapshotError::Io { .. }), "{err}");
    assert_eq!(err.path(), path);
    assert!(err.hint().contains("readable"));
}

/// Every cache entry under `dir` (there is one per stamp).
fn cache_entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in fs::read_dir(dir).into_iter().flatten().flatten() {
        for e in fs::read_dir(sub.path()).into_iter().flatten().flatten() {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn the_hash_cache_serves_unchanged_files_and_misses_any_change() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    let cache = tmp.path().join("cache");
    write(&root, "train.py", b"print('v1')\n");
    write(&root, "pkg/util.py", b"x = 1\n");
    let fresh = Snapshot::scan(&root).unwrap();
    let truth = fresh.content_hash().unwrap();

    // Files written this instant are not cached: a rewrite in the same clock tick could
    // otherwise go unseen.
    assert_eq!(fresh.content_hash_in(Some(&cache)).unwrap(), truth);
    assert!(cache_entries(&cache).is_empty(), "nothing cached yet");

    std::thread::sleep(std::time::Duration::from_millis(2100));
    let settled = Snapshot::scan(&root).unwrap();
    assert_eq!(settled.content_hash_in(Some(&cache)).unwrap(), truth);
    let entries = cache_entries(&cache);
    assert_eq!(entries.len(), 1);
    assert_eq!(fs::read_to_string(&entries[0]).unwrap(), truth);

    // A hit is served from the entry without reading the files: plant another value to see it.
    let planted = "0".repeat(64);
    fs::write(&entries[0], &planted).unwrap();
    assert_eq!(settled.content_hash_in(Some(&cache)).unwrap(), planted);

    // A garbled entry is ignored, and replaced.
    fs::write(&entries[0], "not a hash").unwrap();
    assert_eq!(settled.content_hash_in(Some(&cache)).unwrap(), truth);
    assert_eq!(fs::read_to_string(&entries[0]).unwrap(), truth);

    // Same size, modification time put back: the status-change time still tells.
    let file = root.join("train.py");
    let mtime = fs::metadata(&file).unwrap().modified().unwrap();
    fs::write(&file, b"print('v2')\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let edited = Snapshot::scan(&root).unwrap();
    let new_truth = edited.content_hash().unwrap();
    assert_ne!(new_truth, truth);
    assert_eq!(edited.content_hash_in(Some(&cache)).unwrap(), new_truth);

    // No cache folder: computed every time.
    assert_eq!(edited.content_hash_in(None).unwrap(), new_truth);
}
