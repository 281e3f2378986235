//! The enums every Azure ML resource shares (asset types, delivery modes, component types),
//! and every wire model re-exported under one path: `wire::rest::X` names the same type as
//! `wire::job::X`, `wire::component::X`, … (reference: `azureml-rest.md` §3–§5).

use serde::{Deserialize, Serialize};

use crate::graph::{AssetType, InputMode, OutputMode};

pub use super::code::*;
pub use super::component::*;
pub use super::datastore::*;
pub use super::job::*;
pub use super::workspace::*;

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
    /// A data transfer component / node (a copy step).
    DataTransfer,
    /// A Spark component / node.
    Spark,
}
