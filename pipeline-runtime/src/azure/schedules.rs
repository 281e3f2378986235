//! Schedules (the seed's `Schedule`): a cron or recurrence trigger whose action creates the
//! pipeline job (`PUT schedules/{name}`, long-running; reference §13 "Schedules"). Enable and
//! disable are GET, then PUT with `isEnabled`. Every change is idempotent by name.
//!
//! ```no_run
//! # async fn demo(job: azureml_pipelines_runtime::wire::rest::PipelineJob)
//! #     -> Result<(), azureml_pipelines_runtime::azure::publish::OperateError> {
//! use azureml_pipelines_runtime::azure::{Workspace, schedules::Schedules};
//! use azureml_pipelines_runtime::wire::schedule::Trigger;
//! let ws = Workspace::from_config()?;
//! let trigger = Trigger::Cron {
//!     expression: "0 6 * * *".into(), time_zone: "UTC".into(), start_time: None, end_time: None,
//! };
//! let created = Schedules::new(&ws).create("nightly", job, trigger).await?;
//! assert!(created.value.enabled() || !created.changed);
//! Schedules::new(&ws).set_enabled("nightly", false).await?;
//! # Ok(()) }
//! ```

use azure_core::http::{Method, Url};

use super::arm::{ArmError, ArmRequest};
use super::endpoints::Change;
use super::publish::{OperateError, check_name, same};
use super::workspace::Workspace;
use crate::wire::rest::PipelineJob;
use crate::wire::schedule::{Schedule, Trigger};

/// Schedules of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct Schedules<'a> {
    ws: &'a Workspace,
}

impl<'a> Schedules<'a> {
    /// The schedules of `ws`.
    pub fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    /// api-version of schedule PUT, GET, list and DELETE:
    /// [`ApiVersions::schedules`](super::ApiVersions::schedules) (default `2023-06-01-preview`,
    /// what Microsoft's SDK sends, §13; `AZUREML_API_VERSION_SCHEDULES`).
    fn version(self) -> &'a str {
        &self.ws.arm().options().api_versions.schedules
    }

    fn url(self, name: &str) -> Url {
        self.ws.url(&["schedules", name])
    }

    /// One schedule, `None` when it does not exist.
    pub async fn get(self, name: &str) -> Result<Option<Schedule>, ArmError> {
        let op = format!("GET schedules/{name}");
        match self
            .ws
            .arm()
            .get_json(self.url(name), self.version(), &op)
            .await
        {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One schedule, or [`OperateError::NotFound`].
    pub async fn require(self, name: &str) -> Result<Schedule, OperateError> {
        self.get(name).await?.ok_or_else(|| OperateError::NotFound {
            what: format!("schedule `{name}`"),
            hint: "; `schedule list` shows the workspace's schedules".to_owned(),
        })
    }

    /// Every schedule of the workspace (disabled ones included).
    pub async fn list(self) -> Result<Vec<Schedule>, ArmError> {
        let mut url = self.ws.url(&["schedules"]);
        url.query_pairs_mut().append_pair("listViewType", "All");
        self.ws
            .arm()
            .list_all(url, self.version(), "GET schedules")
            .await
    }

    /// Creates schedule `name` running `job` on `trigger`; unchanged when it exists with the
    /// same trigger and job, updated (keeping its enabled state) when they differ.
    pub async fn create(
        self,
        name: &str,
        job: PipelineJob,
        trigger: Trigger,
    ) -> Result<Change<Schedule>, OperateError> {
        check_name(name)?;
        let mut body = Schedule::create_job(job, trigger, Some(name.to_owned()));
        if let Some(found) = self.get(name).await? {
            let ours = serde_json::to_value(&body.properties.action).unwrap_or_default();
            let theirs = serde_json::to_value(&found.properties.action).unwrap_or_default();
            if found.properties.trigger == body.properties.trigger && same(&ours, &theirs) {
                return Ok(Change {
                    value: found,
                    changed: false,
                });
            }
            body.properties.is_enabled = found.properties.is_enabled;
        }
        Ok(Change {
            value: self.put(name, &body).await?,
            changed: true,
        })
    }

    /// Enables or disables schedule `name`: GET, then PUT with `isEnabled`.
    pub async fn set_enabled(
        self,
        name: &str,
        enabled: bool,
    ) -> Result<Change<Schedule>, OperateError> {
        let found = self.require(name).await?;
        if found.enabled() == enabled {
            return Ok(Change {
                value: found,
                changed: false,
            });
        }
        let mut put = found.to_put();
        put.properties.is_enabled = Some(enabled);
        Ok(Change {
            value: self.put(name, &put).await?,
            changed: true,
        })
    }

    /// Deletes schedule `name`; false when there was none.
    pub async fn delete(self, name: &str) -> Result<bool, ArmError> {
        let op = format!("DELETE schedules/{name}");
        let url = self.url(name);
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

    async fn put(self, name: &str, body: &Schedule) -> Result<Schedule, OperateError> {
        let op = format!("PUT schedules/{name}");
        let url = self.url(name);
        let json = crate::wire::to_json_value(body, &op).map_err(OperateError::Invalid)?;
        let arm = self.ws.arm();
        let initial = arm
            .send(
                ArmRequest::new(Method::Put, url.clone(), &op)
                    .api_version(self.version())
                    .json(json),
            )
            .await?;
        let done = arm
            .wait_for_completion(initial, Method::Put, &url, self.version(), &op)
            .await?;
        Ok(done.json(&op)?)
    }
}
