//! Wire forms of the legacy (v1) pipelines service: triggering a published pipeline or a
//! pipeline endpoint that was created with the v1 SDK, and enabling or disabling a published
//! pipeline (reference §11, corrected by §13).
//!
//! The v1 service speaks PascalCase JSON on the workspace's `pipelines` host (from workspace
//! discovery), under `/pipelines/v1.0/subscriptions/{sub}/resourceGroups/{rg}/providers/
//! Microsoft.MachineLearningServices/workspaces/{ws}/`, with no `api-version`. Pure serde and
//! path building, no I/O: the client (`azure::legacy`) and `legacy --dry-run` build their
//! requests from the same functions here, so what a dry run shows is what is sent.
//!
//! ```
//! use azureml_pipelines_runtime::wire::legacy::PipelineSubmissionInfo;
//! let body = PipelineSubmissionInfo::new("batch_scoring").parameter("process_count_per_node", "6");
//! let json = serde_json::to_value(&body).unwrap();
//! assert_eq!(json["ExperimentName"], "batch_scoring");
//! assert_eq!(json["ParameterAssignments"]["process_count_per_node"], "6");
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::WorkspaceScope;

/// The path prefix of every v1 pipelines call: `pipelines/v1.0` then the workspace's ARM id.
pub fn base_path(scope: &WorkspaceScope) -> String {
    format!("/pipelines/v1.0{}", scope.id())
}

/// One request to the v1 pipelines service, relative to its host: what the client sends and
/// what `legacy --dry-run` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyRequest {
    /// HTTP method (`GET`, `POST`, `PUT`).
    pub method: &'static str,
    /// Path segments after [`base_path`], unencoded (`["PipelineRuns", "PipelineSubmit", id]`).
    pub segments: Vec<String>,
    /// Query parameters, in order (`pipelineVersion`, `Name`).
    pub query: Vec<(&'static str, String)>,
    /// JSON body, if any.
    pub body: Option<serde_json::Value>,
}

impl LegacyRequest {
    /// `POST PipelineRuns/PipelineSubmit/{pipeline_id}`: run a published pipeline.
    pub fn submit_published(pipeline_id: &str, body: &PipelineSubmissionInfo) -> Self {
        Self {
            method: "POST",
            segments: segs(&["PipelineRuns", "PipelineSubmit", pipeline_id]),
            query: Vec::new(),
            body: Some(to_value(body)),
        }
    }

    /// `POST PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}`: run a pipeline endpoint's
    /// default version; with a version, `…/Id/{endpoint_id}/{v}?pipelineVersion={v}` (the v1
    /// SDK sends both the path suffix and the query, §13).
    pub fn submit_endpoint(
        endpoint_id: &str,
        version: Option<&str>,
        body: &PipelineSubmissionInfo,
    ) -> Self {
        let mut segments = segs(&["PipelineRuns", "PipelineEndpointSubmit", "Id", endpoint_id]);
        let mut query = Vec::new();
        if let Some(v) = version {
            segments.push(v.to_owned());
            query.push(("pipelineVersion", v.to_owned()));
        }
        Self {
            method: "POST",
            segments,
            query,
            body: Some(to_value(body)),
        }
    }

    /// `GET PipelineEndpoints/Name?Name={name}`: a pipeline endpoint by name.
    pub fn endpoint_by_name(name: &str) -> Self {
        Self {
            method: "GET",
            segments: segs(&["PipelineEndpoints", "Name"]),
            query: vec![("Name", name.to_owned())],
            body: None,
        }
    }

    /// `GET PublishedPipelines/{pipeline_id}`: a published pipeline (its status).
    pub fn get_published(pipeline_id: &str) -> Self {
        Self {
            method: "GET",
            segments: segs(&["PublishedPipelines", pipeline_id]),
            query: Vec::new(),
            body: None,
        }
    }

    /// `GET PipelineRuns/{run_id}`: a run and its status (§11 "run status").
    pub fn get_run(run_id: &str) -> Self {
        Self {
            method: "GET",
            segments: segs(&["PipelineRuns", run_id]),
            query: Vec::new(),
            body: None,
        }
    }

    /// `PUT Pipelines/{pipeline_id}/status` with the JSON string `"Active"` or `"Disabled"`
    /// (§13: the route the v1 SDK's `enable()`/`disable()` use).
    pub fn set_status(pipeline_id: &str, status: EntityStatus) -> Self {
        Self {
            method: "PUT",
            segments: segs(&["Pipelines", pipeline_id, "status"]),
            query: Vec::new(),
            body: Some(serde_json::Value::String(status.as_str().to_owned())),
        }
    }

    /// The path from the host on, query included, e.g.
    /// `/pipelines/v1.0/subscriptions/…/workspaces/ws/PipelineRuns/PipelineSubmit/ID`. Segments
    /// are percent-encoded where a URL needs it.
    pub fn path(&self, scope: &WorkspaceScope) -> String {
        let mut path = base_path(scope);
        for s in &self.segments {
            path.push('/');
            path.push_str(&encode(s));
        }
        if !self.query.is_empty() {
            let query: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect();
            path.push('?');
            path.push_str(&query.join("&"));
        }
        path
    }

    /// A short description for messages, e.g. `POST PipelineRuns/PipelineSubmit/ID`.
    pub fn operation(&self) -> String {
        format!("{} {}", self.method, self.segments.join("/"))
    }
}

fn segs(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

fn to_value<T: Serialize>(body: &T) -> serde_json::Value {
    serde_json::to_value(body).expect("legacy wire types serialize")
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The submit body `PipelineSubmissionInfo` (§11 model, §13 values): what a run of a published
/// pipeline or a pipeline endpoint is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineSubmissionInfo {
    /// The experiment to file the run under.
    #[serde(rename = "ExperimentName")]
    pub experiment_name: String,
    /// Run description; the v1 SDK sends the experiment name.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Who started the run; the v1 SDK sends `SDK`.
    #[serde(rename = "RunSource", default, skip_serializing_if = "Option::is_none")]
    pub run_source: Option<String>,
    /// Run type; the v1 SDK sends `SDK`.
    #[serde(rename = "RunType", default, skip_serializing_if = "Option::is_none")]
    pub run_type: Option<String>,
    /// Pipeline parameter values, by name; always strings on the wire.
    #[serde(rename = "ParameterAssignments", default)]
    pub parameter_assignments: BTreeMap<String, String>,
    /// Datastore paths bound to `DataPath` pipeline parameters.
    #[serde(rename = "DataPathAssignments", default)]
    pub data_path_assignments: BTreeMap<String, DataPath>,
    /// Dataset values bound to dataset pipeline parameters.
    #[serde(rename = "DataSetDefinitionValueAssignments", default)]
    pub data_set_definition_value_assignments: BTreeMap<String, DataSetDefinitionValue>,
    /// Schedule that started the run, if any.
    #[serde(
        rename = "ScheduleId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub schedule_id: Option<String>,
    /// Keep running the other steps when one fails.
    #[serde(
        rename = "ContinueRunOnStepFailure",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub continue_run_on_step_failure: Option<bool>,
    /// Send a notification when the run ends.
    #[serde(
        rename = "EnableNotification",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_notification: Option<bool>,
    /// Run tags (lower-case `tags` on the wire).
    #[serde(rename = "tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Run properties.
    #[serde(
        rename = "Properties",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub properties: Option<BTreeMap<String, String>>,
}

impl PipelineSubmissionInfo {
    /// The body the v1 SDK sends for `experiment` (§13): `Description` = the experiment name,
    /// `RunSource` and `RunType` = `SDK`, no parameters, empty data assignments.
    pub fn new(experiment: impl Into<String>) -> Self {
        let experiment = experiment.into();
        Self {
            description: Some(experiment.clone()),
            experiment_name: experiment,
            run_source: Some("SDK".to_owned()),
            run_type: Some("SDK".to_owned()),
            parameter_assignments: BTreeMap::new(),
            data_path_assignments: BTreeMap::new(),
            data_set_definition_value_assignments: BTreeMap::new(),
            schedule_id: None,
            continue_run_on_step_failure: None,
            enable_notification: None,
            tags: None,
            properties: None,
        }
    }

    /// Sets a pipeline parameter (the value is sent as a string, as the service expects).
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameter_assignments.insert(name.into(), value.into());
        self
    }

    /// Binds a `DataPath` pipeline parameter to a path on a datastore.
    pub fn data_path(
        mut self,
        name: impl Into<String>,
        datastore: impl Into<String>,
        relative_path: impl Into<String>,
    ) -> Self {
        self.data_path_assignments.insert(
            name.into(),
            DataPath {
                data_store_name: datastore.into(),
                relative_path: relative_path.into(),
            },
        );
        self
    }
}

/// A path on a datastore (`{DataStoreName, RelativePath}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataPath {
    /// Datastore name, e.g. `workspaceblobstore`.
    #[serde(rename = "DataStoreName")]
    pub data_store_name: String,
    /// Path inside the datastore.
    #[serde(rename = "RelativePath")]
    pub relative_path: String,
}

/// A dataset value: one of a literal datastore path, a registered dataset, or a saved dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSetDefinitionValue {
    /// A datastore path.
    #[serde(
        rename = "LiteralValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub literal_value: Option<DataPath>,
    /// A registered dataset.
    #[serde(
        rename = "DataSetReference",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data_set_reference: Option<RegisteredDataSetReference>,
    /// A saved (unregistered) dataset.
    #[serde(
        rename = "SavedDataSetReference",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub saved_data_set_reference: Option<SavedDataSetReference>,
}

/// A registered dataset (`{Id, Name, Version}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredDataSetReference {
    /// Dataset id.
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Dataset name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Dataset version.
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A saved dataset (`{Id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedDataSetReference {
    /// Saved dataset id.
    #[serde(rename = "Id")]
    pub id: String,
}

/// The answer to a submit: `PipelineRunEntity`, the fields this crate reads (others are
/// ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineRunEntity {
    /// The run id (what Azure ML studio and run history know the run by).
    #[serde(rename = "Id")]
    pub id: String,
    /// Run status.
    #[serde(rename = "Status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PipelineRunStatus>,
    /// The published pipeline that ran.
    #[serde(
        rename = "PipelineId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pipeline_id: Option<String>,
    /// The experiment the run is filed under.
    #[serde(
        rename = "RunHistoryExperimentName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub run_history_experiment_name: Option<String>,
    /// The parameter values the run got.
    #[serde(rename = "ParameterAssignments", default)]
    pub parameter_assignments: BTreeMap<String, String>,
}

/// A run's `Status`: the v1 service sends an object with a `StatusCode`; a bare string is
/// accepted too, so that an unexpected form never turns a started run into an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PipelineRunStatus {
    /// `{"StatusCode": "NotStarted", "StatusDetail": …, …}`.
    Detailed {
        /// `NotStarted`, `Running`, `Failed`, `Finished`, `Canceled`, …
        #[serde(rename = "StatusCode", default)]
        status_code: Option<String>,
        /// Free text.
        #[serde(
            rename = "StatusDetail",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        status_detail: Option<String>,
    },
    /// A bare status string.
    Code(String),
}

impl PipelineRunStatus {
    /// The status code, e.g. `NotStarted`.
    pub fn code(&self) -> Option<&str> {
        match self {
            PipelineRunStatus::Detailed { status_code, .. } => status_code.as_deref(),
            PipelineRunStatus::Code(c) => Some(c),
        }
    }

    /// How the run ended, `None` while it has not (`NotStarted`, `Queued`, `Running`,
    /// `CancelRequested`, or a code this crate does not know).
    pub fn outcome(&self) -> Option<RunOutcome> {
        match self.code()?.to_ascii_lowercase().as_str() {
            "finished" | "completed" => Some(RunOutcome::Finished),
            "failed" => Some(RunOutcome::Failed),
            "canceled" | "cancelled" => Some(RunOutcome::Canceled),
            _ => None,
        }
    }
}

/// How a v1 pipeline run ended (`PipelineRunStatusCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// `Finished`: every step succeeded.
    Finished,
    /// `Failed`.
    Failed,
    /// `Canceled`.
    Canceled,
}

/// Whether a published pipeline (or endpoint) accepts runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityStatus {
    /// Accepts runs.
    Active,
    /// Superseded; still runs.
    Deprecated,
    /// Refuses runs until enabled.
    Disabled,
    /// A status this crate does not know.
    #[serde(untagged)]
    Other(String),
}

impl EntityStatus {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            EntityStatus::Active => "Active",
            EntityStatus::Deprecated => "Deprecated",
            EntityStatus::Disabled => "Disabled",
            EntityStatus::Other(s) => s,
        }
    }
}

impl std::fmt::Display for EntityStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A published pipeline (`GET PublishedPipelines/{id}`), the fields this crate reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedPipelineEntity {
    /// Its id.
    #[serde(rename = "Id")]
    pub id: String,
    /// Its name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its description.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Its version label.
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `Active`, `Deprecated` or `Disabled`.
    #[serde(
        rename = "EntityStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub entity_status: Option<EntityStatus>,
    /// Its REST endpoint (what the v1 SDK calls `PublishedPipeline.endpoint`).
    #[serde(rename = "Url", default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A pipeline endpoint (`GET PipelineEndpoints/Name?Name=…`, `…/Id/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineEndpointEntity {
    /// Its id (what the submit route takes).
    #[serde(rename = "Id")]
    pub id: String,
    /// Its name.
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The version run when none is asked for.
    #[serde(
        rename = "DefaultVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_version: Option<String>,
    /// Its description.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Its versions and the published pipeline each runs.
    #[serde(rename = "PipelineVersionList", default)]
    pub pipeline_version_list: Vec<PipelineVersion>,
    /// Its REST endpoint.
    #[serde(rename = "Url", default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `Active`, `Deprecated` or `Disabled`.
    #[serde(
        rename = "EntityStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub entity_status: Option<EntityStatus>,
    /// Its swagger document.
    #[serde(
        rename = "SwaggerUrl",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub swagger_url: Option<String>,
}

impl PipelineEndpointEntity {
    /// The versions the endpoint has, in its order.
    pub fn versions(&self) -> Vec<&str> {
        self.pipeline_version_list
            .iter()
            .map(|v| v.version.as_str())
            .collect()
    }
}

/// One version of a pipeline endpoint (`{Version, PipelineId}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineVersion {
    /// Version label, e.g. `0`.
    #[serde(rename = "Version")]
    pub version: String,
    /// The published pipeline this version runs.
    #[serde(rename = "PipelineId")]
    pub pipeline_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> WorkspaceScope {
        WorkspaceScope {
            subscription_id: "sub".into(),
            resource_group: "rg".into(),
            workspace_name: "ws".into(),
        }
    }

    #[test]
    fn submit_body_has_the_reference_keys_and_string_values() {
        let body = PipelineSubmissionInfo::new("exp").parameter("pipeline_arg", "20");
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"ExperimentName": "exp", "Description": "exp", "RunSource": "SDK",
                   "RunType": "SDK", "ParameterAssignments": {"pipeline_arg": "20"},
                   "DataPathAssignments": {}, "DataSetDefinitionValueAssignments": {}})
        );
    }

    #[test]
    fn endpoint_version_goes_in_the_path_and_the_query() {
        let body = PipelineSubmissionInfo::new("exp");
        let r = LegacyRequest::submit_endpoint("e-1", Some("2"), &body);
        assert_eq!(
            r.path(&scope()),
            "/pipelines/v1.0/subscriptions/sub/resourceGroups/rg/providers/\
             Microsoft.MachineLearningServices/workspaces/ws/PipelineRuns/PipelineEndpointSubmit/\
             Id/e-1/2?pipelineVersion=2"
        );
        let r = LegacyRequest::submit_endpoint("e-1", None, &body);
        assert!(r.path(&scope()).ends_with("/PipelineEndpointSubmit/Id/e-1"));
    }

    #[test]
    fn names_are_encoded_in_paths_and_queries() {
        let r = LegacyRequest::endpoint_by_name("my endpoint&x");
        assert!(
            r.path(&scope())
                .ends_with("/PipelineEndpoints/Name?Name=my%20endpoint%26x"),
            "{}",
            r.path(&scope())
        );
        assert!(
            LegacyRequest::get_published("a/b")
                .path(&scope())
                .ends_with("/PublishedPipelines/a%2Fb")
        );
    }

    #[test]
    fn status_body_is_a_json_string() {
        let r = LegacyRequest::set_status("p", EntityStatus::Disabled);
        assert_eq!(r.body, Some(json!("Disabled")));
        assert_eq!(r.operation(), "PUT Pipelines/p/status");
    }

    #[test]
    fn run_status_is_read_in_either_form() {
        let a: PipelineRunEntity =
            serde_json::from_value(json!({"Id": "r", "Status": {"StatusCode": "NotStarted"}}))
                .unwrap();
        assert_eq!(a.status.unwrap().code(), Some("NotStarted"));
        let b: PipelineRunEntity =
            serde_json::from_value(json!({"Id": "r", "Status": "Running", "Extra": 1})).unwrap();
        assert_eq!(b.status.unwrap().code(), Some("Running"));
    }

    #[test]
    fn unknown_entity_status_is_kept() {
        let ended = |v: serde_json::Value| {
            serde_json::from_value::<PipelineRunStatus>(v)
                .unwrap()
                .outcome()
        };
        assert_eq!(
            ended(json!({"StatusCode": "Finished"})),
            Some(RunOutcome::Finished)
        );
        assert_eq!(ended(json!("Failed")), Some(RunOutcome::Failed));
        assert_eq!(
            ended(json!({"StatusCode": "Canceled"})),
            Some(RunOutcome::Canceled)
        );
        assert_eq!(ended(json!({"StatusCode": "Running"})), None);
        assert_eq!(ended(json!({"StatusCode": "CancelRequested"})), None);
        let s: EntityStatus = serde_json::from_value(json!("Archived")).unwrap();
        assert_eq!(s, EntityStatus::Other("Archived".into()));
        let s: EntityStatus = serde_json::from_value(json!("Disabled")).unwrap();
        assert_eq!(s, EntityStatus::Disabled);
    }
}
