//! Compile-time checks of `#[step]` / `#[pipeline]`: each file under `ui/fail` is one mistake a
//! user can make, with the exact message they see in the `.stderr` beside it; `ui/pass` holds
//! code that must compile (hygiene).
//!
//! trybuild compiles the cases as a crate of its own whose root (`CARGO_MANIFEST_DIR`, where a
//! `source_dir` resolves from) is `<target dir>/tests/trybuild/azureml-pipelines`. Before the
//! cases run, `tests/ui/steps` is copied there as `steps/`, so the cases write
//! `source_dir = "steps"` and pass with any target dir (also one outside the repository).
//! The `.stderr` files were reviewed with the toolchain `rust-toolchain.toml` pins.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn ui() {
    let project = trybuild_project_dir();
    copy_steps(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/steps"),
        &project.join("steps"),
    );
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

/// The folder trybuild generates its crate in: `<target dir>/tests/trybuild/<package>`, with the
/// target dir asked from cargo (as trybuild does), so `CARGO_TARGET_DIR` is honoured.
fn trybuild_project_dir() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version=1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let target = meta["target_directory"]
        .as_str()
        .expect("cargo metadata names the target directory");
    Path::new(target)
        .join("tests")
        .join("trybuild")
        .join(env!("CARGO_PKG_NAME"))
}

/// Replaces `to` with a copy of the files in `from` (one level: the step scripts).
fn copy_steps(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).expect("old copy of the step sources removed");
    }
    std::fs::create_dir_all(to).expect("step source folder created");
    for entry in std::fs::read_dir(from).expect("tests/ui/steps is readable") {
        let entry = entry.expect("tests/ui/steps entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("step source copied");
    }
}
