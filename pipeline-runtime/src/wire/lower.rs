//! Pipeline → REST bodies: anonymous components and the PipelineJob.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use super::ids::{DataAssetRef, LATEST_PLACEHOLDER, component_version_path};
use super::rest::*;
use super::{WireError, WorkspaceScope};
use crate::graph::{
    Binding, Component, DataLocation, InputValue, Literal, Node, Pipeline, PortType, StepDef,
};

/// Name under which anonymous components are registered.
pub const ANONYMOUS_COMPONENT: &str = "azureml_anonymous";

/// What the wire forms need beyond the pipeline: where things live in the workspace.
#[derive(Debug, Clone, Default)]
pub struct WireContext {
    /// The workspace the ids point into.
    pub workspace: WorkspaceScope,
    /// Code asset ARM id for each step snapshot folder (absolute path).
    pub code: BTreeMap<PathBuf, String>,
    /// Datastore URI for each local input file or folder (absolute path), once uploaded.
    pub data: BTreeMap<PathBuf, String>,
    /// `settings.force_rerun` (`--regenerate-outputs`).
    pub force_rerun: bool,
    /// Job `properties` (git information under Azure ML's names, …).
    pub properties: BTreeMap<String, String>,
    /// Overrides the pipeline's display name.
    pub display_name: Option<String>,
    /// Overrides the experiment name.
    pub experiment: Option<String>,
    /// The version `azureml:NAME@latest` stands for, per data asset name (resolved by
    /// submission; an export without a workspace writes [`LATEST_PLACEHOLDER`]).
    pub latest_data: BTreeMap<String, String>,
}

/// One component version to register before the job.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentPut {
    /// Component container name (`azureml_anonymous`).
    pub name: String,
    /// Version: a UUID derived from the component's content, so equal components share one.
    pub version: String,
    /// The request body.
    pub body: ComponentVersion,
}

/// Everything submission sends for a pipeline, in order: components (dependencies first),
/// then the job.
#[derive(Debug, Clone, PartialEq)]
pub struct RestBodies {
    /// Distinct components.
    pub components: Vec<ComponentPut>,
    /// The pipeline job.
    pub job: JobBase,
}

impl RestBodies {
    /// The ARM path (below the workspace id) of component `i`.
    pub fn component_path(&self, i: usize) -> String {
        let c = &self.components[i];
        component_version_path(&c.name, &c.version)
    }
}

struct Builder<'a> {
    ctx: &'a WireContext,
    components: Vec<ComponentPut>,
    /// Step definition (by address) → component ARM id.
    step_ids: Vec<(*const StepDef, String)>,
}

/// Writes the REST bodies for `pipeline` with `inputs` bound (one per pipeline input, in order;
/// `None` leaves the input unbound, which Azure ML accepts for optional inputs only).
pub fn rest_bodies(
    pipeline: &Pipeline,
    inputs: &[Option<InputValue>],
    ctx: &WireContext,
) -> Result<RestBodies, WireError> {
    let mut b = Builder {
        ctx,
        components: Vec::new(),
        step_ids: Vec::new(),
    };
    let jobs = b.nodes(pipeline)?;
    let ws = &ctx.workspace;
    let mut job_inputs = IndexMap::new();
    for (input, value) in pipeline.inputs.iter().zip(inputs) {
        let Some(value) = value else { continue };
        let ji = match value {
            InputValue::Literal(l) => JobInput {
                job_input_type: JobInputType::Literal,
                value: Some(l.to_wire()),
                uri: None,
                mode: None,
            },
            InputValue::Data(loc) => {
                let PortType::Data(asset) = input.ty else {
                    return Err(WireError::TypeMismatch {
                        input: input.name.clone(),
                    });
                };
                JobInput {
                    job_input_type: asset.into(),
                    value: None,
                    uri: Some(b.uri(loc, &input.name)?),
                    mode: input.mode.map(Into::into),
                }
            }
        };
        job_inputs.insert(input.name.clone(), ji);
    }
    let mut job_outputs = IndexMap::new();
    for (i, out) in pipeline.outputs.iter().enumerate() {
        job_outputs.insert(
            out.name.clone(),
            JobOutput {
                job_output_type: out.ty.into(),
                uri: None,
                mode: pipeline.output_mode(i).map(Into::into),
            },
        );
    }
    let settings = PipelineSettings {
        default_compute: pipeline
            .settings
            .default_compute
            .as_ref()
            .map(|c| ws.compute_id(c)),
        default_datastore: pipeline
            .settings
            .default_datastore
            .as_ref()
            .map(|d| ws.datastore_id(d)),
        continue_on_step_failure: pipeline.settings.continue_on_step_failure,
        force_rerun: ctx.force_rerun,
    };
    let job = JobBase {
        properties: PipelineJob {
            job_type: JobType::Pipeline,
            display_name: ctx
                .display_name
                .clone()
                .or_else(|| pipeline.display_name.clone())
                .or_else(|| Some(pipeline.name.clone())),
            description: pipeline.description.clone(),
            experiment_name: ctx
                .experiment
                .clone()
                .unwrap_or_else(|| pipeline.experiment_name().to_owned()),
            tags: pipeline.tags.clone(),
            properties: ctx.properties.clone(),
            compute_id: settings.default_compute.clone(),
            is_archived: false,
            inputs: job_inputs,
            outputs: job_outputs,
            jobs,
            settings,
        },
    };
    Ok(RestBodies {
        components: b.components,
        job,
    })
}

impl Builder<'_> {
    fn uri(&self, loc: &DataLocation, input: &str) -> Result<String, WireError> {
        match loc {
            DataLocation::Uri(u) => Ok(match DataAssetRef::parse(u) {
                // A data asset is sent as its version's ARM id, as Microsoft's SDK does.
                Some(asset) => {
                    let version = match &asset.version {
                        Some(v) => v.as_str(),
                        None => self
                            .ctx
                            .latest_data
                            .get(&asset.name)
                            .map_or(LATEST_PLACEHOLDER, String::as_str),
                    };
                    self.ctx.workspace.data_version_id(&asset.name, version)
                }
                None => u.clone(),
            }),
            DataLocation::Local(path) => {
                self.ctx
                    .data
                    .get(path)
                    .cloned()
                    .ok_or_else(|| WireError::LocalDataNotUploaded {
                        input: input.to_owned(),
                        path: path.clone(),
                    })
            }
        }
    }

    fn register(&mut self, spec: ComponentSpec) -> String {
        let version = content_version(&spec);
        let id = self
            .ctx
            .workspace
            .component_version_id(ANONYMOUS_COMPONENT, &version);
        if !self.components.iter().any(|c| c.version == version) {
            self.components.push(ComponentPut {
                name: ANONYMOUS_COMPONENT.to_owned(),
                version,
                body: ComponentVersion {
                    properties: ComponentVersionProperties {
                        description: spec.description.clone(),
                        component_spec: spec,
                        tags: BTreeMap::new(),
                        properties: BTreeMap::new(),
                        is_anonymous: true,
                        is_archived: false,
                    },
                },
            });
        }
        id
    }

    fn step_component(&mut self, step: &'static StepDef) -> Result<String, WireError> {
        if let Some((_, id)) = self.step_ids.iter().find(|(p, _)| std::ptr::eq(*p, step)) {
            return Ok(id.clone());
        }
        let spec = command_spec(step, self.ctx)?;
        let id = self.register(spec);
        self.step_ids.push((step, id.clone()));
        Ok(id)
    }

    fn nodes(&mut self, pipeline: &Pipeline) -> Result<IndexMap<String, NodeJob>, WireError> {
        let mut jobs = IndexMap::new();
        for (index, node) in pipeline.nodes.iter().enumerate() {
            let job = self.node(pipeline, index, node)?;
            jobs.insert(node.name.clone(), job);
        }
        Ok(jobs)
    }

    fn node(
        &mut self,
        pipeline: &Pipeline,
        index: usize,
        node: &Node,
    ) -> Result<NodeJob, WireError> {
        let ws = &self.ctx.workspace;
        let (node_type, component_id, compute_id, display_name, resources, env) =
            match &node.component {
                Component::Step(step) => (
                    ComponentType::Command,
                    self.step_component(step)?,
                    step.compute.map(|c| ws.compute_id(c)),
                    step.display_name.map(str::to_owned),
                    step.instance_count.map(|n| Resources { instance_count: n }),
                    (!step.environment_variables.is_empty()).then(|| {
                        step.environment_variables
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                            .collect()
                    }),
                ),
                Component::Pipeline(inner) => {
                    let spec = self.pipeline_spec(inner)?;
                    (
                        ComponentType::Pipeline,
                        self.register(spec),
                        None,
                        inner.display_name.clone(),
                        None,
                        None,
                    )
                }
            };
        let modes: Vec<Option<InputDeliveryMode>> = match &node.component {
            Component::Step(s) => s.inputs.iter().map(|i| i.mode.map(Into::into)).collect(),
            Component::Pipeline(p) => p.inputs.iter().map(|i| i.mode.map(Into::into)).collect(),
        };
        let ports = node.component.inputs();
        let mut inputs = IndexMap::new();
        for ((port, binding), mode) in ports.iter().zip(&node.inputs).zip(modes) {
            let input = match binding {
                Binding::Input(i) => NodeInput {
                    job_input_type: JobInputType::Literal,
                    value: Some(format!(
                        "${{{{parent.inputs.{}}}}}",
                        pipeline.inputs[*i].name
                    )),
                    uri: None,
                    mode,
                },
                Binding::Output(o) => NodeInput {
                    job_input_type: JobInputType::Literal,
                    value: Some(format!(
                        "${{{{parent.jobs.{}.outputs.{}}}}}",
                        pipeline.nodes[o.node].name,
                        pipeline.nodes[o.node].component.output_name(o.output)
                    )),
                    uri: None,
                    mode,
                },
                Binding::Literal(l) => NodeInput {
                    job_input_type: JobInputType::Literal,
                    value: Some(l.to_wire()),
                    uri: None,
                    mode: None,
                },
                Binding::Data(loc) => NodeInput {
                    job_input_type: data_input_type(port.ty),
                    value: None,
                    uri: Some(self.uri(loc, port.name)?),
                    mode,
                },
            };
            inputs.insert(port.name.to_owned(), input);
        }
        let mut outputs = IndexMap::new();
        for (i, (port, mode)) in node.component.outputs().into_iter().enumerate() {
            let promoted = pipeline
                .outputs
                .iter()
                .find(|o| o.from.node == index && o.from.output == i);
            let out = match promoted {
                Some(p) => NodeOutput::Binding {
                    value: format!("${{{{parent.outputs.{}}}}}", p.name),
                    kind: JobInputType::Literal,
                    mode: mode.map(Into::into),
                },
                None => NodeOutput::Unbound {
                    job_output_type: data_input_type(port.ty),
                    mode: mode.map(Into::into),
                },
            };
            outputs.insert(port.name.to_owned(), out);
        }
        Ok(NodeJob {
            name: node.name.clone(),
            node_type,
            display_name,
            component_id,
            compute_id,
            inputs,
            outputs,
            resources,
            environment_variables: env,
        })
    }

    fn pipeline_spec(&mut self, p: &Pipeline) -> Result<ComponentSpec, WireError> {
        let jobs = self.nodes(p)?;
        let mut inputs = IndexMap::new();
        for i in &p.inputs {
            // Defaults are strings on the wire, as Microsoft's SDK writes them.
            let default = match &i.default {
                Some(InputValue::Literal(l)) => Some(l.to_wire()),
                _ => None,
            };
            inputs.insert(
                i.name.clone(),
                ComponentInput {
                    input_type: Cow::Borrowed(i.ty.as_str()),
                    default,
                },
            );
        }
        let outputs = p
            .outputs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                (
                    o.name.clone(),
                    ComponentOutput {
                        output_type: Cow::Borrowed(o.ty.as_str()),
                        mode: p.output_mode(i).map(|m| Cow::Borrowed(m.as_str())),
                    },
                )
            })
            .collect();
        Ok(ComponentSpec {
            name: p.name.clone(),
            display_name: p.display_name.clone(),
            description: p.description.clone(),
            component_type: ComponentType::Pipeline,
            command: None,
            code: None,
            environment: None,
            inputs,
            outputs,
            is_deterministic: None,
            jobs: Some(jobs),
        })
    }
}

/// The `componentSpec` of a command step.
fn command_spec(step: &'static StepDef, ctx: &WireContext) -> Result<ComponentSpec, WireError> {
    let environment = step
        .environment
        .ok_or(WireError::NoEnvironment { step: step.name })?;
    let code = match step.source_path() {
        Some(path) => Some(format!(
            "azureml:{}",
            ctx.code
                .get(&path)
                .ok_or_else(|| WireError::CodeNotUploaded {
                    step: step.name,
                    path: path.clone(),
                })?
        )),
        None => None,
    };
    let inputs = step
        .inputs
        .iter()
        .map(|i| {
            (
                i.name.to_owned(),
                ComponentInput {
                    input_type: Cow::Borrowed(i.ty.as_str()),
                    default: None,
                },
            )
        })
        .collect();
    let outputs = step
        .outputs
        .iter()
        .map(|o| {
            (
                o.name.to_owned(),
                ComponentOutput {
                    output_type: Cow::Borrowed(o.ty.as_str()),
                    mode: None,
                },
            )
        })
        .collect();
    Ok(ComponentSpec {
        name: step.name.to_owned(),
        display_name: step.display_name.map(str::to_owned),
        description: step.description.map(str::to_owned),
        component_type: ComponentType::Command,
        command: Some(step.command.to_owned()),
        code,
        environment: Some(environment.to_owned()),
        inputs,
        outputs,
        is_deterministic: Some(step.reuse),
        jobs: None,
    })
}

/// A literal as a typed JSON value (component defaults are typed, job literals are strings).
pub(crate) fn literal_json(l: &Literal) -> serde_json::Value {
    match l {
        Literal::Integer(v) => (*v).into(),
        Literal::Number(v) => serde_json::Number::from_f64(*v)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Literal::Boolean(v) => (*v).into(),
        Literal::String(v) => v.clone().into(),
    }
}

/// A version string derived from a component's content: the SHA-256 of its JSON, as a UUID.
fn content_version(spec: &ComponentSpec) -> String {
    let bytes = serde_json::to_vec(spec).expect("component specs serialize");
    uuid_from_hex(&hex(&Sha256::digest(&bytes)))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// `8-4-4-4-12` from the first 32 hex digits.
pub(crate) fn uuid_from_hex(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The `jobInputType` of data on a port; a parameter port never carries data, so it reads as a
/// literal.
fn data_input_type(ty: PortType) -> JobInputType {
    match ty {
        PortType::Data(asset) => asset.into(),
        PortType::Param(_) => JobInputType::Literal,
    }
}
