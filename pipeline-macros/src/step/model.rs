//! The validated description of a step: everything `expand` needs, nothing it must check.

use std::path::{Path, PathBuf};

use proc_macro2::Span;
use syn::{LitStr, Type};

use super::parse::{EnvironmentArg, OutputMode, StepArgs};
use crate::ctx::Ctxt;
use crate::names;
use crate::sig::{self, FnItem, Port, Ret};

pub struct OutputModel {
    pub name: String,
    pub ty: Type,
    pub mode: Option<OutputMode>,
}

pub struct StepModel<'a> {
    pub item: &'a FnItem,
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub command: String,
    pub script: Option<String>,
    pub source_dir: Option<String>,
    pub compute: Option<String>,
    /// The environment: a string literal, or the path of a `const` holding one.
    pub environment: Option<proc_macro2::TokenStream>,
    pub reuse: bool,
    pub instance_count: Option<u32>,
    pub instance_type: Option<String>,
    pub shm_size: Option<String>,
    pub docker_args: Option<String>,
    /// Seconds.
    pub timeout: Option<u64>,
    pub env: Vec<(String, String)>,
    pub inputs: Vec<Port>,
    pub outputs: Vec<OutputModel>,
    pub ret_is_tuple: bool,
    /// Files the step depends on, relative to the manifest dir (tracked for rebuilds).
    pub tracked: Vec<String>,
    /// `<crate>::__private`, the generated code's way into the runtime.
    pub rt: proc_macro2::TokenStream,
    /// Command, copy, Spark or Rust.
    pub kind: super::kinds::KindModel,
    /// Items emitted inside the step fn before its body (a Rust step's hidden body fn).
    pub items: proc_macro2::TokenStream,
}

pub fn validate<'a>(cx: &mut Ctxt, args: StepArgs, item: &'a FnItem) -> Option<StepModel<'a>> {
    if let Some(lit) = args.version.get() {
        cx.error_spanned_by(
            lit,
            "`version` applies to Rust steps (a `#[step]` fn with a body); a command step's identity is its command and snapshot",
        );
    }
    let inputs = sig::ports(cx, "step", &item.sig, false);
    // The copy and Spark forms (`kinds.rs`), read before any argument is moved.
    let written = super::kinds::Written::read(&args);
    let form = super::kinds::form(cx, &args.kinds);

    // Name.
    let name = match args.name.get() {
        Some(lit) => {
            let n = lit.value();
            if let Err(msg) = names::check_component_name(&n) {
                cx.error_spanned_by(lit, msg);
            }
            n
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
    let display_name = non_empty(cx, args.display_name.get(), "display_name");
    let description =
        non_empty(cx, args.description.get(), "description").or_else(|| sig::doc_text(&item.attrs));

    // Outputs.
    let ret = sig::ret(&item.sig.output);
    let ret_types: Vec<Type> = ret.types().into_iter().cloned().collect();
    let ret_is_tuple = matches!(ret, Ret::Tuple(_));
    let mut outputs = Vec::new();
    match (args.output.take(), args.outputs.take()) {
        (Some((lit, span)), Some(_)) => {
            let _ = lit;
            cx.error_at(span, "give either `output = \"...\"` or `outputs(...)`, not both");
        }
        (Some((lit, _)), None) => {
            if ret_types.len() != 1 {
                cx.error_spanned_by(
                    &lit,
                    format!(
                        "`output` names one output, but the step returns {}; use `outputs(...)` with one name per returned handle",
                        count(ret_types.len())
                    ),
                );
            } else {
                outputs.push(OutputModel {
                    name: lit.value(),
                    ty: ret_types[0].clone(),
                    mode: None,
                });
                check_port(cx, &lit.value(), lit.span());
            }
        }
        (None, Some((list, span))) => {
            if list.len() != ret_types.len() {
                cx.error_at(
                    span,
                    format!(
                        "`outputs` names {} but the step returns {}",
                        count(list.len()),
                        count(ret_types.len())
                    ),
                );
            } else {
                for (spec, ty) in list.into_iter().zip(ret_types.iter()) {
                    check_port(cx, &spec.name, spec.span);
                    if outputs.iter().any(|o: &OutputModel| o.name == spec.name) {
                        cx.error_at(spec.span, format!("duplicate output name `{}`", spec.name));
                    }
                    outputs.push(OutputModel {
                        name: spec.name,
                        ty: ty.clone(),
                        mode: spec.mode,
                    });
                }
            }
        }
        (None, None) => match ret_types.len() {
            0 => {}
            1 => outputs.push(OutputModel {
                name: "output".to_owned(),
                ty: ret_types[0].clone(),
                mode: None,
            }),
            n => cx.error_at(
                sig::ret_span(&item.sig),
                format!(
                    "the step returns {n} outputs; name them with `outputs(first, second, ...)` in `#[step(...)]`"
                ),
            ),
        },
    }
    for o in &outputs {
        if let Some(i) = inputs.iter().find(|i| i.name == o.name) {
            cx.error_spanned_by(
                &i.ident,
                format!(
                    "`{}` is both an input and an output; port names must be unique",
                    o.name
                ),
            );
        }
    }

    // Command.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let mut tracked = Vec::new();
    let source_dir = args.source_dir.get().map(|lit| {
        let dir = lit.value();
        let full = Path::new(&manifest_dir).join(&dir);
        if dir.is_empty() || Path::new(&dir).is_absolute() {
            cx.error_spanned_by(
                lit,
                "`source_dir` is a folder relative to the crate's root (`CARGO_MANIFEST_DIR`), e.g. `\"src/steps/prep\"`",
            );
        } else if !full.is_dir() {
            cx.error_spanned_by(
                lit,
                format!(
                    "`source_dir` `{dir}` is not a folder; it is relative to the root of {}, the folder of its `Cargo.toml`",
                    crate::attr::crate_name()
                ),
            );
        }
        (dir, full, lit.span())
    });
    let script = args
        .script
        .get()
        .map(|lit| (lit.value(), lit.span(), lit.clone()));
    let command = match (&script, args.command.get()) {
        (Some(_), Some(cmd)) => {
            cx.error_spanned_by(
                cmd,
                "give either `script = \"...\"` (run with `python`) or `command = \"...\"`, not both",
            );
            None
        }
        (None, None) => {
            if !args.unknown_written && form.is_none() {
                cx.error_at(
                    Span::call_site(),
                    "a `#[step]` needs `script = \"train.py\"` with `source_dir = \"...\"`, or a `command = \"...\"`",
                );
            }
            None
        }
        (None, Some(cmd)) => {
            if let Some(a) = args.args.get() {
                cx.error_spanned_by(
                    a,
                    "`args` applies to `script`; with `command`, write the arguments in the command",
                );
            }
            let text = cmd.value();
            if text.trim().is_empty() {
                cx.error_spanned_by(cmd, "`command` is empty");
            }
            check_placeholders(cx, cmd, &inputs, &outputs);
            Some(text)
        }
        (Some((script, span, lit)), None) => {
            let script = script.clone();
            match &source_dir {
                None if args.unknown_written => {}
                None => {
                    cx.error_spanned_by(
                        lit,
                        "`script` needs `source_dir = \"...\"`: the folder uploaded as the step's snapshot, relative to the crate's root",
                    );
                }
                Some((dir, full, _)) if full.is_dir() => {
                    check_script(cx, &script, dir, full, *span);
                    tracked.push(format!("{dir}/{script}"));
                }
                Some(_) => {}
            }
            let command = match args.args.get() {
                Some(a) => {
                    check_placeholders(cx, a, &inputs, &outputs);
                    format!("python {script} {}", a.value().trim())
                }
                None => default_command(&script, &inputs, &outputs),
            };
            Some(command)
        }
    };

    let compute = args.compute.get().map(|lit| {
        if let Err(msg) = names::check_compute_name(&lit.value()) {
            cx.error_spanned_by(lit, msg);
        }
        lit.value()
    });
    let environment = match args.environment.get() {
        Some(EnvironmentArg::Literal(lit)) => {
            if let Err(msg) = names::check_environment(&lit.value()) {
                cx.error_spanned_by(lit, msg);
            }
            let value = lit.value();
            Some(quote::quote!(#value))
        }
        Some(EnvironmentArg::Const(path)) => Some(quote::quote!(#path)),
        // The pipeline's `default_environment`, checked when the pipeline is built.
        None => None,
    };
    let timeout = args
        .timeout
        .get()
        .and_then(|lit| match lit.base10_parse::<u64>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                cx.error_spanned_by(
                    lit,
                    "`timeout` is a whole number of seconds, at least 1: `timeout = 3600`",
                );
                None
            }
        });
    let resource = |cx: &mut Ctxt, lit: Option<&LitStr>, key: &str| {
        let lit = lit?;
        let v = lit.value();
        if v.trim().is_empty() {
            cx.error_spanned_by(lit, format!("`{key}` is empty"));
        }
        Some(v)
    };
    let instance_type = resource(cx, args.instance_type.get(), "instance_type");
    let docker_args = resource(cx, args.docker_args.get(), "docker_args");
    let shm_size = args.shm_size.get().map(|lit| {
        let v = lit.value();
        if !is_shm_size(&v) {
            cx.error_spanned_by(
                lit,
                format!("`shm_size` `{v}` is not a size; write a number with a unit `b`, `k`, `m` or `g`, such as `\"2g\"`"),
            );
        }
        v
    });
    let instance_count =
        args.instance_count
            .get()
            .and_then(|lit| match lit.base10_parse::<u32>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    cx.error_spanned_by(
                        lit,
                        "`instance_count` must be a whole number of at least 1",
                    );
                    None
                }
            });
    let env = args
        .env
        .take()
        .map(|(v, _)| v.into_iter().map(|(k, lit)| (k, lit.value())).collect())
        .unwrap_or_default();

    let mut command = command;
    let mut script = script.map(|s| s.0);
    let form_args = super::kinds::Form {
        inputs: &inputs,
        outputs: &outputs,
        fn_span: item.sig.ident.span(),
        source_dir: source_dir
            .as_ref()
            .map(|(dir, full, _)| (dir.as_str(), full.as_path())),
        args: args.args.get(),
    };
    let kind = match form {
        None => super::kinds::KindModel::Command,
        Some("copy") => {
            command = Some(String::new());
            super::kinds::copy(cx, &args.kinds, &written, &form_args)
        }
        Some(_) => {
            let (kind, spark_args) =
                super::kinds::spark(cx, &args.kinds, &written, &form_args, &mut tracked);
            command = Some(spark_args);
            script = args.kinds.entry.get().map(LitStr::value);
            kind
        }
    };

    if cx.has_errors() {
        return None;
    }
    Some(StepModel {
        item,
        name,
        display_name,
        description,
        command: command?,
        script,
        source_dir: source_dir.map(|s| s.0),
        compute,
        environment,
        reuse: args.reuse.get().is_none_or(|b| b.value),
        instance_count,
        instance_type,
        shm_size,
        docker_args,
        timeout,
        env,
        inputs,
        outputs,
        ret_is_tuple,
        tracked,
        rt: crate::attr::runtime_path(args.krate.get()),
        kind,
        items: proc_macro2::TokenStream::new(),
    })
}

fn count(n: usize) -> String {
    match n {
        0 => "no outputs".to_owned(),
        1 => "1 output".to_owned(),
        n => format!("{n} outputs"),
    }
}

fn non_empty(cx: &mut Ctxt, lit: Option<&syn::LitStr>, key: &str) -> Option<String> {
    let lit = lit?;
    let v = lit.value();
    if v.trim().is_empty() {
        cx.error_spanned_by(lit, format!("`{key}` is empty"));
    }
    Some(v)
}

fn check_port(cx: &mut Ctxt, name: &str, span: Span) {
    if let Err(msg) = names::check_port_name(name) {
        cx.error_at(span, msg);
    }
}

fn check_script(cx: &mut Ctxt, script: &str, dir: &str, full_dir: &Path, span: Span) {
    if script.is_empty() || Path::new(script).is_absolute() || script.contains("..") {
        cx.error_at(
            span,
            "`script` is a file inside `source_dir`, written relative to it (e.g. `\"train.py\"`)",
        );
        return;
    }
    if script.chars().any(char::is_whitespace) {
        cx.error_at(span, "`script` must not contain spaces");
        return;
    }
    let path: PathBuf = full_dir.join(script);
    if !path.is_file() {
        let mut found: Vec<String> = std::fs::read_dir(full_dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        let listing = if found.is_empty() {
            "it holds no files".to_owned()
        } else {
            let refs: Vec<&str> = found.iter().map(String::as_str).collect();
            match names::did_you_mean(script, &refs) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "it holds {}",
                    found
                        .iter()
                        .take(8)
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        };
        cx.error_at(
            span,
            format!("script `{script}` does not exist in `{dir}`; {listing}"),
        );
    }
}

/// Docker's `--shm-size` form: digits and a unit (`2g`, `512m`), as Azure ML takes it.
fn is_shm_size(v: &str) -> bool {
    let digits = v.trim_end_matches(|c: char| "bkmgBKMG".contains(c));
    !digits.is_empty() && digits.len() + 1 >= v.len() && digits.chars().all(|c| c.is_ascii_digit())
}

fn default_command(script: &str, inputs: &[Port], outputs: &[OutputModel]) -> String {
    let mut cmd = format!("python {script}");
    for i in inputs {
        let n = &i.name;
        if i.optional {
            // Azure ML's optional argument: left out when the input is not given.
            cmd.push_str(&format!(" $[[--{n} ${{{{inputs.{n}}}}}]]"));
        } else {
            cmd.push_str(&format!(" --{n} ${{{{inputs.{n}}}}}"));
        }
    }
    for o in outputs {
        cmd.push_str(&format!(" --{0} ${{{{outputs.{0}}}}}", o.name));
    }
    cmd
}

/// Checks every `${{inputs.x}}` / `${{outputs.y}}` in a command template against the ports.
///
/// Each error is spanned on the placeholder itself where the compiler can point inside a string
/// literal (`proc_macro`'s `Literal::subspan`, nightly only today); else on the whole string,
/// with the line of the string underlined under the placeholder in the message itself.
pub(super) fn check_placeholders(
    cx: &mut Ctxt,
    lit: &LitStr,
    inputs: &[Port],
    outputs: &[OutputModel],
) {
    let text = lit.value();
    let input_names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let output_names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
    let mut offset = 0;
    while let Some(found) = text[offset..].find("${{") {
        let start = offset + found;
        let after = &text[start + 3..];
        let Some(end) = after.find("}}") else {
            placeholder_error(
                cx,
                lit,
                start..text.len(),
                "unclosed `${{` placeholder; write `${{inputs.NAME}}` or `${{outputs.NAME}}`",
            );
            return;
        };
        let inner = after[..end].trim();
        offset = start + 3 + end + 2;
        let range = start..offset;
        let ports = || {
            let mut parts = Vec::new();
            if !input_names.is_empty() {
                parts.push(format!(
                    "inputs {}",
                    input_names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !output_names.is_empty() {
                parts.push(format!(
                    "outputs {}",
                    output_names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if parts.is_empty() {
                "the step has no ports".to_owned()
            } else {
                format!("the step has {}", parts.join(" and "))
            }
        };
        let in_block = text[..start]
            .rfind("$[[")
            .is_some_and(|open| text[open..start].find("]]").is_none());
        match inner.split_once('.') {
            Some(("inputs", n))
                if !in_block && inputs.iter().any(|i| i.optional && i.name == n) =>
            {
                placeholder_error(
                    cx,
                    lit,
                    range,
                    format!(
                        "optional input `{n}` is used outside an optional block; write `$[[--{n} ${{{{inputs.{n}}}}}]]`, which is left out when the input is not given"
                    ),
                );
            }
            Some(("inputs", n)) if input_names.contains(&n) => {}
            Some(("outputs", n)) if output_names.contains(&n) => {}
            Some(("inputs", n)) | Some(("outputs", n)) => {
                let all: Vec<&str> = input_names.iter().chain(&output_names).copied().collect();
                let hint = names::did_you_mean(n, &all)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                placeholder_error(
                    cx,
                    lit,
                    range,
                    format!(
                        "placeholder `${{{{{inner}}}}}` names no port; {hint}{}",
                        ports()
                    ),
                );
            }
            _ => placeholder_error(
                cx,
                lit,
                range,
                format!(
                    "placeholder `${{{{{inner}}}}}` is not `${{{{inputs.NAME}}}}` or `${{{{outputs.NAME}}}}`"
                ),
            ),
        }
    }
}

/// Reports `message` about `range` (byte offsets into the string's value): on the placeholder's
/// own span where the compiler can point inside the literal, else on the whole literal with the
/// line of the value that holds the placeholder, underlined, after the message.
fn placeholder_error(
    cx: &mut Ctxt,
    lit: &LitStr,
    range: std::ops::Range<usize>,
    message: impl std::fmt::Display,
) {
    match value_span(lit, range.clone()) {
        Some(span) => cx.error_at(span, message),
        None => cx.error_at(
            lit.span(),
            format!("{message}\n{}", underline(&lit.value(), range)),
        ),
    }
}

/// The line of `text` holding `range`, and a line of `^` under `range` (in characters, so
/// non-ASCII text lines up), both indented by two spaces.
fn underline(text: &str, range: std::ops::Range<usize>) -> String {
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[range.start..]
        .find('\n')
        .map_or(text.len(), |i| range.start + i);
    let end = range.end.min(line_end);
    let line = &text[line_start..line_end];
    let pad = text[line_start..range.start].chars().count();
    let width = text[range.start..end].chars().count().max(1);
    format!("  {line}\n  {}{}", " ".repeat(pad), "^".repeat(width))
}

/// The span of `range` (byte offsets into the string's value) inside the literal's tokens, when
/// the literal holds the value verbatim (no escapes) and the compiler can point inside a
/// literal.
fn value_span(lit: &LitStr, range: std::ops::Range<usize>) -> Option<Span> {
    let token = lit.token();
    let source = token.to_string();
    let value = lit.value();
    // `"..."` or `r#"..."#`: the value starts after the first quote.
    let prefix = source.find('"')? + 1;
    if source.get(prefix..prefix + value.len()) != Some(value.as_str()) {
        return None;
    }
    token.subspan(prefix + range.start..prefix + range.end)
}
