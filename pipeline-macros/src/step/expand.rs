//! Writes the step fn: same name, visibility and ports; its body records a node.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::StepModel;
use super::parse::OutputMode;

fn opt_str(v: &Option<String>) -> TokenStream {
    match v {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

pub fn expand(m: &StepModel) -> TokenStream {
    let rt = &m.rt;
    let item = m.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let def = syn::Ident::new("__STEP", Span::mixed_site());
    let call = syn::Ident::new("__call", Span::mixed_site());
    let outs = syn::Ident::new("__outputs", Span::mixed_site());

    let name = &m.name;
    let display_name = opt_str(&m.display_name);
    let description = opt_str(&m.description);
    let command = &m.command;
    let script = opt_str(&m.script);
    let source_dir = opt_str(&m.source_dir);
    let compute = opt_str(&m.compute);
    let environment = match &m.environment {
        Some(e) => quote!(::core::option::Option::Some(#e)),
        None => quote!(::core::option::Option::None),
    };
    let reuse = m.reuse;
    let instance_count = match m.instance_count {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let env = m.env.iter().map(|(k, v)| quote!((#k, #v)));

    // Ports: params take `impl IntoParam<T>` so plain values work; data keeps the user's type.
    let mut params = Vec::new();
    let mut input_defs = Vec::new();
    let mut binds = Vec::new();
    for p in &m.inputs {
        let pid = &p.ident;
        let ty = &p.ty;
        let attrs = &p.other_attrs;
        let pname = &p.name;
        let mode = match p.mode {
            Some(mode) => {
                let t = mode.tokens(rt);
                quote!(::core::option::Option::Some(#t))
            }
            None => quote!(::core::option::Option::None),
        };
        // A parameter's type is checked as a `ParamValue` directly, so a `Param<u8>` gets that
        // trait's message alone, without a detour through `InputPort`.
        let port_type = match &p.param_of {
            Some(inner) => quote_spanned!(ty.span()=>
                #rt::PortType::Param(<#inner as #rt::ParamValue>::PARAM_TYPE)
            ),
            None => quote_spanned!(ty.span()=> <#ty as #rt::InputPort>::PORT_TYPE),
        };
        input_defs.push(quote! {
            #rt::InputDef { name: #pname, ty: #port_type, mode: #mode }
        });
        match &p.param_of {
            Some(inner) => {
                params.push(quote!(#(#attrs)* #pid: impl #rt::IntoParam<#inner>));
                binds.push(quote!(#call.bind(#rt::param_port::<#inner, _>(#pid));));
            }
            None => {
                params.push(quote!(#(#attrs)* #pid: #ty));
                binds.push(
                    quote_spanned!(ty.span()=> #call.bind(<#ty as #rt::InputPort>::__port(&#pid));),
                );
            }
        }
    }
    let output_defs = m.outputs.iter().map(|o| {
        let oname = &o.name;
        let ty = &o.ty;
        let asset = quote_spanned!(ty.span()=> <#ty as #rt::OutputPort>::ASSET_TYPE);
        let mode = match o.mode {
            Some(OutputMode::ReadWriteMount) => {
                quote!(::core::option::Option::Some(#rt::OutputMode::ReadWriteMount))
            }
            Some(OutputMode::Upload) => {
                quote!(::core::option::Option::Some(#rt::OutputMode::Upload))
            }
            None => quote!(::core::option::Option::None),
        };
        quote!(#rt::OutputDef { name: #oname, ty: #asset, mode: #mode })
    });
    let handles: Vec<TokenStream> = m
        .outputs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let ty = &o.ty;
            quote_spanned!(ty.span()=> <#ty as #rt::OutputPort>::__from_port(#outs[#i]))
        })
        .collect();
    let result = if m.ret_is_tuple {
        quote!((#(#handles,)*))
    } else if let Some(h) = handles.first() {
        quote!(#h)
    } else {
        quote!(())
    };
    let output = &item.sig.output;
    let tracked = m.tracked.iter().map(|rel| {
        quote! {
            const _: &[u8] = ::core::include_bytes!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #rel));
        }
    });

    quote! {
        #(#attrs)*
        #vis fn #ident(#(#params),*) #output {
            static #def: #rt::StepDef = #rt::StepDef {
                name: #name,
                display_name: #display_name,
                description: #description,
                command: #command,
                script: #script,
                source_dir: #source_dir,
                manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
                compute: #compute,
                environment: #environment,
                reuse: #reuse,
                instance_count: #instance_count,
                environment_variables: &[#(#env),*],
                inputs: &[#(#input_defs),*],
                outputs: &[#(#output_defs),*],
            };
            #(#tracked)*
            let mut #call = #rt::StepCall::new(&#def);
            #(#binds)*
            let #outs = #call.finish();
            let _ = &#outs;
            #result
        }
    }
}
