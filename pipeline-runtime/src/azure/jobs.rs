//! Jobs: submit a pipeline job under a client-chosen name (so a retried PUT can never make a
//! second job), follow its status, list its child runs, cancel it.

use std::time::Duration;

use azure_core::http::{Method, Url};

use super::arm::{ArmError, ArmRequest, TokenScope};
use super::auth::AML_SCOPE;
use super::workspace::Workspace;
use crate::wire::rest::JobRequest;
pub use crate::wire::rest::{
    Job, JobProperties, JobService, JobStatus, Run, RunError, RunErrorDetail, RunPage,
};

/// Job operations of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct Jobs<'a> {
    ws: &'a Workspace,
}

impl<'a> Jobs<'a> {
    pub(crate) fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    fn version(self) -> &'a str {
        &self.ws.arm().options().api_versions.jobs
    }

    /// Submits (or updates) job `name` with `body`, a `JobBase` (`{"properties": {"jobType": …}}`)
    /// produced by the wire room. Pipeline jobs carry the Azure ML token as `x-azureml-token`,
    /// as the Python SDK sends it. When the service rejects a compute, the error's hint lists the
    /// workspace's computes.
    pub async fn create_or_update(
        self,
        name: &str,
        body: &impl JobRequest,
    ) -> Result<Job, ArmError> {
        let op = format!("PUT jobs/{name}");
        let json =
            crate::wire::to_json_value(body, &op).map_err(|message| ArmError::InvalidRequest {
                operation: op.clone(),
                message,
            })?;
        let mut request = ArmRequest::new(Method::Put, self.ws.url(&["jobs", name]), &op)
            .api_version(self.version())
            .json(json);
        if body.is_pipeline() {
            let token = self.ws.arm().credential().token(AML_SCOPE).await?;
            request = request.secret_header("x-azureml-token", token);
        }
        match self.ws.arm().send(request).await {
            Ok(answer) => answer.json(&op),
            Err(e) if mentions_compute(&e) => {
                let compute = body
                    .compute_id()
                    .map(|id| id.rsplit('/').next().unwrap_or(id).to_owned())
                    .unwrap_or_default();
                let hint = self.ws.computes().not_found_hint(&compute).await;
                Err(e.with_hint(hint))
            }
            Err(e) => Err(e),
        }
    }

    /// One job.
    pub async fn get(self, name: &str) -> Result<Job, ArmError> {
        let op = format!("GET jobs/{name}");
        self.ws
            .arm()
            .get_json(self.ws.url(&["jobs", name]), self.version(), &op)
            .await
    }

    /// Jobs of the workspace (`listViewType=ActiveOnly`), optionally of one `jobType`.
    pub async fn list(self, job_type: Option<&str>) -> Result<Vec<Job>, ArmError> {
        let mut url = self.ws.url(&["jobs"]);
        url.query_pairs_mut()
            .append_pair("listViewType", "ActiveOnly");
        if let Some(t) = job_type {
            url.query_pairs_mut().append_pair("jobType", t);
        }
        self.ws
            .arm()
            .list_all(url, self.version(), "list jobs")
            .await
    }

    /// Asks to cancel job `name` (`POST jobs/{name}/cancel`) and waits for the request to be
    /// accepted (follows `Location` while the service answers 202).
    pub async fn cancel(self, name: &str) -> Result<(), ArmError> {
        let op = format!("POST jobs/{name}/cancel");
        let url = self.ws.url(&["jobs", name, "cancel"]);
        let arm = self.ws.arm();
        let started = arm
            .send(ArmRequest::new(Method::Post, url.clone(), &op).api_version(self.version()))
            .await?;
        arm.wait_for_completion(started, Method::Post, &url, self.version(), &op)
            .await?;
        Ok(())
    }

    /// Polls job `name` every `interval` until its status is terminal and returns it.
    pub async fn wait(self, name: &str, interval: Duration) -> Result<Job, ArmError> {
        loop {
            let job = self.get(name).await?;
            let status = job.properties.status.unwrap_or(JobStatus::Unknown);
            tracing::debug!(job = name, %status, "job status");
            if status.is_terminal() {
                return Ok(job);
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// The child runs of run `run_id` (a pipeline job's steps), from the run history
    /// (`{api}/history/v1.0/…/runs/{id}/children` with an Azure ML token; `{api}` from workspace
    /// discovery).
    pub async fn list_children(self, run_id: &str) -> Result<Vec<Run>, ArmError> {
        let api = self.ws.discovery().await?.api.clone();
        let op = format!("list children of run {run_id}");
        let bad = |message: String| ArmError::InvalidRequest {
            operation: op.clone(),
            message,
        };
        let mut url = Url::parse(&api).map_err(|e| bad(format!("bad discovery `api` URL: {e}")))?;
        let config = self.ws.config();
        url.path_segments_mut()
            .map_err(|()| bad("discovery `api` URL cannot have a path".into()))?
            .pop_if_empty()
            .extend([
                "history",
                "v1.0",
                "subscriptions",
                &config.subscription_id,
                "resourceGroups",
                &config.resource_group,
                "providers",
                "Microsoft.MachineLearningServices",
                "workspaces",
                &config.workspace_name,
                "runs",
                run_id,
                "children",
            ]);
        let origin = url.origin();
        let mut runs = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let page: RunPage = self
                .ws
                .arm()
                .send(ArmRequest::new(Method::Get, url, &op).scope(TokenScope::AzureMl))
                .await?
                .json(&op)?;
            runs.extend(page.value);
            if let Some(link) = page.next_link.filter(|l| !l.is_empty()) {
                let link = Url::parse(&link).map_err(|e| bad(format!("bad nextLink: {e}")))?;
                if link.origin() != origin {
                    return Err(ArmError::ForeignLink {
                        operation: op.clone(),
                        url: super::secret::url_for_display(link.as_str()).to_owned(),
                    });
                }
                next = Some(link);
            }
        }
        Ok(runs)
    }
}

fn mentions_compute(e: &ArmError) -> bool {
    e.service().is_some_and(|s| {
        matches!(s.status, 400 | 404)
            && (s.message.to_ascii_lowercase().contains("compute")
                || s.target
                    .as_deref()
                    .is_some_and(|t| t.to_ascii_lowercase().contains("compute")))
    })
}
