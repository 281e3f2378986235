//! End-to-end runs of the local backend with real `python3` processes: runs, reuse and its
//! explanations, failures, bad inputs, nested pipelines, datastores.

mod local_support;

use azureml_pipelines_runtime::graph::{
    AssetType, DataLocation, InputMode, InputValue, Literal, ParamType, Pipeline, PortType,
};
use azureml_pipelines_runtime::local::{
    self, Event, LocalError, RunStatus, RunSummary, StepOutcome, StepStatus, Workspace,
};
use local_support::*;

const PREPARE: &str = r#"
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--raw"); p.add_argument("--out")
a = p.parse_args()
text = open(a.raw).read()
open(os.path.join(a.out, "prepped.txt"), "w").write(text.upper())
print("prepared", len(text))
"#;

const TRAIN: &str = r#"
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--prepped_data"); p.add_argument("--model")
a = p.parse_args()
text = open(os.path.join(a.prepped_data, "prepped.txt")).read()
open(os.path.join(a.model, "model.txt"), "w").write(text + "|trained")
"#;

const COMPARE: &str = r#"
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--a"); p.add_argument("--b"); p.add_argument("--param1", type=int)
p.add_argument("--out")
a = p.parse_args()
x = open(os.path.join(a.a, "prepped.txt")).read()
y = open(os.path.join(a.b, "model.txt")).read()
open(os.path.join(a.out, "result.txt"), "w").write(f"{x}/{y}/{a.param1}")
"#;

/// prep → train → compare, with `raw` (a file) and `param1` (default 10).
fn seed_like(s: &Scratch) -> Pipeline {
    s.write("prep_src/prepare.py", PREPARE);
    s.write("train_src/train.py", TRAIN);
    s.write("compare_src/compare.py", COMPARE);
    let raw = s.write("data/raw.txt", "iris");
    let root = s.path();
    let prep = StepSpec::new(
        root,
        "data_prep",
        "python prepare.py --raw ${{inputs.raw}} --out ${{outputs.prepped}}",
    )
    .source("prep_src")
    .input(data("raw", AssetType::UriFile, Some(InputMode::Download)))
    .output("prepped")
    .build();
    let train = StepSpec::new(
        root,
        "train",
        "python train.py --prepped_data ${{inputs.prepped_data}} --model ${{outputs.model}}",
    )
    .source("train_src")
    .input(data("prepped_data", AssetType::UriFolder, None))
    .output("model")
    .build();
    let compare = StepSpec::new(
        root,
        "compare",
        "python compare.py --a ${{inputs.a}} --b ${{inputs.b}} --param1 ${{inputs.param1}} \
         --out ${{outputs.result}}",
    )
    .source("compare_src")
    .input(data(
        "a",
        AssetType::UriFolder,
        Some(InputMode::ReadOnlyMount),
    ))
    .input(data("b", AssetType::UriFolder, Some(InputMode::Download)))
    .input(param("param1", ParamType::Integer))
    .output("result")
    .no_reuse()
    .build();
    let mut p = PipelineSpec::new("seed_like", root);
    let raw_in = p.input(
        "raw",
        PortType::Data(AssetType::UriFile),
        Some(InputValue::Data(DataLocation::Local(raw))),
    );
    let arg = p.input(
        "param1",
        PortType::Param(ParamType::Integer),
        Some(InputValue::Literal(Literal::Integer(10))),
    );
    let prepped = p.step(prep, vec![raw_in]).remove(0);
    let model = p.step(train, vec![prepped.clone()]).remove(0);
    let result = p.step(compare, vec![prepped, model, arg]).remove(0);
    p.output("result", &result);
    p.done()
}

fn outcome<'a>(s: &'a RunSummary, step: &str) -> &'a StepOutcome {
    &s.step(step)
        .unwrap_or_else(|| panic!("no step {step}"))
        .outcome
}

fn reasons(s: &RunSummary, step: &str) -> Vec<String> {
    match outcome(s, step) {
        StepOutcome::Ran { reasons } => reasons.clone(),
        other => panic!("{step} did not run: {other:?}"),
    }
}

fn read_output(s: &RunSummary, step: &str, output: &str, file: &str) -> String {
    let dir = &s.step(step).unwrap().outputs[output];
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn runs_the_whole_pipeline_with_real_processes() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let (r, events) = s.run(&p, &s.opts());
    let sum = r.expect("run");
    assert_eq!(sum.status, RunStatus::Completed, "{sum:#?}");
    assert_eq!(
        read_output(&sum, "compare", "result", "result.txt"),
        "IRIS/IRIS|trained/10"
    );
    for step in ["data_prep", "train", "compare"] {
        assert!(matches!(outcome(&sum, step), StepOutcome::Ran { .. }));
    }
    assert_eq!(reasons(&sum, "data_prep"), vec!["no earlier run"]);
    assert_eq!(reasons(&sum, "compare"), vec!["reuse = false"]);
    // Environments are not rebuilt: said once.
    let notices = events
        .iter()
        .filter(|e| matches!(e, Event::Notice(n) if n.contains("not rebuilt")))
        .count();
    assert_eq!(notices, 1);
    // Sealed outputs are read-only and no temporary folder is left.
    let model = &sum.step("train").unwrap().outputs["model"];
    let perms = std::fs::metadata(model.join("model.txt"))
        .unwrap()
        .permissions();
    assert!(perms.readonly());
    let parent = model.parent().unwrap();
    assert!(
        std::fs::read_dir(parent)
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().starts_with(".tmp-"))
    );
    // Outputs live in the default datastore under the run and node.
    assert!(model.ends_with(format!("azureml/{}/train/model", sum.run_id)));
    // The run store has it.
    let ws = Workspace::open(s.ws()).unwrap();
    let store = ws.store().unwrap();
    let run = store.find_run("last", ws.root()).unwrap();
    assert_eq!(run.id, sum.run_id);
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.params["param1"], "10");
    let steps = store.steps(&run.id).unwrap();
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|st| st.status == StepStatus::Completed));
    let log = steps[0].log_path.clone().unwrap();
    assert!(std::fs::read_to_string(log).unwrap().contains("prepared 4"));
    let statuses = local::step_statuses(s.ws(), &sum.run_id).unwrap();
    assert_eq!(statuses["train"], StepStatus::Completed);
}

#[test]
fn a_rerun_reuses_and_says_from_where() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let first = s.run(&p, &s.opts()).0.unwrap();
    let second = s.run(&p, &s.opts()).0.unwrap();
    assert_eq!(second.status, RunStatus::Completed);
    for step in ["data_prep", "train"] {
        assert_eq!(
            outcome(&second, step),
            &StepOutcome::Reused {
                run_id: first.run_id.clone(),
                step: step.to_owned()
            }
        );
    }
    // `reuse = false` always runs.
    assert_eq!(reasons(&second, "compare"), vec!["reuse = false"]);
    // A third run still points at the run that produced the outputs.
    let third = s.run(&p, &s.opts()).0.unwrap();
    assert_eq!(
        outcome(&third, "train"),
        &StepOutcome::Reused {
            run_id: first.run_id.clone(),
            step: "train".into()
        }
    );
    let statuses = local::step_statuses(s.ws(), &third.run_id).unwrap();
    assert_eq!(statuses["train"], StepStatus::Reused);
    assert_eq!(statuses["compare"], StepStatus::Completed);
}

#[test]
fn a_changed_script_is_named() {
    let s = Scratch::new();
    let p = seed_like(&s);
    s.run(&p, &s.opts()).0.unwrap();
    s.write("prep_src/prepare.py", &format!("{PREPARE}\n# tweak\n"));
    let sum = s.run(&p, &s.opts()).0.unwrap();
    assert_eq!(
        reasons(&sum, "data_prep"),
        vec!["script changed: `prepare.py`"]
    );
    // Same output bytes, so train is reused all the same.
    assert!(matches!(outcome(&sum, "train"), StepOutcome::Reused { .. }));
}

#[test]
fn a_changed_input_is_named_downstream_too() {
    let s = Scratch::new();
    let p = seed_like(&s);
    s.run(&p, &s.opts()).0.unwrap();
    s.write("data/raw.txt", "setosa");
    let sum = s.run(&p, &s.opts()).0.unwrap();
    assert_eq!(reasons(&sum, "data_prep"), vec!["input `raw` changed"]);
    assert_eq!(reasons(&sum, "train"), vec!["input `prepped_data` changed"]);
}

#[test]
fn a_changed_param_is_named_with_both_values() {
    let s = Scratch::new();
    s.write(
        "src/echo.py",
        "import sys, os\nopen(os.path.join(sys.argv[2], 'v'), 'w').write(sys.argv[1])\n",
    );
    let step = StepSpec::new(
        s.path(),
        "echo",
        "python echo.py ${{inputs.param1}} ${{outputs.out}}",
    )
    .source("src")
    .input(param("param1", ParamType::Integer))
    .output("out")
    .build();
    let mut p = PipelineSpec::new("params", s.path());
    let a = p.input(
        "param1",
        PortType::Param(ParamType::Integer),
        Some(InputValue::Literal(Literal::Integer(10))),
    );
    p.step(step, vec![a]);
    let p = p.done();
    s.run(&p, &s.opts()).0.unwrap();
    let mut o = s.opts();
    o.params = vec![("param1".into(), "20".into())];
    let sum = s.run(&p, &o).0.unwrap();
    assert_eq!(reasons(&sum, "echo"), vec!["`param1` 10 → 20"]);
    assert_eq!(read_output(&sum, "echo", "out", "v"), "20");
    // Back to 10: the first run is reused.
    let back = s.run(&p, &s.opts()).0.unwrap();
    assert!(matches!(outcome(&back, "echo"), StepOutcome::Reused { .. }));
}

#[test]
fn regenerate_outputs_runs_everything() {
    let s = Scratch::new();
    let p = seed_like(&s);
    s.run(&p, &s.opts()).0.unwrap();
    let mut o = s.opts();
    o.regenerate_outputs = true;
    let sum = s.run(&p, &o).0.unwrap();
    assert_eq!(reasons(&sum, "data_prep"), vec!["--regenerate-outputs"]);
    assert_eq!(reasons(&sum, "train"), vec!["--regenerate-outputs"]);
    assert_eq!(reasons(&sum, "compare"), vec!["reuse = false"]);
}

#[test]
fn deleted_outputs_are_not_reused() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let first = s.run(&p, &s.opts()).0.unwrap();
    let dir = first.step("train").unwrap().outputs["model"].clone();
    std::fs::set_permissions(dir.join("model.txt"), {
        let mut perms = std::fs::metadata(dir.join("model.txt"))
            .unwrap()
            .permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        perms
    })
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let sum = s.run(&p, &s.opts()).0.unwrap();
    let why = reasons(&sum, "train");
    assert!(why.iter().any(|w| w.contains("are gone")), "{why:?}");
}

#[test]
fn a_failing_step_reports_its_log_and_skips_downstream() {
    let s = Scratch::new();
    let p = seed_like(&s);
    s.write(
        "train_src/train.py",
        "import sys\nprint('loading')\nsys.exit('train.py: no features in the data')\n",
    );
    let (r, _) = s.run(&p, &s.opts());
    let sum = r.unwrap();
    assert_eq!(sum.status, RunStatus::Failed);
    match outcome(&sum, "train") {
        StepOutcome::Failed {
            reason,
            exit_code,
            log_tail,
            log_path,
        } => {
            assert_eq!(reason, "exited with code 1");
            assert_eq!(*exit_code, Some(1));
            assert_eq!(
                log_tail.last().unwrap(),
                "train.py: no features in the data"
            );
            assert!(log_tail.contains(&"loading".to_owned()));
            assert!(log_path.is_file());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        outcome(&sum, "compare"),
        StepOutcome::Skipped { .. }
    ));
    // Nothing was sealed for the failed step; the next run still reuses data_prep.
    let again = s.run(&p, &s.opts()).0.unwrap();
    assert!(matches!(
        outcome(&again, "data_prep"),
        StepOutcome::Reused { .. }
    ));
    let ws = Workspace::open(s.ws()).unwrap();
    let run = ws
        .store()
        .unwrap()
        .find_run(&sum.run_id, ws.root())
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error.as_deref(), Some("step `train` failed"));
}

/// `a` fails; `b` is independent; `c` reads `a`.
fn branches(s: &Scratch, keep_going: bool) -> Pipeline {
    let root = s.path();
    let a = StepSpec::new(root, "a", "sleep 0.2; exit 3")
        .output("o")
        .build();
    let b = StepSpec::new(root, "b", "sleep 0.5; echo b > ${{outputs.o}}/b")
        .output("o")
        .build();
    let c = StepSpec::new(root, "c", "cp -r ${{inputs.x}} ${{outputs.o}}/x")
        .input(data("x", AssetType::UriFolder, None))
        .output("o")
        .build();
    let mut p = PipelineSpec::new("branches", root);
    let ao = p.step(a, vec![]).remove(0);
    p.step(b, vec![]);
    p.step(c, vec![ao]);
    let mut p = p.done();
    p.settings.continue_on_step_failure = keep_going;
    p
}

#[test]
fn continue_on_step_failure_runs_independent_branches() {
    let s = Scratch::new();
    let sum = s.run(&branches(&s, true), &s.opts()).0.unwrap();
    assert_eq!(sum.status, RunStatus::Failed);
    assert!(matches!(
        outcome(&sum, "a"),
        StepOutcome::Failed {
            exit_code: Some(3),
            ..
        }
    ));
    assert!(matches!(outcome(&sum, "b"), StepOutcome::Ran { .. }));
    assert_eq!(
        outcome(&sum, "c"),
        &StepOutcome::Skipped {
            because: "`a` failed".into()
        }
    );
}

#[test]
fn without_continue_on_step_failure_nothing_new_starts() {
    let s = Scratch::new();
    let mut o = s.opts();
    o.max_parallel = 1;
    let sum = s.run(&branches(&s, false), &o).0.unwrap();
    assert_eq!(sum.status, RunStatus::Failed);
    assert!(matches!(outcome(&sum, "b"), StepOutcome::Skipped { .. }));
    assert!(matches!(outcome(&sum, "c"), StepOutcome::Skipped { .. }));
}

#[test]
fn independent_slow_steps_overlap() {
    let s = Scratch::new();
    let root = s.path();
    let slow = |name: &'static str| {
        StepSpec::new(
            root,
            name,
            "python -c \"import time,os,sys; t=time.time(); time.sleep(0.8); \
             open(os.path.join(sys.argv[1],'t'),'w').write(f'{t} {time.time()}')\" ${{outputs.o}}",
        )
        .output("o")
        .build()
    };
    let mut p = PipelineSpec::new("overlap", root);
    p.step(slow("one"), vec![]);
    p.step(slow("two"), vec![]);
    let p = p.done();
    let sum = s.run(&p, &s.opts()).0.unwrap();
    assert_eq!(sum.status, RunStatus::Completed);
    let span = |step: &str| -> (f64, f64) {
        let t = read_output(&sum, step, "o", "t");
        let v: Vec<f64> = t.split(' ').map(|x| x.parse().unwrap()).collect();
        (v[0], v[1])
    };
    let (a0, a1) = span("one");
    let (b0, b1) = span("two");
    assert!(
        a0 < b1 && b0 < a1,
        "did not overlap: {a0}..{a1} vs {b0}..{b1}"
    );
}

#[test]
fn nested_pipelines_run_with_qualified_names() {
    let s = Scratch::new();
    let root = s.path();
    let inner_step = StepSpec::new(root, "clean", "echo clean > ${{outputs.o}}/f")
        .output("o")
        .build();
    let mut inner = PipelineSpec::new("inner", root);
    let o = inner.step(inner_step, vec![]).remove(0);
    inner.output("cleaned", &o);
    let inner = inner.done();
    let consume = StepSpec::new(root, "use", "cat ${{inputs.x}}/f > ${{outputs.o}}/g")
        .input(data("x", AssetType::UriFolder, None))
        .output("o")
        .build();
    let mut outer = PipelineSpec::new("outer", root);
    let cleaned = outer.sub("prep", inner, vec![]).remove(0);
    outer.step(consume, vec![cleaned]);
    let p = outer.done();
    let sum = s.run(&p, &s.opts()).0.unwrap();
    assert_eq!(sum.status, RunStatus::Completed, "{sum:#?}");
    assert!(sum.step("prep.clean").is_some());
    assert_eq!(read_output(&sum, "use", "o", "g"), "clean\n");
}

#[test]
fn datastore_uris_resolve_into_the_workspace() {
    let s = Scratch::new();
    let ws = Workspace::open(s.ws()).unwrap();
    let src = s.write("upload/iris.csv", "a,b\n");
    let up = ws
        .upload(&[src], "workspaceblobstore", "datasets/iris", false)
        .unwrap();
    assert_eq!(
        up[0].uri,
        "azureml://datastores/workspaceblobstore/paths/datasets/iris/iris.csv"
    );
    let step = StepSpec::new(s.path(), "read", "cp ${{inputs.d}} ${{outputs.o}}/copy")
        .input(data("d", AssetType::UriFile, None))
        .output("o")
        .build();
    let mut p = PipelineSpec::new("ds", s.path());
    let d = p.input("d", PortType::Data(AssetType::UriFile), None);
    p.step(step, vec![d]);
    let p = p.done();
    let mut o = s.opts();
    o.inputs = vec![("d".into(), up[0].uri.clone())];
    let sum = s.run(&p, &o).0.unwrap();
    assert_eq!(read_output(&sum, "read", "o", "copy"), "a,b\n");
    // Upload refuses to overwrite unless asked.
    let src = s.write("upload/iris.csv", "c\n");
    assert!(
        ws.upload(
            std::slice::from_ref(&src),
            "workspaceblobstore",
            "datasets/iris",
            false
        )
        .is_err()
    );
    ws.upload(&[src], "workspaceblobstore", "datasets/iris", true)
        .unwrap();
}

#[test]
fn download_inputs_are_private_copies_and_mounts_read_only() {
    let s = Scratch::new();
    let root = s.path();
    let make = StepSpec::new(root, "make", "echo data > ${{outputs.o}}/f")
        .output("o")
        .build();
    // Writing into the downloaded copy works; into the read-only mount it fails.
    let dl = StepSpec::new(
        root,
        "dl",
        "echo more >> ${{inputs.x}}/f && cp ${{inputs.x}}/f ${{outputs.o}}/f",
    )
    .input(data("x", AssetType::UriFolder, Some(InputMode::Download)))
    .output("o")
    .build();
    let ro = StepSpec::new(root, "ro", "if echo more >> ${{inputs.x}}/f; then echo writable > ${{outputs.o}}/r; else echo protected > ${{outputs.o}}/r; fi")
        .input(data("x", AssetType::UriFolder, Some(InputMode::ReadOnlyMount)))
        .output("o")
        .build();
    let mut p = PipelineSpec::new("modes", root);
    let o = p.step(make, vec![]).remove(0);
    p.step(dl, vec![o.clone()]);
    p.step(ro, vec![o]);
    let p = p.done();
    // One step at a time: `dl` copies before `ro` tries to write (which root can).
    let mut opts = s.opts();
    opts.max_parallel = 1;
    let sum = s.run(&p, &opts).0.unwrap();
    assert_eq!(sum.status, RunStatus::Completed, "{sum:#?}");
    assert_eq!(read_output(&sum, "dl", "o", "f"), "data\nmore\n");
    // Sealed files are read-only; root ignores that, so only check as another user.
    if !is_root() {
        assert_eq!(read_output(&sum, "make", "o", "f"), "data\n");
        assert_eq!(read_output(&sum, "ro", "o", "r"), "protected\n");
    }
}

#[test]
fn ro_mount_inputs_are_read_only_views_whatever_the_step_does() {
    let s = Scratch::new();
    let root = s.path();
    let make = StepSpec::new(
        root,
        "make",
        "mkdir ${{outputs.o}}/sub && echo data > ${{outputs.o}}/f && echo deep > ${{outputs.o}}/sub/g",
    )
    .output("o")
    .build();
    // Each reader records the permission bits it sees, then tries to change the folder.
    let reader = |name: &'static str, mode: Option<InputMode>, tail: &str| {
        StepSpec::new(
            root,
            name,
            format!(
                "stat -c %a ${{{{inputs.x}}}} ${{{{inputs.x}}}}/sub ${{{{inputs.x}}}}/f > ${{{{outputs.o}}}}/modes; \
                 if (touch ${{{{inputs.x}}}}/new && rm -f ${{{{inputs.x}}}}/f && rm -rf ${{{{inputs.x}}}}/sub) 2>/dev/null; \
                 then echo changed > ${{{{outputs.o}}}}/r; else echo protected > ${{{{outputs.o}}}}/r; fi{tail}"
            ),
        )
        .input(data("x", AssetType::UriFolder, mode))
        .output("o")
        .build()
    };
    let ro = reader("ro", Some(InputMode::ReadOnlyMount), "");
    let default = reader("default", None, "");
    let failing = reader("failing", Some(InputMode::ReadOnlyMount), "; exit 3");
    let mut p = PipelineSpec::new("views", root);
    let o = p.step(make, vec![]).remove(0);
    p.step(ro, vec![o.clone()]);
    p.step(default, vec![o.clone()]);
    p.step(failing, vec![o]);
    let p = p.done();
    let mut opts = s.opts();
    opts.continue_on_step_failure = Some(true);
    let sum = s.run(&p, &opts).0.unwrap();
    assert_eq!(sum.status, RunStatus::Failed, "{sum:#?}");
    for step in ["ro", "default"] {
        // Folders and files of the view had no write bit for anyone.
        let modes = read_output(&sum, step, "o", "modes");
        let modes: Vec<u32> = modes
            .lines()
            .map(|m| u32::from_str_radix(m, 8).unwrap())
            .collect();
        assert_eq!(modes.len(), 3, "{step}");
        assert!(modes.iter().all(|m| m & 0o222 == 0), "{step}: {modes:?}");
        // Root ignores permission bits; anyone else is stopped.
        if !is_root() {
            assert_eq!(read_output(&sum, step, "o", "r"), "protected\n", "{step}");
        }
        // A successful step's folder, views included, is removed.
        assert!(
            !s.ws()
                .join("runs")
                .join(&sum.run_id)
                .join("steps")
                .join(step)
                .exists()
        );
    }
    // Whatever the readers did to their views, the upstream output is intact, even for root.
    let upstream = &sum.step("make").unwrap().outputs["o"];
    assert_eq!(read_output(&sum, "make", "o", "f"), "data\n");
    assert_eq!(
        std::fs::read_to_string(upstream.join("sub/g")).unwrap(),
        "deep\n"
    );
    assert!(!upstream.join("new").exists());
    // A failed step's folder is kept for a look, with its view writable again (`rm -rf` works).
    let view = s
        .ws()
        .join("runs")
        .join(&sum.run_id)
        .join("steps/failing/inputs/x");
    assert!(view.join("sub").is_dir() || is_root());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&view).unwrap().permissions().mode();
    assert_ne!(mode & 0o200, 0, "{mode:o}");
    std::fs::remove_dir_all(s.ws().join("runs").join(&sum.run_id).join("steps")).unwrap();
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

// ---- bad inputs: each gets a clear message ----

#[test]
fn a_missing_input_file_is_named() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let mut o = s.opts();
    o.inputs = vec![("raw".into(), "nope/raw.csv".into())];
    let e = s.run(&p, &o).0.unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, LocalError::MissingInput { .. }));
    assert!(msg.starts_with("input `raw`: "), "{msg}");
    assert!(msg.contains("nope/raw.csv does not exist"), "{msg}");
    assert!(msg.contains("--input raw=PATH"), "{msg}");
    assert!(e.is_bad_input());
}

#[test]
fn a_bad_param_value_is_named() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let mut o = s.opts();
    o.params = vec![("param1".into(), "ten".into())];
    let e = s.run(&p, &o).0.unwrap_err();
    assert_eq!(
        e.to_string(),
        "bad value for parameter `param1` (i64): `ten` is not an integer"
    );
    // Nothing was recorded.
    let ws = Workspace::open(s.ws()).unwrap();
    assert!(ws.store().unwrap().list_runs(10).unwrap().is_empty());
}

#[test]
fn an_unknown_datastore_is_named() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let mut o = s.opts();
    o.inputs = vec![(
        "raw".into(),
        "azureml://datastores/nostore/paths/x.csv".into(),
    )];
    let e = s.run(&p, &o).0.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("datastore `nostore` does not exist"), "{msg}");
    assert!(
        msg.contains("known datastores: workspaceblobstore"),
        "{msg}"
    );
}

#[test]
fn a_data_asset_uri_says_it_cannot_be_read_locally() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let mut o = s.opts();
    o.inputs = vec![("raw".into(), "azureml:iris:1".into())];
    let msg = s.run(&p, &o).0.unwrap_err().to_string();
    assert!(msg.contains("cannot be read by a local run"), "{msg}");
}

#[test]
fn an_output_left_empty_fails_the_step() {
    let s = Scratch::new();
    let step = StepSpec::new(s.path(), "lazy", "echo done")
        .output("result")
        .build();
    let mut p = PipelineSpec::new("empty", s.path());
    p.step(step, vec![]);
    let sum = s.run(&p.done(), &s.opts()).0.unwrap();
    match outcome(&sum, "lazy") {
        StepOutcome::Failed { reason, .. } => assert!(
            reason.contains("exited 0 but wrote nothing to output `result`"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(sum.status, RunStatus::Failed);
}

#[test]
fn a_symlink_loop_in_a_snapshot_is_named() {
    let s = Scratch::new();
    s.write("loop_src/run.py", "print(1)\n");
    std::os::unix::fs::symlink(s.path().join("loop_src"), s.path().join("loop_src/again")).unwrap();
    let step = StepSpec::new(s.path(), "looping", "python run.py")
        .source("loop_src")
        .build();
    let mut p = PipelineSpec::new("loop", s.path());
    p.step(step, vec![]);
    let e = s.run(&p.done(), &s.opts()).0.unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("step `looping`: cannot snapshot"), "{msg}");
    assert!(msg.contains("points back"), "{msg}");
}

#[test]
fn a_missing_source_dir_is_named() {
    let s = Scratch::new();
    let step = StepSpec::new(s.path(), "nosrc", "true")
        .source("not_there")
        .build();
    let mut p = PipelineSpec::new("nosrc", s.path());
    p.step(step, vec![]);
    let msg = s.run(&p.done(), &s.opts()).0.unwrap_err().to_string();
    assert!(msg.contains("the folder does not exist"), "{msg}");
}

#[test]
fn an_unknown_placeholder_is_named_before_anything_runs() {
    let s = Scratch::new();
    let step = StepSpec::new(s.path(), "typo", "echo ${{inputs.dat}}")
        .input(data("data", AssetType::UriFolder, None))
        .build();
    let mut p = PipelineSpec::new("typo", s.path());
    p.step(step, vec![at(s.path())]);
    let msg = s.run(&p.done(), &s.opts()).0.unwrap_err().to_string();
    assert!(
        msg.starts_with("step `typo`: the command uses `${{inputs.dat}}`"),
        "{msg}"
    );
}

#[test]
fn a_missing_python_is_named() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let mut o = s.opts();
    o.python = Some(s.path().join("no/such/python"));
    let msg = s.run(&p, &o).0.unwrap_err().to_string();
    assert!(msg.contains("was not found"), "{msg}");
    assert!(msg.contains("--python PATH"), "{msg}");
}

#[test]
fn streamed_output_is_tagged_with_the_step() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let mut o = s.opts();
    o.stream = true;
    let (r, events) = s.run(&p, &o);
    assert_eq!(r.unwrap().status, RunStatus::Completed);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::StepOutput { step, line } if step == "data_prep" && line == "prepared 4"
    )));
}

fn backdate(path: &std::path::Path, secs_ago: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago))
        .unwrap();
}

#[test]
fn input_hashes_are_cached_until_the_file_changes() {
    let s = Scratch::new();
    let p = seed_like(&s);
    let raw = s.path().join("data/raw.txt");
    backdate(&raw, 3600);
    s.run(&p, &s.opts()).0.unwrap();
    // Unchanged (and now hashed from the cache): reused.
    let again = s.run(&p, &s.opts()).0.unwrap();
    assert!(matches!(
        outcome(&again, "data_prep"),
        StepOutcome::Reused { .. }
    ));
    // Same size, other bytes, another old time: seen.
    s.write("data/raw.txt", "IRIS");
    backdate(&raw, 1800);
    let changed = s.run(&p, &s.opts()).0.unwrap();
    assert_eq!(reasons(&changed, "data_prep"), vec!["input `raw` changed"]);
}

/// Runs `git` in `dir` with a fixed identity and no signing; `None` when git is missing.
fn git(dir: &std::path::Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Pipeline Tests",
            "-c",
            "user.email=tests@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=trunk",
        ])
        .args(args)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn git_facts_are_recorded_as_run_properties() {
    let s = Scratch::new();
    let p = seed_like(&s);
    if git(s.path(), &["init", "-q"]).is_none() {
        eprintln!("skipped: no `git` on PATH");
        return;
    }
    git(
        s.path(),
        &["add", "prep_src", "train_src", "compare_src", "data"],
    );
    git(s.path(), &["commit", "-q", "-m", "first"]);
    let head = git(s.path(), &["rev-parse", "HEAD"]).unwrap();
    assert_eq!(head.len(), 40);

    let run_props = |id: &str| {
        let ws = Workspace::open(s.ws()).unwrap();
        ws.store().unwrap().find_run(id, ws.root()).unwrap()
    };
    // A clean tree (the workspace folder is untracked, which does not count).
    let clean = s.run(&p, &s.opts()).0.unwrap();
    let run = run_props(&clean.run_id);
    let props = &run.properties;
    assert_eq!(props["azureml.git.commit"], head, "{props:?}");
    assert_eq!(props["mlflow.source.git.commit"], head);
    assert_eq!(props["azureml.git.branch"], "trunk");
    assert_eq!(props["mlflow.source.git.branch"], "trunk");
    assert_eq!(props["azureml.git.dirty"], "False");
    assert_eq!(run.git.commit.as_deref(), Some(head.as_str()));
    assert_eq!(run.git.branch.as_deref(), Some("trunk"));
    assert_eq!(run.git.dirty, Some(false));

    // A tracked file modified: dirty.
    s.write("compare_src/compare.py", &format!("{COMPARE}\n# edited\n"));
    let dirty = s.run(&p, &s.opts()).0.unwrap();
    let run = run_props(&dirty.run_id);
    assert_eq!(run.properties["azureml.git.commit"], head);
    assert_eq!(run.properties["azureml.git.dirty"], "True");
    assert_eq!(run.git.dirty, Some(true));
}

#[test]
fn outside_a_repository_there_are_no_git_properties() {
    let s = Scratch::new();
    let p = seed_like(&s);
    // Only meaningful where the temp dir is not itself inside a repository.
    let in_repo = std::process::Command::new("git")
        .arg("-C")
        .arg(s.path())
        .args(["rev-parse", "--git-dir"])
        .output()
        .is_ok_and(|o| o.status.success());
    if in_repo {
        eprintln!("skipped: the temp dir is inside a git repository");
        return;
    }
    let sum = s.run(&p, &s.opts()).0.unwrap();
    let ws = Workspace::open(s.ws()).unwrap();
    let run = ws
        .store()
        .unwrap()
        .find_run(&sum.run_id, ws.root())
        .unwrap();
    assert!(
        run.properties.keys().all(|k| !k.contains(".git.")),
        "{:?}",
        run.properties
    );
    assert_eq!(run.git.commit, None);
}
