//! Reads the `#[pipeline(...)]` arguments.

use proc_macro2::TokenStream;
use syn::{LitBool, LitStr};

use crate::attr::{
    Once, bool_value, crate_path, key_of, skip_value, string_map, string_value, unknown_key,
};
use crate::ctx::Ctxt;

pub const KEYS: &[&str] = &[
    "name",
    "display_name",
    "description",
    "experiment",
    "default_compute",
    "default_datastore",
    "continue_on_step_failure",
    "tags",
    "properties",
    "default_environment",
    "output",
    "outputs",
    "crate",
];

#[derive(Default)]
pub struct PipelineArgs {
    pub name: Once<LitStr>,
    pub display_name: Once<LitStr>,
    pub description: Once<LitStr>,
    pub experiment: Once<LitStr>,
    pub default_compute: Once<LitStr>,
    pub default_datastore: Once<LitStr>,
    pub continue_on_step_failure: Once<LitBool>,
    pub tags: Once<Vec<(String, LitStr)>>,
    pub properties: Once<Vec<(String, LitStr)>>,
    pub default_environment: Once<LitStr>,
    pub output: Once<LitStr>,
    pub outputs: Once<Vec<OutputSpec>>,
    pub krate: Once<syn::Path>,
}

/// One entry of `outputs(...)`: `model`, or `model(name = "...", version = "...", path = "...")`
/// to register it as a data asset.
pub struct OutputSpec {
    pub name: String,
    pub span: proc_macro2::Span,
    pub asset_name: Option<LitStr>,
    pub version: Option<LitStr>,
    pub path: Option<LitStr>,
}

fn any_tag_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        Err("empty tag name".into())
    } else {
        Ok(())
    }
}

pub fn parse(cx: &mut Ctxt, args: TokenStream) -> PipelineArgs {
    let mut out = PipelineArgs::default();
    let parser = syn::meta::parser(|meta| {
        let key = key_of(&meta);
        let span = syn::spanned::Spanned::span(&meta.path);
        macro_rules! string {
            ($field:ident) => {
                if let Some(v) = string_value(cx, &meta, &key) {
                    out.$field.set(cx, "pipeline", &key, span, v);
                }
            };
        }
        match key.as_str() {
            "name" => string!(name),
            "display_name" => string!(display_name),
            "description" => string!(description),
            "experiment" => string!(experiment),
            "default_compute" => string!(default_compute),
            "default_datastore" => string!(default_datastore),
            "output" => string!(output),
            "continue_on_step_failure" => {
                if let Some(v) = bool_value(cx, &meta, &key) {
                    out.continue_on_step_failure
                        .set(cx, "pipeline", &key, span, v);
                }
            }
            "crate" => {
                if let Some(path) = crate_path(cx, &meta, &key) {
                    out.krate.set(cx, "pipeline", &key, span, path);
                }
            }
            "tags" => {
                let map = string_map(cx, &meta, &key, any_tag_key);
                out.tags.set(cx, "pipeline", &key, span, map);
            }
            "properties" => {
                let map = string_map(cx, &meta, &key, any_tag_key);
                out.properties.set(cx, "pipeline", &key, span, map);
            }
            "default_environment" => string!(default_environment),
            "outputs" => {
                let mut list = Vec::new();
                if meta.input.peek(syn::token::Paren) {
                    let r = meta.parse_nested_meta(|inner| {
                        let mut spec = OutputSpec {
                            name: key_of(&inner),
                            span: syn::spanned::Spanned::span(&inner.path),
                            asset_name: None,
                            version: None,
                            path: None,
                        };
                        if inner.input.peek(syn::token::Paren) {
                            inner.parse_nested_meta(|m| {
                                let k = key_of(&m);
                                let slot = match k.as_str() {
                                    "name" => &mut spec.asset_name,
                                    "version" => &mut spec.version,
                                    "path" => &mut spec.path,
                                    _ => {
                                        unknown_key(cx, &m, "outputs", &["name", "version", "path"]);
                                        return Ok(());
                                    }
                                };
                                if let Some(v) = string_value(cx, &m, &k) {
                                    if slot.is_some() {
                                        cx.error_spanned_by(&v, format!("duplicate `{k}` on output `{}`", spec.name));
                                    }
                                    *slot = Some(v);
                                }
                                Ok(())
                            })?;
                        } else if !inner.input.is_empty() && !inner.input.peek(syn::Token![,]) {
                            cx.error_spanned_by(
                                &inner.path,
                                "pipeline outputs are names, each with an optional data asset: `outputs(model(name = \"iris-model\", version = \"1\"), metrics)`",
                            );
                            let _ = skip_value(&inner);
                        }
                        list.push(spec);
                        Ok(())
                    });
                    if let Err(e) = r {
                        cx.push(e);
                    }
                } else {
                    cx.error_spanned_by(
                        &meta.path,
                        "`outputs` expects a list of names: `outputs(model, metrics)`",
                    );
                    let _ = skip_value(&meta);
                }
                out.outputs.set(cx, "pipeline", &key, span, list);
            }
            _ => unknown_key(cx, &meta, "pipeline", KEYS),
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        cx.push(e);
    }
    out
}
