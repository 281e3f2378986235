//! The copy and Spark forms of `#[step]`: `#[step(copy, …)]` (Azure ML's `data_transfer` node,
//! task `copy_data`) and `#[step(spark, …)]` (its `spark` node). Their own arguments are read
//! in `kind_args.rs` and checked here against the ports and the arguments of the command form they do not take.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{LitInt, LitStr};

pub use super::kind_args::{KEYS, KindArgs, parse_key};

use super::model::OutputModel;
use super::parse::StepArgs;
use crate::attr::Once;
use crate::ctx::Ctxt;
use crate::sig::{InputMode, Port};

const COPY_MODES: &[&str] = &["merge_with_overwrite", "fail_if_conflict"];

/// The five Spark settings that have their own argument.
const RESOURCE_CONF: &[(&str, &str)] = &[
    ("spark.driver.cores", "driver_cores"),
    ("spark.driver.memory", "driver_memory"),
    ("spark.executor.cores", "executor_cores"),
    ("spark.executor.memory", "executor_memory"),
    ("spark.executor.instances", "executor_instances"),
];

/// Which form a step has.
pub enum KindModel {
    Command,
    Copy {
        mode: Option<String>,
    },
    Spark(SparkModel),
    /// A Rust step: its `StepKind` value, written by `rust_body`.
    Rust(TokenStream),
}

pub struct SparkModel {
    pub py_files: Vec<String>,
    pub conf: Vec<(String, String)>,
    pub driver_cores: u32,
    pub driver_memory: String,
    pub executor_cores: u32,
    pub executor_memory: String,
    pub executor_instances: u32,
    pub runtime_version: Option<String>,
}

impl KindModel {
    /// The runtime's `StepKind` value.
    pub fn tokens(&self, rt: &TokenStream) -> TokenStream {
        match self {
            KindModel::Command => quote!(#rt::StepKind::Command),
            KindModel::Rust(kind) => kind.clone(),
            KindModel::Copy { mode } => {
                let mode = match mode.as_deref() {
                    Some("merge_with_overwrite") => {
                        quote!(::core::option::Option::Some(#rt::CopyMode::MergeWithOverwrite))
                    }
                    Some(_) => quote!(::core::option::Option::Some(#rt::CopyMode::FailIfConflict)),
                    None => quote!(::core::option::Option::None),
                };
                quote!(#rt::StepKind::Copy(#rt::CopyStep { mode: #mode }))
            }
            KindModel::Spark(s) => {
                let py_files = &s.py_files;
                let conf = s.conf.iter().map(|(k, v)| quote!((#k, #v)));
                let (dc, dm, ec, em, ei) = (
                    s.driver_cores,
                    &s.driver_memory,
                    s.executor_cores,
                    &s.executor_memory,
                    s.executor_instances,
                );
                let runtime = match &s.runtime_version {
                    Some(v) => quote!(::core::option::Option::Some(#v)),
                    None => quote!(::core::option::Option::None),
                };
                quote!(#rt::StepKind::Spark(#rt::SparkStep {
                    py_files: &[#(#py_files),*],
                    conf: &[#(#conf),*],
                    driver_cores: #dc,
                    driver_memory: #dm,
                    executor_cores: #ec,
                    executor_memory: #em,
                    executor_instances: #ei,
                    runtime_version: #runtime,
                }))
            }
        }
    }
}

/// The spans of the command-form arguments that were written, read before validation moves
/// any of them.
pub struct Written {
    keys: Vec<(&'static str, Span)>,
}

impl Written {
    pub fn read(args: &StepArgs) -> Written {
        fn at<T>(keys: &mut Vec<(&'static str, Span)>, key: &'static str, once: &Once<T>) {
            if let Some((_, span)) = &once.value {
                keys.push((key, *span));
            }
        }
        let mut keys = Vec::new();
        at(&mut keys, "script", &args.script);
        at(&mut keys, "source_dir", &args.source_dir);
        at(&mut keys, "command", &args.command);
        at(&mut keys, "args", &args.args);
        at(&mut keys, "compute", &args.compute);
        at(&mut keys, "environment", &args.environment);
        at(&mut keys, "instance_count", &args.instance_count);
        at(&mut keys, "instance_type", &args.instance_type);
        at(&mut keys, "shm_size", &args.shm_size);
        at(&mut keys, "docker_args", &args.docker_args);
        at(&mut keys, "timeout", &args.timeout);
        at(&mut keys, "env", &args.env);
        let k = &args.kinds;
        at(&mut keys, "copy_mode", &k.copy_mode);
        at(&mut keys, "entry", &k.entry);
        at(&mut keys, "py_files", &k.py_files);
        at(&mut keys, "conf", &k.conf);
        at(&mut keys, "driver_cores", &k.driver_cores);
        at(&mut keys, "driver_memory", &k.driver_memory);
        at(&mut keys, "executor_cores", &k.executor_cores);
        at(&mut keys, "executor_memory", &k.executor_memory);
        at(&mut keys, "executor_instances", &k.executor_instances);
        at(&mut keys, "runtime_version", &k.runtime_version);
        Written { keys }
    }

    fn span(&self, key: &str) -> Option<Span> {
        self.keys.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
    }

    /// Reports each written key of `keys` as not taken by `form`.
    fn refuse(&self, cx: &mut Ctxt, form: &str, keys: &[&str], why: &str) {
        for (k, span) in &self.keys {
            if keys.contains(k) {
                cx.error_at(
                    *span,
                    format!("`{k}` does not apply to a {form} step; {why}"),
                );
            }
        }
    }
}

/// The form the arguments pick: `Some("copy")`, `Some("spark")`, or `None` for a command step.
pub fn form(cx: &mut Ctxt, k: &KindArgs) -> Option<&'static str> {
    match (&k.copy.value, &k.spark.value) {
        (Some(_), Some((_, span))) => {
            cx.error_at(
                *span,
                "a step is either `copy` or `spark`, not both; declare two steps",
            );
            // Checked as a copy, so that nothing asks for a command.
            Some("copy")
        }
        (Some(_), None) => Some("copy"),
        (None, Some(_)) => Some("spark"),
        (None, None) => None,
    }
}

/// What the checks of the copy and Spark forms read and write.
pub struct Form<'m, 'a> {
    pub inputs: &'m [Port],
    pub outputs: &'m [OutputModel],
    pub fn_span: Span,
    pub source_dir: Option<(&'a str, &'a std::path::Path)>,
    pub args: Option<&'a LitStr>,
}

/// Checks a copy step (`Some` with its model, when there was nothing wrong with the form).
pub fn copy(cx: &mut Ctxt, k: &KindArgs, written: &Written, f: &Form<'_, '_>) -> KindModel {
    written.refuse(
        cx,
        "copy",
        &[
            "script",
            "source_dir",
            "command",
            "args",
            "environment",
            "instance_count",
            "instance_type",
            "shm_size",
            "docker_args",
            "timeout",
            "env",
            "entry",
            "py_files",
            "conf",
            "driver_cores",
            "driver_memory",
            "executor_cores",
            "executor_memory",
            "executor_instances",
            "runtime_version",
        ],
        "a copy step runs no code of its own: Azure ML's Data Factory copies the data",
    );
    if written.span("compute").is_none() {
        cx.error_at(
            f.fn_span,
            "a copy step runs on a Data Factory compute attached to the workspace; give `compute = \"...\"`",
        );
    }
    let mode = k.copy_mode.get().and_then(|lit| {
        let v = lit.value();
        if COPY_MODES.contains(&v.as_str()) {
            return Some(v);
        }
        let hint = crate::names::did_you_mean(&v, COPY_MODES)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        cx.error_spanned_by(
            lit,
            format!("unknown `copy_mode` `{v}`; {hint}(expected `merge_with_overwrite` or `fail_if_conflict`)"),
        );
        None
    });
    for p in f.inputs {
        if p.param_of.is_some() {
            cx.error_spanned_by(
                &p.ty,
                format!(
                    "a copy step takes no parameters, only the data it copies; remove `{}`",
                    p.name
                ),
            );
        } else if p.optional {
            cx.error_spanned_by(
                &p.written_ty,
                "the input of a copy step cannot be optional: there would be nothing to copy",
            );
        } else if let Some(mode) = p.mode {
            let _ = mode;
            cx.error_spanned_by(
                &p.ident,
                "a copy step's input has no delivery mode: Data Factory reads it where it is; remove `#[mode(...)]`",
            );
        }
    }
    let data: Vec<&Port> = f.inputs.iter().filter(|p| p.param_of.is_none()).collect();
    if data.len() != 1 || f.outputs.len() != 1 {
        cx.error_at(
            f.fn_span,
            format!(
                "a copy step copies one data input to one output; this one takes {} and returns {}",
                plural(data.len(), "data input"),
                plural(f.outputs.len(), "output")
            ),
        );
    } else {
        let (i, o) = (data[0], &f.outputs[0]);
        if normalized(&i.ty) != normalized(&o.ty) {
            cx.error_spanned_by(
                &o.ty,
                format!(
                    "a copy step returns the kind of data it takes: `{}` is copied to `{}`; return `{}`",
                    normalized(&i.ty),
                    normalized(&o.ty),
                    normalized(&i.ty)
                ),
            );
        }
        if o.mode.is_some() {
            cx.error_at(
                f.fn_span,
                "a copy step's output has no delivery mode; remove `mode` from `outputs(...)`",
            );
        }
    }
    KindModel::Copy { mode }
}

/// Checks a Spark step; also gives its arguments template (the node's `args`).
pub fn spark(
    cx: &mut Ctxt,
    k: &KindArgs,
    written: &Written,
    f: &Form<'_, '_>,
    tracked: &mut Vec<String>,
) -> (KindModel, String) {
    written.refuse(
        cx,
        "spark",
        &[
            "script",
            "command",
            "instance_count",
            "shm_size",
            "docker_args",
            "timeout",
            "env",
            "environment",
            "copy_mode",
        ],
        "a Spark step runs in the Spark runtime and takes `entry`, `args`, `py_files`, `conf(...)`, the driver and executor settings, and `compute` or `instance_type` with `runtime_version`",
    );
    // Where it runs: an attached Synapse pool, or serverless Spark.
    let compute = written.span("compute");
    let instance_type = written.span("instance_type");
    let runtime = written.span("runtime_version");
    match (compute, instance_type, runtime) {
        (Some(_), None, None) | (None, Some(_), Some(_)) => {}
        (Some(c), _, _) => cx.error_at(
            c,
            "give either `compute` (an attached Synapse Spark pool) or `instance_type` with `runtime_version` (serverless Spark), not both",
        ),
        (None, Some(_), None) => cx.error_at(
            f.fn_span,
            "serverless Spark needs `runtime_version` with `instance_type`, such as `runtime_version = \"3.4\"`",
        ),
        (None, None, Some(r)) => cx.error_at(
            r,
            "serverless Spark needs `instance_type` with `runtime_version`, such as `instance_type = \"standard_e4s_v3\"`",
        ),
        (None, None, None) => cx.error_at(
            f.fn_span,
            "a Spark step runs on serverless Spark (`instance_type = \"standard_e4s_v3\", runtime_version = \"3.4\"`) or on an attached Synapse Spark pool (`compute = \"...\"`); give one",
        ),
    }
    // The entry file and the Python files, inside the code folder.
    let entry = k.entry.get();
    match (entry, f.source_dir) {
        (None, _) => cx.error_at(
            f.fn_span,
            "a Spark step needs `entry = \"main.py\"`: the file `spark-submit` runs, inside `source_dir`",
        ),
        (Some(lit), None) => cx.error_spanned_by(
            lit,
            "`entry` needs `source_dir = \"...\"`: the folder uploaded as the step's code, relative to the crate's root",
        ),
        (Some(lit), Some((dir, full))) if full.is_dir() && check_file(cx, "entry", lit, dir, full) => {
            tracked.push(format!("{dir}/{}", lit.value()));
        }
        _ => {}
    }
    let mut py_files = Vec::new();
    for lit in k.py_files.get().into_iter().flatten() {
        let v = lit.value();
        if let Some((dir, full)) = f.source_dir
            && full.is_dir()
            && check_file(cx, "py_files", lit, dir, full)
        {
            tracked.push(format!("{dir}/{v}"));
        }
        py_files.push(v);
    }
    // Resources.
    let count = |cx: &mut Ctxt, lit: Option<&LitInt>, key: &str| -> u32 {
        match lit {
            None => {
                cx.error_at(f.fn_span, missing(key));
                0
            }
            Some(lit) => match lit.base10_parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    cx.error_spanned_by(
                        lit,
                        format!("`{key}` must be a whole number of at least 1"),
                    );
                    0
                }
            },
        }
    };
    let driver_cores = count(cx, k.driver_cores.get(), "driver_cores");
    let executor_cores = count(cx, k.executor_cores.get(), "executor_cores");
    let executor_instances = count(cx, k.executor_instances.get(), "executor_instances");
    let memory = |cx: &mut Ctxt, lit: Option<&LitStr>, key: &str| -> String {
        match lit {
            None => {
                cx.error_at(f.fn_span, missing(key));
                String::new()
            }
            Some(lit) => {
                let v = lit.value();
                if !is_memory(&v) {
                    cx.error_spanned_by(
                        lit,
                        format!("`{key}` `{v}` is not a size; write a number with a unit `k`, `m`, `g` or `t`, such as `\"2g\"`"),
                    );
                }
                v
            }
        }
    };
    let driver_memory = memory(cx, k.driver_memory.get(), "driver_memory");
    let executor_memory = memory(cx, k.executor_memory.get(), "executor_memory");
    let mut conf = Vec::new();
    for (key, value) in k.conf.get().into_iter().flatten() {
        let name = key.value();
        if let Some((_, arg)) = RESOURCE_CONF.iter().find(|(c, _)| *c == name) {
            cx.error_spanned_by(
                key,
                format!("set `{name}` with `{arg} = ...`, not in `conf(...)`"),
            );
        } else if !name.starts_with("spark.") || name.contains(char::is_whitespace) {
            cx.error_spanned_by(
                key,
                format!("`{name}` is not a Spark setting; Spark settings start with `spark.`"),
            );
        } else if conf.iter().any(|(n, _): &(String, String)| *n == name) {
            cx.error_spanned_by(key, format!("duplicate `conf` entry `{name}`"));
        }
        conf.push((name, value.value()));
    }
    // Ports: Azure ML gives a Spark job its data as URIs only (`direct`).
    for p in f.inputs {
        if p.param_of.is_none()
            && let Some(mode) = p.mode
            && mode != InputMode::Direct
        {
            cx.error_spanned_by(
                &p.ident,
                format!(
                    "a Spark step reads input `{}` as a URI (`direct`), the only mode Azure ML gives Spark; remove `#[mode(...)]`",
                    p.name
                ),
            );
        }
    }
    if f.outputs.iter().any(|o| o.mode.is_some()) {
        cx.error_at(
            f.fn_span,
            "a Spark step writes its outputs through their URIs (`direct`), the only mode Azure ML gives Spark; remove `mode` from `outputs(...)`",
        );
    }
    let args = match f.args {
        Some(lit) => {
            super::model::check_placeholders(cx, lit, f.inputs, f.outputs);
            lit.value().trim().to_owned()
        }
        None => default_args(f.inputs, f.outputs),
    };
    let model = KindModel::Spark(SparkModel {
        py_files,
        conf,
        driver_cores,
        driver_memory,
        executor_cores,
        executor_memory,
        executor_instances,
        runtime_version: k.runtime_version.get().map(LitStr::value),
    });
    (model, args)
}

/// Checks that `lit` names a file inside the code folder; `true` when it does.
fn check_file(cx: &mut Ctxt, key: &str, lit: &LitStr, dir: &str, full: &std::path::Path) -> bool {
    let file = lit.value();
    let path = std::path::Path::new(&file);
    if file.is_empty()
        || path.is_absolute()
        || file.contains("..")
        || file.contains(char::is_whitespace)
    {
        cx.error_spanned_by(
            lit,
            format!("`{key}` names a file inside `source_dir`, relative to it and without spaces (e.g. `\"main.py\"`)"),
        );
        return false;
    }
    if full.join(path).is_file() {
        return true;
    }
    let mut found: Vec<String> = std::fs::read_dir(full)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    let refs: Vec<&str> = found.iter().map(String::as_str).collect();
    let hint = match crate::names::did_you_mean(&file, &refs) {
        Some(s) => format!("did you mean `{s}`?"),
        None if found.is_empty() => "it holds no files".to_owned(),
        None => format!(
            "it holds {}",
            refs.iter()
                .take(8)
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    cx.error_spanned_by(
        lit,
        format!("`{key}` file `{file}` does not exist in `{dir}`; {hint}"),
    );
    false
}

fn missing(key: &str) -> String {
    let example = match key {
        "driver_memory" | "executor_memory" => "\"2g\"",
        _ => "2",
    };
    format!(
        "a Spark step needs `{key}` (Azure ML requires the driver and executor settings): `{key} = {example}`"
    )
}

/// `--in ${{inputs.in}} … --out ${{outputs.out}}`, optional inputs in optional blocks.
fn default_args(inputs: &[Port], outputs: &[OutputModel]) -> String {
    let mut parts = Vec::new();
    for i in inputs {
        let n = &i.name;
        if i.optional {
            parts.push(format!("$[[--{n} ${{{{inputs.{n}}}}}]]"));
        } else {
            parts.push(format!("--{n} ${{{{inputs.{n}}}}}"));
        }
    }
    for o in outputs {
        parts.push(format!("--{0} ${{{{outputs.{0}}}}}", o.name));
    }
    parts.join(" ")
}

/// Spark's memory form: digits and a unit (`512m`, `2g`).
fn is_memory(v: &str) -> bool {
    let Some(unit) = v.chars().last() else {
        return false;
    };
    let digits = &v[..v.len() - unit.len_utf8()];
    "kmgtKMGT".contains(unit) && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A type as text without spaces, to compare two written types.
fn normalized(ty: &syn::Type) -> String {
    ty.to_token_stream()
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}
