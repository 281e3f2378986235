//! The validated description of a pipeline.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Expr, Type};

use super::parse::PipelineArgs;
use crate::ctx::Ctxt;
use crate::names;
use crate::sig::{self, FnItem, Port, Ret};

pub struct PipelineModel<'a> {
    pub item: &'a FnItem,
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub experiment: Option<String>,
    pub default_compute: Option<String>,
    pub default_datastore: Option<String>,
    pub continue_on_step_failure: bool,
    pub tags: Vec<(String, String)>,
    pub properties: Vec<(String, String)>,
    pub default_environment: Option<String>,
    pub inputs: Vec<Port>,
    pub outputs: Vec<String>,
    /// Per output (or empty): `(name, version, path)` of the data asset it is registered as.
    pub output_assets: Vec<(Option<String>, Option<String>, Option<String>)>,
    pub ret: Option<Type>,
    /// `<crate>::__private`, the generated code's way into the runtime.
    pub rt: proc_macro2::TokenStream,
}

pub fn validate<'a>(
    cx: &mut Ctxt,
    args: PipelineArgs,
    item: &'a FnItem,
) -> Option<PipelineModel<'a>> {
    match &item.body {
        None => cx.error_at(
            item.sig.ident.span(),
            "a `#[pipeline]` fn needs a body that calls its steps",
        ),
        Some(body) if body.stmts.is_empty() => cx.error_spanned_by(
            body,
            format!(
                "pipeline `{}` is empty; call at least one step in its body (Azure ML rejects a pipeline job without steps)",
                item.sig.ident
            ),
        ),
        Some(body) => check_self_calls(cx, &item.sig.ident, body.to_token_stream()),
    }
    let inputs = sig::ports(cx, "pipeline", &item.sig, true);
    for p in &inputs {
        if let Some(Expr::Lit(l)) = &p.default
            && let syn::Lit::Str(s) = &l.lit
            && p.param_of.is_none()
        {
            check_data_default(cx, s);
        }
    }
    let name = match args.name.get() {
        Some(lit) => {
            if let Err(msg) = names::check_component_name(&lit.value()) {
                cx.error_spanned_by(lit, msg);
            }
            lit.value()
        }
        None => {
            let n = item.sig.ident.to_string();
            let n = n.strip_prefix("r#").unwrap_or(&n).to_owned();
            if let Err(msg) = names::check_component_name(&n) {
                cx.error_spanned_by(
                    &item.sig.ident,
                    format!("{msg}; rename the fn or give `name = \"...\"`"),
                );
            }
            n
        }
    };
    let experiment = args.experiment.get().map(|lit| {
        if let Err(msg) = names::check_experiment_name(&lit.value()) {
            cx.error_spanned_by(lit, msg);
        }
        lit.value()
    });
    let default_compute = args.default_compute.get().map(|lit| {
        if let Err(msg) = names::check_compute_name(&lit.value()) {
            cx.error_spanned_by(lit, msg);
        }
        lit.value()
    });
    let default_datastore = args.default_datastore.get().map(|lit| {
        if let Err(msg) = names::check_datastore_name(&lit.value()) {
            cx.error_spanned_by(lit, msg);
        }
        lit.value()
    });
    let ret = sig::ret(&item.sig.output);
    let n = ret.types().len();
    let mut output_assets = Vec::new();
    let outputs: Vec<String> = match (args.output.take(), args.outputs.take()) {
        (Some((_, span)), Some(_)) => {
            cx.error_at(
                span,
                "give either `output = \"...\"` or `outputs(...)`, not both",
            );
            Vec::new()
        }
        (Some((lit, _)), None) => {
            if n != 1 {
                cx.error_spanned_by(
                    &lit,
                    format!("`output` names one output, but the pipeline returns {n}; use `outputs(...)`"),
                );
            }
            check_port(cx, &lit.value(), lit.span());
            vec![lit.value()]
        }
        (None, Some((list, span))) => {
            if list.len() != n {
                cx.error_at(
                    span,
                    format!(
                        "`outputs` names {} but the pipeline returns {n}",
                        list.len()
                    ),
                );
            }
            let mut seen: Vec<String> = Vec::new();
            for spec in &list {
                let name = &spec.name;
                check_port(cx, name, spec.span);
                if seen.contains(name) {
                    cx.error_at(spec.span, format!("duplicate output name `{name}`"));
                }
                seen.push(name.clone());
                output_assets.push(check_output_asset(cx, spec));
            }
            if output_assets.iter().all(|a| *a == (None, None, None)) {
                output_assets.clear();
            }
            seen
        }
        (None, None) => match n {
            0 => Vec::new(),
            1 => vec!["output".to_owned()],
            n => {
                cx.error_at(
                    sig::ret_span(&item.sig),
                    format!("the pipeline returns {n} outputs; name them with `outputs(first, second, ...)` in `#[pipeline(...)]`"),
                );
                Vec::new()
            }
        },
    };
    let ret_ty = match (&ret, &item.sig.output) {
        (Ret::Unit, _) => None,
        (_, syn::ReturnType::Type(_, t)) => Some((**t).clone()),
        _ => None,
    };
    let properties = args
        .properties
        .take()
        .map(|(v, _)| v.into_iter().map(|(k, l)| (k, l.value())).collect())
        .unwrap_or_default();
    let default_environment = args.default_environment.get().map(|lit| {
        if let Err(msg) = names::check_environment(&lit.value()) {
            cx.error_spanned_by(lit, msg);
        }
        lit.value()
    });
    let tags = args
        .tags
        .take()
        .map(|(v, _)| v.into_iter().map(|(k, l)| (k, l.value())).collect())
        .unwrap_or_default();
    if cx.has_errors() {
        return None;
    }
    Some(PipelineModel {
        item,
        name,
        display_name: args.display_name.get().map(|l| l.value()),
        description: args
            .description
            .get()
            .map(|l| l.value())
            .or_else(|| sig::doc_text(&item.attrs)),
        experiment,
        default_compute,
        default_datastore,
        continue_on_step_failure: args.continue_on_step_failure.get().is_some_and(|b| b.value),
        tags,
        properties,
        default_environment,
        inputs,
        outputs,
        output_assets,
        ret: ret_ty,
        rt: crate::attr::runtime_path(args.krate.get()),
    })
}

/// The data asset an output is registered as: a name Azure ML takes, a version only with a
/// name, a path that is a URI.
fn check_output_asset(
    cx: &mut Ctxt,
    spec: &super::parse::OutputSpec,
) -> (Option<String>, Option<String>, Option<String>) {
    if let Some(lit) = &spec.asset_name {
        let v = lit.value();
        let ok = v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && v.len() <= 255
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            cx.error_spanned_by(
                lit,
                format!("data asset name `{v}` is not one Azure ML takes: letters, digits, `-`, `_` and `.`, starting with a letter or digit"),
            );
        }
    }
    if let Some(lit) = &spec.version {
        let v = lit.value();
        if spec.asset_name.is_none() {
            cx.error_spanned_by(
                lit,
                format!(
                    "`version` needs a `name`: `{}(name = \"my-data\", version = \"{v}\")`",
                    spec.name
                ),
            );
        } else if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            cx.error_spanned_by(
                lit,
                format!(
                    "version `{v}` is not one Azure ML takes: letters, digits, `-`, `_` and `.`"
                ),
            );
        }
    }
    if let Some(lit) = &spec.path
        && !lit.value().contains("://")
    {
        cx.error_spanned_by(
            lit,
            "`path` is where Azure ML writes the output: `\"azureml://datastores/NAME/paths/PATH/\"`",
        );
    }
    let value = |l: &Option<syn::LitStr>| l.as_ref().map(|l| l.value());
    (
        value(&spec.asset_name),
        value(&spec.version),
        value(&spec.path),
    )
}

fn check_port(cx: &mut Ctxt, name: &str, span: Span) {
    if let Err(msg) = names::check_port_name(name) {
        cx.error_at(span, msg);
    }
}

/// A local default data path must exist (relative to the crate's root).
fn check_data_default(cx: &mut Ctxt, lit: &syn::LitStr) {
    let v = lit.value();
    if v.contains("://") || v.starts_with("azureml:") {
        return;
    }
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    if !std::path::Path::new(&manifest_dir).join(&v).exists() {
        cx.error_spanned_by(
            lit,
            format!(
                "default data `{v}` does not exist; local paths are relative to the root of {}, the folder of its `Cargo.toml` (or use an `azureml://datastores/NAME/paths/PATH` URI)",
                crate::attr::crate_name()
            ),
        );
    }
}

/// A direct call of the pipeline fn from its own body (`name(...)`, not `x.name(...)` or
/// `other::name(...)`) would build forever: report each one. Calls through other fns are caught
/// when the pipeline is built (`BuildError::RecursivePipeline`).
fn check_self_calls(cx: &mut Ctxt, ident: &syn::Ident, body: TokenStream) {
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(g) => check_self_calls(cx, ident, g.stream()),
            TokenTree::Ident(id) if id == ident => {
                let called = matches!(
                    tokens.get(i + 1),
                    Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis
                );
                let qualified = i > 0
                    && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '.' || p.as_char() == ':');
                if called && !qualified {
                    cx.error_spanned_by(
                        id,
                        format!(
                            "pipeline `{ident}` calls itself; a pipeline cannot contain itself: call its steps, or another `#[pipeline]` fn as a sub-pipeline"
                        ),
                    );
                }
            }
            _ => {}
        }
    }
}
