//! Reuse never trusts changed bytes: an output of an earlier run edited by hand is not reused.
//! Real runs with `python3`.

mod local_support;

use azureml_pipelines_runtime::graph::{
    AssetType, DataLocation, InputMode, InputValue, Pipeline, PortType,
};
use azureml_pipelines_runtime::local::{RunSummary, StepOutcome};
use local_support::*;

const PREP: &str = r#"
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--raw"); p.add_argument("--out")
a = p.parse_args()
open(os.path.join(a.out, "prepped.txt"), "w").write(open(a.raw).read().upper())
"#;

const TRAIN: &str = r#"
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--data"); p.add_argument("--model")
a = p.parse_args()
text = open(os.path.join(a.data, "prepped.txt")).read()
open(os.path.join(a.model, "model.txt"), "w").write(text + "|trained")
"#;

/// data_prep (file → folder) → train (folder → folder).
fn two_steps(s: &Scratch) -> Pipeline {
    s.write("prep_src/prep.py", PREP);
    s.write("train_src/train.py", TRAIN);
    let raw = s.write("data/raw.txt", "iris");
    let root = s.path();
    let prep = StepSpec::new(
        root,
        "data_prep",
        "python prep.py --raw ${{inputs.raw}} --out ${{outputs.prepped}}",
    )
    .source("prep_src")
    .input(data("raw", AssetType::UriFile, Some(InputMode::Download)))
    .output("prepped")
    .build();
    let train = StepSpec::new(
        root,
        "train",
        "python train.py --data ${{inputs.data}} --model ${{outputs.model}}",
    )
    .source("train_src")
    .input(data("data", AssetType::UriFolder, None))
    .output("model")
    .build();
    let mut p = PipelineSpec::new("two_steps", root);
    let raw_in = p.input(
        "raw",
        PortType::Data(AssetType::UriFile),
        Some(InputValue::Data(DataLocation::Local(raw))),
    );
    let prepped = p.step(prep, vec![raw_in]).remove(0);
    let model = p.step(train, vec![prepped]).remove(0);
    p.output("model", &model);
    p.done()
}

fn outcome<'a>(s: &'a RunSummary, step: &str) -> &'a StepOutcome {
    &s.step(step).unwrap().outcome
}

/// Edits a sealed (read-only) output file by hand, as a user with an editor would.
fn edit_by_hand(file: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(file, text).unwrap();
}

#[test]
fn an_output_edited_by_hand_is_not_reused_and_the_step_says_why() {
    let s = Scratch::new();
    let p = two_steps(&s);
    let first = s.run(&p, &s.opts()).0.unwrap();
    let prepped = first.step("data_prep").unwrap().outputs["prepped"].clone();
    let model = first.step("train").unwrap().outputs["model"].clone();
    assert_eq!(
        std::fs::read_to_string(prepped.join("prepped.txt")).unwrap(),
        "IRIS"
    );

    // Untouched outputs are reused.
    let second = s.run(&p, &s.opts()).0.unwrap();
    assert!(matches!(
        outcome(&second, "data_prep"),
        StepOutcome::Reused { .. }
    ));
    assert!(matches!(
        outcome(&second, "train"),
        StepOutcome::Reused { .. }
    ));

    edit_by_hand(&prepped.join("prepped.txt"), "TAMPERED");
    let third = s.run(&p, &s.opts()).0.unwrap();
    match outcome(&third, "data_prep") {
        StepOutcome::Ran { reasons } => assert!(
            reasons.contains(&format!(
                "output `prepped` of `data_prep` changed since run {}",
                first.run_id
            )),
            "{reasons:?}"
        ),
        other => panic!("data_prep was reused from an edited output: {other:?}"),
    }
    // The consumer gets the bytes data_prep makes, never the edited ones.
    let fresh = third.step("data_prep").unwrap().outputs["prepped"].clone();
    assert_eq!(
        std::fs::read_to_string(fresh.join("prepped.txt")).unwrap(),
        "IRIS"
    );
    let model_now = &third.step("train").unwrap().outputs["model"];
    assert_eq!(
        std::fs::read_to_string(model_now.join("model.txt")).unwrap(),
        "IRIS|trained"
    );

    // An edited output of the consumer itself is caught the same way.
    edit_by_hand(&model.join("model.txt"), "hand-made model");
    let fourth = s.run(&p, &s.opts()).0.unwrap();
    assert!(matches!(
        outcome(&fourth, "data_prep"),
        StepOutcome::Reused { .. }
    ));
    match outcome(&fourth, "train") {
        StepOutcome::Ran { reasons } => assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("output `model` of `train` changed since run")),
            "{reasons:?}"
        ),
        other => panic!("train was reused from an edited output: {other:?}"),
    }
    let model_now = &fourth.step("train").unwrap().outputs["model"];
    assert_eq!(
        std::fs::read_to_string(model_now.join("model.txt")).unwrap(),
        "IRIS|trained"
    );
}
