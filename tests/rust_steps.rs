//! The `rust_steps` example (data prep and training as Rust steps, compare in Python) run on
//! this machine as a user would: first run, full reuse, metrics in `runs show`, a failing Rust
//! step, and the export golden files. The Rust steps are real child processes of the example
//! binary itself.

mod support;

use std::path::Path;
use std::process::Output;

use support::{assert_golden, example_cmd};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn cli(ws: &Path, args: &[&str], code: i32) -> Output {
    let mut cmd = example_cmd("rust_steps");
    cmd.args(args).arg("--workspace").arg(ws);
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "`{}` exited with {:?}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// The progress line of step `name` with mark `mark` (`✓`, `✗`, `-`), or a panic showing all.
fn line<'a>(err: &'a str, mark: &str, name: &str) -> &'a str {
    err.lines()
        .find(|l| {
            l.trim_start()
                .strip_prefix(mark)
                .is_some_and(|r| r.trim_start().starts_with(&format!("{name} ")))
        })
        .unwrap_or_else(|| panic!("no `{mark} {name}` line in:\n{err}"))
}

#[test]
fn rust_steps_run_reuse_and_show_their_metrics() {
    let ws = tempfile::tempdir().unwrap();
    let ws = ws.path();

    let first = cli(ws, &["run"], 0);
    let err = text(&first.stderr);
    for step in ["data_prep", "train", "compare"] {
        assert!(
            line(&err, "✓", step).contains("ran"),
            "{step} ran the first time:\n{err}"
        );
    }
    assert!(
        line(&err, "✓", "data_prep").contains("no earlier run"),
        "{err}"
    );
    // The outputs of the Rust steps are what their bodies wrote, and Python read them.
    let runs = ws.join("datastores/workspaceblobstore/azureml");
    let run_dir = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let prepped =
        std::fs::read_to_string(run_dir.join("data_prep/output_data1/prepped.csv")).unwrap();
    assert_eq!(prepped.lines().count(), 151, "header and 150 rows");
    assert!(prepped.starts_with("sepal_length,sepal_width,petal_length,petal_width,species\n"));
    let comparison =
        std::fs::read_to_string(run_dir.join("compare/output_data/comparison.json")).unwrap();
    assert!(
        comparison.contains("\"winner\": \"nearest_centroid\""),
        "{comparison}"
    );

    // A second run reuses both Rust steps; compare has `reuse = false`.
    let second = cli(ws, &["run"], 0);
    let err = text(&second.stderr);
    assert!(line(&err, "✓", "data_prep").contains("reused"), "{err}");
    assert!(line(&err, "✓", "train").contains("reused"), "{err}");
    assert!(line(&err, "✓", "compare").contains("ran"), "{err}");

    // The first run's metrics, as the bodies logged them.
    let show = cli(ws, &["runs", "show", "latest"], 0);
    let out = text(&show.stdout);
    assert!(
        !out.contains("METRICS"),
        "a fully reused run logged nothing:\n{out}"
    );
    let list = text(&cli(ws, &["runs", "list"], 0).stdout);
    let first_id = list
        .lines()
        .rfind(|l| l.contains("rust_steps"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no run in:\n{list}"))
        .to_owned();
    let show = cli(ws, &["runs", "show", &first_id], 0);
    let out = text(&show.stdout);
    assert!(out.contains("METRICS (logged by Rust steps)"), "{out}");
    assert!(out.contains("data_prep  rows = 150"), "{out}");
    assert!(out.contains("data_prep  dropped = 0"), "{out}");
    assert!(
        out.contains("train      running_accuracy = series of 30: last "),
        "{out}"
    );
    assert!(out.contains("train      accuracy = 0.96"), "{out}");
    // The command recorded is the one run: the example binary's hidden entry point.
    assert!(
        !out.contains("python"),
        "no Python line for a Rust step:\n{out}"
    );
}

#[test]
fn a_failing_rust_step_shows_its_error_and_skips_what_follows() {
    let ws = tempfile::tempdir().unwrap();
    let bad = ws.path().join("bad.csv");
    std::fs::write(&bad, "a,b\n1,2\n").unwrap();
    let input = format!("iris={}", bad.display());
    let out = cli(ws.path(), &["run", "--input", &input], 1);
    let err = text(&out.stderr);
    let failed = line(&err, "✗", "data_prep");
    assert!(failed.contains("exited with code 1"), "{err}");
    // The body's error, from the log's tail.
    assert!(
        err.contains("error: step `data_prep` failed: ")
            && err.contains("bad.csv lacks the column `sepal_length`"),
        "{err}"
    );
    for step in ["train", "compare"] {
        assert!(
            err.lines()
                .any(|l| l.contains(step) && l.contains("skipped")),
            "{step} skipped:\n{err}"
        );
    }
}

#[test]
fn a_rust_step_binary_runs_one_step_by_its_hidden_entry_point() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("iris.csv");
    std::fs::write(
        &csv,
        "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,Iris-setosa\nx,1,1,1,setosa\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let mut cmd = example_cmd("rust_steps");
    cmd.args(["__step", "data_prep", "--input"])
        .arg(format!("input={}", csv.display()))
        .arg("--output")
        .arg(format!("output_data1={}", out_dir.display()));
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(out_dir.join("prepped.csv")).unwrap(),
        "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n"
    );
    // Without the metrics file, metrics are printed.
    assert!(
        text(&out.stderr).contains("metric rows = 1"),
        "{}",
        text(&out.stderr)
    );

    // Unknown step, and the hidden command stays out of `--help`.
    let out = example_cmd("rust_steps")
        .args(["__step", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: pipeline `rust_steps` has no Rust step `nope`; it has `data_prep`, `train`"
    );
    let help = example_cmd("rust_steps").arg("--help").output().unwrap();
    assert!(!text(&help.stdout).contains("__step"));
}

fn export(format: &str) -> String {
    let out = example_cmd("rust_steps")
        .args(["export", "--format", format])
        .output()
        .unwrap();
    assert!(out.status.success(), "export failed: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn rust_steps_json_export_matches_golden() {
    assert_golden("rust_steps/rust_steps.json", &export("json"));
}

#[test]
fn rust_steps_yaml_export_matches_golden() {
    assert_golden("rust_steps/rust_steps.yaml", &export("yaml"));
}
