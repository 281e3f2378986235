//! What the fake Azure ML server knows about operating published pipelines (reference
//! `azureml-rest.md` §10 and §13): batch endpoints and pipeline-component deployments (PUT
//! answered 201 with `Azure-AsyncOperation` and `Retry-After`, provisioning for
//! [`OperateState::operation_polls`] polls, or failing with [`OperateState::fail_next`]),
//! listing component containers and versions, the scoring host (a POST creates a pipeline job,
//! one per job name), those jobs' GETs, and schedules (PUT long-running, GET, list, DELETE).
//!
//! Routes, under the fake's workspace path (api-version required):
//!
//! | path | verbs |
//! |---|---|
//! | `/batchEndpoints`, `/batchEndpoints/{e}` | GET, GET/PUT/DELETE |
//! | `/batchEndpoints/{e}/deployments`, `…/deployments/{d}` | GET, GET/PUT/DELETE |
//! | `/components`, `/components/{n}/versions` | GET, GET |
//! | `/jobs/{n}` of an invoked job | GET |
//! | `/schedules`, `/schedules/{n}` | GET, GET/PUT/DELETE |
//!
//! and the data plane listing an endpoint's jobs (§10), newest first, two a page with a
//! `nextLink`: `GET /mferp/managementfrontend/subscriptions/…/workspaces/{ws}/batchEndpoints/{e}/jobs`
//! (api-version `2020-09-01-dataplanepreview` required);
//! and, without api-version, `POST /fake/scoring/{e}/jobs` (the scoring URI),
//! `GET /fake/operate/operations/{id}`, and the run-history children of an invoked job (none).
//! [`crate::fake_aml::FakeAzureMl::operate`] reads and steers this state.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

type Answer = Response<Full<Bytes>>;

/// The endpoint (and deployment) a long-running operation provisions.
type Target = Option<(String, Option<String>)>;

/// A long-running operation: polls left, the failure it ends with, what it provisions.
type PendingOperation = (usize, Option<String>, Target);

/// A job an invocation created.
#[derive(Debug, Clone, PartialEq)]
pub struct InvokedJob {
    /// The endpoint.
    pub endpoint: String,
    /// The deployment that ran it.
    pub deployment: String,
    /// Its ARM id of the component version it runs.
    pub component_id: String,
    /// The invoke body as received.
    pub body: Value,
    /// GETs answered so far (the status moves Running → Completed).
    pub gets: usize,
    /// When it was created (ISO 8601; one second after the job before it).
    pub created: String,
}

impl InvokedJob {
    fn status(&self) -> &'static str {
        if self.gets > 1 {
            "Completed"
        } else {
            "Running"
        }
    }
}

/// Batch endpoints, deployments, invoked jobs and schedules.
#[derive(Debug, Default)]
pub struct OperateState {
    /// Endpoints by name, as the fake answers them.
    pub endpoints: BTreeMap<String, Value>,
    /// Deployments by (endpoint, deployment).
    pub deployments: BTreeMap<(String, String), Value>,
    /// Jobs created through scoring URIs, by name.
    pub jobs: BTreeMap<String, InvokedJob>,
    /// Schedules by name.
    pub schedules: BTreeMap<String, Value>,
    /// How many polls an operation stays `InProgress` (0: done at the first poll).
    pub operation_polls: usize,
    /// When set, the next endpoint or deployment PUT's operation ends `Failed` with this message.
    pub fail_next: Option<String>,
    operations: BTreeMap<String, PendingOperation>,
    next: u64,
}

/// What the operate routes need from the fake's state.
pub struct Ctx<'a> {
    /// Operate state.
    pub state: &'a mut OperateState,
    /// Component versions by (name, version).
    pub components: &'a BTreeMap<(String, String), Value>,
    /// `http://127.0.0.1:port`.
    pub base: &'a str,
    /// Request headers of the request being answered.
    pub headers: Option<&'a BTreeMap<String, String>>,
}

fn respond(status: u16, body: &Value) -> Answer {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(text)))
        .expect("valid response")
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    respond(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

fn header(mut a: Answer, name: &'static str, value: &str) -> Answer {
    a.headers_mut()
        .insert(name, value.parse().expect("header value"));
    a
}

impl OperateState {
    /// The deployments of `endpoint`, by name.
    pub fn deployments_of(&self, endpoint: &str) -> Vec<String> {
        self.deployments
            .keys()
            .filter(|(e, _)| e == endpoint)
            .map(|(_, d)| d.clone())
            .collect()
    }

    fn start_operation(
        &mut self,
        base: &str,
        target: Option<(String, Option<String>)>,
    ) -> (String, Answer) {
        self.next += 1;
        let id = format!("op-{:06}", self.next);
        let fail = self.fail_next.take();
        self.operations
            .insert(id.clone(), (self.operation_polls, fail, target));
        let url = format!("{base}/fake/operate/operations/{id}");
        (url, respond(201, &Value::Null))
    }
}

/// Answers `method segments` when it is an operate route, else `None` (the fake answers it).
/// `segments` is the percent-decoded path split on `/`.
pub fn route(
    ctx: Ctx<'_>,
    method: &str,
    segments: &[&str],
    query: &BTreeMap<String, String>,
    body: &Value,
) -> Option<Answer> {
    let Ctx {
        state: s,
        components,
        base,
        headers,
    } = ctx;
    match segments {
        ["mferp", "managementfrontend", rest @ ..] => {
            return Some(list_endpoint_jobs(s, base, rest, query));
        }
        ["fake", "operate", "operations", id] => return Some(poll(s, id)),
        ["fake", "scoring", e, "jobs"] if method == "POST" => {
            return Some(score(s, components, e, headers, body));
        }
        ["history", "v1.0", .., "runs", id, "children"] if s.jobs.contains_key(*id) => {
            return Some(respond(200, &json!({"value": []})));
        }
        _ => {}
    }
    let [
        "subscriptions",
        _,
        "resourceGroups",
        _,
        "providers",
        _,
        "workspaces",
        _,
        rest @ ..,
    ] = segments
    else {
        return None;
    };
    let ws_id = format!("/{}", segments[..8].join("/"));
    let mine = matches!(
        rest,
        ["batchEndpoints", ..] | ["schedules", ..] | ["components"] | ["components", _, "versions"]
    ) || matches!(rest, ["jobs", n] if s.jobs.contains_key(*n));
    if !mine {
        return None;
    }
    if !query.contains_key("api-version") {
        return Some(error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    }
    Some(match (method, rest) {
        ("GET", ["components"]) => {
            let mut names: Vec<&String> = components
                .keys()
                .map(|(n, _)| n)
                .filter(|n| *n != "azureml_anonymous")
                .collect();
            names.dedup();
            let value: Vec<Value> = names
                .iter()
                .map(|n| json!({"id": format!("{ws_id}/components/{n}"), "name": n, "properties": {}}))
                .collect();
            respond(200, &json!({ "value": value }))
        }
        ("GET", ["components", n, "versions"]) => {
            let value: Vec<Value> = components
                .iter()
                .filter(|((name, _), _)| name == n)
                .map(|(_, v)| v.clone())
                .collect();
            respond(200, &json!({ "value": value }))
        }
        ("GET", ["jobs", n]) => {
            let job = s.jobs.get_mut(*n).expect("checked above");
            job.gets += 1;
            let status = job.status();
            let experiment = job.body["properties"]["properties"]["experimentName"]
                .as_str()
                .unwrap_or("Default")
                .to_owned();
            respond(
                200,
                &json!({"id": format!("{ws_id}/jobs/{n}"), "name": n, "properties": {
                    "jobType": "Pipeline", "status": status, "experimentName": experiment,
                    "componentId": job.component_id, "properties": {
                        "azureml.batchrun": "true", "endpoint": job.endpoint,
                        "deployment": job.deployment}}}),
            )
        }
        ("GET", ["batchEndpoints"]) => respond(
            200,
            &json!({"value": s.endpoints.values().cloned().collect::<Vec<_>>()}),
        ),
        ("GET", ["batchEndpoints", e]) => match s.endpoints.get(*e) {
            Some(v) => respond(200, v),
            None => not_found("batchEndpoints", e),
        },
        ("PUT", ["batchEndpoints", e]) => put_endpoint(s, base, &ws_id, e, body),
        ("DELETE", ["batchEndpoints", e]) => {
            if s.endpoints.remove(*e).is_none() {
                return Some(respond(204, &Value::Null));
            }
            s.deployments.retain(|(ep, _), _| ep != e);
            header(
                respond(202, &Value::Null),
                "location",
                &format!("{base}/fake/operate/operations/done"),
            )
        }
        ("GET", ["batchEndpoints", e, "deployments"]) => {
            let value: Vec<Value> = s
                .deployments
                .iter()
                .filter(|((ep, _), _)| ep == e)
                .map(|(_, v)| v.clone())
                .collect();
            respond(200, &json!({ "value": value }))
        }
        ("GET", ["batchEndpoints", e, "deployments", d]) => {
            match s.deployments.get(&((*e).to_owned(), (*d).to_owned())) {
                Some(v) => respond(200, v),
                None => not_found("deployments", d),
            }
        }
        ("PUT", ["batchEndpoints", e, "deployments", d]) => {
            put_deployment(s, components, base, &ws_id, e, d, body)
        }
        ("DELETE", ["batchEndpoints", e, "deployments", d]) => {
            let key = ((*e).to_owned(), (*d).to_owned());
            if s.endpoints
                .get(*e)
                .and_then(|v| v["properties"]["defaults"]["deploymentName"].as_str())
                == Some(*d)
            {
                return Some(error(
                    409,
                    "Conflict",
                    &format!(
                        "deployment {d} is the default of endpoint {e}; set another default first"
                    ),
                ));
            }
            if s.deployments.remove(&key).is_none() {
                return Some(respond(204, &Value::Null));
            }
            respond(200, &Value::Null)
        }
        ("GET", ["schedules"]) => respond(
            200,
            &json!({"value": s.schedules.values().cloned().collect::<Vec<_>>()}),
        ),
        ("GET", ["schedules", n]) => match s.schedules.get(*n) {
            Some(v) => respond(200, v),
            None => not_found("schedules", n),
        },
        ("PUT", ["schedules", n]) => put_schedule(s, base, &ws_id, n, body),
        ("DELETE", ["schedules", n]) => {
            if s.schedules.remove(*n).is_none() {
                return Some(respond(204, &Value::Null));
            }
            respond(200, &Value::Null)
        }
        _ => error(
            405,
            "MethodNotAllowed",
            &format!("{method} is not supported here"),
        ),
    })
}

fn not_found(kind: &str, name: &str) -> Answer {
    error(
        404,
        "ResourceNotFound",
        &format!("The {kind} '{name}' was not found."),
    )
}

fn bad(message: &str) -> Answer {
    error(400, "UserError", message)
}

fn put_endpoint(s: &mut OperateState, base: &str, ws_id: &str, e: &str, body: &Value) -> Answer {
    let p = &body["properties"];
    if body["location"].as_str().is_none() {
        return bad("location is required");
    }
    if !p["authMode"]
        .as_str()
        .is_some_and(|m| m.eq_ignore_ascii_case("aadtoken") || m == "Key" || m == "AMLToken")
    {
        return bad("properties.authMode must be AADToken, Key or AMLToken");
    }
    if let Some(d) = p["defaults"]["deploymentName"].as_str()
        && !s.deployments.contains_key(&(e.to_owned(), d.to_owned()))
    {
        return bad(&format!(
            "default deployment {d} does not exist under endpoint {e}"
        ));
    }
    for key in ["scoringUri", "provisioningState", "swaggerUri"] {
        if !p[key].is_null() {
            return bad(&format!("properties.{key} is read-only"));
        }
    }
    let mut stored = body.clone();
    stored["id"] = json!(format!("{ws_id}/batchEndpoints/{e}"));
    stored["name"] = json!(e);
    stored["properties"]["scoringUri"] = json!(format!("{base}/fake/scoring/{e}/jobs"));
    stored["properties"]["provisioningState"] = json!("Creating");
    s.endpoints.insert(e.to_owned(), stored.clone());
    let (url, answer) = s.start_operation(base, Some((e.to_owned(), None)));
    let answer = header(answer, "azure-asyncoperation", &url);
    let mut answer = header(answer, "retry-after", "0");
    *answer.body_mut() = Full::new(Bytes::from(stored.to_string()));
    answer
}

fn put_deployment(
    s: &mut OperateState,
    components: &BTreeMap<(String, String), Value>,
    base: &str,
    ws_id: &str,
    e: &str,
    d: &str,
    body: &Value,
) -> Answer {
    if !s.endpoints.contains_key(e) {
        return not_found("batchEndpoints", e);
    }
    let config = &body["properties"]["deploymentConfiguration"];
    if config["deploymentConfigurationType"] != json!("PipelineComponent") {
        return bad(
            "deploymentConfiguration.deploymentConfigurationType must be PipelineComponent or Model",
        );
    }
    if config["componentId"]["referenceType"] != json!("Id") {
        return bad("componentId.referenceType must be Id");
    }
    let id = config["componentId"]["assetId"]
        .as_str()
        .unwrap_or_default();
    let parts: Vec<&str> = id.rsplit('/').take(4).collect();
    let known = matches!(parts.as_slice(), [v, "versions", n, "components"]
        if components.contains_key(&((*n).to_owned(), (*v).to_owned())));
    if !known {
        return bad(&format!("component {id} does not exist"));
    }
    let mut stored = body.clone();
    stored["id"] = json!(format!("{ws_id}/batchEndpoints/{e}/deployments/{d}"));
    stored["name"] = json!(d);
    stored["properties"]["provisioningState"] = json!("Creating");
    s.deployments
        .insert((e.to_owned(), d.to_owned()), stored.clone());
    let (url, answer) = s.start_operation(base, Some((e.to_owned(), Some(d.to_owned()))));
    let answer = header(answer, "azure-asyncoperation", &url);
    let mut answer = header(answer, "retry-after", "0");
    *answer.body_mut() = Full::new(Bytes::from(stored.to_string()));
    answer
}

fn put_schedule(s: &mut OperateState, base: &str, ws_id: &str, n: &str, body: &Value) -> Answer {
    let p = &body["properties"];
    match p["trigger"]["triggerType"].as_str() {
        Some("Cron") if p["trigger"]["expression"].is_string() => {}
        Some("Recurrence")
            if p["trigger"]["frequency"].is_string() && p["trigger"]["interval"].is_u64() => {}
        _ => {
            return bad(
                "properties.trigger must be a Cron (expression) or Recurrence (frequency, interval) trigger",
            );
        }
    }
    if p["action"]["actionType"] != json!("CreateJob")
        || p["action"]["jobDefinition"]["jobType"].is_null()
    {
        return bad("properties.action must be CreateJob with a jobDefinition");
    }
    let mut stored = body.clone();
    stored["id"] = json!(format!("{ws_id}/schedules/{n}"));
    stored["name"] = json!(n);
    if p["isEnabled"].is_null() {
        stored["properties"]["isEnabled"] = json!(true);
    }
    stored["properties"]["provisioningState"] = json!("Succeeded");
    s.schedules.insert(n.to_owned(), stored.clone());
    let (url, answer) = s.start_operation(base, None);
    let answer = header(answer, "azure-asyncoperation", &url);
    let mut answer = header(answer, "retry-after", "0");
    *answer.body_mut() = Full::new(Bytes::from(stored.to_string()));
    answer
}

fn poll(s: &mut OperateState, id: &str) -> Answer {
    if id == "done" {
        return respond(200, &Value::Null);
    }
    let Some((left, fail, target)) = s.operations.get_mut(id) else {
        return not_found("operations", id);
    };
    if *left > 0 {
        *left -= 1;
        return header(
            respond(200, &json!({"status": "InProgress"})),
            "retry-after",
            "0",
        );
    }
    let (fail, target) = (fail.clone(), target.clone());
    let state = if fail.is_some() {
        "Failed"
    } else {
        "Succeeded"
    };
    if let Some((e, d)) = target {
        let resource = match d {
            Some(d) => s.deployments.get_mut(&(e, d)),
            None => s.endpoints.get_mut(&e),
        };
        if let Some(r) = resource {
            r["properties"]["provisioningState"] = json!(state);
        }
    }
    match fail {
        Some(message) => respond(
            200,
            &json!({"status": "Failed", "error": {"code": "DeploymentFailed", "message": message}}),
        ),
        None => respond(200, &json!({"status": "Succeeded"})),
    }
}

fn score(
    s: &mut OperateState,
    components: &BTreeMap<(String, String), Value>,
    e: &str,
    headers: Option<&BTreeMap<String, String>>,
    body: &Value,
) -> Answer {
    let Some(endpoint) = s.endpoints.get(e) else {
        return not_found("batchEndpoints", e);
    };
    let named = headers
        .and_then(|h| h.get("azureml-model-deployment"))
        .cloned();
    let Some(d) = named.or_else(|| {
        endpoint["properties"]["defaults"]["deploymentName"]
            .as_str()
            .map(str::to_owned)
    }) else {
        return bad(&format!(
            "endpoint {e} has no default deployment; name one with azureml-model-deployment"
        ));
    };
    let Some(deployment) = s.deployments.get(&(e.to_owned(), d.clone())) else {
        return not_found("deployments", &d);
    };
    let Some(inputs) = body["properties"]["inputData"].as_object() else {
        return bad("properties.inputData is required");
    };
    // What Microsoft's SDK sends: a typed literal (`{"jobInputType": "Literal", "value"}`, the
    // value as text, or a JSON scalar as Microsoft's docs show), a bare JSON scalar (a plain
    // Python value given to `invoke`), or a data input with its `uri`.
    for (name, input) in inputs {
        if input.is_string() || input.is_number() || input.is_boolean() {
            continue;
        }
        match input["jobInputType"].as_str() {
            Some("Literal")
                if input["value"].is_string()
                    || input["value"].is_number()
                    || input["value"].is_boolean() => {}
            Some(
                "UriFile" | "UriFolder" | "MLTable" | "MLFlowModel" | "CustomModel" | "TritonModel",
            ) if input["uri"].is_string() => {}
            _ => {
                return bad(&format!(
                    "inputData.{name}: must be a literal (a JSON scalar, or jobInputType Literal with a value) or a data type with uri"
                ));
            }
        }
    }
    let component_id =
        deployment["properties"]["deploymentConfiguration"]["componentId"]["assetId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    if let [v, _, n, _] = component_id
        .rsplit('/')
        .take(4)
        .collect::<Vec<_>>()
        .as_slice()
        && let Some(c) = components.get(&((*n).to_owned(), (*v).to_owned()))
    {
        let declared = &c["properties"]["componentSpec"]["inputs"];
        for name in inputs.keys() {
            if declared.get(name).is_none() {
                return bad(&format!(
                    "inputData.{name} is not an input of the deployed pipeline"
                ));
            }
        }
    }
    s.next += 1;
    let name = body["properties"]["name"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("batchjob-{:06}", s.next));
    let created = format!(
        "2026-01-01T{:02}:{:02}:{:02}Z",
        (s.next / 3600) % 24,
        (s.next / 60) % 60,
        s.next % 60
    );
    s.jobs.entry(name.clone()).or_insert_with(|| InvokedJob {
        endpoint: e.to_owned(),
        deployment: d.clone(),
        component_id,
        body: body.clone(),
        gets: 0,
        created,
    });
    respond(
        200,
        &json!({"id": name, "name": name, "properties": {"status": "NotStarted", "deployment": d}}),
    )
}

/// `GET /mferp/managementfrontend/…/batchEndpoints/{e}/jobs`: the endpoint's jobs, newest first,
/// two a page (`$skip` in the `nextLink`).
fn list_endpoint_jobs(
    s: &OperateState,
    base: &str,
    rest: &[&str],
    query: &BTreeMap<String, String>,
) -> Answer {
    let [
        "subscriptions",
        _,
        "resourceGroups",
        _,
        "providers",
        _,
        "workspaces",
        _,
        "batchEndpoints",
        e,
        "jobs",
    ] = rest
    else {
        return error(404, "NotFound", "unknown data-plane path");
    };
    if query.get("api-version").map(String::as_str) != Some("2020-09-01-dataplanepreview") {
        return bad("api-version must be 2020-09-01-dataplanepreview");
    }
    if !s.endpoints.contains_key(*e) {
        return not_found("batchEndpoints", e);
    }
    let mut jobs: Vec<(&String, &InvokedJob)> =
        s.jobs.iter().filter(|(_, j)| j.endpoint == *e).collect();
    jobs.sort_by(|a, b| b.1.created.cmp(&a.1.created));
    let skip: usize = query.get("$skip").and_then(|v| v.parse().ok()).unwrap_or(0);
    let value: Vec<Value> = jobs
        .iter()
        .skip(skip)
        .take(2)
        .map(|(name, j)| {
            json!({"id": name, "name": name, "systemData": {"createdAt": j.created},
                   "properties": {"status": j.status(), "properties": {
                       "azureml.batchrun": "true", "azureml.endpointName": j.endpoint,
                       "azureml.deploymentName": j.deployment}}})
        })
        .collect();
    let mut page = json!({ "value": value });
    if skip + 2 < jobs.len() {
        page["nextLink"] = json!(format!(
            "{base}/mferp/managementfrontend/{}?api-version=2020-09-01-dataplanepreview&$skip={}",
            rest.join("/"),
            skip + 2
        ));
    }
    respond(200, &page)
}
