//! Stopping runs: Ctrl-C (cancel) and SIGKILL of the process running the pipeline. A child
//! copy of this test binary runs the pipeline; the parent stops it and then runs again.

mod local_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use azureml_pipelines_runtime::graph::{AssetType, Pipeline};
use azureml_pipelines_runtime::local::{
    self, CancelToken, RunStatus, StepOutcome, StepStatus, Workspace,
};
use local_support::*;

const CHILD_DIR: &str = "LOCAL_KILL_TEST_DIR";
const CHILD_MODE: &str = "LOCAL_KILL_TEST_MODE";

/// `fast` → `slow` (waits for a `go` file, 30 s at most, after writing part of its output and
/// starting a long-lived grandchild), and `other`, independent and quick.
fn pipeline(dir: &Path) -> Pipeline {
    let fast = StepSpec::new(dir, "fast", "echo fast > ${{outputs.o}}/f")
        .output("o")
        .build();
    let slow = StepSpec::new(
        dir,
        "slow",
        format!(
            "echo partial > ${{{{outputs.o}}}}/part; \
             sleep 60 & echo $! > {d}/grandchild.pid; echo $$ > {d}/slow.pid; \
             i=0; while [ ! -e {d}/go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; \
             kill $!; cat ${{{{inputs.x}}}}/f > ${{{{outputs.o}}}}/g",
            d = dir.display()
        ),
    )
    .input(data("x", AssetType::UriFolder, None))
    .output("o")
    .build();
    let other = StepSpec::new(dir, "other", "echo other > ${{outputs.o}}/f")
        .output("o")
        .build();
    let mut p = PipelineSpec::new("killable", dir);
    let f = p.step(fast, vec![]).remove(0);
    p.step(slow, vec![f]);
    p.step(other, vec![]);
    p.done()
}

/// The child: runs the pipeline in the folder the parent named (only when asked).
#[test]
fn child_entry() {
    let (Ok(dir), Ok(mode)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_MODE)) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let p = pipeline(&dir);
    let ws = dir.join("ws");
    if mode == "cli" {
        let code = azureml_pipelines_runtime::cli::main_with(
            &p,
            ["killable", "run", "--workspace", ws.to_str().unwrap()],
        );
        std::fs::write(dir.join("cli.exit"), format!("{code:?}")).unwrap();
        return;
    }
    let mut o = local::RunOptions::new(ws);
    o.cwd = dir.clone();
    let _ = local::run(&p, &o, |_| {});
}

fn spawn_child(dir: &Path, mode: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env(CHILD_MODE, mode)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the child test")
}

fn wait_for(path: &Path, what: &str) {
    let t = Instant::now();
    while !path.exists()
        || std::fs::read_to_string(path)
            .unwrap_or_default()
            .trim()
            .is_empty()
    {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a process is still running (a zombie counts as gone).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_gone(pid: i32) {
    let t = Instant::now();
    while running(pid) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "step process {pid} still runs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn slow_pid(dir: &Path) -> i32 {
    std::fs::read_to_string(dir.join("slow.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The `sleep` the slow step started in the background.
fn grandchild_pid(dir: &Path) -> i32 {
    std::fs::read_to_string(dir.join("grandchild.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn sigkill_mid_run_leaves_nothing_taken_for_finished_and_the_rerun_reuses_what_finished() {
    let s = Scratch::new();
    let dir = s.path().to_path_buf();
    let mut child = spawn_child(&dir, "lib");
    wait_for(&dir.join("slow.pid"), "the slow step to start");
    let pid = slow_pid(&dir);
    let grandchild = grandchild_pid(&dir);
    assert!(running(grandchild));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The step process dies with the runner, and so does what it started.
    wait_gone(pid);
    wait_gone(grandchild);

    // Before any new run, the history already shows the killed run as failed, not running.
    let ws_dir = s.ws();
    let ws_arg = ws_dir.to_str().unwrap();
    let code = azureml_pipelines_runtime::cli::main_with(
        &pipeline(&dir),
        ["killable", "runs", "list", "--workspace", ws_arg],
    );
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    {
        let ws = Workspace::open(&ws_dir).unwrap();
        let run = ws.store().unwrap().find_run("last", ws.root()).unwrap();
        assert_eq!(run.status, RunStatus::Failed);
        assert!(run.ended_ms.is_some());
        let statuses = local::step_statuses(&ws_dir, "last").unwrap();
        assert_eq!(statuses["slow"], StepStatus::Failed);
        assert_eq!(statuses["fast"], StepStatus::Completed);
        // Its half-written output is gone already.
        let out = ws_dir
            .join("datastores/workspaceblobstore/azureml")
            .join(&run.id)
            .join("slow");
        assert!(!out.join(".tmp-o").exists());
    }

    // The killed run left a half-written output; it is never taken for a finished one.
    std::fs::write(dir.join("go"), "1").unwrap();
    let p = pipeline(&dir);
    let sum = s.run(&p, &s.opts()).0.unwrap();
    assert_eq!(sum.status, RunStatus::Completed, "{sum:#?}");
    let ws = Workspace::open(s.ws()).unwrap();
    let store = ws.store().unwrap();
    let runs = store.list_runs(10).unwrap();
    assert_eq!(runs.len(), 2);
    let killed = &runs[1];
    assert_eq!(killed.status, RunStatus::Failed);
    assert!(
        killed
            .error
            .as_deref()
            .unwrap()
            .contains("ended before it finished")
    );
    let steps = store.steps(&killed.id).unwrap();
    let status = |n: &str| steps.iter().find(|x| x.node == n).unwrap().status;
    assert_eq!(status("fast"), StepStatus::Completed);
    assert_eq!(status("slow"), StepStatus::Failed);
    // Its temporary output folder was removed.
    let killed_out = s
        .ws()
        .join("datastores/workspaceblobstore/azureml")
        .join(&killed.id)
        .join("slow");
    assert!(!killed_out.join(".tmp-o").exists());
    assert!(!killed_out.join("o").exists());

    // What had finished is reused; the rest runs.
    assert_eq!(
        sum.step("fast").unwrap().outcome,
        StepOutcome::Reused {
            run_id: killed.id.clone(),
            step: "fast".into()
        }
    );
    assert!(matches!(
        sum.step("slow").unwrap().outcome,
        StepOutcome::Ran { .. }
    ));
    let g = sum.step("slow").unwrap().outputs["o"].join("g");
    assert_eq!(std::fs::read_to_string(g).unwrap(), "fast\n");
}

#[test]
fn ctrl_c_cancels_every_step_and_records_the_run_as_canceled() {
    let s = Scratch::new();
    let dir = s.path().to_path_buf();
    let mut child = spawn_child(&dir, "cli");
    wait_for(&dir.join("slow.pid"), "the slow step to start");
    let pid = slow_pid(&dir);
    let t = Instant::now();
    // SAFETY: sends SIGINT to our own child.
    unsafe {
        libc_kill(child.id() as i32, 2);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "the child test itself ends normally");
    wait_gone(grandchild_pid(&dir));
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "cancel took {:?}",
        t.elapsed()
    );
    wait_gone(pid);
    assert_eq!(
        std::fs::read_to_string(dir.join("cli.exit")).unwrap(),
        "ExitCode(unix_exit_status(1))"
    );
    let ws = Workspace::open(s.ws()).unwrap();
    let store = ws.store().unwrap();
    let run = store.find_run("last", ws.root()).unwrap();
    assert_eq!(run.status, RunStatus::Canceled);
    let steps = local::step_statuses(s.ws(), &run.id).unwrap();
    assert_eq!(
        steps["slow"],
        StepStatus::Canceled,
        "{:#?}",
        store.steps(&run.id).unwrap()
    );
    assert_eq!(steps["fast"], StepStatus::Completed);
    // Nothing half-written is left, and the next run reuses what finished.
    let out = s
        .ws()
        .join("datastores/workspaceblobstore/azureml")
        .join(&run.id)
        .join("slow");
    assert!(!out.join(".tmp-o").exists());
    std::fs::write(dir.join("go"), "1").unwrap();
    let sum = s.run(&pipeline(&dir), &s.opts()).0.unwrap();
    assert!(matches!(
        sum.step("fast").unwrap().outcome,
        StepOutcome::Reused { .. }
    ));
    assert!(matches!(
        sum.step("slow").unwrap().outcome,
        StepOutcome::Ran { .. }
    ));
}

#[test]
fn cancel_token_stops_a_run_in_process() {
    let s = Scratch::new();
    let dir = s.path().to_path_buf();
    let p = pipeline(&dir);
    let cancel = CancelToken::new();
    let mut o = s.opts();
    o.cancel = cancel.clone();
    let marker = dir.join("slow.pid");
    let canceler = std::thread::spawn(move || {
        wait_for(&marker, "the slow step to start");
        cancel.cancel();
    });
    let t = Instant::now();
    let sum = s.run(&p, &o).0.unwrap();
    canceler.join().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}: {sum:#?}",
        t.elapsed()
    );
    assert_eq!(sum.status, RunStatus::Canceled);
    assert_eq!(sum.step("slow").unwrap().outcome, StepOutcome::Canceled);
    wait_gone(slow_pid(&dir));
    wait_gone(grandchild_pid(&dir));
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
