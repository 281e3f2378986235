//! SAS tokens we sign, checked by a real Azurite; secrets kept out of every message.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use azureml_pipelines_runtime::azure::blob::{BlobError, BlobUploader, Retries, UploadOptions};
use azureml_pipelines_runtime::azure::sas::{
    AccountKey, ContainerSas, SasPermissions, SasToken, SasUrl,
};
use azureml_pipelines_testkit::azurite::Azurite;

/// A well-formed key that is not Azurite's.
const WRONG_KEY: &str =
    "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk=";

fn in_an_hour() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

fn key(text: &str) -> AccountKey {
    AccountKey::new(text.to_owned()).unwrap()
}

fn sig_of(token: &SasToken) -> String {
    let url = format!("http://x/?{}", token.expose());
    let url = azure_core::http::Url::parse(&url).unwrap();
    let sig = url
        .query_pairs()
        .find(|(k, _)| k == "sig")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(sig.len() > 20);
    sig
}

/// Some small files in a temporary folder.
fn some_files(n: usize) -> (tempfile::TempDir, Vec<(PathBuf, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let files = (0..n)
        .map(|i| {
            let path = dir.path().join(format!("f{i}.txt"));
            std::fs::write(&path, format!("file {i}")).unwrap();
            (path, format!("p/f{i}.txt"))
        })
        .collect();
    (dir, files)
}

/// Asserts that no rendering of `err` shows the signature or a key.
fn assert_no_secrets(err: &BlobError, sig: &str) {
    for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!shown.contains(sig), "signature leaked: {shown}");
        assert!(!shown.contains(Azurite::ACCOUNT_KEY), "key leaked: {shown}");
        assert!(!shown.contains(WRONG_KEY), "key leaked: {shown}");
    }
}

fn first_failure(err: &BlobError) -> &BlobError {
    match err {
        BlobError::Incomplete(incomplete) => &incomplete.failed[0].error,
        other => panic!("expected an incomplete upload, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_sas_we_sign_is_accepted() {
    let azurite = Azurite::start();
    azurite.create_container("signed").await;
    let token = ContainerSas::new(azurite.account_name(), "signed", in_an_hour())
        .allow_http()
        .sign(&key(azurite.account_key()))
        .unwrap();
    let url = SasUrl::for_container(azurite.blob_endpoint(), "signed", &token).unwrap();
    // The form Azure ML hands out (`sasUri`) parses to the same thing.
    let parsed: SasUrl = url.expose_url().as_str().parse().unwrap();
    let (_dir, files) = some_files(3);
    let report = BlobUploader::new(parsed)
        .unwrap()
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap();
    assert_eq!(report.files, 3);
    assert_eq!(
        azurite.list_blobs("signed").await,
        ["p/f0.txt", "p/f1.txt", "p/f2.txt"]
    );
    assert_eq!(azurite.download("signed", "p/f1.txt").await, b"file 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_sas_reaches_its_blob_only() {
    let azurite = Azurite::start();
    azurite.create_container("one").await;
    let token = ContainerSas::new(azurite.account_name(), "one", in_an_hour())
        .blob("p/f0.txt")
        .permissions(SasPermissions {
            list: false,
            ..SasPermissions::UPLOAD
        })
        .allow_http()
        .sign(&key(azurite.account_key()))
        .unwrap();
    let up =
        BlobUploader::new(SasUrl::for_container(azurite.blob_endpoint(), "one", &token).unwrap())
            .unwrap();
    let (_dir, files) = some_files(2);
    up.upload_files(&files[..1], &UploadOptions::default())
        .await
        .unwrap();
    let err = up
        .upload_files(&files[1..], &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(first_failure(&err).status(), Some(403), "{err}");
    assert_eq!(azurite.list_blobs("one").await, ["p/f0.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_rejected_with_a_clear_error_and_the_rest_not_attempted() {
    let azurite = Azurite::start();
    azurite.create_container("guarded").await;
    let token = ContainerSas::new(azurite.account_name(), "guarded", in_an_hour())
        .allow_http()
        .sign(&key(WRONG_KEY))
        .unwrap();
    let sig = sig_of(&token);
    let url = SasUrl::for_container(azurite.blob_endpoint(), "guarded", &token).unwrap();
    let up = BlobUploader::new(url.clone()).unwrap();
    let (_dir, files) = some_files(5);
    let opts = UploadOptions {
        concurrency: 1,
        ..Default::default()
    };
    let err = up.upload_files(&files, &opts).await.unwrap_err();

    let BlobError::Incomplete(incomplete) = &err else {
        panic!("expected an incomplete upload, got {err}");
    };
    assert_eq!(incomplete.uploaded, 0);
    assert_eq!(incomplete.failed.len(), 1, "{err}");
    assert_eq!(incomplete.not_attempted.len(), 4, "{err}");
    let first = &incomplete.failed[0].error;
    assert_eq!(first.status(), Some(403));
    // Azure answers `AuthenticationFailed`; Azurite `AuthorizationFailure`.
    assert!(
        matches!(
            first.code(),
            Some("AuthenticationFailed" | "AuthorizationFailure")
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("blob `p/f0.txt`: storage answered HTTP 403 Auth"),
        "{text}"
    );
    assert!(text.contains("hint: the SAS or account key was"), "{text}");
    assert!(text.contains("4 not attempted"), "{text}");
    assert_no_secrets(&err, &sig);
    assert!(azurite.list_blobs("guarded").await.is_empty());

    // The completion check says the same thing, not "not uploaded yet".
    let err = up.snapshot_marker("p/f0.txt").await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert_no_secrets(&err, &sig);

    // Nothing that shows the uploader or its URL shows the signature.
    for shown in [
        format!("{up:?}"),
        format!("{url}"),
        format!("{url:?}"),
        format!("{token}"),
        format!("{token:?}"),
        format!("{:?}", key(WRONG_KEY)),
        up.container_url().to_owned(),
    ] {
        assert!(!shown.contains(&sig), "{shown}");
        assert!(!shown.contains(WRONG_KEY), "{shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_sas_is_rejected() {
    let azurite = Azurite::start();
    azurite.create_container("late").await;
    let token = ContainerSas::new(
        azurite.account_name(),
        "late",
        SystemTime::now() - Duration::from_secs(600),
    )
    .allow_http()
    .sign(&key(azurite.account_key()))
    .unwrap();
    let up =
        BlobUploader::new(SasUrl::for_container(azurite.blob_endpoint(), "late", &token).unwrap())
            .unwrap();
    let (_dir, files) = some_files(1);
    let err = up
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(first_failure(&err).status(), Some(403), "{err}");
    assert!(err.to_string().contains("hint:"), "{err}");
    assert_no_secrets(&err, &sig_of(&token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_sas_cannot_write() {
    let azurite = Azurite::start();
    azurite.create_container("readonly").await;
    let token = ContainerSas::new(azurite.account_name(), "readonly", in_an_hour())
        .permissions(SasPermissions::READ)
        .allow_http()
        .sign(&key(azurite.account_key()))
        .unwrap();
    let up = BlobUploader::new(
        SasUrl::for_container(azurite.blob_endpoint(), "readonly", &token).unwrap(),
    )
    .unwrap();
    let (_dir, files) = some_files(1);
    let err = up
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap_err();
    let first = first_failure(&err);
    assert_eq!(first.status(), Some(403), "{err}");
    assert_eq!(
        first.code(),
        Some("AuthorizationPermissionMismatch"),
        "{err}"
    );
    assert!(err.to_string().contains("lacks a permission"), "{err}");
    assert!(azurite.list_blobs("readonly").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_only_sas_is_refused_over_http() {
    let azurite = Azurite::start();
    azurite.create_container("tls").await;
    let token = ContainerSas::new(azurite.account_name(), "tls", in_an_hour())
        .sign(&key(azurite.account_key()))
        .unwrap();
    let up =
        BlobUploader::new(SasUrl::for_container(azurite.blob_endpoint(), "tls", &token).unwrap())
            .unwrap();
    let (_dir, files) = some_files(1);
    let err = up
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(first_failure(&err).status(), Some(403), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_container_is_named_in_the_error() {
    let azurite = Azurite::start();
    let up = BlobUploader::with_account_key(
        azurite.blob_endpoint(),
        azurite.account_name(),
        "nowhere",
        &key(azurite.account_key()),
    )
    .unwrap();
    let (_dir, files) = some_files(3);
    let opts = UploadOptions {
        concurrency: 1,
        ..Default::default()
    };
    let err = up.upload_files(&files, &opts).await.unwrap_err();
    let first = first_failure(&err);
    assert_eq!(first.status(), Some(404), "{err}");
    assert_eq!(first.code(), Some("ContainerNotFound"));
    assert!(
        err.to_string().contains("the container does not exist"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_keep_the_signature_out_of_the_message() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = ContainerSas::new("devstoreaccount1", "c", in_an_hour())
        .allow_http()
        .sign(&key(Azurite::ACCOUNT_KEY))
        .unwrap();
    let sig = sig_of(&token);
    let url = SasUrl::for_container(
        &format!("http://127.0.0.1:{port}/devstoreaccount1"),
        "c",
        &token,
    )
    .unwrap();
    let up = BlobUploader::new(url)
        .unwrap()
        .with_retries(Retries {
            max_retries: 1,
            initial_delay: Duration::from_millis(10),
            max_elapsed: Duration::from_secs(2),
            ..Retries::default()
        })
        .unwrap();
    let (_dir, files) = some_files(2);
    let err = up
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap_err();
    let BlobError::Incomplete(incomplete) = &err else {
        panic!("expected an incomplete upload, got {err}");
    };
    assert_eq!(incomplete.failed.len(), 2, "both files are reported: {err}");
    assert!(
        matches!(incomplete.failed[0].error, BlobError::Transport { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("request failed after retries"),
        "{err}"
    );
    assert_no_secrets(&err, &sig);
}
