//! Batch endpoints, pipeline-component batch deployments and the invoke body: how a published
//! pipeline is run behind a stable URL (reference: `azureml-rest.md` §10, corrected by §13).
//!
//! A *published pipeline* is a named, versioned pipeline component
//! (`PUT components/{name}/versions/{v}`, see [`pipeline_component`]); an *endpoint* is a batch
//! endpoint; each *version* under it is a deployment whose configuration points at one component
//! version; the *default version* is the endpoint's `defaults.deploymentName`. Invoking
//! `POST`s an [`InvokeRequest`] to the endpoint's `scoringUri`.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::WireError;
use super::rest::{
    ComponentSpec, ComponentType, ComponentVersion, ComponentVersionProperties, JobBase,
};
use crate::graph::Pipeline;

/// `PUT {WS}/batchEndpoints/{e}` body and GET answer (`BatchEndpoint`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchEndpoint {
    /// ARM id (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The endpoint name (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The workspace's region.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Properties.
    pub properties: BatchEndpointProperties,
}

/// `BatchEndpoint.properties`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BatchEndpointProperties {
    /// How callers authenticate: `aadToken`, as Microsoft's SDK sends it.
    pub auth_mode: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Asset properties.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// The default deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<BatchEndpointDefaults>,
    /// Where invocations are posted (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring_uri: Option<String>,
    /// `Creating`, `Succeeded`, `Failed`, … (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}

/// `BatchEndpointProperties.defaults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BatchEndpointDefaults {
    /// The deployment invocations go to when they name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_name: Option<String>,
}

impl BatchEndpoint {
    /// The body that creates endpoint `description` in `location` (§13: `authMode: aadToken`,
    /// empty `properties` and `tags`).
    pub fn new(location: impl Into<String>, description: Option<String>) -> Self {
        Self {
            id: None,
            name: None,
            location: location.into(),
            tags: BTreeMap::new(),
            properties: BatchEndpointProperties {
                auth_mode: "aadToken".into(),
                description,
                properties: BTreeMap::new(),
                defaults: None,
                scoring_uri: None,
                provisioning_state: None,
            },
        }
    }

    /// The default deployment's name, if one is set.
    pub fn default_deployment(&self) -> Option<&str> {
        self.properties
            .defaults
            .as_ref()
            .and_then(|d| d.deployment_name.as_deref())
    }

    /// The same endpoint as a PUT body: read-only fields dropped (a GET answer sent back whole).
    pub fn to_put(&self) -> Self {
        let mut put = self.clone();
        put.id = None;
        put.name = None;
        put.properties.scoring_uri = None;
        put.properties.provisioning_state = None;
        put
    }
}

/// `PUT {WS}/batchEndpoints/{e}/deployments/{d}` body and GET answer (`BatchDeployment`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchDeployment {
    /// ARM id (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The deployment name (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The workspace's region.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Properties.
    pub properties: BatchDeploymentProperties,
}

/// `BatchDeployment.properties`, with the fields Microsoft's SDK always sends for a pipeline
/// component deployment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BatchDeploymentProperties {
    /// What runs.
    pub deployment_configuration: DeploymentConfiguration,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `-1`: never stop for failed items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_threshold: Option<i64>,
    /// `1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency_per_instance: Option<i64>,
    /// `10`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mini_batch_size: Option<i64>,
    /// `predictions.csv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_file_name: Option<String>,
    /// `Creating`, `Succeeded`, `Failed`, … (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}

/// `BatchDeploymentProperties.deploymentConfiguration`, discriminated by
/// `deploymentConfigurationType` (`BatchDeploymentConfigurationType`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "deploymentConfigurationType")]
pub enum DeploymentConfiguration {
    /// `BatchPipelineComponentDeploymentConfiguration`.
    PipelineComponent(PipelineComponentConfiguration),
    /// A model deployment (not made here; read so that listing an endpoint never fails).
    Model(Value),
}

/// `BatchPipelineComponentDeploymentConfiguration` without its discriminator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineComponentConfiguration {
    /// The component version deployed.
    pub component_id: IdAssetReference,
    /// Pipeline settings, with their JSON types (`continue_on_step_failure: false`, §13).
    #[serde(default)]
    pub settings: BTreeMap<String, Value>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// `IdAssetReference`: `{"referenceType": "Id", "assetId": …}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "referenceType")]
pub enum IdAssetReference {
    /// By ARM id.
    Id {
        /// The component version's ARM id.
        #[serde(rename = "assetId")]
        asset_id: String,
    },
}

impl IdAssetReference {
    /// The referenced ARM id.
    pub fn asset_id(&self) -> &str {
        match self {
            IdAssetReference::Id { asset_id } => asset_id,
        }
    }
}

impl BatchDeployment {
    /// The body deploying the pipeline component version `component_id` (an ARM id) in
    /// `location`, with the defaults Microsoft's SDK sends (§13). `default_compute` is the
    /// compute name the pipeline's steps run on when they name none.
    pub fn pipeline_component(
        location: impl Into<String>,
        component_id: impl Into<String>,
        default_compute: Option<&str>,
        description: Option<String>,
    ) -> Self {
        let mut settings = BTreeMap::new();
        if let Some(c) = default_compute {
            settings.insert("default_compute".to_owned(), Value::from(c));
        }
        settings.insert("continue_on_step_failure".to_owned(), Value::Bool(false));
        Self {
            id: None,
            name: None,
            location: location.into(),
            tags: BTreeMap::new(),
            properties: BatchDeploymentProperties {
                deployment_configuration: DeploymentConfiguration::PipelineComponent(
                    PipelineComponentConfiguration {
                        component_id: IdAssetReference::Id {
                            asset_id: component_id.into(),
                        },
                        settings,
                        description: None,
                        tags: BTreeMap::new(),
                    },
                ),
                description,
                error_threshold: Some(-1),
                max_concurrency_per_instance: Some(1),
                mini_batch_size: Some(10),
                output_file_name: Some("predictions.csv".into()),
                provisioning_state: None,
            },
        }
    }

    /// The ARM id of the pipeline component version it runs, if it runs one.
    pub fn component_id(&self) -> Option<&str> {
        match &self.properties.deployment_configuration {
            DeploymentConfiguration::PipelineComponent(c) => Some(c.component_id.asset_id()),
            DeploymentConfiguration::Model(_) => None,
        }
    }
}

/// The body `POST`ed to an endpoint's `scoringUri` (§13 "Invoke"): inputs and literal
/// parameters, optional outputs, job name and experiment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InvokeRequest {
    /// Properties.
    pub properties: InvokeProperties,
}

/// `InvokeRequest.properties`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InvokeProperties {
    /// Inputs by name: data inputs and literal parameters.
    pub input_data: IndexMap<String, InvokeInput>,
    /// Outputs by name (where they are written); empty: the service chooses.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub output_data: IndexMap<String, Value>,
    /// The job's name; the service makes one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `{"experimentName": …}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

/// One invoke input, discriminated by `jobInputType` (PascalCase here, unlike ARM).
///
/// A parameter is sent as `{"jobInputType": "Literal", "value": "<text>"}`, the value as text
/// written as in a pipeline job's literal inputs (`20`, `0.5`, `True`, `fast`). Why this form:
/// azure-ai-ml 1.35 builds the invoke body in
/// `azure/ai/ml/_schema/_deployment/batch/batch_job.py` (`BatchJobSchema.make`), which turns a
/// typed parameter (`Input(type="integer"|"number"|"string"|"boolean", default=…)`) into the
/// data plane's `LiteralJobInput(value=…)`, a model whose `value` is a string (as ARM's
/// `LiteralJobInput.value: str` in the 2025-12-01 models), and passes a plain Python value
/// through as a bare JSON value (the `"pipeline_arg": 20` reference §13 observed);
/// `operations/_batch_endpoint_operations.py` (`invoke`) then POSTs it unchanged. The typed
/// form is the one Microsoft documents (§10's example) and the one that carries the type
/// discriminator, so the service cannot mistake a parameter for a data input; which other
/// forms the service accepts is not verified offline (§12).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "jobInputType")]
pub enum InvokeInput {
    /// A literal parameter value, as text (see above).
    Literal {
        /// The value.
        value: String,
    },
    /// A file.
    UriFile {
        /// Where it is.
        uri: String,
    },
    /// A folder.
    UriFolder {
        /// Where it is.
        uri: String,
    },
    /// An MLTable.
    #[serde(rename = "MLTable")]
    MlTable {
        /// Where it is.
        uri: String,
    },
}

/// The answer to an invoke: the batch job it created (the fields we read).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InvokeResponse {
    /// The job's ARM id (when the service gives it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The job's name: `jobs/{name}` follows it.
    #[serde(default)]
    pub name: String,
    /// Properties (status and the like), as the service writes them.
    #[serde(default)]
    pub properties: Value,
}

/// One job a batch endpoint's deployments started, as the data plane lists them
/// (`GET {api}/mferp/managementfrontend/…/batchEndpoints/{e}/jobs?api-version=2020-09-01-dataplanepreview`,
/// reference §10; the fields we read of the `BatchJobResource` the SDK's `list_jobs` parses).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointJob {
    /// The job's id (when the service gives it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The job's name: `jobs/{name}` and `runs show --azure` follow it.
    #[serde(default)]
    pub name: String,
    /// Who made it and when (`createdAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_data: Option<EndpointJobSystemData>,
    /// Status and the job's own properties.
    #[serde(default)]
    pub properties: EndpointJobProperties,
}

/// `EndpointJob.systemData`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointJobSystemData {
    /// When the job was created (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// `EndpointJob.properties`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointJobProperties {
    /// `NotStarted`, `Running`, `Completed`, `Failed`, `Canceled`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The job's properties. The deployment that ran it is read from
    /// `azureml.deploymentName` (without regard to case); the reference does not document
    /// the key, so a job without it shows no deployment rather than a guess.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

impl EndpointJob {
    /// The deployment that ran it, when the job says.
    pub fn deployment(&self) -> Option<&str> {
        self.properties
            .properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("azureml.deploymentName"))
            .map(|(_, v)| v.as_str())
    }

    /// When it was created, when the service says.
    pub fn created_at(&self) -> Option<&str> {
        self.system_data.as_ref()?.created_at.as_deref()
    }
}

/// The named pipeline component version `publish` registers (§13 "Publish": `type: pipeline`,
/// no settings): the pipeline's nodes as the job `job` the wire room wrote for it, and its
/// inputs (with defaults and rules) and outputs (with modes) from the one lowering
/// ([`super::lower`]: the pipeline lowered as a component, rendered by the same code that
/// writes a sub-pipeline's component into a job), so the published interface cannot drift from
/// what the job declares.
///
/// # Errors
///
/// What the lowering refuses (a step without an environment, …); publishing has already
/// written the job, so in practice the same errors were reported there first.
pub fn pipeline_component(
    pipeline: &Pipeline,
    job: &JobBase,
    name: &str,
    description: Option<String>,
) -> Result<ComponentVersion, WireError> {
    let interface = super::lower::lower_as_component(pipeline)?;
    let (inputs, outputs) = super::to_rest::pipeline_interface(&interface);
    let description = description.or_else(|| pipeline.description.clone());
    Ok(ComponentVersion {
        properties: ComponentVersionProperties {
            component_spec: ComponentSpec {
                name: name.to_owned(),
                display_name: pipeline.display_name.clone(),
                description: description.clone(),
                component_type: ComponentType::Pipeline,
                command: None,
                code: None,
                environment: None,
                inputs,
                outputs,
                is_deterministic: None,
                jobs: Some(job.properties.jobs.clone()),
                kind_fields: Default::default(),
            },
            description,
            tags: pipeline.tags.clone(),
            properties: BTreeMap::new(),
            is_anonymous: false,
            is_archived: false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoint_body_matches_the_reference_key_by_key() {
        let body = serde_json::to_value(BatchEndpoint::new("eastus", Some("d".into()))).unwrap();
        assert_eq!(
            body,
            json!({"location": "eastus", "tags": {}, "properties": {
                "authMode": "aadToken", "description": "d", "properties": {}}})
        );
    }

    #[test]
    fn deployment_body_matches_the_reference_key_by_key() {
        let d = BatchDeployment::pipeline_component(
            "eastus",
            "/x/components/p/versions/1",
            Some("cpu"),
            None,
        );
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"location": "eastus", "tags": {}, "properties": {
                "deploymentConfiguration": {"deploymentConfigurationType": "PipelineComponent",
                    "componentId": {"referenceType": "Id", "assetId": "/x/components/p/versions/1"},
                    "settings": {"default_compute": "cpu", "continue_on_step_failure": false}},
                "errorThreshold": -1, "maxConcurrencyPerInstance": 1, "miniBatchSize": 10,
                "outputFileName": "predictions.csv"}})
        );
        assert_eq!(d.component_id(), Some("/x/components/p/versions/1"));
    }

    #[test]
    fn a_get_answer_round_trips_and_drops_read_only_fields_for_put() {
        let got: BatchEndpoint = serde_json::from_value(json!({
            "id": "/e", "name": "e", "location": "eastus", "tags": {},
            "properties": {"authMode": "AADToken", "scoringUri": "https://e/jobs",
                "provisioningState": "Succeeded", "defaults": {"deploymentName": "v1"}}}))
        .unwrap();
        assert_eq!(got.default_deployment(), Some("v1"));
        let put = serde_json::to_value(got.to_put()).unwrap();
        assert_eq!(
            put["properties"]["defaults"],
            json!({"deploymentName": "v1"})
        );
        assert!(put.get("id").is_none() && put["properties"].get("scoringUri").is_none());
    }

    #[test]
    fn invoke_inputs_use_pascal_case_discriminators() {
        let mut body = InvokeRequest::default();
        body.properties.input_data.insert(
            "iris".into(),
            InvokeInput::UriFile {
                uri: "azureml://datastores/d/paths/a.csv".into(),
            },
        );
        body.properties.input_data.insert(
            "pipeline_arg".into(),
            InvokeInput::Literal { value: "20".into() },
        );
        body.properties
            .properties
            .insert("experimentName".into(), "x".into());
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"properties": {"inputData": {
                "iris": {"jobInputType": "UriFile", "uri": "azureml://datastores/d/paths/a.csv"},
                "pipeline_arg": {"jobInputType": "Literal", "value": "20"}},
                "properties": {"experimentName": "x"}}})
        );
    }
}
