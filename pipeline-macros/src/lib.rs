//! The attribute macros of `azureml-pipelines`: `#[step]`, `#[pipeline]` and
//! `#[derive(DataKind)]`. Use them through the `azureml-pipelines` crate, which re-exports them
//! and the runtime they expand to.
//!
//! Each macro is parse → model (validated) → expand; this file holds the shims only.

mod attr;
mod ctx;
mod data_kind;
mod names;
mod pipeline;
mod sig;
mod step;

use proc_macro::TokenStream;

/// Declares a command step on a bodiless fn. See the `azureml-pipelines` crate docs.
#[proc_macro_attribute]
pub fn step(args: TokenStream, item: TokenStream) -> TokenStream {
    step::expand(args.into(), item.into()).into()
}

/// Declares a pipeline on a fn whose body wires step calls. See the `azureml-pipelines` crate
/// docs.
#[proc_macro_attribute]
pub fn pipeline(args: TokenStream, item: TokenStream) -> TokenStream {
    pipeline::expand(args.into(), item.into()).into()
}

/// Declares a data kind: a Rust type that is one Azure ML asset type on the wire.
#[proc_macro_derive(DataKind, attributes(data_kind))]
pub fn derive_data_kind(item: TokenStream) -> TokenStream {
    data_kind::expand(item.into()).into()
}

#[cfg(test)]
mod expansion_tests;
