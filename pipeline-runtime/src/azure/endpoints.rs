//! Batch endpoints with pipeline-component deployments: the seed's `PipelineEndpoint` (an
//! endpoint with versions and a default version) and "run a published pipeline over REST with
//! `ParameterAssignments`", on Azure ML v2 (reference §10, corrected by §13).
//!
//! * [`Endpoints::create`] — `PUT batchEndpoints/{e}` (long-running: `Azure-AsyncOperation`
//!   followed, `Retry-After` honoured, a failed provisioning returns the service's errors);
//! * [`Endpoints::deploy`] — `PUT batchEndpoints/{e}/deployments/{d}` running a published
//!   pipeline version (long-running); an archived version is refused;
//! * [`Endpoints::set_default`] — GET the endpoint, PUT it whole with `defaults.deploymentName`
//!   (PATCH cannot set it);
//! * [`Endpoints::invoke`] — `POST` to the endpoint's `scoringUri` with an Azure ML token
//!   (`https://ml.azure.com`), `azureml-model-deployment` only when a deployment is named,
//!   the values checked against the published interface first. The body carries a job name
//!   chosen here, so a retried POST never makes a second job.
//!
//! * [`Endpoints::jobs`] — the endpoint's last jobs, newest first, from the data plane that
//!   lists the jobs of a batch endpoint (§10: `GET {api}/mferp/managementfrontend/…/batchEndpoints/{e}/jobs`).
//!
//! Every change is idempotent by name: the same call twice changes nothing the second time
//! ([`Change::changed`] is false).
//!
//! A Rust service triggering a published pipeline without the command line:
//!
//! ```no_run
//! # async fn demo() -> Result<(), azureml_pipelines_runtime::azure::publish::OperateError> {
//! use azureml_pipelines_runtime::azure::Workspace;
//! use azureml_pipelines_runtime::azure::endpoints::{Endpoints, InvokeOptions};
//! let ws = Workspace::from_config()?;
//! let invoked = Endpoints::new(&ws)
//!     .invoke("compare-models", &InvokeOptions {
//!         params: vec![("pipeline_arg".into(), "20".into())],
//!         inputs: vec![("iris".into(), "azureml://datastores/workspaceblobstore/paths/iris.csv".into())],
//!         ..Default::default()
//!     })
//!     .await?;
//! println!("job {} on deployment {}", invoked.job_name, invoked.deployment);
//! # Ok(()) }
//! ```

use azure_core::http::{Method, Url};

use super::arm::{ArmError, ArmRequest, TokenScope};
use super::blob::UploadOptions;
use super::data::LocalData;
use super::publish::{OperateError, Versions};
use super::secret::Secret;
use super::workspace::Workspace;
use crate::wire::endpoint::{
    BatchDeployment, BatchEndpoint, BatchEndpointDefaults, InvokeRequest, InvokeResponse,
};

/// A resource after an idempotent change.
#[derive(Clone, Debug)]
pub struct Change<T> {
    /// The resource as the service holds it now.
    pub value: T,
    /// False when it already was as asked, and nothing was sent.
    pub changed: bool,
}

/// What [`Endpoints::deploy`] did.
#[derive(Clone, Debug)]
pub struct Deployed {
    /// The deployment.
    pub deployment: Change<BatchDeployment>,
    /// The endpoint, when its default changed to this deployment.
    pub default_set: Option<BatchEndpoint>,
}

/// What to invoke with.
#[derive(Clone, Debug, Default)]
pub struct InvokeOptions {
    /// The deployment (default: the endpoint's default deployment).
    pub deployment: Option<String>,
    /// Parameter values by name, as text; typed by the published interface.
    pub params: Vec<(String, String)>,
    /// Data inputs by name: datastore URIs (`azureml://…`), `https://` URLs, data assets, or
    /// local files and folders (uploaded first, see [`Endpoints::plan_invoke`]).
    pub inputs: Vec<(String, String)>,
    /// The experiment the job is filed under.
    pub experiment: Option<String>,
    /// The job name (default: a fresh one).
    pub job_name: Option<String>,
}

/// A checked invocation, ready to send (also what `--dry-run` and the `curl` line show).
#[derive(Clone, Debug)]
pub struct InvokePlan {
    /// Where it is posted.
    pub scoring_uri: String,
    /// The deployment that runs it.
    pub deployment: String,
    /// Whether the deployment is named in the request (`azureml-model-deployment`).
    pub named_deployment: bool,
    /// `name:version` of the published pipeline it runs.
    pub component: String,
    /// The body.
    pub body: InvokeRequest,
    /// The local inputs put on the default datastore for it, in the order given.
    pub uploads: Vec<UploadedInput>,
}

/// A local `--input` put on the workspace's default datastore for an invocation.
#[derive(Clone, Debug)]
pub struct UploadedInput {
    /// The input's name.
    pub input: String,
    /// The local file or folder.
    pub path: std::path::PathBuf,
    /// Where it is now (`azureml://datastores/…/paths/LocalUpload/<hash>/<name>`), and what was
    /// sent (`None`: an earlier upload of the same content was found and nothing was sent).
    pub data: LocalData,
}

/// What [`Endpoints::invoke`] started.
#[derive(Clone, Debug)]
pub struct Invoked {
    /// The pipeline job's name (`jobs/{name}`).
    pub job_name: String,
    /// The deployment that runs it.
    pub deployment: String,
    /// `name:version` of the published pipeline.
    pub component: String,
}

/// Batch endpoints of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct Endpoints<'a> {
    ws: &'a Workspace,
}

impl<'a> Endpoints<'a> {
    /// The endpoints of `ws`.
    pub fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    /// api-version of batch endpoint PUT, GET, list and DELETE, and of deployment GET, list and
    /// DELETE: [`ApiVersions::endpoints`](super::ApiVersions::endpoints) (default
    /// `2023-10-01`, what Microsoft's SDK sends, §13; `AZUREML_API_VERSION_ENDPOINTS`).
    fn version(self) -> &'a str {
        &self.ws.arm().options().api_versions.endpoints
    }

    /// api-version of a pipeline-component deployment PUT:
    /// [`ApiVersions::deployments`](super::ApiVersions::deployments) (default
    /// `2023-02-01-preview`, §13; `AZUREML_API_VERSION_DEPLOYMENTS`).
    fn deployment_put_version(self) -> &'a str {
        &self.ws.arm().options().api_versions.deployments
    }

    fn url(self, endpoint: &str, deployment: Option<&str>) -> Url {
        match deployment {
            Some(d) => self.ws.url(&["batchEndpoints", endpoint, "deployments", d]),
            None => self.ws.url(&["batchEndpoints", endpoint]),
        }
    }

    async fn location(self) -> Result<String, ArmError> {
        Ok(self.ws.get().await?.location.unwrap_or_default())
    }

    /// One endpoint, `None` when it does not exist.
    pub async fn get(self, endpoint: &str) -> Result<Option<BatchEndpoint>, ArmError> {
        let op = format!("GET batchEndpoints/{endpoint}");
        let url = self.url(endpoint, None);
        match self.ws.arm().get_json(url, self.version(), &op).await {
            Ok(e) => Ok(Some(e)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One endpoint, or [`OperateError::NotFound`] saying how to create it.
    pub async fn require(self, endpoint: &str) -> Result<BatchEndpoint, OperateError> {
        self.get(endpoint)
            .await?
            .ok_or_else(|| OperateError::NotFound {
                what: format!("endpoint `{endpoint}`"),
                hint: format!("; create it with `endpoint create {endpoint}`"),
            })
    }

    /// Every endpoint of the workspace.
    pub async fn list(self) -> Result<Vec<BatchEndpoint>, ArmError> {
        let url = self.ws.url(&["batchEndpoints"]);
        self.ws
            .arm()
            .list_all(url, self.version(), "GET batchEndpoints")
            .await
    }

    /// Creates endpoint `endpoint` (or updates its description); unchanged when it exists as
    /// asked.
    pub async fn create(
        self,
        endpoint: &str,
        description: Option<&str>,
    ) -> Result<Change<BatchEndpoint>, OperateError> {
        check_endpoint_name(endpoint)?;
        let body = match self.get(endpoint).await? {
            Some(found)
                if description.is_none()
                    || found.properties.description.as_deref() == description =>
            {
                return Ok(Change {
                    value: found,
                    changed: false,
                });
            }
            Some(found) => {
                let mut put = found.to_put();
                put.properties.description = description.map(str::to_owned);
                put
            }
            None => BatchEndpoint::new(self.location().await?, description.map(str::to_owned)),
        };
        Ok(Change {
            value: self.put_endpoint(endpoint, &body).await?,
            changed: true,
        })
    }

    async fn put_endpoint(
        self,
        endpoint: &str,
        body: &BatchEndpoint,
    ) -> Result<BatchEndpoint, OperateError> {
        let op = format!("PUT batchEndpoints/{endpoint}");
        let url = self.url(endpoint, None);
        self.put(url, self.version(), &op, body).await
    }

    async fn put<T: serde::Serialize + serde::de::DeserializeOwned>(
        self,
        url: Url,
        api_version: &str,
        op: &str,
        body: &T,
    ) -> Result<T, OperateError> {
        let json = crate::wire::to_json_value(body, op).map_err(OperateError::Invalid)?;
        let arm = self.ws.arm();
        let initial = arm
            .send(
                ArmRequest::new(Method::Put, url.clone(), op)
                    .api_version(api_version)
                    .json(json),
            )
            .await?;
        let done = arm
            .wait_for_completion(initial, Method::Put, &url, api_version, op)
            .await?;
        Ok(done.json(op)?)
    }

    /// Deletes endpoint `endpoint` (with `deployment`, only that deployment). Returns false when
    /// there was nothing to delete.
    pub async fn delete(self, endpoint: &str, deployment: Option<&str>) -> Result<bool, ArmError> {
        let op = match deployment {
            Some(d) => format!("DELETE batchEndpoints/{endpoint}/deployments/{d}"),
            None => format!("DELETE batchEndpoints/{endpoint}"),
        };
        let url = self.url(endpoint, deployment);
        let arm = self.ws.arm();
        let initial = match arm
            .send(ArmRequest::new(Method::Delete, url.clone(), &op).api_version(self.version()))
            .await
        {
            Ok(a) if a.status == 204 => return Ok(false),
            Ok(a) => a,
            Err(e) if e.status() == Some(404) => return Ok(false),
            Err(e) => return Err(e),
        };
        arm.wait_for_completion(initial, Method::Delete, &url, self.version(), &op)
            .await?;
        Ok(true)
    }

    /// The deployments of `endpoint`.
    pub async fn deployments(self, endpoint: &str) -> Result<Vec<BatchDeployment>, ArmError> {
        let url = self.ws.url(&["batchEndpoints", endpoint, "deployments"]);
        let op = format!("GET batchEndpoints/{endpoint}/deployments");
        self.ws.arm().list_all(url, self.version(), &op).await
    }

    /// One deployment, `None` when it does not exist.
    pub async fn get_deployment(
        self,
        endpoint: &str,
        deployment: &str,
    ) -> Result<Option<BatchDeployment>, ArmError> {
        let op = format!("GET batchEndpoints/{endpoint}/deployments/{deployment}");
        let url = self.url(endpoint, Some(deployment));
        match self.ws.arm().get_json(url, self.version(), &op).await {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deploys published version `name:version` as `deployment` under `endpoint` (the
    /// workspace's compute `default_compute` runs steps that name none), and makes it the
    /// default when `make_default` is set or the endpoint has none yet. Unchanged when the
    /// deployment already runs that version.
    ///
    /// # Errors
    ///
    /// [`OperateError::Archived`] for a disabled version; unknown endpoint or version; a failed
    /// provisioning (the service's errors).
    pub async fn deploy(
        self,
        endpoint: &str,
        deployment: &str,
        (name, version): (&str, &str),
        default_compute: Option<&str>,
        make_default: bool,
    ) -> Result<Deployed, OperateError> {
        check_deployment_name(deployment)?;
        let found_endpoint = self.require(endpoint).await?;
        let component = Versions::new(self.ws).require(name, version).await?;
        if component.properties.is_archived {
            return Err(OperateError::Archived {
                name: name.to_owned(),
                version: version.to_owned(),
            });
        }
        let id = if component.id.is_empty() {
            self.ws.scope().component_version_id(name, version)
        } else {
            component.id.clone()
        };
        let current = self.get_deployment(endpoint, deployment).await?;
        let deployed = match current {
            Some(d)
                if d.component_id()
                    .is_some_and(|c| c.eq_ignore_ascii_case(&id)) =>
            {
                Change {
                    value: d,
                    changed: false,
                }
            }
            _ => {
                let body = BatchDeployment::pipeline_component(
                    found_endpoint.location.clone(),
                    id,
                    default_compute,
                    None,
                );
                let op = format!("PUT batchEndpoints/{endpoint}/deployments/{deployment}");
                let url = self.url(endpoint, Some(deployment));
                Change {
                    value: self
                        .put(url, self.deployment_put_version(), &op, &body)
                        .await?,
                    changed: true,
                }
            }
        };
        let default_set = if (make_default || found_endpoint.default_deployment().is_none())
            && found_endpoint.default_deployment() != Some(deployment)
        {
            Some(
                self.put_default(endpoint, found_endpoint, deployment)
                    .await?,
            )
        } else {
            None
        };
        Ok(Deployed {
            deployment: deployed,
            default_set,
        })
    }

    /// Makes `deployment` the default of `endpoint`: GET, then a full PUT with
    /// `defaults.deploymentName`. Unchanged when it already is.
    pub async fn set_default(
        self,
        endpoint: &str,
        deployment: &str,
    ) -> Result<Change<BatchEndpoint>, OperateError> {
        let found = self.require(endpoint).await?;
        if found.default_deployment() == Some(deployment) {
            return Ok(Change {
                value: found,
                changed: false,
            });
        }
        if self.get_deployment(endpoint, deployment).await?.is_none() {
            return Err(OperateError::NotFound {
                what: format!("deployment `{deployment}` of endpoint `{endpoint}`"),
                hint: format!(
                    "; deploy one with `endpoint deploy {endpoint} --pipeline NAME:VERSION \
                     --deployment {deployment}`"
                ),
            });
        }
        Ok(Change {
            value: self.put_default(endpoint, found, deployment).await?,
            changed: true,
        })
    }

    async fn put_default(
        self,
        endpoint: &str,
        found: BatchEndpoint,
        deployment: &str,
    ) -> Result<BatchEndpoint, OperateError> {
        let mut put = found.to_put();
        put.properties.defaults = Some(BatchEndpointDefaults {
            deployment_name: Some(deployment.to_owned()),
        });
        self.put_endpoint(endpoint, &put).await
    }

    /// Checks an invocation of `endpoint` against the published interface and returns what
    /// would be sent (the invocation itself is not sent).
    ///
    /// An input given as a local file or folder (anything that is not an `azureml:`,
    /// `https://`, `wasbs://` or `abfss://` URI) is checked (it exists, a file for `uri_file`, a
    /// folder for `uri_folder` and `mltable`), then, once every other value is checked too,
    /// uploaded to the workspace's default datastore under `LocalUpload/<object hash>/<name>` by
    /// the same code as `data create` ([`super::data::DataAssets::upload_local`]; skipped when
    /// an earlier upload of the same content is marked complete) and sent as its `azureml://`
    /// URI ([`InvokePlan::uploads`]).
    ///
    /// # Errors
    ///
    /// Unknown endpoint or deployment, no default deployment, an archived version,
    /// [`OperateError::Interface`] for values that do not fit.
    pub async fn plan_invoke(
        self,
        endpoint: &str,
        opts: &InvokeOptions,
    ) -> Result<InvokePlan, OperateError> {
        let found = self.require(endpoint).await?;
        let deployment = match (&opts.deployment, found.default_deployment()) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => d.to_owned(),
            (None, None) => {
                return Err(OperateError::NotFound {
                    what: format!("a default deployment of endpoint `{endpoint}`"),
                    hint: format!(
                        "; name one with `--deployment`, or set it with `endpoint set-default \
                         {endpoint} DEPLOYMENT`"
                    ),
                });
            }
        };
        let Some(d) = self.get_deployment(endpoint, &deployment).await? else {
            return Err(OperateError::NotFound {
                what: format!("deployment `{deployment}` of endpoint `{endpoint}`"),
                hint: format!("; `endpoint show {endpoint}` lists its deployments"),
            });
        };
        let (name, version) = d
            .component_id()
            .and_then(component_name_version)
            .ok_or_else(|| {
                OperateError::Invalid(format!(
                    "deployment `{deployment}` of endpoint `{endpoint}` does not run a published \
                     pipeline"
                ))
            })?;
        let component = Versions::new(self.ws).require(&name, &version).await?;
        if component.properties.is_archived {
            return Err(OperateError::Archived { name, version });
        }
        let job_name = opts
            .job_name
            .clone()
            .unwrap_or_else(|| super::submit::new_job_name(&name));
        // Local inputs: checked with the rest first (nothing is uploaded for a call that would
        // be refused), then uploaded as `data create` and `submit` upload them, then sent as
        // their `azureml://` URIs.
        let locals = local_inputs(&component, &name, &version, opts)?;
        let mut opts = opts.clone();
        if !locals.is_empty() {
            let mut pending = opts.clone();
            for (i, _) in &locals {
                pending.inputs[*i].1 = "azureml://datastores/pending/paths/upload".to_owned();
            }
            invoke_body(&component, &name, &version, &pending, job_name.clone())?;
        }
        let mut uploads = Vec::new();
        for (i, path) in locals {
            let input = opts.inputs[i].0.clone();
            let data = self
                .ws
                .data()
                .upload_local(
                    &path,
                    &format!("input `{input}`"),
                    &UploadOptions::default(),
                )
                .await?;
            opts.inputs[i].1 = data.uri.clone();
            uploads.push(UploadedInput { input, path, data });
        }
        let opts = &opts;
        let body = invoke_body(&component, &name, &version, opts, job_name)?;
        let scoring_uri = found.properties.scoring_uri.clone().ok_or_else(|| {
            OperateError::Invalid(format!(
                "endpoint `{endpoint}` has no scoring URI yet (provisioning state {}); try again \
                 when `endpoint show {endpoint}` says Succeeded",
                found
                    .properties
                    .provisioning_state
                    .as_deref()
                    .unwrap_or("unknown")
            ))
        })?;
        Ok(InvokePlan {
            scoring_uri,
            deployment,
            named_deployment: opts.deployment.is_some(),
            component: format!("{name}:{version}"),
            body,
            uploads,
        })
    }

    /// Starts a job of the published pipeline behind `endpoint` (see [`Self::plan_invoke`]).
    pub async fn invoke(
        self,
        endpoint: &str,
        opts: &InvokeOptions,
    ) -> Result<Invoked, OperateError> {
        let plan = self.plan_invoke(endpoint, opts).await?;
        self.send_invoke(endpoint, &plan).await
    }

    /// Sends a planned invocation.
    pub async fn send_invoke(
        self,
        endpoint: &str,
        plan: &InvokePlan,
    ) -> Result<Invoked, OperateError> {
        let op = format!("POST batchEndpoints/{endpoint} scoring URI");
        let url = Url::parse(&plan.scoring_uri).map_err(|e| {
            OperateError::Invalid(format!(
                "endpoint `{endpoint}` has a scoring URI that is not a URL ({e})"
            ))
        })?;
        let body = crate::wire::to_json_value(&plan.body, &op).map_err(OperateError::Invalid)?;
        let mut request = ArmRequest::new(Method::Post, url, &op)
            .scope(TokenScope::AzureMl)
            .json(body)
            .secret_header(
                "repeatability_request-id",
                Secret::new(azure_core::Uuid::new_v4().to_string()),
            );
        if plan.named_deployment {
            request = request.secret_header(
                "azureml-model-deployment",
                Secret::new(plan.deployment.clone()),
            );
        }
        let answer: InvokeResponse = self.ws.arm().send(request).await?.json(&op)?;
        let job_name = if answer.name.is_empty() {
            plan.body.properties.name.clone().unwrap_or_default()
        } else {
            answer.name
        };
        Ok(Invoked {
            job_name,
            deployment: plan.deployment.clone(),
            component: plan.component.clone(),
        })
    }
}

impl InvokePlan {
    /// The same call as a `curl` command line any HTTP client can copy; the token is a
    /// placeholder (`$TOKEN`), never a real one.
    pub fn curl(&self) -> String {
        let body = serde_json::to_string(&self.body).unwrap_or_default();
        let mut line = format!(
            "curl -X POST '{}' -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json'",
            self.scoring_uri
        );
        if self.named_deployment {
            line.push_str(&format!(
                " -H 'azureml-model-deployment: {}'",
                self.deployment
            ));
        }
        line.push_str(&format!(" -d '{}'", body.replace('\'', "'\\''")));
        line
    }
}

mod interface;
mod jobs;
pub use interface::{
    accepted_inputs, component_name_version, invoke_body, is_remote, local_inputs,
};
pub use jobs::ENDPOINT_JOBS_API_VERSION;

/// Deployment names: 1 to 32 letters, digits and `-`, starting with a letter or a digit.
fn check_deployment_name(name: &str) -> Result<(), OperateError> {
    let ok = (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(OperateError::Invalid(format!(
            "`{name}` is not a valid deployment name: use 1 to 32 letters, digits or `-`, \
             starting with a letter or a digit"
        )))
    }
}

/// Endpoint names: 3 to 32 letters, digits and `-`, starting with a letter
/// (Azure ML's rule for batch endpoints; deployments take the same here).
fn check_endpoint_name(name: &str) -> Result<(), OperateError> {
    let ok = (3..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(OperateError::Invalid(format!(
            "`{name}` is not a valid endpoint name: use 3 to 32 letters, digits \
             or `-`, starting with a letter"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curl_line_has_a_token_placeholder() {
        let plan = InvokePlan {
            scoring_uri: "https://e.eastus.inference.ml.azure.com/jobs".into(),
            deployment: "v2".into(),
            named_deployment: true,
            component: "p:2".into(),
            body: InvokeRequest::default(),
            uploads: Vec::new(),
        };
        let line = plan.curl();
        assert!(line.contains("Bearer $TOKEN"), "{line}");
        assert!(line.contains("-H 'azureml-model-deployment: v2'"), "{line}");
        assert!(
            line.contains("-d '{\"properties\":{\"inputData\":{}}}'"),
            "{line}"
        );
    }
}
