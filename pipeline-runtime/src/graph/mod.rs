//! Typed handles and the pipeline graph.
