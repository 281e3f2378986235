//! Triggering pipelines that were published with Azure ML's v1 SDK: a published pipeline by id,
//! a pipeline endpoint by id or by name (its default version or a given one), and enabling or
//! disabling a published pipeline (reference §11, corrected by §13).
//!
//! New pipelines are published on the v2 API; this module only keeps existing v1 ones callable.
//! The v1 pipelines service lives on the workspace's `pipelines` host, which workspace discovery
//! names ([`Workspace::discovery`]); it takes an ARM bearer token (§2.1) and no `api-version`.
//! Every call goes through the workspace's [`ArmClient`](super::ArmClient), so retries,
//! `Retry-After`, redaction and error messages are the same as for ARM calls; the requests
//! themselves are built by [`crate::wire::legacy`], the same functions `legacy --dry-run` prints.
//!
//! As Microsoft's v1 client does, bodies are sent as `application/json-patch+json;
//! charset=utf-8`, and the ARM token is asked for the `https://management.core.windows.net/`
//! resource ([`LEGACY_ARM_SCOPE`](super::auth::LEGACY_ARM_SCOPE)).
//!
//! A submit is a POST with no client-chosen id: a 429 or 503 is retried safely (the service did
//! nothing), but a connection lost after the service accepted the run cannot be told apart from
//! one lost before, and a retry may then start a second run.
//!
//! ```no_run
//! # async fn demo() -> Result<(), azureml_pipelines_runtime::azure::Error> {
//! use azureml_pipelines_runtime::azure::Workspace;
//! use azureml_pipelines_runtime::azure::legacy::LegacyPipelines;
//! use azureml_pipelines_runtime::wire::legacy::PipelineSubmissionInfo;
//!
//! let ws = Workspace::from_config()?;
//! let v1 = LegacyPipelines::new(&ws);
//! // `PublishedPipeline.submit(ws, "batch_scoring", pipeline_parameters={…})` in the v1 SDK:
//! let body = PipelineSubmissionInfo::new("batch_scoring").parameter("process_count_per_node", "6");
//! let run = v1.submit_published("0f1e2d3c-…", &body).await?;
//! println!("started run {}", run.id);
//! // `run.wait_for_completion()`: poll `GET PipelineRuns/{id}` until it ends.
//! let (_, outcome) = v1
//!     .follow_run(&run.id, std::time::Duration::from_secs(5), |r| {
//!         println!("{:?}", r.status.as_ref().and_then(|s| s.code()));
//!     })
//!     .await?;
//! println!("ended {outcome:?}");
//! // `PipelineEndpoint.submit("batch_scoring", pipeline_version="2")`:
//! let (_endpoint, run) = v1.submit_endpoint_by_name("scoring", Some("2"), &body).await?;
//! println!("started run {}", run.id);
//! // `PublishedPipeline.disable()`; `changed` is false when it already was.
//! let change = v1.disable("0f1e2d3c-…").await?;
//! println!("changed: {}", change.changed);
//! # Ok(()) }
//! ```

use azure_core::http::{Method, Url};

use super::arm::{ArmError, ArmRequest, ArmResponse, TokenScope};
use super::workspace::Workspace;
use crate::wire::WorkspaceScope;
use crate::wire::legacy::{
    EntityStatus, LegacyRequest, PipelineEndpointEntity, PipelineRunEntity, PipelineSubmissionInfo,
    PublishedPipelineEntity, RunOutcome,
};

/// The v1 pipelines service of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct LegacyPipelines<'a> {
    ws: &'a Workspace,
}

/// What [`LegacyPipelines::enable`] or [`LegacyPipelines::disable`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    /// The published pipeline as it was before.
    pub pipeline: PublishedPipelineEntity,
    /// Its status now.
    pub status: EntityStatus,
    /// Whether a change was sent (false: it already had that status, nothing was sent).
    pub changed: bool,
}

impl<'a> LegacyPipelines<'a> {
    /// The v1 pipelines service of `ws`.
    pub fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    /// The workspace the calls name.
    pub fn scope(&self) -> WorkspaceScope {
        let c = self.ws.config();
        WorkspaceScope {
            subscription_id: c.subscription_id.clone(),
            resource_group: c.resource_group.clone(),
            workspace_name: c.workspace_name.clone(),
        }
    }

    /// The `pipelines` base URL from workspace discovery (fetched once per [`Workspace`]).
    pub async fn host(&self) -> Result<String, ArmError> {
        let discovery = self.ws.discovery().await?;
        discovery
            .pipelines
            .clone()
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| ArmError::InvalidRequest {
                operation: "find the v1 pipelines service".to_owned(),
                message: format!(
                    "the discovery document of workspace `{}` names no `pipelines` host; the \
                     workspace cannot run v1 published pipelines",
                    self.ws.config().workspace_name
                ),
            })
    }

    /// The full URL of `request` on the `pipelines` host.
    pub async fn url(&self, request: &LegacyRequest) -> Result<Url, ArmError> {
        let host = self.host().await?;
        let text = format!(
            "{}{}",
            host.trim_end_matches('/'),
            request.path(&self.scope())
        );
        Url::parse(&text).map_err(|e| ArmError::InvalidRequest {
            operation: request.operation(),
            message: format!("bad v1 pipelines URL from discovery (`{host}`): {e}"),
        })
    }

    async fn send(&self, request: &LegacyRequest) -> Result<ArmResponse, ArmError> {
        let method = match request.method {
            "GET" => Method::Get,
            "PUT" => Method::Put,
            _ => Method::Post,
        };
        let mut arm = ArmRequest::new(method, self.url(request).await?, request.operation())
            .scope(TokenScope::LegacyArm);
        if let Some(body) = &request.body {
            arm = arm
                .json(body.clone())
                .content_type("application/json-patch+json; charset=utf-8");
        }
        self.ws.arm().send(arm).await
    }

    /// Runs the published pipeline `pipeline_id` (`POST PipelineRuns/PipelineSubmit/{id}`).
    ///
    /// A 404 says no published pipeline has that id; a refusal of a disabled pipeline says how
    /// to enable it.
    pub async fn submit_published(
        &self,
        pipeline_id: &str,
        body: &PipelineSubmissionInfo,
    ) -> Result<PipelineRunEntity, ArmError> {
        let request = LegacyRequest::submit_published(pipeline_id, body);
        match self.send(&request).await {
            Ok(answer) => answer.json(&request.operation()),
            Err(e) => Err(self.explain_submit_error(e, pipeline_id).await),
        }
    }

    /// Runs the pipeline endpoint `endpoint_id`: its default version, or `version`
    /// (`POST PipelineRuns/PipelineEndpointSubmit/Id/{id}[/{v}?pipelineVersion={v}]`).
    pub async fn submit_endpoint(
        &self,
        endpoint_id: &str,
        version: Option<&str>,
        body: &PipelineSubmissionInfo,
    ) -> Result<PipelineRunEntity, ArmError> {
        let request = LegacyRequest::submit_endpoint(endpoint_id, version, body);
        match self.send(&request).await {
            Ok(answer) => answer.json(&request.operation()),
            Err(e) if e.status() == Some(404) => Err(e.with_hint(format!(
                "no pipeline endpoint with id `{endpoint_id}`{} in workspace `{}`: check the id, \
                 or give the endpoint's name (`--pipeline-endpoint NAME`)",
                version
                    .map(|v| format!(" and version `{v}`"))
                    .unwrap_or_default(),
                self.ws.config().workspace_name
            ))),
            Err(e) => Err(e),
        }
    }

    /// The pipeline endpoint named `name` (`GET PipelineEndpoints/Name?Name={name}`).
    pub async fn endpoint_by_name(&self, name: &str) -> Result<PipelineEndpointEntity, ArmError> {
        let request = LegacyRequest::endpoint_by_name(name);
        match self.send(&request).await {
            Ok(answer) => answer.json(&request.operation()),
            Err(e) if e.status() == Some(404) => Err(e.with_hint(format!(
                "no pipeline endpoint named `{name}` in workspace `{}`: check the name (names \
                 are case-sensitive)",
                self.ws.config().workspace_name
            ))),
            Err(e) => Err(e),
        }
    }

    /// Looks the endpoint `name` up to its id, checks that it has `version` (when given), and
    /// runs it. Returns the endpoint and the run.
    pub async fn submit_endpoint_by_name(
        &self,
        name: &str,
        version: Option<&str>,
        body: &PipelineSubmissionInfo,
    ) -> Result<(PipelineEndpointEntity, PipelineRunEntity), ArmError> {
        let endpoint = self.endpoint_by_name(name).await?;
        if let Some(v) = version {
            let versions = endpoint.versions();
            if !versions.is_empty() && !versions.contains(&v) {
                return Err(ArmError::InvalidRequest {
                    operation: format!("submit pipeline endpoint `{name}`"),
                    message: format!(
                        "it has no version `{v}`; its versions are {} (default {})",
                        versions.join(", "),
                        endpoint.default_version.as_deref().unwrap_or("not set")
                    ),
                });
            }
        }
        let run = self.submit_endpoint(&endpoint.id, version, body).await?;
        Ok((endpoint, run))
    }

    /// The run `run_id` with its status (`GET PipelineRuns/{runId}`, §11 "run status").
    pub async fn get_run(&self, run_id: &str) -> Result<PipelineRunEntity, ArmError> {
        let request = LegacyRequest::get_run(run_id);
        match self.send(&request).await {
            Ok(answer) => answer.json(&request.operation()),
            Err(e) if e.status() == Some(404) => Err(e.with_hint(format!(
                "no pipeline run with id `{run_id}` in workspace `{}`",
                self.ws.config().workspace_name
            ))),
            Err(e) => Err(e),
        }
    }

    /// Follows run `run_id` until it ends, reading its status every `interval`; `on_status`
    /// is told each status read. Returns the run as last read and how it ended.
    ///
    /// Bounded as every request is: each read has the retry budget, and all of them the
    /// command budget when one runs ([`super::retry::start_command_budget`]).
    pub async fn follow_run(
        &self,
        run_id: &str,
        interval: std::time::Duration,
        mut on_status: impl FnMut(&PipelineRunEntity),
    ) -> Result<(PipelineRunEntity, RunOutcome), ArmError> {
        loop {
            let run = self.get_run(run_id).await?;
            on_status(&run);
            if let Some(outcome) = run.status.as_ref().and_then(|s| s.outcome()) {
                return Ok((run, outcome));
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// The published pipeline `pipeline_id` (`GET PublishedPipelines/{id}`).
    pub async fn get_published(
        &self,
        pipeline_id: &str,
    ) -> Result<PublishedPipelineEntity, ArmError> {
        let request = LegacyRequest::get_published(pipeline_id);
        match self.send(&request).await {
            Ok(answer) => answer.json(&request.operation()),
            Err(e) if e.status() == Some(404) => {
                Err(e.with_hint(self.no_published_pipeline(pipeline_id)))
            }
            Err(e) => Err(e),
        }
    }

    /// Enables the published pipeline `pipeline_id` (`PublishedPipeline.enable()`): reads its
    /// status, and sends `PUT Pipelines/{id}/status` `"Active"` only when it is not active.
    pub async fn enable(&self, pipeline_id: &str) -> Result<StatusChange, ArmError> {
        self.set_status(pipeline_id, EntityStatus::Active).await
    }

    /// Disables the published pipeline `pipeline_id` (`PublishedPipeline.disable()`): it refuses
    /// runs until enabled. Sends nothing when it already is disabled.
    pub async fn disable(&self, pipeline_id: &str) -> Result<StatusChange, ArmError> {
        self.set_status(pipeline_id, EntityStatus::Disabled).await
    }

    async fn set_status(
        &self,
        pipeline_id: &str,
        status: EntityStatus,
    ) -> Result<StatusChange, ArmError> {
        let pipeline = self.get_published(pipeline_id).await?;
        if pipeline.entity_status.as_ref() == Some(&status) {
            return Ok(StatusChange {
                pipeline,
                status,
                changed: false,
            });
        }
        let request = LegacyRequest::set_status(pipeline_id, status.clone());
        match self.send(&request).await {
            Ok(_) => Ok(StatusChange {
                pipeline,
                status,
                changed: true,
            }),
            Err(e) if e.status() == Some(404) => {
                Err(e.with_hint(self.no_published_pipeline(pipeline_id)))
            }
            Err(e) => Err(e),
        }
    }

    fn no_published_pipeline(&self, pipeline_id: &str) -> String {
        format!(
            "no published pipeline with id `{pipeline_id}` in workspace `{}`: check the id \
             (Azure ML studio lists them under Pipelines → Published pipelines)",
            self.ws.config().workspace_name
        )
    }

    /// Adds what we know to a refused submit: a 404 names the id; a refusal of a disabled
    /// pipeline (the service's answer is a 4xx whose form is not documented) is confirmed by
    /// reading the pipeline's status, and says how to enable it.
    async fn explain_submit_error(&self, e: ArmError, pipeline_id: &str) -> ArmError {
        match e.status() {
            Some(404) => e.with_hint(self.no_published_pipeline(pipeline_id)),
            Some(400 | 403 | 409 | 422) => match self.get_published(pipeline_id).await {
                Ok(p) if p.entity_status == Some(EntityStatus::Disabled) => e.with_hint(format!(
                    "published pipeline `{pipeline_id}` is disabled: enable it with `legacy \
                     enable {pipeline_id}` (v1 SDK: `PublishedPipeline.enable()`)"
                )),
                _ => e,
            },
            _ => e,
        }
    }
}
