//! The example binaries, run as a user would: export, graph, help and bad input.

mod support;

use std::process::Output;

use support::{assert_golden, repo, run_example};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn export(example: &str, format: &str) -> String {
    let out = run_example(example)
        .args(["export", "--format", format])
        .output()
        .unwrap();
    assert!(out.status.success(), "export failed: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn compare_models_json_export_matches_golden() {
    assert_golden("compare_models.json", &export("compare_models", "json"));
}

#[test]
fn compare_models_yaml_export_matches_golden() {
    assert_golden("compare_models.yaml", &export("compare_models", "yaml"));
}

#[test]
fn model_selection_exports_match_golden() {
    assert_golden("model_selection.json", &export("model_selection", "json"));
    // A sub-pipeline makes the YAML two files, written with `--out` to a folder one level below
    // the repository root (so the local paths in them are the same wherever the repository is).
    let dir = tempfile::tempdir_in(repo()).unwrap();
    let out = run_example("model_selection")
        .args(["export", "--format", "yaml", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "export failed: {}", stderr(&out));
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["fit_and_evaluate.component.yml", "pipeline.yml"]);
    for file in files {
        let text = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        assert_golden(&format!("model_selection/{file}"), &text);
    }
}

#[test]
fn yaml_of_several_files_is_not_printed_and_the_error_names_out() {
    let out = run_example("model_selection")
        .args(["export", "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("2 files (pipeline.yml, fit_and_evaluate.component.yml)"),
        "{err}"
    );
    assert!(err.contains("--out DIR"), "{err}");
}

#[test]
fn export_is_byte_stable() {
    let a = export("model_selection", "json");
    let b = export("model_selection", "json");
    assert_eq!(a, b);
}

#[test]
fn yaml_export_is_valid_yaml_with_inline_components() {
    let text = export("compare_models", "yaml");
    let doc: serde_json::Value = serde_yaml_ng::from_str(&text).expect("valid YAML");
    assert_eq!(doc["type"], "pipeline");
    assert_eq!(doc["experiment_name"], "Compare_Models_Exp");
    assert_eq!(doc["inputs"]["pipeline_arg"], 10);
    let jobs = doc["jobs"].as_object().unwrap();
    assert_eq!(
        jobs.keys().collect::<Vec<_>>(),
        ["data_prep", "train", "compare"]
    );
    assert_eq!(jobs["compare"]["component"]["is_deterministic"], false);
    assert_eq!(
        jobs["compare"]["inputs"]["comp_data2"],
        "${{parent.jobs.train.outputs.training_results}}"
    );
    assert_eq!(
        jobs["data_prep"]["inputs"]["input"]["mode"], "download",
        "the input mode travels with the binding"
    );
    // Code paths are relative to where the YAML is written and point at real folders.
    let code = jobs["train"]["component"]["code"].as_str().unwrap();
    assert!(repo().join(code).join("train.py").is_file(), "{code}");
}

#[test]
fn export_params_and_workspace_fill_the_body() {
    let out = run_example("compare_models")
        .args([
            "export",
            "--param",
            "pipeline_arg=20",
            "--input",
            "iris=azureml://datastores/workspaceblobstore/paths/train-dataset/iris.csv",
            "--subscription-id",
            "00000000-1111-2222-3333-444444444444",
            "--resource-group",
            "rg",
            "--workspace-name",
            "ws",
            "--regenerate-outputs",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let requests: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = &requests.as_array().unwrap().last().unwrap()["body"]["properties"];
    assert_eq!(job["inputs"]["pipeline_arg"]["value"], "20");
    assert_eq!(
        job["inputs"]["iris"]["uri"],
        "azureml://datastores/workspaceblobstore/paths/train-dataset/iris.csv"
    );
    assert_eq!(job["settings"]["force_rerun"], true);
    assert_eq!(
        job["settings"]["default_compute"],
        "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/aml-compute"
    );
}

#[test]
fn export_out_dir_writes_one_file_per_body() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_example("model_selection")
        .args(["export", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("requests.json")).unwrap())
            .unwrap();
    let requests = manifest.as_array().unwrap();
    // split, fit, evaluate, pick_best and one pipeline component (both sub-pipeline calls share it).
    assert_eq!(requests.len(), 6);
    assert!(
        requests.last().unwrap()["path"]
            .as_str()
            .unwrap()
            .ends_with("/jobs/{job_name}")
    );
    for r in requests {
        let file = dir.path().join(r["body"].as_str().unwrap());
        let body: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert!(body["properties"].is_object(), "{}", file.display());
    }
    let yaml = run_example("model_selection")
        .args(["export", "--format", "yaml", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(yaml.status.success(), "{}", stderr(&yaml));
    let text = std::fs::read_to_string(dir.path().join("pipeline.yml")).unwrap();
    let doc: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
    let code = doc["jobs"]["split"]["component"]["code"].as_str().unwrap();
    assert!(dir.path().join(code).join("split.py").is_file(), "{code}");
}

#[test]
fn help_lists_inputs_and_parameters_with_types_and_defaults() {
    let out = run_example("compare_models")
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("Prepares the iris data"), "{text}");
    assert!(
        text.contains("iris                 uri_file (default: ")
            && text.contains("examples/compare_models/data/iris.csv"),
        "{text}"
    );
    assert!(
        text.contains("pipeline_arg         i64 (default: 10)"),
        "{text}"
    );
    // Defaults are shown as written, relative to the crate, never as build-machine paths.
    assert!(
        text.contains("(default: examples/compare_models/data/iris.csv)")
            && text.contains("a default to the pipeline crate's folder"),
        "{text}"
    );
    assert!(!text.contains(&repo().display().to_string()), "{text}");
    for command in ["run", "export", "graph", "runs", "snapshot"] {
        assert!(
            text.contains(command),
            "`{command}` missing from help:\n{text}"
        );
    }
}

#[test]
fn bad_param_value_is_a_clear_error() {
    let out = run_example("compare_models")
        .args(["export", "--param", "pipeline_arg=ten"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "error: bad value for parameter `pipeline_arg` (i64): `ten` is not an integer"
    );
}

#[test]
fn unknown_input_is_a_clear_error() {
    let out = run_example("compare_models")
        .args(["export", "--param", "pipline_arg=3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "pipeline `compare_models` has no input named `pipline_arg`; its inputs are: `iris` (uri_file), `pipeline_arg` (integer)"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn data_passed_as_param_is_a_clear_error() {
    let out = run_example("compare_models")
        .args(["export", "--param", "iris=x.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`iris` is a data input; pass it with `--input iris=...`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_local_input_is_a_clear_error() {
    let out = run_example("compare_models")
        .args(["export", "--input", "iris=no/such/file.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("input `iris`"), "{err}");
    assert!(err.contains("no/such/file.csv"), "{err}");
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = run_example("compare_models")
        .args(["export", "--fromat", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--format"), "{}", stderr(&out));
}

#[test]
fn graph_mermaid_and_dot() {
    let out = run_example("compare_models")
        .args(["graph"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mermaid = stdout(&out);
    assert!(mermaid.starts_with("flowchart TD\n"));
    assert!(mermaid.contains("n_data_prep -->|\"output_data1 → prepped_data\"| n_train"));
    assert!(mermaid.contains("i_pipeline_arg -->|param1| n_compare"));
    assert!(mermaid.contains("n_compare -->|output_data| o_comparison"));

    let out = run_example("compare_models")
        .args(["graph", "--format", "dot"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dot = stdout(&out);
    assert!(dot.starts_with("digraph \"compare_models\" {"));
    assert!(
        dot.contains("\"n_train\" -> \"n_compare\" [label=\"training_results → comp_data2\"];")
    );
    assert!(dot.trim_end().ends_with('}'));
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    // `graph | head -0`: the reader is gone before anything is written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = run_example("compare_models")
        .args(["graph"])
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn export_to_a_full_disk_reports_the_write_error() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = run_example("compare_models")
        .args(["export"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        "error: cannot write to standard output: No space left on device (os error 28)"
    );
}

#[test]
fn a_duration_flag_out_of_range_is_refused_when_parsing_flags() {
    for (value, why) in [
        ("1e300", "too long"),
        ("0", "not a positive number"),
        ("soon", "not a number"),
    ] {
        // No workspace config exists here: the flag is refused before it is looked for.
        let out = run_example("compare_models")
            .args(["submit", "--wait", "--poll-interval", value])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("--poll-interval") && err.contains(why),
            "{value}: {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("config"),
            "{err}"
        );
    }
}

#[test]
fn run_flags_are_refused_next_to_another_command() {
    let out = run_example("compare_models")
        .args(["--param", "pipeline_arg=20", "graph"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn off_a_terminal_a_long_step_is_announced_while_it_runs() {
    // A `python` that takes a second to start: each step runs longer than the heartbeat.
    let dir = tempfile::tempdir().unwrap();
    let slow = dir.path().join("slow-python");
    std::fs::write(&slow, "#!/bin/sh\nsleep 1\nexec python3 \"$@\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_example("compare_models")
        .args([
            "run",
            "--regenerate-outputs",
            "--heartbeat",
            "0.3",
            "--workspace",
        ])
        .arg(dir.path().join("ws"))
        .arg("--python")
        .arg(&slow)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("  … still running: data_prep ("), "{err}");
}
