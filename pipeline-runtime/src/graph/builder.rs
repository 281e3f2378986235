//! Building a [`Pipeline`] by running a `#[pipeline]` fn once.
//!
//! A `#[pipeline]` fn runs inside a builder scope (one per call, kept on a thread-local stack).
//! Each step call adds a node to the innermost scope and hands back typed handles; a nested
//! `#[pipeline]` call opens a child scope and becomes a sub-pipeline node of its parent.
//!
//! Misuse is reported as a [`BuildError`] by the next build on the thread, never as a panic: a
//! step or pipeline fn called from plain code (no pipeline being built) records the mistake and
//! hands back inert handles; a pipeline that contains itself through other pipelines is cut at
//! the second entry (a direct self call is a compile error); an empty pipeline is an error.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::handles::{self, Constant, DefaultValue, InputPort, PipelineReturn, PortRef, Source};
use super::pipeline::{
    Binding, Component, DataLocation, InputValue, Node, OutputRef, Pipeline, PipelineInput,
    PipelineOutput, Settings,
};
use super::step::{PipelineDef, StepDef};

/// Why a pipeline could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The fn given to the builder is not a `#[pipeline]` fn.
    #[error("`{0}` is not a `#[pipeline]` fn; annotate it with `#[pipeline]`")]
    NotAPipeline(&'static str),
    /// A step was called directly, not inside a `#[pipeline]` fn.
    #[error(
        "step `{0}` was called outside a `#[pipeline]` fn; call steps inside the body of a `#[pipeline]` fn"
    )]
    StepOutsidePipeline(&'static str),
    /// A handle from one pipeline was used inside another.
    #[error(
        "`{node}` input `{input}` was given a handle that belongs to another pipeline; pass data into a sub-pipeline through its arguments"
    )]
    ForeignHandle {
        /// The consuming node.
        node: String,
        /// The input port.
        input: String,
    },
    /// A `#[pipeline]` fn was called directly, with no pipeline being built.
    #[error(
        "pipeline `{0}` was called outside a builder; build it with `azureml_pipelines::cli::main` or `azureml_pipelines::build`, or call it inside another `#[pipeline]` fn"
    )]
    PipelineOutsideBuilder(&'static str),
    /// A pipeline contains itself, through one or more sub-pipelines.
    #[error(
        "pipeline `{pipeline}` contains itself ({chain}); a pipeline cannot call itself, directly or through a sub-pipeline"
    )]
    RecursivePipeline {
        /// The pipeline entered twice.
        pipeline: &'static str,
        /// The calls that lead back to it: `a → b → a`.
        chain: String,
    },
    /// A pipeline calls no step and no sub-pipeline.
    #[error(
        "pipeline `{0}` has no steps; call at least one step in its body (Azure ML rejects a pipeline job without steps)"
    )]
    EmptyPipeline(String),
    /// A pipeline output is not a step output.
    #[error(
        "pipeline `{pipeline}` output `{output}` is not produced by a step; a pipeline can only return step outputs"
    )]
    OutputNotFromStep {
        /// The pipeline.
        pipeline: String,
        /// The output.
        output: String,
    },
    /// A constant passed to a step parameter is outside the port's `min`/`max`/`allowed`.
    #[error("`{node}` input `{input}`: {reason}; pass a value the step accepts")]
    BadConstant {
        /// The node.
        node: String,
        /// The input.
        input: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A step without an `environment` called where no pipeline sets `default_environment`.
    #[error(
        "step `{step}` has no environment and pipeline `{pipeline}` sets no `default_environment`; add `environment = \"azureml:NAME@latest\"` to the `#[step]`, or `default_environment = \"azureml:NAME@latest\"` to the `#[pipeline]`"
    )]
    NoEnvironment {
        /// The step.
        step: &'static str,
        /// The innermost pipeline calling it.
        pipeline: &'static str,
    },
}

/// A fn that builds a pipeline: any `#[pipeline]` fn.
///
/// `Args` is the tuple of the fn's argument types; it is inferred.
pub trait PipelineFn<Args> {
    /// Runs the fn once in a fresh builder and returns the pipeline it describes.
    fn build(self) -> Result<Pipeline, BuildError>;
}

struct Draft {
    def: Option<&'static PipelineDef>,
    nodes: Vec<Node>,
    node_names: HashMap<String, u32>,
    errors: Vec<BuildError>,
    built: Option<Pipeline>,
}

struct Scope {
    id: u32,
    draft: Draft,
}

thread_local! {
    static SCOPES: RefCell<Vec<Scope>> = const { RefCell::new(Vec::new()) };
    /// Mistakes made with no pipeline being built (a step called from `main`), reported by the
    /// next build on this thread.
    static STRAY: RefCell<Vec<BuildError>> = const { RefCell::new(Vec::new()) };
    static NEXT_SCOPE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn new_scope(def: Option<&'static PipelineDef>) -> u32 {
    let id = NEXT_SCOPE.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1) % (u32::MAX - 1));
        id
    });
    SCOPES.with(|s| {
        s.borrow_mut().push(Scope {
            id,
            draft: Draft {
                def,
                nodes: Vec::new(),
                node_names: HashMap::new(),
                errors: Vec::new(),
                built: None,
            },
        })
    });
    id
}

fn with_top<R>(f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
    SCOPES.with(|s| s.borrow_mut().last_mut().map(f))
}

fn unique_name(draft: &mut Draft, base: &str) -> String {
    let count = draft.node_names.entry(base.to_owned()).or_insert(0);
    let name = if *count == 0 {
        base.to_owned()
    } else {
        format!("{base}_{count}")
    };
    *count += 1;
    // A user-chosen name may collide with a generated suffix (`train_1` declared by hand).
    if name != base && draft.node_names.contains_key(&name) {
        return unique_name(draft, base);
    }
    if name != base {
        draft.node_names.insert(name.clone(), 1);
    }
    name
}

fn to_binding(
    scope: &Scope,
    port: PortRef,
    node: &str,
    input: &str,
) -> Result<Binding, BuildError> {
    let foreign = || BuildError::ForeignHandle {
        node: node.to_owned(),
        input: input.to_owned(),
    };
    match port.source {
        Source::Unbound => Ok(Binding::Unbound),
        Source::Constant(i) => Ok(match handles::constant(i) {
            Constant::Literal(l) => Binding::Literal(l),
            Constant::Data(d) => Binding::Data(DataLocation::parse(&d, Path::new(""))),
        }),
        _ if port.scope != scope.id => Err(foreign()),
        Source::Input(i) => Ok(Binding::Input(i as usize)),
        Source::Output { node, output } => Ok(Binding::Output(OutputRef {
            node: node as usize,
            output: output as usize,
        })),
        Source::Placeholder(_) => Err(foreign()),
    }
}

/// One step call being recorded (used by `#[step]`-generated code).
#[doc(hidden)]
pub struct StepCall {
    def: &'static StepDef,
    ports: Vec<PortRef>,
}

impl StepCall {
    pub fn new(def: &'static StepDef) -> Self {
        StepCall {
            def,
            ports: Vec::with_capacity(def.inputs.len()),
        }
    }

    pub fn bind(&mut self, port: PortRef) {
        self.ports.push(port);
    }

    /// Adds the node to the enclosing pipeline and returns the ports of its outputs.
    ///
    /// With no pipeline being built (a step fn called from ordinary code), nothing is added:
    /// the mistake is kept for the next build on this thread to report, and the returned ports
    /// are inert.
    pub fn finish(self) -> Vec<PortRef> {
        let def = self.def;
        let inherited = def.environment.map_or_else(default_environment, Some);
        // A Rust step needs no Python: a small Linux image unless the step or pipeline names one.
        let inherited = match def.kind {
            super::StepKind::Rust(_) => inherited.or(Some(crate::rust_step::DEFAULT_ENVIRONMENT)),
            _ => inherited,
        };
        let added = with_top(|scope| {
            if scope.draft.def.is_none() {
                scope
                    .draft
                    .errors
                    .push(BuildError::StepOutsidePipeline(def.name));
                return placeholder_ports(def.outputs.len());
            }
            let name = unique_name(&mut scope.draft, def.name);
            let mut inputs = Vec::with_capacity(self.ports.len());
            for (port, input) in self.ports.iter().zip(def.inputs) {
                match to_binding(scope, *port, &name, input.name) {
                    Ok(Binding::Literal(l)) => {
                        if let Err(reason) = input.rules.check(&l) {
                            scope.draft.errors.push(BuildError::BadConstant {
                                node: name.clone(),
                                input: input.name,
                                reason,
                            });
                        }
                        inputs.push(Binding::Literal(l));
                    }
                    Ok(b) => inputs.push(b),
                    Err(e) => {
                        scope.draft.errors.push(e);
                        inputs.push(Binding::Data(DataLocation::Uri(String::new())));
                    }
                }
            }
            let environment = inherited;
            // Copy and Spark steps run in what Azure ML gives them (Data Factory, the Spark
            // runtime): only command steps need an environment.
            if environment.is_none()
                && matches!(def.kind, super::StepKind::Command)
                && let Some(pipeline) = scope.draft.def
            {
                scope.draft.errors.push(BuildError::NoEnvironment {
                    step: def.name,
                    pipeline: pipeline.name,
                });
            }
            let node = scope.draft.nodes.len() as u32;
            scope.draft.nodes.push(Node {
                name,
                component: Component::Step(def),
                inputs,
                environment,
            });
            (0..def.outputs.len() as u32)
                .map(|output| PortRef {
                    scope: scope.id,
                    source: Source::Output { node, output },
                })
                .collect()
        });
        added.unwrap_or_else(|| {
            STRAY.with(|s| {
                s.borrow_mut()
                    .push(BuildError::StepOutsidePipeline(def.name))
            });
            placeholder_ports(def.outputs.len())
        })
    }
}

/// The `default_environment` of the innermost open pipeline that sets one.
fn default_environment() -> Option<&'static str> {
    SCOPES.with(|s| {
        s.borrow()
            .iter()
            .rev()
            .find_map(|sc| sc.draft.def.and_then(|d| d.default_environment))
    })
}

fn placeholder_ports(n: usize) -> Vec<PortRef> {
    (0..n as u32)
        .map(|i| PortRef {
            scope: u32::MAX - 1,
            source: Source::Placeholder(i),
        })
        .collect()
}

/// One `#[pipeline]` call being recorded (used by `#[pipeline]`-generated code).
#[doc(hidden)]
pub struct PipelineCall {
    def: &'static PipelineDef,
    scope: u32,
    args: Vec<PortRef>,
    /// Set when this call would enter a pipeline that is already being built (recursion), or
    /// when no pipeline is being built at all: the body must not run.
    cut: bool,
}

impl PipelineCall {
    /// Opens a builder scope for this call. `args` are the ports the caller passed.
    ///
    /// When `def` is already being built further up (a pipeline that contains itself), or no
    /// build is under way, no scope is opened: the error is recorded and [`Self::cut`] tells the
    /// generated code to return inert handles instead of running the body.
    pub fn enter(def: &'static PipelineDef, args: Vec<PortRef>) -> Self {
        let entered = SCOPES.with(|s| {
            let s = s.borrow();
            if s.is_empty() {
                return Err(BuildError::PipelineOutsideBuilder(def.name));
            }
            let open: Vec<&'static PipelineDef> = s.iter().filter_map(|sc| sc.draft.def).collect();
            match open.iter().position(|d| std::ptr::eq(*d, def)) {
                Some(first) => {
                    let chain = open[first..]
                        .iter()
                        .map(|d| d.name)
                        .chain([def.name])
                        .collect::<Vec<_>>()
                        .join(" → ");
                    Err(BuildError::RecursivePipeline {
                        pipeline: def.name,
                        chain,
                    })
                }
                None => Ok(()),
            }
        });
        match entered {
            Ok(()) => {
                let scope = new_scope(Some(def));
                PipelineCall {
                    def,
                    scope,
                    args,
                    cut: false,
                }
            }
            Err(e) => {
                if with_top(|top| top.draft.errors.push(e.clone())).is_none() {
                    STRAY.with(|s| s.borrow_mut().push(e));
                }
                PipelineCall {
                    def,
                    scope: u32::MAX - 1,
                    args,
                    cut: true,
                }
            }
        }
    }

    /// `Some(inert handles)` when the body must not run (see [`Self::enter`]); the generated
    /// code returns them at once.
    pub fn cut<R: PipelineReturn>(&self) -> Option<R> {
        self.cut
            .then(|| R::__from_ports(&placeholder_ports(self.def.outputs.len())))
    }

    /// The port of input `i` inside the pipeline body.
    pub fn input_port(&self, i: u32) -> PortRef {
        PortRef {
            scope: self.scope,
            source: Source::Input(i),
        }
    }

    /// Closes the scope: builds the pipeline value and records it in the caller.
    pub fn finish<R: PipelineReturn>(self, ret: R) -> R {
        let ports = ret.__ports();
        let scope = SCOPES
            .with(|s| s.borrow_mut().pop())
            .expect("pipeline builder scope stack is balanced");
        debug_assert_eq!(scope.id, self.scope);
        let mut errors = scope.draft.errors;
        let def = self.def;
        if scope.draft.nodes.is_empty() && errors.is_empty() {
            errors.push(BuildError::EmptyPipeline(def.name.to_owned()));
        }
        let manifest_dir = PathBuf::from(def.manifest_dir);
        let inputs = def
            .inputs
            .iter()
            .map(|i| PipelineInput {
                name: i.name.to_owned(),
                ty: i.ty,
                mode: i.mode,
                rules: i.rules,
                default: i.default.map(|f| match f() {
                    DefaultValue::Literal(l) => InputValue::Literal(l),
                    DefaultValue::Data(d) => {
                        InputValue::Data(DataLocation::parse(&d, &manifest_dir))
                    }
                }),
            })
            .collect();
        let mut outputs = Vec::with_capacity(ports.len());
        for (i, (port, name)) in ports.iter().zip(def.outputs).enumerate() {
            match port.source {
                // (An output index past the node's outputs comes from a sub-pipeline that is
                // itself in error; that error is reported first.)
                Source::Output { node, output }
                    if port.scope == self.scope
                        && (output as usize)
                            < scope.draft.nodes[node as usize].component.output_count() =>
                {
                    let node = node as usize;
                    let output = output as usize;
                    outputs.push(PipelineOutput {
                        name: (*name).to_owned(),
                        ty: scope.draft.nodes[node].component.output_type(output),
                        from: OutputRef { node, output },
                        asset: def.output_assets.get(i).copied().unwrap_or_default(),
                    })
                }
                _ => errors.push(BuildError::OutputNotFromStep {
                    pipeline: def.name.to_owned(),
                    output: (*name).to_owned(),
                }),
            }
        }
        let pipeline = Pipeline {
            name: def.name.to_owned(),
            display_name: def.display_name.map(str::to_owned),
            description: def.description.map(str::to_owned),
            experiment: def.experiment.map(str::to_owned),
            settings: Settings {
                default_compute: def.default_compute.map(str::to_owned),
                default_datastore: def.default_datastore.map(str::to_owned),
                continue_on_step_failure: def.continue_on_step_failure,
            },
            tags: def
                .tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            properties: def
                .properties
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            inputs,
            outputs,
            nodes: scope.draft.nodes,
            manifest_dir,
        };
        let out_ports = with_top(|parent| {
            parent.draft.errors.append(&mut errors);
            if parent.draft.def.is_none() {
                parent.draft.built = Some(pipeline);
                return placeholder_ports(ports.len());
            }
            let name = unique_name(&mut parent.draft, def.name);
            let mut bindings = Vec::with_capacity(self.args.len());
            for (port, input) in self.args.iter().zip(def.inputs) {
                match to_binding(parent, *port, &name, input.name) {
                    Ok(b) => bindings.push(b),
                    Err(e) => {
                        parent.draft.errors.push(e);
                        bindings.push(Binding::Data(DataLocation::Uri(String::new())));
                    }
                }
            }
            let node = parent.draft.nodes.len() as u32;
            // One port per declared output, even when one was in error (the error is reported).
            let n_out = def.outputs.len() as u32;
            parent.draft.nodes.push(Node {
                name,
                component: Component::Pipeline(Arc::new(pipeline)),
                inputs: bindings,
                environment: None,
            });
            (0..n_out)
                .map(|output| PortRef {
                    scope: parent.id,
                    source: Source::Output { node, output },
                })
                .collect()
        });
        // `enter` opened a scope, so a parent (at least the root) is there.
        let ports = out_ports.unwrap_or_else(|| placeholder_ports(def.outputs.len()));
        R::__from_ports(&ports)
    }
}

/// Builds the pipeline a `#[pipeline]` fn describes.
///
/// ```no_run
/// # use azureml_pipelines::prelude::*;
/// # #[step(command = "echo hello", environment = "python:3.12")] fn hello();
/// # #[pipeline] fn my_pipeline() { hello() }
/// let pipeline = azureml_pipelines::build(my_pipeline).expect("a valid pipeline");
/// println!("{} nodes", pipeline.nodes.len());
/// ```
pub fn build<Args, F: PipelineFn<Args>>(f: F) -> Result<Pipeline, BuildError> {
    f.build()
}

struct RootGuard(u32);

impl Drop for RootGuard {
    fn drop(&mut self) {
        // Unwind every scope opened since the root (a panicking body leaves them behind).
        SCOPES.with(|s| {
            let mut s = s.borrow_mut();
            while let Some(top) = s.last() {
                let id = top.id;
                s.pop();
                if id == self.0 {
                    break;
                }
            }
        });
    }
}

fn run_root(call: impl FnOnce()) -> Result<Pipeline, BuildError> {
    let id = new_scope(None);
    let guard = RootGuard(id);
    call();
    let scope = SCOPES.with(|s| s.borrow_mut().pop()).expect("root scope");
    std::mem::forget(guard);
    debug_assert_eq!(scope.id, id);
    let mut draft = scope.draft;
    let stray = STRAY.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if let Some(e) = stray.into_iter().chain(draft.errors.drain(..)).next() {
        return Err(e);
    }
    draft.built.ok_or(BuildError::NotAPipeline("the given fn"))
}

fn placeholder<I: InputPort>(i: u32) -> I {
    I::__from_port(PortRef {
        scope: u32::MAX - 1,
        source: Source::Placeholder(i),
    })
}

macro_rules! pipeline_fn {
    ($($arg:ident $idx:tt),*) => {
        impl<Func, Ret, $($arg,)*> PipelineFn<($($arg,)*)> for Func
        where
            Func: FnOnce($($arg),*) -> Ret,
            Ret: PipelineReturn,
            $($arg: InputPort,)*
        {
            fn build(self) -> Result<Pipeline, BuildError> {
                run_root(|| {
                    let _ = self($(placeholder::<$arg>($idx)),*);
                })
                .map_err(|e| match e {
                    BuildError::NotAPipeline(_) => {
                        BuildError::NotAPipeline(std::any::type_name::<Func>())
                    }
                    other => other,
                })
            }
        }
    };
}

pipeline_fn!();
pipeline_fn!(A 0);
pipeline_fn!(A 0, B 1);
pipeline_fn!(A 0, B 1, C 2);
pipeline_fn!(A 0, B 1, C 2, D 3);
pipeline_fn!(A 0, B 1, C 2, D 3, E 4);
pipeline_fn!(A 0, B 1, C 2, D 3, E 4, F 5);
pipeline_fn!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
pipeline_fn!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
pipeline_fn!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
pipeline_fn!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
pipeline_fn!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
pipeline_fn!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
