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
    pub outputs: Once<Vec<(String, proc_macro2::Span)>>,
    pub krate: Once<syn::Path>,
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
                        list.push((key_of(&inner), syn::spanned::Spanned::span(&inner.path)));
                        if !inner.input.is_empty() && !inner.input.peek(syn::Token![,]) {
                            cx.error_spanned_by(
                                &inner.path,
                                "pipeline outputs are plain names: `outputs(model, metrics)`",
                            );
                            let _ = skip_value(&inner);
                        }
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
