//! A TCP proxy that records the request line of every HTTP/1.1 request passing through it, for
//! counting what a client sends to a server the tests do not control (Azurite keeps no log of
//! its requests).
//!
//! [`RequestLog::start`] listens on `127.0.0.1:0` and forwards each connection to the target
//! address, bytes unchanged both ways. Request lines (`PUT /devstoreaccount1/c/blob?… HTTP/1.1`)
//! are found in the client's byte stream where a request begins: at the connection's start, and
//! after each request's headers and `Content-Length` body. Chunked request bodies are not
//! followed (the blob client does not send them).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One recorded request: its method and path (with the query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `PUT`, `GET`, …
    pub method: String,
    /// The path and query, as sent.
    pub target: String,
}

/// A running recording proxy; stops when dropped.
#[derive(Debug)]
pub struct RequestLog {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RequestLog {
    /// Starts a proxy to `target` (e.g. Azurite's `127.0.0.1:port`).
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&log);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let log = Arc::clone(&shared);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let upstream = async move {
                        let mut parser = Parser::default();
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match client_read.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            for request in parser.feed(&buf[..n]) {
                                log.lock().unwrap_or_else(|p| p.into_inner()).push(request);
                            }
                            if server_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = server_write.shutdown().await;
                    };
                    let downstream = async move {
                        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                        let _ = client_write.shutdown().await;
                    };
                    tokio::join!(upstream, downstream);
                });
            }
        });
        Self { addr, log, task }
    }

    /// `http://127.0.0.1:<port>`: where to send the requests instead of the target.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The requests with this method whose path contains `part`.
    pub fn count(&self, method: &str, part: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.target.contains(part))
            .count()
    }

    /// Forgets the requests so far.
    pub fn clear(&self) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Finds request lines in a client's byte stream.
#[derive(Default)]
struct Parser {
    /// Bytes of the current request's head not yet complete.
    head: Vec<u8>,
    /// Body bytes still to skip.
    body_left: usize,
}

impl Parser {
    fn feed(&mut self, mut data: &[u8]) -> Vec<LoggedRequest> {
        let mut out = Vec::new();
        while !data.is_empty() {
            if self.body_left > 0 {
                let skip = self.body_left.min(data.len());
                self.body_left -= skip;
                data = &data[skip..];
                continue;
            }
            self.head.push(data[0]);
            data = &data[1..];
            if self.head.ends_with(b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.head).into_owned();
                self.head.clear();
                let mut lines = head.lines();
                let mut first = lines.next().unwrap_or("").split(' ');
                let method = first.next().unwrap_or("").to_owned();
                let target = first.next().unwrap_or("").to_owned();
                self.body_left = lines
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0);
                out.push(LoggedRequest { method, target });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_found_across_bodies_and_chunks() {
        let mut p = Parser::default();
        let stream = b"PUT /a/b HTTP/1.1\r\nContent-Length: 5\r\n\r\nPUT /GET /x HTTP/1.1\r\n\r\n";
        let mut found = Vec::new();
        for chunk in stream.chunks(3) {
            found.extend(p.feed(chunk));
        }
        let lines: Vec<(String, String)> =
            found.into_iter().map(|r| (r.method, r.target)).collect();
        assert_eq!(
            lines,
            [
                ("PUT".to_owned(), "/a/b".to_owned()),
                ("GET".to_owned(), "/x".to_owned())
            ]
        );
    }
}
