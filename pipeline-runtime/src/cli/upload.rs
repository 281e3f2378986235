//! `upload`: copy local files into a datastore (the seed's `upload_files`): the local
//! workspace's, or with `--azure` the Azure ML workspace's.

use std::path::PathBuf;
use std::process::ExitCode;

#[cfg(feature = "azure")]
use super::args::AzureConfigArg;
use super::args::WorkspaceArg;
use super::output::{errln, outln};
use super::{CliError, cwd};
use crate::graph::Pipeline;
use crate::local::{self, Workspace};

/// `upload`: copy local files into a datastore (the seed's `upload_files`).
#[derive(Debug, Clone, clap::Args)]
pub struct UploadArgs {
    /// Files or folders to copy.
    #[arg(required = true, value_name = "SRC")]
    pub sources: Vec<PathBuf>,
    /// The datastore.
    #[arg(long, default_value = local::DEFAULT_DATASTORE)]
    pub datastore: String,
    /// The folder inside the datastore.
    #[arg(long, default_value = "", value_name = "PATH")]
    pub target_path: String,
    /// Replace files that exist.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub workspace: WorkspaceArg,
    /// Upload to the datastore of the Azure ML workspace instead of the local workspace.
    #[cfg(feature = "azure")]
    #[arg(long)]
    pub azure: bool,
    #[cfg(feature = "azure")]
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// Runs `upload`.
pub fn upload(pipeline: &Pipeline, args: &UploadArgs) -> Result<ExitCode, CliError> {
    #[cfg(feature = "azure")]
    if args.azure {
        upload_azure(args)?;
        return Ok(ExitCode::SUCCESS);
    }
    upload_local(pipeline, args)?;
    Ok(ExitCode::SUCCESS)
}

/// `upload` into the local workspace.
fn upload_local(pipeline: &Pipeline, args: &UploadArgs) -> Result<(), CliError> {
    let ws = Workspace::open(args.workspace.path(pipeline))?;
    let sources: Vec<PathBuf> = args.sources.iter().map(|s| cwd().join(s)).collect();
    let done = ws.upload(&sources, &args.datastore, &args.target_path, args.overwrite)?;
    {
        {
            let bytes: u64 = done.iter().map(|u| u.size).sum();
            for u in &done {
                outln!("{}", u.uri);
            }
            errln!(
                "Uploaded {} files ({bytes} bytes) to datastore `{}`.",
                done.len(),
                args.datastore
            );
            match done.as_slice() {
                [one] => errln!("Use it with `--input NAME={}`.", one.uri),
                _ => {
                    let dir = args.target_path.trim_matches('/');
                    errln!(
                        "Use them with `--input NAME=azureml://datastores/{}/paths/{}`.",
                        args.datastore,
                        if dir.is_empty() { "<file>" } else { dir }
                    );
                }
            }
        }
    }
    Ok(())
}

/// `upload --azure`: copies local files and folders into an Azure ML datastore under
/// `target_path` (`{target_path}/{file name}`, `{target_path}/{folder name}/…`).
#[cfg(feature = "azure")]
fn upload_azure(args: &UploadArgs) -> Result<(), CliError> {
    use crate::azure::blob::{UploadOptions, files_under};
    use crate::azure::submit::{self, SubmitError};
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;

    let config = args.config.file.as_deref();
    let (sources, datastore, target_path, overwrite) = (
        &args.sources,
        args.datastore.as_str(),
        args.target_path.as_str(),
        args.overwrite,
    );
    super::azure_workspace::block_on(async {
        let target = target_path.trim_matches('/');
        if target.split('/').any(|c| c == "..") {
            return Err(CliError::Usage(format!(
                "--target-path `{target_path}`: a datastore path cannot contain `..`"
            )));
        }
        let cwd = cwd();
        let mut files = Vec::new();
        for src in sources {
            let src = cwd.join(src);
            if !src.exists() {
                return Err(CliError::Usage(format!(
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
        let ws = super::azure_workspace::workspace(config)?;
        let store = ws.datastores().get(datastore).await?;
        let uploader = submit::datastore_uploader(&ws, &store).await?;
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "uploading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
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
            outln!("azureml://datastores/{datastore}/paths/{blob}");
        }
        errln!(
            "Uploaded {} file(s) ({} bytes) to datastore `{datastore}` in {:.1}s.",
            report.files,
            report.bytes,
            report.elapsed.as_secs_f64()
        );
        Ok(())
    })
}
