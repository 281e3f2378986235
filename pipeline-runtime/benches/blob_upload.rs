//! Upload throughput against a local Azurite: our `BlobUploader` next to a plain concurrent PUT
//! loop (same concurrency, same block size, same SAS, same files).
//!
//! (a) 1,000 small files of 1–8 KB: `Put Blob` each.
//! (b) one 200 MB file: `Put Block` in parallel, then `Put Block List`.
//!
//! The bar: ours within 20% of the plain loop (ratio ≥ 0.80). Run with
//! `cargo bench -p azureml-pipelines-runtime --bench blob_upload`; `BLOB_BENCH_ROUNDS` (default 3)
//! sets the rounds per side (best round reported), `BLOB_BENCH_BIG_MB` (default 200) the big file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use azure_core::http::Url;
use azureml_pipelines_runtime::azure::blob::{
    BlobUploader, DEFAULT_BLOCK_SIZE, DEFAULT_CONCURRENCY, UploadOptions,
};
use azureml_pipelines_runtime::azure::sas::{AccountKey, ContainerSas, SasUrl};
use azureml_pipelines_testkit::azurite::Azurite;
use futures::{StreamExt, TryStreamExt, stream};

/// The `x-ms-version` the storage client sends, so both sides ask Azurite for the same thing.
const X_MS_VERSION: &str = "2026-04-06";
const SMALL_FILES: usize = 1000;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

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

fn main() {
    let rounds = env_or("BLOB_BENCH_ROUNDS", 3).max(1);
    let big_mb = env_or("BLOB_BENCH_BIG_MB", 200).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(rounds, big_mb));
}

async fn run(rounds: usize, big_mb: usize) {
    let azurite = Azurite::start();
    azurite.create_container("bench").await;
    let key = AccountKey::new(azurite.account_key().to_owned()).expect("the dev key");
    let token = ContainerSas::new(
        azurite.account_name(),
        "bench",
        SystemTime::now() + Duration::from_secs(3 * 3600),
    )
    .allow_http()
    .sign(&key)
    .expect("a SAS");
    let sas = SasUrl::for_container(azurite.blob_endpoint(), "bench", &token).expect("a SAS URL");
    let ours = BlobUploader::new(sas.clone()).expect("an uploader");
    let plain = reqwest::Client::new();

    let dir = tempfile::tempdir().expect("a temp dir");
    let small: Vec<(PathBuf, String)> = (0..SMALL_FILES)
        .map(|i| {
            let len = 1024 + (i * 7919) % (7 * 1024);
            let path = dir.path().join(format!("small/{:03}/f{i}.py", i % 37));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes(len, i as u64)).unwrap();
            (path, format!("small/f{i}.py"))
        })
        .collect();
    let small_bytes: u64 = small
        .iter()
        .map(|(p, _)| std::fs::metadata(p).unwrap().len())
        .sum();
    let big_path = dir.path().join("big.bin");
    let big_len = big_mb * 1024 * 1024;
    std::fs::write(&big_path, bytes(big_len, 42)).unwrap();
    let big = vec![(big_path.clone(), "big/big.bin".to_owned())];

    let opts = UploadOptions::default();
    println!(
        "blob upload bench against Azurite {}: concurrency {}, block size {} MiB, best of {rounds}",
        azurite.blob_endpoint(),
        opts.concurrency,
        opts.block_size / (1024 * 1024)
    );

    // Warm both sides up (connections, Azurite's JIT).
    ours.upload_files(&small[..100], &opts).await.unwrap();
    plain_put_blobs(&plain, &sas, &small[..100], DEFAULT_CONCURRENCY)
        .await
        .unwrap();

    let mut ours_small = Duration::MAX;
    let mut plain_small = Duration::MAX;
    let mut ours_big = Duration::MAX;
    let mut plain_big = Duration::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        ours.upload_files(&small, &opts)
            .await
            .expect("our small upload");
        ours_small = ours_small.min(t.elapsed());

        let t = Instant::now();
        plain_put_blobs(&plain, &sas, &small, DEFAULT_CONCURRENCY)
            .await
            .expect("plain small upload");
        plain_small = plain_small.min(t.elapsed());

        let t = Instant::now();
        ours.upload_files(&big, &opts)
            .await
            .expect("our big upload");
        ours_big = ours_big.min(t.elapsed());

        let t = Instant::now();
        plain_put_blocks(
            &plain,
            &sas,
            &big_path,
            "big/big.bin",
            DEFAULT_BLOCK_SIZE,
            DEFAULT_CONCURRENCY,
        )
        .await
        .expect("plain big upload");
        plain_big = plain_big.min(t.elapsed());
    }
    assert_eq!(
        azurite.download("bench", "big/big.bin").await.len(),
        big_len,
        "the big blob arrived whole"
    );

    let mb = |b: u64, d: Duration| b as f64 / (1024.0 * 1024.0) / d.as_secs_f64();
    let fps = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!();
    println!(
        "(a) {SMALL_FILES} small files, {:.1} MB in all",
        small_bytes as f64 / (1024.0 * 1024.0)
    );
    println!(
        "    ours : {:>8.0} files/s {:>8.1} MB/s  ({:.3} s)",
        fps(SMALL_FILES, ours_small),
        mb(small_bytes, ours_small),
        ours_small.as_secs_f64()
    );
    println!(
        "    plain: {:>8.0} files/s {:>8.1} MB/s  ({:.3} s)",
        fps(SMALL_FILES, plain_small),
        mb(small_bytes, plain_small),
        plain_small.as_secs_f64()
    );
    let ratio_small = plain_small.as_secs_f64() / ours_small.as_secs_f64();
    println!(
        "    ratio ours/plain throughput: {ratio_small:.2} (bar >= 0.80: {})",
        verdict(ratio_small)
    );
    println!("(b) one {big_mb} MB file");
    println!(
        "    ours : {:>8.1} MB/s  ({:.3} s)",
        mb(big_len as u64, ours_big),
        ours_big.as_secs_f64()
    );
    println!(
        "    plain: {:>8.1} MB/s  ({:.3} s)",
        mb(big_len as u64, plain_big),
        plain_big.as_secs_f64()
    );
    let ratio_big = plain_big.as_secs_f64() / ours_big.as_secs_f64();
    println!(
        "    ratio ours/plain throughput: {ratio_big:.2} (bar >= 0.80: {})",
        verdict(ratio_big)
    );
}

fn verdict(ratio: f64) -> &'static str {
    if ratio >= 0.8 { "met" } else { "MISSED" }
}

/// The baseline for small files: read each file, `Put Blob` it, `concurrency` at a time.
async fn plain_put_blobs(
    client: &reqwest::Client,
    sas: &SasUrl,
    files: &[(PathBuf, String)],
    concurrency: usize,
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
            check(rsp.status())
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await
}

/// The baseline for a big file: read and `Put Block` each block, `concurrency` at a time, then
/// `Put Block List`.
async fn plain_put_blocks(
    client: &reqwest::Client,
    sas: &SasUrl,
    path: &Path,
    blob: &str,
    block_size: u64,
    concurrency: usize,
) -> Result<(), String> {
    let file = Arc::new(std::fs::File::open(path).map_err(|e| e.to_string())?);
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let ids: Vec<String> = (0..size.div_ceil(block_size))
        .map(|i| azure_core::base64::encode(format!("plain-block-{i:08}")))
        .collect();
    let blob_url = sas.expose_blob_url(blob);
    stream::iter(ids.iter().enumerate())
        .map(|(i, id)| {
            let file = Arc::clone(&file);
            let mut url: Url = blob_url.clone();
            url.query_pairs_mut()
                .append_pair("comp", "block")
                .append_pair("blockid", id);
            async move {
                let offset = i as u64 * block_size;
                let len = block_size.min(size - offset);
                let data = tokio::task::spawn_blocking(move || {
                    use std::os::unix::fs::FileExt;
                    let mut buf = vec![0; len as usize];
                    file.read_exact_at(&mut buf, offset).map(|()| buf)
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
                let rsp = client
                    .put(url)
                    .header("x-ms-version", X_MS_VERSION)
                    .body(data)
                    .send()
                    .await
                    .map_err(|e| e.without_url().to_string())?;
                check(rsp.status())
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<()>()
        .await?;
    let mut xml = String::from(r#"<?xml version="1.0" encoding="utf-8"?><BlockList>"#);
    for id in &ids {
        xml.push_str(&format!("<Latest>{id}</Latest>"));
    }
    xml.push_str("</BlockList>");
    let mut url = blob_url;
    url.query_pairs_mut().append_pair("comp", "blocklist");
    let rsp = client
        .put(url)
        .header("x-ms-version", X_MS_VERSION)
        .header("content-type", "application/xml")
        .body(xml)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    check(rsp.status())
}

fn check(status: reqwest::StatusCode) -> Result<(), String> {
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}
