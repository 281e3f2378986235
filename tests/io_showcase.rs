//! The `io_showcase` example, run as a user would: a local run (an optional input left out and
//! then given), parameters outside their range or allowed values refused before any work, and
//! its exports (with the data asset passed as `--input`) against reviewed golden files.

mod support;

use std::process::Output;

use support::{assert_golden, example_cmd, run_example};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(ws: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = example_cmd("io_showcase");
    cmd.args(args).arg("--workspace").arg(ws);
    cmd.output().unwrap()
}

fn export(format: &str) -> String {
    let out = run_example("io_showcase")
        .args([
            "export",
            "--format",
            format,
            "--input",
            "iris=azureml:iris:1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "export failed: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn io_showcase_runs_locally_with_and_without_the_optional_input() {
    let ws = tempfile::tempdir().unwrap();
    let out = run(ws.path(), &["run", "--param", "species=setosa"]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stderr}\n{}",
        text(&out.stdout)
    );
    // The first `train` left `warm_start` out (its `$[[…]]` part dropped), the second got it.
    let log = |step: &str| {
        let runs = ws.path().join("runs");
        let run = std::fs::read_dir(&runs)
            .unwrap()
            .flatten()
            .find(|e| e.path().is_dir())
            .unwrap_or_else(|| panic!("no run folder in {}", runs.display()))
            .path();
        std::fs::read_to_string(run.join("logs").join(format!("{step}.log")))
            .unwrap_or_else(|e| panic!("{step}.log: {e}"))
    };
    assert!(
        log("train").contains("cold start, 5 epochs, report at 12:30"),
        "{}",
        log("train")
    );
    assert!(log("train_1").contains("warm start"), "{}", log("train_1"));
    assert!(
        log("select").contains("kept 50 of 150 rows (setosa)"),
        "{}",
        log("select")
    );
}

#[test]
fn parameters_outside_their_rules_are_refused_before_any_work() {
    let ws = tempfile::tempdir().unwrap();
    for (param, says) in [
        (
            "epochs=500",
            "bad value for parameter `epochs` (i64): `500` is out of range; it must be between 1 and 100",
        ),
        (
            "learning_rate=1.5",
            "bad value for parameter `learning_rate` (f64): `1.5` is out of range; it must be between 0 and 1",
        ),
        (
            "species=rose",
            "bad value for parameter `species` (String): `rose` is not allowed; it must be one of `all`, `setosa`, `versicolor`, `virginica`",
        ),
    ] {
        let out = run(ws.path(), &["run", "--param", param]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{param}: {stderr}");
        assert!(stderr.contains(says), "{param}: {stderr}");
    }
    // Nothing ran: no run folder was made.
    let runs = ws.path().join("runs");
    let made = std::fs::read_dir(&runs).map(|d| d.count()).unwrap_or(0);
    assert_eq!(
        made,
        0,
        "a refused run left something in {}",
        runs.display()
    );
}

#[test]
fn io_showcase_exports_match_golden() {
    assert_golden("io_showcase.json", &export("json"));
    assert_golden("io_showcase.yaml", &export("yaml"));
}
