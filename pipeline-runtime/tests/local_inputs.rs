//! Bad data inputs are refused before any work: wrong kind, empty value, a folder that holds the
//! workspace itself. Real runs with `python3`.

mod local_support;

use azureml_pipelines_runtime::graph::{AssetType, BindError, InputMode, Pipeline, PortType};
use azureml_pipelines_runtime::local::LocalError;
use local_support::*;

const COUNT: &str = r#"
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--data"); p.add_argument("--out")
a = p.parse_args()
n = sum(len(files) for _, _, files in os.walk(a.data)) if os.path.isdir(a.data) else 1
open(os.path.join(a.out, "count.txt"), "w").write(str(n))
"#;

/// One step reading input `data` of `kind`, delivered with `mode`.
fn one_step(s: &Scratch, kind: AssetType, mode: Option<InputMode>) -> Pipeline {
    s.write("src/count.py", COUNT);
    let root = s.path();
    let step = StepSpec::new(
        root,
        "count",
        "python count.py --data ${{inputs.data}} --out ${{outputs.out}}",
    )
    .source("src")
    .input(data("data", kind, mode))
    .output("out")
    .build();
    let mut p = PipelineSpec::new("one_step", root);
    let input = p.input("data", PortType::Data(kind), None);
    let out = p.step(step, vec![input]).remove(0);
    p.output("out", &out);
    p.done()
}

fn bind_error(e: LocalError) -> BindError {
    match e {
        LocalError::Bind(b) => b,
        other => panic!("not a binding error: {other:?}"),
    }
}

#[test]
fn a_folder_for_a_file_input_is_refused_naming_both_kinds() {
    let s = Scratch::new();
    let p = one_step(&s, AssetType::UriFile, None);
    s.write("data/a.csv", "x");
    let mut o = s.opts();
    o.inputs = vec![("data".into(), "data".into())];
    let e = s.run(&p, &o).0.unwrap_err();
    assert!(e.is_bad_input());
    let e = bind_error(e);
    let msg = e.to_string();
    assert!(matches!(e, BindError::WrongKind { .. }), "{e:?}");
    assert!(msg.starts_with("input `data` is a uri_file but "), "{msg}");
    assert!(msg.contains("is a folder (uri_folder)"), "{msg}");
    assert!(!s.ws().exists(), "nothing was done: {}", s.ws().display());
}

#[test]
fn a_file_for_a_folder_input_is_refused_naming_both_kinds() {
    let s = Scratch::new();
    let p = one_step(&s, AssetType::UriFolder, None);
    s.write("data/a.csv", "x");
    let mut o = s.opts();
    o.inputs = vec![("data".into(), "data/a.csv".into())];
    let msg = bind_error(s.run(&p, &o).0.unwrap_err()).to_string();
    assert!(
        msg.starts_with("input `data` is a uri_folder but "),
        "{msg}"
    );
    assert!(msg.contains("a.csv is a file (uri_file)"), "{msg}");
    assert!(!s.ws().exists());
}

#[test]
fn an_empty_input_value_is_refused() {
    let s = Scratch::new();
    let p = one_step(&s, AssetType::UriFolder, None);
    let mut o = s.opts();
    o.inputs = vec![("data".into(), "".into())];
    let e = bind_error(s.run(&p, &o).0.unwrap_err());
    assert_eq!(
        e,
        BindError::EmptyValue {
            name: "data".into(),
            kind: AssetType::UriFolder
        }
    );
    assert!(e.to_string().contains("`--input data=PATH`"), "{e}");
    assert!(!s.ws().exists());
}

/// Bytes of every file under `dir`.
fn disk_use(dir: &std::path::Path) -> u64 {
    walkdir_sizes(dir)
}

fn walkdir_sizes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        total += if meta.is_dir() {
            walkdir_sizes(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

#[test]
fn a_folder_holding_the_workspace_is_never_copied_into_itself() {
    for mode in [Some(InputMode::Download), None] {
        let s = Scratch::new();
        let p = one_step(&s, AssetType::UriFolder, mode);
        s.write("data/big.bin", &"x".repeat(256 * 1024));
        let before = disk_use(s.path());
        let mut o = s.opts();
        // `run --input data=.` from the project folder, whose workspace is `./ws`.
        o.inputs = vec![("data".into(), ".".into())];
        let e = s.run(&p, &o).0.unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, LocalError::InputContainsWorkspace { .. }),
            "{e:?}"
        );
        assert!(e.is_bad_input());
        assert!(msg.starts_with("input `data`: "), "{msg}");
        assert!(msg.contains("contains the local workspace"), "{msg}");
        assert!(msg.contains("--workspace DIR"), "{msg}");
        // Disk use stays bounded: no copy was started (the workspace's empty store aside).
        let after = disk_use(s.path());
        assert!(after < before + 200 * 1024, "{before} -> {after}");
    }
}

#[test]
fn a_folder_beside_the_workspace_still_runs() {
    let s = Scratch::new();
    let p = one_step(&s, AssetType::UriFolder, Some(InputMode::Download));
    s.write("data/a.csv", "x");
    s.write("data/sub/b.csv", "y");
    let mut o = s.opts();
    o.inputs = vec![("data".into(), "data".into())];
    let sum = s.run(&p, &o).0.unwrap();
    let dir = &sum.step("count").unwrap().outputs["out"];
    assert_eq!(std::fs::read_to_string(dir.join("count.txt")).unwrap(), "2");
}

#[test]
fn the_local_backend_takes_inputs_bound_as_submit_takes_them() {
    let s = Scratch::new();
    let p = one_step(&s, AssetType::UriFolder, None);
    s.write("data/a.csv", "x");
    let values = p
        .bind(&[], &[("data".into(), "data".into())], s.path())
        .unwrap();
    let sum = azureml_pipelines_runtime::local::run_bound(&p, &values, &s.opts(), |_| {}).unwrap();
    let dir = &sum.step("count").unwrap().outputs["out"];
    assert_eq!(std::fs::read_to_string(dir.join("count.txt")).unwrap(), "1");
    let err = azureml_pipelines_runtime::local::run_bound(&p, &[], &s.opts(), |_| {}).unwrap_err();
    assert_eq!(
        bind_error(err),
        BindError::ValueCount {
            pipeline: "one_step".into(),
            given: 0,
            expected: 1
        }
    );
}
