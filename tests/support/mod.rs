//! Shared helpers for the integration tests: running the example binaries as a user would.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path of a built example binary (`cargo test` builds the examples before the tests).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = target.join("examples").join(name);
    assert!(
        path.exists(),
        "example `{name}` is not built at {}; run the tests with `cargo test`",
        path.display()
    );
    path
}

/// A command running an example from the repository root, with a clean environment for the
/// variables the CLI reads.
pub fn run_example(name: &str) -> Command {
    let mut cmd = Command::new(example(name));
    cmd.current_dir(repo());
    for var in [
        "AZUREML_SUBSCRIPTION_ID",
        "AZUREML_RESOURCE_GROUP",
        "AZUREML_WORKSPACE_NAME",
        "AZUREML_CONFIG",
        "AZUREML_LOCAL_WORKSPACE",
        "AZUREML_LOCAL_PYTHON",
        "AZUREML_DEFAULT_DATASTORE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// [`run_example`] as an `assert_cmd` command, for checking exit codes and output.
pub fn example_cmd(name: &str) -> assert_cmd::Command {
    assert_cmd::Command::from_std(run_example(name))
}

/// Compares `actual` with the golden file, or rewrites it when `UPDATE_GOLDEN=1`.
pub fn assert_golden(file: &str, actual: &str) {
    let path = repo().join("tests/golden").join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{file} differs from the golden file at line {}:\n  golden: {:?}\n  actual: {:?}\nreview the change, then regenerate with UPDATE_GOLDEN=1",
            first + 1,
            expected.lines().nth(first).unwrap_or("<end>"),
            actual.lines().nth(first).unwrap_or("<end>"),
        );
    }
}
