//! `#[step(...)]`: a command step declared on a bodiless fn, or a Rust step: a fn with a body
//! (`rust_body`).

mod expand;
mod kind_args;
mod kinds;
mod model;
mod parse;
mod rust_body;

pub(crate) use expand::{DATA_DEFAULT, embed, tree_static};

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctx::Ctxt;
use crate::sig::FnItem;

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: FnItem = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(e) => {
            let err = e.to_compile_error();
            return quote!(#err #item);
        }
    };
    let mut cx = Ctxt::new();
    let mut parsed = parse::parse(&mut cx, args);
    // A fn with a body is a Rust step: read as the bodiless declaration it amounts to.
    let rust = rust_body::read(&mut cx, &mut parsed, &item);
    let declared = rust.as_ref().map_or(&item, |r| &r.declaration);
    let model = model::validate(&mut cx, parsed, declared);
    match (cx.into_compile_errors(), model) {
        (None, Some(mut model)) => {
            if let Some(form) = &rust {
                let (items, kind) = rust_body::expand(&model.rt, &item, form);
                model.items = items;
                model.kind = kinds::KindModel::Rust(kind);
            }
            expand::expand(&model)
        }
        (errors, _) => {
            let fallback = crate::sig::fallback(declared, quote!(::core::unreachable!()));
            quote!(#errors #fallback)
        }
    }
}
