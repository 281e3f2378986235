//! Azure ML wire forms of a pipeline: the REST bodies (anonymous command components and the
//! PipelineJob) and the pipeline job YAML that `az ml job create --file` accepts.
//!
//! Pure serde: no I/O. What only the workspace knows (code asset ids, where local data was
//! uploaded) comes in through [`WireContext`]. The same pipeline and context always give the
//! same bytes.

pub mod code;
pub mod component;
pub mod compute;
pub mod data;
mod data_transfer;
pub mod datastore;
pub mod endpoint;
mod ids;
pub mod job;
pub mod legacy;
mod lower;
pub mod rest;
mod rust_binary;
pub mod schedule;
mod spark;
mod to_rest;
pub mod workspace;
mod yaml;

use std::path::PathBuf;

use crate::graph::{Binding, Component, DataLocation, InputValue, Pipeline};

pub use ids::{
    CODE_VERSION, DataAssetRef, LATEST_PLACEHOLDER, LocalUpload, WorkspaceScope,
    code_name_for_hash, component_version_path, datastore_uri, is_valid_name, job_output_uri,
};
pub use rust_binary::{
    RUST_BINARY_DIR, RUST_BINARY_FILE, RUST_BINARY_PLACEHOLDER, code_dir as rust_code_dir,
};
pub use to_rest::{
    ANONYMOUS_COMPONENT, ComponentPut, ExportedRequest, RequestBody, RestBodies, WireContext,
    rest_bodies,
};
pub use yaml::{JOB_FILE, YamlContext, YamlExport, to_yaml};

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
    data_locations(pipeline, values)
        .into_iter()
        .filter_map(|(label, loc)| match loc {
            DataLocation::Local(p) => Some((label, p.clone())),
            DataLocation::Uri(_) => None,
        })
        .collect()
}

/// The data assets the pipeline names as `azureml:NAME@latest` (in `values` or inside the
/// graph), each with a label for messages; submission resolves them to a version first.
pub fn latest_data_assets(
    pipeline: &Pipeline,
    values: &[Option<InputValue>],
) -> Vec<(String, String)> {
    data_locations(pipeline, values)
        .into_iter()
        .filter_map(|(label, loc)| match loc {
            DataLocation::Uri(u) => DataAssetRef::parse(u)
                .filter(|r| r.version.is_none())
                .map(|r| (label, r.name)),
            DataLocation::Local(_) => None,
        })
        .collect()
}

/// The data assets the pipeline names with a version (`azureml:NAME:VERSION`, in `values` or
/// inside the graph), each with a label for messages: `(label, name, version)`. Submission
/// checks that each exists before anything is uploaded.
pub fn versioned_data_assets(
    pipeline: &Pipeline,
    values: &[Option<InputValue>],
) -> Vec<(String, String, String)> {
    data_locations(pipeline, values)
        .into_iter()
        .filter_map(|(label, loc)| match loc {
            DataLocation::Uri(u) => {
                DataAssetRef::parse(u).and_then(|r| r.version.map(|v| (label, r.name, v)))
            }
            DataLocation::Local(_) => None,
        })
        .collect()
}

fn data_locations<'a>(
    pipeline: &'a Pipeline,
    values: &'a [Option<InputValue>],
) -> Vec<(String, &'a DataLocation)> {
    let mut out = Vec::new();
    for (input, value) in pipeline.inputs.iter().zip(values) {
        if let Some(InputValue::Data(loc)) = value {
            out.push((input.name.clone(), loc));
        }
    }
    collect_bindings(pipeline, "", &mut out);
    out
}

fn collect_bindings<'a>(
    pipeline: &'a Pipeline,
    prefix: &str,
    out: &mut Vec<(String, &'a DataLocation)>,
) {
    for node in &pipeline.nodes {
        for (port, binding) in node.component.inputs().iter().zip(&node.inputs) {
            if let Binding::Data(loc) = binding {
                out.push((format!("{prefix}{}.{}", node.name, port.name), loc));
            }
        }
        if let Component::Pipeline(inner) = &node.component {
            collect_bindings(inner, &format!("{prefix}{}.", node.name), out);
        }
    }
}

/// Why a pipeline cannot be written in a wire form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
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

/// A wire body as the JSON the HTTP client sends; the error names what could not be written.
pub fn to_json_value<T: serde::Serialize + ?Sized>(
    body: &T,
    what: &str,
) -> Result<serde_json::Value, String> {
    serde_json::to_value(body).map_err(|e| format!("cannot write the body of {what}: {e}"))
}

/// Serializes a value as pretty JSON with a trailing newline (the export format).
pub fn to_json_pretty<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("wire types serialize");
    s.push('\n');
    s
}
