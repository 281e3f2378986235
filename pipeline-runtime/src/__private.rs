//! What generated code reaches; not a public API.

pub use crate::embedded::{EmbeddedFile, EmbeddedTree, data_default, step_root};
pub use crate::graph::__private::*;
pub use crate::graph::{
    AssetType, Bound, Data, DataKind, DefaultValue, InputDef, InputMode, InputPort, InputRules,
    IntoParam, OutputAsset, OutputDef, OutputMode, OutputPort, Param, ParamType, ParamValue,
    PipelineDef, PipelineInputDef, PipelineReturn, PortType, StepDef, StepKind,
};
pub use crate::graph::{CopyMode, CopyStep, SparkStep};

/// The port a `Param<T>` argument (handle or plain value) points at.
pub fn param_port<T, V: IntoParam<T>>(value: V) -> PortRef {
    value.__into_port()
}
