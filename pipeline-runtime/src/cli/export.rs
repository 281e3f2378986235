//! `export --format json|yaml [--out DIR]`: the Azure ML wire forms of the pipeline.

use std::path::{Path, PathBuf};

use crate::graph::{InputValue, Pipeline, split_assignment};
use crate::snapshot;
use crate::wire::{self, LocalUpload, WireContext, WorkspaceScope, YamlContext};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The REST requests submission sends: anonymous components, then the pipeline job.
    Json,
    /// A pipeline job YAML for `az ml job create --file`; each sub-pipeline in its own file
    /// (printed only when there is one file: use `--out DIR` otherwise).
    Yaml,
}

/// `export`: write the pipeline as Azure ML REST bodies or CLI v2 YAML.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Write files into this folder instead of printing to standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub pipeline: super::args::PipelineInputArgs,
    /// Subscription id for the ARM ids (placeholder when omitted).
    #[arg(long, env = "AZUREML_SUBSCRIPTION_ID", value_name = "ID")]
    pub subscription_id: Option<String>,
    /// Resource group for the ARM ids (placeholder when omitted).
    #[arg(long, env = "AZUREML_RESOURCE_GROUP", value_name = "NAME")]
    pub resource_group: Option<String>,
    /// Workspace for the ARM ids (placeholder when omitted).
    #[arg(
        long = "workspace-name",
        env = "AZUREML_WORKSPACE_NAME",
        value_name = "NAME"
    )]
    pub workspace_name: Option<String>,
    /// The workspace's default datastore, where submission uploads local inputs (Azure ML names
    /// it `workspaceblobstore` unless it was changed).
    #[arg(
        long,
        env = "AZUREML_DEFAULT_DATASTORE",
        value_name = "NAME",
        default_value = DEFAULT_UPLOAD_DATASTORE
    )]
    pub datastore: String,
}

/// The datastore Azure ML makes a workspace's default.
pub const DEFAULT_UPLOAD_DATASTORE: &str = "workspaceblobstore";

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Bad `--param`/`--input`.
    #[error(transparent)]
    Bind(#[from] crate::graph::BindError),
    /// The pipeline cannot be written.
    #[error(transparent)]
    Wire(#[from] wire::WireError),
    /// A snapshot could not be read.
    #[error("step `{step}`: {source}")]
    Snapshot {
        /// The step.
        step: String,
        /// What went wrong.
        source: snapshot::SnapshotError,
    },
    /// A local input could not be read.
    #[error("input `{input}`: {source}")]
    Data {
        /// The input.
        input: String,
        /// What went wrong.
        source: snapshot::SnapshotError,
    },
    /// A pipeline with sub-pipelines is several YAML files, which cannot be printed as one.
    #[error(
        "the YAML of this pipeline is {} files ({}): Azure ML's loader reads each sub-pipeline from its own file beside the job, so they cannot be printed; write them with `export --format yaml --out DIR` and load `DIR/{}`",
        files.len(),
        files.join(", "),
        wire::JOB_FILE
    )]
    YamlNeedsFiles {
        /// The files the export would write, the job first.
        files: Vec<String>,
    },
    /// `AZUREML_PIPELINES_LINUX_BINARY` names a binary that cannot run Rust steps on Azure ML.
    #[cfg(feature = "azure")]
    #[error(transparent)]
    LinuxBinary(#[from] crate::azure::linux_binary::LinuxBinaryError),
    /// Writing the files failed.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Parses the `--param`/`--input` assignments of a command.
pub fn assignments(list: &[String]) -> Result<Vec<(String, String)>, crate::graph::BindError> {
    list.iter().map(|a| split_assignment(a)).collect()
}

/// Where a local input is uploaded: `LocalUpload/<object hash>/<name>` on `datastore` (the
/// workspace's default one), as Microsoft's SDK does; the same for export and submit.
pub fn local_upload(path: &Path, datastore: &str) -> Result<LocalUpload, snapshot::SnapshotError> {
    let hash = snapshot::object_hash(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".to_owned());
    Ok(LocalUpload {
        datastore: datastore.to_owned(),
        hash,
        name,
        is_dir: path.is_dir(),
    })
}

/// The wire context for exporting: code ids from snapshot content hashes, upload URIs for
/// local data.
pub fn wire_context(
    pipeline: &Pipeline,
    values: &[Option<InputValue>],
    workspace: WorkspaceScope,
    datastore: &str,
    force_rerun: bool,
) -> Result<WireContext, ExportError> {
    let mut ctx = WireContext {
        workspace,
        force_rerun,
        ..WireContext::default()
    };
    for (path, steps) in wire::snapshot_folders(pipeline) {
        let hash = snapshot::Snapshot::scan(&path)
            .and_then(|s| s.content_hash_cached())
            .map_err(|source| ExportError::Snapshot {
                step: steps[0].to_owned(),
                source,
            })?;
        ctx.code.insert(path, ctx.workspace.code_id_for_hash(&hash));
    }
    // Rust steps: no Linux binary is built for an export; a placeholder code id stands for it.
    if pipeline
        .steps()
        .iter()
        .any(|s| wire::rust_code_dir(s).is_some())
    {
        ctx.code.insert(
            wire::RUST_BINARY_DIR.into(),
            ctx.workspace
                .code_version_id(wire::RUST_BINARY_PLACEHOLDER, wire::CODE_VERSION),
        );
    }
    for (input, path) in wire::local_data(pipeline, values) {
        if let std::collections::btree_map::Entry::Vacant(slot) = ctx.data.entry(path) {
            let upload =
                local_upload(slot.key(), datastore).map_err(|source| ExportError::Data {
                    input: input.clone(),
                    source,
                })?;
            slot.insert(upload.uri());
        }
    }
    Ok(ctx)
}

/// With Rust steps and `AZUREML_PIPELINES_LINUX_BINARY` set: the binary checked and staged as
/// `submit` would, and its code asset's id (from its content hash) in place of the placeholder.
/// An export builds nothing: without the variable the placeholder stays.
#[cfg(feature = "azure")]
fn linux_binary_code(pipeline: &Pipeline, ctx: &mut WireContext) -> Result<(), ExportError> {
    let Some(staged) = linux_binary(pipeline)? else {
        return Ok(());
    };
    let hash = snapshot::Snapshot::scan(&staged.dir)
        .and_then(|s| s.content_hash_cached())
        .map_err(|source| ExportError::Snapshot {
            step: "(the Linux binary of the Rust steps)".to_owned(),
            source,
        })?;
    ctx.code.insert(
        wire::RUST_BINARY_DIR.into(),
        ctx.workspace.code_id_for_hash(&hash),
    );
    Ok(())
}

/// The Linux binary named by `AZUREML_PIPELINES_LINUX_BINARY`, checked and staged, when the
/// pipeline has Rust steps; `None` otherwise (an export builds nothing).
#[cfg(feature = "azure")]
fn linux_binary(
    pipeline: &Pipeline,
) -> Result<Option<crate::azure::linux_binary::LinuxBinary>, ExportError> {
    use crate::azure::linux_binary::{LinuxBinaryOptions, prepare};
    let has_rust_steps = pipeline
        .steps()
        .iter()
        .any(|s| wire::rust_code_dir(s).is_some());
    let opts = LinuxBinaryOptions::from_env();
    if !has_rust_steps || opts.env_binary.is_none() {
        return Ok(None);
    }
    let staged = prepare(&opts, &mut |line: &str| super::output::errln!("{line}"))?;
    Ok(Some(staged))
}

/// The JSON export: every request submission sends, in order.
pub fn json_requests<'a>(
    bodies: &'a wire::RestBodies,
    workspace: &WorkspaceScope,
) -> Vec<wire::ExportedRequest<wire::RequestBody<'a>>> {
    bodies.requests(
        workspace,
        |c| wire::RequestBody::Component(&c.body),
        wire::RequestBody::Job,
    )
}

/// Runs `export`, returning what to print (empty when written to files).
pub fn export(pipeline: &Pipeline, args: &ExportArgs, cwd: &Path) -> Result<String, ExportError> {
    let params = args.pipeline.param_pairs()?;
    let inputs = args.pipeline.input_pairs()?;
    let values = pipeline.bind_partial(&params, &inputs, cwd)?;
    let defaults = WorkspaceScope::default();
    let workspace = WorkspaceScope {
        subscription_id: args
            .subscription_id
            .clone()
            .unwrap_or(defaults.subscription_id),
        resource_group: args
            .resource_group
            .clone()
            .unwrap_or(defaults.resource_group),
        workspace_name: args
            .workspace_name
            .clone()
            .unwrap_or(defaults.workspace_name),
    };
    match args.format {
        Format::Json => {
            #[allow(unused_mut)]
            let mut ctx = wire_context(
                pipeline,
                &values,
                workspace.clone(),
                &args.datastore,
                args.pipeline.regenerate_outputs,
            )?;
            #[cfg(feature = "azure")]
            linux_binary_code(pipeline, &mut ctx)?;
            let bodies = wire::rest_bodies(pipeline, &values, &ctx)?;
            match &args.out {
                None => Ok(wire::to_json_pretty(&json_requests(&bodies, &workspace))),
                Some(dir) => {
                    let mut files = Vec::new();
                    for c in &bodies.components {
                        let name = &c.body.properties.component_spec.name;
                        let file = format!("components/{name}-{}.json", &c.version[..8]);
                        write(&dir.join(&file), &wire::to_json_pretty(&c.body))?;
                        files.push(file);
                    }
                    write(
                        &dir.join("pipeline_job.json"),
                        &wire::to_json_pretty(&bodies.job),
                    )?;
                    let mut files = files.into_iter();
                    let manifest = bodies.requests(
                        &workspace,
                        |_| files.next().unwrap_or_default(),
                        |_| "pipeline_job.json".to_owned(),
                    );
                    write(&dir.join("requests.json"), &wire::to_json_pretty(&manifest))?;
                    Ok(String::new())
                }
            }
        }
        Format::Yaml => {
            let base_dir = match &args.out {
                Some(dir) => absolute(cwd, dir),
                None => cwd.to_path_buf(),
            };
            let export = wire::to_yaml(
                pipeline,
                &values,
                &YamlContext {
                    base_dir: base_dir.clone(),
                    force_rerun: args.pipeline.regenerate_outputs,
                },
            )?;
            match &args.out {
                None => {
                    export
                        .single()
                        .map(str::to_owned)
                        .ok_or_else(|| ExportError::YamlNeedsFiles {
                            files: export.file_names().into_iter().map(str::to_owned).collect(),
                        })
                }
                Some(_) => {
                    for (name, text) in &export.files {
                        write(&base_dir.join(name), text)?;
                    }
                    #[cfg(feature = "azure")]
                    if let Some(staged) = linux_binary(pipeline)? {
                        // Where the YAML's Rust steps look for it (`code: ./rust-binary`).
                        let dest = base_dir
                            .join(wire::RUST_BINARY_DIR)
                            .join(wire::RUST_BINARY_FILE);
                        let err = |source| ExportError::Write {
                            path: dest.clone(),
                            source,
                        };
                        std::fs::create_dir_all(base_dir.join(wire::RUST_BINARY_DIR))
                            .map_err(err)?;
                        std::fs::copy(staged.path(), &dest).map_err(err)?;
                    }
                    Ok(String::new())
                }
            }
        }
    }
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

fn write(path: &Path, text: &str) -> Result<(), ExportError> {
    let err = |source| ExportError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, text).map_err(err)
}
