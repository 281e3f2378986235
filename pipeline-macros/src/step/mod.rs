//! `#[step(...)]`: a command step declared on a bodiless fn.

mod expand;
mod kind_args;
mod kinds;
mod model;
mod parse;

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
    let parsed = parse::parse(&mut cx, args);
    let model = model::validate(&mut cx, parsed, &item);
    match (cx.into_compile_errors(), model) {
        (None, Some(model)) => expand::expand(&model),
        (errors, _) => {
            let fallback = crate::sig::fallback(&item, quote!(::core::unreachable!()));
            quote!(#errors #fallback)
        }
    }
}
