//! What generated code reaches; not a public API.

pub use crate::graph::__private::*;
pub use crate::graph::{
    AssetType, Data, DataKind, DefaultValue, InputDef, InputMode, InputPort, IntoParam, OutputDef,
    OutputMode, OutputPort, Param, ParamType, PipelineDef, PipelineInputDef, PipelineReturn,
    PortType, StepDef,
};

/// The port a `Param<T>` argument (handle or plain value) points at.
pub fn param_port<T, V: IntoParam<T>>(value: V) -> PortRef {
    value.__into_port()
}

/// The port a step output handle points at.
pub fn output_port<O: OutputPort>(handle: &O) -> PortRef {
    handle.__port()
}

/// Builds an output handle from a port.
pub fn output_handle<O: OutputPort>(port: PortRef) -> O {
    O::__from_port(port)
}
