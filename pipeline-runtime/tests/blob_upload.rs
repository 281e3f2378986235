//! Uploads against a real Azurite: folders, large files in blocks, snapshots, partial failures.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use azure_storage_blob::models::BlockListType;
use azureml_pipelines_runtime::azure::blob::{
    BlobError, BlobUploader, SnapshotMarker, SnapshotUpload, UPLOAD_STATUS_KEY, UploadOptions,
    UploadProgress, files_under,
};
use azureml_pipelines_runtime::azure::sas::AccountKey;
use azureml_pipelines_testkit::azurite::Azurite;

/// Deterministic, incompressible-looking bytes.
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

async fn uploader(azurite: &Azurite, container: &str) -> BlobUploader {
    azurite.create_container(container).await;
    let key = AccountKey::new(azurite.account_key().to_owned()).unwrap();
    BlobUploader::with_account_key(
        azurite.blob_endpoint(),
        azurite.account_name(),
        container,
        &key,
    )
    .unwrap()
}

fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_arrives_byte_for_byte_under_its_prefix() {
    let azurite = Azurite::start();
    let up = uploader(&azurite, "code").await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("train_src");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("train.py", b"print('hi')\n".to_vec()),
        ("empty.txt", Vec::new()),
        ("pkg/__init__.py", Vec::new()),
        ("pkg/deep/er/model.py", bytes(70_000, 1)),
        ("données/été 2024.csv", bytes(5_000, 2)),
        ("日本語/ファイル.txt", "こんにちは".as_bytes().to_vec()),
        ("odd name+#%&=.bin", bytes(3, 3)),
    ];
    for (rel, content) in &files {
        write(&root, rel, content);
    }

    let seen = Arc::new(Mutex::new(Vec::<UploadProgress>::new()));
    let sink = Arc::clone(&seen);
    let opts = UploadOptions::default().with_progress(move |p| sink.lock().unwrap().push(p));
    let report = up.upload_path(&root, "train_src", &opts).await.unwrap();

    let total: u64 = files.iter().map(|(_, c)| c.len() as u64).sum();
    assert_eq!(report.files, files.len());
    assert_eq!(report.bytes, total);

    let mut expected: Vec<String> = files
        .iter()
        .map(|(rel, _)| format!("train_src/{rel}"))
        .collect();
    expected.sort();
    assert_eq!(azurite.list_blobs("code").await, expected);
    for (rel, content) in &files {
        let got = azurite.download("code", &format!("train_src/{rel}")).await;
        assert_eq!(&got, content, "content of {rel}");
    }

    let seen = seen.lock().unwrap();
    let last = seen
        .iter()
        .max_by_key(|p| (p.files_done, p.bytes_done))
        .unwrap();
    assert_eq!(
        *last,
        UploadProgress {
            files_done: files.len(),
            files_total: files.len(),
            bytes_done: total,
            bytes_total: total,
        }
    );
    assert_eq!(seen[0].files_done, 0, "progress starts at zero");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_file_goes_under_the_prefix_by_its_name() {
    let azurite = Azurite::start();
    let up = uploader(&azurite, "data").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "iris.csv", b"a,b\n1,2\n");
    let report = up
        .upload_path(
            &dir.path().join("iris.csv"),
            "datasets/iris/",
            &UploadOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(report.files, 1);
    assert_eq!(azurite.list_blobs("data").await, ["datasets/iris/iris.csv"]);
    assert_eq!(
        azurite.download("data", "datasets/iris/iris.csv").await,
        b"a,b\n1,2\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_goes_up_in_blocks() {
    let azurite = Azurite::start();
    let up = uploader(&azurite, "big").await;
    let dir = tempfile::tempdir().unwrap();
    // 5 blocks of 1,000,000 bytes and a partial sixth (a block size that is not whole MiB is
    // kept as given).
    let content = bytes(5_255_225, 7);
    write(dir.path(), "model.bin", &content);
    let opts = UploadOptions {
        block_size: 1_000_000,
        concurrency: 4,
        ..Default::default()
    };
    let files = vec![(dir.path().join("model.bin"), "models/model.bin".to_owned())];
    let report = up.upload_files(&files, &opts).await.unwrap();
    assert_eq!(report.bytes, content.len() as u64);

    assert_eq!(azurite.download("big", "models/model.bin").await, content);
    let blocks = block_list(&azurite, "big", "models/model.bin").await;
    assert_eq!(blocks.len(), 6, "committed blocks");
    assert!(
        blocks[..5].iter().all(|&size| size == 1_000_000),
        "{blocks:?}"
    );
    assert_eq!(blocks[5], 255_225);
}

/// Sizes of the committed blocks of a blob, in order.
async fn block_list(azurite: &Azurite, container: &str, blob: &str) -> Vec<u64> {
    let url = format!(
        "{}/{container}/{blob}?{}",
        azurite.blob_endpoint(),
        azurite.account_sas()
    );
    let client =
        azure_storage_blob::BlockBlobClient::new(url.parse().unwrap(), None, None).unwrap();
    let list = client
        .get_block_list(BlockListType::Committed, None)
        .await
        .unwrap()
        .into_model()
        .unwrap();
    list.committed_blocks
        .unwrap_or_default()
        .into_iter()
        .map(|b| b.size.unwrap() as u64)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_is_marked_and_a_second_upload_is_skipped() {
    let azurite = Azurite::start();
    let up = uploader(&azurite, "snapshots").await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("src");
    write(&root, "train.py", b"v1");
    write(&root, "Makefile", b"all:");
    write(&root, "lib/util.py", b"x = 1");
    let files = files_under(&root, "src").await.unwrap();
    let marker = SnapshotMarker {
        name: "3b7c0c1e-code".to_owned(),
        version: "1".to_owned(),
    };

    let first = up
        .upload_snapshot(&files, &marker, &UploadOptions::default())
        .await
        .unwrap();
    assert!(matches!(first, SnapshotUpload::Uploaded(r) if r.files == 3));

    // The indicator is the first blob name in sorted order: `src/Makefile`.
    let meta = azurite.blob_metadata("snapshots", "src/Makefile").await;
    assert_eq!(
        meta.get(UPLOAD_STATUS_KEY).map(String::as_str),
        Some("completed")
    );
    assert_eq!(meta.get("name"), Some(&marker.name));
    assert_eq!(meta.get("version"), Some(&marker.version));
    assert!(
        azurite
            .blob_metadata("snapshots", "src/train.py")
            .await
            .is_empty(),
        "only the indicator blob is marked"
    );

    // A second upload finds the marker and sends nothing: a changed file stays as it was.
    write(&root, "train.py", b"v2");
    let other = SnapshotMarker {
        name: "another".to_owned(),
        version: "9".to_owned(),
    };
    let second = up
        .upload_snapshot(&files, &other, &UploadOptions::default())
        .await
        .unwrap();
    assert_eq!(second, SnapshotUpload::AlreadyUploaded(marker.clone()));
    assert_eq!(azurite.download("snapshots", "src/train.py").await, b"v1");
    assert_eq!(
        up.snapshot_marker("src/Makefile").await.unwrap(),
        Some(marker)
    );
    assert_eq!(up.snapshot_marker("src/train.py").await.unwrap(), None);
    assert_eq!(up.snapshot_marker("src/missing.py").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_snapshot_is_uploaded_again() {
    let azurite = Azurite::start();
    let up = uploader(&azurite, "snapshots").await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("src");
    write(&root, "a.py", b"a");
    write(&root, "b.py", b"b");
    let files = files_under(&root, "src").await.unwrap();
    // A previous attempt got the files up but never marked the indicator.
    up.upload_files(&files, &UploadOptions::default())
        .await
        .unwrap();
    let marker = SnapshotMarker {
        name: "n".to_owned(),
        version: "1".to_owned(),
    };
    let outcome = up
        .upload_snapshot(&files, &marker, &UploadOptions::default())
        .await
        .unwrap();
    assert!(matches!(outcome, SnapshotUpload::Uploaded(r) if r.files == 2));
    assert_eq!(up.snapshot_marker("src/a.py").await.unwrap(), Some(marker));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_listed_and_the_other_files_still_arrive() {
    let azurite = Azurite::start();
    let up = uploader(&azurite, "partial").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok1.txt", b"1");
    write(dir.path(), "ok2.txt", b"2");
    let files: Vec<(PathBuf, String)> = vec![
        (dir.path().join("ok1.txt"), "p/ok1.txt".to_owned()),
        (dir.path().join("gone.txt"), "p/gone.txt".to_owned()),
        (dir.path().join("ok2.txt"), "p/ok2.txt".to_owned()),
    ];
    let err = up
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap_err();
    let BlobError::Incomplete(incomplete) = &err else {
        panic!("expected an incomplete upload, got {err}");
    };
    assert_eq!(incomplete.uploaded, 2);
    assert_eq!(incomplete.failed.len(), 1);
    assert_eq!(incomplete.failed[0].blob, "p/gone.txt");
    assert!(matches!(incomplete.failed[0].error, BlobError::Read { .. }));
    assert!(
        err.to_string().contains("1 of 3 files were not uploaded"),
        "{err}"
    );
    assert!(err.to_string().contains("gone.txt"), "{err}");
    assert_eq!(
        azurite.list_blobs("partial").await,
        ["p/ok1.txt", "p/ok2.txt"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_overwrite_an_existing_blob_is_kept_and_reported() {
    let azurite = Azurite::start();
    let up = uploader(&azurite, "keep").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.txt", b"old");
    write(dir.path(), "big.bin", &bytes(3 * 1024 * 1024, 9));
    let files = vec![
        (dir.path().join("small.txt"), "small.txt".to_owned()),
        (dir.path().join("big.bin"), "big.bin".to_owned()),
    ];
    let opts = UploadOptions {
        block_size: 1024 * 1024,
        ..Default::default()
    };
    up.upload_files(&files, &opts).await.unwrap();

    write(dir.path(), "small.txt", b"new");
    write(dir.path(), "big.bin", &bytes(3 * 1024 * 1024, 10));
    let keep = UploadOptions {
        overwrite: false,
        ..opts.clone()
    };
    let err = up.upload_files(&files, &keep).await.unwrap_err();
    let BlobError::Incomplete(incomplete) = &err else {
        panic!("expected an incomplete upload, got {err}");
    };
    assert_eq!(incomplete.failed.len(), 2, "{err}");
    for failure in &incomplete.failed {
        assert_eq!(failure.error.status(), Some(409), "{}", failure.error);
        assert_eq!(failure.error.code(), Some("BlobAlreadyExists"));
        assert!(failure.error.to_string().contains("overwrite is off"));
    }
    assert_eq!(azurite.download("keep", "small.txt").await, b"old");
    assert_eq!(
        azurite.download("keep", "big.bin").await,
        bytes(3 * 1024 * 1024, 9)
    );

    // With overwrite (the default) the new content replaces the old.
    up.upload_files(&files, &opts).await.unwrap();
    assert_eq!(azurite.download("keep", "small.txt").await, b"new");
    assert_eq!(
        azurite.download("keep", "big.bin").await,
        bytes(3 * 1024 * 1024, 10)
    );
}
