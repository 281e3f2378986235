//! A step's `timeout` in a local run: the step is stopped the way a cancel stops it (SIGTERM to
//! its process group, SIGKILL after `kill_grace`), marked failed, and says why; what depends on
//! it is skipped. Budgets are one second of timeout and a short kill grace.

mod local_support;

use std::time::Duration;

use azureml_pipelines_runtime::local::{RunStatus, StepOutcome};
use local_support::*;

fn timed_out(command: &str) -> (RunStatus, StepOutcome, StepOutcome) {
    let s = Scratch::new();
    let slow = StepSpec::new(s.path(), "slow", command)
        .output("out")
        .no_reuse()
        .timeout(1)
        .build();
    let after = StepSpec::new(
        s.path(),
        "after",
        "mkdir -p ${{outputs.out}}; echo > ${{outputs.out}}/x",
    )
    .input(data(
        "data",
        azureml_pipelines_runtime::graph::AssetType::UriFolder,
        None,
    ))
    .output("out")
    .build();
    let mut p = PipelineSpec::new("timeouts", s.path());
    let out = p.step(slow, vec![]);
    p.step(after, vec![out[0].clone()]);
    let mut o = s.opts();
    o.kill_grace = Duration::from_millis(300);
    let sum = s.run(&p.done(), &o).0.unwrap();
    let get = |name: &str| sum.step(name).unwrap().outcome.clone();
    (sum.status, get("slow"), get("after"))
}

#[test]
fn a_step_past_its_timeout_is_stopped_and_fails_saying_so() {
    let (status, slow, after) = timed_out("sleep 30");
    assert_eq!(status, RunStatus::Failed);
    match slow {
        StepOutcome::Failed { reason, .. } => assert_eq!(reason, "timed out after 1 s"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(after, StepOutcome::Skipped { .. }), "{after:?}");
}

#[test]
fn a_step_that_ignores_sigterm_is_killed_after_the_grace() {
    let (status, slow, _) = timed_out("trap '' TERM; sleep 30 & wait; sleep 30");
    assert_eq!(status, RunStatus::Failed);
    match slow {
        StepOutcome::Failed { reason, .. } => assert_eq!(reason, "timed out after 1 s"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_step_within_its_timeout_is_not_touched() {
    let s = Scratch::new();
    let quick = StepSpec::new(
        s.path(),
        "quick",
        "mkdir -p ${{outputs.out}}; echo > ${{outputs.out}}/x",
    )
    .output("out")
    .timeout(30)
    .build();
    let mut p = PipelineSpec::new("quick", s.path());
    p.step(quick, vec![]);
    let sum = s.run(&p.done(), &s.opts()).0.unwrap();
    assert_eq!(sum.status, RunStatus::Completed);
}
