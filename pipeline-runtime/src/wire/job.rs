//! Jobs (`{WS}/jobs/{name}`): the `PipelineJob` body we send (reference: `azureml-rest.md`
//! §3–§5), the job resource the service answers, its status, and the run history's child runs.
//!
//! The job level uses the ARM camelCase models; nodes inside `jobs` use the snake_case node
//! format Microsoft's SDK writes.

use std::collections::BTreeMap;
use std::fmt;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rest::{ComponentType, InputDeliveryMode, JobInputType, OutputDeliveryMode};

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
    /// What only data transfer and Spark nodes carry.
    #[serde(flatten)]
    pub kind_fields: NodeKindFields,
}

/// The fields of a `data_transfer` node (`task`, `data_copy_mode`) and of a `spark` node
/// (`entry`, `py_files`, `conf`, `args`, `identity`), as Microsoft's SDK writes them; all
/// absent from command and pipeline nodes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeKindFields {
    /// `copy_data` (data transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// `merge_with_overwrite` or `fail_if_conflict` (data transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_copy_mode: Option<String>,
    /// `{"file": "main.py", "spark_job_entry_type": "SparkJobPythonEntry"}` (Spark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<serde_json::Value>,
    /// Python files for the `PYTHONPATH` (Spark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub py_files: Option<Vec<String>>,
    /// Spark settings (Spark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conf: Option<IndexMap<String, serde_json::Value>>,
    /// The entry's arguments (Spark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<String>,
    /// `{"identity_type": "Managed"}` on an attached pool, `UserIdentity` on serverless Spark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<serde_json::Value>,
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
    /// The serverless Spark runtime (`3.4`), on Spark nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_version: Option<String>,
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

/// `JobBase.properties.jobType`: the kinds of job this house sends.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum JobType {
    /// A pipeline job.
    Pipeline,
    /// A command job.
    Command,
    /// A sweep job.
    Sweep,
    /// An AutoML job.
    AutoML,
    /// A Spark job.
    Spark,
    /// A kind this client does not know (read from an answer; never sent).
    #[serde(other)]
    Unknown,
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

/// A job resource (`{WS}/jobs/{name}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Job {
    /// ARM id.
    #[serde(default)]
    pub id: String,
    /// Job name (the run id).
    #[serde(default)]
    pub name: String,
    /// Properties.
    pub properties: JobProperties,
}

/// `properties` of a [`Job`]: the common fields typed, the rest (`inputs`, `outputs`, `jobs`,
/// `settings`, …) kept as JSON in `other`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobProperties {
    /// `Pipeline`, `Command`, `Sweep`, `AutoML` or `Spark`.
    #[serde(rename = "jobType")]
    pub job_type: JobType,
    /// Current status (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<JobStatus>,
    /// Display name.
    #[serde(
        rename = "displayName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
    /// Experiment.
    #[serde(
        rename = "experimentName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub experiment_name: Option<String>,
    /// ARM id of the default compute.
    #[serde(rename = "computeId", default, skip_serializing_if = "Option::is_none")]
    pub compute_id: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Job properties (git information under Azure ML's names, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// The job's outputs, with where each was written once the service knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<BTreeMap<String, JobOutput>>,
    /// Endpoints of the job, e.g. `Studio` with the link to the run's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<BTreeMap<String, JobService>>,
    /// Every other field, as sent or returned.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// One entry of a job's `services`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JobService {
    /// Service kind, e.g. `Studio`.
    #[serde(
        rename = "jobServiceType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub job_service_type: Option<String>,
    /// URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// A job's status (`JobStatus` in the REST API). Unknown values read as [`JobStatus::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum JobStatus {
    NotStarted,
    Starting,
    Provisioning,
    Preparing,
    Queued,
    Running,
    Finalizing,
    CancelRequested,
    Completed,
    Failed,
    Canceled,
    NotResponding,
    Paused,
    #[serde(other)]
    Unknown,
}

impl JobStatus {
    /// Whether the job has stopped for good (`Completed`, `Failed`, `Canceled`, `NotResponding`,
    /// `Paused`: the Python SDK's terminal set).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Canceled | Self::NotResponding | Self::Paused
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A run in the run history (a pipeline's child step runs).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Run {
    /// Run id.
    #[serde(rename = "runId")]
    pub run_id: String,
    /// Parent run id.
    #[serde(rename = "parentRunId", default)]
    pub parent_run_id: Option<String>,
    /// Root run id.
    #[serde(rename = "rootRunId", default)]
    pub root_run_id: Option<String>,
    /// Status, e.g. `Running`.
    #[serde(default)]
    pub status: Option<String>,
    /// Display name (the node name for pipeline steps).
    #[serde(rename = "displayName", default)]
    pub display_name: Option<String>,
    /// Run type.
    #[serde(rename = "runType", default)]
    pub run_type: Option<String>,
    /// Compute target.
    #[serde(default)]
    pub target: Option<String>,
    /// Start time (UTC, ISO 8601).
    #[serde(rename = "startTimeUtc", default)]
    pub start_time_utc: Option<String>,
    /// End time (UTC, ISO 8601).
    #[serde(rename = "endTimeUtc", default)]
    pub end_time_utc: Option<String>,
    /// Run properties.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Error, when failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RunError>,
}

impl Run {
    /// The service's message for a failed run: `error.error.message`, else `error.message`.
    pub fn error_message(&self) -> Option<&str> {
        let e = self.error.as_ref()?;
        e.error
            .as_ref()
            .and_then(|d| d.message.as_deref())
            .or(e.message.as_deref())
    }
}

/// The `error` of a run in the run history (an `ErrorResponse`, or a bare message).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunError {
    /// The error detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RunErrorDetail>,
    /// A message given without the `error` envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `error.error` of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunErrorDetail {
    /// Error code, e.g. `UserError`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One page of the run history's children list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunPage {
    /// The runs on this page.
    #[serde(default)]
    pub value: Vec<Run>,
    /// The next page, if any.
    #[serde(rename = "nextLink", default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_answer_reads_typed() {
        let job: Job = serde_json::from_value(serde_json::json!({
            "id": "/x/jobs/j1",
            "name": "j1",
            "properties": {
                "jobType": "Pipeline",
                "status": "Running",
                "properties": {"azureml.git.branch": "main"},
                "services": {"Studio": {"jobServiceType": "Studio", "endpoint": "https://s"}},
                "settings": {"force_rerun": false}
            }
        }))
        .unwrap();
        assert_eq!(job.properties.job_type, JobType::Pipeline);
        assert_eq!(job.properties.status, Some(JobStatus::Running));
        assert_eq!(job.properties.properties["azureml.git.branch"], "main");
        assert!(job.properties.other.contains_key("settings"));
    }

    #[test]
    fn unknown_job_kinds_and_statuses_read_as_unknown() {
        let p: JobProperties =
            serde_json::from_str(r#"{"jobType": "FineTuning", "status": "Dreaming"}"#).unwrap();
        assert_eq!(p.job_type, JobType::Unknown);
        assert_eq!(p.status, Some(JobStatus::Unknown));
    }

    #[test]
    fn a_failed_run_says_why_in_either_form() {
        let run = |error: serde_json::Value| -> Run {
            serde_json::from_value(serde_json::json!({"runId": "r", "error": error})).unwrap()
        };
        let nested = run(serde_json::json!({"error": {"code": "UserError", "message": "boom"}}));
        assert_eq!(nested.error_message(), Some("boom"));
        let bare = run(serde_json::json!({"message": "bare"}));
        assert_eq!(bare.error_message(), Some("bare"));
        let none: Run = serde_json::from_str(r#"{"runId": "r"}"#).unwrap();
        assert_eq!(none.error_message(), None);
    }
}
