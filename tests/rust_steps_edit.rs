//! Reuse of Rust steps across rebuilds, a panic and an output never written, end to end: a
//! small pipeline crate is written to a temporary folder, built with cargo into this
//! workspace's target dir (so only that crate compiles), run, edited and rebuilt.
//!
//! Pipeline: `make` → `double`, and `other` beside them; `check` fails on demand.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The target dir of this test run: `CARGO_TARGET_DIR` if set, else the folder holding the
/// `debug`/`release` folder of this test binary (`<target>/<profile>/deps/<test>`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)
        };
    }
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .expect("<target>/<profile>/deps/<test>")
        .to_path_buf()
}

const MAIN: &str = r#"
use azureml_pipelines::prelude::*;

/// Writes `n` into `out/n.txt`.
#[step]
fn make(n: i64, out: Output<UriFolder>) -> Result<(), std::io::Error> {
    // MAKE
    std::fs::write(out.join("n.txt"), format!("{n}"))
}

/// Reads `n.txt`, writes twice its value.
#[step]
fn double(input: Input<UriFolder>, out: Output<UriFolder>) -> Result<(), String> {
    let text = std::fs::read_to_string(input.join("n.txt")).map_err(|e| e.to_string())?;
    let n: i64 = text.trim().parse().map_err(|e| format!("`{text}`: {e}"))?;
    std::fs::write(out.join("n.txt"), format!("{}", 2 * n)).map_err(|e| e.to_string())
}

/// Independent of the others.
#[step]
fn other(out: Output<UriFolder>) -> Result<(), String> {
    std::fs::write(out.join("x.txt"), "x").map_err(|e| e.to_string())
}

/// `how` = 0: writes its output; 1: panics; 2: returns without writing.
#[step]
fn check(how: i64, out: Output<UriFolder>) -> Result<(), String> {
    if how == 1 {
        let v: Vec<i64> = Vec::new();
        panic!("index {} out of range for {} values", how, v.len());
    }
    if how == 0 {
        std::fs::write(out.join("ok"), "ok").map_err(|e| e.to_string())?;
    }
    azureml_pipelines::metrics::log_at("how", 0, how as f64);
    Ok(())
}

#[pipeline(outputs(doubled, x, checked))]
fn edits(#[default(21)] n: Param<i64>, #[default(0)] how: Param<i64>) -> (Data<UriFolder>, Data<UriFolder>, Data<UriFolder>) {
    let made = make(n);
    (double(made), other(), check(how))
}

fn main() -> std::process::ExitCode {
    azureml_pipelines::cli::main(edits)
}
"#;

struct Crate {
    dir: tempfile::TempDir,
    target: PathBuf,
}

impl Crate {
    fn new() -> Crate {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let manifest = format!(
            "[package]\nname = \"rust-steps-edits\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nazureml-pipelines = {{ path = {:?}, default-features = false }}\n\n[workspace]\n\n\
             [profile.dev.package.\"*\"]\ndebug = false\n",
            repo.display().to_string()
        );
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        // The workspace's lock file and toolchain: the same dependency builds, already compiled.
        // Without the `azure` feature the binary is a third of the size and links in seconds.
        std::fs::copy(repo.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
        std::fs::copy(
            repo.join("rust-toolchain.toml"),
            dir.path().join("rust-toolchain.toml"),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        Crate {
            dir,
            target: target_dir(),
        }
    }

    /// Writes `src/main.rs` and builds it.
    fn build(&self, main: &str) {
        std::fs::write(self.dir.path().join("src/main.rs"), main).unwrap();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--offline", "--quiet"])
            .current_dir(self.dir.path())
            .env("CARGO_TARGET_DIR", &self.target)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "building the test pipeline failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn run(&self, ws: &Path, args: &[&str], code: i32) -> (String, String) {
        let out: Output = Command::new(self.target.join("debug/rust-steps-edits"))
            .args(args)
            .arg("--workspace")
            .arg(ws)
            .current_dir(self.dir.path())
            .env_remove("AZUREML_LOCAL_WORKSPACE")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "`{}` exited with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            args.join(" "),
            out.status
        );
        (stdout, stderr)
    }
}

/// The progress line of step `name` after its final mark.
fn line<'a>(err: &'a str, name: &str) -> &'a str {
    err.lines()
        .find(|l| {
            let l = l.trim_start();
            (l.starts_with('✓') || l.starts_with('✗') || l.starts_with('-'))
                && l[l.char_indices().nth(1).map_or(0, |(i, _)| i)..]
                    .trim_start()
                    .starts_with(&format!("{name} "))
        })
        .unwrap_or_else(|| panic!("no final line for `{name}` in:\n{err}"))
}

#[test]
fn body_edits_rerun_exactly_the_edited_step_and_what_its_changed_output_feeds() {
    let krate = Crate::new();
    let ws = tempfile::tempdir().unwrap();
    let ws = ws.path();

    krate.build(MAIN);
    let (_, err) = krate.run(ws, &["run"], 0);
    for step in ["make", "double", "other", "check"] {
        assert!(line(&err, step).contains("ran"), "{err}");
    }

    // A rebuild with no source change, and a comment edited: everything is reused.
    krate.build(&MAIN.replace("// MAKE", "// MAKE (a comment is not a token)"));
    let (_, err) = krate.run(ws, &["run"], 0);
    for step in ["make", "double", "other", "check"] {
        assert!(line(&err, step).contains("reused"), "{step}:\n{err}");
    }

    // The body of `make` edited, same output: `make` re-runs and says why; `double` reads the
    // same bytes and is reused; `other` is untouched.
    let same_output = MAIN.replace(
        "std::fs::write(out.join(\"n.txt\"), format!(\"{n}\"))",
        "let text = n.to_string();\n    std::fs::write(out.join(\"n.txt\"), text)",
    );
    assert_ne!(same_output, MAIN);
    krate.build(&same_output);
    let (_, err) = krate.run(ws, &["run"], 0);
    assert!(
        line(&err, "make").contains("ran") && line(&err, "make").contains("body of make changed"),
        "{err}"
    );
    for step in ["double", "other", "check"] {
        assert!(line(&err, step).contains("reused"), "{step}:\n{err}");
    }

    // The body of `make` edited so that its output changes: `double` re-runs too, because its
    // input changed; `other` and `check` are still reused.
    let new_output = MAIN.replace("format!(\"{n}\")", "format!(\"{}\", n + 1)");
    krate.build(&new_output);
    let (_, err) = krate.run(ws, &["run"], 0);
    assert!(line(&err, "make").contains("body of make changed"), "{err}");
    assert!(
        line(&err, "double").contains("ran")
            && line(&err, "double").contains("input `input` changed"),
        "{err}"
    );
    for step in ["other", "check"] {
        assert!(line(&err, step).contains("reused"), "{step}:\n{err}");
    }
    let (out, _) = krate.run(ws, &["runs", "show", "latest"], 0);
    let double_out = out
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("output out: ")
                .filter(|p| p.contains("/double/"))
        })
        .unwrap_or_else(|| panic!("no output of double in:\n{out}"));
    assert_eq!(
        std::fs::read_to_string(Path::new(double_out).join("n.txt")).unwrap(),
        "44"
    );

    // A panic inside a body: the step fails with the panic's message, the run fails.
    let (_, err) = krate.run(ws, &["run", "--param", "how=1"], 1);
    assert!(line(&err, "check").contains("exited with code 1"), "{err}");
    assert!(
        err.contains("error: step `check` panicked: index 1 out of range for 0 values"),
        "{err}"
    );

    // A body that returns without writing its output.
    let (_, err) = krate.run(ws, &["run", "--param", "how=2"], 1);
    assert!(
        err.contains("error: step `check` failed: output `out` was not written"),
        "{err}"
    );
    // The metric logged before the step failed is stored all the same.
    let (out, _) = krate.run(ws, &["runs", "show", "latest"], 0);
    assert!(
        out.contains("check  how = series of 1: last 2 at 0"),
        "{out}"
    );
}
