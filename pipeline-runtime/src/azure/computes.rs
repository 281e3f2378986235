//! Computes (`{WS}/computes/{name}`): list, show, create and wait until usable, resize, delete,
//! attach; typed after [`crate::wire::compute`].
//!
//! Creating a cluster is long-running: the PUT answers `201 Creating` at once. Azure's own
//! answer carries an `Azure-AsyncOperation` URL, but what a user waits for is the compute's own
//! `provisioningState`, and only the resource says how far the nodes are; so
//! [`Computes::create_or_update`] polls the resource (`GET computes/{name}`, the SDK's
//! body-content polling) and reports every change until it is `Succeeded` (usable), `Failed`
//! (with the service's provisioning errors) or `Canceled`.

use std::time::Duration;

use azure_core::http::Method;

use super::arm::{ArmError, ArmRequest, ErrorDetail};
use super::workspace::Workspace;
use crate::graph::{Component, Pipeline};
use crate::wire::compute::{
    AmlComputeProperties, ClusterUpdateParameters, ComputeKind, ComputeResource,
};

/// A compute resource (`{WS}/computes/{name}`).
pub type Compute = ComputeResource;

/// How long and how often [`Computes::create_or_update`] polls.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// Time between two polls (default 5 s).
    pub interval: Duration,
    /// Give up after this long (default 1 h); the compute may still finish.
    pub timeout: Duration,
}

impl Default for Wait {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(3600),
        }
    }
}

/// What `DELETE computes/{name}` does to the resource behind the compute
/// (`underlyingResourceAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteAction {
    /// Delete the cluster itself (created computes).
    Delete,
    /// Only detach it from the workspace (attached computes: the cluster, pool or VM stays).
    Detach,
}

impl DeleteAction {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteAction::Delete => "Delete",
            DeleteAction::Detach => "Detach",
        }
    }
}

/// Compute operations of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct Computes<'a> {
    ws: &'a Workspace,
}

impl<'a> Computes<'a> {
    pub(crate) fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    fn version(self) -> &'a str {
        &self.ws.arm().options().api_versions.computes
    }

    /// All computes of the workspace.
    pub async fn list(self) -> Result<Vec<ComputeResource>, ArmError> {
        self.ws
            .arm()
            .list_all(self.ws.url(&["computes"]), self.version(), "list computes")
            .await
    }

    /// One compute. On 404 the error's hint lists the computes that do exist.
    pub async fn get(self, name: &str) -> Result<ComputeResource, ArmError> {
        let op = format!("GET computes/{name}");
        match self
            .ws
            .arm()
            .get_json(self.ws.url(&["computes", name]), self.version(), &op)
            .await
        {
            Err(e) if e.status() == Some(404) => {
                let hint = self.not_found_hint(name).await;
                Err(e.with_hint(hint))
            }
            other => other,
        }
    }

    /// Checks that every compute `pipeline` names (its default compute, each step's, those of
    /// sub-pipelines) exists; the first missing one is a 404 whose hint lists the computes the
    /// workspace has. `submit` calls this before it uploads anything.
    pub async fn check_named_by(self, pipeline: &Pipeline) -> Result<(), ArmError> {
        for name in named_by(pipeline) {
            self.get(&name).await?;
        }
        Ok(())
    }

    /// One compute, `None` when the workspace has no compute of that name.
    pub async fn find(self, name: &str) -> Result<Option<ComputeResource>, ArmError> {
        match self.get_plain(name).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn get_plain(self, name: &str) -> Result<ComputeResource, ArmError> {
        let op = format!("GET computes/{name}");
        self.ws
            .arm()
            .get_json(self.ws.url(&["computes", name]), self.version(), &op)
            .await
    }

    /// "no compute `x` in workspace `w`; it has: a (AmlCompute), b (ComputeInstance)".
    pub async fn not_found_hint(self, name: &str) -> String {
        let ws = &self.ws.config().workspace_name;
        match self.list().await {
            Ok(all) if all.is_empty() => format!(
                "no compute `{name}` in workspace `{ws}`, and it has no computes yet: create one \
                 with `compute create {name} --size STANDARD_DS3_V2`"
            ),
            Ok(all) => format!(
                "no compute `{name}` in workspace `{ws}`; it has: {}",
                all.iter()
                    .map(|c| format!(
                        "{} ({})",
                        c.display_name(),
                        c.properties.kind.compute_type()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(_) => format!("no compute `{name}` in workspace `{ws}`"),
        }
    }

    /// Creates or updates a compute (`PUT computes/{name}`) and polls it until it is usable,
    /// calling `progress` with the resource after the PUT and after every poll whose state
    /// changed. A compute that ends `Failed` or `Canceled` is an [`ArmError::OperationFailed`]
    /// carrying the service's first provisioning error.
    pub async fn create_or_update(
        self,
        name: &str,
        body: &ComputeResource,
        wait: Wait,
        mut progress: impl FnMut(&ComputeResource),
    ) -> Result<ComputeResource, ArmError> {
        let op = format!("PUT computes/{name}");
        let url = self.ws.url(&["computes", name]);
        let json = serde_json::to_value(body).map_err(|e| ArmError::InvalidRequest {
            operation: op.clone(),
            message: format!("cannot write the body: {e}"),
        })?;
        let arm = self.ws.arm();
        let mut last: ComputeResource = arm
            .send(
                ArmRequest::new(Method::Put, url.clone(), &op)
                    .api_version(self.version())
                    .json(json),
            )
            .await?
            .json(&op)?;
        progress(&last);
        let started = tokio::time::Instant::now();
        loop {
            match last
                .properties
                .provisioning_state
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("succeeded") => return Ok(last),
                Some(state @ ("failed" | "canceled")) => {
                    return Err(ArmError::OperationFailed {
                        operation: op,
                        status: if state == "failed" {
                            "Failed".into()
                        } else {
                            "Canceled".into()
                        },
                        error: provisioning_error(&last).map(Box::new),
                    });
                }
                Some(_) => {}
            }
            if started.elapsed() + wait.interval > wait.timeout {
                return Err(ArmError::OperationTimeout {
                    operation: op,
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(wait.interval).await;
            let next: ComputeResource = arm
                .get_json(url.clone(), self.version(), &format!("GET computes/{name}"))
                .await?;
            if next != last {
                progress(&next);
            }
            last = next;
        }
    }

    /// Changes the node range of an AmlCompute cluster (`PATCH computes/{name}`) and returns
    /// the compute as it is afterwards.
    pub async fn resize(
        self,
        name: &str,
        update: &ClusterUpdateParameters,
    ) -> Result<ComputeResource, ArmError> {
        let op = format!("PATCH computes/{name}");
        let url = self.ws.url(&["computes", name]);
        let json = serde_json::to_value(update).map_err(|e| ArmError::InvalidRequest {
            operation: op.clone(),
            message: format!("cannot write the body: {e}"),
        })?;
        let arm = self.ws.arm();
        let started = arm
            .send(
                ArmRequest::new(Method::Patch, url.clone(), &op)
                    .api_version(self.version())
                    .json(json),
            )
            .await
            .map_err(|e| match e.status() {
                Some(404) => e.with_hint(format!("no compute `{name}`: see `compute list`")),
                _ => e,
            })?;
        arm.wait_for_completion(started, Method::Patch, &url, self.version(), &op)
            .await?
            .json(&op)
    }

    /// Deletes a compute, or detaches an attached one (`DELETE computes/{name}?
    /// underlyingResourceAction=…`), and waits until it is gone.
    pub async fn delete(self, name: &str, action: DeleteAction) -> Result<(), ArmError> {
        let op = format!("DELETE computes/{name}");
        let mut url = self.ws.url(&["computes", name]);
        url.query_pairs_mut()
            .append_pair("underlyingResourceAction", action.as_str());
        let arm = self.ws.arm();
        let started = arm
            .send(ArmRequest::new(Method::Delete, url.clone(), &op).api_version(self.version()))
            .await
            .map_err(|e| match e.status() {
                Some(404) => e.with_hint(format!("no compute `{name}`: see `compute list`")),
                _ => e,
            })?;
        arm.wait_for_completion(started, Method::Delete, &url, self.version(), &op)
            .await?;
        Ok(())
    }
}

/// The computes `pipeline` names, each once, in the order they appear: the default compute,
/// then each step's, sub-pipelines included.
pub fn named_by(pipeline: &Pipeline) -> Vec<String> {
    fn add(out: &mut Vec<String>, name: &str) {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    }
    fn walk(p: &Pipeline, out: &mut Vec<String>) {
        if let Some(c) = &p.settings.default_compute {
            add(out, c);
        }
        for node in &p.nodes {
            match &node.component {
                Component::Step(step) => {
                    if let Some(c) = step.compute {
                        add(out, c);
                    }
                }
                Component::Pipeline(inner) => walk(inner, out),
            }
        }
    }
    let mut out = Vec::new();
    walk(pipeline, &mut out);
    out
}

/// The first provisioning error of a compute (or of an AmlCompute's own `errors`), as an ARM
/// error detail.
fn provisioning_error(c: &ComputeResource) -> Option<ErrorDetail> {
    let own = match &c.properties.kind {
        ComputeKind::AmlCompute(Some(AmlComputeProperties {
            errors: Some(errors),
            ..
        })) => errors.first(),
        _ => None,
    };
    let first = c.properties.provisioning_errors.first().or(own)?;
    let e = first.error.as_ref()?;
    fn convert(e: &crate::wire::compute::ErrorDetail) -> ErrorDetail {
        ErrorDetail {
            code: e.code.clone(),
            message: e.message.as_deref().map(super::secret::redact),
            target: None,
            details: e.details.iter().map(convert).collect(),
        }
    }
    Some(convert(e))
}

/// How `wanted` differs from `existing` in what `compute create` sets (size, priority, node
/// range, idle time), one line per difference (`size: STANDARD_DS3_V2 -> STANDARD_D2_V2`);
/// empty when the same create would change nothing.
pub fn differences(existing: &ComputeResource, wanted: &ComputeResource) -> Vec<String> {
    let (ComputeKind::AmlCompute(have), ComputeKind::AmlCompute(want)) =
        (&existing.properties.kind, &wanted.properties.kind)
    else {
        return vec![format!(
            "type: {} -> {}",
            existing.properties.kind.compute_type(),
            wanted.properties.kind.compute_type()
        )];
    };
    let (have, want) = (
        have.clone().unwrap_or_default(),
        want.clone().unwrap_or_default(),
    );
    let mut out = Vec::new();
    let show = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    let mut check = |what: &str, a: Option<String>, b: Option<String>| {
        if b.is_some()
            && a.as_deref().map(str::to_ascii_lowercase)
                != b.as_deref().map(str::to_ascii_lowercase)
        {
            out.push(format!("{what}: {} -> {}", show(a), show(b)));
        }
    };
    check("size", have.vm_size.clone(), want.vm_size.clone());
    check(
        "priority",
        Some(format!(
            "{:?}",
            have.vm_priority
                .unwrap_or(crate::wire::compute::VmPriority::Dedicated)
        )),
        Some(format!(
            "{:?}",
            want.vm_priority
                .unwrap_or(crate::wire::compute::VmPriority::Dedicated)
        )),
    );
    let (hs, ws) = (
        have.scale_settings.unwrap_or_default(),
        want.scale_settings.unwrap_or_default(),
    );
    check(
        "min nodes",
        Some(hs.min_node_count.unwrap_or(0).to_string()),
        Some(ws.min_node_count.unwrap_or(0).to_string()),
    );
    check(
        "max nodes",
        Some(hs.max_node_count.to_string()),
        Some(ws.max_node_count.to_string()),
    );
    let secs = |d: &Option<String>| {
        d.as_deref().map(|d| {
            crate::wire::compute::iso8601_to_seconds(d)
                .map_or_else(|| d.to_owned(), |s| format!("{s}s"))
        })
    };
    check(
        "idle time",
        secs(&hs.node_idle_time_before_scale_down),
        secs(&ws.node_idle_time_before_scale_down),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::compute::{ComputeProperties, ScaleSettings, VmPriority};

    fn cluster(size: &str, min: u32, max: u32, idle: &str, low: bool) -> ComputeResource {
        ComputeResource::new(
            None,
            ComputeProperties {
                kind: ComputeKind::AmlCompute(Some(AmlComputeProperties {
                    vm_size: Some(size.into()),
                    vm_priority: low.then_some(VmPriority::LowPriority),
                    scale_settings: Some(ScaleSettings {
                        max_node_count: max,
                        min_node_count: Some(min),
                        node_idle_time_before_scale_down: Some(idle.into()),
                    }),
                    ..Default::default()
                })),
                ..Default::default()
            },
        )
    }

    #[test]
    fn the_same_cluster_has_no_differences() {
        let a = cluster("STANDARD_DS3_V2", 0, 4, "PT2M", false);
        assert!(differences(&a, &a).is_empty());
        // Azure may answer the size in another case.
        let b = cluster("Standard_DS3_v2", 0, 4, "PT120S", false);
        assert!(differences(&b, &a).is_empty(), "{:?}", differences(&b, &a));
    }

    #[test]
    fn every_difference_is_named() {
        let a = cluster("STANDARD_DS3_V2", 0, 4, "PT2M", false);
        let b = cluster("STANDARD_D2_V2", 1, 2, "PT5M", true);
        assert_eq!(
            differences(&a, &b),
            vec![
                "size: STANDARD_DS3_V2 -> STANDARD_D2_V2",
                "priority: Dedicated -> LowPriority",
                "min nodes: 0 -> 1",
                "max nodes: 4 -> 2",
                "idle time: 120s -> 300s",
            ]
        );
    }
}
