//! `#[tool]`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr};

use crate::common::{self, path_text, set_once};

const USAGE: &str =
    "`args: T` (T: Deserialize + JsonSchema), then optionally `ctx: oxmcp::Context`";

#[derive(Default)]
struct Attr {
    name: Option<LitStr>,
    title: Option<LitStr>,
    description: Option<LitStr>,
    structured: Option<Span>,
}

fn parse_attr(attr: TokenStream) -> syn::Result<Attr> {
    let mut out = Attr::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            set_once(&mut out.name, &meta)
        } else if meta.path.is_ident("title") {
            set_once(&mut out.title, &meta)
        } else if meta.path.is_ident("description") {
            set_once(&mut out.description, &meta)
        } else if meta.path.is_ident("structured") {
            if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                return Err(
                    meta.error("`structured` takes no value: write `#[oxmcp::tool(structured)]`")
                );
            }
            if out.structured.is_some() {
                return Err(meta.error("duplicate key `structured`"));
            }
            out.structured = Some(meta.path.span());
            Ok(())
        } else {
            Err(meta.error(format!(
                "unknown #[oxmcp::tool] key `{}`: expected `name = \"...\"`, `title = \"...\"`, \
                 `description = \"...\"` or `structured`",
                path_text(&meta.path)
            )))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(out)
}

pub(crate) fn expand(attr: TokenStream, func: &ItemFn) -> syn::Result<TokenStream> {
    let attr = parse_attr(attr)?;
    common::check_signature(func, "tool", "Result<CallToolResult, oxmcp::Error>")?;
    let params = common::params(func, "tool", &["args: T"], 1, USAGE)?;
    let structured = attr.structured.is_some();
    if let Some(ok) = common::ok_type(&func.sig.output)
        && let Some(last) = common::last_ident(ok)
    {
        let is_result = last == "CallToolResult";
        if structured && is_result {
            return Err(syn::Error::new_spanned(
                ok,
                "`structured` is for tools that return their own output type (Serialize + \
                 JsonSchema); this one returns `CallToolResult`: remove `structured`",
            ));
        }
        if !structured && !is_result {
            return Err(syn::Error::new_spanned(
                ok,
                format!(
                    "this tool returns `{last}`, not `CallToolResult`: write \
                     `#[oxmcp::tool(structured)]` to send it as structuredContent with an \
                     outputSchema, or return `Result<CallToolResult, oxmcp::Error>`"
                ),
            ));
        }
    }

    let ident = &func.sig.ident;
    let vis = &func.vis;
    let cfgs = common::cfg_attrs(func);
    let generated = common::generated_ident(func, "tool");
    let name = match &attr.name {
        Some(n) => n.value(),
        None => common::fn_name(func),
    };
    let description = common::description(&func.attrs, attr.description.as_ref())?;
    let args_ty = &params.types[0];
    let ctx_pat = params.ctx.pattern();
    let ctx_arg = params.ctx.argument().map(|c| quote!(, #c));
    let ctor = if structured {
        quote!(structured)
    } else {
        quote!(new)
    };
    let title = attr.title.map(|t| quote!(.title(#t)));
    // Type errors (an args type that is not `Deserialize + JsonSchema`, a wrong output, a
    // future that is not `Send`) are reported by rustc at the attribute, naming the types.
    let handler = quote! {
        |__oxmcp_args: #args_ty, #ctx_pat: ::oxmcp::Context| async move {
            #ident(__oxmcp_args #ctx_arg).await
        }
    };
    let doc = format!(
        "The `{name}` tool, run by `{ident}`: pass it to `ServerBuilder::tool` or \
         `Server::add_tool`."
    );
    Ok(quote! {
        #(#cfgs)*
        #[doc = #doc]
        #vis fn #generated() -> ::oxmcp::Tool {
            ::oxmcp::Tool::#ctor(
                #name,
                #description,
                #handler,
            )
            #title
        }
    })
}
