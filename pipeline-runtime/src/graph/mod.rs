//! Typed handles and the pipeline graph.
//!
//! A `#[pipeline]` fn runs once inside a builder: each step call adds a [`Node`] and returns
//! typed output handles ([`Data<K>`]); the result is a plain [`Pipeline`] value with nodes,
//! ports, edges and a topological order, which the backends and the wire forms read.

mod bind;
mod builder;
mod handles;
mod kinds;
mod pipeline;
mod step;
mod step_kinds;

pub use bind::{BindError, split_assignment};
pub use builder::{BuildError, PipelineFn, build};
pub use handles::{Data, DefaultValue, InputPort, IntoParam, OutputPort, Param, PipelineReturn};
pub use kinds::{
    AssetType, CustomModel, DataKind, Literal, MlTable, MlflowModel, ParamType, ParamValue,
    PortType, UriFile, UriFolder,
};
pub use pipeline::{
    Binding, Component, DataLocation, Edge, InputValue, Node, OutputRef, Pipeline, PipelineInput,
    PipelineOutput, Port, Settings,
};
pub use step::{
    Bound, InputDef, InputMode, InputRules, OutputAsset, OutputDef, OutputMode, PipelineDef,
    PipelineInputDef, RustStep, StepDef, StepKind,
};
pub use step_kinds::{CopyMode, CopyStep, SparkStep};

#[doc(hidden)]
pub mod __private {
    pub use super::builder::{PipelineCall, StepCall};
    pub use super::handles::{PortRef, unbound_port};
}
