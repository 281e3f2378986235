//! Submitting a pipeline to Azure ML (the seed's `Experiment(ws, name).submit(pipeline)`) and
//! following the job (`wait_for_completion()`).
//!
//! [`submit`] does, in this order:
//!
//! 1. hashes every step snapshot folder, and the folder of the Linux binary Rust steps run
//!    from ([`SubmitOptions::rust_binary`]) (hash version 202208, on blocking threads, all at
//!    once), and warns about files that look like secrets;
//! 2. for each snapshot, at once: reuses a code asset with the same content hash
//!    (`GET codes/{name}/versions?hash=…`), or asks for an upload location
//!    (`startPendingUpload`), uploads the files through the SAS (skipped when the container
//!    already holds a completed upload of them) and registers the code version;
//! 3. registers each container image a step runs in as an anonymous environment
//!    ([`super::environments`]);
//! 4. uploads local data inputs to the default datastore under `LocalUpload/<object hash>/`, as
//!    Microsoft's SDK does (with the datastore's own credentials: `listSecrets`);
//! 5. registers every distinct anonymous component at once;
//! 6. creates the pipeline job under a name chosen before the first request, so a retried PUT
//!    updates the same job instead of creating a second one.
//!
//! Code asset names are derived from the content hash ([`crate::wire::code_name_for_hash`]) and
//! component versions from the component's content, so resubmitting the same pipeline creates no
//! new assets. The number of sequential round trips does not grow with the number of steps:
//! steps 2 and 4 send their requests concurrently (up to [`SubmitOptions::concurrency`]).
//!
//! [`follow`] polls the job and its child runs until the job ends, reporting every change, and
//! asks the service to cancel the job when its cancel flag is raised.
//!
//! Why one long file: submitting and following share the workspace handle, the events and the
//! job name; following a job is the natural next file to split out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use azure_core::http::Url;

use super::arm::{ArmError, join_bounded};
use super::blob::{
    BlobError, BlobUploader, SnapshotMarker, SnapshotUpload, UploadOptions, UploadProgress,
    UploadReport, files_under,
};
use super::codes::CodeVersion;
use super::datastores::{DEFAULT_DATASTORE, Datastore, DatastoreSecrets, DatastoreType};
use super::environments::{self, Environments};
use super::jobs::{Job, JobStatus, Run};
use super::sas::{AccountKey, SasError, SasUrl};
use super::workspace::Workspace;
use crate::graph::{InputValue, Pipeline};
use crate::snapshot::{self, Snapshot, SnapshotError};
use crate::wire::{self, CODE_VERSION, LocalUpload, WireContext, WireError};

/// How to submit.
#[derive(Clone, Debug)]
pub struct SubmitOptions {
    /// The job name; a fresh one (`<pipeline>_<UTC time>_<random>`) when `None`.
    pub job_name: Option<String>,
    /// `settings.force_rerun`: rerun every step instead of reusing earlier results
    /// (`--regenerate-outputs`).
    pub force_rerun: bool,
    /// Job properties, e.g. git facts under Azure ML's names (`azureml.git.commit`, …).
    pub properties: BTreeMap<String, String>,
    /// Overrides the experiment name.
    pub experiment: Option<String>,
    /// Most control-plane requests in flight at once (code lookups, component PUTs).
    /// Default 256: enough that a pipeline of a few hundred distinct steps registers its
    /// components in one round trip.
    pub concurrency: usize,
    /// Blob upload settings (concurrency, block size); the progress callback is set by
    /// [`submit`] to report [`SubmitEvent::Uploading`].
    pub upload: UploadOptions,
    /// The folder holding only the Linux build of the pipeline binary that Rust steps run from
    /// ([`super::linux_binary::prepare`] stages it); needed when the pipeline has Rust steps.
    /// It is uploaded as their code asset, once per content hash like any snapshot.
    pub rust_binary: Option<PathBuf>,
}

impl Default for SubmitOptions {
    fn default() -> Self {
        Self {
            job_name: None,
            force_rerun: false,
            properties: BTreeMap::new(),
            experiment: None,
            concurrency: 256,
            upload: UploadOptions::default(),
            rust_binary: None,
        }
    }
}

/// What [`submit`] reports as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum SubmitEvent {
    /// A snapshot folder was hashed.
    SnapshotHashed {
        /// The folder.
        path: PathBuf,
        /// The steps using it.
        steps: Vec<String>,
        /// Files included.
        files: usize,
        /// Their total size.
        bytes: u64,
        /// The content hash.
        hash: String,
    },
    /// A snapshot holds files that look like secrets; they will be uploaded.
    SecretLikeFiles {
        /// The snapshot folder.
        path: PathBuf,
        /// The files, relative to the folder.
        files: Vec<String>,
        /// The ignore file to add them to (`.amlignore` in the folder).
        ignore_file: PathBuf,
    },
    /// A code asset with the same content already exists and is used.
    CodeReused {
        /// The snapshot folder.
        path: PathBuf,
        /// The code asset's ARM id.
        id: String,
    },
    /// Bytes are going up (a snapshot or a local input).
    Uploading {
        /// What: `snapshot <folder>` or `input <name>`.
        what: String,
        /// How far.
        progress: UploadProgress,
    },
    /// A snapshot was uploaded (or found complete in the upload container) and registered.
    CodeUploaded {
        /// The snapshot folder.
        path: PathBuf,
        /// The code asset's ARM id.
        id: String,
        /// What was uploaded; `None` when the container already held the files.
        report: Option<UploadReport>,
    },
    /// A local input was uploaded to the default datastore.
    DataUploaded {
        /// The input (`name`, or `node.port` for a local binding inside the graph).
        input: String,
        /// Where it is now.
        uri: String,
        /// What was uploaded; `None` when an earlier upload of the same content was complete.
        report: Option<UploadReport>,
    },
    /// The anonymous components are registered.
    ComponentsRegistered {
        /// How many distinct components.
        count: usize,
    },
    /// The pipeline job was created.
    JobCreated {
        /// Its name.
        name: String,
    },
}

/// What [`submit`] created.
#[derive(Clone, Debug)]
pub struct Submitted {
    /// The job name.
    pub name: String,
    /// The job as the service returned it.
    pub job: Job,
    /// The job's page in Azure ML studio.
    pub studio_url: String,
    /// Code assets uploaded by this submission.
    pub codes_uploaded: usize,
    /// Code assets reused by content hash.
    pub codes_reused: usize,
    /// Distinct components registered.
    pub components: usize,
}

/// Why a submission failed. Nothing is left half-created that a retry would duplicate: asset
/// names and versions are derived from content, and the job name is fixed before any request.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// A control-plane request failed.
    #[error(transparent)]
    Arm(#[from] ArmError),
    /// A step's snapshot could not be read.
    #[error("snapshot of step `{step}` (`{}`): {source}", path.display())]
    Snapshot {
        /// The (first) step using it.
        step: String,
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        source: SnapshotError,
    },
    /// A local input could not be read.
    #[error("input `{input}` (`{}`): {source}", path.display())]
    Data {
        /// The input.
        input: String,
        /// The local path.
        path: PathBuf,
        /// What went wrong.
        source: SnapshotError,
    },
    /// An upload failed.
    #[error("uploading {what} failed: {source}")]
    Upload {
        /// What was being uploaded.
        what: String,
        /// What went wrong.
        source: BlobError,
    },
    /// The default datastore cannot take uploads from here.
    #[error("cannot upload local inputs to datastore `{datastore}`: {reason}")]
    Datastore {
        /// The datastore.
        datastore: String,
        /// Why.
        reason: String,
    },
    /// The pipeline cannot be written as REST bodies.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The pipeline has Rust steps but no Linux binary was given for them.
    #[error(
        "step `{step}` is a Rust step, which runs on Azure ML from a Linux build of the pipeline \
         binary, and none was given; stage one with `azure::linux_binary::prepare` and pass its \
         folder as `SubmitOptions::rust_binary`"
    )]
    NoLinuxBinary {
        /// The first Rust step.
        step: String,
    },
    /// A background task died.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<SasError> for SubmitError {
    fn from(e: SasError) -> Self {
        SubmitError::Upload {
            what: "to the datastore".into(),
            source: BlobError::from(e),
        }
    }
}

/// Where [`submit`] reports [`SubmitEvent`]s; called from several tasks.
pub type SubmitEvents = Arc<dyn Fn(SubmitEvent) + Send + Sync>;

type Events<'a> = &'a SubmitEvents;

/// A fresh job name: `<pipeline>_<UTC yyyymmddThhmmss>_<8 random hex digits>` (at most 255
/// characters of `[A-Za-z0-9_-]`, as Azure ML accepts).
pub fn new_job_name(pipeline: &str) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (date, time) = utc(secs);
    let random = azure_core::Uuid::new_v4().simple().to_string();
    let base: String = pipeline
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    let base = if base.is_empty() {
        "pipeline".to_owned()
    } else {
        base
    };
    format!("{base}_{date}T{time}_{}", &random[..8])
}

/// `(yyyymmdd, hhmmss)` of a Unix time, UTC.
fn utc(secs: u64) -> (String, String) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}{m:02}{d:02}"),
        format!("{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}

/// The job's page in Azure ML studio: the `Studio` service endpoint the service returns, else
/// `https://ml.azure.com/runs/{name}?wsid={workspace id}`.
pub fn studio_url(ws: &Workspace, job: &Job, name: &str) -> String {
    job.properties
        .services
        .as_ref()
        .and_then(|s| s.get("Studio"))
        .and_then(|s| s.endpoint.clone())
        .unwrap_or_else(|| {
            let mut url = Url::parse("https://ml.azure.com/runs/").expect("constant URL");
            url.path_segments_mut()
                .expect("http URL")
                .pop_if_empty()
                .push(name);
            url.query_pairs_mut().append_pair("wsid", &ws.resource_id());
            url.to_string()
        })
}

/// Submits `pipeline` with its inputs bound (`values`, one per pipeline input, e.g. from
/// [`Pipeline::bind`]) to the workspace, reporting progress to `events`.
///
/// # Errors
///
/// [`SubmitError`]: a snapshot or local input that cannot be read, a failed upload, a request
/// the service refused (after retries), a pipeline Azure ML cannot take (no environment).
pub async fn submit(
    ws: &Workspace,
    pipeline: &Pipeline,
    values: &[InputValue],
    opts: &SubmitOptions,
    events: Events<'_>,
) -> Result<Submitted, SubmitError> {
    let values: Vec<Option<InputValue>> = values.iter().cloned().map(Some).collect();
    let prepared = prepare(ws, pipeline, &values, opts, events).await?;
    let name = opts
        .job_name
        .clone()
        .unwrap_or_else(|| new_job_name(&pipeline.name));
    let job = ws
        .jobs()
        .create_or_update(&name, &prepared.bodies.job)
        .await?;
    events(SubmitEvent::JobCreated { name: name.clone() });
    let studio_url = studio_url(ws, &job, &name);
    Ok(Submitted {
        name,
        job,
        studio_url,
        codes_uploaded: prepared.codes_uploaded,
        codes_reused: prepared.codes_reused,
        components: prepared.bodies.components.len(),
    })
}

/// What [`prepare`] registered: the job body that can now be sent, and what it took.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The components (registered) and the pipeline job (not sent).
    pub bodies: wire::RestBodies,
    /// Code assets uploaded.
    pub codes_uploaded: usize,
    /// Code assets reused by content hash.
    pub codes_reused: usize,
}

/// Everything [`submit`] does before the job PUT: snapshots hashed and uploaded as code assets
/// (or reused), local inputs uploaded, data assets `@latest` resolved, the step components
/// registered. `values` has one entry per pipeline input; `None` leaves it unbound (publishing a
/// pipeline component). Publishing and schedules use it too.
///
/// # Errors
///
/// As [`submit`].
pub async fn prepare(
    ws: &Workspace,
    pipeline: &Pipeline,
    values: &[Option<InputValue>],
    opts: &SubmitOptions,
    events: Events<'_>,
) -> Result<Prepared, SubmitError> {
    let scope = ws.scope();
    // Checked before anything is uploaded: every step needs an environment (Rust steps have a
    // default one).
    for step in pipeline.steps() {
        if step.environment.is_none() && matches!(step.kind, crate::graph::StepKind::Command) {
            return Err(WireError::NoEnvironment { step: step.name }.into());
        }
    }
    // ... and Rust steps need the Linux binary.
    let rust_steps: Vec<&'static str> = pipeline
        .steps()
        .iter()
        .filter(|s| wire::rust_code_dir(s).is_some())
        .map(|s| s.name)
        .collect();
    let rust_binary = match (rust_steps.first(), &opts.rust_binary) {
        (None, _) => None,
        (Some(_), Some(dir)) => Some(dir.clone()),
        (Some(step), None) => {
            return Err(SubmitError::NoLinuxBinary {
                step: (*step).to_owned(),
            });
        }
    };

    // Checked before anything is uploaded: every compute the pipeline names exists (a missing
    // one is named with the computes the workspace has).
    ws.computes().check_named_by(pipeline).await?;

    // Data assets named `@latest` are resolved before anything is uploaded, so a missing one is
    // named first.
    let mut latest_data = BTreeMap::new();
    for (_, name) in wire::latest_data_assets(pipeline, values) {
        if let std::collections::btree_map::Entry::Vacant(slot) = latest_data.entry(name) {
            let version = ws.data().latest_version(slot.key()).await?;
            slot.insert(version);
        }
    }
    // Data assets named with a version (`azureml:NAME:VERSION`) must exist: checked before
    // anything is uploaded, a missing one named with the versions its asset has.
    let mut checked = std::collections::BTreeSet::new();
    for (_, name, version) in wire::versioned_data_assets(pipeline, values) {
        if checked.insert((name.clone(), version.clone())) {
            ws.data().get_version(&name, &version).await?;
        }
    }

    let mut folders = wire::snapshot_folders(pipeline);
    if let Some(dir) = &rust_binary {
        folders.push((dir.clone(), rust_steps));
    }
    let hashed = hash_snapshots(folders, events).await?;

    let code_results = join_bounded(
        opts.concurrency,
        hashed
            .iter()
            .map(|h| ensure_code(ws, h, &opts.upload, events)),
    )
    .await;
    let mut ctx = WireContext {
        workspace: scope,
        force_rerun: opts.force_rerun,
        properties: opts.properties.clone(),
        experiment: opts.experiment.clone(),
        latest_data,
        ..WireContext::default()
    };
    let (mut codes_uploaded, mut codes_reused) = (0, 0);
    for (h, result) in hashed.iter().zip(code_results) {
        let (id, reused) = result?;
        if reused {
            codes_reused += 1;
        } else {
            codes_uploaded += 1;
        }
        if rust_binary.as_ref() == Some(&h.path) {
            // The lowering names the Rust steps' code folder by a fixed relative path.
            ctx.code
                .insert(PathBuf::from(wire::RUST_BINARY_DIR), id.clone());
        }
        ctx.code.insert(h.path.clone(), id);
    }

    for image in image_environments(pipeline) {
        let id = Environments::new(ws).register_image(image).await?;
        ctx.environments.insert(image.to_owned(), id);
    }

    let locals = wire::local_data(pipeline, values);
    if !locals.is_empty() {
        upload_local_data(ws, locals, &mut ctx, &opts.upload, events).await?;
    }

    let bodies = wire::rest_bodies(pipeline, values, &ctx)?;
    let components = &bodies.components;
    let puts = join_bounded(
        opts.concurrency,
        components.iter().map(|c| {
            ws.components()
                .create_or_update_version(&c.name, &c.version, &c.body)
        }),
    )
    .await;
    for put in puts {
        put?;
    }
    events(SubmitEvent::ComponentsRegistered {
        count: components.len(),
    });
    Ok(Prepared {
        bodies,
        codes_uploaded,
        codes_reused,
    })
}

/// A hashed snapshot folder.
struct Hashed {
    path: PathBuf,
    snapshot: Snapshot,
    hash: String,
}

async fn hash_snapshots(
    folders: Vec<(PathBuf, Vec<&'static str>)>,
    events: Events<'_>,
) -> Result<Vec<Hashed>, SubmitError> {
    let tasks: Vec<_> = folders
        .into_iter()
        .map(|(path, steps)| {
            tokio::task::spawn_blocking(move || {
                let result = Snapshot::scan(&path).and_then(|s| {
                    let hash = s.content_hash_cached()?;
                    Ok((s, hash))
                });
                (path, steps, result)
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        let (path, steps, result) = task
            .await
            .map_err(|e| SubmitError::Internal(format!("hashing a snapshot: {e}")))?;
        let (snapshot, hash) = result.map_err(|source| SubmitError::Snapshot {
            step: steps[0].to_owned(),
            path: path.clone(),
            source,
        })?;
        let secrets: Vec<String> = snapshot
            .secret_like_files()
            .into_iter()
            .map(|f| f.relative.clone())
            .collect();
        events(SubmitEvent::SnapshotHashed {
            path: path.clone(),
            steps: steps.iter().map(|s| (*s).to_owned()).collect(),
            files: snapshot.files().len(),
            bytes: snapshot.total_size(),
            hash: hash.clone(),
        });
        if !secrets.is_empty() {
            events(SubmitEvent::SecretLikeFiles {
                ignore_file: path.join(".amlignore"),
                path: path.clone(),
                files: secrets,
            });
        }
        out.push(Hashed {
            path,
            snapshot,
            hash,
        });
    }
    Ok(out)
}

/// The distinct container images the pipeline's steps run in (nested pipelines included).
fn image_environments(pipeline: &Pipeline) -> std::collections::BTreeSet<&'static str> {
    let mut out = std::collections::BTreeSet::new();
    for node in &pipeline.nodes {
        match &node.component {
            crate::graph::Component::Step(_) => {
                if let Some(env) = node.environment.filter(|e| environments::is_image(e)) {
                    out.insert(env);
                }
            }
            crate::graph::Component::Pipeline(p) => out.extend(image_environments(p)),
        }
    }
    out
}

/// Reuses or creates the code asset of one snapshot; returns its ARM id and whether it was
/// reused.
async fn ensure_code(
    ws: &Workspace,
    h: &Hashed,
    upload: &UploadOptions,
    events: Events<'_>,
) -> Result<(String, bool), SubmitError> {
    let codes = ws.codes();
    let name = wire::code_name_for_hash(&h.hash);
    if let Some(found) = codes.find_by_hash(&name, &h.hash).await? {
        let id = code_id(ws, &found, &name);
        events(SubmitEvent::CodeReused {
            path: h.path.clone(),
            id: id.clone(),
        });
        return Ok((id, true));
    }
    let pending = codes.start_pending_upload(&name, CODE_VERSION).await?;
    let what = format!("snapshot `{}`", h.path.display());
    let base = folder_name(&h.path);
    let files: Vec<(PathBuf, String)> = h
        .snapshot
        .files()
        .iter()
        .map(|f| (f.path.clone(), format!("{base}/{}", f.relative)))
        .collect();
    let sas = SasUrl::parse(pending.sas_uri.expose()).map_err(|e| SubmitError::Upload {
        what: what.clone(),
        source: e.into(),
    })?;
    let uploader = BlobUploader::new(sas).map_err(|source| SubmitError::Upload {
        what: what.clone(),
        source,
    })?;
    let marker = SnapshotMarker {
        name: name.clone(),
        version: CODE_VERSION.to_owned(),
    };
    let report = upload_marked(&uploader, &files, &marker, upload, &what, events).await?;
    let code_uri = format!("{}/{base}", pending.blob_uri.trim_end_matches('/'));
    let created = codes
        .create_or_update(&name, CODE_VERSION, &code_uri, &h.hash, true)
        .await?;
    let id = code_id(ws, &created, &name);
    events(SubmitEvent::CodeUploaded {
        path: h.path.clone(),
        id: id.clone(),
        report,
    });
    Ok((id, false))
}

fn code_id(ws: &Workspace, code: &CodeVersion, name: &str) -> String {
    if code.id.is_empty() {
        ws.scope().code_version_id(name, CODE_VERSION)
    } else {
        code.id.clone()
    }
}

fn folder_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "code".to_owned())
}

/// Uploads `files` unless a completed upload of them is marked in the container (then `None`),
/// reporting progress as `what`.
async fn upload_marked(
    uploader: &BlobUploader,
    files: &[(PathBuf, String)],
    marker: &SnapshotMarker,
    upload: &UploadOptions,
    what: &str,
    events: Events<'_>,
) -> Result<Option<UploadReport>, SubmitError> {
    let options = with_progress(upload, what, events);
    match uploader.upload_snapshot(files, marker, &options).await {
        Ok(SnapshotUpload::Uploaded(r)) => Ok(Some(r)),
        Ok(SnapshotUpload::AlreadyUploaded(_)) => Ok(None),
        Err(source) => Err(SubmitError::Upload {
            what: what.to_owned(),
            source,
        }),
    }
}

fn with_progress(base: &UploadOptions, what: &str, events: Events<'_>) -> UploadOptions {
    let events = Arc::clone(events);
    let what = what.to_owned();
    base.clone().with_progress(move |progress| {
        events(SubmitEvent::Uploading {
            what: what.clone(),
            progress,
        })
    })
}

/// Uploads local inputs to the default datastore (`LocalUpload/<object hash>/…`) and records
/// their URIs in `ctx.data`.
async fn upload_local_data(
    ws: &Workspace,
    locals: Vec<(String, PathBuf)>,
    ctx: &mut WireContext,
    upload: &UploadOptions,
    events: Events<'_>,
) -> Result<(), SubmitError> {
    let store = ws.datastores().get_default().await?;
    let uploader = datastore_uploader(ws, &store).await?;
    for (input, path) in locals {
        if ctx.data.contains_key(&path) {
            continue;
        }
        let p = path.clone();
        let hash = tokio::task::spawn_blocking(move || snapshot::object_hash(&p))
            .await
            .map_err(|e| SubmitError::Internal(format!("hashing an input: {e}")))?
            .map_err(|source| SubmitError::Data {
                input: input.clone(),
                path: path.clone(),
                source,
            })?;
        let target = LocalUpload {
            datastore: store.name.clone(),
            hash: hash.clone(),
            name: folder_name(&path),
            is_dir: path.is_dir(),
        };
        let prefix = target.blob_prefix();
        let what = format!("input `{input}`");
        let files = files_under(&path, &prefix)
            .await
            .map_err(|source| SubmitError::Upload {
                what: what.clone(),
                source,
            })?;
        let marker = SnapshotMarker {
            name: "LocalUpload".to_owned(),
            version: hash.clone(),
        };
        let report = upload_marked(&uploader, &files, &marker, upload, &what, events).await?;
        let uri = target.uri();
        events(SubmitEvent::DataUploaded {
            input,
            uri: uri.clone(),
            report,
        });
        ctx.data.insert(path, uri);
    }
    Ok(())
}

/// An uploader for a blob datastore, with its own credentials (`listSecrets`): an account key
/// (a SAS is signed from it) or a SAS token.
pub async fn datastore_uploader(
    ws: &Workspace,
    store: &Datastore,
) -> Result<BlobUploader, SubmitError> {
    let bad = |reason: String| SubmitError::Datastore {
        datastore: store.name.clone(),
        reason,
    };
    let p = &store.properties;
    if p.datastore_type != DatastoreType::AzureBlob {
        return Err(bad(format!(
            "it is an {} datastore; uploads go to Azure Blob datastores only",
            p.datastore_type
        )));
    }
    let account = p
        .account_name
        .clone()
        .ok_or_else(|| bad("it names no storage account".into()))?;
    let container = p
        .container_name
        .clone()
        .ok_or_else(|| bad("it names no container".into()))?;
    let endpoint = match &ws.config().blob_endpoint {
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None => store
            .blob_service_url()
            .ok_or_else(|| bad("it names no blob service".into()))?,
    };
    let upload_err = |source: BlobError| SubmitError::Upload {
        what: format!("to datastore `{}`", store.name),
        source,
    };
    match ws.datastores().list_secrets(&store.name).await? {
        DatastoreSecrets::AccountKey { key } => {
            let key = AccountKey::new(key.expose().to_owned())?;
            BlobUploader::with_account_key(&endpoint, &account, &container, &key)
                .map_err(upload_err)
        }
        DatastoreSecrets::Sas { sas_token } => {
            let token = sas_token.expose().trim_start_matches('?');
            let url = SasUrl::parse(&format!("{endpoint}/{container}?{token}"))?;
            BlobUploader::new(url).map_err(upload_err)
        }
        DatastoreSecrets::ServicePrincipal { .. } | DatastoreSecrets::Certificate { .. } => {
            Err(bad(
                "its credentials are a service principal or certificate, which this client does \
                 not use for uploads; bind the input to an `azureml://` URI of data already in \
                 the datastore, or use a datastore with an account key or SAS"
                    .into(),
            ))
        }
    }
}

/// How to follow a job.
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// Time between two polls (default 5 s).
    pub interval: Duration,
    /// Raised (e.g. by Ctrl-C) to ask the service to cancel the job; following goes on until the
    /// job has ended.
    pub cancel: Arc<AtomicBool>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What [`follow`] reports.
#[derive(Clone, Debug, PartialEq)]
pub enum FollowEvent {
    /// The job's status changed.
    Job(JobStatus),
    /// A step's status changed (first sighting included).
    Step {
        /// The node name.
        name: String,
        /// Its status, as the run history gives it (`Running`, `Completed`, …).
        status: String,
    },
    /// The cancel flag was seen and the service accepted the cancel request.
    CancelRequested,
    /// The step statuses could not be read (the job's status still is); said once.
    StepsUnavailable(String),
    /// The job was polled and is not finished: sent after every poll, so a caller can say that
    /// it is still waiting when nothing changed for a while.
    Polled(JobStatus),
}

/// A followed job at its end.
#[derive(Clone, Debug)]
pub struct Followed {
    /// The job.
    pub job: Job,
    /// Its steps (child runs) as last seen.
    pub steps: Vec<Run>,
}

impl Followed {
    /// The final status.
    pub fn status(&self) -> JobStatus {
        self.job.properties.status.unwrap_or(JobStatus::Unknown)
    }
}

/// The node name of a child run: its display name, else what follows the parent's id in its own.
pub fn step_name(run: &Run) -> String {
    run.display_name.clone().unwrap_or_else(|| {
        run.parent_run_id
            .as_deref()
            .and_then(|p| run.run_id.strip_prefix(p))
            .map(|s| s.trim_start_matches('_').to_owned())
            .unwrap_or_else(|| run.run_id.clone())
    })
}

/// Polls job `name` and its steps until the job ends, reporting each change to `on_event`.
///
/// # Errors
///
/// A failed job GET (after retries) or a refused cancel request. Step statuses come from the run
/// history; when it cannot be read, [`FollowEvent::StepsUnavailable`] says so once and the job
/// is followed by its own status.
pub async fn follow(
    ws: &Workspace,
    name: &str,
    opts: &FollowOptions,
    mut on_event: impl FnMut(FollowEvent),
) -> Result<Followed, ArmError> {
    let mut last_status: Option<JobStatus> = None;
    let mut steps: BTreeMap<String, String> = BTreeMap::new();
    let mut runs: Vec<Run> = Vec::new();
    let mut steps_ok = true;
    let mut cancel_sent = false;
    loop {
        if opts.cancel.load(Ordering::SeqCst) && !cancel_sent {
            ws.jobs().cancel(name).await?;
            cancel_sent = true;
            on_event(FollowEvent::CancelRequested);
        }
        let job = ws.jobs().get(name).await?;
        let status = job.properties.status.unwrap_or(JobStatus::Unknown);
        if last_status != Some(status) {
            last_status = Some(status);
            on_event(FollowEvent::Job(status));
        }
        if steps_ok {
            match ws.jobs().list_children(name).await {
                Ok(children) => {
                    for run in &children {
                        let step = step_name(run);
                        let st = run.status.clone().unwrap_or_else(|| "Unknown".into());
                        if steps.get(&step) != Some(&st) {
                            steps.insert(step.clone(), st.clone());
                            on_event(FollowEvent::Step {
                                name: step,
                                status: st,
                            });
                        }
                    }
                    runs = children;
                }
                Err(e) => {
                    steps_ok = false;
                    on_event(FollowEvent::StepsUnavailable(e.to_string()));
                }
            }
        }
        if status.is_terminal() {
            return Ok(Followed { job, steps: runs });
        }
        on_event(FollowEvent::Polled(status));
        // Sleep in short slices so a cancel request goes out promptly.
        let mut left = opts.interval;
        let cancel_due = || opts.cancel.load(Ordering::SeqCst) && !cancel_sent;
        while !left.is_zero() && !cancel_due() {
            let slice = left.min(Duration::from_millis(100));
            tokio::time::sleep(slice).await;
            left -= slice;
        }
    }
}

/// Where each output of a finished pipeline job is: the `uri` the job reports, else Azure ML's
/// default location on the workspace's default datastore,
/// `azureml://datastores/workspaceblobstore/paths/azureml/{job}/{output}/`.
pub fn output_locations(job: &Job) -> Vec<(String, String)> {
    let Some(outputs) = &job.properties.outputs else {
        return Vec::new();
    };
    outputs
        .iter()
        .map(|(name, o)| {
            let uri = o
                .uri
                .clone()
                .unwrap_or_else(|| wire::job_output_uri(DEFAULT_DATASTORE, &job.name, name));
            (name.clone(), uri)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), ("19700101".into(), "000000".into()));
        // 2026-11-27 03:26:17 UTC
        assert_eq!(utc(1_795_749_977), ("20261127".into(), "032617".into()));
        // A leap day.
        assert_eq!(utc(951_782_400).0, "20000229");
    }

    #[test]
    fn job_names_are_valid_and_fresh() {
        let a = new_job_name("compare_models");
        let b = new_job_name("compare_models");
        assert_ne!(a, b);
        assert!(a.starts_with("compare_models_"), "{a}");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "{a}"
        );
        assert!(new_job_name("a b/c").starts_with("a_b_c_"));
    }
}
