//! Starts a real Azurite blob service on 127.0.0.1 for tests.
//!
//! ```no_run
//! # async fn demo() {
//! use azureml_pipelines_testkit::azurite::Azurite;
//!
//! let azurite = Azurite::start(); // killed when dropped
//! azurite.create_container("snapshots").await;
//! // ... upload to `azurite.blob_endpoint()` with `azurite.account_key()` ...
//! let names = azurite.list_blobs("snapshots").await;
//! # }
//! ```
//!
//! The executable is found through `AZURITE_BIN`, else `node_modules/.bin/azurite-blob` in the
//! repository root (`npm ci` or `npm install` there), else `azurite-blob` on `PATH`. Azurite keeps
//! everything in memory, listens on a port the OS picks, accepts any `x-ms-version`
//! (`--skipApiVersionCheck`) and sends no telemetry.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use azure_core::credentials::Secret;
use azure_core::http::Url;
use azure_storage_blob::BlobContainerClient;
use azure_storage_blob::models::BlobClientGetPropertiesResultHeaders;
use futures::TryStreamExt;

/// How to install Azurite, for error messages.
const INSTALL_HINT: &str = "install it with `npm ci` (or `npm install`) in the repository root, \
     or point AZURITE_BIN at an `azurite-blob` executable";

/// How long Azurite may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why Azurite could not be started.
#[derive(Debug)]
pub struct AzuriteError(String);

impl std::fmt::Display for AzuriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AzuriteError {}

/// A running Azurite blob service, killed when dropped.
pub struct Azurite {
    child: Child,
    port: u16,
    endpoint: String,
}

impl std::fmt::Debug for Azurite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Azurite")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Azurite {
    /// Azurite's well-known development account.
    pub const ACCOUNT_NAME: &'static str = "devstoreaccount1";
    /// Azurite's published development account key (not a secret).
    pub const ACCOUNT_KEY: &'static str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// Starts Azurite and waits until it accepts connections.
    ///
    /// # Panics
    ///
    /// When Azurite is not installed or does not start, with a message saying how to install it.
    pub fn start() -> Self {
        match Self::try_start() {
            Ok(azurite) => azurite,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts Azurite and waits until it accepts connections.
    pub fn try_start() -> Result<Self, AzuriteError> {
        let bin = find_executable().or_else(install_locally).ok_or_else(|| {
            AzuriteError(format!(
                "Azurite (npm package `azurite`) is not installed: {INSTALL_HINT}"
            ))
        })?;
        let mut child = Command::new(&bin)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "0",
                "--skipApiVersionCheck",
                "--inMemoryPersistence",
                "--extentMemoryLimit",
                "4096",
                "--disableTelemetry",
                "--silent",
            ])
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                AzuriteError(format!(
                    "cannot run `{}`: {e} (Azurite needs `node` on PATH); {INSTALL_HINT}",
                    bin.display()
                ))
            })?;

        // Azurite prints the port it got ("... successfully listens on http://127.0.0.1:PORT").
        // Its output is drained for as long as it runs, so it never blocks on a full pipe.
        let (port_tx, port_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .rsplit_once("successfully listens on http://127.0.0.1:")
                    .and_then(|(_, port)| port.trim().parse::<u16>().ok())
                {
                    let _ = port_tx.send(port);
                }
            }
        });
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&stderr_text);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut stderr = stderr;
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut text = sink.lock().unwrap_or_else(|e| e.into_inner());
                if text.len() < 64 * 1024 {
                    text.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });

        let deadline = Instant::now() + START_TIMEOUT;
        let port = loop {
            match port_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(port) => break port,
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Ok(Some(status)) = child.try_wait() {
                        std::thread::sleep(Duration::from_millis(100));
                        return Err(AzuriteError(format!(
                            "Azurite (`{}`) exited with {status} before listening: {}",
                            bin.display(),
                            stderr_text.lock().unwrap_or_else(|e| e.into_inner()).trim()
                        )));
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(AzuriteError(format!(
                        "Azurite (`{}`) did not start listening within {START_TIMEOUT:?}: {}",
                        bin.display(),
                        stderr_text.lock().unwrap_or_else(|e| e.into_inner()).trim()
                    )));
                }
            }
        };
        let mut azurite = Self {
            child,
            port,
            endpoint: format!("http://127.0.0.1:{port}/{}", Self::ACCOUNT_NAME),
        };
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let _ = azurite.child.kill();
                return Err(AzuriteError(format!(
                    "Azurite said it listens on port {port} but accepts no connection"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(azurite)
    }

    /// The account name, `devstoreaccount1`.
    pub fn account_name(&self) -> &str {
        Self::ACCOUNT_NAME
    }

    /// The account key (base64).
    pub fn account_key(&self) -> &str {
        Self::ACCOUNT_KEY
    }

    /// The blob service endpoint, `http://127.0.0.1:{port}/devstoreaccount1`.
    pub fn blob_endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The port Azurite listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// An account SAS query string (all blob permissions, one hour) for the helpers below and for
    /// tests that need to talk to Azurite behind the back of the code under test.
    pub fn account_sas(&self) -> String {
        let expiry =
            azure_core::time::OffsetDateTime::from(SystemTime::now() + Duration::from_secs(3600))
                .replace_nanosecond(0)
                .expect("0 ns is valid");
        let se = azure_core::time::to_rfc3339(&expiry);
        let (sp, ss, srt, sv) = ("rwdlac", "b", "sco", "2022-11-02");
        // Account SAS string-to-sign, version 2020-12-06 and later.
        let string_to_sign = format!(
            "{}\n{sp}\n{ss}\n{srt}\n\n{se}\n\n\n{sv}\n\n",
            Self::ACCOUNT_NAME
        );
        let sig = azure_core::hmac::hmac_sha256(&string_to_sign, &Secret::new(Self::ACCOUNT_KEY))
            .expect("the development key is base64");
        let mut url = Url::parse("http://x/").expect("constant URL");
        url.query_pairs_mut()
            .append_pair("sv", sv)
            .append_pair("ss", ss)
            .append_pair("srt", srt)
            .append_pair("sp", sp)
            .append_pair("se", &se)
            .append_pair("sig", &sig);
        url.query().expect("just set").to_owned()
    }

    fn container_client(&self, container: &str) -> BlobContainerClient {
        let url = Url::parse(&format!(
            "{}/{container}?{}",
            self.endpoint,
            self.account_sas()
        ))
        .expect("a valid container URL");
        // The HTTP stack is built without a default TLS provider (as in the runtime).
        let _ = rustls::crypto::ring::default_provider().install_default();
        BlobContainerClient::new(url, None, None).expect("a valid container client")
    }

    /// Creates a container.
    ///
    /// # Panics
    ///
    /// When Azurite refuses.
    pub async fn create_container(&self, container: &str) {
        self.container_client(container)
            .create(None)
            .await
            .unwrap_or_else(|e| panic!("creating container `{container}` in Azurite: {e}"));
    }

    /// The names of all blobs in a container, sorted.
    ///
    /// # Panics
    ///
    /// When Azurite refuses.
    pub async fn list_blobs(&self, container: &str) -> Vec<String> {
        let client = self.container_client(container);
        let mut pages = client
            .list_blobs(None)
            .expect("a valid list request")
            .into_pages();
        let mut names = Vec::new();
        while let Some(page) = pages
            .try_next()
            .await
            .unwrap_or_else(|e| panic!("listing blobs of `{container}` in Azurite: {e}"))
        {
            let page = page.into_model().expect("a list blobs page");
            names.extend(page.blob_items.into_iter().filter_map(|b| b.name));
        }
        names.sort();
        names
    }

    /// Downloads a blob.
    ///
    /// # Panics
    ///
    /// When Azurite refuses (for example, the blob does not exist).
    pub async fn download(&self, container: &str, blob: &str) -> Vec<u8> {
        let rsp = self
            .container_client(container)
            .blob_client(blob)
            .download(None)
            .await
            .unwrap_or_else(|e| panic!("downloading `{container}/{blob}` from Azurite: {e}"));
        rsp.body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("reading `{container}/{blob}` from Azurite: {e}"))
            .to_vec()
    }

    /// The metadata of a blob.
    ///
    /// # Panics
    ///
    /// When Azurite refuses (for example, the blob does not exist).
    pub async fn blob_metadata(&self, container: &str, blob: &str) -> HashMap<String, String> {
        self.container_client(container)
            .blob_client(blob)
            .get_properties(None)
            .await
            .unwrap_or_else(|e| panic!("reading properties of `{container}/{blob}`: {e}"))
            .metadata()
            .expect("readable metadata headers")
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// On a fresh clone, installs the pinned Azurite from `package-lock.json` into the repository's
/// `node_modules` with `npm ci` (once, under a file lock, so parallel test processes do not
/// race), then finds it again.
fn install_locally() -> Option<PathBuf> {
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    if !repo_root.join("package-lock.json").is_file() {
        return None;
    }
    let lock =
        std::fs::File::create(std::env::temp_dir().join("azureml-pipelines-npm-ci.lock")).ok()?;
    lock.lock().ok()?;
    if let Some(found) = find_executable() {
        return Some(found);
    }
    eprintln!(
        "Azurite is not installed; running `npm ci` in {} (once)",
        repo_root.display()
    );
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(repo_root)
        .stdin(Stdio::null())
        .status()
        .ok()?;
    drop(lock);
    if status.success() {
        find_executable()
    } else {
        None
    }
}

/// `AZURITE_BIN`, else `node_modules/.bin/azurite-blob` in the repository root, else
/// `azurite-blob` on `PATH`.
fn find_executable() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("AZURITE_BIN").filter(|b| !b.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let local = repo_root.join("node_modules/.bin/azurite-blob");
    if local.is_file() {
        return Some(local);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("azurite-blob"))
        .find(|candidate| candidate.is_file())
}
