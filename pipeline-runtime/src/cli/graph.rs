//! `graph --format mermaid|dot`: a picture of the pipeline.

use std::collections::BTreeMap;
use std::fmt::Write;

use std::process::ExitCode;

use super::CliError;
use super::args::WorkspaceArg;
use super::output::out;
use crate::graph::{Binding, Component, InputValue, Pipeline, PortType};

/// Graph formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// `graph`: draw the pipeline.
#[derive(Debug, Clone, clap::Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: GraphFormat,
    /// Colour the steps by their status in this local run (an id, a unique prefix, or `last`).
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub workspace: WorkspaceArg,
}

/// Runs `graph`.
pub fn graph(pipeline: &Pipeline, args: &GraphArgs) -> Result<ExitCode, CliError> {
    let colours = run_colours(pipeline, args)?;
    let text = match args.format {
        GraphFormat::Mermaid => mermaid(pipeline, &colours),
        GraphFormat::Dot => dot(pipeline, &colours),
    };
    out!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// Step colours from a local run; a sub-pipeline node takes the worst status of its steps.
fn run_colours(
    pipeline: &Pipeline,
    args: &GraphArgs,
) -> Result<BTreeMap<String, NodeColour>, CliError> {
    use crate::local::StepStatus;
    let Some(run) = &args.run else {
        return Ok(BTreeMap::new());
    };
    let dir = args.workspace.path(pipeline);
    let Some(ws) = crate::local::Workspace::open_existing(&dir) else {
        return Err(CliError::NoHistory { workspace: dir });
    };
    let statuses = crate::local::step_statuses(ws.root(), run)?;
    let colour = |s: StepStatus| match s {
        StepStatus::Completed => NodeColour::Completed,
        StepStatus::Reused => NodeColour::Reused,
        StepStatus::Failed => NodeColour::Failed,
        StepStatus::Skipped => NodeColour::Skipped,
        StepStatus::Canceled => NodeColour::Canceled,
        StepStatus::NotStarted | StepStatus::Running => NodeColour::Running,
    };
    let rank = |c: NodeColour| match c {
        NodeColour::Failed => 5,
        NodeColour::Canceled => 4,
        NodeColour::Running => 3,
        NodeColour::Skipped => 2,
        NodeColour::Completed => 1,
        NodeColour::Reused => 0,
    };
    let mut colours: BTreeMap<String, NodeColour> = BTreeMap::new();
    for node in &pipeline.nodes {
        let prefix = format!("{}.", node.name);
        for (name, status) in &statuses {
            if *name == node.name || name.starts_with(&prefix) {
                let c = colour(*status);
                let slot = colours.entry(node.name.clone()).or_insert(c);
                if rank(c) > rank(*slot) {
                    *slot = c;
                }
            }
        }
    }
    Ok(colours)
}

/// The status a node is drawn with (from a local run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeColour {
    /// Finished (ran or reused).
    Completed,
    /// Reused an earlier result.
    Reused,
    /// Failed.
    Failed,
    /// Skipped because something upstream failed.
    Skipped,
    /// Still running or waiting.
    Running,
    /// Canceled.
    Canceled,
}

impl NodeColour {
    /// Every colour, in the order the legend lists them.
    const ALL: [NodeColour; 6] = [
        NodeColour::Completed,
        NodeColour::Reused,
        NodeColour::Running,
        NodeColour::Failed,
        NodeColour::Skipped,
        NodeColour::Canceled,
    ];

    /// What the colour means, as the legend says it.
    fn label(self) -> &'static str {
        match self {
            NodeColour::Completed => "ran",
            NodeColour::Reused => "reused",
            NodeColour::Failed => "failed",
            NodeColour::Skipped => "skipped",
            NodeColour::Running => "running or not started",
            NodeColour::Canceled => "canceled",
        }
    }

    /// The name of its legend node.
    fn key(self) -> &'static str {
        match self {
            NodeColour::Completed => "completed",
            NodeColour::Reused => "reused",
            NodeColour::Failed => "failed",
            NodeColour::Skipped => "skipped",
            NodeColour::Running => "running",
            NodeColour::Canceled => "canceled",
        }
    }

    fn fill(self) -> &'static str {
        match self {
            NodeColour::Completed => "#c8e6c9",
            NodeColour::Reused => "#bbdefb",
            NodeColour::Failed => "#ffcdd2",
            NodeColour::Skipped => "#eeeeee",
            NodeColour::Running => "#fff9c4",
            NodeColour::Canceled => "#ffe0b2",
        }
    }
}

fn input_label(p: &Pipeline, i: usize) -> String {
    let input = &p.inputs[i];
    match &input.default {
        Some(InputValue::Literal(l)) => format!("{}: {} = {}", input.name, input.ty, l),
        _ => format!("{}: {}", input.name, input.ty),
    }
}

fn node_label(p: &Pipeline, i: usize) -> String {
    let node = &p.nodes[i];
    match &node.component {
        Component::Step(s) if !s.reuse => format!("{} (reuse = false)", node.name),
        Component::Step(_) => node.name.clone(),
        Component::Pipeline(inner) => {
            format!("{} (pipeline, {} steps)", node.name, inner.nodes.len())
        }
    }
}

/// Mermaid flowchart text.
pub fn mermaid(p: &Pipeline, colours: &BTreeMap<String, NodeColour>) -> String {
    let mut s = String::from("flowchart TD\n");
    for (i, input) in p.inputs.iter().enumerate() {
        let label = input_label(p, i);
        match input.ty {
            PortType::Data(_) => writeln!(s, "    i_{}[/\"{}\"/]", input.name, label),
            PortType::Param(_) => writeln!(s, "    i_{}{{{{\"{}\"}}}}", input.name, label),
        }
        .ok();
    }
    for (i, node) in p.nodes.iter().enumerate() {
        writeln!(s, "    n_{}[\"{}\"]", node.name, node_label(p, i)).ok();
    }
    for o in &p.outputs {
        writeln!(s, "    o_{}[\\\"{}: {}\"\\]", o.name, o.name, o.ty).ok();
    }
    for node in &p.nodes {
        for (port, binding) in node.component.inputs().iter().zip(&node.inputs) {
            match binding {
                Binding::Input(i) => {
                    writeln!(
                        s,
                        "    i_{} -->|{}| n_{}",
                        p.inputs[*i].name, port.name, node.name
                    )
                }
                Binding::Output(o) => {
                    let from = &p.nodes[o.node];
                    writeln!(
                        s,
                        "    n_{} -->|\"{} → {}\"| n_{}",
                        from.name,
                        from.component.output_name(o.output),
                        port.name,
                        node.name
                    )
                }
                Binding::Literal(_) | Binding::Data(_) | Binding::Unbound => Ok(()),
            }
            .ok();
        }
    }
    for o in &p.outputs {
        let from = &p.nodes[o.from.node];
        writeln!(
            s,
            "    n_{} -->|{}| o_{}",
            from.name,
            from.component.output_name(o.from.output),
            o.name
        )
        .ok();
    }
    for (name, colour) in colours {
        if p.node(name).is_some() {
            writeln!(s, "    style n_{name} fill:{}", colour.fill()).ok();
        }
    }
    let used = legend(colours);
    if !used.is_empty() {
        s.push_str("    subgraph legend [\"legend\"]\n");
        for c in &used {
            writeln!(s, "        l_{}[\"{}\"]", c.key(), c.label()).ok();
        }
        s.push_str("    end\n");
        for c in &used {
            writeln!(s, "    style l_{} fill:{}", c.key(), c.fill()).ok();
        }
    }
    s
}

/// The colours a graph uses, in legend order.
fn legend(colours: &BTreeMap<String, NodeColour>) -> Vec<NodeColour> {
    NodeColour::ALL
        .into_iter()
        .filter(|c| colours.values().any(|u| u == c))
        .collect()
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT text.
pub fn dot(p: &Pipeline, colours: &BTreeMap<String, NodeColour>) -> String {
    let mut s = format!(
        "digraph \"{}\" {{\n    rankdir=TB;\n    node [fontname=\"Helvetica\"];\n",
        dot_escape(&p.name)
    );
    for (i, input) in p.inputs.iter().enumerate() {
        let shape = match input.ty {
            PortType::Data(_) => "parallelogram",
            PortType::Param(_) => "hexagon",
        };
        writeln!(
            s,
            "    \"i_{}\" [label=\"{}\", shape={shape}];",
            input.name,
            dot_escape(&input_label(p, i))
        )
        .ok();
    }
    for (i, node) in p.nodes.iter().enumerate() {
        let style = match colours.get(&node.name) {
            Some(c) => format!(", style=filled, fillcolor=\"{}\"", c.fill()),
            None => String::new(),
        };
        writeln!(
            s,
            "    \"n_{}\" [label=\"{}\", shape=box{style}];",
            node.name,
            dot_escape(&node_label(p, i))
        )
        .ok();
    }
    for o in &p.outputs {
        writeln!(
            s,
            "    \"o_{}\" [label=\"{}: {}\", shape=invtrapezium];",
            o.name, o.name, o.ty
        )
        .ok();
    }
    for node in &p.nodes {
        for (port, binding) in node.component.inputs().iter().zip(&node.inputs) {
            match binding {
                Binding::Input(i) => writeln!(
                    s,
                    "    \"i_{}\" -> \"n_{}\" [label=\"{}\"];",
                    p.inputs[*i].name, node.name, port.name
                ),
                Binding::Output(o) => {
                    let from = &p.nodes[o.node];
                    writeln!(
                        s,
                        "    \"n_{}\" -> \"n_{}\" [label=\"{} → {}\"];",
                        from.name,
                        node.name,
                        from.component.output_name(o.output),
                        port.name
                    )
                }
                Binding::Literal(_) | Binding::Data(_) | Binding::Unbound => Ok(()),
            }
            .ok();
        }
    }
    for o in &p.outputs {
        let from = &p.nodes[o.from.node];
        writeln!(
            s,
            "    \"n_{}\" -> \"o_{}\" [label=\"{}\"];",
            from.name,
            o.name,
            from.component.output_name(o.from.output)
        )
        .ok();
    }
    let used = legend(colours);
    if !used.is_empty() {
        s.push_str("    subgraph cluster_legend {\n        label=\"legend\";\n");
        for c in &used {
            writeln!(
                s,
                "        \"l_{}\" [label=\"{}\", shape=box, style=filled, fillcolor=\"{}\"];",
                c.key(),
                c.label(),
                c.fill()
            )
            .ok();
        }
        s.push_str("    }\n");
    }
    s.push_str("}\n");
    s
}
