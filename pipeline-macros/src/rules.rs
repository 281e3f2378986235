//! `#[min(...)]`, `#[max(...)]` and `#[allowed(...)]` on parameters (Azure ML's `min`, `max`
//! and `enum`), and the check of a `#[default(...)]` against them.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Lit, LitStr, Type};

use crate::ctx::Ctxt;

/// A parameter type as written in `Param<T>` (read from the last path segment, so a type
/// alias reads as `Other`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Integer,
    Number,
    Boolean,
    String,
    Other,
}

pub fn param_kind(ty: &Type) -> ParamKind {
    let Type::Path(p) = ty else {
        return ParamKind::Other;
    };
    match p
        .path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .as_deref()
    {
        Some("i64") => ParamKind::Integer,
        Some("f64") => ParamKind::Number,
        Some("bool") => ParamKind::Boolean,
        Some("String") => ParamKind::String,
        _ => ParamKind::Other,
    }
}

/// A numeric bound as written.
#[derive(Clone)]
pub struct NumBound {
    pub value: f64,
    /// The value when written as an integer.
    pub int: Option<i64>,
    /// As written, for messages.
    pub text: String,
}

/// The rules written on one port.
#[derive(Default)]
pub struct Rules {
    pub min: Option<(NumBound, Attribute)>,
    pub max: Option<(NumBound, Attribute)>,
    pub allowed: Option<(Vec<LitStr>, Attribute)>,
}

impl Rules {
    /// Reads `attr` if it is one of ours; `false` when it is not.
    pub fn read(&mut self, cx: &mut Ctxt, name: &str, attr: &Attribute) -> bool {
        let key = if attr.path().is_ident("min") {
            "min"
        } else if attr.path().is_ident("max") {
            "max"
        } else if attr.path().is_ident("allowed") {
            "allowed"
        } else {
            return false;
        };
        let duplicate = match key {
            "min" => self.min.is_some(),
            "max" => self.max.is_some(),
            _ => self.allowed.is_some(),
        };
        if duplicate {
            cx.error_spanned_by(attr, format!("duplicate `#[{key}]` on `{name}`"));
            return true;
        }
        if key == "allowed" {
            match attr.parse_args_with(Punctuated::<LitStr, syn::Token![,]>::parse_terminated) {
                Ok(list) if !list.is_empty() => {
                    let list: Vec<LitStr> = list.into_iter().collect();
                    for (i, lit) in list.iter().enumerate() {
                        if list[..i].iter().any(|l| l.value() == lit.value()) {
                            cx.error_spanned_by(
                                lit,
                                format!("`{}` is listed twice in `#[allowed]`", lit.value()),
                            );
                        }
                    }
                    self.allowed = Some((list, attr.clone()));
                }
                _ => cx.error_spanned_by(
                    attr,
                    "`#[allowed]` expects the allowed strings: `#[allowed(\"fast\", \"slow\")]`",
                ),
            }
            return true;
        }
        match attr.parse_args::<Expr>().ok().and_then(|e| number(&e)) {
            Some(b) if key == "min" => self.min = Some((b, attr.clone())),
            Some(b) => self.max = Some((b, attr.clone())),
            None => cx.error_spanned_by(
                attr,
                format!("`#[{key}]` expects a number: `#[{key}(10)]` or `#[{key}(0.5)]`"),
            ),
        }
        true
    }

    /// Checks the rules against the port's type and its default.
    pub fn validate(
        &self,
        cx: &mut Ctxt,
        name: &str,
        param_of: Option<&Type>,
        default: Option<&Expr>,
    ) {
        let kind = param_of.map(param_kind);
        for (key, bound) in [("min", &self.min), ("max", &self.max)] {
            let Some((b, attr)) = bound else { continue };
            match kind {
                None => cx.error_spanned_by(
                    attr,
                    format!("`#[{key}]` applies to `Param<i64>` and `Param<f64>` parameters, and `{name}` is data; remove it"),
                ),
                Some(ParamKind::Integer) if b.int.is_none() => cx.error_spanned_by(
                    attr,
                    format!("`{name}` is a `Param<i64>`, so `#[{key}]` takes an integer: `#[{key}(10)]`, not `{}`", b.text),
                ),
                Some(ParamKind::Integer | ParamKind::Number) => {}
                Some(_) => cx.error_spanned_by(
                    attr,
                    format!("`#[{key}]` applies to `Param<i64>` and `Param<f64>` parameters; `{name}` is not a number (for strings, use `#[allowed(\"a\", \"b\")]`)"),
                ),
            }
        }
        if let (Some((low, _)), Some((high, attr))) = (&self.min, &self.max)
            && low.value > high.value
        {
            cx.error_spanned_by(
                attr,
                format!(
                    "`#[max({})]` is below `#[min({})]` on `{name}`",
                    high.text, low.text
                ),
            );
        }
        if let Some((_, attr)) = &self.allowed
            && kind != Some(ParamKind::String)
        {
            cx.error_spanned_by(
                attr,
                format!("`#[allowed]` applies to `Param<String>` parameters, and `{name}` is not one; for numbers, use `#[min(...)]` and `#[max(...)]`"),
            );
        }
        let Some(default) = default else { return };
        if let Some(v) = number(default) {
            let low = self.min.as_ref().is_some_and(|(b, _)| v.value < b.value);
            let high = self.max.as_ref().is_some_and(|(b, _)| v.value > b.value);
            if low || high {
                cx.error_spanned_by(
                    default,
                    format!(
                        "default `{}` of `{name}` is out of range; {}",
                        v.text,
                        self.range_text()
                    ),
                );
            }
        }
        if let (
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }),
            Some((list, _)),
        ) = (default, &self.allowed)
            && !list.iter().any(|l| l.value() == s.value())
        {
            cx.error_spanned_by(
                s,
                format!(
                    "default `{}` of `{name}` is not allowed; it must be one of {}",
                    s.value(),
                    list.iter()
                        .map(|l| format!("`{}`", l.value()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }

    fn range_text(&self) -> String {
        match (&self.min, &self.max) {
            (Some((a, _)), Some((b, _))) => {
                format!("it must be between {} and {}", a.text, b.text)
            }
            (Some((a, _)), None) => format!("it must be at least {}", a.text),
            (None, Some((b, _))) => format!("it must be at most {}", b.text),
            (None, None) => String::new(),
        }
    }

    /// The runtime's `InputRules` value.
    pub fn tokens(&self, rt: &TokenStream, param_of: Option<&Type>, optional: bool) -> TokenStream {
        if !optional && self.min.is_none() && self.max.is_none() && self.allowed.is_none() {
            return quote!(#rt::InputRules::NONE);
        }
        let integer = param_of.map(param_kind) == Some(ParamKind::Integer);
        let bound = |b: &Option<(NumBound, Attribute)>| match b {
            Some((b, _)) => match (integer, b.int) {
                (true, Some(i)) => quote!(::core::option::Option::Some(#rt::Bound::Integer(#i))),
                _ => {
                    let v = proc_macro2::Literal::f64_suffixed(b.value);
                    quote!(::core::option::Option::Some(#rt::Bound::Number(#v)))
                }
            },
            None => quote!(::core::option::Option::None),
        };
        let min = bound(&self.min);
        let max = bound(&self.max);
        let allowed = self
            .allowed
            .iter()
            .flat_map(|(list, _)| list.iter().map(|l| l.value()));
        quote! {
            #rt::InputRules { optional: #optional, min: #min, max: #max, allowed: &[#(#allowed),*] }
        }
    }
}

/// A number literal, possibly negated.
fn number(e: &Expr) -> Option<NumBound> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => {
                let v = i.base10_parse::<i64>().ok()?;
                Some(NumBound {
                    value: v as f64,
                    int: Some(v),
                    text: v.to_string(),
                })
            }
            Lit::Float(f) => {
                let v = f.base10_parse::<f64>().ok().filter(|v| v.is_finite())?;
                Some(NumBound {
                    value: v,
                    int: None,
                    text: f.base10_digits().to_owned(),
                })
            }
            _ => None,
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            let inner = number(&u.expr)?;
            Some(NumBound {
                value: -inner.value,
                int: inner.int.map(|i| -i),
                text: format!("-{}", inner.text),
            })
        }
        Expr::Group(g) => number(&g.expr),
        Expr::Paren(p) => number(&p.expr),
        _ => None,
    }
}
