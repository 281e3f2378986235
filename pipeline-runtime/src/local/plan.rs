//! Flattening a pipeline (with its sub-pipelines) into the command steps a local run executes.
//! Steps inside a sub-pipeline get path-qualified names: `outer.inner_step`.

use std::path::Path;

use crate::graph::{
    Binding, Component, DataLocation, InputValue, Literal, Pipeline, PortType, StepDef,
};

/// What one step input is bound to, after the pipeline inputs were bound and sub-pipelines
/// flattened.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Source {
    /// A parameter value.
    Literal(Literal),
    /// A data location given by the user, a default, or a constant.
    Data(DataLocation),
    /// An output of an earlier step of the plan.
    Upstream {
        /// Index into [`Plan::steps`].
        step: usize,
        /// Output index in that step.
        output: usize,
    },
    /// Nothing: an optional input left out; its `$[[ … ]]` block is dropped.
    Unbound,
}

/// One command step to execute.
#[derive(Clone, Debug)]
pub(crate) struct PlannedStep {
    /// Path-qualified node name (`train`, `prep.clean`).
    pub name: String,
    /// The step definition.
    pub def: &'static StepDef,
    /// The environment it declares or inherits (not used locally; named in a notice).
    pub environment: Option<&'static str>,
    /// A source per input port of `def`.
    pub inputs: Vec<Source>,
    /// The plan steps this one reads from.
    pub upstream: Vec<usize>,
}

/// The steps of a run, in a topological order.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub steps: Vec<PlannedStep>,
}

impl Plan {
    /// Flattens `pipeline`, whose inputs are bound to `values` (one per pipeline input).
    /// Relative local paths in constants resolve against `cwd`.
    pub fn new(pipeline: &Pipeline, values: &[InputValue], cwd: &Path) -> Plan {
        let inputs: Vec<Source> = values
            .iter()
            .map(|v| match v {
                InputValue::Literal(l) => Source::Literal(l.clone()),
                InputValue::Data(d) => Source::Data(absolute(d, cwd)),
            })
            .collect();
        let mut steps = Vec::new();
        flatten(pipeline, "", &inputs, cwd, &mut steps);
        Plan { steps }
    }

    /// The steps that read (directly or not) from `step`.
    pub fn downstream_closure(&self, step: usize) -> Vec<usize> {
        let mut marked = vec![false; self.steps.len()];
        marked[step] = true;
        let mut out = Vec::new();
        for (i, s) in self.steps.iter().enumerate().skip(step + 1) {
            if s.upstream.iter().any(|&u| marked[u]) {
                marked[i] = true;
                out.push(i);
            }
        }
        out
    }
}

fn absolute(d: &DataLocation, cwd: &Path) -> DataLocation {
    match d {
        DataLocation::Local(p) if p.is_relative() => DataLocation::Local(cwd.join(p)),
        other => other.clone(),
    }
}

/// Adds the steps of `p` to `out` and returns the sources of `p`'s outputs.
fn flatten(
    p: &Pipeline,
    prefix: &str,
    inputs: &[Source],
    cwd: &Path,
    out: &mut Vec<PlannedStep>,
) -> Vec<Source> {
    let mut node_outputs: Vec<Vec<Source>> = vec![Vec::new(); p.nodes.len()];
    for i in p.topological_order() {
        let node = &p.nodes[i];
        let sources: Vec<Source> = node
            .inputs
            .iter()
            .map(|b| match b {
                Binding::Input(k) => inputs
                    .get(*k)
                    .cloned()
                    .unwrap_or(Source::Data(DataLocation::Uri(String::new()))),
                Binding::Output(r) => node_outputs[r.node]
                    .get(r.output)
                    .cloned()
                    .unwrap_or(Source::Data(DataLocation::Uri(String::new()))),
                Binding::Literal(l) => Source::Literal(l.clone()),
                Binding::Data(d) => Source::Data(absolute(d, cwd)),
                Binding::Unbound => Source::Unbound,
            })
            .collect();
        let name = format!("{prefix}{}", node.name);
        node_outputs[i] = match &node.component {
            Component::Step(def) => {
                let index = out.len();
                let mut upstream: Vec<usize> = sources
                    .iter()
                    .filter_map(|s| match s {
                        Source::Upstream { step, .. } => Some(*step),
                        _ => None,
                    })
                    .collect();
                upstream.sort_unstable();
                upstream.dedup();
                out.push(PlannedStep {
                    name,
                    def,
                    environment: node.environment,
                    inputs: sources,
                    upstream,
                });
                (0..def.outputs.len())
                    .map(|output| Source::Upstream {
                        step: index,
                        output,
                    })
                    .collect()
            }
            Component::Pipeline(inner) => flatten(inner, &format!("{name}."), &sources, cwd, out),
        };
    }
    p.outputs
        .iter()
        .map(|o| {
            node_outputs[o.from.node]
                .get(o.from.output)
                .cloned()
                .unwrap_or(Source::Data(DataLocation::Uri(String::new())))
        })
        .collect()
}

/// A readable description of a step's interface, for the reuse key: each input's name, type
/// and mode; each output's name and type.
pub(crate) fn interface(def: &StepDef) -> String {
    let mut s = String::new();
    for i in def.inputs {
        let mode = i.mode.map_or("default", |m| m.as_str());
        let ty = match i.ty {
            PortType::Data(a) => a.as_str(),
            PortType::Param(p) => p.as_str(),
        };
        s.push_str(&format!("in {}:{ty}:{mode};", i.name));
    }
    for o in def.outputs {
        s.push_str(&format!("out {}:{};", o.name, o.ty));
    }
    s
}
