//! Reads the `#[step(...)]` arguments.

use proc_macro2::{Span, TokenStream};
use syn::{LitBool, LitInt, LitStr};

use crate::attr::{
    Once, bool_value, crate_path, int_value, key_of, skip_value, string_map, string_value,
    unknown_key,
};
use crate::ctx::Ctxt;

pub const KEYS: &[&str] = &[
    "script",
    "source_dir",
    "command",
    "args",
    "compute",
    "environment",
    "reuse",
    "name",
    "display_name",
    "description",
    "output",
    "outputs",
    "instance_count",
    "instance_type",
    "shm_size",
    "docker_args",
    "timeout",
    "env",
    "crate",
    "version",
];

/// Output write-back mode as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    ReadWriteMount,
    Upload,
}

pub struct OutputSpec {
    pub name: String,
    pub span: Span,
    pub mode: Option<OutputMode>,
}

#[derive(Default)]
pub struct StepArgs {
    pub script: Once<LitStr>,
    pub source_dir: Once<LitStr>,
    pub command: Once<LitStr>,
    pub args: Once<LitStr>,
    pub compute: Once<LitStr>,
    pub environment: Once<EnvironmentArg>,
    pub reuse: Once<LitBool>,
    pub name: Once<LitStr>,
    pub display_name: Once<LitStr>,
    pub description: Once<LitStr>,
    pub output: Once<LitStr>,
    pub outputs: Once<Vec<OutputSpec>>,
    pub instance_count: Once<LitInt>,
    pub instance_type: Once<LitStr>,
    pub shm_size: Once<LitStr>,
    pub docker_args: Once<LitStr>,
    pub timeout: Once<LitInt>,
    pub env: Once<Vec<(String, LitStr)>>,
    pub krate: Once<syn::Path>,
    /// The arguments of the copy and Spark forms.
    pub kinds: super::kinds::KindArgs,
    /// `version = "2"`: a Rust step's hand-bumped part of its reuse identity.
    pub version: Once<LitStr>,
    /// `environment` was written, even if its value was wrong (so it is not also "missing").
    pub environment_written: bool,
    /// An unknown argument was reported; "missing" errors are left out, as the unknown one is
    /// most likely the missing one misspelled.
    pub unknown_written: bool,
}

pub fn parse(cx: &mut Ctxt, args: TokenStream) -> StepArgs {
    let mut out = StepArgs::default();
    let parser = syn::meta::parser(|meta| {
        let key = key_of(&meta);
        let span = meta.path.span_for_key();
        macro_rules! string {
            ($field:ident) => {
                if let Some(v) = string_value(cx, &meta, &key) {
                    out.$field.set(cx, "step", &key, span, v);
                }
            };
        }
        match key.as_str() {
            "script" => string!(script),
            "source_dir" => string!(source_dir),
            "command" => string!(command),
            "args" => string!(args),
            "compute" => string!(compute),
            "environment" => {
                out.environment_written = true;
                if let Some(v) = environment(cx, &meta) {
                    out.environment.set(cx, "step", &key, span, v);
                }
            }
            "name" => string!(name),
            "display_name" => string!(display_name),
            "version" => string!(version),
            "description" => string!(description),
            "output" => string!(output),
            "reuse" => {
                if let Some(v) = bool_value(cx, &meta, &key) {
                    out.reuse.set(cx, "step", &key, span, v);
                }
            }
            "instance_count" => {
                if let Some(v) = int_value(cx, &meta, &key) {
                    out.instance_count.set(cx, "step", &key, span, v);
                }
            }
            "timeout" => {
                if let Some(v) = int_value(cx, &meta, &key) {
                    out.timeout.set(cx, "step", &key, span, v);
                }
            }
            "instance_type" => string!(instance_type),
            "shm_size" => string!(shm_size),
            "docker_args" => string!(docker_args),
            "env" => {
                let map = string_map(cx, &meta, &key, crate::names::check_env_var_name);
                out.env.set(cx, "step", &key, span, map);
            }
            "crate" => {
                if let Some(path) = crate_path(cx, &meta, &key) {
                    out.krate.set(cx, "step", &key, span, path);
                }
            }
            "outputs" => {
                let list = outputs(cx, &meta);
                out.outputs.set(cx, "step", &key, span, list);
            }
            _ if super::kinds::parse_key(cx, &meta, &key, span, &mut out.kinds) => {}
            _ => {
                out.unknown_written = true;
                let known: Vec<&str> = KEYS.iter().chain(super::kinds::KEYS).copied().collect();
                unknown_key(cx, &meta, "step", &known);
            }
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        cx.push(e);
    }
    out
}

trait SpanForKey {
    fn span_for_key(&self) -> Span;
}

impl SpanForKey for syn::Path {
    fn span_for_key(&self) -> Span {
        syn::spanned::Spanned::span(self)
    }
}

/// `environment = "azureml:NAME@latest"`, or the name of a `const` that holds one, so several
/// steps can share it (`environment = SKLEARN`).
pub enum EnvironmentArg {
    /// A string literal, checked at compile time.
    Literal(LitStr),
    /// A path to a `&'static str` constant; rustc checks its type, Azure ML its value.
    Const(syn::Path),
}

fn environment(cx: &mut Ctxt, meta: &syn::meta::ParseNestedMeta) -> Option<EnvironmentArg> {
    const HINT: &str = "`environment` expects a string literal or the name of a `const`: `environment = \"azureml:AzureML-sklearn-1.5@latest\"`, or `environment = SKLEARN` with `const SKLEARN: &str = \"azureml:AzureML-sklearn-1.5@latest\";` to share one between steps";
    if !meta.input.peek(syn::Token![=]) {
        cx.error_spanned_by(&meta.path, HINT);
        let _ = skip_value(meta);
        return None;
    }
    let expr: syn::Expr = match meta.value().and_then(|v| v.parse()) {
        Ok(e) => e,
        Err(e) => {
            cx.push(e);
            return None;
        }
    };
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(EnvironmentArg::Literal(s)),
        syn::Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => {
            Some(EnvironmentArg::Const(p.path))
        }
        other => {
            cx.error_spanned_by(&other, HINT);
            None
        }
    }
}

/// `outputs(model, metrics(mode = "upload"))`.
fn outputs(cx: &mut Ctxt, meta: &syn::meta::ParseNestedMeta) -> Vec<OutputSpec> {
    let mut list: Vec<OutputSpec> = Vec::new();
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            "`outputs` expects a list of names: `outputs(model, metrics(mode = \"upload\"))`",
        );
        let _ = skip_value(meta);
        return list;
    }
    let result = meta.parse_nested_meta(|inner| {
        let name = key_of(&inner);
        let span = syn::spanned::Spanned::span(&inner.path);
        let mut mode = None;
        if inner.input.peek(syn::token::Paren) {
            inner.parse_nested_meta(|m| {
                if m.path.is_ident("mode") {
                    if let Some(v) = string_value(cx, &m, "mode") {
                        mode = output_mode(cx, &v);
                    }
                } else {
                    unknown_key(cx, &m, "outputs", &["mode"]);
                }
                Ok(())
            })?;
        } else if inner.input.peek(syn::Token![=]) {
            cx.error_spanned_by(
                &inner.path,
                format!("write an output as `{name}` or `{name}(mode = \"upload\")`"),
            );
            let _ = skip_value(&inner);
        }
        list.push(OutputSpec { name, span, mode });
        Ok(())
    });
    if let Err(e) = result {
        cx.push(e);
    }
    list
}

pub fn output_mode(cx: &mut Ctxt, lit: &LitStr) -> Option<OutputMode> {
    match lit.value().as_str() {
        "rw_mount" | "mount" => Some(OutputMode::ReadWriteMount),
        "upload" => Some(OutputMode::Upload),
        other => {
            let hint = crate::names::did_you_mean(other, &["rw_mount", "upload"])
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            cx.error_spanned_by(
                lit,
                format!("unknown output mode `{other}`; {hint}(expected `rw_mount` or `upload`)"),
            );
            None
        }
    }
}
