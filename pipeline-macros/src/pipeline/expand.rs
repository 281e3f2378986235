//! Writes the pipeline fn: its body runs once inside a builder scope.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::PipelineModel;

fn opt_str(v: &Option<String>) -> TokenStream {
    match v {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

pub fn expand(m: &PipelineModel) -> TokenStream {
    let rt = &m.rt;
    let item = m.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let def = syn::Ident::new("__PIPELINE", Span::mixed_site());
    let call = syn::Ident::new("__call", Span::mixed_site());
    let ret_var = syn::Ident::new("__returned", Span::mixed_site());

    let name = &m.name;
    let display_name = opt_str(&m.display_name);
    let description = opt_str(&m.description);
    let experiment = opt_str(&m.experiment);
    let default_compute = opt_str(&m.default_compute);
    let default_datastore = opt_str(&m.default_datastore);
    let continue_on_step_failure = m.continue_on_step_failure;
    let tags = m.tags.iter().map(|(k, v)| quote!((#k, #v)));
    let properties = m.properties.iter().map(|(k, v)| quote!((#k, #v)));
    let default_environment = opt_str(&m.default_environment);
    let outputs = &m.outputs;
    let output_assets = m.output_assets.iter().map(|(name, version, path)| {
        let (name, version, path) = (opt_str(name), opt_str(version), opt_str(path));
        quote!(#rt::OutputAsset { name: #name, version: #version, path: #path })
    });

    let mut params = Vec::new();
    let mut input_defs = Vec::new();
    let mut ports = Vec::new();
    let mut rebinds = Vec::new();
    for (i, p) in m.inputs.iter().enumerate() {
        let pid = &p.ident;
        let ty = &p.ty;
        let pattrs = &p.other_attrs;
        let pname = &p.name;
        let idx = i as u32;
        let mode = match p.mode {
            Some(mode) => {
                let t = mode.tokens(rt);
                quote!(::core::option::Option::Some(#t))
            }
            None => quote!(::core::option::Option::None),
        };
        let default = match &p.default {
            Some(expr) => {
                let value = syn::Ident::new("__value", Span::mixed_site());
                // `#[default("text")]` on a `Param<String>`: the literal becomes a `String`.
                let string_param = p.param_of.as_ref().is_some_and(|t| {
                    crate::rules::param_kind(t) == crate::rules::ParamKind::String
                });
                let written = match expr {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(lit),
                        ..
                    }) if string_param => {
                        quote_spanned!(lit.span()=> ::std::string::String::from(#lit))
                    }
                    other => quote!(#other),
                };
                let typed = quote_spanned!(expr.span()=> let #value: <#ty as #rt::InputPort>::DefaultValue = #written;);
                let constant = quote!(<#ty as #rt::InputPort>::default_constant(#value));
                // A local file or folder named by a string literal is embedded, so that a binary
                // copied elsewhere still has it; only a data default is ever replaced by it.
                let embedded = match expr {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(lit),
                        ..
                    }) if p.param_of.is_none()
                        && !lit.value().contains("://")
                        && !lit.value().starts_with("azureml:") =>
                    {
                        crate::step::embed(&lit.value(), crate::step::DATA_DEFAULT)
                    }
                    _ => None,
                };
                let body = match &embedded {
                    Some(e) => {
                        let tree = syn::Ident::new("__EMBEDDED", Span::mixed_site());
                        let tree_static = crate::step::tree_static(rt, &tree, e);
                        quote! {
                            #tree_static
                            #rt::data_default(#constant, ::core::env!("CARGO_MANIFEST_DIR"), &#tree)
                        }
                    }
                    None => constant,
                };
                quote!(::core::option::Option::Some((|| {
                    #typed
                    #body
                }) as fn() -> #rt::DefaultValue))
            }
            None => quote!(::core::option::Option::None),
        };
        let port_type = quote_spanned!(ty.span()=> <#ty as #rt::InputPort>::PORT_TYPE);
        let rules = p.rules.tokens(rt, p.param_of.as_ref(), false);
        input_defs.push(quote! {
            #rt::PipelineInputDef { name: #pname, ty: #port_type, mode: #mode, default: #default, rules: #rules }
        });
        params.push(quote!(#(#pattrs)* #pid: #ty));
        ports.push(quote_spanned!(ty.span()=> <#ty as #rt::InputPort>::__port(&#pid)));
        rebinds.push(quote_spanned!(ty.span()=> let #pid: #ty = <#ty as #rt::InputPort>::__from_port(#call.input_port(#idx));));
    }
    let output = &item.sig.output;
    let body = &item.body;
    let closure = match &m.ret {
        Some(ty) => quote!((move || -> #ty #body)()),
        None => quote!((move || #body)()),
    };

    quote! {
        #(#attrs)*
        #vis fn #ident(#(#params),*) #output {
            static #def: #rt::PipelineDef = #rt::PipelineDef {
                name: #name,
                display_name: #display_name,
                description: #description,
                experiment: #experiment,
                default_compute: #default_compute,
                default_datastore: #default_datastore,
                continue_on_step_failure: #continue_on_step_failure,
                tags: &[#(#tags),*],
                properties: &[#(#properties),*],
                default_environment: #default_environment,
                manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
                inputs: &[#(#input_defs),*],
                outputs: &[#(#outputs),*],
                output_assets: &[#(#output_assets),*],
            };
            let #call = #rt::PipelineCall::enter(&#def, ::std::vec![#(#ports),*]);
            if let ::core::option::Option::Some(#ret_var) = #call.cut() {
                return #ret_var;
            }
            #(#rebinds)*
            let #ret_var = #closure;
            #call.finish(#ret_var)
        }
    }
}
