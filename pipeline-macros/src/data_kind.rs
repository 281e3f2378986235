//! `#[derive(DataKind)]` with `#[data_kind(uri_folder)]` (and optionally `crate = "path"`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ctx::Ctxt;

const KINDS: &[(&str, &str)] = &[
    ("uri_file", "UriFile"),
    ("uri_folder", "UriFolder"),
    ("mltable", "MlTable"),
    ("custom_model", "CustomModel"),
    ("mlflow_model", "MlflowModel"),
];

pub fn expand(item: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(item) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::new();
    let mut kind: Option<&str> = None;
    let mut krate = crate::attr::Once::<syn::Path>::default();
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("data_kind"))
    {
        let result = attr.parse_nested_meta(|meta| {
            let key = crate::attr::key_of(&meta);
            if key == "crate" {
                if let Some(path) = crate::attr::crate_path(&mut cx, &meta, &key) {
                    let span = syn::spanned::Spanned::span(&meta.path);
                    krate.set(&mut cx, "data_kind", &key, span, path);
                }
                return Ok(());
            }
            match KINDS.iter().find(|(k, _)| *k == key) {
                Some((_, variant)) if kind.is_none() => kind = Some(variant),
                Some(_) => cx.error_spanned_by(&meta.path, "a data kind has exactly one asset type"),
                None => {
                    let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
                    let hint = crate::names::did_you_mean(&key, &names)
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default();
                    cx.error_spanned_by(
                        &meta.path,
                        format!("unknown asset type `{key}`; {hint}(expected one of `uri_file`, `uri_folder`, `mltable`, `custom_model`, `mlflow_model`)"),
                    );
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    if kind.is_none() && !cx.has_errors() {
        cx.error_spanned_by(
            &input.ident,
            "say which Azure ML asset type this kind is: add `#[data_kind(uri_folder)]` (or `uri_file`, `mltable`, `custom_model`, `mlflow_model`)",
        );
    }
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "a data kind cannot be generic");
    }
    if let Some(errors) = cx.into_compile_errors() {
        return errors;
    }
    let ident = &input.ident;
    let rt = crate::attr::runtime_path(krate.get());
    let variant = syn::Ident::new(kind.unwrap_or("UriFolder"), proc_macro2::Span::call_site());
    quote! {
        impl #rt::DataKind for #ident {
            const ASSET_TYPE: #rt::AssetType = #rt::AssetType::#variant;
        }
    }
}
