//! Uploading files to Azure Blob Storage: code snapshots and data.
//!
//! A [`BlobUploader`] writes into one container, authorised by a container SAS URL (what Azure ML
//! hands out for snapshots), an account key (what a datastore's `listSecrets` returns; we sign a
//! SAS from it), or an Entra ID token credential.
//!
//! * Many small files go up concurrently (bounded by [`UploadOptions::concurrency`]), one `Put
//!   Blob` each.
//! * A file larger than [`UploadOptions::block_size`] goes up in blocks (`Put Block`, in parallel
//!   under the same bound, then `Put Block List`), read from disk one block at a time, so memory
//!   stays under `concurrency × block_size`.
//! * Requests that fail with 408, 429 or 5xx, or that time out or lose their connection, are
//!   retried with exponential backoff, waiting at most [`Retries::max_delay`] however long the
//!   service's `Retry-After` asks for, each try bounded by [`Retries::try_timeout`]. Every retry
//!   is announced before its wait, through the listener a command line sets with
//!   [`retry::set_process_listener`](super::retry::set_process_listener) ("503 from PUT blob
//!   `src/a.py`; retrying in 0.8 s, attempt 2 of 11"), and no try starts once the command budget
//!   ([`retry::start_command_budget`](super::retry::start_command_budget)) is spent.
//! * A failed file never stops the others: the error lists every file that did not make it.
//! * Snapshots follow Azure ML's protocol: after all files are up, the first blob (by name) gets
//!   the metadata `upload_status=completed, name, version`; an upload that finds it skips the work
//!   ([`BlobUploader::upload_snapshot`]).
//!
//! Errors and the conversion of storage client errors live in `blob/error.rs`. The rest stays in
//! one file because it is one mechanism: the bounded concurrency, the per-block reads, the
//! retries and the progress counters all act on the same upload's shared state.
//!
//! ```no_run
//! # async fn demo() -> Result<(), azureml_pipelines_runtime::azure::blob::BlobError> {
//! use azureml_pipelines_runtime::azure::blob::{BlobUploader, UploadOptions};
//! use azureml_pipelines_runtime::azure::sas::SasUrl;
//!
//! let sas: SasUrl = "https://acct.blob.core.windows.net/container?sv=2022-11-02&sig=..."
//!     .parse()?;
//! let uploader = BlobUploader::new(sas)?;
//! let report = uploader
//!     .upload_path("examples/train_src".as_ref(), "train_src", &UploadOptions::default())
//!     .await?;
//! println!("{} files, {} bytes", report.files, report.bytes);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use azure_core::Bytes;
use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, Etag, RetryOptions, Url};
use azure_storage_blob::models::{
    BlobClientGetPropertiesResultHeaders, BlockBlobClientCommitBlockListOptions,
    BlockBlobClientUploadOptions, BlockLookupList,
};
use azure_storage_blob::{BlobClient, BlobContainerClient, BlobContainerClientOptions};
use futures::{StreamExt, TryStreamExt, stream};
use tokio::sync::Semaphore;

mod error;

pub use error::{BlobError, FailedFile, IncompleteUpload};
use error::{asked_wait, to_blob_error};

use super::retry::{
    NextTry, Notice, RetryConfig, RetryNotice, next_try, process_listener, seconds, time_left,
};
use super::sas::{AccountKey, ContainerSas, SasPermissions, SasUrl, redact_url_str};

/// Metadata key Azure ML sets on a snapshot's indicator blob once every file is uploaded.
pub const UPLOAD_STATUS_KEY: &str = "upload_status";
/// Value of [`UPLOAD_STATUS_KEY`] for a finished upload.
pub const UPLOAD_STATUS_COMPLETED: &str = "completed";

/// Default number of requests in flight: enough to hide per-request latency for many small files.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// Default block size for large files (8 MiB): large enough for throughput, small enough that
/// `concurrency` blocks in memory stay modest.
pub const DEFAULT_BLOCK_SIZE: u64 = 8 * 1024 * 1024;
/// The most blocks one block blob may have.
const MAX_BLOCKS: u64 = 50_000;
/// The largest block the service accepts.
const MAX_BLOCK_SIZE: u64 = 4000 * 1024 * 1024;
/// How long a SAS signed from an account key stays valid.
const ACCOUNT_KEY_SAS_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How far an upload has got; passed to [`UploadOptions::progress`] after each file or block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UploadProgress {
    /// Files fully uploaded.
    pub files_done: usize,
    /// Files to upload.
    pub files_total: usize,
    /// Bytes uploaded (counting finished blocks of unfinished files).
    pub bytes_done: u64,
    /// Bytes to upload.
    pub bytes_total: u64,
}

/// A progress callback; called from several tasks, so it must be cheap and thread-safe.
pub type ProgressCallback = Arc<dyn Fn(UploadProgress) + Send + Sync>;

/// How to upload.
#[derive(Clone)]
pub struct UploadOptions {
    /// Most requests in flight at once, across files and blocks. Default
    /// [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Files larger than this go up in blocks of this size. Default [`DEFAULT_BLOCK_SIZE`]; grown
    /// automatically when a file would need more than 50,000 blocks.
    pub block_size: u64,
    /// Replace blobs that already exist (default). When `false`, an existing blob makes that
    /// file fail with `BlobAlreadyExists`.
    pub overwrite: bool,
    /// Called as the upload makes progress.
    pub progress: Option<ProgressCallback>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            block_size: DEFAULT_BLOCK_SIZE,
            overwrite: true,
            progress: None,
        }
    }
}

impl UploadOptions {
    /// Sets the progress callback.
    pub fn with_progress(
        mut self,
        progress: impl Fn(UploadProgress) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("concurrency", &self.concurrency)
            .field("block_size", &self.block_size)
            .field("overwrite", &self.overwrite)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What an upload did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UploadReport {
    /// Files uploaded.
    pub files: usize,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// The name and version recorded on a snapshot's indicator blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotMarker {
    /// The code asset name.
    pub name: String,
    /// The code asset version.
    pub version: String,
}

/// The outcome of [`BlobUploader::upload_snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotUpload {
    /// The snapshot was uploaded before; nothing was sent. Carries the name and version found on
    /// the indicator blob, which the caller should reuse.
    AlreadyUploaded(SnapshotMarker),
    /// The files were uploaded and the indicator blob marked.
    Uploaded(UploadReport),
}

/// How a request that failed with 408, 429 or 5xx, timed out, or lost its connection is retried:
/// exponential backoff from `initial_delay` (or the service's `Retry-After`), each wait at most
/// `max_delay`, at most `max_retries` times and `max_elapsed` in all; each try gets
/// `try_timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retries {
    /// Most retries of one request.
    pub max_retries: u32,
    /// Delay before the first retry; it doubles (with jitter) each time.
    pub initial_delay: Duration,
    /// Give up retrying a request after this long.
    pub max_elapsed: Duration,
    /// The longest wait between two tries, also when `Retry-After` asks for more.
    pub max_delay: Duration,
    /// Time limit of one try (one `Put Blob` or `Put Block` of up to a block's bytes).
    pub try_timeout: Duration,
}

impl Default for Retries {
    /// 8 retries from 200 ms, waits of at most 30 s, within one minute; two minutes per try.
    fn default() -> Self {
        Self {
            max_retries: 8,
            initial_delay: Duration::from_millis(200),
            max_elapsed: Duration::from_secs(60),
            max_delay: Duration::from_secs(30),
            try_timeout: Duration::from_secs(120),
        }
    }
}

impl Retries {
    /// The defaults, with `AZUREML_MAX_RETRIES`, `AZUREML_RETRY_BUDGET` and
    /// `AZUREML_MAX_RETRY_WAIT` applied when they are set and valid (the command line has
    /// already refused invalid values).
    pub fn from_env() -> Self {
        let mut r = Self::default();
        if let Ok(o) = super::arm::ArmClientOptions::from_env() {
            let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
            if set(super::arm::ENV_MAX_RETRIES) {
                r.max_retries = o.retry.max_retries;
            }
            if set(super::arm::ENV_RETRY_BUDGET) {
                r.max_elapsed = o.retry.max_elapsed;
            }
            if set(super::arm::ENV_MAX_RETRY_WAIT) {
                r.max_delay = o.retry.max_delay;
            }
        }
        r
    }

    fn config(&self) -> RetryConfig {
        RetryConfig {
            max_retries: self.max_retries,
            initial_delay: self.initial_delay,
            max_delay: self.max_delay,
            max_elapsed: self.max_elapsed,
        }
    }
}

/// Uploads files into one blob container. Cheap to clone.
#[derive(Clone)]
pub struct BlobUploader {
    container: Arc<BlobContainerClient>,
    auth: Auth,
    retries: Retries,
    /// The container URL without credentials, for messages.
    shown: Arc<str>,
}

/// What authorises the requests.
#[derive(Clone)]
enum Auth {
    Sas(SasUrl),
    Token(Url, Arc<dyn TokenCredential>),
}

impl fmt::Debug for BlobUploader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobUploader")
            .field("container", &self.shown)
            .finish()
    }
}

impl BlobUploader {
    /// An uploader authorised by a container SAS URL (Azure ML's `startPendingUpload` `sasUri`).
    pub fn new(sas: SasUrl) -> Result<Self, BlobError> {
        Self::build(Auth::Sas(sas), Retries::from_env())
    }

    /// An uploader for `container` under `blob_endpoint` (`https://{account}.blob.core.windows.net`),
    /// signing a container SAS (read, create, write, list; valid 24 hours) with the account key,
    /// as for a datastore whose `listSecrets` gave an account key.
    ///
    /// Plain `http` is accepted for loopback endpoints only (a local emulator).
    pub fn with_account_key(
        blob_endpoint: &str,
        account: &str,
        container: &str,
        key: &AccountKey,
    ) -> Result<Self, BlobError> {
        let endpoint = Url::parse(blob_endpoint).map_err(|e| BlobError::Client {
            container: format!("{blob_endpoint}/{container}"),
            reason: e.to_string(),
        })?;
        let host = endpoint.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback_http = endpoint.scheme() == "http"
            && (host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback()));
        let mut sas = ContainerSas::new(
            account,
            container,
            SystemTime::now() + ACCOUNT_KEY_SAS_LIFETIME,
        )
        .permissions(SasPermissions::UPLOAD);
        if loopback_http {
            sas = sas.allow_http();
        }
        let token = sas.sign(key)?;
        Self::new(SasUrl::for_container(blob_endpoint, container, &token)?)
    }

    /// An uploader for a container URL (no query) authorised by an Entra ID token credential.
    /// The URL must be `https`.
    pub fn with_token_credential(
        container_url: Url,
        credential: Arc<dyn TokenCredential>,
    ) -> Result<Self, BlobError> {
        Self::build(Auth::Token(container_url, credential), Retries::from_env())
    }

    /// The same uploader with other retry settings.
    pub fn with_retries(self, retries: Retries) -> Result<Self, BlobError> {
        Self::build(self.auth, retries)
    }

    fn build(auth: Auth, retries: Retries) -> Result<Self, BlobError> {
        super::tls::install();
        let (url, credential) = match &auth {
            Auth::Sas(sas) => (sas.expose_url().clone(), None),
            Auth::Token(url, credential) => (url.clone(), Some(Arc::clone(credential))),
        };
        let mut shown_url = url.clone();
        shown_url.set_query(None);
        let shown: Arc<str> = redact_url_str(shown_url.as_str()).into();
        let options = BlobContainerClientOptions {
            client_options: ClientOptions {
                transport: Some(shared_transport()),
                // Retries are ours (`retrying`): the pipeline's are silent and wait as long as
                // `Retry-After` asks.
                retry: RetryOptions::none(),
                ..Default::default()
            },
            ..Default::default()
        };
        let container = BlobContainerClient::new(url, credential, Some(options)).map_err(|e| {
            BlobError::Client {
                container: shown.to_string(),
                reason: redact_url_str(&e.to_string()),
            }
        })?;
        Ok(Self {
            container: Arc::new(container),
            auth,
            retries,
            shown,
        })
    }

    /// Runs `call` (one storage request for `blob`) with retries: 408, 429, 5xx, connection
    /// errors and tries with no answer within [`Retries::try_timeout`] are tried again after an
    /// announced wait, until the tries, the retry budget or the command budget are spent.
    async fn retrying<T, F, Fut>(&self, what: &str, blob: &str, mut call: F) -> Result<T, BlobError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = azure_core::Result<T>>,
    {
        let config = self.retries.config();
        let operation = format!("{what} blob `{blob}`");
        let started = Instant::now();
        let mut attempt: u32 = 1;
        loop {
            let left = time_left(&config, started).map_err(|why| BlobError::Transport {
                blob: blob.to_owned(),
                message: format!("not sent: {why}"),
            })?;
            let limit = self
                .retries
                .try_timeout
                .min(left.max(Duration::from_millis(1)));
            let (reason, asked, error) = match tokio::time::timeout(limit, call()).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(e)) => {
                    let asked = asked_wait(&e);
                    let reason = match e.kind() {
                        ErrorKind::HttpResponse { status, .. } => {
                            let status = u16::from(*status);
                            if !matches!(status, 408 | 429 | 500 | 502 | 503 | 504) {
                                return Err(to_blob_error(blob, e));
                            }
                            status.to_string()
                        }
                        ErrorKind::Io | ErrorKind::Connection => {
                            super::retry::describe_transport_error(&e)
                        }
                        _ => return Err(to_blob_error(blob, e)),
                    };
                    (reason, asked, to_blob_error(blob, e))
                }
                Err(_) => {
                    let reason = format!("no answer within {}", seconds(limit));
                    let error = BlobError::Transport {
                        blob: blob.to_owned(),
                        message: reason.clone(),
                    };
                    (reason, None, error)
                }
            };
            match next_try(&config, attempt, asked, started) {
                NextTry::Wait(wait) => {
                    attempt += 1;
                    let notice = Notice::Retry(RetryNotice {
                        operation: operation.clone(),
                        reason,
                        wait,
                        attempt,
                        attempts: config.max_retries.saturating_add(1),
                    });
                    tracing::warn!("{notice}");
                    process_listener().notify(&notice);
                    tokio::time::sleep(wait).await;
                }
                NextTry::GiveUp(why) => {
                    tracing::warn!(operation, %reason, "{why}");
                    return Err(match error {
                        BlobError::Transport { blob, message } => BlobError::Transport {
                            blob,
                            message: format!("{message}; {why}"),
                        },
                        BlobError::Storage {
                            blob,
                            status,
                            code,
                            message,
                            hint,
                        } => BlobError::Storage {
                            blob,
                            status,
                            code,
                            message,
                            hint: Some(match hint {
                                Some(h) => format!("{why}; {h}"),
                                None => why,
                            }),
                        },
                        other => other,
                    });
                }
            }
        }
    }

    /// The container URL, without credentials.
    pub fn container_url(&self) -> &str {
        &self.shown
    }

    fn blob(&self, name: &str) -> BlobClient {
        self.container.blob_client(name)
    }

    /// Uploads each `(local file, blob name)` pair.
    ///
    /// All files are attempted even when some fail; the error then lists every failed file
    /// ([`BlobError::Incomplete`]). Bad credentials or a missing container stop the upload early,
    /// and the files not yet started are listed as not attempted.
    pub async fn upload_files(
        &self,
        files: &[(PathBuf, String)],
        opts: &UploadOptions,
    ) -> Result<UploadReport, BlobError> {
        let start = Instant::now();
        let concurrency = opts.concurrency.max(1);

        // Sizes first, so progress knows the total and large files are recognised.
        let to_stat: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
        let sizes = tokio::task::spawn_blocking(move || {
            to_stat
                .iter()
                .map(|p| std::fs::metadata(p).map(|m| m.len()))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| BlobError::Transport {
            blob: String::new(),
            message: format!("listing file sizes failed: {e}"),
        })?;

        let shared = Arc::new(Shared {
            permits: Semaphore::new(concurrency),
            stop: AtomicBool::new(false),
            files_done: AtomicUsize::new(0),
            bytes_done: AtomicU64::new(0),
            files_total: files.len(),
            bytes_total: sizes.iter().map(|s| *s.as_ref().unwrap_or(&0)).sum(),
            progress: opts.progress.clone(),
        });
        shared.report();

        let mut failed = Vec::new();
        let mut jobs = Vec::with_capacity(files.len());
        for ((local, blob), size) in files.iter().zip(sizes) {
            match size {
                Ok(size) => jobs.push(FileJob {
                    local: local.clone(),
                    blob: blob.clone(),
                    size,
                }),
                Err(source) => failed.push(FailedFile {
                    local: local.clone(),
                    blob: blob.clone(),
                    error: BlobError::Read {
                        path: local.clone(),
                        source,
                    },
                }),
            }
        }

        let settings = Settings {
            block_size: opts.block_size.clamp(1, MAX_BLOCK_SIZE),
            concurrency,
            overwrite: opts.overwrite,
        };
        let mut results = stream::iter(jobs)
            .map(|job| {
                let this = self.clone();
                let shared = Arc::clone(&shared);
                let (local, blob) = (job.local.clone(), job.blob.clone());
                let task = tokio::spawn(async move {
                    if shared.stop.load(Ordering::Relaxed) {
                        return Outcome::NotAttempted;
                    }
                    match this.upload_one(&job, settings, &shared).await {
                        Ok(bytes) => Outcome::Done(bytes),
                        Err(error) => {
                            if error.is_fatal_for_container() {
                                shared.stop.store(true, Ordering::Relaxed);
                            }
                            Outcome::Failed(error)
                        }
                    }
                });
                async move {
                    let outcome = task.await.unwrap_or_else(|e| {
                        Outcome::Failed(BlobError::Transport {
                            blob: blob.clone(),
                            message: format!("upload task failed: {e}"),
                        })
                    });
                    (local, blob, outcome)
                }
            })
            .buffer_unordered(concurrency);

        let mut report = UploadReport::default();
        let mut not_attempted = Vec::new();
        while let Some((local, blob, outcome)) = results.next().await {
            match outcome {
                Outcome::Done(bytes) => {
                    report.files += 1;
                    report.bytes += bytes;
                }
                Outcome::Failed(error) => failed.push(FailedFile { local, blob, error }),
                Outcome::NotAttempted => not_attempted.push((local, blob)),
            }
        }
        report.elapsed = start.elapsed();

        if failed.is_empty() && not_attempted.is_empty() {
            Ok(report)
        } else {
            // The first failure shown is the one that made the others pointless, if any.
            failed.sort_by_key(|f| !f.error.is_fatal_for_container());
            Err(BlobError::Incomplete(Box::new(IncompleteUpload {
                uploaded: report.files,
                failed,
                not_attempted,
            })))
        }
    }

    /// Uploads a folder (recursively, following symbolic links) or a single file under `prefix`.
    ///
    /// A file `a/b.txt` inside folder `local` becomes blob `{prefix}/a/b.txt`; a single file
    /// `local` becomes `{prefix}/{file name}`. An empty prefix puts them at the container root.
    pub async fn upload_path(
        &self,
        local: &Path,
        prefix: &str,
        opts: &UploadOptions,
    ) -> Result<UploadReport, BlobError> {
        let files = files_under(local, prefix).await?;
        self.upload_files(&files, opts).await
    }

    /// Reads the indicator blob of a snapshot: `Some` when a previous upload completed.
    pub async fn snapshot_marker(
        &self,
        indicator_blob: &str,
    ) -> Result<Option<SnapshotMarker>, BlobError> {
        let client = self.blob(indicator_blob);
        let rsp = match self
            .retrying("HEAD", indicator_blob, || client.get_properties(None))
            .await
        {
            Ok(rsp) => rsp,
            Err(BlobError::Storage { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let metadata = rsp
            .metadata()
            .map_err(|e| to_blob_error(indicator_blob, e))?;
        let get = |key: &str| {
            metadata
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        if get(UPLOAD_STATUS_KEY).as_deref() != Some(UPLOAD_STATUS_COMPLETED) {
            return Ok(None);
        }
        Ok(Some(SnapshotMarker {
            name: get("name").unwrap_or_default(),
            version: get("version").unwrap_or_default(),
        }))
    }

    /// Marks a snapshot upload complete: sets `upload_status=completed`, `name` and `version` on
    /// the indicator blob (replacing its other metadata, as Azure ML does).
    pub async fn mark_snapshot_complete(
        &self,
        indicator_blob: &str,
        marker: &SnapshotMarker,
    ) -> Result<(), BlobError> {
        let metadata = HashMap::from([
            (
                UPLOAD_STATUS_KEY.to_owned(),
                UPLOAD_STATUS_COMPLETED.to_owned(),
            ),
            ("name".to_owned(), marker.name.clone()),
            ("version".to_owned(), marker.version.clone()),
        ]);
        let client = self.blob(indicator_blob);
        self.retrying("PUT metadata of", indicator_blob, || {
            client.set_metadata(&metadata, None)
        })
        .await?;
        Ok(())
    }

    /// Uploads a code snapshot the way Azure ML does: unless its indicator blob (the first blob
    /// name in sorted order) already says `upload_status=completed`, upload every file and then
    /// mark the indicator blob with `marker`.
    ///
    /// Blob names are expected as `<basename(source dir)>/<relative posix path>` (see
    /// [`files_under`]).
    pub async fn upload_snapshot(
        &self,
        files: &[(PathBuf, String)],
        marker: &SnapshotMarker,
        opts: &UploadOptions,
    ) -> Result<SnapshotUpload, BlobError> {
        let Some(indicator) = indicator_blob(files) else {
            return Ok(SnapshotUpload::Uploaded(UploadReport::default()));
        };
        if let Some(found) = self.snapshot_marker(indicator).await? {
            return Ok(SnapshotUpload::AlreadyUploaded(found));
        }
        let report = self.upload_files(files, opts).await?;
        self.mark_snapshot_complete(indicator, marker).await?;
        Ok(SnapshotUpload::Uploaded(report))
    }

    /// Uploads one file; returns its size.
    async fn upload_one(
        &self,
        job: &FileJob,
        settings: Settings,
        shared: &Shared,
    ) -> Result<u64, BlobError> {
        let blob = self.blob(&job.blob);
        let if_none_match = (!settings.overwrite).then(|| Etag::from("*"));
        if job.size <= settings.block_size {
            let _permit = shared.permits.acquire().await.expect("never closed");
            let data = tokio::fs::read(&job.local)
                .await
                .map_err(|source| BlobError::Read {
                    path: job.local.clone(),
                    source,
                })?;
            let len = data.len() as u64;
            let options = BlockBlobClientUploadOptions {
                if_none_match,
                // One request, whatever the size read.
                partition_size: NonZero::new(len.max(1)),
                ..Default::default()
            };
            let data = Bytes::from(data);
            let client = blob.block_blob_client();
            self.retrying("PUT", &job.blob, || {
                client.upload(data.clone().into(), Some(options.clone()))
            })
            .await?;
            shared.bytes_done.fetch_add(len, Ordering::Relaxed);
            shared.files_done.fetch_add(1, Ordering::Relaxed);
            shared.report();
            return Ok(len);
        }

        // In blocks, read one at a time at their offsets.
        // Grow the blocks (to whole MiB) only when the file would need more than the service's
        // limit of blocks.
        let needed = job.size.div_ceil(MAX_BLOCKS);
        let block_size = if needed > settings.block_size {
            needed.next_multiple_of(1024 * 1024).min(MAX_BLOCK_SIZE)
        } else {
            settings.block_size
        };
        let blocks = job.size.div_ceil(block_size);
        let nonce = azure_core::Uuid::new_v4().simple().to_string();
        let ids: Vec<Vec<u8>> = (0..blocks)
            .map(|i| format!("{nonce}-{i:08}").into_bytes())
            .collect();
        let local = job.local.clone();
        let file = tokio::task::spawn_blocking(move || std::fs::File::open(&local))
            .await
            .map_err(|e| BlobError::Transport {
                blob: job.blob.clone(),
                message: format!("opening the file failed: {e}"),
            })?
            .map_err(|source| BlobError::Read {
                path: job.local.clone(),
                source,
            })?;
        let file = Arc::new(file);
        let block_client = blob.block_blob_client();
        stream::iter(ids.clone().into_iter().enumerate())
            .map(|(i, id)| {
                let file = Arc::clone(&file);
                let block_client = &block_client;
                async move {
                    let offset = i as u64 * block_size;
                    let len = block_size.min(job.size - offset);
                    let _permit = shared.permits.acquire().await.expect("never closed");
                    let data = tokio::task::spawn_blocking(move || read_at(&file, offset, len))
                        .await
                        .map_err(|e| BlobError::Transport {
                            blob: job.blob.clone(),
                            message: format!("reading a block failed: {e}"),
                        })?
                        .map_err(|source| BlobError::Read {
                            path: job.local.clone(),
                            source,
                        })?;
                    let data = Bytes::from(data);
                    self.retrying("PUT block of", &job.blob, || {
                        block_client.stage_block(&id, len, data.clone().into(), None)
                    })
                    .await?;
                    shared.bytes_done.fetch_add(len, Ordering::Relaxed);
                    shared.report();
                    Ok::<_, BlobError>(())
                }
            })
            .buffer_unordered(settings.concurrency)
            .try_collect::<()>()
            .await?;

        let list = BlockLookupList {
            latest: Some(ids),
            ..Default::default()
        };
        let _permit = shared.permits.acquire().await.expect("never closed");
        let body: azure_core::http::RequestContent<BlockLookupList, azure_core::http::XmlFormat> =
            list.try_into().map_err(|e| to_blob_error(&job.blob, e))?;
        let options = BlockBlobClientCommitBlockListOptions {
            if_none_match,
            ..Default::default()
        };
        self.retrying("PUT block list of", &job.blob, || {
            block_client.commit_block_list(body.clone(), Some(options.clone()))
        })
        .await?;
        shared.files_done.fetch_add(1, Ordering::Relaxed);
        shared.report();
        Ok(job.size)
    }
}

/// One HTTP client for every uploader in the process: building a client loads the TLS roots
/// (milliseconds of CPU each), and sharing it lets uploads to one storage account reuse
/// connections, e.g. when a submission uploads many snapshots at once.
fn shared_transport() -> azure_core::http::Transport {
    static CLIENT: std::sync::OnceLock<Arc<dyn azure_core::http::HttpClient>> =
        std::sync::OnceLock::new();
    // azure_core's own default client (timeouts, no redirects), made once.
    let client = CLIENT.get_or_init(|| azure_core::http::new_http_client(None));
    azure_core::http::Transport::new(Arc::clone(client))
}

/// The indicator blob of a snapshot: the first blob name in sorted order.
pub fn indicator_blob(files: &[(PathBuf, String)]) -> Option<&str> {
    files.iter().map(|(_, b)| b.as_str()).min()
}

/// Lists the files to upload for `local` under `prefix`: every file of a folder (recursively,
/// following symbolic links) as `{prefix}/{relative posix path}`, or a single file as
/// `{prefix}/{file name}`. Sorted by blob name.
///
/// For a code snapshot, `prefix` is the source folder's own name; the caller drops ignored files.
pub async fn files_under(local: &Path, prefix: &str) -> Result<Vec<(PathBuf, String)>, BlobError> {
    let local = local.to_owned();
    let prefix = prefix.trim_matches('/').to_owned();
    tokio::task::spawn_blocking(move || walk(&local, &prefix))
        .await
        .map_err(|e| BlobError::Transport {
            blob: String::new(),
            message: format!("listing files failed: {e}"),
        })?
}

fn walk(local: &Path, prefix: &str) -> Result<Vec<(PathBuf, String)>, BlobError> {
    let join = |rel: &str| {
        if prefix.is_empty() {
            rel.to_owned()
        } else {
            format!("{prefix}/{rel}")
        }
    };
    let meta = std::fs::metadata(local).map_err(|source| BlobError::Read {
        path: local.to_owned(),
        source,
    })?;
    if !meta.is_dir() {
        let name =
            local
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| BlobError::NonUtf8Path {
                    path: local.to_owned(),
                })?;
        return Ok(vec![(local.to_owned(), join(name))]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(local).follow_links(true) {
        let entry = entry.map_err(|e| BlobError::Read {
            path: e.path().unwrap_or(local).to_owned(),
            source: e.into(),
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(local)
            .expect("walkdir yields paths under its root");
        let parts = rel
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| BlobError::NonUtf8Path {
                path: entry.path().to_owned(),
            })?;
        files.push((entry.path().to_owned(), join(&parts.join("/"))));
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}

#[derive(Clone, Copy)]
struct Settings {
    block_size: u64,
    concurrency: usize,
    overwrite: bool,
}

struct FileJob {
    local: PathBuf,
    blob: String,
    size: u64,
}

enum Outcome {
    Done(u64),
    Failed(BlobError),
    NotAttempted,
}

/// State shared by the tasks of one upload.
struct Shared {
    permits: Semaphore,
    stop: AtomicBool,
    files_done: AtomicUsize,
    bytes_done: AtomicU64,
    files_total: usize,
    bytes_total: u64,
    progress: Option<ProgressCallback>,
}

impl Shared {
    fn report(&self) {
        if let Some(progress) = &self.progress {
            progress(UploadProgress {
                files_done: self.files_done.load(Ordering::Relaxed),
                files_total: self.files_total,
                bytes_done: self.bytes_done.load(Ordering::Relaxed),
                bytes_total: self.bytes_total,
            });
        }
    }
}

/// Reads exactly `len` bytes at `offset`.
fn read_at(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; len as usize];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut buf, offset)?;
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            match file.seek_read(&mut buf[done..], offset + done as u64)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => done += n,
            }
        }
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::error::hint_for;
    use super::*;

    #[test]
    fn indicator_is_the_first_blob_name() {
        let files = vec![
            (PathBuf::from("/s/b.py"), "src/b.py".to_owned()),
            (PathBuf::from("/s/A.py"), "src/A.py".to_owned()),
            (PathBuf::from("/s/a/x.py"), "src/a/x.py".to_owned()),
        ];
        assert_eq!(indicator_blob(&files), Some("src/A.py"));
        assert_eq!(indicator_blob(&[]), None);
    }

    #[test]
    fn storage_errors_read_as_sentences() {
        let e = BlobError::Storage {
            blob: "src/a.py".into(),
            status: 403,
            code: Some("AuthenticationFailed".into()),
            message: "Server failed to authenticate the request.".into(),
            hint: hint_for(403, Some("AuthenticationFailed")).map(str::to_owned),
        };
        let text = e.to_string();
        assert!(text.starts_with(
            "blob `src/a.py`: storage answered HTTP 403 AuthenticationFailed: Server failed"
        ));
        assert!(text.contains("(hint: the SAS or account key was refused"));
        assert!(e.is_fatal_for_container());
        assert_eq!(e.status(), Some(403));
        assert_eq!(e.code(), Some("AuthenticationFailed"));
    }

    #[test]
    fn incomplete_uploads_count_every_file() {
        let e = BlobError::Incomplete(Box::new(IncompleteUpload {
            uploaded: 3,
            failed: vec![FailedFile {
                local: "a".into(),
                blob: "p/a".into(),
                error: BlobError::Transport {
                    blob: "p/a".into(),
                    message: "connection reset".into(),
                },
            }],
            not_attempted: vec![("b".into(), "p/b".into())],
        }));
        assert_eq!(
            e.to_string(),
            "2 of 5 files were not uploaded; first failure: blob `p/a`: request failed after retries: connection reset; 1 not attempted after that error"
        );
    }

    #[tokio::test]
    async fn folders_become_prefixed_posix_names() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("train_src");
        std::fs::create_dir_all(root.join("pkg/sub")).unwrap();
        std::fs::write(root.join("train.py"), "x").unwrap();
        std::fs::write(root.join("pkg/sub/m.py"), "y").unwrap();
        let names: Vec<String> = files_under(&root, "train_src")
            .await
            .unwrap()
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        assert_eq!(names, ["train_src/pkg/sub/m.py", "train_src/train.py"]);
        let single = files_under(&root.join("train.py"), "").await.unwrap();
        assert_eq!(single[0].1, "train.py");
        let missing = files_under(&root.join("nope"), "x").await.unwrap_err();
        assert!(missing.to_string().contains("cannot read"));
    }
}
