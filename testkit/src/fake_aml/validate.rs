//! Request-body checks of the fake against the REST contract (api-version 2025-12-01 models and
//! enums): required fields, discriminators, enum values. A failed check is a 400 with an ARM
//! error body naming the offending field as `target`.

use serde_json::{Map, Value};

use super::{Answer, State, error};

/// Enum values of api-version 2025-12-01 the fake validates against.
pub(super) mod enums {
    pub const JOB_TYPE: &[&str] = &["AutoML", "Command", "Sweep", "Pipeline", "Spark"];
    pub const JOB_INPUT_TYPE: &[&str] = &[
        "literal",
        "uri_file",
        "uri_folder",
        "mltable",
        "custom_model",
        "mlflow_model",
        "triton_model",
    ];
    pub const JOB_OUTPUT_TYPE: &[&str] = &[
        "uri_file",
        "uri_folder",
        "mltable",
        "custom_model",
        "mlflow_model",
        "triton_model",
    ];
    pub const INPUT_DELIVERY_MODE: &[&str] = &[
        "ReadOnlyMount",
        "ReadWriteMount",
        "Download",
        "Direct",
        "EvalMount",
        "EvalDownload",
    ];
    pub const OUTPUT_DELIVERY_MODE: &[&str] = &["ReadWriteMount", "Upload", "Direct"];
    pub const COMPUTE_TYPE: &[&str] = &[
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
    pub const PENDING_UPLOAD_TYPE: &[&str] = &["None", "TemporaryBlobReference"];
    pub const JOB_STATUS: &[&str] = &[
        "NotStarted",
        "Starting",
        "Provisioning",
        "Preparing",
        "Queued",
        "Running",
        "Finalizing",
        "CancelRequested",
        "Completed",
        "Failed",
        "Canceled",
        "NotResponding",
        "Paused",
        "Unknown",
    ];
}

pub(super) fn bad_enum(target: &str, value: &str, allowed: &[&str]) -> Answer {
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

pub(super) fn required(target: &str) -> Answer {
    error(
        400,
        "UserError",
        &format!("{target} is required"),
        Some(target),
    )
}

pub(super) fn check_secret_expiry(body: &Value) -> Option<Answer> {
    if !body.is_object() {
        return Some(required("body (SecretExpiry object)"));
    }
    if body.get("expirableSecret").is_some_and(|v| !v.is_boolean()) {
        return Some(required("expirableSecret (boolean)"));
    }
    if body.get("expireAfterHours").is_some_and(|v| !v.is_i64()) {
        return Some(required("expireAfterHours (integer)"));
    }
    None
}

pub(super) fn check_code(body: &Value) -> Option<Answer> {
    let props = body.get("properties").filter(|p| p.is_object());
    let Some(props) = props else {
        return Some(required("properties"));
    };
    if props.get("codeUri").and_then(Value::as_str).is_none() {
        return Some(required("properties.codeUri"));
    }
    if let Some(p) = props.get("properties")
        && !p
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string))
    {
        return Some(required("properties.properties (map of strings)"));
    }
    None
}

pub(super) fn check_component(body: &Value) -> Option<Answer> {
    let props = body.get("properties").filter(|p| p.is_object());
    let Some(props) = props else {
        return Some(required("properties"));
    };
    let Some(spec) = props.get("componentSpec").filter(|s| s.is_object()) else {
        return Some(required("properties.componentSpec"));
    };
    if spec.get("type").and_then(Value::as_str).is_none() {
        return Some(required("properties.componentSpec.type"));
    }
    if props.get("isAnonymous").is_some_and(|v| !v.is_boolean()) {
        return Some(required("properties.isAnonymous (boolean)"));
    }
    None
}

pub(super) fn check_job(s: &State, body: &Value) -> Option<Answer> {
    let Some(props) = body.get("properties").and_then(Value::as_object) else {
        return Some(required("properties"));
    };
    let Some(job_type) = props.get("jobType").and_then(Value::as_str) else {
        return Some(required("properties.jobType"));
    };
    if !enums::JOB_TYPE.contains(&job_type) {
        return Some(bad_enum("properties.jobType", job_type, enums::JOB_TYPE));
    }
    if let Some(compute_id) = props.get("computeId").and_then(Value::as_str)
        && let Some(answer) = check_compute_ref(s, compute_id, "properties.computeId")
    {
        return Some(answer);
    }
    for (name, input) in object_entries(props.get("inputs")) {
        let target = format!("properties.inputs.{name}");
        let Some(kind) = input.get("jobInputType").and_then(Value::as_str) else {
            return Some(required(&format!("{target}.jobInputType")));
        };
        if !enums::JOB_INPUT_TYPE.contains(&kind) {
            return Some(bad_enum(
                &format!("{target}.jobInputType"),
                kind,
                enums::JOB_INPUT_TYPE,
            ));
        }
        let needed = if kind == "literal" { "value" } else { "uri" };
        if input.get(needed).and_then(Value::as_str).is_none() {
            return Some(required(&format!("{target}.{needed}")));
        }
        if let Some(mode) = input.get("mode").and_then(Value::as_str)
            && !enums::INPUT_DELIVERY_MODE.contains(&mode)
        {
            return Some(bad_enum(
                &format!("{target}.mode"),
                mode,
                enums::INPUT_DELIVERY_MODE,
            ));
        }
    }
    for (name, output) in object_entries(props.get("outputs")) {
        let target = format!("properties.outputs.{name}");
        let Some(kind) = output.get("jobOutputType").and_then(Value::as_str) else {
            return Some(required(&format!("{target}.jobOutputType")));
        };
        if !enums::JOB_OUTPUT_TYPE.contains(&kind) {
            return Some(bad_enum(
                &format!("{target}.jobOutputType"),
                kind,
                enums::JOB_OUTPUT_TYPE,
            ));
        }
        if let Some(mode) = output.get("mode").and_then(Value::as_str)
            && !enums::OUTPUT_DELIVERY_MODE.contains(&mode)
        {
            return Some(bad_enum(
                &format!("{target}.mode"),
                mode,
                enums::OUTPUT_DELIVERY_MODE,
            ));
        }
    }
    if job_type == "Pipeline" {
        if let Some(jobs) = props.get("jobs")
            && !jobs.is_object()
        {
            return Some(required("properties.jobs (object)"));
        }
        for (node, spec) in object_entries(props.get("jobs")) {
            let target = format!("properties.jobs.{node}");
            if !spec.is_object() {
                return Some(required(&format!("{target} (object)")));
            }
            if let Some(component) = spec.get("componentId").and_then(Value::as_str) {
                let known = component
                    .split_once("/components/")
                    .and_then(|(_, rest)| rest.split_once("/versions/"))
                    .is_some_and(|(n, v)| s.components.contains_key(&(n.to_owned(), v.to_owned())));
                if !known {
                    return Some(error(
                        400,
                        "UserError",
                        &format!("Component '{component}' of node '{node}' was not found."),
                        Some(&format!("{target}.componentId")),
                    ));
                }
            }
            if let Some(compute_id) = spec.get("computeId").and_then(Value::as_str)
                && let Some(answer) =
                    check_compute_ref(s, compute_id, &format!("{target}.computeId"))
            {
                return Some(answer);
            }
        }
        if let Some(settings) = props.get("settings")
            && !settings.is_object()
        {
            return Some(required("properties.settings (object)"));
        }
    }
    None
}

pub(super) fn check_compute_ref(s: &State, compute_id: &str, target: &str) -> Option<Answer> {
    let name = compute_id.rsplit('/').next().unwrap_or(compute_id);
    if s.computes.contains_key(name) {
        None
    } else {
        Some(error(
            400,
            "UserError",
            &format!(
                "Compute '{name}' was not found in workspace '{}'.",
                s.options.workspace_name
            ),
            Some(target),
        ))
    }
}

pub(super) fn object_entries(value: Option<&Value>) -> Vec<(String, Value)> {
    value
        .and_then(Value::as_object)
        .map(|m: &Map<String, Value>| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}
