//! One step's process: its working copy and inputs prepared, the command run in its own
//! process group with its output logged (and streamed), its outputs sealed or discarded.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use crate::graph::StepDef;

use super::SnapshotImpl as Snapshot;
use super::deliver::copy_tree;
use super::error::LocalError;
use super::hash::data_hash;
use super::logs::log_tail;
use super::mount;
use super::options::CancelToken;
use super::store::OutputRecord;
use super::watchdog::Watchdog;
use super::workspace::remove_tree;

pub(super) struct Job {
    pub(super) index: usize,
    pub(super) name: String,
    pub(super) def: &'static StepDef,
    pub(super) snapshot: Option<Arc<Snapshot>>,
    pub(super) work: PathBuf,
    pub(super) step_dir: PathBuf,
    pub(super) copies: Vec<(PathBuf, PathBuf)>,
    pub(super) views: Vec<(PathBuf, PathBuf)>,
    pub(super) outputs: Vec<(String, PathBuf, PathBuf)>,
    pub(super) command: String,
    pub(super) log: PathBuf,
    pub(super) path_env: std::ffi::OsString,
    pub(super) run_id: String,
    pub(super) stream: bool,
    pub(super) tail: usize,
    pub(super) pids: Arc<Mutex<HashMap<usize, u32>>>,
    pub(super) watchdog: Option<Arc<Watchdog>>,
    pub(super) cancel: CancelToken,
}

pub(super) enum Msg {
    Output { index: usize, line: String },
    Done { index: usize, result: JobResult },
}

pub(super) enum JobResult {
    Sealed(BTreeMap<String, OutputRecord>),
    Failed {
        reason: String,
        exit_code: Option<i32>,
        log_tail: Vec<String>,
        canceled: bool,
    },
}

pub(super) fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: sends a signal to the process group the step process leads (it was started
        // with its own group); no memory is touched.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// Runs one step process to its end (on a worker thread), then gives read-only views their
/// write permission back and, if the step succeeded, removes its folder.
pub(super) fn execute(job: &Job, tx: &Sender<Msg>) -> JobResult {
    let result = run_process(job, tx);
    if !job.views.is_empty() {
        mount::release(&job.step_dir.join("inputs"));
    }
    if matches!(result, JobResult::Sealed(_)) {
        let _ = remove_tree(&job.step_dir);
    }
    result
}

pub(super) fn run_process(job: &Job, tx: &Sender<Msg>) -> JobResult {
    let fail = |reason: String| JobResult::Failed {
        reason,
        exit_code: None,
        log_tail: Vec::new(),
        canceled: false,
    };
    if let Err(e) = prepare(job) {
        // Nothing half-delivered stays on disk.
        let inputs = job.step_dir.join("inputs");
        mount::release(&inputs);
        let _ = remove_tree(&inputs);
        return fail(e.to_string());
    }
    let log = match File::create(&job.log) {
        Ok(f) => f,
        Err(e) => return fail(LocalError::io("create", &job.log, e).to_string()),
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(&job.command)
        .current_dir(&job.work)
        .stdin(Stdio::null())
        .env("PATH", &job.path_env)
        .env("AZUREML_RUN_ID", format!("{}_{}", job.run_id, job.name))
        .env("AZUREML_PIPELINE_RUN_ID", &job.run_id)
        .env("AZUREML_STEP_NAME", &job.name)
        .env("PYTHONUNBUFFERED", "1");
    for (k, v) in job.def.environment_variables {
        cmd.env(k, v);
    }
    let log = Arc::new(Mutex::new(log));
    if job.stream {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        let (Ok(out), Ok(err)) = (
            log.lock().map(|f| f.try_clone()),
            log.lock().map(|f| f.try_clone()),
        ) else {
            return fail("cannot share the log file".into());
        };
        match (out, err) {
            (Ok(o), Ok(e)) => {
                cmd.stdout(o).stderr(e);
            }
            (Err(e), _) | (_, Err(e)) => {
                return fail(LocalError::io("open", &job.log, e).to_string());
            }
        }
    }
    isolate(&mut cmd, job.watchdog.as_deref().and_then(Watchdog::fd));
    if job.cancel.is_canceled() {
        return JobResult::Failed {
            reason: "canceled before it started".into(),
            exit_code: None,
            log_tail: Vec::new(),
            canceled: true,
        };
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot start `/bin/sh -c {}`: {e}", job.command)),
    };
    if let Ok(mut p) = job.pids.lock() {
        p.insert(job.index, child.id());
    }
    // A cancel that came between the check above and the registration would miss this step.
    if job.cancel.is_canceled() {
        signal_group(child.id(), libc::SIGTERM);
    }
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|pipe| {
        let tx = tx.clone();
        let log = log.clone();
        let index = job.index;
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buf = Vec::new();
            while reader.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
                if let Ok(mut f) = log.lock() {
                    let _ = f.write_all(&buf);
                }
                let line = String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_owned();
                let _ = tx.send(Msg::Output { index, line });
                buf.clear();
            }
        })
    })
    .collect();
    let status = child.wait();
    if let Ok(mut p) = job.pids.lock() {
        p.remove(&job.index);
    }
    if let Some(w) = &job.watchdog {
        w.forget(child.id());
    }
    for r in readers {
        let _ = r.join();
    }
    let status = match status {
        Ok(s) => s,
        Err(e) => return fail(format!("waiting for the process failed: {e}")),
    };
    if !status.success() {
        discard_outputs(job);
        let tail = log_tail(&job.log, job.tail);
        let canceled = job.cancel.is_canceled();
        let reason = match status.code() {
            Some(code) => format!("exited with code {code}"),
            None => {
                use std::os::unix::process::ExitStatusExt;
                format!("killed by signal {}", status.signal().unwrap_or(0))
            }
        };
        return JobResult::Failed {
            reason,
            exit_code: status.code(),
            log_tail: tail,
            canceled,
        };
    }
    match seal(job) {
        Ok(outputs) => JobResult::Sealed(outputs),
        Err(reason) => {
            discard_outputs(job);
            JobResult::Failed {
                reason,
                exit_code: Some(0),
                log_tail: log_tail(&job.log, job.tail),
                canceled: false,
            }
        }
    }
}

/// The working copy, private input copies, fresh output folders and the log folder.
pub(super) fn prepare(job: &Job) -> Result<(), LocalError> {
    std::fs::create_dir_all(&job.work).map_err(|e| LocalError::io("create", &job.work, e))?;
    if let Some(s) = &job.snapshot {
        s.copy_to(&job.work).map_err(|e| LocalError::Snapshot {
            step: job.name.clone(),
            dir: job.work.clone(),
            reason: e.to_string(),
        })?;
    }
    for (from, to) in &job.copies {
        copy_tree(from, to)?;
    }
    for (from, to) in &job.views {
        mount::read_only_view(from, to)?;
    }
    for (_, tmp, _) in &job.outputs {
        let _ = remove_tree(tmp);
        std::fs::create_dir_all(tmp).map_err(|e| LocalError::io("create", tmp, e))?;
    }
    if let Some(parent) = job.log.parent() {
        std::fs::create_dir_all(parent).map_err(|e| LocalError::io("create", parent, e))?;
    }
    Ok(())
}

/// Checks, hashes, write-protects and renames each output into place.
pub(super) fn seal(job: &Job) -> Result<BTreeMap<String, OutputRecord>, String> {
    let mut sealed = BTreeMap::new();
    for (name, tmp, _) in &job.outputs {
        let empty = std::fs::read_dir(tmp)
            .map(|mut d| d.next().is_none())
            .unwrap_or(true);
        if empty {
            return Err(format!(
                "the step exited 0 but wrote nothing to output `{name}`; write at least one file \
                 into the folder `${{{{outputs.{name}}}}}` names"
            ));
        }
    }
    for (name, tmp, fin) in &job.outputs {
        let hash = data_hash(tmp).map_err(|e| format!("output `{name}`: {e}"))?;
        write_protect(tmp);
        let _ = remove_tree(fin);
        std::fs::rename(tmp, fin).map_err(|e| {
            format!(
                "output `{name}`: cannot move {} into place: {e}",
                tmp.display()
            )
        })?;
        sealed.insert(
            name.clone(),
            OutputRecord {
                path: fin.clone(),
                hash,
            },
        );
    }
    Ok(sealed)
}

pub(super) fn discard_outputs(job: &Job) {
    for (_, tmp, _) in &job.outputs {
        let _ = remove_tree(tmp);
    }
}

/// Makes the files of a sealed output read-only, so steps reading it through a view cannot
/// change them.
pub(super) fn write_protect(dir: &Path) {
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if entry.file_type().is_file()
            && let Ok(meta) = entry.metadata()
        {
            let mut perms = meta.permissions();
            perms.set_readonly(true);
            let _ = std::fs::set_permissions(entry.path(), perms);
        }
    }
}

/// Puts the step in its own process group (so a cancel reaches its whole tree), on the run
/// watchdog's list (so the whole group dies if this process dies without cleaning up) and, on
/// Linux, has the step's shell killed at once if this process dies.
pub(super) fn isolate(cmd: &mut Command, watchdog: Option<std::os::fd::RawFd>) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    // SAFETY: `prctl` and `enlist_self` are async-signal-safe; the closure allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if let Some(fd) = watchdog {
                Watchdog::enlist_self(fd);
            }
            Ok(())
        });
    }
}
