//! The Azure ML REST bodies we send, field for field (reference: `azureml-rest.md` §3–§5).
//!
//! Job level and asset envelopes use the ARM camelCase models; nodes inside `jobs` and the
//! `componentSpec` use the snake_case component/node format Microsoft's SDK writes.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::graph::{AssetType, InputMode, OutputMode};

/// `PUT {WS}/jobs/{name}` body (`JobBase`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobBase {
    /// The `PipelineJob` properties.
    pub properties: PipelineJob,
}

/// `JobBase.properties` with `jobType: Pipeline`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineJob {
    /// The discriminator: `Pipeline`.
    pub job_type: JobType,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Experiment.
    pub experiment_name: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Properties (git information and the like).
    pub properties: BTreeMap<String, String>,
    /// ARM id of the default compute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_id: Option<String>,
    /// Always false for a new job.
    pub is_archived: bool,
    /// Pipeline inputs.
    pub inputs: IndexMap<String, JobInput>,
    /// Pipeline outputs.
    pub outputs: IndexMap<String, JobOutput>,
    /// Nodes, by node name.
    pub jobs: IndexMap<String, NodeJob>,
    /// Settings.
    pub settings: PipelineSettings,
}

/// A pipeline-level input (`JobInput`, discriminated by `jobInputType`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobInput {
    /// The discriminator.
    pub job_input_type: JobInputType,
    /// Literal value (always a string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Data URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// `InputDeliveryMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<InputDeliveryMode>,
}

/// A pipeline-level output (`JobOutput`, discriminated by `jobOutputType`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobOutput {
    /// The discriminator.
    pub job_output_type: JobInputType,
    /// Where the output is written (`path` of the output; set by the service in answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The data asset the output is registered as. (API 2025-12-01 has no `assetVersion`: the
    /// service picks the next version; the YAML carries `version`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_name: Option<String>,
    /// `OutputDeliveryMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<OutputDeliveryMode>,
}

/// `settings` of a pipeline job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PipelineSettings {
    /// ARM id of the default compute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_compute: Option<String>,
    /// ARM id of the default datastore.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_datastore: Option<String>,
    /// Keep running independent branches after a failure.
    pub continue_on_step_failure: bool,
    /// Run every step even if it could be reused (`--regenerate-outputs`).
    pub force_rerun: bool,
}

/// A node in `jobs` (snake_case keys plus `componentId` / `computeId`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeJob {
    /// Node name (equals its key).
    pub name: String,
    /// `command` or `pipeline`.
    #[serde(rename = "type")]
    pub node_type: ComponentType,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// ARM id of the component version.
    #[serde(rename = "componentId")]
    pub component_id: String,
    /// ARM id of the compute, when the step names one.
    #[serde(rename = "computeId", skip_serializing_if = "Option::is_none")]
    pub compute_id: Option<String>,
    /// Input bindings.
    pub inputs: IndexMap<String, NodeInput>,
    /// Output bindings.
    pub outputs: IndexMap<String, NodeOutput>,
    /// `{"instance_count": N, "instance_type": …, "shm_size": …, "docker_args": …}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// `{"job_limits_type": "Command", "timeout": "PT30S"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<CommandLimits>,
    /// Environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_variables: Option<BTreeMap<String, String>>,
}

/// `resources` of a command node (`JobResourceConfiguration` in the node's snake_case form, as
/// Microsoft's SDK writes it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Resources {
    /// Node count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_count: Option<u32>,
    /// VM size or instance type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Size of `/dev/shm` (`2g`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<String>,
    /// Extra `docker run` arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_args: Option<String>,
}

/// `limits` of a command node (`CommandJobLimits` in the node's snake_case form).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommandLimits {
    /// Always `Command`.
    pub job_limits_type: String,
    /// ISO 8601 duration (`PT30S`), as the SDK sends `timeout=30`.
    pub timeout: String,
}

impl CommandLimits {
    /// Limits with a timeout of `seconds`.
    pub fn timeout(seconds: u64) -> Self {
        CommandLimits {
            job_limits_type: "Command".to_owned(),
            timeout: format!("PT{seconds}S"),
        }
    }
}

/// A node input: a binding (`${{parent...}}` as a literal) or data given directly.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeInput {
    /// `literal` for bindings and values, an asset type for data.
    pub job_input_type: JobInputType,
    /// The binding or the literal value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Data URI, for data given directly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// `InputDeliveryMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<InputDeliveryMode>,
}

/// A node output: promoted to a pipeline output, or unbound.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum NodeOutput {
    /// `{"value": "${{parent.outputs.x}}", "type": "literal", "mode": ...}`.
    Binding {
        /// The binding.
        value: String,
        /// Always `literal`.
        #[serde(rename = "type")]
        kind: JobInputType,
        /// `OutputDeliveryMode`, as Microsoft's SDK adds it to an output binding.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<OutputDeliveryMode>,
    },
    /// `{"job_output_type": "uri_folder", "mode": ...}`.
    Unbound {
        /// Asset type.
        job_output_type: JobInputType,
        /// `OutputDeliveryMode`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<OutputDeliveryMode>,
    },
}

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

/// `GET {WS}/data/{name}`: a data asset container (`DataContainer`), the fields we read.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct DataContainer {
    /// ARM id.
    #[serde(default)]
    pub id: String,
    /// The asset name.
    #[serde(default)]
    pub name: String,
    /// Properties.
    pub properties: DataContainerProperties,
}

/// `DataContainer.properties`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DataContainerProperties {
    /// `uri_file`, `uri_folder` or `mltable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// The most recently created version (read-only): what `azureml:NAME@latest` means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_version: Option<String>,
    /// The next version an auto-incrementing create would use (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_version: Option<String>,
    /// Archived.
    #[serde(default)]
    pub is_archived: bool,
}

/// `JobBase.properties.jobType`: the kinds of job this house sends.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum JobType {
    /// A pipeline job.
    Pipeline,
}

/// `jobInputType` / `jobOutputType` / a node binding's `type` (`JobInputType` of the REST API).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobInputType {
    /// A literal value or a `${{…}}` binding.
    Literal,
    /// A file.
    UriFile,
    /// A folder.
    UriFolder,
    /// An MLTable.
    Mltable,
    /// A custom model.
    CustomModel,
    /// An MLflow model.
    MlflowModel,
    /// A Triton model.
    TritonModel,
    /// A type this client does not know (read from an answer; never sent).
    #[serde(other)]
    Unknown,
}

impl From<AssetType> for JobInputType {
    fn from(t: AssetType) -> Self {
        match t {
            AssetType::UriFile => JobInputType::UriFile,
            AssetType::UriFolder => JobInputType::UriFolder,
            AssetType::MlTable => JobInputType::Mltable,
            AssetType::CustomModel => JobInputType::CustomModel,
            AssetType::MlflowModel => JobInputType::MlflowModel,
        }
    }
}

/// `InputDeliveryMode`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum InputDeliveryMode {
    ReadOnlyMount,
    ReadWriteMount,
    Download,
    Direct,
    EvalMount,
    EvalDownload,
    /// A mode this client does not know (read from an answer; never sent).
    #[serde(other)]
    Unknown,
}

impl From<InputMode> for InputDeliveryMode {
    fn from(m: InputMode) -> Self {
        match m {
            InputMode::Download => InputDeliveryMode::Download,
            InputMode::ReadOnlyMount => InputDeliveryMode::ReadOnlyMount,
            InputMode::Direct => InputDeliveryMode::Direct,
        }
    }
}

/// `OutputDeliveryMode`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum OutputDeliveryMode {
    ReadWriteMount,
    Upload,
    Direct,
    /// A mode this client does not know (read from an answer; never sent).
    #[serde(other)]
    Unknown,
}

impl From<OutputMode> for OutputDeliveryMode {
    fn from(m: OutputMode) -> Self {
        match m {
            OutputMode::ReadWriteMount => OutputDeliveryMode::ReadWriteMount,
            OutputMode::Upload => OutputDeliveryMode::Upload,
        }
    }
}

/// A component's (and a node's) `type`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ComponentType {
    /// A command component / node.
    Command,
    /// A pipeline component / node.
    Pipeline,
}

/// A body for `PUT jobs/{name}`: what the client needs to know about it before sending.
pub trait JobRequest: Serialize + Sync {
    /// Whether it is a pipeline job (they carry the user's Azure ML token, as the SDK sends).
    fn is_pipeline(&self) -> bool;
    /// The ARM id of the job's default compute, if it names one.
    fn compute_id(&self) -> Option<&str>;
}

impl JobRequest for JobBase {
    fn is_pipeline(&self) -> bool {
        self.properties.job_type == JobType::Pipeline
    }

    fn compute_id(&self) -> Option<&str> {
        self.properties.compute_id.as_deref()
    }
}

/// A hand-written body (tests send malformed ones on purpose).
impl JobRequest for serde_json::Value {
    fn is_pipeline(&self) -> bool {
        self.pointer("/properties/jobType")
            .and_then(serde_json::Value::as_str)
            == Some("Pipeline")
    }

    fn compute_id(&self) -> Option<&str> {
        self.pointer("/properties/computeId")
            .and_then(serde_json::Value::as_str)
    }
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
