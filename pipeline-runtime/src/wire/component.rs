//! Components (`{WS}/components/{name}/versions/{version}`): the component version body we
//! send (a command or pipeline `componentSpec` in the snake_case form Microsoft's SDK writes),
//! the anonymous-component envelope, and the resource the service answers.

use std::borrow::Cow;
use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::job::NodeJob;
use super::rest::ComponentType;

/// `PUT {WS}/components/{name}/versions/{version}` body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentVersion {
    /// Properties.
    pub properties: ComponentVersionProperties,
}

/// `ComponentVersion.properties`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentVersionProperties {
    /// The component, as its YAML would read.
    pub component_spec: ComponentSpec,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Properties.
    pub properties: BTreeMap<String, String>,
    /// Anonymous components are identified by their content hash.
    pub is_anonymous: bool,
    /// Always false.
    pub is_archived: bool,
}

/// A `componentSpec`: a command component or a pipeline component.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentSpec {
    /// Component name.
    pub name: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `command` or `pipeline`.
    #[serde(rename = "type")]
    pub component_type: ComponentType,
    /// Command line (command components).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// `azureml:<code asset ARM id>` (command components with a snapshot).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Environment reference (command components).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Inputs.
    pub inputs: IndexMap<String, ComponentInput>,
    /// Outputs.
    pub outputs: IndexMap<String, ComponentOutput>,
    /// Whether the service may reuse earlier results (the step's `reuse`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deterministic: Option<bool>,
    /// Nodes (pipeline components).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<IndexMap<String, NodeJob>>,
    /// What only data transfer and Spark components carry.
    #[serde(flatten)]
    pub kind_fields: ComponentKindFields,
}

/// The fields of a `data_transfer` component (`task`, `data_copy_mode`) and of a `spark`
/// component (`code` is shared; `entry`, `py_files`, `conf`, `args`), in the snake_case form
/// Microsoft's SDK writes; all absent from command and pipeline components.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ComponentKindFields {
    /// `copy_data` (data transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// `merge_with_overwrite` or `fail_if_conflict` (data transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_copy_mode: Option<String>,
    /// `{"file": "main.py"}` (Spark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<Value>,
    /// Python files for the `PYTHONPATH` (Spark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub py_files: Option<Vec<String>>,
    /// Spark settings; cores and instance counts are numbers, as the SDK sends them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conf: Option<IndexMap<String, Value>>,
    /// The entry's arguments, with `${{inputs.x}}` / `${{outputs.y}}` (Spark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<String>,
}

/// A component input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentInput {
    /// Type (`uri_folder`, `integer`, …).
    #[serde(rename = "type")]
    pub input_type: Cow<'static, str>,
    /// Default value, a string whatever the type (`"3"`), as Microsoft's SDK sends it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The input may be left unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// Smallest value of a number, as a string (`"1"`), as the SDK sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// Largest value of a number, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// The values a string may take.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// Delivery mode as the component YAML writes it (`direct`, on Spark components only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Cow<'static, str>>,
}

impl ComponentInput {
    /// An input of `input_type` with the rules of `rules` and no default.
    pub fn new(input_type: &'static str, rules: &crate::graph::InputRules) -> Self {
        ComponentInput {
            input_type: Cow::Borrowed(input_type),
            default: None,
            optional: rules.optional.then_some(true),
            min: rules.min.map(|b| b.to_wire()),
            max: rules.max.map(|b| b.to_wire()),
            allowed: (!rules.allowed.is_empty())
                .then(|| rules.allowed.iter().map(|a| (*a).to_owned()).collect()),
            mode: None,
        }
    }
}

/// A component output.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentOutput {
    /// Asset type.
    #[serde(rename = "type")]
    pub output_type: Cow<'static, str>,
    /// Delivery mode as the component YAML writes it (`upload`, `rw_mount`). Pipeline components
    /// carry the mode of the node output each output promotes; a command step's mode is set on
    /// its node instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Cow<'static, str>>,
}

/// `PUT components/azureml_anonymous/versions/{v}` around any `componentSpec`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnonymousComponentVersion<'a, S: Serialize> {
    /// Properties.
    pub properties: AnonymousComponentProperties<'a, S>,
}

/// `properties` of an [`AnonymousComponentVersion`].
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AnonymousComponentProperties<'a, S: Serialize> {
    /// The component.
    pub component_spec: &'a S,
    /// Always true.
    pub is_anonymous: bool,
    /// Always false.
    pub is_archived: bool,
}

impl<'a, S: Serialize> AnonymousComponentVersion<'a, S> {
    /// The body registering `component_spec` anonymously.
    pub fn new(component_spec: &'a S) -> Self {
        Self {
            properties: AnonymousComponentProperties {
                component_spec,
                is_anonymous: true,
                is_archived: false,
            },
        }
    }
}

/// A component version resource as the service answers it (`GET`/`PUT {WS}/components/{name}/versions/{version}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentVersionResource {
    /// ARM id, `…/components/{name}/versions/{version}`: what a pipeline node's `componentId` is.
    #[serde(default)]
    pub id: String,
    /// The version.
    #[serde(default)]
    pub name: String,
    /// Properties.
    pub properties: ComponentVersionResourceProperties,
}

/// `properties` of a [`ComponentVersionResource`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ComponentVersionResourceProperties {
    /// The component definition as the service returns it (with fields it adds, such as
    /// `$schema` and `version`), kept whole and never read by path.
    #[serde(rename = "componentSpec", default)]
    pub component_spec: Value,
    /// Anonymous (unnamed) component.
    #[serde(rename = "isAnonymous", default)]
    pub is_anonymous: bool,
    /// Archived.
    #[serde(rename = "isArchived", default)]
    pub is_archived: bool,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Asset properties.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// `Succeeded`, `Creating`, … (read-only).
    #[serde(
        rename = "provisioningState",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub provisioning_state: Option<String>,
}
