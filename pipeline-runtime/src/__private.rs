//! What generated code reaches; not a public API.

pub use crate::embedded::{EmbeddedFile, EmbeddedTree, data_default, step_root};
pub use crate::graph::__private::*;
pub use crate::graph::{
    AssetType, Bound, Data, DataKind, DefaultValue, InputDef, InputMode, InputPort, InputRules,
    IntoParam, OutputAsset, OutputDef, OutputMode, OutputPort, Param, ParamType, ParamValue,
    PipelineDef, PipelineInputDef, PipelineReturn, PortType, RustStep, StepDef, StepKind,
};
pub use crate::graph::{CopyMode, CopyStep, SparkStep};
pub use crate::rust_step::{Input, Output, RustStepArgs, StepParam, StepResult};

/// The body's result as the entry point takes it (`Ok`, or the error's text).
pub fn step_result<R: StepResult>(result: R) -> Result<(), String> {
    result.into_step_result()
}

/// The port a `Param<T>` argument (handle or plain value) points at.
pub fn param_port<T, V: IntoParam<T>>(value: V) -> PortRef {
    value.__into_port()
}
