//! The fake Azure ML's computes (`{WS}/computes[/{name}]`): list, get, create (long-running
//! provisioning that can be scripted to fail), resize (PATCH), delete/detach, attach.
//!
//! Bodies are checked key by key against the 2025-12-01 models (`ComputeResource`, `Compute`,
//! `AmlComputeProperties`, `ScaleSettings`, `KubernetesProperties`, `SynapseSparkProperties`,
//! `VirtualMachineSchemaProperties`, `DatabricksProperties`, `ClusterUpdateParameters`) and their
//! enums; an unknown key, a read-only key, a missing required one or a bad enum value is a 400
//! naming it as `target`, as ARM does.
//!
//! Provisioning: a PUT answers `201` with `provisioningState: Creating`; each later `GET` of the
//! compute counts down [`crate::fake_aml::FakeAmlOptions::operation_polls`], after which the
//! compute is `Succeeded` (nodes at the minimum, allocation `Steady`) — or `Failed` with the
//! service's error in `provisioningErrors` when [`FakeComputes::fail_next_create`] asked for it.
//! Secrets (Databricks token, VM password and key) are stored, never answered.

// The checks return the finished ARM error answer as their `Err`; a test server's error path is
// not worth boxing.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{Map, Value, json};

use crate::fake_aml::FakeAmlOptions;

type Answer = Response<Full<Bytes>>;

/// Model fields of api-version 2025-12-01 (writable, then read-only), from
/// `arm_ml_service_2025-12-01_models.txt`.
const COMPUTE_RESOURCE: &[&str] = &["properties", "location", "tags", "sku", "identity"];
const COMPUTE_COMMON: &[&str] = &[
    "computeType",
    "computeLocation",
    "description",
    "resourceId",
    "disableLocalAuth",
    "properties",
];
const COMPUTE_READ_ONLY: &[&str] = &[
    "provisioningState",
    "createdOn",
    "modifiedOn",
    "provisioningErrors",
    "isAttachedCompute",
];
const AML_COMPUTE: &[&str] = &[
    "osType",
    "vmSize",
    "vmPriority",
    "virtualMachineImage",
    "isolatedNetwork",
    "scaleSettings",
    "userAccountCredentials",
    "subnet",
    "remoteLoginPortPublicAccess",
    "enableNodePublicIp",
    "propertyBag",
];
const SCALE_SETTINGS: &[&str] = &[
    "maxNodeCount",
    "minNodeCount",
    "nodeIdleTimeBeforeScaleDown",
];
const KUBERNETES: &[&str] = &[
    "relayConnectionString",
    "serviceBusConnectionString",
    "extensionPrincipalId",
    "extensionInstanceReleaseTrain",
    "vcName",
    "namespace",
    "defaultInstanceType",
    "instanceTypes",
];
const SYNAPSE_SPARK: &[&str] = &[
    "autoScaleProperties",
    "autoPauseProperties",
    "sparkVersion",
    "nodeCount",
    "nodeSize",
    "nodeSizeFamily",
    "subscriptionId",
    "resourceGroup",
    "workspaceName",
    "poolName",
];
const VIRTUAL_MACHINE: &[&str] = &[
    "virtualMachineSize",
    "sshPort",
    "notebookServerPort",
    "address",
    "administratorAccount",
    "isNotebookInstanceCompute",
];
const SSH_CREDENTIALS: &[&str] = &["username", "password", "publicKeyData", "privateKeyData"];
const DATABRICKS: &[&str] = &["databricksAccessToken", "workspaceUrl"];
/// Enums of api-version 2025-12-01 (`arm_ml_service_2025-12-01_enums.txt`).
const COMPUTE_TYPE: &[&str] = &[
    "AKS",
    "Kubernetes",
    "AmlCompute",
    "ComputeInstance",
    "DataFactory",
    "VirtualMachine",
    "HDInsight",
    "Databricks",
    "DataLakeAnalytics",
    "SynapseSpark",
];
const VM_PRIORITY: &[&str] = &["Dedicated", "LowPriority"];
const OS_TYPE: &[&str] = &["Linux", "Windows"];
const REMOTE_LOGIN: &[&str] = &["Enabled", "Disabled", "NotSpecified"];
const UNDERLYING_RESOURCE_ACTION: &[&str] = &["Delete", "Detach"];

/// The computes of the fake workspace. A cheap handle: clones share the same computes.
#[derive(Debug, Clone, Default)]
pub struct FakeComputes {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    items: BTreeMap<String, Stored>,
    fail_next: Option<(String, String)>,
    creates: usize,
}

#[derive(Debug)]
struct Stored {
    body: Value,
    polls_left: usize,
    fail: Option<(String, String)>,
    secrets: Vec<String>,
}

impl FakeComputes {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a provisioned compute of `compute_type` (`AmlCompute`, `ComputeInstance`, …).
    pub fn add(&self, ws_id: &str, location: &str, name: &str, compute_type: &str) {
        let body = json!({"id": format!("{ws_id}/computes/{name}"), "name": name,
            "type": "Microsoft.MachineLearningServices/workspaces/computes",
            "location": location,
            "properties": {"computeType": compute_type, "provisioningState": "Succeeded"}});
        self.lock().items.insert(
            name.to_owned(),
            Stored {
                body,
                polls_left: 0,
                fail: None,
                secrets: Vec::new(),
            },
        );
    }

    /// The next created compute ends `Failed` with this error (e.g. `QuotaExceeded`).
    pub fn fail_next_create(&self, code: &str, message: &str) {
        self.lock().fail_next = Some((code.to_owned(), message.to_owned()));
    }

    /// The stored compute as the service answers it (secrets left out).
    pub fn get(&self, name: &str) -> Option<Value> {
        self.lock().items.get(name).map(|s| s.body.clone())
    }

    /// Whether a compute of this name exists.
    pub fn contains_key(&self, name: &str) -> bool {
        self.lock().items.contains_key(name)
    }

    /// Names of the computes that exist.
    pub fn names(&self) -> Vec<String> {
        self.lock().items.keys().cloned().collect()
    }

    /// How many PUTs created or updated a compute.
    pub fn creates(&self) -> usize {
        self.lock().creates
    }

    /// The secrets attach requests carried (Databricks tokens, VM passwords), for tests that
    /// check they reached the service and nowhere else.
    pub fn received_secrets(&self, name: &str) -> Vec<String> {
        self.lock()
            .items
            .get(name)
            .map(|s| s.secrets.clone())
            .unwrap_or_default()
    }
}

/// Where a request landed: the fake's options, workspace id and base URL.
pub(crate) struct Scope<'a> {
    pub(crate) options: &'a FakeAmlOptions,
    pub(crate) ws_id: &'a str,
    pub(crate) base: &'a str,
}

/// Answers `METHOD computes…` (`rest` starts with `computes`).
pub(crate) fn route(
    computes: &FakeComputes,
    scope: &Scope<'_>,
    method: &str,
    rest: &[&str],
    query: &BTreeMap<String, String>,
    body: &Value,
) -> Answer {
    let Scope {
        options,
        ws_id,
        base,
    } = *scope;
    let mut c = computes.lock();
    match (method, rest) {
        ("GET", ["computes"]) => {
            let items: Vec<Value> = c.items.values().map(|s| s.body.clone()).collect();
            respond(
                200,
                &page(options, base, &format!("{ws_id}/computes"), query, items),
            )
        }
        ("GET", ["computes", name]) => match c.items.get_mut(*name) {
            Some(stored) => {
                advance(stored);
                respond(200, &stored.body)
            }
            None => not_found(options, name),
        },
        ("PUT", ["computes", name]) => {
            if let Err(answer) = check_compute(body) {
                return answer;
            }
            let mut stored = body.clone();
            let secrets = take_secrets(&mut stored);
            stored["id"] = json!(format!("{ws_id}/computes/{name}"));
            stored["name"] = json!(name);
            stored["type"] = json!("Microsoft.MachineLearningServices/workspaces/computes");
            let props = &mut stored["properties"];
            props["provisioningState"] = json!("Creating");
            props["isAttachedCompute"] = json!(props["computeType"] != "AmlCompute");
            props["createdOn"] = json!("2026-01-01T00:00:00Z");
            let existed = c.items.contains_key(*name);
            let fail = c.fail_next.take();
            c.creates += 1;
            c.items.insert(
                (*name).to_owned(),
                Stored {
                    body: stored.clone(),
                    polls_left: options.operation_polls,
                    fail,
                    secrets,
                },
            );
            respond(if existed { 200 } else { 201 }, &stored)
        }
        ("PATCH", ["computes", name]) => {
            let Some(stored) = c.items.get_mut(*name) else {
                return not_found(options, name);
            };
            if stored.body["properties"]["computeType"] != "AmlCompute" {
                return error(
                    400,
                    "UserError",
                    "only AmlCompute clusters can be resized",
                    Some("properties"),
                );
            }
            let scale = body.pointer("/properties/properties/scaleSettings");
            let checked = check_keys(body, &["properties"], &[], "")
                .and_then(|()| check_keys(&body["properties"], &["properties"], &[], "properties"))
                .and_then(|()| {
                    check_keys(
                        &body["properties"]["properties"],
                        &["scaleSettings"],
                        &[],
                        "properties.properties",
                    )
                })
                .and_then(|()| match scale {
                    Some(s) => check_scale(s, "properties.properties.scaleSettings"),
                    None => Err(required("properties.properties.scaleSettings")),
                });
            if let Err(answer) = checked {
                return answer;
            }
            let scale = scale.cloned().unwrap_or(Value::Null);
            let props = &mut stored.body["properties"]["properties"];
            if !props.is_object() {
                *props = json!({});
            }
            props["scaleSettings"] = scale.clone();
            let min = scale["minNodeCount"].as_u64().unwrap_or(0);
            props["targetNodeCount"] = json!(min);
            props["currentNodeCount"] = json!(min);
            respond(200, &stored.body)
        }
        ("DELETE", ["computes", name]) => {
            match query.get("underlyingResourceAction").map(String::as_str) {
                Some(a) if UNDERLYING_RESOURCE_ACTION.contains(&a) => {}
                Some(a) => {
                    return bad_enum("underlyingResourceAction", a, UNDERLYING_RESOURCE_ACTION);
                }
                None => return required("underlyingResourceAction"),
            }
            match c.items.remove(*name) {
                Some(_) => respond(200, &Value::Null),
                None => respond(204, &Value::Null),
            }
        }
        _ => error(
            404,
            "NoRegisteredProviderFound",
            &format!(
                "The fake Azure ML does not serve {method} {}",
                rest.join("/")
            ),
            None,
        ),
    }
}

/// One GET of a compute that is being created: count down, then finish.
fn advance(stored: &mut Stored) {
    if stored.body["properties"]["provisioningState"] != "Creating" {
        return;
    }
    if stored.polls_left > 0 {
        stored.polls_left -= 1;
        return;
    }
    let props = &mut stored.body["properties"];
    match stored.fail.take() {
        Some((code, message)) => {
            props["provisioningState"] = json!("Failed");
            props["provisioningErrors"] = json!([{"error": {"code": code, "message": message}}]);
        }
        None => {
            props["provisioningState"] = json!("Succeeded");
            if props["computeType"] == "AmlCompute" {
                let inner = &mut props["properties"];
                let min = inner
                    .pointer("/scaleSettings/minNodeCount")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                inner["allocationState"] = json!("Steady");
                inner["currentNodeCount"] = json!(min);
                inner["targetNodeCount"] = json!(min);
                inner["nodeStateCounts"] = json!({"idleNodeCount": min, "runningNodeCount": 0,
                    "preparingNodeCount": 0, "unusableNodeCount": 0, "leavingNodeCount": 0,
                    "preemptedNodeCount": 0});
            }
        }
    }
}

/// Removes what the service never answers (tokens, passwords, keys) and returns it.
fn take_secrets(body: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    for path in [
        "/properties/properties/databricksAccessToken",
        "/properties/properties/administratorAccount/password",
        "/properties/properties/administratorAccount/privateKeyData",
    ] {
        let (parent, key) = path.rsplit_once('/').unwrap_or(("", path));
        if let Some(Value::Object(map)) = body.pointer_mut(parent)
            && let Some(Value::String(s)) = map.remove(key)
        {
            out.push(s);
        }
    }
    out
}

fn check_compute(body: &Value) -> Result<(), Answer> {
    check_keys(
        body,
        COMPUTE_RESOURCE,
        &["id", "name", "type", "systemData"],
        "",
    )?;
    let props = &body["properties"];
    if !props.is_object() {
        return Err(required("properties"));
    }
    check_keys(props, COMPUTE_COMMON, COMPUTE_READ_ONLY, "properties")?;
    let kind = match props["computeType"].as_str() {
        None => return Err(required("properties.computeType")),
        Some(k) if !COMPUTE_TYPE.contains(&k) => {
            return Err(bad_enum("properties.computeType", k, COMPUTE_TYPE));
        }
        Some(k) => k,
    };
    let inner = &props["properties"];
    let at = "properties.properties";
    match kind {
        "AmlCompute" => {
            check_keys(inner, AML_COMPUTE, &[], at)?;
            if inner["vmSize"].as_str().is_none_or(str::is_empty) {
                return Err(required("properties.properties.vmSize"));
            }
            check_enum(inner, "vmPriority", VM_PRIORITY, at)?;
            check_enum(inner, "osType", OS_TYPE, at)?;
            check_enum(inner, "remoteLoginPortPublicAccess", REMOTE_LOGIN, at)?;
            match inner.get("scaleSettings") {
                Some(s) => check_scale(s, "properties.properties.scaleSettings")?,
                None => return Err(required("properties.properties.scaleSettings")),
            }
        }
        "Kubernetes" => check_keys(inner, KUBERNETES, &[], at)?,
        "SynapseSpark" => check_keys(inner, SYNAPSE_SPARK, &[], at)?,
        "VirtualMachine" => {
            check_keys(inner, VIRTUAL_MACHINE, &[], at)?;
            if let Some(acct) = inner.get("administratorAccount") {
                check_keys(
                    acct,
                    SSH_CREDENTIALS,
                    &[],
                    "properties.properties.administratorAccount",
                )?;
            }
        }
        "Databricks" => {
            check_keys(inner, DATABRICKS, &[], at)?;
            if inner["databricksAccessToken"]
                .as_str()
                .is_none_or(str::is_empty)
            {
                return Err(required("properties.properties.databricksAccessToken"));
            }
        }
        "DataLakeAnalytics" => {
            return Err(error(
                400,
                "UserError",
                "Azure Data Lake Analytics was retired on 2024-02-29; it can no longer be attached",
                Some("properties.computeType"),
            ));
        }
        _ => {}
    }
    if kind != "AmlCompute" && props["resourceId"].as_str().is_none_or(str::is_empty) {
        return Err(required("properties.resourceId"));
    }
    Ok(())
}

fn check_scale(s: &Value, at: &str) -> Result<(), Answer> {
    check_keys(s, SCALE_SETTINGS, &[], at)?;
    let max = s["maxNodeCount"]
        .as_u64()
        .ok_or_else(|| required(&format!("{at}.maxNodeCount")))?;
    if s["minNodeCount"].as_u64().unwrap_or(0) > max {
        return Err(error(
            400,
            "UserError",
            "minNodeCount must not exceed maxNodeCount",
            Some(&format!("{at}.minNodeCount")),
        ));
    }
    if let Some(idle) = s.get("nodeIdleTimeBeforeScaleDown") {
        let ok = idle.as_str().is_some_and(|d| {
            d.strip_prefix("PT").is_some_and(|r| {
                !r.is_empty()
                    && r.chars().all(|c| c.is_ascii_digit() || "HMS".contains(c))
                    && !r.starts_with(|c: char| !c.is_ascii_digit())
            })
        });
        if !ok {
            return Err(error(
                400,
                "UserError",
                &format!("{idle} is not an ISO 8601 duration"),
                Some(&format!("{at}.nodeIdleTimeBeforeScaleDown")),
            ));
        }
    }
    Ok(())
}

/// Every key of `v` must be one of `allowed`; `read_only` keys may not be sent.
pub(crate) fn check_keys(
    v: &Value,
    allowed: &[&str],
    read_only: &[&str],
    at: &str,
) -> Result<(), Answer> {
    let empty = Map::new();
    let map = match v {
        Value::Object(m) => m,
        Value::Null => &empty,
        _ => {
            return Err(error(
                400,
                "UserError",
                &format!(
                    "{} must be an object",
                    if at.is_empty() { "body" } else { at }
                ),
                Some(at),
            ));
        }
    };
    for key in map.keys() {
        let target = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        if read_only.contains(&key.as_str()) {
            return Err(error(
                400,
                "UserError",
                &format!("{target} is read-only"),
                Some(&target),
            ));
        }
        if !allowed.contains(&key.as_str()) {
            return Err(error(
                400,
                "UserError",
                &format!("unknown property {target}"),
                Some(&target),
            ));
        }
    }
    Ok(())
}

fn check_enum(v: &Value, key: &str, allowed: &[&str], at: &str) -> Result<(), Answer> {
    match v.get(key) {
        None => Ok(()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        Some(other) => Err(bad_enum(
            &format!("{at}.{key}"),
            &other.to_string(),
            allowed,
        )),
    }
}

fn not_found(options: &FakeAmlOptions, name: &str) -> Answer {
    error(
        404,
        "ResourceNotFound",
        &format!(
            "The Resource 'Microsoft.MachineLearningServices/workspaces/{}/computes/{name}' \
             under resource group '{}' was not found.",
            options.workspace_name, options.resource_group
        ),
        None,
    )
}

/// A page of `items` starting at `$skip`, with `nextLink` when more remain.
pub(crate) fn page(
    options: &FakeAmlOptions,
    base: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> Value {
    let skip: usize = query.get("$skip").and_then(|v| v.parse().ok()).unwrap_or(0);
    let size = options.page_size.max(1);
    let value: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
    let mut answer = json!({ "value": value });
    if skip + size < items.len() {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(k, _)| *k != "$skip")
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "%20")))
            .collect();
        q.push(format!("$skip={}", skip + size));
        answer["nextLink"] = json!(format!("{base}{path}?{}", q.join("&")));
    }
    answer
}

pub(crate) fn respond(status: u16, body: &Value) -> Answer {
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

pub(crate) fn error(status: u16, code: &str, message: &str, target: Option<&str>) -> Answer {
    let mut e = json!({"code": code, "message": message});
    if let Some(t) = target {
        e["target"] = json!(t);
    }
    respond(status, &json!({ "error": e }))
}

pub(crate) fn required(target: &str) -> Answer {
    error(
        400,
        "UserError",
        &format!("{target} is required"),
        Some(target),
    )
}

pub(crate) fn bad_enum(target: &str, value: &str, allowed: &[&str]) -> Answer {
    error(
        400,
        "UserError",
        &format!(
            "'{value}' is not a valid value for {target}; allowed: {}",
            allowed.join(", ")
        ),
        Some(target),
    )
}
