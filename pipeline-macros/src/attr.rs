//! Parsing attribute arguments (`key = value`, `key(...)`) with one set-once helper, so that
//! unknown and duplicate arguments are reported the same way everywhere.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Lit, LitBool, LitInt, LitStr};

use crate::ctx::Ctxt;
use crate::names::did_you_mean;

/// A value set at most once, with the span of the tokens that set it.
pub struct Once<T> {
    pub value: Option<(T, Span)>,
}

impl<T> Default for Once<T> {
    fn default() -> Self {
        Once { value: None }
    }
}

impl<T> Once<T> {
    /// Sets the value, or reports a duplicate.
    pub fn set(&mut self, cx: &mut Ctxt, macro_name: &str, key: &str, span: Span, value: T) {
        if self.value.is_some() {
            cx.error_at(
                span,
                format!("duplicate `{macro_name}` argument `{key}`; give it once"),
            );
        } else {
            self.value = Some((value, span));
        }
    }

    pub fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(v, _)| v)
    }

    pub fn take(self) -> Option<(T, Span)> {
        self.value
    }
}

/// The key of a nested meta item as a string (`reuse` in `reuse = true`).
pub fn key_of(meta: &ParseNestedMeta) -> String {
    meta.path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| {
            meta.path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect::<Vec<_>>()
                .join("::")
        })
}

/// Consumes whatever follows a key we do not know (`= expr` or `(...)`), so that parsing goes
/// on and every mistake is reported.
pub fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _: proc_macro2::Group = meta.input.parse()?;
    }
    Ok(())
}

/// Reports an unknown key with the list of known ones and a suggestion.
pub fn unknown_key(cx: &mut Ctxt, meta: &ParseNestedMeta, macro_name: &str, known: &[&str]) {
    let key = key_of(meta);
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match (sdk_v1_name(macro_name, &key), did_you_mean(&key, known)) {
        (Some(hint), _) => format!("unknown `{macro_name}` argument `{key}`; {hint}"),
        (None, Some(s)) => format!(
            "unknown `{macro_name}` argument `{key}`; did you mean `{s}`? (expected one of {list})"
        ),
        (None, None) => format!("unknown `{macro_name}` argument `{key}`; expected one of {list}"),
    };
    cx.error_spanned_by(&meta.path, message);
    let _ = skip_value(meta);
}

/// What a name from the Python SDK v1 (`PythonScriptStep`, `Pipeline`) is called here.
fn sdk_v1_name(macro_name: &str, key: &str) -> Option<String> {
    // (ours, an example), or a sentence when there is no one argument to use instead.
    let renamed = |ours: &str, example: &str| {
        Some(format!(
            "did you mean `{ours}`? `{key}` is the Python SDK's name; here it is `{example}`"
        ))
    };
    match (macro_name, key) {
        ("step", "allow_reuse") => renamed("reuse", "reuse = false"),
        ("step", "script_name") => renamed("script", "script = \"train.py\""),
        ("step", "source_directory") => renamed("source_dir", "source_dir = \"steps/train\""),
        ("step", "compute_target") => renamed("compute", "compute = \"aml-compute\""),
        ("step", "arguments") => renamed("args", "args = \"--data ${{inputs.data}}\""),
        ("step", "environment_variables") => renamed("env", "env(KEY = \"value\")"),
        ("step", "node_count") => renamed("instance_count", "instance_count = 2"),
        ("pipeline", "experiment_name") => renamed("experiment", "experiment = \"my-experiment\""),
        ("pipeline", "compute_target") => {
            renamed("default_compute", "default_compute = \"aml-compute\"")
        }
        ("step", "runconfig" | "run_config") => Some(
            "the Python SDK's run configuration is `environment = \"azureml:NAME@latest\"` (and `compute = \"...\"`) here".to_owned(),
        ),
        ("step", "inputs") => Some(
            "a step's inputs are the fn's parameters (`fn train(data: Data<UriFolder>)`), not an argument".to_owned(),
        ),
        ("step", "hash_paths") => Some(
            "the whole `source_dir` is hashed (after `.amlignore`/`.gitignore`); remove `hash_paths`".to_owned(),
        ),
        ("pipeline", "steps") => {
            Some("a pipeline's steps are the step fns its body calls".to_owned())
        }
        ("pipeline", "regenerate_outputs") => Some(
            "regenerating outputs is a command-line flag: `run --regenerate-outputs`".to_owned(),
        ),
        ("pipeline", "allow_reuse") => {
            Some("reuse is set per step: `#[step(reuse = false)]`".to_owned())
        }
        _ => None,
    }
}

/// Parses `= "string"`.
pub fn string_value(cx: &mut Ctxt, meta: &ParseNestedMeta, key: &str) -> Option<LitStr> {
    match literal_value(cx, meta, key)? {
        Lit::Str(s) => Some(s),
        other => {
            cx.error_spanned_by(
                &other,
                format!("`{key}` expects a string literal: `{key} = \"...\"`"),
            );
            None
        }
    }
}

/// Parses `crate = "path"`: where the generated code finds this library, for a crate that
/// renames it in `Cargo.toml` or re-exports it (`crate = "my_platform::azureml"`).
pub fn crate_path(cx: &mut Ctxt, meta: &ParseNestedMeta, key: &str) -> Option<syn::Path> {
    let lit = string_value(cx, meta, key)?;
    match lit.parse::<syn::Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            cx.error_spanned_by(
                &lit,
                format!(
                    "`{key}` expects the path this library is reachable at, such as `{key} = \"my_platform::azureml\"`"
                ),
            );
            None
        }
    }
}

/// The generated code's way into the runtime: `<crate>::__private`, by default
/// `::azureml_pipelines::__private`.
pub fn runtime_path(krate: Option<&syn::Path>) -> proc_macro2::TokenStream {
    match krate {
        Some(path) => quote::quote!(#path::__private),
        None => quote::quote!(::azureml_pipelines::__private),
    }
}

/// Parses `= true|false`.
pub fn bool_value(cx: &mut Ctxt, meta: &ParseNestedMeta, key: &str) -> Option<LitBool> {
    match literal_value(cx, meta, key)? {
        Lit::Bool(b) => Some(b),
        other => {
            cx.error_spanned_by(
                &other,
                format!("`{key}` expects `true` or `false`: `{key} = true`"),
            );
            None
        }
    }
}

/// Parses `= 123`.
pub fn int_value(cx: &mut Ctxt, meta: &ParseNestedMeta, key: &str) -> Option<LitInt> {
    match literal_value(cx, meta, key)? {
        Lit::Int(i) => Some(i),
        other => {
            cx.error_spanned_by(&other, format!("`{key}` expects an integer: `{key} = 2`"));
            None
        }
    }
}

fn literal_value(cx: &mut Ctxt, meta: &ParseNestedMeta, key: &str) -> Option<Lit> {
    if !meta.input.peek(syn::Token![=]) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` expects a value: `{key} = ...`"),
        );
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
        syn::Expr::Lit(l) => Some(l.lit),
        other => {
            cx.error_spanned_by(
                &other,
                format!("`{key}` expects a literal value, not an expression"),
            );
            None
        }
    }
}

/// Parses `key(NAME = "value", ...)` into pairs, checking each name with `check`.
pub fn string_map(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta,
    key: &str,
    check: fn(&str) -> Result<(), String>,
) -> Vec<(String, LitStr)> {
    let mut out: Vec<(String, LitStr)> = Vec::new();
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` expects a list: `{key}(NAME = \"value\", ...)`"),
        );
        let _ = skip_value(meta);
        return out;
    }
    let result = meta.parse_nested_meta(|inner| {
        let name = key_of(&inner);
        if let Err(msg) = check(&name) {
            cx.error_spanned_by(&inner.path, msg);
        }
        if out.iter().any(|(n, _)| *n == name) {
            cx.error_spanned_by(&inner.path, format!("duplicate `{key}` entry `{name}`"));
        }
        if let Some(v) = string_value(cx, &inner, &name) {
            out.push((name, v));
        }
        Ok(())
    });
    if let Err(e) = result {
        cx.push(e);
    }
    out
}

/// The crate being compiled, for messages about paths relative to its root: "crate `name`".
pub fn crate_name() -> String {
    match std::env::var("CARGO_PKG_NAME") {
        Ok(name) if !name.is_empty() => format!("crate `{name}`"),
        _ => "the crate".to_owned(),
    }
}
