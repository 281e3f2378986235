//! The pipeline graph: a plain value one can inspect.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::kinds::{AssetType, Literal, PortType};
use super::step::{InputMode, InputRules, OutputAsset, OutputMode, StepDef};

/// A built pipeline: its inputs, its nodes (in a topological order: every node comes after the
/// nodes it reads from), its outputs and its settings.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// Pipeline name.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Experiment the runs are filed under (defaults to the pipeline name).
    pub experiment: Option<String>,
    /// Settings that apply to the whole pipeline.
    pub settings: Settings,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Job properties declared on the pipeline (`properties(key = "value")`).
    pub properties: BTreeMap<String, String>,
    /// Pipeline inputs (data inputs and parameters).
    pub inputs: Vec<PipelineInput>,
    /// Pipeline outputs.
    pub outputs: Vec<PipelineOutput>,
    /// Nodes, in call order (a topological order).
    pub nodes: Vec<Node>,
    /// Directory of the crate that declared the pipeline; relative data defaults resolve here.
    pub manifest_dir: PathBuf,
}

/// Pipeline-wide settings (the PipelineJob's `settings`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Compute for steps that name none.
    pub default_compute: Option<String>,
    /// Datastore for outputs.
    pub default_datastore: Option<String>,
    /// Whether independent branches keep running after a step fails.
    pub continue_on_step_failure: bool,
}

/// A pipeline input.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineInput {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: PortType,
    /// Default value, if any.
    pub default: Option<InputValue>,
    /// Delivery mode for a data input.
    pub mode: Option<InputMode>,
    /// Range and allowed values of a parameter.
    pub rules: InputRules,
}

/// A value bound to a pipeline input.
#[derive(Clone, Debug, PartialEq)]
pub enum InputValue {
    /// A parameter value.
    Literal(Literal),
    /// A data location.
    Data(DataLocation),
}

/// Where data lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataLocation {
    /// A local file or folder (absolute).
    Local(PathBuf),
    /// A URI Azure ML understands: `azureml://datastores/NAME/paths/PATH`, `https://…`,
    /// `azureml:NAME:VERSION`.
    Uri(String),
}

impl DataLocation {
    /// Parses a location as a user writes it; relative local paths are resolved against `base`.
    pub fn parse(text: &str, base: &Path) -> DataLocation {
        if text.contains("://") || text.starts_with("azureml:") {
            DataLocation::Uri(text.to_owned())
        } else {
            DataLocation::Local(base.join(text))
        }
    }
}

impl std::fmt::Display for DataLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataLocation::Local(p) => write!(f, "{}", p.display()),
            DataLocation::Uri(u) => f.write_str(u),
        }
    }
}

/// A pipeline output: a node output promoted to the pipeline's interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineOutput {
    /// Name.
    pub name: String,
    /// Asset type.
    pub ty: AssetType,
    /// The node output it comes from.
    pub from: OutputRef,
    /// The data asset it is registered as, if any.
    pub asset: OutputAsset,
}

/// A reference to one output of one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutputRef {
    /// Node index in [`Pipeline::nodes`].
    pub node: usize,
    /// Output index in the node's component.
    pub output: usize,
}

/// One node: a step call or a sub-pipeline call.
#[derive(Clone, Debug)]
pub struct Node {
    /// Unique node name within its pipeline (`train`, `train_1`, …).
    pub name: String,
    /// What the node runs.
    pub component: Component,
    /// What each input port is bound to, in port order.
    pub inputs: Vec<Binding>,
    /// The environment a step node runs in: the step's own, else the `default_environment` of
    /// the innermost pipeline around it that sets one. `None` for a sub-pipeline node.
    pub environment: Option<&'static str>,
}

/// What a node runs.
#[derive(Clone, Debug)]
pub enum Component {
    /// A command step.
    Step(&'static StepDef),
    /// A sub-pipeline.
    Pipeline(Arc<Pipeline>),
}

/// A port as seen from outside a component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port<'a> {
    /// Port name.
    pub name: &'a str,
    /// Port type.
    pub ty: PortType,
}

impl Component {
    /// The component's name.
    pub fn name(&self) -> &str {
        match self {
            Component::Step(s) => s.name,
            Component::Pipeline(p) => &p.name,
        }
    }

    /// Input ports, in order.
    pub fn inputs(&self) -> Vec<Port<'_>> {
        match self {
            Component::Step(s) => s
                .inputs
                .iter()
                .map(|i| Port {
                    name: i.name,
                    ty: i.ty,
                })
                .collect(),
            Component::Pipeline(p) => p
                .inputs
                .iter()
                .map(|i| Port {
                    name: &i.name,
                    ty: i.ty,
                })
                .collect(),
        }
    }

    /// Output ports, in order, each with its delivery mode (see [`Component::output_mode`]).
    pub fn outputs(&self) -> Vec<(Port<'_>, Option<OutputMode>)> {
        match self {
            Component::Step(s) => s
                .outputs
                .iter()
                .map(|o| {
                    (
                        Port {
                            name: o.name,
                            ty: PortType::Data(o.ty),
                        },
                        o.mode,
                    )
                })
                .collect(),
            Component::Pipeline(p) => p
                .outputs
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    (
                        Port {
                            name: &o.name,
                            ty: PortType::Data(o.ty),
                        },
                        p.output_mode(i),
                    )
                })
                .collect(),
        }
    }

    /// The delivery mode of output `i`: the step's own, or for a sub-pipeline the mode of the
    /// node output it promotes (so `mode = "upload"` on a step reaches every pipeline that
    /// passes the output on).
    pub fn output_mode(&self, i: usize) -> Option<OutputMode> {
        match self {
            Component::Step(s) => s.outputs[i].mode,
            Component::Pipeline(p) => p.output_mode(i),
        }
    }

    /// The number of outputs.
    pub fn output_count(&self) -> usize {
        match self {
            Component::Step(s) => s.outputs.len(),
            Component::Pipeline(p) => p.outputs.len(),
        }
    }

    /// The output type of output `i`.
    pub fn output_type(&self, i: usize) -> AssetType {
        match self {
            Component::Step(s) => s.outputs[i].ty,
            Component::Pipeline(p) => p.outputs[i].ty,
        }
    }

    /// The rules of input `i` (optional, range, allowed values).
    pub fn input_rules(&self, i: usize) -> InputRules {
        match self {
            Component::Step(s) => s.inputs[i].rules,
            Component::Pipeline(p) => p.inputs[i].rules,
        }
    }

    /// The output name of output `i`.
    pub fn output_name(&self, i: usize) -> &str {
        match self {
            Component::Step(s) => s.outputs[i].name,
            Component::Pipeline(p) => &p.outputs[i].name,
        }
    }
}

/// What a node input is bound to.
#[derive(Clone, Debug, PartialEq)]
pub enum Binding {
    /// The `i`-th pipeline input.
    Input(usize),
    /// An output of an earlier node.
    Output(OutputRef),
    /// A constant parameter value.
    Literal(Literal),
    /// A fixed data location.
    Data(DataLocation),
    /// Nothing: an optional input the call left out (`None`).
    Unbound,
}

/// A data or parameter edge between two nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// The producing node output.
    pub from: OutputRef,
    /// The consuming node.
    pub to_node: usize,
    /// The consuming input port index.
    pub to_input: usize,
}

impl Pipeline {
    /// The experiment runs go to: `experiment`, else the pipeline name.
    pub fn experiment_name(&self) -> &str {
        self.experiment.as_deref().unwrap_or(&self.name)
    }

    /// The delivery mode of pipeline output `i`: that of the node output it promotes.
    pub fn output_mode(&self, i: usize) -> Option<OutputMode> {
        let from = self.outputs[i].from;
        self.nodes[from.node].component.output_mode(from.output)
    }

    /// Finds a node by name.
    pub fn node(&self, name: &str) -> Option<(usize, &Node)> {
        self.nodes.iter().enumerate().find(|(_, n)| n.name == name)
    }

    /// Finds a pipeline input by name.
    pub fn input(&self, name: &str) -> Option<(usize, &PipelineInput)> {
        self.inputs.iter().enumerate().find(|(_, i)| i.name == name)
    }

    /// Every node-to-node edge, ordered by consumer.
    pub fn edges(&self) -> Vec<Edge> {
        let mut edges = Vec::new();
        for (to_node, node) in self.nodes.iter().enumerate() {
            for (to_input, binding) in node.inputs.iter().enumerate() {
                if let Binding::Output(from) = binding {
                    edges.push(Edge {
                        from: *from,
                        to_node,
                        to_input,
                    });
                }
            }
        }
        edges
    }

    /// The nodes each node reads from (deduplicated, ascending).
    pub fn upstream(&self, node: usize) -> Vec<usize> {
        let mut up: Vec<usize> = self.nodes[node]
            .inputs
            .iter()
            .filter_map(|b| match b {
                Binding::Output(o) => Some(o.node),
                _ => None,
            })
            .collect();
        up.sort_unstable();
        up.dedup();
        up
    }

    /// A topological order of the nodes (Kahn's algorithm, ties broken by call order). Nodes
    /// are built in call order, which is already topological; this is the checked form.
    pub fn topological_order(&self) -> Vec<usize> {
        let n = self.nodes.len();
        let mut indegree = vec![0usize; n];
        let mut downstream: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, _) in self.nodes.iter().enumerate() {
            for up in self.upstream(i) {
                indegree[i] += 1;
                downstream[up].push(i);
            }
        }
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &d in &downstream[i] {
                indegree[d] -= 1;
                if indegree[d] == 0 {
                    ready.insert(d);
                }
            }
        }
        order
    }

    /// Every distinct step used by this pipeline and its sub-pipelines, in first-use order.
    pub fn steps(&self) -> Vec<&'static StepDef> {
        let mut out: Vec<&'static StepDef> = Vec::new();
        self.collect_steps(&mut out);
        out
    }

    fn collect_steps(&self, out: &mut Vec<&'static StepDef>) {
        for node in &self.nodes {
            match &node.component {
                Component::Step(s) => {
                    if !out.iter().any(|o| std::ptr::eq(*o, *s)) {
                        out.push(s);
                    }
                }
                Component::Pipeline(p) => p.collect_steps(out),
            }
        }
    }
}
