//! Retries, against a tiny blob endpoint on 127.0.0.1 that fails on purpose: 503s, 500s and
//! connections closed before any answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use azureml_pipelines_runtime::azure::blob::{BlobError, BlobUploader, Retries, UploadOptions};
use azureml_pipelines_runtime::azure::retry::{Notice, RetryListener, set_process_listener};
use azureml_pipelines_runtime::azure::sas::{AccountKey, ContainerSas, SasUrl};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// What the endpoint does with the next request.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    /// 503 asking to wait this many seconds (`Retry-After`).
    Throttle(u64),
    /// Read the request and never answer.
    Hang,
    /// Close the connection without answering.
    Reset,
}

/// One request as received: the request line and the body length.
type Seen = Arc<Mutex<Vec<(String, usize)>>>;

/// Serves `script` in order, then answers 201 to everything.
async fn flaky_endpoint(script: Vec<Answer>) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket, Arc::clone(&script), Arc::clone(&log)));
        }
    });
    (port, seen)
}

async fn serve(mut socket: TcpStream, script: Arc<Mutex<VecDeque<Answer>>>, seen: Seen) {
    let mut buf = Vec::new();
    loop {
        // Headers.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 65536];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + length);
        let request_line = head.lines().next().unwrap_or_default().to_owned();
        seen.lock().unwrap().push((request_line, length));

        let answer = script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Answer::Status(201));
        let (status, extra) = match answer {
            Answer::Reset => return,
            Answer::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Answer::Status(status) => (status, String::new()),
            Answer::Throttle(secs) => (503, format!("\r\nretry-after: {secs}")),
        };
        let code = match status {
            503 => format!("\r\nx-ms-error-code: ServerBusy{extra}"),
            500 => "\r\nx-ms-error-code: InternalError".to_owned(),
            _ => String::new(),
        };
        let reply = format!(
            "HTTP/1.1 {status} Scripted\r\ncontent-length: 0\r\nx-ms-request-id: r1{code}\r\n\r\n"
        );
        if socket.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn uploader(port: u16) -> BlobUploader {
    let token = ContainerSas::new(
        "devstoreaccount1",
        "c",
        SystemTime::now() + Duration::from_secs(600),
    )
    .allow_http()
    .sign(&AccountKey::new(KEY.to_owned()).unwrap())
    .unwrap();
    let url = SasUrl::for_container(
        &format!("http://127.0.0.1:{port}/devstoreaccount1"),
        "c",
        &token,
    )
    .unwrap();
    BlobUploader::new(url)
        .unwrap()
        .with_retries(Retries {
            max_retries: 3,
            initial_delay: Duration::from_millis(10),
            max_elapsed: Duration::from_secs(10),
            ..Retries::default()
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_answers_and_dropped_connections_are_retried() {
    let (port, seen) = flaky_endpoint(vec![Answer::Status(503), Answer::Reset]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), b"hello").unwrap();
    let files = vec![(dir.path().join("a.txt"), "x/a.txt".to_owned())];
    let report = uploader(port)
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap();
    assert_eq!(report.files, 1);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "one try and two retries: {seen:?}");
    for (line, length) in seen.iter() {
        assert!(
            line.starts_with("PUT /devstoreaccount1/c/x%2Fa.txt?"),
            "{line}"
        );
        assert_eq!(*length, 5, "the whole body is sent again");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_block_is_retried_alone() {
    let (port, seen) = flaky_endpoint(vec![Answer::Status(201), Answer::Status(503)]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.bin"), vec![7u8; 3 * 1024]).unwrap();
    let files = vec![(dir.path().join("big.bin"), "big.bin".to_owned())];
    let opts = UploadOptions {
        block_size: 1024,
        concurrency: 1,
        ..Default::default()
    };
    uploader(port).upload_files(&files, &opts).await.unwrap();
    let seen = seen.lock().unwrap();
    let blocks = seen
        .iter()
        .filter(|(l, _)| l.contains("comp=block&"))
        .count();
    let commits = seen
        .iter()
        .filter(|(l, _)| l.contains("comp=blocklist"))
        .count();
    assert_eq!(
        (blocks, commits),
        (4, 1),
        "3 blocks, one of them twice: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_keeps_failing_is_reported_after_the_retries() {
    let (port, seen) = flaky_endpoint(vec![Answer::Status(500); 10]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), b"hello").unwrap();
    let files = vec![(dir.path().join("a.txt"), "a.txt".to_owned())];
    let err = uploader(port)
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap_err();
    let BlobError::Incomplete(incomplete) = &err else {
        panic!("expected an incomplete upload, got {err}");
    };
    let first = &incomplete.failed[0].error;
    assert_eq!(first.status(), Some(500), "{err}");
    assert_eq!(first.code(), Some("InternalError"), "{err}");
    assert!(
        err.to_string().contains("kept failing after retries"),
        "{err}"
    );
    assert_eq!(seen.lock().unwrap().len(), 4, "one try and three retries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_retry_after_is_capped_and_the_retry_is_announced() {
    let heard: Arc<Mutex<Vec<Notice>>> = Arc::default();
    let log = Arc::clone(&heard);
    set_process_listener(RetryListener::new(move |n| {
        log.lock().unwrap().push(n.clone())
    }));
    let (port, seen) = flaky_endpoint(vec![Answer::Throttle(3)]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.txt"), b"hello").unwrap();
    let files = vec![(dir.path().join("t.txt"), "throttled/t.txt".to_owned())];
    let up = uploader(port)
        .with_retries(Retries {
            max_retries: 3,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_elapsed: Duration::from_secs(10),
            ..Retries::default()
        })
        .unwrap();
    let started = std::time::Instant::now();
    up.upload_files(&files, &UploadOptions::default())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "one throttled try and one retry"
    );
    let heard = heard.lock().unwrap();
    let notice = heard
        .iter()
        .find(|n| n.to_string().contains("throttled/t.txt"))
        .unwrap_or_else(|| panic!("no notice for the blob: {heard:?}"));
    assert_eq!(
        notice.to_string(),
        "503 from PUT blob `throttled/t.txt`; retrying in 50 ms, attempt 2 of 4"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_endpoint_that_never_answers_is_given_up_on() {
    let (port, seen) = flaky_endpoint(vec![Answer::Hang; 10]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("h.txt"), b"hello").unwrap();
    let files = vec![(dir.path().join("h.txt"), "h.txt".to_owned())];
    let up = uploader(port)
        .with_retries(Retries {
            max_retries: 10,
            initial_delay: Duration::from_millis(10),
            max_elapsed: Duration::from_secs(1),
            try_timeout: Duration::from_millis(300),
            ..Retries::default()
        })
        .unwrap();
    let started = std::time::Instant::now();
    let err = up
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    let text = err.to_string();
    assert!(text.contains("no answer within "), "{text}");
    assert!(text.contains("gave up after "), "{text}");
    assert!(text.contains("AZUREML_RETRY_BUDGET"), "{text}");
    assert!(seen.lock().unwrap().len() >= 2, "retried at least once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_longer_than_the_budget_fails_at_once_saying_so() {
    let (port, seen) = flaky_endpoint(vec![Answer::Throttle(100_000)]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.txt"), b"hello").unwrap();
    let files = vec![(dir.path().join("r.txt"), "r.txt".to_owned())];
    let started = std::time::Instant::now();
    let err = uploader(port)
        .upload_files(&files, &UploadOptions::default())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(text.contains("HTTP 503"), "{text}");
    assert!(text.contains("asked to wait 100000 s"), "{text}");
    assert_eq!(seen.lock().unwrap().len(), 1, "no retry can succeed sooner");
}
