//! A fake MLflow tracking server over real HTTP: the `log-metric` call of MLflow's REST API
//! under an Azure ML workspace's tracking path, as a step running on Azure ML reaches it.
//!
//! [`FakeMlflow::start`] listens on `127.0.0.1:0`. [`FakeMlflow::tracking_uri`] is what Azure ML
//! would put in `MLFLOW_TRACKING_URI` (with `http://` to the fake instead of `azureml://`), and
//! [`FakeMlflow::TOKEN`] the token it accepts. It answers
//! `POST {tracking path}/api/2.0/mlflow/runs/log-metric` with `{}` when the bearer token is the
//! accepted one (401 otherwise, quoting the `Authorization` header it got, as a careless server
//! might; 404 for any other path) and records every request, with whether
//! its token was accepted (the token itself is not kept). [`FakeMlflow::fail_next`] makes the
//! next requests answer an error status.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// The workspace path of the fake's tracking URI.
pub const WORKSPACE_PATH: &str = "/mlflow/v1.0/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct MlflowRequest {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Whether it carried `Authorization: Bearer` with [`FakeMlflow::TOKEN`].
    pub authorized: bool,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// JSON body (`Value::Null` when not JSON).
    pub body: Value,
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<MlflowRequest>,
    /// Statuses to answer the next requests with, first first.
    failures: Vec<u16>,
}

/// A running fake MLflow server; stops when dropped.
#[derive(Debug)]
pub struct FakeMlflow {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeMlflow {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeMlflow {
    /// The bearer token the fake accepts (what Azure ML puts in `MLFLOW_TRACKING_TOKEN`).
    pub const TOKEN: &'static str = "fake-mlflow-token-5f1c2a9e";

    /// Starts the fake on a free loopback port. Panics if none can be bound.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, state, task }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://127.0.0.1:<port>/mlflow/v1.0/subscriptions/…/workspaces/ws`.
    pub fn tracking_uri(&self) -> String {
        format!("http://{}{WORKSPACE_PATH}", self.addr)
    }

    /// The path `log-metric` calls must use.
    pub fn log_metric_path() -> String {
        format!("{WORKSPACE_PATH}/api/2.0/mlflow/runs/log-metric")
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<MlflowRequest> {
        self.state().requests.clone()
    }

    /// The bodies of the accepted `log-metric` calls, in order.
    pub fn metrics(&self) -> Vec<Value> {
        self.state()
            .requests
            .iter()
            .filter(|r| r.authorized && r.path == Self::log_metric_path())
            .map(|r| r.body.clone())
            .collect()
    }

    /// The next `times` requests are answered with `status` and an MLflow error body.
    pub fn fail_next(&self, status: u16, times: usize) {
        self.state()
            .failures
            .extend(std::iter::repeat_n(status, times));
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header("authorization").unwrap_or_default();
    let authorized = authorization == format!("Bearer {}", FakeMlflow::TOKEN);
    let content_type = header("content-type");
    let bytes = req.into_body().collect().await?.to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let failure = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.requests.push(MlflowRequest {
            method: method.clone(),
            path: path.clone(),
            authorized,
            content_type,
            body,
        });
        (!s.failures.is_empty()).then(|| s.failures.remove(0))
    };
    let (status, text) = if let Some(status) = failure {
        (status, error_body("INTERNAL_ERROR", "injected failure"))
    } else if !authorized {
        // Quotes the header it got, as careless servers do: the client must redact it.
        (
            401,
            error_body(
                "UNAUTHENTICATED",
                &format!("`{authorization}` was not accepted"),
            ),
        )
    } else if method == "POST" && path == FakeMlflow::log_metric_path() {
        (200, "{}".to_owned())
    } else {
        (
            404,
            error_body(
                "ENDPOINT_NOT_FOUND",
                &format!("no endpoint {method} {path}"),
            ),
        )
    };
    Ok(Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(text)))
        .expect("valid response"))
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({"error_code": code, "message": message}).to_string()
}
