//! The last jobs of a batch endpoint ([`Endpoints::jobs`]), from the list Azure ML keeps of
//! them on its data plane (reference §10).

use azure_core::http::{Method, Url};

use super::Endpoints;
use crate::azure::arm::{ArmError, ArmRequest, TokenScope};
use crate::wire::endpoint::EndpointJob;

/// api-version of the data plane listing an endpoint's jobs (what Microsoft's SDK sends from
/// `BatchEndpointOperations.list_jobs`, §10). It is not an ARM api-version, so it is not one of
/// the [`ApiVersions`](crate::azure::ApiVersions) groups.
pub const ENDPOINT_JOBS_API_VERSION: &str = "2020-09-01-dataplanepreview";

/// Most pages of an endpoint's job list read before the newest are picked (bounds the listing
/// of an endpoint with a long history).
const MAX_JOB_PAGES: usize = 20;

/// One page of an endpoint's jobs.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobPage {
    #[serde(default)]
    value: Vec<EndpointJob>,
    #[serde(default)]
    next_link: Option<String>,
}

impl Endpoints<'_> {
    /// The last `count` jobs the deployments of `endpoint` started, newest first.
    ///
    /// How they are found: Azure ML keeps a batch endpoint's jobs on its data plane, listed by
    /// `GET {api}/mferp/managementfrontend/subscriptions/{sub}/resourceGroups/{rg}/providers/
    /// Microsoft.MachineLearningServices/workspaces/{ws}/batchEndpoints/{e}/jobs?api-version=
    /// 2020-09-01-dataplanepreview` with an Azure ML token, `{api}` from workspace discovery
    /// (reference §10, what `BatchEndpointOperations.list_jobs` of Microsoft's SDK sends). That
    /// list holds exactly the endpoint's jobs, so no tag or property has to be matched; each job
    /// names its deployment in its properties ([`EndpointJob::deployment`]). Pages are followed
    /// (at most 20, same host only), then sorted by creation time (`systemData.createdAt`,
    /// ISO 8601 text as the service writes it), newest first.
    pub async fn jobs(self, endpoint: &str, count: usize) -> Result<Vec<EndpointJob>, ArmError> {
        let op = format!("GET batchEndpoints/{endpoint}/jobs");
        let api = self.ws.discovery().await?.api.clone();
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
                "mferp",
                "managementfrontend",
                "subscriptions",
                &config.subscription_id,
                "resourceGroups",
                &config.resource_group,
                "providers",
                "Microsoft.MachineLearningServices",
                "workspaces",
                &config.workspace_name,
                "batchEndpoints",
                endpoint,
                "jobs",
            ]);
        let origin = url.origin();
        let mut jobs: Vec<EndpointJob> = Vec::new();
        let mut next = Some(
            ArmRequest::new(Method::Get, url, &op)
                .api_version(ENDPOINT_JOBS_API_VERSION)
                .scope(TokenScope::AzureMl),
        );
        let mut pages = 0;
        while let Some(request) = next.take() {
            let page: JobPage = self.ws.arm().send(request).await?.json(&op)?;
            jobs.extend(page.value);
            pages += 1;
            if pages >= MAX_JOB_PAGES {
                break;
            }
            if let Some(link) = page.next_link.filter(|l| !l.is_empty()) {
                let link = Url::parse(&link).map_err(|e| bad(format!("bad nextLink: {e}")))?;
                if link.origin() != origin {
                    return Err(ArmError::ForeignLink {
                        operation: op.clone(),
                        url: crate::azure::secret::url_for_display(link.as_str()).to_owned(),
                    });
                }
                // nextLink carries every query parameter, api-version included.
                next = Some(ArmRequest::new(Method::Get, link, &op).scope(TokenScope::AzureMl));
            }
        }
        // Newest first; jobs without a creation time last, by name for a stable order.
        jobs.sort_by(|a, b| {
            b.created_at()
                .cmp(&a.created_at())
                .then_with(|| a.name.cmp(&b.name))
        });
        jobs.truncate(count);
        Ok(jobs)
    }
}
