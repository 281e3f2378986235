//! `data create` of a 1,000-file folder against a local Azurite (through the fake Azure ML for
//! the control plane), next to a plain concurrent PUT loop of the same files (same concurrency,
//! same SAS, same x-ms-version); then the same `data create` again, which must upload nothing.
//!
//! The bars: ours at least 0.8× the plain loop's throughput; the second create sends no file.
//! Run with `cargo bench -p azureml-pipelines-runtime --bench data_upload`;
//! `DATA_BENCH_ROUNDS` (default 3) sets the rounds per side (best round reported). Each round of
//! ours uploads a fresh copy (one byte differs) so that nothing is skipped.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use azure_core::http::Url;
use azureml_pipelines_runtime::azure::blob::{DEFAULT_CONCURRENCY, UploadOptions};
use azureml_pipelines_runtime::azure::sas::{AccountKey, ContainerSas, SasUrl};
use azureml_pipelines_runtime::azure::{ArmClientOptions, Credential, Workspace, WorkspaceConfig};
use azureml_pipelines_runtime::wire::data::{DataType, DataVersion};
use azureml_pipelines_testkit::azurite::Azurite;
use azureml_pipelines_testkit::fake_aml::FakeAzureMl;
use futures::{StreamExt, TryStreamExt, stream};

const X_MS_VERSION: &str = "2026-04-06";
const FILES: usize = 1000;
const CONTAINER: &str = "azureml-blobstore-bench";

fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A folder of `FILES` files of 1–8 KB; `variant` changes one byte, so the object hash differs.
fn folder(root: &Path, variant: usize) -> (PathBuf, Vec<(PathBuf, String)>, u64) {
    let dir = root.join(format!("round-{variant}")).join("dataset");
    let mut files = Vec::new();
    let mut total = 0;
    for i in 0..FILES {
        let len = 1024 + (i * 7919) % (7 * 1024);
        let mut data = bytes(len, i as u64);
        if i == 0 {
            data[0] = variant as u8;
        }
        let path = dir.join(format!("part-{:02}/f{i}.csv", i % 20));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &data).unwrap();
        total += len as u64;
        files.push((path, format!("plain-{variant}/f{i}.csv")));
    }
    (dir, files, total)
}

fn main() {
    let rounds = std::env::var("DATA_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3usize)
        .max(1);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(run(rounds));
}

async fn run(rounds: usize) {
    let azurite = Azurite::start();
    let fake = FakeAzureMl::start_on_azurite(&azurite, CONTAINER).await;
    let o = fake.options();
    let config = WorkspaceConfig::new(o.subscription_id, o.resource_group, o.workspace_name)
        .with_arm_endpoint(Url::parse(&fake.url()).expect("a URL"))
        .with_blob_endpoint(Url::parse(azurite.blob_endpoint()).expect("a URL"));
    let ws = Workspace::new(
        config,
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        ArmClientOptions::default(),
    )
    .expect("a workspace");
    let key = AccountKey::new(azurite.account_key().to_owned()).expect("the dev key");
    let token = ContainerSas::new(
        azurite.account_name(),
        CONTAINER,
        SystemTime::now() + Duration::from_secs(3 * 3600),
    )
    .allow_http()
    .sign(&key)
    .expect("a SAS");
    let sas = SasUrl::for_container(azurite.blob_endpoint(), CONTAINER, &token).expect("a SAS");
    let plain = reqwest::Client::new();
    let tmp = tempfile::tempdir().expect("a temp dir");
    let opts = UploadOptions::default();
    println!(
        "data create bench against Azurite {}: {FILES} files, concurrency {}, best of {rounds}",
        azurite.blob_endpoint(),
        opts.concurrency
    );

    // Warm-up: connections, Azurite.
    let (warm, warm_files, _) = folder(tmp.path(), 250);
    ws.data()
        .upload_local(&warm, "warm-up", &opts)
        .await
        .expect("warm-up");
    plain_put_blobs(&plain, &sas, &warm_files[..100])
        .await
        .unwrap();

    let (mut ours, mut base, mut total) = (Duration::MAX, Duration::MAX, 0);
    let mut last = PathBuf::new();
    for round in 0..rounds {
        let (dir, files, bytes) = folder(tmp.path(), round);
        total = bytes;
        // `data create`: hash, find the default datastore and its key, upload, mark, register.
        let t = Instant::now();
        let up = ws
            .data()
            .upload_local(&dir, "bench", &opts)
            .await
            .expect("our upload");
        ws.data()
            .create_version(
                "bench",
                &round.to_string(),
                &DataVersion::new(DataType::UriFolder, up.uri.clone()),
            )
            .await
            .expect("register");
        ours = ours.min(t.elapsed());
        assert_eq!(
            up.uploaded.map(|r| r.files),
            Some(FILES),
            "all files went up"
        );

        let t = Instant::now();
        plain_put_blobs(&plain, &sas, &files).await.expect("plain");
        base = base.min(t.elapsed());
        last = dir;
    }

    // The same folder again: nothing is sent.
    let t = Instant::now();
    let again = ws
        .data()
        .upload_local(&last, "bench", &opts)
        .await
        .expect("second create");
    let second = t.elapsed();

    let fps = |d: Duration| FILES as f64 / d.as_secs_f64();
    let mb = |d: Duration| total as f64 / (1024.0 * 1024.0) / d.as_secs_f64();
    println!(
        "data create (ours): {:>7.0} files/s {:>6.1} MB/s ({:.3} s)",
        fps(ours),
        mb(ours),
        ours.as_secs_f64()
    );
    println!(
        "plain PUT loop    : {:>7.0} files/s {:>6.1} MB/s ({:.3} s)",
        fps(base),
        mb(base),
        base.as_secs_f64()
    );
    let ratio = base.as_secs_f64() / ours.as_secs_f64();
    println!(
        "ratio ours/plain throughput: {ratio:.2} (bar >= 0.80: {})",
        if ratio >= 0.8 { "met" } else { "MISSED" }
    );
    let sent = again.uploaded.map_or(0, |r| r.files);
    println!(
        "second data create of the same folder: {sent} file(s) uploaded in {:.3} s (bar: 0: {})",
        second.as_secs_f64(),
        if sent == 0 { "met" } else { "MISSED" }
    );
}

/// The baseline: read each file, `Put Blob` it, `DEFAULT_CONCURRENCY` at a time.
async fn plain_put_blobs(
    client: &reqwest::Client,
    sas: &SasUrl,
    files: &[(PathBuf, String)],
) -> Result<(), String> {
    stream::iter(files)
        .map(|(path, blob)| async move {
            let data = tokio::fs::read(path).await.map_err(|e| e.to_string())?;
            let rsp = client
                .put(sas.expose_blob_url(blob))
                .header("x-ms-version", X_MS_VERSION)
                .header("x-ms-blob-type", "BlockBlob")
                .body(data)
                .send()
                .await
                .map_err(|e| e.without_url().to_string())?;
            if rsp.status().is_success() {
                Ok(())
            } else {
                Err(format!("HTTP {}", rsp.status()))
            }
        })
        .buffer_unordered(DEFAULT_CONCURRENCY)
        .try_collect()
        .await
}
