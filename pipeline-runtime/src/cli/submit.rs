//! `submit`: run the pipeline on Azure ML, and optionally follow it to its end.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::azure::Workspace;
use crate::azure::jobs::JobStatus;
use crate::azure::submit::{
    self, FollowEvent, FollowOptions, SubmitError, SubmitEvent, SubmitEvents, SubmitOptions,
};
use crate::graph::Pipeline;

use super::export::assignments;

/// `submit`: upload snapshots, register components, create the pipeline job.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SubmitArgs {
    /// Set a pipeline parameter: `--param name=value`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Bind a data input to a local path (uploaded) or an `azureml://` URI.
    #[arg(long = "input", value_name = "NAME=PATH")]
    pub inputs: Vec<String>,
    /// Rerun every step instead of reusing earlier results (`settings.force_rerun`).
    #[arg(long)]
    pub regenerate_outputs: bool,
    /// Follow the job until it ends; exit non-zero unless it completed. Ctrl-C cancels the job.
    #[arg(long)]
    pub wait: bool,
    /// The workspace config file (default: `config.json` or `.azureml/config.json` in the
    /// current folder or a parent).
    #[arg(long, value_name = "FILE", env = "AZUREML_CONFIG")]
    pub config: Option<PathBuf>,
    /// The experiment to file the job under (default: the pipeline's `experiment`).
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,
    /// The job name (default: `<pipeline>_<UTC time>_<random>`).
    #[arg(long, value_name = "NAME")]
    pub job_name: Option<String>,
    /// Seconds between two status polls with `--wait`.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub poll_interval: f64,
}

/// Errors of `submit` before or around the submission itself.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Bind(#[from] crate::graph::BindError),
    #[error(transparent)]
    Azure(#[from] super::azure::AzureCliError),
    #[error(transparent)]
    Arm(#[from] crate::azure::ArmError),
    #[error(transparent)]
    Submit(#[from] SubmitError),
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Bind(_) | CliError::Usage(_) => ExitCode::from(2),
            CliError::Azure(e) => e.exit_code(),
            CliError::Submit(
                SubmitError::Snapshot { .. } | SubmitError::Data { .. } | SubmitError::Spec(_),
            ) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }
}

fn fail(e: &CliError) -> ExitCode {
    super::fail(e, e.exit_code())
}

/// Runs `submit`.
pub fn submit(pipeline: &Pipeline, args: &SubmitArgs) -> ExitCode {
    super::azure::run_async(submit_async(pipeline, args), fail)
}

async fn submit_async(pipeline: &Pipeline, args: &SubmitArgs) -> Result<ExitCode, CliError> {
    if !(args.poll_interval.is_finite() && args.poll_interval > 0.0) {
        return Err(CliError::Usage(format!(
            "--poll-interval must be a positive number of seconds, not {}",
            args.poll_interval
        )));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let params = assignments(&args.params)?;
    let inputs = assignments(&args.inputs)?;
    let values = pipeline.bind(&params, &inputs, &cwd)?;
    pipeline.check_local_inputs(&values)?;
    let ws = super::azure::workspace(args.config.as_deref())?;
    let git = crate::local::git_info(&cwd);
    eprintln!(
        "Submitting `{}` to Azure ML workspace `{}` (resource group `{}`{}).",
        pipeline.name,
        ws.config().workspace_name,
        ws.config().resource_group,
        ws.config()
            .source
            .as_ref()
            .map(|p| format!(", from {}", p.display()))
            .unwrap_or_default()
    );

    let view = Arc::new(SubmitView::new());
    let events: SubmitEvents = {
        let view = Arc::clone(&view);
        Arc::new(move |e| view.event(e))
    };
    let opts = SubmitOptions {
        job_name: args.job_name.clone(),
        force_rerun: args.regenerate_outputs,
        properties: git.properties(),
        experiment: args.experiment.clone(),
        ..SubmitOptions::default()
    };
    let started = Instant::now();
    let result = submit::submit(&ws, pipeline, &values, &opts, &events).await;
    view.finish();
    let submitted = result?;
    eprintln!(
        "Created job `{}` in {:.1}s ({} uploaded, {} reused; {}).",
        submitted.name,
        started.elapsed().as_secs_f64(),
        plural(submitted.codes_uploaded, "snapshot"),
        submitted.codes_reused,
        plural(submitted.components, "component")
    );
    eprintln!("Studio: {}", submitted.studio_url);
    // The job name alone on standard output, for scripts.
    println!("{}", submitted.name);
    if !args.wait {
        eprintln!(
            "`runs show --azure {}` shows its steps; `submit --wait` follows a job to its end.",
            submitted.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    follow(&ws, &submitted.name, args).await
}

/// Follows job `name` to its end, printing status changes; Ctrl-C asks the service to cancel it.
async fn follow(ws: &Workspace, name: &str, args: &SubmitArgs) -> Result<ExitCode, CliError> {
    let cancel = Arc::new(AtomicBool::new(false));
    let handlers = super::install_ctrl_c(&cancel);
    let opts = FollowOptions {
        interval: Duration::from_secs_f64(args.poll_interval),
        cancel: Arc::clone(&cancel),
    };
    let started = Instant::now();
    let stamp = || {
        let s = started.elapsed().as_secs();
        format!("{:>3}:{:02}", s / 60, s % 60)
    };
    let result = submit::follow(ws, name, &opts, |event| match event {
        FollowEvent::Job(status) => eprintln!("[{}] job {name}: {status}", stamp()),
        FollowEvent::Step { name: step, status } => {
            eprintln!("[{}]   step {step}: {status}", stamp())
        }
        FollowEvent::CancelRequested => eprintln!(
            "[{}] Ctrl-C: asked Azure ML to cancel job {name}; waiting for it to stop \
             (Ctrl-C again to stop waiting).",
            stamp()
        ),
        FollowEvent::StepsUnavailable(why) => eprintln!(
            "[{}] (step statuses are unavailable, following the job only: {why})",
            stamp()
        ),
    })
    .await;
    for id in handlers {
        signal_hook::low_level::unregister(id);
    }
    let followed = result?;
    let status = followed.status();
    eprintln!(
        "Job {name} {} after {}.",
        match status {
            JobStatus::Completed => "completed".to_owned(),
            JobStatus::Canceled => "was canceled".to_owned(),
            other => format!("ended {other}"),
        },
        stamp().trim()
    );
    if status == JobStatus::Completed {
        for (output, uri) in submit::output_locations(&followed.job) {
            eprintln!("Output {output}: {uri}");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        for run in &followed.steps {
            if run.status.as_deref() == Some("Failed") {
                let step = submit::step_name(run);
                let why = run
                    .error
                    .as_ref()
                    .and_then(|e| e.pointer("/error/message").or_else(|| e.get("message")))
                    .and_then(|m| m.as_str())
                    .unwrap_or("see its logs in the studio");
                eprintln!("Step {step} failed: {why}");
            }
        }
        Ok(ExitCode::from(1))
    }
}

/// Renders submission events: a line per snapshot and upload, one progress bar for bytes going
/// up (on a terminal).
struct SubmitView {
    bar: Mutex<Option<ProgressBar>>,
    tty: bool,
    warned: AtomicBool,
}

impl SubmitView {
    fn new() -> Self {
        Self {
            bar: Mutex::new(None),
            tty: std::io::stderr().is_terminal(),
            warned: AtomicBool::new(false),
        }
    }

    fn println(&self, line: String) {
        match self.bar.lock().expect("not poisoned").as_ref() {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn event(&self, e: SubmitEvent) {
        match e {
            SubmitEvent::SnapshotHashed {
                path,
                steps,
                files,
                bytes,
                hash,
            } => self.println(format!(
                "  snapshot {} ({}): {}, {}, hash {}",
                shown(&path),
                steps.join(", "),
                plural(files, "file"),
                human_bytes(bytes),
                &hash[..12.min(hash.len())]
            )),
            SubmitEvent::SecretLikeFiles {
                path,
                files,
                ignore_file,
            } => {
                self.warned.store(true, Ordering::Relaxed);
                self.println(format!(
                    "warning: the snapshot {} holds files that look like secrets and will be \
                     uploaded to the workspace: {}. To leave them out, add their names to {}.",
                    shown(&path),
                    files.join(", "),
                    shown(&ignore_file)
                ));
            }
            SubmitEvent::CodeReused { path, .. } => self.println(format!(
                "  snapshot {}: already in the workspace, reused",
                shown(&path)
            )),
            SubmitEvent::Uploading { what, progress } => {
                if !self.tty {
                    return;
                }
                let mut slot = self.bar.lock().expect("not poisoned");
                let bar = slot.get_or_insert_with(|| {
                    let bar = ProgressBar::with_draw_target(
                        Some(progress.bytes_total),
                        ProgressDrawTarget::stderr(),
                    );
                    bar.set_style(
                        ProgressStyle::with_template(
                            "  uploading {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                        )
                        .expect("valid template")
                        .progress_chars("=> "),
                    );
                    bar
                });
                bar.set_length(progress.bytes_total);
                bar.set_position(progress.bytes_done);
                bar.set_message(format!(
                    "{what} ({}/{} files)",
                    progress.files_done, progress.files_total
                ));
            }
            SubmitEvent::CodeUploaded { path, report, .. } => {
                self.clear_bar();
                self.println(match report {
                    Some(r) => format!(
                        "  snapshot {}: uploaded {}, {} in {:.1}s",
                        shown(&path),
                        plural(r.files, "file"),
                        human_bytes(r.bytes),
                        r.elapsed.as_secs_f64()
                    ),
                    None => format!(
                        "  snapshot {}: found complete in the upload container",
                        shown(&path)
                    ),
                })
            }
            SubmitEvent::DataUploaded { input, uri, report } => {
                self.clear_bar();
                self.println(match report {
                    Some(r) => format!(
                        "  input {input}: uploaded {}, {} to {uri}",
                        plural(r.files, "file"),
                        human_bytes(r.bytes)
                    ),
                    None => format!("  input {input}: already uploaded at {uri}"),
                })
            }
            SubmitEvent::ComponentsRegistered { count } => {
                self.println(format!("  registered {}", plural(count, "component")))
            }
            SubmitEvent::JobCreated { .. } => {}
        }
    }

    fn clear_bar(&self) {
        if let Some(bar) = self.bar.lock().expect("not poisoned").take() {
            bar.finish_and_clear();
        }
    }

    fn finish(&self) {
        self.clear_bar();
    }
}

/// `1 file`, `3 files`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A path relative to the current folder when it is below it.
fn shown(path: &std::path::Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
