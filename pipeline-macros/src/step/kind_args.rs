//! The arguments of the copy and Spark forms of `#[step]` (`copy`, `spark`, `copy_mode`,
//! `entry`, `py_files`, `conf(...)`, the driver and executor settings, `runtime_version`), read
//! with the same set-once helper as the command form's; `kinds.rs` checks them.

use proc_macro2::Span;
use syn::{LitInt, LitStr};

use crate::attr::{Once, int_value, skip_value, string_value};
use crate::ctx::Ctxt;

/// The arguments only the copy and Spark forms take.
pub const KEYS: &[&str] = &[
    "copy",
    "spark",
    "copy_mode",
    "entry",
    "py_files",
    "conf",
    "driver_cores",
    "driver_memory",
    "executor_cores",
    "executor_memory",
    "executor_instances",
    "runtime_version",
];

/// The copy and Spark arguments as written.
#[derive(Default)]
pub struct KindArgs {
    pub copy: Once<()>,
    pub spark: Once<()>,
    pub copy_mode: Once<LitStr>,
    pub entry: Once<LitStr>,
    pub py_files: Once<Vec<LitStr>>,
    pub conf: Once<Vec<(LitStr, LitStr)>>,
    pub driver_cores: Once<LitInt>,
    pub driver_memory: Once<LitStr>,
    pub executor_cores: Once<LitInt>,
    pub executor_memory: Once<LitStr>,
    pub executor_instances: Once<LitInt>,
    pub runtime_version: Once<LitStr>,
}

/// Reads one of [`KEYS`]; `false` when `key` is not one of them.
pub fn parse_key(
    cx: &mut Ctxt,
    meta: &syn::meta::ParseNestedMeta,
    key: &str,
    span: Span,
    out: &mut KindArgs,
) -> bool {
    macro_rules! string {
        ($field:ident) => {
            if let Some(v) = string_value(cx, meta, key) {
                out.$field.set(cx, "step", key, span, v);
            }
        };
    }
    macro_rules! int {
        ($field:ident) => {
            if let Some(v) = int_value(cx, meta, key) {
                out.$field.set(cx, "step", key, span, v);
            }
        };
    }
    match key {
        "copy" | "spark" => {
            if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                cx.error_spanned_by(
                    &meta.path,
                    format!(
                        "`{key}` is a bare word that picks the step's form: `#[step({key}, …)]`"
                    ),
                );
                let _ = skip_value(meta);
            }
            let flag = if key == "copy" {
                &mut out.copy
            } else {
                &mut out.spark
            };
            flag.set(cx, "step", key, span, ());
        }
        "copy_mode" => string!(copy_mode),
        "entry" => string!(entry),
        "driver_memory" => string!(driver_memory),
        "executor_memory" => string!(executor_memory),
        "runtime_version" => string!(runtime_version),
        "driver_cores" => int!(driver_cores),
        "executor_cores" => int!(executor_cores),
        "executor_instances" => int!(executor_instances),
        "py_files" => {
            if let Some(list) = string_list(cx, meta, key) {
                out.py_files.set(cx, "step", key, span, list);
            }
        }
        "conf" => {
            if let Some(pairs) = conf(cx, meta) {
                out.conf.set(cx, "step", key, span, pairs);
            }
        }
        _ => return false,
    }
    true
}

/// `= ["a.py", "b.py"]`.
fn string_list(cx: &mut Ctxt, meta: &syn::meta::ParseNestedMeta, key: &str) -> Option<Vec<LitStr>> {
    let hint = format!("`{key}` expects a list of strings: `{key} = [\"utils.py\"]`");
    if !meta.input.peek(syn::Token![=]) {
        cx.error_spanned_by(&meta.path, &hint);
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
    let syn::Expr::Array(array) = expr else {
        cx.error_spanned_by(&expr, hint);
        return None;
    };
    let mut out = Vec::new();
    for elem in array.elems {
        match elem {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => out.push(s),
            other => cx.error_spanned_by(&other, &hint),
        }
    }
    Some(out)
}

/// `conf("spark.sql.shuffle.partitions" = "8", …)`: Spark keys have dots, so they are strings.
fn conf(cx: &mut Ctxt, meta: &syn::meta::ParseNestedMeta) -> Option<Vec<(LitStr, LitStr)>> {
    const HINT: &str = "`conf` expects Spark settings as strings: `conf(\"spark.sql.shuffle.partitions\" = \"8\")`";
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(&meta.path, HINT);
        let _ = skip_value(meta);
        return None;
    }
    fn entries(
        input: syn::parse::ParseStream,
    ) -> syn::Result<syn::punctuated::Punctuated<(LitStr, LitStr), syn::Token![,]>> {
        let content;
        syn::parenthesized!(content in input);
        content.parse_terminated(
            |input| {
                let key: LitStr = input.parse()?;
                input.parse::<syn::Token![=]>()?;
                let value: LitStr = input.parse()?;
                Ok((key, value))
            },
            syn::Token![,],
        )
    }
    let parsed = entries(meta.input);
    match parsed {
        Ok(list) => Some(list.into_iter().collect()),
        Err(e) => {
            cx.push(syn::Error::new(e.span(), format!("{e}; {HINT}")));
            None
        }
    }
}
