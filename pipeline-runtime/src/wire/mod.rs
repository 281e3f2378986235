//! Azure ML wire forms of a pipeline: the REST bodies (anonymous command components and the
//! PipelineJob) and the pipeline job YAML that `az ml job create --file` accepts.
//!
//! Pure serde: no I/O. What only the workspace knows (code asset ids, where local data was
//! uploaded) comes in through [`WireContext`]. The same pipeline and context always give the
//! same bytes.

mod job;
pub mod legacy;
pub mod rest;
mod yaml;

use std::path::PathBuf;

use crate::graph::{Binding, Component, DataLocation, InputValue, Pipeline};

pub use job::{ANONYMOUS_COMPONENT, ComponentPut, RestBodies, WireContext, rest_bodies};
pub use yaml::{YamlContext, to_yaml};

/// The workspace ARM ids point into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceScope {
    /// Subscription id.
    pub subscription_id: String,
    /// Resource group.
    pub resource_group: String,
    /// Workspace name.
    pub workspace_name: String,
}

impl Default for WorkspaceScope {
    /// Placeholders, for exporting without a workspace.
    fn default() -> Self {
        WorkspaceScope {
            subscription_id: "{subscription_id}".to_owned(),
            resource_group: "{resource_group}".to_owned(),
            workspace_name: "{workspace_name}".to_owned(),
        }
    }
}

impl WorkspaceScope {
    /// `/subscriptions/…/workspaces/NAME`.
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
            self.subscription_id, self.resource_group, self.workspace_name
        )
    }

    /// The ARM id of a resource below the workspace (`computes/NAME`, …).
    pub fn resource_id(&self, path: &str) -> String {
        format!("{}/{path}", self.id())
    }

    /// ARM id of a compute.
    pub fn compute_id(&self, name: &str) -> String {
        self.resource_id(&format!("computes/{name}"))
    }

    /// ARM id of a datastore.
    pub fn datastore_id(&self, name: &str) -> String {
        self.resource_id(&format!("datastores/{name}"))
    }

    /// ARM id of the code asset we register for a snapshot with this content hash: the name is
    /// derived from the hash, so the same snapshot always maps to the same asset.
    pub fn code_id_for_hash(&self, content_hash: &str) -> String {
        self.resource_id(&format!(
            "codes/{}/versions/1",
            code_name_for_hash(content_hash)
        ))
    }
}

/// The code asset name for a snapshot content hash (a UUID made of its first 32 hex digits).
pub fn code_name_for_hash(content_hash: &str) -> String {
    let padded = format!("{content_hash:0<32}");
    job::uuid_from_hex(&padded)
}

/// The snapshot folders the pipeline's steps (sub-pipelines included) need code assets for,
/// each once, with the steps that use it, in step order.
pub fn snapshot_folders(pipeline: &Pipeline) -> Vec<(PathBuf, Vec<&'static str>)> {
    let mut out: Vec<(PathBuf, Vec<&'static str>)> = Vec::new();
    for step in pipeline.steps() {
        let Some(path) = step.source_path() else {
            continue;
        };
        match out.iter_mut().find(|(p, _)| *p == path) {
            Some((_, steps)) => steps.push(step.name),
            None => out.push((path, vec![step.name])),
        }
    }
    out
}

/// The local files and folders the pipeline reads, which submission uploads: pipeline inputs
/// bound to local paths (`values`, one per input) and local `Data::at` bindings inside the
/// graph. Each comes with a label for messages (`iris`, or `node.port`). A path bound several
/// times is listed each time.
pub fn local_data(pipeline: &Pipeline, values: &[Option<InputValue>]) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for (input, value) in pipeline.inputs.iter().zip(values) {
        if let Some(InputValue::Data(DataLocation::Local(p))) = value {
            out.push((input.name.clone(), p.clone()));
        }
    }
    collect_local_bindings(pipeline, "", &mut out);
    out
}

fn collect_local_bindings(pipeline: &Pipeline, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    for node in &pipeline.nodes {
        for (port, binding) in node.component.inputs().iter().zip(&node.inputs) {
            if let Binding::Data(DataLocation::Local(p)) = binding {
                out.push((format!("{prefix}{}.{}", node.name, port.name), p.clone()));
            }
        }
        if let Component::Pipeline(inner) = &node.component {
            collect_local_bindings(inner, &format!("{prefix}{}.", node.name), out);
        }
    }
}

/// Why a pipeline cannot be written in a wire form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Azure ML runs every command in an environment.
    #[error(
        "step `{step}` has no environment; Azure ML needs one: add `environment = \"azureml:AzureML-sklearn-1.5@latest\"` (or an image) to its `#[step(...)]`"
    )]
    NoEnvironment {
        /// The step.
        step: &'static str,
    },
    /// The snapshot of a step has no code asset id in the context.
    #[error("no code asset for step `{step}` (snapshot `{}`)", path.display())]
    CodeNotUploaded {
        /// The step.
        step: &'static str,
        /// Its snapshot folder.
        path: PathBuf,
    },
    /// A local input has no datastore URI in the context.
    #[error("input `{input}` is a local path (`{}`) that has not been uploaded", path.display())]
    LocalDataNotUploaded {
        /// The input.
        input: String,
        /// The local path.
        path: PathBuf,
    },
    /// A data value was bound to a parameter.
    #[error("input `{input}` is a parameter but was given data")]
    TypeMismatch {
        /// The input.
        input: String,
    },
}

/// Serializes a value as pretty JSON with a trailing newline (the export format).
pub fn to_json_pretty<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("wire types serialize");
    s.push('\n');
    s
}
