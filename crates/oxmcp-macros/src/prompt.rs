//! `#[prompt]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{ItemFn, LitStr, Token};

use crate::common::{self, path_text, set_once};

const USAGE: &str =
    "`args: HashMap<String, String>` (optional), then optionally `ctx: oxmcp::Context`";

/// One declared argument: `name = "description"`, `name? = "description"` (optional), or
/// either without the description; the name may be a string literal.
struct Argument {
    name: String,
    span: proc_macro2::Span,
    required: bool,
    description: String,
}

impl Parse for Argument {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (name, span) = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            (lit.value(), lit.span())
        } else if input.peek(syn::Ident::peek_any) {
            let ident = input.call(syn::Ident::parse_any)?;
            (ident.unraw().to_string(), ident.span())
        } else {
            return Err(input.error(
                "expected an argument: `name = \"description\"`, or `name? = \"description\"` \
                 for an optional one",
            ));
        };
        if name.is_empty() {
            return Err(syn::Error::new(span, "an argument name must not be empty"));
        }
        let required = !input.peek(Token![?]);
        if !required {
            input.parse::<Token![?]>()?;
        }
        let description = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            input.parse::<LitStr>()?.value()
        } else {
            String::new()
        };
        Ok(Argument {
            name,
            span,
            required,
            description,
        })
    }
}

#[derive(Default)]
struct Attr {
    name: Option<LitStr>,
    title: Option<LitStr>,
    description: Option<LitStr>,
    arguments: Option<Vec<Argument>>,
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
        } else if meta.path.is_ident("arguments") {
            if out.arguments.is_some() {
                return Err(meta.error("duplicate key `arguments`"));
            }
            let content;
            syn::parenthesized!(content in meta.input);
            let list = Punctuated::<Argument, Token![,]>::parse_terminated(&content)?;
            let mut args: Vec<Argument> = Vec::new();
            for arg in list {
                if args.iter().any(|a| a.name == arg.name) {
                    return Err(syn::Error::new(
                        arg.span,
                        format!("argument `{}` is declared twice", arg.name),
                    ));
                }
                args.push(arg);
            }
            out.arguments = Some(args);
            Ok(())
        } else {
            Err(meta.error(format!(
                "unknown #[oxmcp::prompt] key `{}`: expected `name = \"...\"`, \
                 `title = \"...\"`, `description = \"...\"` or `arguments(a = \"...\", b? = \"...\")`",
                path_text(&meta.path)
            )))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(out)
}

pub(crate) fn expand(attr: TokenStream, func: &ItemFn) -> syn::Result<TokenStream> {
    let attr = parse_attr(attr)?;
    common::check_signature(func, "prompt", "Result<GetPromptResult, oxmcp::Error>")?;
    let params = common::params(func, "prompt", &["args: HashMap<String, String>"], 0, USAGE)?;

    let ident = &func.sig.ident;
    let vis = &func.vis;
    let cfgs = common::cfg_attrs(func);
    let generated = common::generated_ident(func, "prompt");
    let name = match &attr.name {
        Some(n) => n.value(),
        None => common::fn_name(func),
    };
    let description = common::description(&func.attrs, attr.description.as_ref())?;
    let (args_pat, args_arg) = if params.types.is_empty() {
        (quote!(_), None)
    } else {
        (quote!(__oxmcp_args), Some(quote!(__oxmcp_args)))
    };
    let ctx_pat = params.ctx.pattern();
    let call_args = args_arg.into_iter().chain(params.ctx.argument());
    let call = quote!(#ident(#(#call_args),*).await);
    let arguments = attr.arguments.unwrap_or_default().into_iter().map(|a| {
        let (n, d, r) = (a.name, a.description, a.required);
        quote!(.argument(#n, #d, #r))
    });
    let title = attr.title.map(|t| quote!(.title(#t)));
    let doc = format!(
        "The `{name}` prompt, run by `{ident}`: pass it to `ServerBuilder::prompt` or \
         `Server::add_prompt`."
    );
    Ok(quote! {
        #(#cfgs)*
        #[doc = #doc]
        #vis fn #generated() -> ::oxmcp::Prompt {
            ::oxmcp::Prompt::new(
                #name,
                #description,
                |#args_pat: ::std::collections::HashMap<::std::string::String, ::std::string::String>,
                 #ctx_pat: ::oxmcp::Context| async move { #call },
            )
            #(#arguments)*
            #title
        }
    })
}
