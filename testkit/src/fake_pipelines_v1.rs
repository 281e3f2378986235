//! A fake of Azure ML's legacy (v1) pipelines service over real HTTP: the host workspace
//! discovery names `pipelines` (reference §11, corrected by §13).
//!
//! [`FakePipelinesV1::start_for`] listens on `127.0.0.1:0`, answers for the workspace of a
//! [`FakeAzureMl`] and makes that fake's `/discovery` name it. Routes, under
//! `/pipelines/v1.0/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/`:
//!
//! | route | answer |
//! |---|---|
//! | `POST PipelineRuns/PipelineSubmit/{pipelineId}` | a `PipelineRunEntity`; 404 unknown id; 400 when the pipeline is disabled |
//! | `POST PipelineRuns/PipelineEndpointSubmit/Id/{endpointId}[/{v}]` (`pipelineVersion={v}` required with the suffix, and equal to it) | a run of the default version or of `v`; 404 unknown endpoint or version; 400 when that version's pipeline is disabled |
//! | `GET PipelineEndpoints/Name?Name={name}`, `GET PipelineEndpoints/Id/{id}` | the `PipelineEndpointEntity`; 404 unknown |
//! | `GET PublishedPipelines/{id}` | the published pipeline with its `EntityStatus`; 404 unknown |
//! | `PUT Pipelines/{id}/status` with the JSON string `"Active"` or `"Disabled"` | 200; 400 for any other body; 404 unknown |
//! | `GET PipelineRuns/{runId}` | the `PipelineRunEntity`: `Running` at the first GET, then the outcome ([`FakePipelinesV1::set_run_outcome`], default `Finished`); 404 unknown |
//!
//! Every request needs an accepted bearer token (401 otherwise) and is recorded
//! ([`FakePipelinesV1::requests`]) with its `Authorization` value redacted. Submit bodies are
//! checked: `ExperimentName` a non-empty string, `ParameterAssignments` an object of strings
//! (400 otherwise). Faults are injected per route ([`FakePipelinesV1::inject`]): 429 with
//! `Retry-After`, 503, dropped connections before or after the request was handled.
//!
//! How the real service answers a submit of a disabled pipeline is not documented; this fake
//! answers 400 with code `PipelineDisabled`.
//!
//! ```no_run
//! # async fn demo() {
//! use azureml_pipelines_testkit::fake_aml::FakeAzureMl;
//! use azureml_pipelines_testkit::fake_pipelines_v1::{FakePipelinesV1, V1Fault};
//! let arm = FakeAzureMl::start().await;
//! let v1 = FakePipelinesV1::start_for(&arm).await;
//! v1.add_published_pipeline("p-1", "scoring");
//! v1.inject("POST", "PipelineSubmit", V1Fault::Throttle { retry_after_secs: 1 }, 1);
//! assert!(v1.runs().is_empty());
//! # }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::fake_aml::FakeAzureMl;
use crate::fake_aml::http::{Received, percent_decode, receive};

const PROVIDER: &str = "Microsoft.MachineLearningServices";

/// A fault answered instead of the normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V1Fault {
    /// 429 with `Retry-After: <secs>` (nothing is done).
    Throttle {
        /// Seconds the client is asked to wait.
        retry_after_secs: u64,
    },
    /// 503 with an error body and no `Retry-After` (nothing is done).
    Unavailable,
    /// Close the connection without answering (nothing is done).
    Drop,
    /// Handle the request (a run is started), then close the connection without answering.
    DropAfterProcessing,
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct V1Request {
    /// HTTP method.
    pub method: String,
    /// Path, percent-decoded.
    pub path: String,
    /// Query parameters, decoded.
    pub query: BTreeMap<String, String>,
    /// Headers, lower-case names; the `authorization` value is `<redacted>`.
    pub headers: BTreeMap<String, String>,
    /// Label of the accepted token the request carried (`<rejected>` for another, `None`
    /// without one).
    pub token_label: Option<String>,
    /// JSON body (`Value::Null` when empty).
    pub body: Value,
    /// The fault answered instead, if any.
    pub fault: Option<String>,
}

/// A run the fake started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Run {
    /// Run id.
    pub id: String,
    /// The published pipeline that ran.
    pub pipeline_id: String,
    /// The endpoint submitted to, if any.
    pub endpoint_id: Option<String>,
    /// The endpoint version that ran, if submitted through an endpoint.
    pub version: Option<String>,
    /// `ExperimentName`.
    pub experiment: String,
    /// `ParameterAssignments`.
    pub parameters: BTreeMap<String, String>,
    /// Status GETs answered so far.
    pub gets: usize,
}

#[derive(Debug, Clone)]
struct Published {
    name: String,
    status: String,
}

#[derive(Debug, Clone)]
struct Endpoint {
    name: String,
    default_version: String,
    versions: Vec<(String, String)>,
}

struct FaultRule {
    method: String,
    path_contains: String,
    fault: V1Fault,
    times: usize,
}

struct State {
    subscription_id: String,
    resource_group: String,
    workspace_name: String,
    base: String,
    tokens: BTreeMap<String, String>,
    published: BTreeMap<String, Published>,
    endpoints: BTreeMap<String, Endpoint>,
    runs: Vec<V1Run>,
    run_outcome: String,
    status_puts: usize,
    requests: Vec<V1Request>,
    faults: Vec<FaultRule>,
}

/// A running fake v1 pipelines service. Stops when dropped.
pub struct FakePipelinesV1 {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakePipelinesV1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePipelinesV1")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakePipelinesV1 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakePipelinesV1 {
    /// Starts a fake for the workspace `arm` serves, accepting [`FakeAzureMl::DEFAULT_TOKEN`],
    /// and points `arm`'s discovery document at it. Panics if no loopback port can be bound.
    pub async fn start_for(arm: &FakeAzureMl) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let o = arm.options();
        let mut tokens = BTreeMap::new();
        tokens.insert(FakeAzureMl::DEFAULT_TOKEN.to_owned(), "default".to_owned());
        let state = Arc::new(Mutex::new(State {
            subscription_id: o.subscription_id,
            resource_group: o.resource_group,
            workspace_name: o.workspace_name,
            base: format!("http://{addr}"),
            tokens,
            published: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            runs: Vec::new(),
            run_outcome: "Finished".to_owned(),
            status_puts: 0,
            requests: Vec::new(),
            faults: Vec::new(),
        }));
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
        let fake = Self { addr, state, task };
        arm.set_pipelines_url(&fake.url());
        fake
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://127.0.0.1:<port>`: the `pipelines` host.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Accepts `token` as a bearer token, recorded under `label`.
    pub fn accept_token(&self, label: &str, token: &str) {
        self.state()
            .tokens
            .insert(token.to_owned(), label.to_owned());
    }

    /// Adds an active published pipeline.
    pub fn add_published_pipeline(&self, id: &str, name: &str) {
        self.state().published.insert(
            id.to_owned(),
            Published {
                name: name.to_owned(),
                status: "Active".to_owned(),
            },
        );
    }

    /// Adds a pipeline endpoint with `versions` (`(version, published pipeline id)`, each
    /// pipeline added as active if new) and a default version; returns its id.
    pub fn add_pipeline_endpoint(
        &self,
        name: &str,
        versions: &[(&str, &str)],
        default_version: &str,
    ) -> String {
        let mut s = self.state();
        let id = format!("endpoint-{:04}", s.endpoints.len() + 1);
        for (_, pipeline) in versions {
            s.published
                .entry((*pipeline).to_owned())
                .or_insert_with(|| Published {
                    name: format!("{name}-pipeline"),
                    status: "Active".to_owned(),
                });
        }
        s.endpoints.insert(
            id.clone(),
            Endpoint {
                name: name.to_owned(),
                default_version: default_version.to_owned(),
                versions: versions
                    .iter()
                    .map(|(v, p)| ((*v).to_owned(), (*p).to_owned()))
                    .collect(),
            },
        );
        id
    }

    /// The `EntityStatus` of a published pipeline (`Active`, `Disabled`), if it exists.
    pub fn status(&self, pipeline_id: &str) -> Option<String> {
        self.state()
            .published
            .get(pipeline_id)
            .map(|p| p.status.clone())
    }

    /// Answers `fault` to the next `times` requests with this method (`*` for any) whose path
    /// contains `path_contains`.
    pub fn inject(&self, method: &str, path_contains: &str, fault: V1Fault, times: usize) {
        self.state().faults.push(FaultRule {
            method: method.to_ascii_uppercase(),
            path_contains: path_contains.to_owned(),
            fault,
            times,
        });
    }

    /// The runs started so far, in order.
    pub fn runs(&self) -> Vec<V1Run> {
        self.state().runs.clone()
    }

    /// The `StatusCode` runs end with, from their second status GET on (default `Finished`;
    /// `Failed` or `Canceled` for the other endings).
    pub fn set_run_outcome(&self, status_code: &str) {
        self.state().run_outcome = status_code.to_owned();
    }

    /// How many `PUT Pipelines/{id}/status` were answered 200.
    pub fn status_puts(&self) -> usize {
        self.state().status_puts
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<V1Request> {
        self.state().requests.clone()
    }
}

type Answer = Response<Full<Bytes>>;

#[derive(Debug)]
struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected dropped connection")
    }
}

impl std::error::Error for DroppedConnection {}

fn respond(status: u16, body: &Value) -> Answer {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header("x-ms-request-id", "fake-v1-request-id")
        .body(Full::new(Bytes::from(text)))
        .expect("valid response")
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    respond(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Answer, DroppedConnection> {
    let Received {
        method,
        raw_path,
        query,
        headers,
        body,
        bearer,
        ..
    } = receive(req).await;
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let token_label = bearer.as_ref().map(|t| {
        s.tokens
            .get(t)
            .cloned()
            .unwrap_or_else(|| "<rejected>".into())
    });
    let fault = s
        .faults
        .iter_mut()
        .find(|r| {
            r.times > 0
                && (r.method == "*" || r.method == method)
                && raw_path.contains(&r.path_contains)
        })
        .map(|r| {
            r.times -= 1;
            r.fault.clone()
        });
    s.faults.retain(|r| r.times > 0);
    s.requests.push(V1Request {
        method: method.clone(),
        path: percent_decode(&raw_path),
        query: query.clone(),
        headers,
        token_label: token_label.clone(),
        body: body.clone(),
        fault: fault.as_ref().map(|f| format!("{f:?}")),
    });
    let authorized = matches!(&token_label, Some(l) if l != "<rejected>");
    match fault {
        Some(V1Fault::Throttle { retry_after_secs }) => {
            let mut answer = error(
                429,
                "TooManyRequests",
                "The request is being throttled as the limit has been reached.",
            );
            answer.headers_mut().insert(
                "retry-after",
                retry_after_secs.to_string().parse().expect("header value"),
            );
            return Ok(answer);
        }
        Some(V1Fault::Unavailable) => {
            return Ok(error(
                503,
                "ServiceUnavailable",
                "The service is temporarily unavailable.",
            ));
        }
        Some(V1Fault::Drop) => return Err(DroppedConnection),
        Some(V1Fault::DropAfterProcessing) => {
            if authorized {
                let _ = route(&mut s, &method, &raw_path, &query, &body);
            }
            return Err(DroppedConnection);
        }
        None => {}
    }
    if !authorized {
        return Ok(error(
            401,
            "AuthenticationFailed",
            "Authentication failed: a valid 'Authorization: Bearer' header is required.",
        ));
    }
    Ok(route(&mut s, &method, &raw_path, &query, &body))
}

fn route(
    s: &mut State,
    method: &str,
    raw_path: &str,
    query: &BTreeMap<String, String>,
    body: &Value,
) -> Answer {
    let path = percent_decode(raw_path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match segments.as_slice() {
        [
            "pipelines",
            "v1.0",
            "subscriptions",
            sub,
            "resourceGroups",
            rg,
            "providers",
            provider,
            "workspaces",
            ws,
            rest @ ..,
        ] if *sub == s.subscription_id
            && rg.eq_ignore_ascii_case(&s.resource_group)
            && provider.eq_ignore_ascii_case(PROVIDER)
            && ws.eq_ignore_ascii_case(&s.workspace_name) =>
        {
            rest
        }
        _ => return error(404, "NotFound", &format!("No route for '{path}'.")),
    };
    match (method, rest) {
        ("POST", ["PipelineRuns", "PipelineSubmit", id]) => {
            let Some(p) = s.published.get(*id) else {
                return error(
                    404,
                    "NotFound",
                    &format!("Published pipeline {id} not found."),
                );
            };
            if p.status == "Disabled" {
                return disabled(id);
            }
            start_run(s, id, None, None, body)
        }
        (
            "POST",
            [
                "PipelineRuns",
                "PipelineEndpointSubmit",
                "Id",
                id,
                suffix @ ..,
            ],
        ) => {
            let Some(e) = s.endpoints.get(*id).cloned() else {
                return error(
                    404,
                    "NotFound",
                    &format!("Pipeline endpoint {id} not found."),
                );
            };
            let asked = query.get("pipelineVersion");
            let version = match (suffix, asked) {
                ([], None) => e.default_version.clone(),
                ([v], Some(q)) if v == q => (*v).to_owned(),
                _ => {
                    return error(
                        400,
                        "BadRequest",
                        "A pipeline version must be given both as the path suffix and as \
                         pipelineVersion, and they must agree.",
                    );
                }
            };
            let Some((_, pipeline)) = e.versions.iter().find(|(v, _)| *v == version) else {
                return error(
                    404,
                    "NotFound",
                    &format!("Pipeline endpoint {id} has no version {version}."),
                );
            };
            let pipeline = pipeline.clone();
            if s.published.get(&pipeline).map(|p| p.status.as_str()) == Some("Disabled") {
                return disabled(&pipeline);
            }
            start_run(s, &pipeline, Some(id), Some(version), body)
        }
        ("GET", ["PipelineEndpoints", "Name"]) => {
            let name = query.get("Name").map(String::as_str).unwrap_or_default();
            match s.endpoints.iter().find(|(_, e)| e.name == name) {
                Some((id, e)) => respond(200, &endpoint_entity(s, id, e)),
                None => error(
                    404,
                    "NotFound",
                    &format!("Pipeline endpoint named {name} not found."),
                ),
            }
        }
        ("GET", ["PipelineEndpoints", "Id", id]) => match s.endpoints.get(*id) {
            Some(e) => respond(200, &endpoint_entity(s, id, e)),
            None => error(
                404,
                "NotFound",
                &format!("Pipeline endpoint {id} not found."),
            ),
        },
        ("GET", ["PublishedPipelines", id]) => match s.published.get(*id) {
            Some(p) => respond(
                200,
                &json!({"Id": id, "Name": p.name, "EntityStatus": p.status,
                        "Url": format!("{}{}/PipelineRuns/PipelineSubmit/{id}", s.base,
                                       ws_prefix(s))}),
            ),
            None => error(
                404,
                "NotFound",
                &format!("Published pipeline {id} not found."),
            ),
        },
        ("GET", ["PipelineRuns", id]) => {
            let outcome = s.run_outcome.clone();
            let Some(run) = s.runs.iter_mut().find(|r| r.id == *id) else {
                return error(404, "NotFound", &format!("Pipeline run {id} not found."));
            };
            run.gets += 1;
            let code = if run.gets > 1 {
                outcome
            } else {
                "Running".to_owned()
            };
            respond(
                200,
                &json!({"Id": run.id, "Status": {"StatusCode": code, "StatusDetail": null},
                        "PipelineId": run.pipeline_id,
                        "RunHistoryExperimentName": run.experiment,
                        "ParameterAssignments": run.parameters}),
            )
        }
        ("PUT", ["Pipelines", id, "status"]) => {
            let status = match body.as_str() {
                Some(v @ ("Active" | "Disabled")) => v.to_owned(),
                _ => {
                    return error(
                        400,
                        "BadRequest",
                        "The body must be the JSON string \"Active\" or \"Disabled\".",
                    );
                }
            };
            match s.published.get_mut(*id) {
                Some(p) => {
                    p.status = status;
                    s.status_puts += 1;
                    respond(200, &Value::Null)
                }
                None => error(404, "NotFound", &format!("Pipeline {id} not found.")),
            }
        }
        _ => error(
            404,
            "NotFound",
            &format!("No route for {method} '{}'.", rest.join("/")),
        ),
    }
}

fn ws_prefix(s: &State) -> String {
    format!(
        "/pipelines/v1.0/subscriptions/{}/resourceGroups/{}/providers/{PROVIDER}/workspaces/{}",
        s.subscription_id, s.resource_group, s.workspace_name
    )
}

fn disabled(id: &str) -> Answer {
    error(
        400,
        "PipelineDisabled",
        &format!("Pipeline {id} is disabled and cannot be submitted."),
    )
}

fn endpoint_entity(s: &State, id: &str, e: &Endpoint) -> Value {
    let versions: Vec<Value> = e
        .versions
        .iter()
        .map(|(v, p)| json!({"Version": v, "PipelineId": p}))
        .collect();
    json!({"Id": id, "Name": e.name, "DefaultVersion": e.default_version,
           "PipelineVersionList": versions, "EntityStatus": "Active",
           "Url": format!("{}{}/PipelineRuns/PipelineEndpointSubmit/Id/{id}", s.base, ws_prefix(s))})
}

fn start_run(
    s: &mut State,
    pipeline_id: &str,
    endpoint_id: Option<&str>,
    version: Option<String>,
    body: &Value,
) -> Answer {
    let experiment = match body.get("ExperimentName").and_then(Value::as_str) {
        Some(e) if !e.trim().is_empty() => e.to_owned(),
        _ => {
            return error(
                400,
                "BadRequest",
                "ExperimentName is required and must be a non-empty string.",
            );
        }
    };
    let mut parameters = BTreeMap::new();
    match body.get("ParameterAssignments") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let Some(v) = v.as_str() else {
                    return error(
                        400,
                        "BadRequest",
                        &format!("ParameterAssignments.{k} must be a string."),
                    );
                };
                parameters.insert(k.clone(), v.to_owned());
            }
        }
        Some(_) => {
            return error(400, "BadRequest", "ParameterAssignments must be an object.");
        }
    }
    let id = format!(
        "{:08x}-1111-4000-8000-{:012x}",
        s.runs.len() + 1,
        s.runs.len() + 1
    );
    let run = V1Run {
        id: id.clone(),
        pipeline_id: pipeline_id.to_owned(),
        endpoint_id: endpoint_id.map(str::to_owned),
        version,
        experiment: experiment.clone(),
        parameters: parameters.clone(),
        gets: 0,
    };
    s.runs.push(run);
    respond(
        200,
        &json!({"Id": id, "Status": {"StatusCode": "NotStarted"}, "PipelineId": pipeline_id,
                "RunHistoryExperimentName": experiment, "ParameterAssignments": parameters}),
    )
}
