//! The copy step on the wire: Azure ML's `data_transfer` component and node with the
//! `copy_data` task (the seed's `DataTransferStep`). Azure ML marks `data_transfer` as
//! experimental; it runs on a Data Factory compute attached to the workspace.
//!
//! Shapes as Microsoft's SDK (azure-ai-ml 1.35.2, `entities/_component/datatransfer_component.py`,
//! `entities/_builders/data_transfer.py`) writes them: the component carries `type:
//! data_transfer`, `task: copy_data` and `data_copy_mode`; the node repeats `task` and
//! `data_copy_mode` beside its `componentId` and `computeId`.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::component::{ComponentInput, ComponentKindFields, ComponentOutput, ComponentSpec};
use super::job::NodeKindFields;
use super::lower::{CommandModel, ComponentModel};
use super::rest::ComponentType;
use crate::graph::CopyStep;

/// The only data transfer task a pipeline node runs.
pub const COPY_TASK: &str = "copy_data";

/// The `componentSpec` of a copy step.
pub(super) fn component_spec(
    c: &ComponentModel<'_>,
    cmd: &CommandModel,
    copy: &CopyStep,
) -> ComponentSpec {
    ComponentSpec {
        name: c.name.to_owned(),
        display_name: c.display_name.map(str::to_owned),
        description: c.description.map(str::to_owned),
        component_type: ComponentType::DataTransfer,
        command: None,
        code: None,
        environment: None,
        inputs: cmd
            .inputs
            .iter()
            .map(|(name, ty, rules)| ((*name).to_owned(), ComponentInput::new(ty.as_str(), rules)))
            .collect(),
        outputs: cmd
            .outputs
            .iter()
            .map(|(name, ty)| {
                (
                    (*name).to_owned(),
                    ComponentOutput {
                        output_type: Cow::Borrowed(ty.as_str()),
                        mode: None,
                    },
                )
            })
            .collect(),
        is_deterministic: Some(cmd.is_deterministic),
        jobs: None,
        kind_fields: ComponentKindFields {
            task: Some(COPY_TASK.to_owned()),
            data_copy_mode: copy.mode.map(|m| m.as_str().to_owned()),
            ..ComponentKindFields::default()
        },
    }
}

/// `task` and `data_copy_mode` of a copy node.
pub(super) fn node_fields(copy: &CopyStep) -> NodeKindFields {
    NodeKindFields {
        task: Some(COPY_TASK.to_owned()),
        data_copy_mode: copy.mode.map(|m| m.as_str().to_owned()),
        ..NodeKindFields::default()
    }
}

/// The inline component of a copy node in the job YAML (`header` holds `$schema`, `name`, …).
pub(super) fn yaml_component(
    mut header: Map<String, Value>,
    cmd: &CommandModel,
    copy: &CopyStep,
    inputs: Map<String, Value>,
) -> Map<String, Value> {
    header.insert("task".into(), COPY_TASK.into());
    if let Some(m) = copy.mode {
        header.insert("data_copy_mode".into(), m.as_str().into());
    }
    header.insert("inputs".into(), inputs.into());
    let outs: Map<String, Value> = cmd
        .outputs
        .iter()
        .map(|(name, ty)| ((*name).to_owned(), json!({ "type": ty.as_str() })))
        .collect();
    header.insert("outputs".into(), outs.into());
    header.insert("is_deterministic".into(), cmd.is_deterministic.into());
    header
}

/// The `$schema` of a data transfer component.
pub(super) const SCHEMA: &str =
    "https://azuremlschemas.azureedge.net/latest/dataTransferComponent.schema.json";
