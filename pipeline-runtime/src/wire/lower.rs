//! The one lowering: a graph [`Pipeline`] with its bound inputs → a [`JobModel`], the pipeline
//! job and its components as Azure ML sees them, before anything workspace-specific (ids,
//! uploaded URIs) or format-specific (camelCase REST, CLI v2 YAML) is decided.
//!
//! Both renderings read only this model: [`super::to_rest`] writes the REST bodies and
//! [`super::yaml`] the YAML files. Whatever the graph says about the job (a name, a mode, a
//! default, which node output a pipeline output promotes, what is missing for Azure) is decided
//! here once, so the two renderings cannot disagree.
//!
//! Adding a field: add it to the model struct it belongs to (`JobModel`, `NodeModel`,
//! `ComponentModel`, `CommandModel`, `ComponentInputModel`, …), set it in the matching `lower_*`
//! function below, then write it in `to_rest.rs` (into the typed REST struct) and in `yaml.rs`
//! (one `insert` at the place the CLI v2 schema puts it).
//!
//! The model borrows from the graph (no copies of names or commands), which keeps lowering a
//! 200-node fan-out well under a millisecond.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::WireError;
use crate::graph::{
    AssetType, Binding, Component, DataLocation, InputMode, InputRules, InputValue, Literal, Node,
    OutputAsset, OutputMode, Pipeline, PortType, StepDef, StepKind,
};

/// A pipeline job, lowered.
#[derive(Debug, Clone)]
pub(crate) struct JobModel<'a> {
    /// The pipeline's display name (its name when it has none).
    pub display_name: &'a str,
    /// Description.
    pub description: Option<&'a str>,
    /// Experiment name.
    pub experiment_name: &'a str,
    /// Tags.
    pub tags: &'a BTreeMap<String, String>,
    /// The pipeline's own job properties (`#[pipeline(properties(...))]`).
    pub properties: &'a BTreeMap<String, String>,
    /// Default compute, by name.
    pub default_compute: Option<&'a str>,
    /// Default datastore, by name.
    pub default_datastore: Option<&'a str>,
    /// `settings.continue_on_step_failure`.
    pub continue_on_step_failure: bool,
    /// The bound pipeline inputs, in declaration order (unbound ones are left out).
    pub inputs: Vec<JobInputModel<'a>>,
    /// Pipeline outputs.
    pub outputs: Vec<OutputModel<'a>>,
    /// Nodes, in graph order.
    pub nodes: Vec<NodeModel<'a>>,
}

/// A bound pipeline-level input.
#[derive(Debug, Clone)]
pub(crate) struct JobInputModel<'a> {
    /// Input name.
    pub name: &'a str,
    /// Its value.
    pub value: JobValue<'a>,
}

/// The value of a pipeline-level input.
#[derive(Debug, Clone)]
pub(crate) enum JobValue<'a> {
    /// A parameter value.
    Literal(&'a Literal),
    /// Data at a location.
    Data {
        /// Asset type.
        asset: AssetType,
        /// Where.
        location: &'a DataLocation,
        /// Delivery mode.
        mode: Option<InputMode>,
    },
}

/// An output of a pipeline job or pipeline component.
#[derive(Debug, Clone)]
pub(crate) struct OutputModel<'a> {
    /// Output name.
    pub name: &'a str,
    /// Asset type.
    pub ty: AssetType,
    /// Delivery mode: that of the node output it promotes.
    pub mode: Option<OutputMode>,
    /// The data asset it is registered as (`name`, `version`, `path`).
    pub asset: &'a OutputAsset,
}

/// A node of a pipeline job or pipeline component.
#[derive(Debug, Clone)]
pub(crate) struct NodeModel<'a> {
    /// Node name.
    pub name: &'a str,
    /// What it runs.
    pub component: ComponentModel<'a>,
    /// Compute, by name (command nodes that name one).
    pub compute: Option<&'a str>,
    /// `resources` (command nodes that set any).
    pub resources: Option<ResourcesModel>,
    /// `limits.timeout` in seconds (command nodes).
    pub timeout: Option<u64>,
    /// Environment variables (command nodes).
    pub environment_variables: &'a [(&'static str, &'static str)],
    /// Inputs, in port order.
    pub inputs: Vec<NodeInputModel<'a>>,
    /// Outputs, in port order.
    pub outputs: Vec<NodeOutputModel<'a>>,
}

/// `resources` of a command node.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ResourcesModel {
    /// Node count.
    pub instance_count: Option<u32>,
    /// VM size or instance type.
    pub instance_type: Option<&'static str>,
    /// Size of `/dev/shm`.
    pub shm_size: Option<&'static str>,
    /// Extra `docker run` arguments.
    pub docker_args: Option<&'static str>,
}

/// A node input.
#[derive(Debug, Clone)]
pub(crate) struct NodeInputModel<'a> {
    /// Port name.
    pub name: &'a str,
    /// Port type.
    pub ty: PortType,
    /// The component input's delivery mode.
    pub mode: Option<InputMode>,
    /// What it is bound to.
    pub source: Source<'a>,
}

/// What a node input is bound to.
#[derive(Debug, Clone)]
pub(crate) enum Source<'a> {
    /// `${{parent.inputs.NAME}}`.
    ParentInput(&'a str),
    /// `${{parent.jobs.NODE.outputs.NAME}}`.
    NodeOutput {
        /// The producing node.
        node: &'a str,
        /// Its output.
        output: &'a str,
    },
    /// A constant.
    Literal(&'a Literal),
    /// Data at a fixed location.
    Data(&'a DataLocation),
}

/// A node output.
#[derive(Debug, Clone)]
pub(crate) struct NodeOutputModel<'a> {
    /// Port name.
    pub name: &'a str,
    /// Port type.
    pub ty: PortType,
    /// Delivery mode.
    pub mode: Option<OutputMode>,
    /// The pipeline output it is promoted to, if any.
    pub promoted_to: Option<&'a str>,
}

/// A component: what a node runs.
#[derive(Debug, Clone)]
pub(crate) struct ComponentModel<'a> {
    /// Component name.
    pub name: &'a str,
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Description.
    pub description: Option<&'a str>,
    /// Command or pipeline.
    pub kind: ComponentKind<'a>,
}

/// The two kinds of component.
#[derive(Debug, Clone)]
pub(crate) enum ComponentKind<'a> {
    /// A command component (a step).
    Command(CommandModel),
    /// A pipeline component (a sub-pipeline).
    Pipeline(PipelineComponentModel<'a>),
}

/// A command component.
#[derive(Debug, Clone)]
pub(crate) struct CommandModel {
    /// The step it comes from (its identity: the same step is one component).
    pub step: &'static StepDef,
    /// Command line.
    pub command: &'static str,
    /// The snapshot folder, when the step has one.
    pub code: Option<PathBuf>,
    /// Environment reference: the step's own, else the enclosing pipeline's default.
    pub environment: &'static str,
    /// Inputs: name, type and rules.
    pub inputs: Vec<(&'static str, PortType, &'static InputRules)>,
    /// Outputs: name and type.
    pub outputs: Vec<(&'static str, AssetType)>,
    /// `is_deterministic` (the step's `reuse`).
    pub is_deterministic: bool,
}

/// A pipeline component.
#[derive(Debug, Clone)]
pub(crate) struct PipelineComponentModel<'a> {
    /// Inputs.
    pub inputs: Vec<ComponentInputModel<'a>>,
    /// Outputs.
    pub outputs: Vec<OutputModel<'a>>,
    /// Nodes.
    pub nodes: Vec<NodeModel<'a>>,
}

/// An input of a pipeline component.
#[derive(Debug, Clone)]
pub(crate) struct ComponentInputModel<'a> {
    /// Input name.
    pub name: &'a str,
    /// Type.
    pub ty: PortType,
    /// Default parameter value.
    pub default: Option<&'a Literal>,
    /// Rules (`min`, `max`, allowed values).
    pub rules: &'a InputRules,
}

/// Lowers `pipeline` with `inputs` bound (one per pipeline input, in order; `None` leaves the
/// input unbound).
pub(crate) fn lower<'a>(
    pipeline: &'a Pipeline,
    inputs: &'a [Option<InputValue>],
) -> Result<JobModel<'a>, WireError> {
    let mut job_inputs = Vec::with_capacity(pipeline.inputs.len());
    for (input, value) in pipeline.inputs.iter().zip(inputs) {
        let Some(value) = value else { continue };
        let value = match (value, input.ty) {
            (InputValue::Literal(l), _) => JobValue::Literal(l),
            (InputValue::Data(location), PortType::Data(asset)) => JobValue::Data {
                asset,
                location,
                mode: input.mode,
            },
            (InputValue::Data(_), PortType::Param(_)) => {
                return Err(WireError::TypeMismatch {
                    input: input.name.clone(),
                });
            }
        };
        job_inputs.push(JobInputModel {
            name: &input.name,
            value,
        });
    }
    Ok(JobModel {
        display_name: pipeline.display_name.as_deref().unwrap_or(&pipeline.name),
        description: pipeline.description.as_deref(),
        experiment_name: pipeline.experiment_name(),
        tags: &pipeline.tags,
        properties: &pipeline.properties,
        default_compute: pipeline.settings.default_compute.as_deref(),
        default_datastore: pipeline.settings.default_datastore.as_deref(),
        continue_on_step_failure: pipeline.settings.continue_on_step_failure,
        inputs: job_inputs,
        outputs: lower_outputs(pipeline),
        nodes: lower_nodes(pipeline)?,
    })
}

fn lower_outputs(pipeline: &Pipeline) -> Vec<OutputModel<'_>> {
    pipeline
        .outputs
        .iter()
        .enumerate()
        .map(|(i, o)| OutputModel {
            name: &o.name,
            ty: o.ty,
            mode: pipeline.output_mode(i),
            asset: &o.asset,
        })
        .collect()
}

fn lower_nodes(pipeline: &Pipeline) -> Result<Vec<NodeModel<'_>>, WireError> {
    pipeline
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| lower_node(pipeline, index, node))
        .collect()
}

fn lower_node<'a>(
    pipeline: &'a Pipeline,
    index: usize,
    node: &'a Node,
) -> Result<NodeModel<'a>, WireError> {
    let (component, compute, resources, timeout, environment_variables, modes) =
        match &node.component {
            Component::Step(step) => (
                lower_step(step, node.environment)?,
                step.compute,
                lower_resources(step),
                step.timeout,
                step.environment_variables,
                step.inputs.iter().map(|i| i.mode).collect::<Vec<_>>(),
            ),
            Component::Pipeline(inner) => (
                lower_pipeline_component(inner)?,
                None,
                None,
                None,
                &[][..],
                inner.inputs.iter().map(|i| i.mode).collect(),
            ),
        };
    let ports = node.component.inputs();
    let inputs = ports
        .iter()
        .zip(&node.inputs)
        .zip(modes)
        .filter_map(|((port, binding), mode)| {
            // An optional input left unbound is not sent at all.
            let source = match binding {
                Binding::Unbound => return None,
                Binding::Input(i) => Source::ParentInput(&pipeline.inputs[*i].name),
                Binding::Output(o) => Source::NodeOutput {
                    node: &pipeline.nodes[o.node].name,
                    output: pipeline.nodes[o.node].component.output_name(o.output),
                },
                Binding::Literal(l) => Source::Literal(l),
                Binding::Data(loc) => Source::Data(loc),
            };
            Some(NodeInputModel {
                name: port.name,
                ty: port.ty,
                mode,
                source,
            })
        })
        .collect();
    let outputs = node
        .component
        .outputs()
        .into_iter()
        .enumerate()
        .map(|(i, (port, mode))| NodeOutputModel {
            name: port.name,
            ty: port.ty,
            mode,
            promoted_to: pipeline
                .outputs
                .iter()
                .find(|o| o.from.node == index && o.from.output == i)
                .map(|o| o.name.as_str()),
        })
        .collect();
    Ok(NodeModel {
        name: &node.name,
        component,
        compute,
        resources,
        timeout,
        environment_variables,
        inputs,
        outputs,
    })
}

/// The `resources` of a step's node, when it sets any.
fn lower_resources(step: &'static StepDef) -> Option<ResourcesModel> {
    let r = ResourcesModel {
        instance_count: step.instance_count,
        instance_type: step.instance_type,
        shm_size: step.shm_size,
        docker_args: step.docker_args,
    };
    (r != ResourcesModel::default()).then_some(r)
}

/// A step's command component, in the node's environment (the step's own, else the enclosing
/// pipeline's `default_environment`, decided when the graph was built).
fn lower_step(
    step: &'static StepDef,
    environment: Option<&'static str>,
) -> Result<ComponentModel<'static>, WireError> {
    let environment = match step.kind {
        StepKind::Command | StepKind::Rust(_) => {
            environment.ok_or(WireError::NoEnvironment { step: step.name })?
        }
        // Data Factory copies, and Spark runs in its own runtime: neither takes the pipeline's
        // default environment.
        StepKind::Copy(_) | StepKind::Spark(_) => "",
    };
    Ok(ComponentModel {
        name: step.name,
        display_name: step.display_name,
        description: step.description,
        kind: ComponentKind::Command(CommandModel {
            step,
            command: super::rust_binary::command(step),
            code: step
                .source_path()
                .or_else(|| super::rust_binary::code_dir(step)),
            environment,
            inputs: step
                .inputs
                .iter()
                .map(|i| (i.name, i.ty, &i.rules))
                .collect(),
            outputs: step.outputs.iter().map(|o| (o.name, o.ty)).collect(),
            is_deterministic: step.reuse,
        }),
    })
}

/// `pipeline` itself lowered as a pipeline component's interface and nodes (what publishing
/// registers): the same lowering its sub-pipelines get inside a job, so a published interface is
/// the job's.
pub(crate) fn lower_as_component(p: &Pipeline) -> Result<PipelineComponentModel<'_>, WireError> {
    Ok(PipelineComponentModel {
        inputs: p
            .inputs
            .iter()
            .map(|i| ComponentInputModel {
                name: &i.name,
                ty: i.ty,
                default: match &i.default {
                    Some(InputValue::Literal(l)) => Some(l),
                    _ => None,
                },
                rules: &i.rules,
            })
            .collect(),
        outputs: lower_outputs(p),
        nodes: lower_nodes(p)?,
    })
}

fn lower_pipeline_component(p: &Pipeline) -> Result<ComponentModel<'_>, WireError> {
    Ok(ComponentModel {
        name: &p.name,
        display_name: p.display_name.as_deref(),
        description: p.description.as_deref(),
        kind: ComponentKind::Pipeline(lower_as_component(p)?),
    })
}
