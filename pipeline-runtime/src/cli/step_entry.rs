//! The hidden entry point that runs one Rust step: `BIN __step NAME --input k=PATH
//! --param k=VALUE --output k=PATH`.
//!
//! The local backend starts it as a child process of the pipeline binary itself, and on
//! Azure ML a `command` component runs it from a Linux build of the same binary. The pipeline
//! graph is built first (calling the pipeline fn registers every step), the step is found by
//! its component name, its body runs under `catch_unwind` (a panic is a failure with the
//! panic's message), and each output must hold something afterwards. Exit code 0 on success,
//! 1 when the body failed, panicked or left an output empty, 2 for bad arguments; the reason is
//! the last line on stderr (`error: step `prep` failed: …`).
//!
//! It is not listed in `--help`: users never type it.

use std::ffi::OsString;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::ExitCode;

use crate::graph::{Pipeline, RustStep, StepKind};
use crate::rust_step::RustStepArgs;

/// Whether `args` (with the program name first) call the entry point.
pub(crate) fn is_entry(args: &[OsString]) -> bool {
    args.get(1)
        .is_some_and(|a| a == crate::rust_step::ENTRY_COMMAND)
}

/// Runs the step `args[2]` with the ports in `args[3..]`.
pub(crate) fn run(pipeline: &Pipeline, args: &[OsString]) -> ExitCode {
    let args: Vec<String> = args
        .iter()
        .skip(2)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some((name, rest)) = args.split_first() else {
        return fail(
            2,
            "`__step` needs a step name: `__step NAME --input k=PATH …`",
        );
    };
    let steps: Vec<(&'static str, &'static RustStep)> = crate::local::steps_of(pipeline)
        .into_iter()
        .filter_map(|(_, def)| match &def.kind {
            StepKind::Rust(r) => Some((def.name, r)),
            _ => None,
        })
        .collect();
    let Some((_, step)) = steps.iter().find(|(n, _)| n == name) else {
        let known = if steps.is_empty() {
            "it has none".to_owned()
        } else {
            let mut names: Vec<String> = steps.iter().map(|(n, _)| format!("`{n}`")).collect();
            names.dedup();
            format!("it has {}", names.join(", "))
        };
        return fail(
            2,
            &format!(
                "pipeline `{}` has no Rust step `{name}`; {known}",
                pipeline.name
            ),
        );
    };
    let parsed = match RustStepArgs::parse(name, rest) {
        Ok(a) => a,
        Err(e) => return fail(2, &format!("step `{name}`: {e}")),
    };
    for (out, path) in &parsed.outputs {
        if let Err(e) = std::fs::create_dir_all(path) {
            return fail(
                1,
                &format!(
                    "step `{name}`: cannot create output `{out}` at {}: {e}",
                    path.display()
                ),
            );
        }
    }
    match run_body(step, &parsed) {
        Ok(()) => {}
        Err(message) => return fail(1, &format!("step `{name}` {message}")),
    }
    if let Some(out) = parsed
        .outputs
        .iter()
        .find(|(_, p)| is_empty(p))
        .map(|(o, _)| o)
    {
        return fail(
            1,
            &format!(
                "step `{name}` failed: output `{out}` was not written; write at least one file into the folder it names"
            ),
        );
    }
    ExitCode::SUCCESS
}

/// Calls the body; `Err` says how it failed (`failed: …`, `panicked: …`).
fn run_body(step: &RustStep, args: &RustStepArgs) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| (step.run)(args))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("failed: {e}")),
        Err(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(a panic without a message)".to_owned());
            Err(format!("panicked: {text}"))
        }
    }
}

/// A folder with nothing in it, or a path with nothing at it.
fn is_empty(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut d) => d.next().is_none(),
        Err(_) => !path.is_file(),
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {message}");
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hidden_word_calls_the_entry_point() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(is_entry(&a(&["bin", "__step", "prep"])));
        assert!(!is_entry(&a(&["bin", "run"])));
        assert!(!is_entry(&a(&["bin"])));
    }

    #[test]
    fn a_panic_becomes_a_failure_with_its_message() {
        fn boom(_: &RustStepArgs) -> Result<(), String> {
            panic!("no rows in {}", "iris.csv")
        }
        fn bad(_: &RustStepArgs) -> Result<(), String> {
            Err("disk full".into())
        }
        let step = |run| RustStep {
            run,
            body_hash: "",
            version: None,
            crate_name: "c",
            crate_version: "0",
        };
        let args = RustStepArgs::default();
        assert_eq!(
            run_body(&step(boom), &args).unwrap_err(),
            "panicked: no rows in iris.csv"
        );
        assert_eq!(
            run_body(&step(bad), &args).unwrap_err(),
            "failed: disk full"
        );
    }
}
