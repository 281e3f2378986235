//! The HTTP side of the fake: reading a request, recording it, applying faults, and the answer
//! helpers every resource module uses (ARM error bodies, paging, 404s).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::{Fault, RecordedRequest, State, router};

/// An answer of the fake.
pub(super) type Answer = Response<Full<Bytes>>;

/// The error that makes hyper close the connection without answering.
#[derive(Debug)]
pub(super) struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected dropped connection")
    }
}

impl std::error::Error for DroppedConnection {}

pub(super) fn arm_error_body(code: &str, message: &str, target: Option<&str>) -> String {
    let mut error = json!({"code": code, "message": message});
    if let Some(t) = target {
        error["target"] = json!(t);
    }
    json!({ "error": error }).to_string()
}

pub(super) fn respond(status: u16, body: &Value) -> Answer {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header("x-ms-request-id", "fake-request-id")
        .body(Full::new(Bytes::from(text)))
        .expect("valid response")
}

pub(super) fn error(status: u16, code: &str, message: &str, target: Option<&str>) -> Answer {
    let body: Value =
        serde_json::from_str(&arm_error_body(code, message, target)).expect("valid json");
    respond(status, &body)
}

pub(super) fn with_header(mut answer: Answer, name: &'static str, value: &str) -> Answer {
    answer
        .headers_mut()
        .insert(name, value.parse().expect("valid header value"));
    answer
}

/// `%XX` and `+` decoded; a `%` not followed by two hex digits is kept as it is.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn encode(v: &str) -> String {
    v.replace('%', "%25")
        .replace('&', "%26")
        .replace(' ', "%20")
        .replace('+', "%2B")
        .replace('#', "%23")
}

pub(crate) fn parse_query(query: Option<&str>) -> BTreeMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// A request as the fakes read it: headers with the tokens redacted, the tokens kept apart, the
/// body as JSON (or as text when it is not JSON; `null` when empty).
pub(crate) struct Received {
    pub method: String,
    /// The path as sent (percent-encoded).
    pub raw_path: String,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
    /// The `Authorization: Bearer` token.
    pub bearer: Option<String>,
    /// The `x-azureml-token` header (the scoring host's second token).
    pub aml_token: Option<String>,
}

/// Reads a whole request (shared by the fake servers of the testkit).
pub(crate) async fn receive(req: Request<Incoming>) -> Received {
    let method = req.method().as_str().to_owned();
    let raw_path = req.uri().path().to_owned();
    let query = parse_query(req.uri().query());
    let mut headers = BTreeMap::new();
    for (name, value) in req.headers() {
        let value = value.to_str().unwrap_or("<binary>").to_owned();
        headers.insert(name.as_str().to_owned(), value);
    }
    let body_bytes = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = if body_bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body_bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body_bytes).into_owned()))
    };
    let bearer = headers
        .get("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_owned);
    let aml_token = headers.get("x-azureml-token").cloned();
    for secret in ["authorization", "x-azureml-token"] {
        if let Some(v) = headers.get_mut(secret) {
            *v = "<redacted>".into();
        }
    }
    Received {
        method,
        raw_path,
        query,
        headers,
        body,
        bearer,
        aml_token,
    }
}

pub(super) async fn handle(
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
        aml_token,
    } = receive(req).await;

    let (fault, latency) = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        let label = |t: &Option<String>| {
            t.as_ref().map(|t| {
                s.tokens
                    .get(t)
                    .cloned()
                    .unwrap_or_else(|| "<rejected>".into())
            })
        };
        let token_label = label(&bearer);
        let aml_token_label = label(&aml_token);
        let fault = s
            .faults
            .iter_mut()
            .find(|r| {
                r.times > 0
                    && r.method.as_deref().is_none_or(|m| m == method)
                    && raw_path.contains(&r.path_contains)
            })
            .map(|r| {
                r.times -= 1;
                r.fault.clone()
            });
        s.faults.retain(|r| r.times > 0);
        s.requests.push(RecordedRequest {
            method: method.clone(),
            path: percent_decode(&raw_path),
            query: query.clone(),
            headers,
            token_label,
            aml_token_label,
            body: body.clone(),
            fault: fault
                .as_ref()
                .filter(|f| !matches!(f, Fault::Delay(_)))
                .map(Fault::describe),
        });
        (fault, s.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Some(Fault::Drop) => return Err(DroppedConnection),
        Some(Fault::Respond {
            status,
            headers,
            body,
        }) => {
            let mut answer = respond(status, &Value::Null);
            *answer.body_mut() = Full::new(Bytes::from(body));
            for (name, value) in headers {
                answer.headers_mut().insert(
                    hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                    value.parse().expect("header value"),
                );
            }
            return Ok(answer);
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::DropAfterProcessing) => {
            let _ = router::route(&state, &method, &raw_path, &query, bearer.as_deref(), &body);
            return Err(DroppedConnection);
        }
        None => {}
    }
    Ok(router::route(
        &state,
        &method,
        &raw_path,
        &query,
        bearer.as_deref(),
        &body,
    ))
}

/// The answer to a method and path this fake does not serve.
pub(super) fn unserved(method: &str, rest: &[&str]) -> Answer {
    error(
        404,
        "NoRegisteredProviderFound",
        &format!(
            "The fake Azure ML does not serve {method} {}",
            rest.join("/")
        ),
        None,
    )
}

/// A page of `items` starting at `$skip`, with `nextLink` when more remain.
pub(super) fn page(
    s: &State,
    path: &str,
    query: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> Value {
    let skip: usize = query.get("$skip").and_then(|v| v.parse().ok()).unwrap_or(0);
    let size = s.options.page_size.max(1);
    let value: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
    let mut answer = json!({ "value": value });
    if skip + size < items.len() {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(k, _)| *k != "$skip")
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        q.push(format!("$skip={}", skip + size));
        answer["nextLink"] = json!(format!("{}{}?{}", s.base, path, q.join("&")));
    }
    answer
}

pub(super) fn not_found(s: &State, collection: &str, name: &str) -> Answer {
    error(
        404,
        "ResourceNotFound",
        &format!(
            "The Resource 'Microsoft.MachineLearningServices/workspaces/{}/{collection}/{name}' \
             under resource group '{}' was not found.",
            s.options.workspace_name, s.options.resource_group
        ),
        None,
    )
}
