//! The fake's checks of the node and component kinds beyond `command` and `pipeline`: the
//! `data_transfer` copy (task `copy_data`, a `data_copy_mode` of the two the service knows, on a
//! Data Factory compute) and `spark` (an entry file, the driver and executor settings the service
//! requires, `direct` data ports, and an attached Synapse pool or serverless `resources`), as
//! Microsoft's SDK (azure-ai-ml 1.35.2, `entities/_job/spark_helpers.py`,
//! `entities/_component/datatransfer_component.py`) checks them before the service does.

use serde_json::Value;

use super::validate::{bad_enum, required};
use super::{Answer, State};

/// Node and component types of a pipeline the fake knows.
pub(super) const NODE_TYPES: &[&str] = &["command", "pipeline", "data_transfer", "spark"];
/// The data transfer tasks a pipeline node may run (`import_data`/`export_data` are deprecated).
const TASKS: &[&str] = &["copy_data"];
const COPY_MODES: &[&str] = &["merge_with_overwrite", "fail_if_conflict"];
/// Spark settings the service requires (without dynamic allocation).
const SPARK_CONF: &[&str] = &[
    "spark.driver.cores",
    "spark.driver.memory",
    "spark.executor.cores",
    "spark.executor.memory",
    "spark.executor.instances",
];

/// Checks a pipeline node by its `type`.
pub(super) fn check_node(s: &State, target: &str, node: &Value) -> Option<Answer> {
    let Some(kind) = node.get("type").and_then(Value::as_str) else {
        return Some(required(&format!("{target}.type")));
    };
    match kind {
        "command" | "pipeline" => None,
        "data_transfer" => check_copy(s, target, node),
        "spark" => check_spark(s, target, node),
        other => Some(bad_enum(&format!("{target}.type"), other, NODE_TYPES)),
    }
}

/// Checks a `componentSpec` by its `type`.
pub(super) fn check_component_spec(spec: &Value) -> Option<Answer> {
    let target = "properties.componentSpec";
    match spec.get("type").and_then(Value::as_str) {
        Some("data_transfer") => check_copy_fields(target, spec),
        Some("spark") => {
            if spec.get("code").and_then(Value::as_str).is_none() {
                return Some(required(&format!("{target}.code")));
            }
            check_spark_fields(target, spec).or_else(|| check_direct_ports(target, spec))
        }
        Some("command") | Some("pipeline") => None,
        Some(other) => Some(bad_enum(&format!("{target}.type"), other, NODE_TYPES)),
        None => Some(required(&format!("{target}.type"))),
    }
}

fn check_copy_fields(target: &str, v: &Value) -> Option<Answer> {
    match v.get("task").and_then(Value::as_str) {
        None => return Some(required(&format!("{target}.task"))),
        Some(t) if !TASKS.contains(&t) => {
            return Some(bad_enum(&format!("{target}.task"), t, TASKS));
        }
        Some(_) => {}
    }
    if let Some(mode) = v.get("data_copy_mode").and_then(Value::as_str)
        && !COPY_MODES.contains(&mode)
    {
        return Some(bad_enum(
            &format!("{target}.data_copy_mode"),
            mode,
            COPY_MODES,
        ));
    }
    None
}

fn check_copy(s: &State, target: &str, node: &Value) -> Option<Answer> {
    if let Some(a) = check_copy_fields(target, node) {
        return Some(a);
    }
    let Some(compute) = node.get("computeId").and_then(Value::as_str) else {
        return Some(required(&format!(
            "{target}.computeId (a data transfer runs on a DataFactory compute)"
        )));
    };
    compute_of_type(s, target, compute, "DataFactory")
}

fn check_spark(s: &State, target: &str, node: &Value) -> Option<Answer> {
    if let Some(a) = check_spark_fields(target, node) {
        return Some(a);
    }
    match (
        node.get("computeId").and_then(Value::as_str),
        node.get("resources"),
    ) {
        (Some(compute), None) => compute_of_type(s, target, compute, "SynapseSpark"),
        (None, Some(r)) => {
            for key in ["instance_type", "runtime_version"] {
                if r.get(key).and_then(Value::as_str).is_none() {
                    return Some(required(&format!("{target}.resources.{key}")));
                }
            }
            None
        }
        _ => Some(super::error(
            400,
            "UserError",
            "A Spark job runs on either an attached Synapse Spark pool (computeId) or serverless Spark (resources), exactly one.",
            Some(target),
        )),
    }
}

fn check_spark_fields(target: &str, v: &Value) -> Option<Answer> {
    if v.pointer("/entry/file").and_then(Value::as_str).is_none() {
        return Some(required(&format!("{target}.entry.file")));
    }
    let conf = v.get("conf");
    for key in SPARK_CONF {
        if conf.and_then(|c| c.get(*key)).is_none() {
            return Some(required(&format!("{target}.conf.{key}")));
        }
    }
    None
}

/// Spark components take their data as URIs only.
fn check_direct_ports(target: &str, spec: &Value) -> Option<Answer> {
    for side in ["inputs", "outputs"] {
        for (name, port) in spec
            .get(side)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let data = port
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.starts_with("uri_") || t == "mltable");
            let mode = port.get("mode").and_then(Value::as_str);
            if data && mode.is_some_and(|m| m != "direct") {
                return Some(bad_enum(
                    &format!("{target}.{side}.{name}.mode"),
                    mode.unwrap_or_default(),
                    &["direct"],
                ));
            }
        }
    }
    None
}

fn compute_of_type(s: &State, target: &str, compute_id: &str, want: &str) -> Option<Answer> {
    let name = compute_id.rsplit('/').next().unwrap_or(compute_id);
    let found = s.computes.get(name)?;
    let kind = found
        .pointer("/properties/computeType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    (kind != want).then(|| {
        super::error(
            400,
            "UserError",
            &format!("Compute '{name}' is of type {kind}; this node needs a {want} compute."),
            Some(&format!("{target}.computeId")),
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(spec: Value) -> String {
        match check_component_spec(&spec) {
            Some(answer) => format!("{answer:?}"),
            None => String::new(),
        }
    }

    #[test]
    fn copy_and_spark_components_are_checked_as_the_service_would() {
        let copy = json!({"type": "data_transfer", "task": "copy_data",
                          "data_copy_mode": "merge_with_overwrite"});
        assert_eq!(refused(copy.clone()), "");
        let mut bad = copy.clone();
        bad["task"] = json!("import_data");
        assert!(refused(bad).contains("task"));
        let mut bad = copy;
        bad["data_copy_mode"] = json!("overwrite");
        assert!(refused(bad).contains("data_copy_mode"));

        let conf = json!({"spark.driver.cores": 1, "spark.driver.memory": "2g",
                          "spark.executor.cores": 2, "spark.executor.memory": "2g",
                          "spark.executor.instances": 2});
        let spark = json!({"type": "spark", "code": "azureml:/x", "entry": {"file": "m.py"},
                           "conf": conf, "inputs": {"d": {"type": "uri_folder", "mode": "direct"}}});
        assert_eq!(refused(spark.clone()), "");
        let mut bad = spark.clone();
        bad["conf"]
            .as_object_mut()
            .unwrap()
            .remove("spark.executor.memory");
        assert!(refused(bad).contains("spark.executor.memory"));
        let mut bad = spark.clone();
        bad["inputs"]["d"]["mode"] = json!("ro_mount");
        assert!(refused(bad).contains("inputs.d.mode"));
        let mut bad = spark;
        bad.as_object_mut().unwrap().remove("entry");
        assert!(refused(bad).contains("entry.file"));
        assert!(
            refused(json!({"type": "databricks"})).contains("'databricks' is not a valid value")
        );
    }
}
