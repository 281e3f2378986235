//! Request-body checks of the fake against the REST contract (api-version 2025-12-01 models and
//! enums): required fields, discriminators, enum values. A failed check is a 400 with an ARM
//! error body naming the offending field as `target`.

use serde_json::{Map, Value};

use super::{Answer, State, error};

/// Enum values of api-version 2025-12-01 the fake validates against: read from the contract fact
/// file the tests check our bodies with (`tests/contract/arm-2025-12-01.txt`), so the fake and
/// the tests cannot disagree.
pub(super) mod enums {
    use std::sync::LazyLock;

    /// The fact file, compiled in.
    const CONTRACT: &str = include_str!("../../../tests/contract/arm-2025-12-01.txt");

    /// The values of `enum NAME: …` in the contract (empty when it has no such line, which the
    /// unit test below rules out).
    fn values(name: &str) -> Vec<&'static str> {
        CONTRACT
            .lines()
            .filter_map(|l| l.strip_prefix("enum "))
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim() == name)
            .map(|(_, v)| v.split_whitespace().collect())
            .unwrap_or_default()
    }

    macro_rules! contract_enums {
        ($($konst:ident = $name:literal;)*) => {
            $(
                #[doc = concat!("`", $name, "` values.")]
                pub static $konst: LazyLock<Vec<&'static str>> = LazyLock::new(|| values($name));
            )*
            #[cfg(test)]
            #[test]
            fn every_enum_is_in_the_contract() {
                $( assert!(!$konst.is_empty(), "no `enum {}` in the contract", $name); )*
            }
        };
    }

    contract_enums! {
        JOB_TYPE = "JobType";
        JOB_INPUT_TYPE = "JobInputType";
        JOB_OUTPUT_TYPE = "JobOutputType";
        INPUT_DELIVERY_MODE = "InputDeliveryMode";
        OUTPUT_DELIVERY_MODE = "OutputDeliveryMode";
        PENDING_UPLOAD_TYPE = "PendingUploadType";
        JOB_STATUS = "JobStatus";
    }
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
    if let Some(answer) = super::node_kinds::check_component_spec(spec) {
        return Some(answer);
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
        return Some(bad_enum("properties.jobType", job_type, &enums::JOB_TYPE));
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
                &enums::JOB_INPUT_TYPE,
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
                &enums::INPUT_DELIVERY_MODE,
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
                &enums::JOB_OUTPUT_TYPE,
            ));
        }
        if let Some(mode) = output.get("mode").and_then(Value::as_str)
            && !enums::OUTPUT_DELIVERY_MODE.contains(&mode)
        {
            return Some(bad_enum(
                &format!("{target}.mode"),
                mode,
                &enums::OUTPUT_DELIVERY_MODE,
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
            if let Some(answer) = super::node_kinds::check_node(s, &target, &spec) {
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
