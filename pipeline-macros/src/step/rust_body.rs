//! The Rust form of `#[step]`: a fn with a body is a Rust step.
//!
//! The user's fn is read as a command step would be written: each `Input<K>` becomes a
//! `Data<K>` input, each `i64`/`f64`/`bool`/`String` a `Param<T>`, each `Output<K>` an output
//! returned as `Data<K>`, and the command is the hidden entry point's arguments
//! (`__step NAME --input k=${{inputs.k}} --param p=${{inputs.p}} --output o=${{outputs.o}}`).
//! That bodiless declaration goes through the command step's validation and expansion
//! unchanged; this file adds the body, moved into a hidden fn, and the `StepKind::Rust` value
//! that runs it.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{FnArg, Pat, ReturnType, Type};

use super::parse::{OutputSpec, StepArgs};
use crate::ctx::Ctxt;
use crate::sig::FnItem;

/// How the hidden runner reads one argument of the body from the entry point's arguments.
enum Read {
    Input(String),
    OptionalInput(String),
    Param(String),
    Output(String),
}

/// A Rust step, read: the equivalent bodiless declaration and what the body needs.
pub struct RustForm {
    /// The fn as a command step: `Data<K>`/`Param<T>` ports, outputs returned, no body.
    pub declaration: FnItem,
    reads: Vec<Read>,
    body_hash: String,
    version: Option<String>,
}

const UNSUPPORTED: &str = "a Rust step takes `Input<K>` (a data input), `Option<Input<K>>` (an optional one), `Output<K>` (an output) or a parameter of type `i64`, `f64`, `bool` or `String`";

/// Reads the fn with a body as a Rust step; `None` after reporting what is wrong. Sets the
/// step's `outputs` and `command` arguments for the command step's validation.
pub fn read(cx: &mut Ctxt, args: &mut StepArgs, item: &FnItem) -> Option<RustForm> {
    let body = item.body.as_ref()?;
    // Taken out once reported, so the command step's checks do not report them again.
    for (key, span) in [
        ("command", args.command.value.take().map(|v| v.1)),
        ("script", args.script.value.take().map(|v| v.1)),
        ("source_dir", args.source_dir.value.take().map(|v| v.1)),
        ("args", args.args.value.take().map(|v| v.1)),
        ("output", args.output.value.take().map(|v| v.1)),
        ("outputs", args.outputs.value.take().map(|v| v.1)),
    ] {
        if let Some(span) = span {
            let what = if key.starts_with("output") {
                "its outputs are its `Output<K>` parameters"
            } else {
                "its body is what runs"
            };
            cx.error_at(
                span,
                format!(
                    "`{key}` applies to command steps (a fn without a body); in a Rust step {what}"
                ),
            );
        }
    }
    check_return(cx, &item.sig);

    let rt = crate::attr::runtime_path(args.krate.get());
    let mut reads = Vec::new();
    let mut inputs = Vec::new();
    let mut outputs: Vec<(syn::Ident, Type)> = Vec::new();
    for arg in &item.sig.inputs {
        let FnArg::Typed(typed) = arg else {
            // `self`: reported by the port reader on the declaration.
            inputs.push(arg.clone());
            continue;
        };
        let Pat::Ident(pat) = &*typed.pat else {
            inputs.push(arg.clone());
            continue;
        };
        let name = pat.ident.unraw().to_string();
        let ty = &*typed.ty;
        let mut port = typed.clone();
        if let Some(kind) = generic_of(ty, "Input") {
            port.ty = Box::new(syn::parse_quote_spanned!(ty.span()=> #rt::Data<#kind>));
            reads.push(Read::Input(name));
        } else if let Some(kind) = crate::sig::option_inner(ty)
            .as_ref()
            .and_then(|inner| generic_of(inner, "Input"))
        {
            port.ty = Box::new(syn::parse_quote_spanned!(ty.span()=>
                ::core::option::Option<#rt::Data<#kind>>
            ));
            reads.push(Read::OptionalInput(name));
        } else if let Some(kind) = generic_of(ty, "Output") {
            if let Some(attr) = typed.attrs.first() {
                cx.error_spanned_by(
                    attr,
                    format!(
                        "output `{name}` takes no attributes; `#[mode]` and rules apply to inputs"
                    ),
                );
            }
            outputs.push((
                pat.ident.clone(),
                syn::parse_quote_spanned!(ty.span()=> #rt::Data<#kind>),
            ));
            reads.push(Read::Output(name));
            continue;
        } else if is_scalar(ty) {
            port.ty = Box::new(syn::parse_quote_spanned!(ty.span()=> #rt::Param<#ty>));
            reads.push(Read::Param(name));
        } else {
            let hint = if generic_of(ty, "Data").is_some() {
                "; inside a Rust step a data input is written `Input<K>` (a path), not `Data<K>`"
            } else if crate::sig::param_inner(ty).is_some() {
                "; inside a Rust step a parameter is written as its plain type (`epochs: i64`), not `Param<T>`"
            } else if matches!(ty, Type::Reference(_)) {
                "; take a `String` instead of a reference"
            } else {
                ""
            };
            cx.error_spanned_by(
                ty,
                format!(
                    "unsupported parameter type `{}` for a Rust step; {UNSUPPORTED}{hint}",
                    compact(ty)
                ),
            );
            continue;
        }
        inputs.push(FnArg::Typed(port));
    }

    // The declaration: ports as a command step has them, outputs returned.
    let mut sig = item.sig.clone();
    sig.inputs = inputs.into_iter().collect();
    sig.output = match outputs.len() {
        0 => ReturnType::Default,
        1 => {
            let t = &outputs[0].1;
            syn::parse_quote!(-> #t)
        }
        _ => {
            let ts = outputs.iter().map(|o| &o.1);
            syn::parse_quote!(-> (#(#ts),*))
        }
    };
    if !outputs.is_empty() {
        let list = outputs
            .iter()
            .map(|(id, _)| OutputSpec {
                name: id.unraw().to_string(),
                span: id.span(),
                mode: None,
            })
            .collect();
        args.outputs.value = Some((list, Span::call_site()));
    }
    let name = args
        .name
        .get()
        .map(syn::LitStr::value)
        .unwrap_or_else(|| item.sig.ident.unraw().to_string());
    let command = command(&name, &reads);
    args.command.value = Some((
        syn::LitStr::new(&command, Span::call_site()),
        Span::call_site(),
    ));

    // Taken here: on a command step, `version` is an error.
    let version = args.version.value.take().map(|(lit, _)| {
        let v = lit.value();
        if v.trim().is_empty() || v.chars().any(char::is_control) {
            cx.error_spanned_by(
                &lit,
                "`version` is a label such as `\"2\"` or `\"2024-06-01\"`",
            );
        }
        v
    });
    let sig_tokens = &item.sig;
    let body_hash = fnv128(quote!(#sig_tokens #body).to_string().as_bytes());
    Some(RustForm {
        declaration: FnItem {
            attrs: item.attrs.clone(),
            vis: item.vis.clone(),
            sig,
            body: None,
        },
        reads,
        body_hash,
        version,
    })
}

/// The body as a hidden fn, its runner, and the `StepKind::Rust` value naming them.
pub fn expand(rt: &TokenStream, item: &FnItem, form: &RustForm) -> (TokenStream, TokenStream) {
    let body_fn = syn::Ident::new("__body", Span::mixed_site());
    let run_fn = syn::Ident::new("__run", Span::mixed_site());
    let args = syn::Ident::new("__args", Span::mixed_site());
    let mut sig = item.sig.clone();
    sig.ident = body_fn.clone();
    for arg in sig.inputs.iter_mut() {
        if let FnArg::Typed(t) = arg {
            t.attrs.retain(|a| {
                !["mode", "min", "max", "allowed"]
                    .iter()
                    .any(|k| a.path().is_ident(k))
            });
        }
    }
    let body = &item.body;
    let reads = form.reads.iter().map(|r| match r {
        Read::Input(n) => quote!(#args.input(#n)?),
        Read::OptionalInput(n) => quote!(#args.optional_input(#n)?),
        Read::Param(n) => quote!(#args.param(#n)?),
        Read::Output(n) => quote!(#args.output(#n)?),
    });
    let ret_span = crate::sig::ret_span(&item.sig);
    let call = quote_spanned!(ret_span=> #rt::step_result(#body_fn(#(#reads),*)));
    let items = quote! {
        #sig #body
        fn #run_fn(#args: &#rt::RustStepArgs) -> ::core::result::Result<(), ::std::string::String> {
            #call
        }
    };
    let hash = &form.body_hash;
    let version = match &form.version {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let kind = quote! {
        #rt::StepKind::Rust(#rt::RustStep {
            run: #run_fn,
            body_hash: #hash,
            version: #version,
            crate_name: ::core::env!("CARGO_PKG_NAME"),
            crate_version: ::core::env!("CARGO_PKG_VERSION"),
        })
    };
    (items, kind)
}

/// The entry point's arguments, with Azure ML's placeholders; an optional input sits in an
/// optional block, left out when the input is not given.
fn command(name: &str, reads: &[Read]) -> String {
    let mut cmd = format!("__step {name}");
    for r in reads {
        match r {
            Read::Input(n) => cmd.push_str(&format!(" --input {n}=${{{{inputs.{n}}}}}")),
            Read::OptionalInput(n) => {
                cmd.push_str(&format!(" $[[--input {n}=${{{{inputs.{n}}}}}]]"))
            }
            Read::Param(n) => cmd.push_str(&format!(" --param {n}=${{{{inputs.{n}}}}}")),
            Read::Output(_) => {}
        }
    }
    for r in reads {
        if let Read::Output(n) = r {
            cmd.push_str(&format!(" --output {n}=${{{{outputs.{n}}}}}"));
        }
    }
    cmd
}

fn check_return(cx: &mut Ctxt, sig: &syn::Signature) {
    const FIX: &str = "a Rust step's body returns `Result<(), E>` where `E` shows as text (`std::io::Error`, `String`, `Box<dyn std::error::Error>`); write `-> Result<(), std::io::Error>` and end the body with `Ok(())`";
    match &sig.output {
        ReturnType::Default => cx.error_at(sig.ident.span(), FIX),
        ReturnType::Type(_, ty) => {
            let is_result = matches!(&**ty, Type::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == "Result"));
            if !is_result {
                cx.error_spanned_by(ty, FIX);
            }
        }
    }
}

/// `Some(K)` when `ty` is written `Name<K>` (any path ending in `Name`).
fn generic_of(ty: &Type, name: &str) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) if args.args.len() == 1 => Some(t.clone()),
        _ => None,
    }
}

/// `i64`, `f64`, `bool`, `String` (also `std::string::String`).
fn is_scalar(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    if p.qself.is_some() {
        return false;
    }
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    if !last.arguments.is_empty() {
        return false;
    }
    let id = last.ident.to_string();
    match p.path.segments.len() {
        1 => ["i64", "f64", "bool", "String"].contains(&id.as_str()),
        _ => id == "String",
    }
}

/// The type as written, without the spaces `to_string` puts between tokens.
fn compact(ty: &Type) -> String {
    quote!(#ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace("& ", "&")
}

/// FNV-1a, 128 bits, as hex: a stable digest of the fn's tokens (not a security boundary:
/// it tells whether the body changed).
fn fnv128(bytes: &[u8]) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    format!("{h:032x}")
}
