//! Hand-built pipelines and a scratch folder for the local backend's tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use azureml_pipelines_runtime::graph::{
    AssetType, Binding, Component, DataLocation, InputDef, InputMode, InputRules, InputValue,
    Literal, Node, OutputDef, OutputRef, ParamType, Pipeline, PipelineInput, PortType, Settings,
    StepDef, StepKind,
};
use azureml_pipelines_runtime::local::{Event, LocalError, RunOptions, RunSummary};

fn leak<T>(v: T) -> &'static T {
    Box::leak(Box::new(v))
}

fn leak_str(s: impl Into<String>) -> &'static str {
    Box::leak(s.into().into_boxed_str())
}

/// A data input port.
pub fn data(name: &str, ty: AssetType, mode: Option<InputMode>) -> InputDef {
    InputDef {
        name: leak_str(name),
        ty: PortType::Data(ty),
        mode,
        rules: InputRules::NONE,
    }
}

/// A parameter port.
pub fn param(name: &str, ty: ParamType) -> InputDef {
    InputDef {
        name: leak_str(name),
        ty: PortType::Param(ty),
        mode: None,
        rules: InputRules::NONE,
    }
}

/// A step definition.
pub struct StepSpec {
    pub name: &'static str,
    pub command: String,
    pub source_dir: Option<String>,
    pub manifest_dir: PathBuf,
    pub inputs: Vec<InputDef>,
    pub outputs: Vec<&'static str>,
    pub reuse: bool,
    pub environment: Option<&'static str>,
    pub script: Option<&'static str>,
    pub timeout: Option<u64>,
}

impl StepSpec {
    pub fn new(manifest_dir: &Path, name: &'static str, command: impl Into<String>) -> Self {
        StepSpec {
            name,
            command: command.into(),
            source_dir: None,
            manifest_dir: manifest_dir.to_path_buf(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            reuse: true,
            environment: None,
            script: None,
            timeout: None,
        }
    }

    pub fn source(mut self, dir: &str) -> Self {
        self.source_dir = Some(dir.to_owned());
        self
    }

    pub fn input(mut self, i: InputDef) -> Self {
        self.inputs.push(i);
        self
    }

    pub fn output(mut self, name: &'static str) -> Self {
        self.outputs.push(name);
        self
    }

    /// Stops the step after `seconds`.
    pub fn timeout(mut self, seconds: u64) -> Self {
        self.timeout = Some(seconds);
        self
    }

    pub fn no_reuse(mut self) -> Self {
        self.reuse = false;
        self
    }

    pub fn build(self) -> &'static StepDef {
        let outputs: Vec<OutputDef> = self
            .outputs
            .iter()
            .map(|o| OutputDef {
                name: o,
                ty: AssetType::UriFolder,
                mode: None,
            })
            .collect();
        leak(StepDef {
            name: self.name,
            display_name: None,
            description: None,
            kind: StepKind::Command,
            command: leak_str(self.command),
            script: self.script,
            source_dir: self.source_dir.map(leak_str),
            manifest_dir: leak_str(self.manifest_dir.to_string_lossy().into_owned()),
            compute: None,
            environment: self.environment,
            reuse: self.reuse,
            instance_count: None,
            instance_type: None,
            shm_size: None,
            docker_args: None,
            timeout: self.timeout,
            environment_variables: &[],
            inputs: Vec::leak(self.inputs),
            outputs: Vec::leak(outputs),
        })
    }
}

/// Builds a pipeline from nodes.
pub struct PipelineSpec {
    pub pipeline: Pipeline,
}

impl PipelineSpec {
    pub fn new(name: &str, manifest_dir: &Path) -> Self {
        PipelineSpec {
            pipeline: Pipeline {
                name: name.to_owned(),
                display_name: None,
                description: None,
                experiment: None,
                settings: Settings::default(),
                tags: BTreeMap::new(),
                properties: BTreeMap::new(),
                inputs: Vec::new(),
                outputs: Vec::new(),
                nodes: Vec::new(),
                manifest_dir: manifest_dir.to_path_buf(),
            },
        }
    }

    /// Adds a pipeline input; returns its binding.
    pub fn input(&mut self, name: &str, ty: PortType, default: Option<InputValue>) -> Binding {
        self.pipeline.inputs.push(PipelineInput {
            name: name.to_owned(),
            ty,
            default,
            mode: None,
            rules: InputRules::NONE,
        });
        Binding::Input(self.pipeline.inputs.len() - 1)
    }

    /// Adds a step node; returns the bindings of its outputs.
    pub fn step(&mut self, def: &'static StepDef, inputs: Vec<Binding>) -> Vec<Binding> {
        self.node(def.name, Component::Step(def), inputs, def.outputs.len())
    }

    /// Adds a sub-pipeline node.
    pub fn sub(&mut self, name: &str, inner: Pipeline, inputs: Vec<Binding>) -> Vec<Binding> {
        let n = inner.outputs.len();
        self.node(name, Component::Pipeline(Arc::new(inner)), inputs, n)
    }

    fn node(
        &mut self,
        name: &str,
        component: Component,
        inputs: Vec<Binding>,
        outputs: usize,
    ) -> Vec<Binding> {
        let node = self.pipeline.nodes.len();
        let mut unique = name.to_owned();
        let mut k = 1;
        while self.pipeline.nodes.iter().any(|n| n.name == unique) {
            unique = format!("{name}_{k}");
            k += 1;
        }
        let environment = match &component {
            Component::Step(def) => def.environment,
            Component::Pipeline(_) => None,
        };
        self.pipeline.nodes.push(Node {
            name: unique,
            component,
            inputs,
            environment,
        });
        (0..outputs)
            .map(|output| Binding::Output(OutputRef { node, output }))
            .collect()
    }

    /// Promotes a node output to a pipeline output.
    pub fn output(&mut self, name: &str, from: &Binding) {
        let Binding::Output(r) = from else {
            panic!("not a node output")
        };
        let ty = self.pipeline.nodes[r.node].component.output_type(r.output);
        self.pipeline
            .outputs
            .push(azureml_pipelines_runtime::graph::PipelineOutput {
                name: name.to_owned(),
                ty,
                from: *r,
                asset: Default::default(),
            });
    }

    pub fn done(self) -> Pipeline {
        self.pipeline
    }
}

/// A scratch folder with a workspace inside.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn ws(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    /// Writes a file (creating folders).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn opts(&self) -> RunOptions {
        let mut o = RunOptions::new(self.ws());
        o.cwd = self.dir.path().to_path_buf();
        o.max_parallel = 4;
        o
    }

    /// Runs and collects events.
    pub fn run(
        &self,
        p: &Pipeline,
        opts: &RunOptions,
    ) -> (Result<RunSummary, LocalError>, Vec<Event>) {
        let mut events = Vec::new();
        let r = azureml_pipelines_runtime::local::run(p, opts, |e| events.push(e));
        (r, events)
    }
}

/// A literal binding.
pub fn lit(v: i64) -> Binding {
    Binding::Literal(Literal::Integer(v))
}

/// A fixed local data location.
pub fn at(path: &Path) -> Binding {
    Binding::Data(DataLocation::Local(path.to_path_buf()))
}
