//! What the three macros share: reading the function, its doc comment and its parameters.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{
    Attribute, Expr, ExprLit, FnArg, GenericArgument, ItemFn, Lit, LitStr, Meta, PathArguments,
    ReturnType, Type,
};

/// Parses the item as a function and runs `expand` on it. The function is always emitted
/// unchanged, so a mistake in the attribute gives one error, not a cascade of "not found".
pub(crate) fn expand(
    what: &str,
    item: TokenStream,
    expand: impl FnOnce(&ItemFn) -> syn::Result<TokenStream>,
) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let err = syn::Error::new_spanned(
                &item,
                format!("#[oxmcp::{what}] goes on an `async fn` (a free function, not a method)"),
            )
            .to_compile_error();
            return quote!(#item #err);
        }
    };
    match expand(&func) {
        Ok(generated) => quote!(#func #generated),
        Err(err) => {
            let err = err.to_compile_error();
            quote!(#func #err)
        }
    }
}

/// Merges errors so that all of them are reported at once.
pub(crate) fn push(errors: &mut Option<syn::Error>, err: syn::Error) {
    match errors {
        Some(e) => e.combine(err),
        None => *errors = Some(err),
    }
}

/// Sets a `key = "..."` attribute value once; a second one is an error.
pub(crate) fn set_once(
    slot: &mut Option<LitStr>,
    meta: &syn::meta::ParseNestedMeta<'_>,
) -> syn::Result<()> {
    let value: LitStr = meta.value()?.parse()?;
    if slot.is_some() {
        return Err(meta.error(format!("duplicate key `{}`", path_text(&meta.path))));
    }
    if value.value().is_empty() {
        return Err(syn::Error::new(
            value.span(),
            format!("`{}` must not be empty", path_text(&meta.path)),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// A path as written, for messages.
pub(crate) fn path_text(path: &syn::Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// The name of the function, without `r#`.
pub(crate) fn fn_name(func: &ItemFn) -> String {
    func.sig.ident.unraw().to_string()
}

/// `<fn name>_<suffix>`, spanned at the function's name.
pub(crate) fn generated_ident(func: &ItemFn, suffix: &str) -> syn::Ident {
    syn::Ident::new(
        &format!("{}_{suffix}", fn_name(func)),
        func.sig.ident.span(),
    )
}

/// The `#[cfg(..)]` attributes of the function, repeated on what is generated from it.
pub(crate) fn cfg_attrs(func: &ItemFn) -> Vec<&Attribute> {
    func.attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .collect()
}

/// Checks what every handler needs: `async`, not generic, not unsafe/const/extern, an
/// explicit return type.
pub(crate) fn check_signature(func: &ItemFn, what: &str, returns: &str) -> syn::Result<()> {
    let sig = &func.sig;
    let mut errors = None;
    if sig.asyncness.is_none() {
        push(
            &mut errors,
            syn::Error::new(
                sig.fn_token.span,
                format!(
                    "#[oxmcp::{what}] needs an `async fn`: write `async fn {}`",
                    sig.ident
                ),
            ),
        );
    }
    if let Some(c) = &sig.constness {
        push(
            &mut errors,
            syn::Error::new(c.span, format!("a #[oxmcp::{what}] fn cannot be `const`")),
        );
    }
    if let Some(u) = &sig.unsafety {
        push(
            &mut errors,
            syn::Error::new(u.span, format!("a #[oxmcp::{what}] fn cannot be `unsafe`")),
        );
    }
    if let Some(abi) = &sig.abi {
        push(
            &mut errors,
            syn::Error::new_spanned(abi, format!("a #[oxmcp::{what}] fn cannot be `extern`")),
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        push(
            &mut errors,
            syn::Error::new_spanned(
                &sig.generics,
                format!(
                    "a #[oxmcp::{what}] fn cannot be generic: use concrete types (and owned \
                     parameters instead of borrowed ones)"
                ),
            ),
        );
    }
    if let Some(v) = &sig.variadic {
        push(
            &mut errors,
            syn::Error::new_spanned(v, format!("a #[oxmcp::{what}] fn cannot be variadic")),
        );
    }
    if let ReturnType::Default = sig.output {
        push(
            &mut errors,
            syn::Error::new(
                sig.paren_token.span.close(),
                format!("a #[oxmcp::{what}] fn must return `{returns}`: add `-> {returns}`"),
            ),
        );
    }
    errors.map_or(Ok(()), Err)
}

/// How the handler takes its context, if at all.
pub(crate) enum Ctx {
    /// No context parameter.
    None,
    /// `ctx: Context`.
    Owned,
    /// `ctx: &Context`.
    Borrowed,
}

impl Ctx {
    /// The closure's pattern for the context it is given.
    pub(crate) fn pattern(&self) -> TokenStream {
        match self {
            Ctx::None => quote!(_),
            Ctx::Owned | Ctx::Borrowed => quote!(__oxmcp_ctx),
        }
    }

    /// The argument passed to the user's function, if any.
    pub(crate) fn argument(&self) -> Option<TokenStream> {
        match self {
            Ctx::None => None,
            Ctx::Owned => Some(quote!(__oxmcp_ctx)),
            Ctx::Borrowed => Some(quote!(&__oxmcp_ctx)),
        }
    }
}

/// Whether `ty` is `Context` (any path ending in it) or a reference to one.
fn context_type(ty: &Type) -> Option<Ctx> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            (last.ident == "Context" && last.arguments.is_empty()).then_some(Ctx::Owned)
        }
        Type::Reference(r) if r.mutability.is_none() => {
            matches!(context_type(&r.elem), Some(Ctx::Owned)).then_some(Ctx::Borrowed)
        }
        Type::Paren(p) => context_type(&p.elem),
        Type::Group(g) => context_type(&g.elem),
        _ => None,
    }
}

/// The handler's parameters: the leading ones (their types) and the context.
pub(crate) struct Params {
    /// The types of the leading parameters, in order.
    pub(crate) types: Vec<Type>,
    /// The trailing context parameter.
    pub(crate) ctx: Ctx,
}

/// Reads the parameters: up to `expected.len()` leading ones (at least `min`), then
/// optionally `ctx: oxmcp::Context` (by value or by reference). `usage` is the whole
/// accepted shape, for messages.
pub(crate) fn params(
    func: &ItemFn,
    what: &str,
    expected: &[&str],
    min: usize,
    usage: &str,
) -> syn::Result<Params> {
    let sig = &func.sig;
    let mut inputs: Vec<&syn::PatType> = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                return Err(syn::Error::new_spanned(
                    r,
                    format!(
                        "a #[oxmcp::{what}] fn cannot take `self`: make it a free function \
                         taking {usage}"
                    ),
                ));
            }
            FnArg::Typed(t) => inputs.push(t),
        }
    }
    let mut ctx = Ctx::None;
    if let Some(last) = inputs.last()
        && let Some(c) = context_type(&last.ty)
    {
        ctx = c;
        inputs.pop();
    }
    for input in &inputs {
        if context_type(&input.ty).is_some() {
            return Err(syn::Error::new_spanned(
                input,
                format!("the context parameter goes last: a #[oxmcp::{what}] fn takes {usage}"),
            ));
        }
    }
    if inputs.len() > expected.len() {
        let extra = inputs[expected.len()];
        let hint = if what == "tool" {
            " (put all the tool's arguments in one struct)"
        } else {
            ""
        };
        return Err(syn::Error::new_spanned(
            extra,
            format!("unexpected parameter: a #[oxmcp::{what}] fn takes {usage}{hint}"),
        ));
    }
    if inputs.len() < min {
        let missing = expected[inputs.len()];
        let span = sig.paren_token.span.join();
        return Err(syn::Error::new(
            span,
            format!("missing parameter `{missing}`: a #[oxmcp::{what}] fn takes {usage}"),
        ));
    }
    Ok(Params {
        types: inputs.iter().map(|t| (*t.ty).clone()).collect(),
        ctx,
    })
}

/// For a return type `Result<T, ..>` (any path ending in `Result`), `T`.
pub(crate) fn ok_type(output: &ReturnType) -> Option<&Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::Path(p) = &**ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// The last identifier of a path type (`CallToolResult` for `model::CallToolResult`).
pub(crate) fn last_ident(ty: &Type) -> Option<&syn::Ident> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}

/// The description: `explicit` if given, else the doc comment (common indentation and
/// blank edges removed, lines joined with `\n`); empty if neither.
pub(crate) fn description(attrs: &[Attribute], explicit: Option<&LitStr>) -> syn::Result<String> {
    if let Some(lit) = explicit {
        return Ok(lit.value());
    }
    let mut lines: Vec<String> = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => lines.extend(s.value().split('\n').map(|l| l.trim_end().to_owned())),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "the description is read from literal doc comments; for a computed one \
                     write `description = \"...\"` in the attribute",
                ));
            }
        }
    }
    Ok(dedent(lines))
}

fn dedent(lines: Vec<String>) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or_else(|| l.trim_start()).trim_end())
        .collect();
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |e| e + 1);
    lines[start..end].join("\n")
}
