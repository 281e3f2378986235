//! The `compare_models` example run on this machine through its command line, as a user would:
//! run, rerun with reuse, the run history, logs, graph colours, snapshot, upload and a failing
//! step. The steps are real `python3` processes.

mod support;

use std::path::Path;
use std::process::Output;

use support::{example_cmd, repo};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `compare_models ARGS --workspace WS`, expecting exit code `code`.
fn cli(ws: &Path, args: &[&str], code: i32) -> Output {
    let mut cmd = example_cmd("compare_models");
    cmd.args(args).arg("--workspace").arg(ws);
    expect(cmd, args, code)
}

/// Runs `compare_models ARGS` with the workspace given by `AZUREML_LOCAL_WORKSPACE`, if any.
fn cli_env(ws: Option<&Path>, args: &[&str], code: i32) -> Output {
    let mut cmd = example_cmd("compare_models");
    cmd.args(args);
    if let Some(ws) = ws {
        cmd.env("AZUREML_LOCAL_WORKSPACE", ws);
    }
    expect(cmd, args, code)
}

fn expect(mut cmd: assert_cmd::Command, args: &[&str], code: i32) -> Output {
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

/// The id in `Run <id> completed in …` / `Run <id> failed after …`.
fn run_id(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("Run ")?;
            let (id, tail) = rest.split_once(' ')?;
            (tail.starts_with("completed") || tail.starts_with("failed")).then(|| id.to_owned())
        })
        .unwrap_or_else(|| panic!("no run summary line in:\n{stderr}"))
}

/// The line of `stdout`/`stderr` that mentions step `name` after a status mark or at its start.
fn step_line<'a>(text: &'a str, prefix: &str, name: &str) -> &'a str {
    text.lines()
        .find(|l| {
            l.trim_start()
                .strip_prefix(prefix)
                .is_some_and(|r| r.trim_start().starts_with(&format!("{name} ")))
        })
        .unwrap_or_else(|| panic!("no `{prefix} {name}` line in:\n{text}"))
}

#[test]
fn compare_models_runs_reuses_and_tells_the_story() {
    let ws = tempfile::tempdir().unwrap();
    let ws = ws.path();

    // First run: everything runs; the two notices are printed once each.
    let first = cli(ws, &["run"], 0);
    let err = text(&first.stderr);
    let banner = err.lines().next().unwrap();
    assert!(
        banner.starts_with("Running `compare_models` on this machine in ")
            && banner.ends_with("(no Azure ML workspace configured for `submit`)."),
        "{err}"
    );
    // One short line besides the workspace path (the notice was 250 characters).
    let ws_shown = ws.display().to_string();
    assert!(banner.contains(&ws_shown), "{banner}");
    assert!(
        banner.len() - ws_shown.len() <= 100,
        "one short line: {banner}"
    );
    assert_eq!(
        err.matches("environments are not rebuilt locally").count(),
        1,
        "{err}"
    );
    assert!(err.contains("3 ran, 0 reused"), "{err}");
    for step in ["data_prep", "train", "compare"] {
        assert!(
            step_line(&err, "✓", step).contains(" ran "),
            "{step}: {err}"
        );
    }
    let r1 = run_id(&err);

    // Second run (no command: `run` is the default): data prep and train are reused from the
    // first run; compare runs again.
    let second = cli_env(Some(ws), &[], 0);
    let err = text(&second.stderr);
    assert_eq!(
        err.matches("environments are not rebuilt locally").count(),
        1,
        "{err}"
    );
    for step in ["data_prep", "train"] {
        assert!(
            step_line(&err, "✓", step).ends_with(&format!("reused (run {r1}, step {step})")),
            "{step}: {err}"
        );
    }
    let compare = step_line(&err, "✓", "compare");
    assert!(
        compare.contains(" ran ") && compare.ends_with("(not reused: reuse = false)"),
        "{err}"
    );
    assert!(err.contains("1 ran, 2 reused"), "{err}");
    let r2 = run_id(&err);
    assert_ne!(r1, r2);

    // `run`'s flags work without the word `run` (`cargo run -- --param pipeline_arg=20`).
    let third = cli(
        ws,
        &[
            "--param",
            "pipeline_arg=20",
            "--input",
            "iris=examples/compare_models/data/iris.csv",
            "--stream",
        ],
        0,
    );
    let err = text(&third.stderr);
    assert!(err.contains("1 ran, 2 reused"), "{err}");
    assert!(
        err.lines().any(|l| l.starts_with("[compare] ")),
        "--stream shows compare's output: {err}"
    );
    let r3 = run_id(&err);
    let show = text(&cli(ws, &["runs", "show", &r3], 0).stdout);
    assert!(show.contains("Param      pipeline_arg = 20"), "{show}");
    assert!(
        show.contains("Input      iris = ")
            && show.contains("examples/compare_models/data/iris.csv"),
        "{show}"
    );

    // `runs list`: every run, newest first.
    let list = text(&cli(ws, &["runs", "list"], 0).stdout);
    let rows: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{list}");
    assert!(
        rows[0].starts_with(&r3) && rows[1].starts_with(&r2) && rows[2].starts_with(&r1),
        "{list}"
    );
    for row in &rows {
        assert!(
            row.contains("Completed") && row.contains("compare_models"),
            "{list}"
        );
    }

    // `runs show`: the story of the second run.
    let show = text(&cli(ws, &["runs", "show", &r2], 0).stdout);
    assert!(show.starts_with(&format!("Run        {r2}\n")), "{show}");
    assert!(show.contains("Status     Completed"), "{show}");
    assert!(show.contains("Param      pipeline_arg = 10"), "{show}");
    // Run from a git checkout: its commit, branch and state, on one line and as properties.
    if repo().join(".git").exists() {
        let git = show
            .lines()
            .find_map(|l| l.strip_prefix("Git        "))
            .unwrap_or_else(|| panic!("no git line in {show}"));
        assert!(git.contains(", clean") || git.contains(", dirty"), "{git}");
        assert!(show.contains("Property   azureml.git.commit = "), "{show}");
    }
    for step in ["data_prep", "train"] {
        let line = step_line(&show, "", step);
        assert!(
            line.contains("Reused") && line.ends_with(&format!("reused (run {r1}, step {step})")),
            "{show}"
        );
    }
    let line = step_line(&show, "", "compare");
    assert!(line.contains("Completed"), "{show}");
    assert!(line.ends_with("not reused: reuse = false"), "{show}");
    let duration = line.split_whitespace().nth(2).unwrap();
    assert!(
        duration.ends_with('s') && duration[..duration.len() - 1].parse::<f64>().is_ok(),
        "duration `{duration}` in {show}"
    );
    // Outputs: the reused ones live in the first run's folders, and every one exists.
    let outputs: Vec<&str> = show
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("output "))
        .collect();
    assert_eq!(outputs.len(), 3, "{show}");
    for o in &outputs {
        let (_, path) = o.split_once(": ").unwrap();
        assert!(Path::new(path).is_dir(), "{path}");
    }
    assert!(outputs[0].starts_with("output_data1: ") && outputs[0].contains(&r1));
    assert!(outputs[2].starts_with("output_data: ") && outputs[2].contains(&r2));
    let comparison = std::fs::read_dir(outputs[2].split_once(": ").unwrap().1)
        .unwrap()
        .count();
    assert!(comparison > 0, "compare wrote nothing");

    // `runs logs RUN compare`: what compare.py printed, and where the log is.
    let logs = cli(ws, &["runs", "logs", &r2, "compare"], 0);
    let log = text(&logs.stdout);
    assert!(log.contains("nearest_centroid"), "{log}");
    let path = text(&logs.stderr);
    let path = path.trim().trim_start_matches('(').trim_end_matches(')');
    assert!(
        path.ends_with(&format!("runs/{r2}/logs/compare.log")),
        "{path}"
    );
    assert_eq!(std::fs::read_to_string(path).unwrap(), log);

    // `runs logs … | head -1`: a reader that closes the pipe early ends the command quietly.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = support::run_example("compare_models");
    cmd.args(["runs", "logs", &r2, "compare", "--workspace"])
        .arg(ws)
        .stdout(writer);
    let closed = expect(
        assert_cmd::Command::from_std(cmd),
        &["runs", "logs", "(closed pipe)"],
        0,
    );
    let err = text(&closed.stderr);
    assert!(!err.contains("panicked") && !err.contains("error"), "{err}");

    // `graph --run`: reused steps and the step that ran are coloured apart.
    let graph = text(&cli(ws, &["graph", "--run", &r2, "--format", "mermaid"], 0).stdout);
    assert!(graph.starts_with("flowchart TD\n"), "{graph}");
    assert!(graph.contains("style n_compare fill:#c8e6c9"), "{graph}");
    assert!(graph.contains("style n_data_prep fill:#bbdefb"), "{graph}");
    assert!(graph.contains("style n_train fill:#bbdefb"), "{graph}");
    // A legend says what the colours mean: the two used here, no others.
    assert!(graph.contains("    subgraph legend [\"legend\"]\n        l_completed[\"ran\"]\n        l_reused[\"reused\"]\n    end\n"), "{graph}");
    assert!(graph.contains("style l_reused fill:#bbdefb"), "{graph}");
    assert!(!graph.contains("l_failed"), "{graph}");
    let dot = text(&cli(ws, &["graph", "--run", &r2, "--format", "dot"], 0).stdout);
    assert!(
        dot.contains(
            "\"l_reused\" [label=\"reused\", shape=box, style=filled, fillcolor=\"#bbdefb\"];"
        ),
        "{dot}"
    );
    let first_graph = text(&cli(ws, &["graph", "--run", &r1], 0).stdout);
    assert!(
        first_graph.contains("style n_train fill:#c8e6c9"),
        "{first_graph}"
    );
}

#[test]
fn snapshot_lists_files_and_the_content_hash() {
    let out = text(&cli_env(None, &["snapshot", "--step", "train"], 0).stdout);
    let src = repo().join("examples/compare_models/train_src");
    assert!(
        out.starts_with(&format!("step `train`: {}\n", src.display())),
        "{out}"
    );
    assert!(out.contains("  files         1 ("), "{out}");
    assert!(
        out.lines().any(|l| l.trim_end().ends_with("  train.py")),
        "{out}"
    );
    let hash = |out: &str| {
        let line = out
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("content hash  "))
            .unwrap_or_else(|| panic!("no hash in {out}"))
            .to_owned();
        assert!(line.ends_with(" (version 202208)"), "{line}");
        let h = line.split_whitespace().next().unwrap().to_owned();
        assert!(
            h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()),
            "{h}"
        );
        h
    };
    // The same folder named as a path gives the same hash.
    let by_path =
        text(&cli_env(None, &["snapshot", "examples/compare_models/train_src"], 0).stdout);
    assert_eq!(hash(&out), hash(&by_path));
    let other = text(&cli_env(None, &["snapshot", "--step", "compare"], 0).stdout);
    assert_ne!(hash(&out), hash(&other));
}

#[test]
fn uploaded_data_feeds_a_run_through_a_datastore_uri() {
    let ws = tempfile::tempdir().unwrap();
    let ws = ws.path();
    // The first 51 lines: the header and the 50 setosa rows.
    let iris =
        std::fs::read_to_string(repo().join("examples/compare_models/data/iris.csv")).unwrap();
    let small: String = iris.lines().take(51).map(|l| format!("{l}\n")).collect();
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("iris.csv");
    std::fs::write(&file, &small).unwrap();

    let up = cli(
        ws,
        &[
            "upload",
            file.to_str().unwrap(),
            "--datastore",
            "workspaceblobstore",
            "--target-path",
            "datasets/small",
        ],
        0,
    );
    let uri = "azureml://datastores/workspaceblobstore/paths/datasets/small/iris.csv";
    assert_eq!(text(&up.stdout), format!("{uri}\n"));
    assert!(
        text(&up.stderr).contains(&format!("--input NAME={uri}")),
        "{}",
        text(&up.stderr)
    );
    let stored = ws.join("datastores/workspaceblobstore/datasets/small/iris.csv");
    assert_eq!(std::fs::read_to_string(stored).unwrap(), small);
    // Uploading again does not overwrite by accident.
    let again = cli(
        ws,
        &[
            "upload",
            file.to_str().unwrap(),
            "--target-path",
            "datasets/small",
        ],
        2,
    );
    assert!(
        text(&again.stderr).contains("pass `--overwrite` to replace it"),
        "{}",
        text(&again.stderr)
    );

    let input = format!("iris={uri}");
    let run = cli(ws, &["run", "--input", &input], 0);
    let err = text(&run.stderr);
    assert!(err.contains("3 ran, 0 reused"), "{err}");
    let log = text(&cli(ws, &["runs", "logs", "last", "data_prep"], 0).stdout);
    assert!(log.contains("prepared 50 rows"), "{log}");
    let show = text(&cli(ws, &["runs", "show", "last"], 0).stdout);
    assert!(show.contains(&format!("Input      iris = {uri}")), "{show}");
}

#[test]
fn a_failing_step_prints_its_last_log_lines_and_the_log_path() {
    let ws = tempfile::tempdir().unwrap();
    let ws = ws.path();
    let bad = ws.join("bad.csv");
    std::fs::write(&bad, "a,b\n1,2\n").unwrap();
    let input = format!("iris={}", bad.display());
    let out = cli(ws, &["run", "--input", &input], 1);
    let err = text(&out.stderr);
    assert!(
        err.contains("Step `data_prep` failed: exited with code 1"),
        "{err}"
    );
    assert!(err.contains("--- last "), "{err}");
    assert!(err.contains("lacks columns"), "{err}");
    let log = err
        .lines()
        .find_map(|l| l.strip_prefix("Full log: "))
        .unwrap_or_else(|| panic!("no log path in {err}"));
    assert!(
        std::fs::read_to_string(log)
            .unwrap()
            .contains("lacks columns")
    );
    assert!(step_line(&err, "-", "train").contains("skipped"), "{err}");
    assert!(step_line(&err, "-", "compare").contains("skipped"), "{err}");
    let id = run_id(&err);
    assert!(err.contains(&format!("Details: `runs show {id}`")), "{err}");
    let show = text(&cli(ws, &["runs", "show", &id], 0).stdout);
    assert!(show.contains("Status     Failed"), "{show}");
    assert!(
        step_line(&show, "", "data_prep").contains("Failed"),
        "{show}"
    );
    assert!(step_line(&show, "", "train").contains("Skipped"), "{show}");
}

/// The first line `run` prints, with these environment variables set.
fn run_notice(ws: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = example_cmd("compare_models");
    // An interpreter that does not exist stops the run right after the notice.
    cmd.args(["run", "--python", "/no/such/python3", "--workspace"])
        .arg(ws);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = expect(cmd, &["run"], 2);
    let err = text(&out.stderr);
    assert!(err.contains("/no/such/python3"), "{err}");
    err.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_notice_counts_every_way_of_naming_an_azure_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let none = run_notice(&ws, &[]);
    assert_eq!(
        none,
        format!(
            "Running `compare_models` on this machine in {} (no Azure ML workspace configured for `submit`).",
            ws.display()
        )
    );

    // The three variables name a workspace without a file.
    let trio = [
        (
            "AZUREML_SUBSCRIPTION_ID",
            "00000000-1111-2222-3333-444444444444",
        ),
        ("AZUREML_RESOURCE_GROUP", "rg"),
        ("AZUREML_WORKSPACE_NAME", "from-env"),
    ];
    let line = run_notice(&ws, &trio);
    assert!(
        line.starts_with("Running `compare_models` on this machine in ")
            && line.ends_with("(`submit` runs it in Azure ML workspace `from-env`)."),
        "{line}"
    );
    // Two of them are not enough.
    let line = run_notice(&ws, &trio[..2]);
    assert!(
        line.ends_with("(no Azure ML workspace configured for `submit`)."),
        "{line}"
    );

    // AZUREML_CONFIG names a file anywhere.
    let config = dir.path().join("elsewhere.json");
    std::fs::write(
        &config,
        r#"{"subscription_id": "s", "resource_group": "rg", "workspace_name": "from-file"}"#,
    )
    .unwrap();
    let line = run_notice(&ws, &[("AZUREML_CONFIG", config.to_str().unwrap())]);
    assert!(
        line.ends_with("(`submit` runs it in Azure ML workspace `from-file`)."),
        "{line}"
    );
    // A config that cannot be used is said so, not taken for no config.
    let missing = dir.path().join("missing.json");
    let line = run_notice(&ws, &[("AZUREML_CONFIG", missing.to_str().unwrap())]);
    assert!(
        line.starts_with("Running `compare_models` on this machine"),
        "{line}"
    );
    assert!(
        line.contains("`submit` would fail: cannot read workspace config"),
        "{line}"
    );
}

#[test]
fn a_usage_error_prints_no_notice() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    for args in [
        &["run", "--param", "pipeline_arg=ten"][..],
        &["--param", "pipeline_arg=ten"][..],
        &["run", "--no-such-flag"][..],
    ] {
        let mut cmd = example_cmd("compare_models");
        cmd.args(args).arg("--workspace").arg(&ws);
        let out = expect(cmd, args, 2);
        let err = text(&out.stderr);
        assert!(err.starts_with("error: "), "{err}");
        assert!(!err.contains("Running"), "{err}");
    }
    assert!(!ws.exists(), "a refused run created its workspace");
}

#[test]
fn a_run_from_a_sub_folder_finds_the_project_history() {
    let project = tempfile::tempdir().unwrap();
    let project = project.path();
    std::fs::create_dir(project.join(".azureml-local")).unwrap();
    let sub = project.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let in_dir = |dir: &Path, args: &[&str], code: i32| {
        let mut cmd = example_cmd("compare_models");
        cmd.current_dir(dir).args(args);
        expect(cmd, args, code)
    };

    let first = text(&in_dir(project, &[], 0).stderr);
    assert!(first.contains("3 ran, 0 reused"), "{first}");
    let r1 = run_id(&first);
    // From a sub-folder, the project's workspace is found and its results reused.
    let second = text(&in_dir(&sub, &[], 0).stderr);
    assert!(second.contains("1 ran, 2 reused"), "{second}");
    let ws = std::fs::canonicalize(project.join(".azureml-local")).unwrap();
    assert!(
        second
            .lines()
            .next()
            .unwrap()
            .contains(&format!(" in {} ", ws.display())),
        "{second}"
    );
    let list = text(&in_dir(&sub, &["runs", "list"], 0).stdout);
    assert_eq!(list.lines().count(), 3, "{list}");
    assert!(list.lines().nth(2).unwrap().starts_with(&r1), "{list}");
    // Nothing was created in the sub-folder.
    assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 0);
}

#[test]
fn read_only_commands_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let list = cli(&ws, &["runs", "list"], 0);
    assert_eq!(
        text(&list.stdout),
        format!("No runs yet in {}.\n", ws.display())
    );
    for args in [
        &["runs", "show", "last"][..],
        &["runs", "logs", "last", "compare"][..],
        &["graph", "--run", "last"][..],
    ] {
        let out = cli(&ws, args, 2);
        let err = text(&out.stderr);
        assert!(
            err.starts_with(&format!("error: no local runs in `{}`", ws.display())),
            "{err}"
        );
    }
    assert!(!ws.exists(), "a read-only command created {}", ws.display());

    // Without `--workspace`, from an empty folder: nothing appears in it either.
    for args in [&["runs", "list"][..], &["graph"][..]] {
        let mut cmd = example_cmd("compare_models");
        cmd.current_dir(dir.path()).args(args);
        expect(cmd, args, 0);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
