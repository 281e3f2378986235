//! The Azure side of `runs` (`--azure`), `upload` (`--azure`) and `datastores`: jobs, steps and
//! datastores of the Azure ML workspace.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::azure::blob::{UploadOptions, files_under};
use crate::azure::jobs::JobStatus;
use crate::azure::submit::{self, SubmitError};
use crate::azure::{ArmClientOptions, ArmError, Credential, Workspace, WorkspaceConfig};

/// Why an Azure command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AzureCliError {
    #[error(transparent)]
    Config(#[from] crate::azure::ConfigError),
    #[error(transparent)]
    Arm(#[from] ArmError),
    #[error(transparent)]
    Submit(Box<SubmitError>),
    #[error("{0}")]
    Usage(String),
}

impl From<SubmitError> for AzureCliError {
    fn from(e: SubmitError) -> Self {
        AzureCliError::Submit(Box::new(e))
    }
}

impl AzureCliError {
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            AzureCliError::Config(_) | AzureCliError::Usage(_) => ExitCode::from(2),
            AzureCliError::Submit(e)
                if matches!(
                    **e,
                    SubmitError::Snapshot { .. } | SubmitError::Data { .. } | SubmitError::Spec(_)
                ) =>
            {
                ExitCode::from(2)
            }
            AzureCliError::Arm(e) if e.status() == Some(404) => ExitCode::from(2),
            AzureCliError::Arm(ArmError::InvalidSetting { .. }) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }
}

/// The workspace from `--config FILE` or the usual `config.json` search, with the default
/// credential chain.
pub(crate) fn workspace(config: Option<&Path>) -> Result<Workspace, AzureCliError> {
    let config = match config {
        Some(path) => WorkspaceConfig::from_path(path)?,
        None => WorkspaceConfig::from_config()?,
    };
    let options = ArmClientOptions {
        on_retry: crate::azure::arm::RetryListener::new(|notice| eprintln!("{notice}")),
        ..ArmClientOptions::from_env()?
    };
    Ok(Workspace::new(
        config,
        Credential::default_chain(),
        options,
    )?)
}

/// Runs `f` on a fresh single-threaded runtime; a runtime that cannot start is exit code 1.
pub(crate) fn run_async<E, F>(f: F, fail: impl FnOnce(&E) -> ExitCode) -> ExitCode
where
    F: std::future::Future<Output = Result<ExitCode, E>>,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(f) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn block_on<F>(f: F) -> ExitCode
where
    F: std::future::Future<Output = Result<ExitCode, AzureCliError>>,
{
    run_async(f, |e: &AzureCliError| super::fail(e, e.exit_code()))
}

/// `runs list --azure`: the workspace's pipeline jobs, newest first as the service lists them.
pub fn runs_list(config: Option<&Path>, experiment: Option<&str>, limit: usize) -> ExitCode {
    block_on(async {
        let ws = workspace(config)?;
        let jobs = ws.jobs().list(Some("Pipeline")).await?;
        let jobs: Vec<_> = jobs
            .into_iter()
            .filter(|j| {
                experiment.is_none_or(|e| j.properties.experiment_name.as_deref() == Some(e))
            })
            .take(limit)
            .collect();
        if jobs.is_empty() {
            eprintln!(
                "No pipeline jobs in workspace `{}`{}.",
                ws.config().workspace_name,
                experiment
                    .map(|e| format!(" for experiment `{e}`"))
                    .unwrap_or_default()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let width = jobs.iter().map(|j| j.name.len()).max().unwrap_or(4).max(4);
        println!(
            "{:<width$}  {:<12}  {:<24}  DISPLAY NAME",
            "JOB", "STATUS", "EXPERIMENT"
        );
        for j in &jobs {
            let p = &j.properties;
            println!(
                "{:<width$}  {:<12}  {:<24}  {}",
                j.name,
                p.status.map(|s| s.to_string()).unwrap_or_default(),
                p.experiment_name.as_deref().unwrap_or(""),
                p.display_name.as_deref().unwrap_or("")
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `runs show --azure JOB`: the job's status, link, steps and outputs.
pub fn runs_show(config: Option<&Path>, name: &str) -> ExitCode {
    block_on(async {
        let ws = workspace(config)?;
        let job = ws.jobs().get(name).await?;
        let p = &job.properties;
        let status = p.status.unwrap_or(JobStatus::Unknown);
        println!("Job        {name}");
        println!("Status     {status}");
        if let Some(e) = &p.experiment_name {
            println!("Experiment {e}");
        }
        if let Some(d) = &p.display_name {
            println!("Display    {d}");
        }
        println!("Studio     {}", submit::studio_url(&ws, &job, name));
        let git: Vec<String> = [
            "azureml.git.commit",
            "azureml.git.branch",
            "azureml.git.dirty",
        ]
        .iter()
        .filter_map(|k| {
            job.properties
                .other
                .get("properties")
                .and_then(|v| v.get(*k))
                .and_then(|v| v.as_str())
                .map(|v| format!("{}={v}", k.trim_start_matches("azureml.git.")))
        })
        .collect();
        if !git.is_empty() {
            println!("Git        {}", git.join(" "));
        }
        match ws.jobs().list_children(name).await {
            Ok(steps) if !steps.is_empty() => {
                println!();
                let width = steps
                    .iter()
                    .map(|s| submit::step_name(s).len())
                    .max()
                    .unwrap_or(4)
                    .max(4);
                println!("{:<width$}  {:<12}  {:<20}  END", "STEP", "STATUS", "START");
                for s in &steps {
                    println!(
                        "{:<width$}  {:<12}  {:<20}  {}",
                        submit::step_name(s),
                        s.status.as_deref().unwrap_or(""),
                        s.start_time_utc.as_deref().unwrap_or("-"),
                        s.end_time_utc.as_deref().unwrap_or("-")
                    );
                }
            }
            Ok(_) => {}
            Err(e) => eprintln!("(step statuses are unavailable: {e})"),
        }
        if status == JobStatus::Completed {
            let outputs = submit::output_locations(&job);
            if !outputs.is_empty() {
                println!();
                for (output, uri) in outputs {
                    println!("Output {output}: {uri}");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `upload --azure`: copies local files and folders into an Azure ML datastore under
/// `target_path` (`{target_path}/{file name}`, `{target_path}/{folder name}/…`).
pub fn upload(
    config: Option<&Path>,
    sources: &[PathBuf],
    datastore: &str,
    target_path: &str,
    overwrite: bool,
) -> ExitCode {
    block_on(async {
        let target = target_path.trim_matches('/');
        if target.split('/').any(|c| c == "..") {
            return Err(AzureCliError::Usage(format!(
                "--target-path `{target_path}`: a datastore path cannot contain `..`"
            )));
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let mut files = Vec::new();
        for src in sources {
            let src = cwd.join(src);
            if !src.exists() {
                return Err(AzureCliError::Usage(format!(
                    "`{}` does not exist",
                    src.display()
                )));
            }
            let name = src
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let prefix = match (src.is_dir(), target.is_empty()) {
                (true, true) => name,
                (true, false) => format!("{target}/{name}"),
                (false, _) => target.to_owned(),
            };
            let listed =
                files_under(&src, &prefix)
                    .await
                    .map_err(|source| SubmitError::Upload {
                        what: format!("`{}`", src.display()),
                        source,
                    })?;
            files.extend(listed);
        }
        let ws = workspace(config)?;
        let store = ws.datastores().get(datastore).await?;
        let uploader = submit::datastore_uploader(&ws, &store).await?;
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "uploading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            Some(bar)
        } else {
            None
        };
        let mut options = UploadOptions {
            overwrite,
            ..UploadOptions::default()
        };
        if let Some(bar) = bar.clone() {
            options = options.with_progress(move |p| {
                bar.set_length(p.bytes_total);
                bar.set_position(p.bytes_done);
                bar.set_message(format!("{}/{} files", p.files_done, p.files_total));
            });
        }
        let result = uploader.upload_files(&files, &options).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let report = result.map_err(|source| SubmitError::Upload {
            what: format!("to datastore `{datastore}`"),
            source,
        })?;
        for (_, blob) in &files {
            println!("azureml://datastores/{datastore}/paths/{blob}");
        }
        eprintln!(
            "Uploaded {} file(s) ({} bytes) to datastore `{datastore}` in {:.1}s.",
            report.files,
            report.bytes,
            report.elapsed.as_secs_f64()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `datastores`: the workspace's datastores, the default marked.
pub fn datastores(config: Option<&Path>) -> ExitCode {
    block_on(async {
        let ws = workspace(config)?;
        let stores = ws.datastores().list().await?;
        let width = stores
            .iter()
            .map(|d| d.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        println!("{:<width$}  {:<18}  LOCATION", "NAME", "TYPE");
        for d in &stores {
            let p = &d.properties;
            let location = d
                .blob_container_url()
                .unwrap_or_else(|| p.account_name.clone().unwrap_or_else(|| "-".to_owned()));
            println!(
                "{:<width$}  {:<18}  {location}{}",
                d.name,
                p.datastore_type,
                if p.is_default { "  (default)" } else { "" }
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
