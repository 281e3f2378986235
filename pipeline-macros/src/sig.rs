//! The fn item a macro is put on, with or without a body, and its ports.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Block, Expr, FnArg, Ident, Pat, ReturnType, Signature, Type, Visibility};

use crate::ctx::Ctxt;

/// `#[attrs] vis fn name(args) -> ret { body }` or `... -> ret;`.
pub struct FnItem {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub body: Option<Block>,
}

impl Parse for FnItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let body = if input.peek(syn::Token![;]) {
            let _: syn::Token![;] = input.parse()?;
            None
        } else {
            Some(input.parse()?)
        };
        Ok(FnItem {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// Input delivery mode written in `#[mode(...)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputMode {
    Download,
    ReadOnlyMount,
    Direct,
}

impl InputMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "download" => Some(InputMode::Download),
            "ro_mount" | "mount" => Some(InputMode::ReadOnlyMount),
            "direct" => Some(InputMode::Direct),
            _ => None,
        }
    }

    /// The runtime's `InputMode` value, reached through `rt` (`<crate>::__private`).
    pub fn tokens(self, rt: &TokenStream) -> TokenStream {
        match self {
            InputMode::Download => quote!(#rt::InputMode::Download),
            InputMode::ReadOnlyMount => quote!(#rt::InputMode::ReadOnlyMount),
            InputMode::Direct => quote!(#rt::InputMode::Direct),
        }
    }
}

/// One fn parameter = one input port.
pub struct Port {
    pub ident: Ident,
    /// The port name Azure ML sees: the parameter name without `r#` (`r#type` is port `type`).
    pub name: String,
    /// The type as written (`Option<Data<K>>` for an optional step input).
    pub written_ty: Type,
    /// The port's type: `Data<K>` or `Param<T>`, without the `Option`.
    pub ty: Type,
    /// Written `Option<...>`: the step may be called with `None`.
    pub optional: bool,
    /// `#[min]`, `#[max]`, `#[allowed]`.
    pub rules: crate::rules::Rules,
    /// `Some(T)` when the type is written `Param<T>`.
    pub param_of: Option<Type>,
    pub mode: Option<InputMode>,
    pub default: Option<Expr>,
    /// Attributes that are not ours, kept on the parameter.
    pub other_attrs: Vec<Attribute>,
}

/// What the fn returns.
pub enum Ret {
    Unit,
    Single(Type),
    Tuple(Vec<Type>),
}

impl Ret {
    pub fn types(&self) -> Vec<&Type> {
        match self {
            Ret::Unit => Vec::new(),
            Ret::Single(t) => vec![t],
            Ret::Tuple(ts) => ts.iter().collect(),
        }
    }
}

/// Reads the ports of a signature, reporting anything a pipeline or step cannot have.
pub fn ports(cx: &mut Ctxt, macro_name: &str, sig: &Signature, allow_default: bool) -> Vec<Port> {
    if let Some(c) = &sig.constness {
        cx.error_spanned_by(c, format!("a `#[{macro_name}]` fn cannot be `const`"));
    }
    if let Some(a) = &sig.asyncness {
        cx.error_spanned_by(a, format!("a `#[{macro_name}]` fn cannot be `async`"));
    }
    if let Some(u) = &sig.unsafety {
        cx.error_spanned_by(u, format!("a `#[{macro_name}]` fn cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, format!("a `#[{macro_name}]` fn cannot have an ABI"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &sig.generics,
            format!("a `#[{macro_name}]` fn cannot be generic; its ports need concrete types"),
        );
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, format!("a `#[{macro_name}]` fn cannot be variadic"));
    }
    let mut ports: Vec<Port> = Vec::new();
    for arg in &sig.inputs {
        let typed = match arg {
            FnArg::Receiver(r) => {
                cx.error_spanned_by(
                    r,
                    format!("a `#[{macro_name}]` fn cannot take `self`; declare it as a free fn"),
                );
                continue;
            }
            FnArg::Typed(t) => t,
        };
        let ident = match &*typed.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
            other => {
                cx.error_spanned_by(
                    other,
                    "a port needs a plain name: write `name: Data<UriFolder>`",
                );
                continue;
            }
        };
        let name = ident.unraw().to_string();
        if let Err(msg) = crate::names::check_port_name(&name) {
            cx.error_spanned_by(&ident, msg);
        }
        if ports.iter().any(|p| p.name == name) {
            cx.error_spanned_by(&ident, format!("duplicate port name `{name}`"));
        } else if let Some(p) = ports.iter().find(|p| p.name.eq_ignore_ascii_case(&name)) {
            cx.error_spanned_by(
                &ident,
                format!(
                    "port `{name}` differs from port `{}` only in case, which Azure ML refuses; rename one of them",
                    p.name
                ),
            );
        }
        let (ty, optional) = match option_inner(&typed.ty) {
            Some(inner) if macro_name == "step" => (inner, true),
            Some(_) => {
                cx.error_spanned_by(
                    &typed.ty,
                    format!(
                        "a `#[{macro_name}]` input cannot be `Option<...>`; give it a `#[default(...)]` instead (optional inputs are for `#[step]` ports)"
                    ),
                );
                ((*typed.ty).clone(), false)
            }
            None => ((*typed.ty).clone(), false),
        };
        let param_of = param_inner(&ty);
        let mut mode = None;
        let mut default = None;
        let mut rules = crate::rules::Rules::default();
        let mut other_attrs = Vec::new();
        for attr in &typed.attrs {
            if rules.read(cx, &name, attr) {
                continue;
            }
            if attr.path().is_ident("mode") {
                match parse_mode(attr) {
                    Ok(m) => {
                        if param_of.is_some() {
                            cx.error_spanned_by(
                                attr,
                                format!(
                                    "`#[mode]` applies to data inputs, and `{name}` is a parameter; remove the `#[mode(...)]`"
                                ),
                            );
                        } else if mode.is_some() {
                            cx.error_spanned_by(attr, format!("duplicate `#[mode]` on `{name}`"));
                        } else {
                            mode = Some(m);
                        }
                    }
                    Err(e) => cx.push(e),
                }
            } else if attr.path().is_ident("default") {
                if !allow_default {
                    cx.error_spanned_by(
                        attr,
                        format!("`#[default]` goes on `#[pipeline]` inputs, not on `#[{macro_name}]` ports"),
                    );
                    continue;
                }
                match attr.parse_args::<Expr>() {
                    Ok(e) if default.is_none() => default = Some(e),
                    Ok(_) => {
                        cx.error_spanned_by(attr, format!("duplicate `#[default]` on `{name}`"))
                    }
                    Err(_) => cx.error_spanned_by(
                        attr,
                        "`#[default]` expects a value: `#[default(10)]` or `#[default(\"data/iris.csv\")]`",
                    ),
                }
            } else {
                other_attrs.push(attr.clone());
            }
        }
        rules.validate(cx, &name, param_of.as_ref(), default.as_ref());
        ports.push(Port {
            ident,
            name,
            written_ty: (*typed.ty).clone(),
            ty,
            optional,
            rules,
            param_of,
            mode,
            default,
            other_attrs,
        });
    }
    ports
}

fn parse_mode(attr: &Attribute) -> syn::Result<InputMode> {
    let expected = "`#[mode]` expects one of `download`, `ro_mount`, `direct`";
    let tokens = match &attr.meta {
        syn::Meta::List(l) => l.tokens.clone(),
        other => return Err(syn::Error::new_spanned(other, expected)),
    };
    let (text, span) = if let Ok(id) = syn::parse2::<Ident>(tokens.clone()) {
        (id.to_string(), id.span())
    } else if let Ok(s) = syn::parse2::<syn::LitStr>(tokens.clone()) {
        (s.value(), s.span())
    } else {
        return Err(syn::Error::new_spanned(attr, expected));
    };
    InputMode::parse(&text).ok_or_else(|| {
        let hint = crate::names::did_you_mean(&text, &["download", "ro_mount", "direct"])
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        syn::Error::new(
            span,
            format!("unknown input mode `{text}`; {hint}(expected one of `download`, `ro_mount`, `direct`)"),
        )
    })
}

/// `Some(T)` when `ty` is written `Param<T>` (any path ending in `Param`).
pub fn param_inner(ty: &Type) -> Option<Type> {
    generic_inner(ty, "Param")
}

/// `Some(T)` when `ty` is written `Option<T>` (any path ending in `Option`).
pub fn option_inner(ty: &Type) -> Option<Type> {
    generic_inner(ty, "Option")
}

fn generic_inner(ty: &Type, name: &str) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
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

/// The return shape.
pub fn ret(output: &ReturnType) -> Ret {
    match output {
        ReturnType::Default => Ret::Unit,
        ReturnType::Type(_, ty) => match &**ty {
            Type::Tuple(t) if t.elems.is_empty() => Ret::Unit,
            Type::Tuple(t) => Ret::Tuple(t.elems.iter().cloned().collect()),
            Type::Paren(p) => Ret::Single((*p.elem).clone()),
            other => Ret::Single(other.clone()),
        },
    }
}

/// The text of the doc comments, joined the way rustdoc shows them.
pub fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(l) = &nv.value
            && let syn::Lit::Str(s) = &l.lit
        {
            let v = s.value();
            lines.push(v.strip_prefix(' ').unwrap_or(&v).trim_end().to_owned());
        }
    }
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The fn with our parameter attributes removed and `body` as its body: what is emitted next
/// to the errors, so that the rest of the crate still type-checks against it.
pub fn fallback(item: &FnItem, body: TokenStream) -> TokenStream {
    let mut sig = item.sig.clone();
    let mut seen = Vec::new();
    for arg in sig.inputs.iter_mut() {
        if let FnArg::Typed(t) = arg {
            t.attrs.retain(|a| {
                !["mode", "default", "min", "max", "allowed"]
                    .iter()
                    .any(|k| a.path().is_ident(k))
            });
            // A repeated name was reported as a duplicate port; don't let rustc repeat it.
            if let Pat::Ident(p) = &*t.pat {
                let name = p.ident.unraw().to_string();
                if seen.contains(&name) {
                    *t.pat = syn::parse_quote!(_);
                } else {
                    seen.push(name);
                }
            }
        }
    }
    let attrs = &item.attrs;
    let vis = &item.vis;
    quote! {
        #(#attrs)*
        #[allow(unused_variables, unreachable_code, clippy::diverging_sub_expression)]
        #vis #sig { #body }
    }
}

/// `Span` of the whole signature's return type, or of the fn name when there is none.
pub fn ret_span(sig: &Signature) -> Span {
    match &sig.output {
        ReturnType::Default => sig.ident.span(),
        ReturnType::Type(_, t) => t.span(),
    }
}

impl ToTokens for FnItem {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for a in &self.attrs {
            a.to_tokens(tokens);
        }
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        match &self.body {
            Some(b) => b.to_tokens(tokens),
            None => tokens.extend(quote!(;)),
        }
    }
}
