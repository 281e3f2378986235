//! The Spark step on the wire: Azure ML's `spark` component and node (the successor of the
//! seed's `DatabricksStep`), on serverless Spark (`resources.instance_type` and
//! `runtime_version`) or an attached Synapse Spark pool (`computeId`).
//!
//! Shapes as Microsoft's SDK (azure-ai-ml 1.35.2, `entities/_component/spark_component.py`,
//! `entities/_builders/spark.py`, `entities/_job/spark_helpers.py`) writes and checks them: the
//! component has `code`, `entry: {file}`, `py_files`, `conf` (with the five driver and executor
//! settings Azure ML requires, cores and counts as numbers), `args`, and its data ports in
//! `direct` mode, the only one Spark jobs take; the node repeats `entry` (with
//! `spark_job_entry_type`), `py_files`, `conf` and `args`, and names its identity: the
//! workspace's managed identity on an attached pool, the user's on serverless Spark, as the SDK
//! defaults them.

use std::borrow::Cow;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::WireError;
use super::component::{ComponentInput, ComponentKindFields, ComponentOutput, ComponentSpec};
use super::job::NodeKindFields;
use super::lower::{CommandModel, ComponentModel};
use super::rest::ComponentType;
use super::to_rest::WireContext;
use crate::graph::{PortType, SparkStep, StepDef};

/// The `$schema` of a Spark component.
pub(super) const SCHEMA: &str =
    "https://azuremlschemas.azureedge.net/latest/sparkComponent.schema.json";

/// `conf`: the five resource settings as the SDK types them (cores and counts as numbers),
/// then the step's own settings as strings.
fn conf(spark: &SparkStep) -> IndexMap<String, Value> {
    let mut m = IndexMap::new();
    m.insert("spark.driver.cores".into(), spark.driver_cores.into());
    m.insert("spark.driver.memory".into(), spark.driver_memory.into());
    m.insert("spark.executor.cores".into(), spark.executor_cores.into());
    m.insert("spark.executor.memory".into(), spark.executor_memory.into());
    m.insert(
        "spark.executor.instances".into(),
        spark.executor_instances.into(),
    );
    for (k, v) in spark.conf {
        m.insert((*k).to_owned(), (*v).into());
    }
    m
}

fn direct(ty: PortType) -> Option<Cow<'static, str>> {
    matches!(ty, PortType::Data(_)).then_some(Cow::Borrowed("direct"))
}

fn py_files(spark: &SparkStep) -> Option<Vec<String>> {
    (!spark.py_files.is_empty()).then(|| spark.py_files.iter().map(|f| (*f).to_owned()).collect())
}

/// The `componentSpec` of a Spark step.
pub(super) fn component_spec(
    c: &ComponentModel<'_>,
    cmd: &CommandModel,
    spark: &SparkStep,
    ctx: &WireContext,
) -> Result<ComponentSpec, WireError> {
    let step = cmd.step;
    let code = match &cmd.code {
        Some(path) => Some(format!(
            "azureml:{}",
            ctx.code
                .get(path)
                .ok_or_else(|| WireError::CodeNotUploaded {
                    step: step.name,
                    path: path.clone(),
                })?
        )),
        None => None,
    };
    Ok(ComponentSpec {
        name: c.name.to_owned(),
        display_name: c.display_name.map(str::to_owned),
        description: c.description.map(str::to_owned),
        component_type: ComponentType::Spark,
        command: None,
        code,
        environment: None,
        inputs: cmd
            .inputs
            .iter()
            .map(|(name, ty, rules)| {
                (
                    (*name).to_owned(),
                    ComponentInput {
                        mode: direct(*ty),
                        ..ComponentInput::new(ty.as_str(), rules)
                    },
                )
            })
            .collect(),
        outputs: cmd
            .outputs
            .iter()
            .map(|(name, ty)| {
                (
                    (*name).to_owned(),
                    ComponentOutput {
                        output_type: Cow::Borrowed(ty.as_str()),
                        mode: Some(Cow::Borrowed("direct")),
                    },
                )
            })
            .collect(),
        is_deterministic: Some(cmd.is_deterministic),
        jobs: None,
        kind_fields: ComponentKindFields {
            entry: Some(json!({ "file": step.script.unwrap_or_default() })),
            py_files: py_files(spark),
            conf: Some(conf(spark)),
            args: (!cmd.command.is_empty()).then(|| cmd.command.to_owned()),
            ..ComponentKindFields::default()
        },
    })
}

/// The identity a Spark node runs as: the workspace's managed identity on an attached pool,
/// the submitting user's on serverless Spark (the SDK's defaults).
fn identity(step: &StepDef) -> (&'static str, &'static str) {
    match step.compute {
        Some(_) => ("Managed", "managed"),
        None => ("UserIdentity", "user_identity"),
    }
}

/// `entry`, `py_files`, `conf`, `args` and `identity` of a Spark node.
pub(super) fn node_fields(step: &StepDef, spark: &SparkStep) -> NodeKindFields {
    NodeKindFields {
        entry: Some(json!({
            "file": step.script.unwrap_or_default(),
            "spark_job_entry_type": "SparkJobPythonEntry",
        })),
        py_files: py_files(spark),
        conf: Some(conf(spark)),
        args: (!step.command.is_empty()).then(|| step.command.to_owned()),
        identity: Some(json!({ "identity_type": identity(step).0 })),
        ..NodeKindFields::default()
    }
}

/// The inline component of a Spark node in the job YAML (`header` holds `$schema`, `name`,
/// …; `code` is the relative path of the code folder).
pub(super) fn yaml_component(
    mut header: Map<String, Value>,
    cmd: &CommandModel,
    spark: &SparkStep,
    code: Option<String>,
    mut inputs: Map<String, Value>,
) -> Map<String, Value> {
    if let Some(code) = code {
        header.insert("code".into(), code.into());
    }
    header.insert(
        "entry".into(),
        json!({ "file": cmd.step.script.unwrap_or_default() }),
    );
    if let Some(files) = py_files(spark) {
        header.insert("py_files".into(), files.into());
    }
    header.insert("conf".into(), json!(conf(spark)));
    if !cmd.command.is_empty() {
        header.insert("args".into(), cmd.command.into());
    }
    for ((_, ty, _), (_, v)) in cmd.inputs.iter().zip(inputs.iter_mut()) {
        if let (Some(mode), Value::Object(m)) = (direct(*ty), v) {
            m.insert("mode".into(), mode.into_owned().into());
        }
    }
    header.insert("inputs".into(), inputs.into());
    let outs: Map<String, Value> = cmd
        .outputs
        .iter()
        .map(|(name, ty)| {
            (
                (*name).to_owned(),
                json!({ "type": ty.as_str(), "mode": "direct" }),
            )
        })
        .collect();
    header.insert("outputs".into(), outs.into());
    header.insert("is_deterministic".into(), cmd.is_deterministic.into());
    header
}

/// What a Spark node says beside its component in the job YAML: `resources` on serverless
/// Spark, and its identity.
pub(super) fn yaml_node(job: &mut Map<String, Value>, step: &StepDef, spark: &SparkStep) {
    if step.compute.is_none() {
        let mut r = Map::new();
        if let Some(t) = step.instance_type {
            r.insert("instance_type".into(), t.into());
        }
        if let Some(v) = spark.runtime_version {
            r.insert("runtime_version".into(), v.into());
        }
        job.insert("resources".into(), r.into());
    }
    job.insert("identity".into(), json!({ "type": identity(step).1 }));
}
