//! The REST rendering of the lowered job ([`super::lower`]): anonymous components and the
//! PipelineJob, with what only the workspace knows (code asset ids, uploaded data URIs, the
//! version `@latest` stands for) taken from [`WireContext`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use super::ids::{DataAssetRef, LATEST_PLACEHOLDER, component_version_path};
use super::lower::{
    CommandModel, ComponentKind, ComponentModel, JobModel, JobValue, NodeModel,
    PipelineComponentModel, Source, lower,
};
use super::rest::*;
use super::{WireError, WorkspaceScope};
use crate::graph::{DataLocation, InputValue, Literal, Pipeline, PortType, StepDef, StepKind};

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
    /// The registered environment a step's `environment` stands for, per container image
    /// (registered by submission as an anonymous environment); others are written as given.
    pub environments: BTreeMap<String, String>,
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

    /// The requests submission sends, in order: each component, then the job (under the
    /// `{job_name}` placeholder), each body given by `component` / `job` (the body itself, or
    /// the file it is written to).
    pub fn requests<'a, B>(
        &'a self,
        workspace: &WorkspaceScope,
        mut component: impl FnMut(&'a ComponentPut) -> B,
        job: impl FnOnce(&'a JobBase) -> B,
    ) -> Vec<ExportedRequest<B>> {
        let mut out: Vec<ExportedRequest<B>> = (0..self.components.len())
            .map(|i| ExportedRequest {
                method: "PUT",
                path: workspace.resource_id(&self.component_path(i)),
                body: component(&self.components[i]),
            })
            .collect();
        out.push(ExportedRequest {
            method: "PUT",
            path: workspace.job_id("{job_name}"),
            body: job(&self.job),
        });
        out
    }
}

/// One request of the JSON export.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExportedRequest<B> {
    /// HTTP method.
    pub method: &'static str,
    /// ARM path.
    pub path: String,
    /// The body, or the file it is in.
    pub body: B,
}

/// A body of the JSON export printed whole.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum RequestBody<'a> {
    /// A component version.
    Component(&'a ComponentVersion),
    /// The pipeline job.
    Job(&'a JobBase),
}

struct Builder<'a> {
    ctx: &'a WireContext,
    components: Vec<ComponentPut>,
    /// Step definition (by address) and environment → component ARM id.
    step_ids: Vec<(*const StepDef, &'static str, String)>,
}

/// Writes the REST bodies for `pipeline` with `inputs` bound (one per pipeline input, in order;
/// `None` leaves the input unbound, which Azure ML accepts for optional inputs only).
pub fn rest_bodies(
    pipeline: &Pipeline,
    inputs: &[Option<InputValue>],
    ctx: &WireContext,
) -> Result<RestBodies, WireError> {
    render(&lower(pipeline, inputs)?, ctx)
}

/// The REST rendering of a lowered job.
fn render(model: &JobModel<'_>, ctx: &WireContext) -> Result<RestBodies, WireError> {
    let mut b = Builder {
        ctx,
        components: Vec::new(),
        step_ids: Vec::new(),
    };
    let jobs = b.nodes(&model.nodes)?;
    let ws = &ctx.workspace;
    let mut job_inputs = IndexMap::new();
    for input in &model.inputs {
        let ji = match &input.value {
            JobValue::Literal(l) => JobInput {
                job_input_type: JobInputType::Literal,
                value: Some(l.to_wire()),
                uri: None,
                mode: None,
            },
            JobValue::Data {
                asset,
                location,
                mode,
            } => JobInput {
                job_input_type: (*asset).into(),
                value: None,
                uri: Some(b.uri(location, input.name)?),
                mode: mode.map(Into::into),
            },
        };
        job_inputs.insert(input.name.to_owned(), ji);
    }
    let job_outputs = model
        .outputs
        .iter()
        .map(|o| {
            (
                o.name.to_owned(),
                JobOutput {
                    job_output_type: o.ty.into(),
                    uri: o.asset.path.map(str::to_owned),
                    asset_name: o.asset.name.map(str::to_owned),
                    mode: o.mode.map(Into::into),
                },
            )
        })
        .collect();
    let settings = PipelineSettings {
        default_compute: model.default_compute.map(|c| ws.compute_id(c)),
        default_datastore: model.default_datastore.map(|d| ws.datastore_id(d)),
        continue_on_step_failure: model.continue_on_step_failure,
        force_rerun: ctx.force_rerun,
    };
    let job = JobBase {
        properties: PipelineJob {
            job_type: JobType::Pipeline,
            display_name: Some(
                ctx.display_name
                    .clone()
                    .unwrap_or_else(|| model.display_name.to_owned()),
            ),
            description: model.description.map(str::to_owned),
            experiment_name: ctx
                .experiment
                .clone()
                .unwrap_or_else(|| model.experiment_name.to_owned()),
            tags: model.tags.clone(),
            // The pipeline's own properties, then what submission adds (git, …).
            properties: model
                .properties
                .iter()
                .chain(&ctx.properties)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
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

    /// Registers the component a node runs (a step once, however many nodes run it) and
    /// returns its ARM id.
    fn component(&mut self, c: &ComponentModel<'_>) -> Result<String, WireError> {
        match &c.kind {
            ComponentKind::Command(cmd) => {
                if let Some((_, _, id)) = self
                    .step_ids
                    .iter()
                    .find(|(p, e, _)| std::ptr::eq(*p, cmd.step) && *e == cmd.environment)
                {
                    return Ok(id.clone());
                }
                let spec = match &cmd.step.kind {
                    StepKind::Command | StepKind::Rust(_) => command_spec(c, cmd, self.ctx)?,
                    StepKind::Copy(copy) => super::data_transfer::component_spec(c, cmd, copy),
                    StepKind::Spark(spark) => {
                        super::spark::component_spec(c, cmd, spark, self.ctx)?
                    }
                };
                let id = self.register(spec);
                self.step_ids.push((cmd.step, cmd.environment, id.clone()));
                Ok(id)
            }
            ComponentKind::Pipeline(p) => {
                let spec = self.pipeline_spec(c, p)?;
                Ok(self.register(spec))
            }
        }
    }

    fn nodes(&mut self, nodes: &[NodeModel<'_>]) -> Result<IndexMap<String, NodeJob>, WireError> {
        let mut jobs = IndexMap::with_capacity(nodes.len());
        for node in nodes {
            let job = self.node(node)?;
            jobs.insert(node.name.to_owned(), job);
        }
        Ok(jobs)
    }

    fn node(&mut self, node: &NodeModel<'_>) -> Result<NodeJob, WireError> {
        let component_id = self.component(&node.component)?;
        let node_type = match node.component.kind {
            ComponentKind::Command(_) => ComponentType::Command,
            ComponentKind::Pipeline(_) => ComponentType::Pipeline,
        };
        let mut inputs = IndexMap::with_capacity(node.inputs.len());
        for input in &node.inputs {
            let mode = input.mode.map(Into::into);
            let wire = match &input.source {
                Source::ParentInput(name) => NodeInput {
                    job_input_type: JobInputType::Literal,
                    value: Some(format!("${{{{parent.inputs.{name}}}}}")),
                    uri: None,
                    mode,
                },
                Source::NodeOutput { node, output } => NodeInput {
                    job_input_type: JobInputType::Literal,
                    value: Some(format!("${{{{parent.jobs.{node}.outputs.{output}}}}}")),
                    uri: None,
                    mode,
                },
                Source::Literal(l) => NodeInput {
                    job_input_type: JobInputType::Literal,
                    value: Some(l.to_wire()),
                    uri: None,
                    mode: None,
                },
                Source::Data(loc) => NodeInput {
                    job_input_type: data_input_type(input.ty),
                    value: None,
                    uri: Some(self.uri(loc, input.name)?),
                    mode,
                },
            };
            inputs.insert(input.name.to_owned(), wire);
        }
        let outputs = node
            .outputs
            .iter()
            .map(|o| {
                let out = match o.promoted_to {
                    Some(p) => NodeOutput::Binding {
                        value: format!("${{{{parent.outputs.{p}}}}}"),
                        kind: JobInputType::Literal,
                        mode: o.mode.map(Into::into),
                    },
                    None => NodeOutput::Unbound {
                        job_output_type: data_input_type(o.ty),
                        mode: o.mode.map(Into::into),
                    },
                };
                (o.name.to_owned(), out)
            })
            .collect();
        let ws = &self.ctx.workspace;
        let mut job = NodeJob {
            name: node.name.to_owned(),
            node_type,
            display_name: node.component.display_name.map(str::to_owned),
            component_id,
            compute_id: node.compute.map(|c| ws.compute_id(c)),
            inputs,
            outputs,
            resources: node.resources.as_ref().map(|r| Resources {
                instance_count: r.instance_count,
                instance_type: r.instance_type.map(str::to_owned),
                shm_size: r.shm_size.map(str::to_owned),
                docker_args: r.docker_args.map(str::to_owned),
                runtime_version: None,
            }),
            limits: node.timeout.map(CommandLimits::timeout),
            environment_variables: (!node.environment_variables.is_empty()).then(|| {
                node.environment_variables
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect()
            }),
            kind_fields: NodeKindFields::default(),
        };
        if let ComponentKind::Command(cmd) = &node.component.kind {
            step_kind_node(&mut job, cmd.step);
        }
        Ok(job)
    }

    fn pipeline_spec(
        &mut self,
        c: &ComponentModel<'_>,
        p: &PipelineComponentModel<'_>,
    ) -> Result<ComponentSpec, WireError> {
        let jobs = self.nodes(&p.nodes)?;
        let (inputs, outputs) = pipeline_interface(p);
        Ok(ComponentSpec {
            name: c.name.to_owned(),
            display_name: c.display_name.map(str::to_owned),
            description: c.description.map(str::to_owned),
            component_type: ComponentType::Pipeline,
            command: None,
            code: None,
            environment: None,
            inputs,
            outputs,
            is_deterministic: None,
            jobs: Some(jobs),
            kind_fields: ComponentKindFields::default(),
        })
    }
}

/// The `componentSpec` of a command step.
fn command_spec(
    c: &ComponentModel<'_>,
    cmd: &CommandModel,
    ctx: &WireContext,
) -> Result<ComponentSpec, WireError> {
    let code = match &cmd.code {
        Some(path) => Some(format!(
            "azureml:{}",
            ctx.code
                .get(path)
                .ok_or_else(|| WireError::CodeNotUploaded {
                    step: cmd.step.name,
                    path: path.clone(),
                })?
        )),
        None => None,
    };
    let inputs = cmd
        .inputs
        .iter()
        .map(|(name, ty, rules)| ((*name).to_owned(), ComponentInput::new(ty.as_str(), rules)))
        .collect();
    let outputs = cmd
        .outputs
        .iter()
        .map(|(name, ty)| {
            (
                (*name).to_owned(),
                ComponentOutput {
                    output_type: Cow::Borrowed(ty.as_str()),
                    mode: None,
                },
            )
        })
        .collect();
    Ok(ComponentSpec {
        name: c.name.to_owned(),
        display_name: c.display_name.map(str::to_owned),
        description: c.description.map(str::to_owned),
        component_type: ComponentType::Command,
        command: Some(cmd.command.to_owned()),
        code,
        environment: Some(
            ctx.environments
                .get(cmd.environment)
                .cloned()
                .unwrap_or_else(|| cmd.environment.to_owned()),
        ),
        inputs,
        outputs,
        is_deterministic: Some(cmd.is_deterministic),
        jobs: None,
        kind_fields: ComponentKindFields::default(),
    })
}

/// What a copy or Spark node adds to the fields every node has.
fn step_kind_node(job: &mut NodeJob, step: &StepDef) {
    match &step.kind {
        StepKind::Command | StepKind::Rust(_) => {}
        StepKind::Copy(copy) => {
            job.node_type = ComponentType::DataTransfer;
            job.kind_fields = super::data_transfer::node_fields(copy);
        }
        StepKind::Spark(spark) => {
            job.node_type = ComponentType::Spark;
            job.kind_fields = super::spark::node_fields(step, spark);
            if step.compute.is_none() {
                let r = job.resources.get_or_insert_with(Resources::default);
                r.runtime_version = spark.runtime_version.map(str::to_owned);
            }
        }
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

/// The inputs and outputs of a lowered pipeline component as REST writes them: what a
/// sub-pipeline's component and a published pipeline (`wire::endpoint::pipeline_component`)
/// declare.
pub(crate) fn pipeline_interface(
    p: &PipelineComponentModel<'_>,
) -> (
    IndexMap<String, ComponentInput>,
    IndexMap<String, ComponentOutput>,
) {
    let inputs = p
        .inputs
        .iter()
        .map(|i| {
            (
                i.name.to_owned(),
                ComponentInput {
                    // Defaults are strings on the wire, as Microsoft's SDK writes them.
                    default: i.default.map(Literal::to_wire),
                    ..ComponentInput::new(i.ty.as_str(), i.rules)
                },
            )
        })
        .collect();
    let outputs = p
        .outputs
        .iter()
        .map(|o| {
            (
                o.name.to_owned(),
                ComponentOutput {
                    output_type: Cow::Borrowed(o.ty.as_str()),
                    mode: o.mode.map(|m| Cow::Borrowed(m.as_str())),
                },
            )
        })
        .collect();
    (inputs, outputs)
}
