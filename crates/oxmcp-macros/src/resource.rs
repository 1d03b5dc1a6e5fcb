//! `#[resource]`: a fixed resource, or a resource template when the URI has `{`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, LitStr};

use crate::common::{self, path_text, set_once};

const USAGE: &str = "`uri: String` (optional), then optionally `ctx: oxmcp::Context`";
const TEMPLATE_USAGE: &str =
    "`uri: String, vars: HashMap<String, String>`, then optionally `ctx: oxmcp::Context`";

#[derive(Default)]
struct Attr {
    uri: Option<LitStr>,
    name: Option<LitStr>,
    title: Option<LitStr>,
    description: Option<LitStr>,
    mime_type: Option<LitStr>,
}

fn parse_attr(attr: TokenStream) -> syn::Result<Attr> {
    let mut out = Attr::default();
    let parser = syn::meta::parser(|meta| {
        let slot = if meta.path.is_ident("uri") {
            &mut out.uri
        } else if meta.path.is_ident("name") {
            &mut out.name
        } else if meta.path.is_ident("title") {
            &mut out.title
        } else if meta.path.is_ident("description") {
            &mut out.description
        } else if meta.path.is_ident("mime_type") {
            &mut out.mime_type
        } else {
            return Err(meta.error(format!(
                "unknown #[oxmcp::resource] key `{}`: expected `uri = \"...\"`, \
                 `name = \"...\"`, `title = \"...\"`, `description = \"...\"` or \
                 `mime_type = \"...\"`",
                path_text(&meta.path)
            )));
        };
        set_once(slot, &meta)
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(out)
}

pub(crate) fn expand(attr: TokenStream, func: &ItemFn) -> syn::Result<TokenStream> {
    let attr = parse_attr(attr)?;
    let Some(uri) = attr.uri else {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[oxmcp::resource] needs a URI: write `#[oxmcp::resource(uri = \"scheme://path\")]` \
             (a URI with `{var}` makes a resource template)",
        ));
    };
    let template = uri.value().contains('{');
    let returns = "Result<Vec<ResourceContents>, oxmcp::Error>";
    common::check_signature(func, "resource", returns)?;
    let params = if template {
        common::params(
            func,
            "resource",
            &["uri: String", "vars: HashMap<String, String>"],
            2,
            TEMPLATE_USAGE,
        )?
    } else {
        common::params(func, "resource", &["uri: String"], 0, USAGE)?
    };
    let ident = &func.sig.ident;
    let vis = &func.vis;
    let cfgs = common::cfg_attrs(func);
    let name = match &attr.name {
        Some(n) => n.value(),
        None => common::fn_name(func),
    };
    let description = common::description(&func.attrs, attr.description.as_ref())?;
    let description = (!description.is_empty()).then(|| quote!(.description(#description)));
    let mime_type = attr.mime_type.map(|m| quote!(.mime_type(#m)));
    let title = attr.title.map(|t| quote!(.title(#t)));
    let ctx_pat = params.ctx.pattern();
    let (uri_pat, uri_arg) = if params.types.is_empty() {
        (quote!(_), None)
    } else {
        (quote!(__oxmcp_uri), Some(quote!(__oxmcp_uri)))
    };
    let vars_arg = template.then(|| quote!(__oxmcp_vars));
    let call_args = uri_arg
        .into_iter()
        .chain(vars_arg)
        .chain(params.ctx.argument());
    let call = quote!(#ident(#(#call_args),*).await);
    let string = quote!(::std::string::String);

    if template {
        let generated = common::generated_ident(func, "template");
        let doc = format!(
            "The `{name}` resource template (`{}`), read by `{ident}`: pass it to \
             `ServerBuilder::resource_template` or `Server::add_resource_template`.\n\n\
             Fails if the URI template uses an expression oxmcp does not support.",
            uri.value()
        );
        Ok(quote! {
            #(#cfgs)*
            #[doc = #doc]
            #vis fn #generated() -> ::core::result::Result<::oxmcp::ResourceTemplate, ::oxmcp::Error> {
                ::core::result::Result::Ok(
                    ::oxmcp::ResourceTemplate::new(
                        #uri,
                        #name,
                        |#uri_pat: #string,
                         __oxmcp_vars: ::std::collections::HashMap<#string, #string>,
                         #ctx_pat: ::oxmcp::Context| async move { #call },
                    )?
                    #description
                    #mime_type
                    #title
                )
            }
        })
    } else {
        let generated = common::generated_ident(func, "resource");
        let doc = format!(
            "The `{name}` resource (`{}`), read by `{ident}`: pass it to \
             `ServerBuilder::resource` or `Server::add_resource`.",
            uri.value()
        );
        Ok(quote! {
            #(#cfgs)*
            #[doc = #doc]
            #vis fn #generated() -> ::oxmcp::Resource {
                ::oxmcp::Resource::new(
                    #uri,
                    #name,
                    |#uri_pat: #string, #ctx_pat: ::oxmcp::Context| async move { #call },
                )
                #description
                #mime_type
                #title
            }
        })
    }
}
