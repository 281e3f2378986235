//! `submit`: run the pipeline on Azure ML, and optionally follow it to its end.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::azure::Workspace;
use crate::azure::jobs::JobStatus;
use crate::azure::linux_binary;
use crate::azure::submit::{
    self, FollowEvent, FollowOptions, SubmitEvent, SubmitEvents, SubmitOptions,
};
use crate::graph::Pipeline;

use super::args::{AzureConfigArg, PipelineInputArgs};
use super::output::{errln, outln};
use super::{CliError, shown};

/// `submit`: upload snapshots, register components, create the pipeline job.
#[derive(Debug, Clone, clap::Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub pipeline: PipelineInputArgs,
    /// Follow the job until it ends; exit non-zero unless it completed. Ctrl-C cancels the job.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
    /// The experiment to file the job under (default: the pipeline's `experiment`).
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,
    /// The job name (default: `<pipeline>_<UTC time>_<random>`).
    #[arg(long, value_name = "NAME")]
    pub job_name: Option<String>,
    /// Seconds between two status polls with `--wait` (more than 0, at most 86400).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = super::args::seconds)]
    pub poll_interval: Duration,
    /// With `--wait`: when the job's status has not changed for this many seconds, say that it
    /// is still being waited for (more than 0, at most 86400).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = super::args::seconds)]
    pub heartbeat: Duration,
}

/// Runs `submit`.
pub fn submit(pipeline: &Pipeline, args: &SubmitArgs) -> Result<ExitCode, CliError> {
    super::azure_workspace::block_on(submit_async(pipeline, args))
}

async fn submit_async(pipeline: &Pipeline, args: &SubmitArgs) -> Result<ExitCode, CliError> {
    let cwd = super::cwd();
    let params = args.pipeline.param_pairs()?;
    let inputs = args.pipeline.input_pairs()?;
    let values = pipeline.bind(&params, &inputs, &cwd)?;
    pipeline.check_local_inputs(&values)?;
    // Before any request: a Linux binary that cannot run on Azure ML stops here.
    let rust_binary = linux_binary_for(pipeline).await?;
    let ws = super::azure_workspace::workspace(args.config.file.as_deref())?;
    let git = crate::local::git_info(&cwd);
    errln!(
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
        force_rerun: args.pipeline.regenerate_outputs,
        properties: git.properties(),
        experiment: args.experiment.clone(),
        rust_binary,
        ..SubmitOptions::default()
    };
    let started = Instant::now();
    let result = submit::submit(&ws, pipeline, &values, &opts, &events).await;
    view.finish();
    let submitted = result?;
    errln!(
        "Created job `{}` in {:.1}s ({} uploaded, {} reused; {}).",
        submitted.name,
        started.elapsed().as_secs_f64(),
        plural(submitted.codes_uploaded, "snapshot"),
        submitted.codes_reused,
        plural(submitted.components, "component")
    );
    errln!("Studio: {}", submitted.studio_url);
    // The job name alone on standard output, for scripts.
    outln!("{}", submitted.name);
    if !args.wait {
        errln!(
            "`runs show --azure {}` shows its steps; `submit --wait` follows a job to its end.",
            submitted.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Following ends when the job does (or on Ctrl-C); the command budget covered the submission.
    crate::azure::retry::end_command_budget();
    follow(&ws, &submitted.name, args).await
}

/// The staged folder of the Linux binary when the pipeline has Rust steps
/// ([`linux_binary::prepare`]: `AZUREML_PIPELINES_LINUX_BINARY`, the running binary, or a musl
/// build), with its progress and cargo's output on stderr; `None` without Rust steps.
pub(crate) async fn linux_binary_for(
    pipeline: &Pipeline,
) -> Result<Option<std::path::PathBuf>, CliError> {
    let rust_steps = pipeline
        .steps()
        .iter()
        .filter(|s| crate::wire::rust_code_dir(s).is_some())
        .count();
    if rust_steps == 0 {
        return Ok(None);
    }
    let staged = tokio::task::spawn_blocking(|| {
        let opts = linux_binary::LinuxBinaryOptions::from_env();
        linux_binary::prepare(&opts, &mut |line: &str| errln!("{line}"))
    })
    .await
    .map_err(|e| CliError::Usage(format!("preparing the Linux binary stopped: {e}")))??;
    Ok(Some(staged.dir))
}

/// Follows job `name` to its end, printing status changes (and, when nothing changed for
/// `--heartbeat`, that it is still waiting); Ctrl-C asks the service to cancel it.
async fn follow(ws: &Workspace, name: &str, args: &SubmitArgs) -> Result<ExitCode, CliError> {
    follow_job(ws, name, args.poll_interval, args.heartbeat).await
}

/// Follows job `name` to its end, polling every `interval` and saying that it still waits when
/// nothing changed for `heartbeat`; ends with the outputs (or the failed steps). Exit 0 only
/// when the job completed. Shared by `submit --wait` and `endpoint invoke --wait`.
pub(crate) async fn follow_job(
    ws: &Workspace,
    name: &str,
    interval: Duration,
    heartbeat: Duration,
) -> Result<ExitCode, CliError> {
    let cancel = Arc::new(AtomicBool::new(false));
    let handlers = super::install_ctrl_c(&cancel);
    let opts = FollowOptions {
        interval,
        cancel: Arc::clone(&cancel),
    };
    let started = Instant::now();
    let stamp = || {
        let s = started.elapsed().as_secs();
        format!("{:>3}:{:02}", s / 60, s % 60)
    };
    // No silence much longer than `--heartbeat`: when nothing changed for that long, say what is
    // awaited (checked at each poll).
    let mut last_line = Instant::now();
    let result = submit::follow(ws, name, &opts, |event| match event {
        FollowEvent::Polled(status) => {
            if last_line.elapsed() >= heartbeat {
                last_line = Instant::now();
                errln!(
                    "[{}] job {name}: still {status}; waiting for it to finish (Ctrl-C cancels it)",
                    stamp()
                );
            }
        }
        FollowEvent::Job(status) => {
            last_line = Instant::now();
            errln!("[{}] job {name}: {status}", stamp())
        }
        FollowEvent::Step { name: step, status } => {
            last_line = Instant::now();
            errln!("[{}]   step {step}: {status}", stamp())
        }
        FollowEvent::CancelRequested => errln!(
            "[{}] Ctrl-C: asked Azure ML to cancel job {name}; waiting for it to stop \
             (Ctrl-C again to stop waiting).",
            stamp()
        ),
        FollowEvent::StepsUnavailable(why) => errln!(
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
    errln!(
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
            errln!("Output {output}: {uri}");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        for run in &followed.steps {
            if run.status.as_deref() == Some("Failed") {
                let step = submit::step_name(run);
                let why = run.error_message().unwrap_or("see its logs in the studio");
                errln!("Step {step} failed: {why}");
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
        match self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            Some(bar) => bar.println(line),
            None => errln!("{line}"),
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
                let mut slot = self
                    .bar
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let bar = slot.get_or_insert_with(|| {
                    let bar = ProgressBar::with_draw_target(
                        Some(progress.bytes_total),
                        ProgressDrawTarget::stderr(),
                    );
                    bar.set_style(
                        ProgressStyle::with_template(
                            "  uploading {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
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
        if let Some(bar) = self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
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
