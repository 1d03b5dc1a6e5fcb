//! Expansion tests: what is generated, and that misuse names its fix.

use proc_macro2::TokenStream;
use quote::quote;

fn expand_with(
    f: fn(TokenStream, &syn::ItemFn) -> syn::Result<TokenStream>,
    attr: TokenStream,
    item: TokenStream,
) -> Result<String, String> {
    let func: syn::ItemFn = syn::parse2(item).map_err(|e| e.to_string())?;
    f(attr, &func).map(|t| t.to_string()).map_err(|e| {
        e.into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn tool(attr: TokenStream, item: TokenStream) -> Result<String, String> {
    expand_with(crate::tool::expand, attr, item)
}

fn prompt(attr: TokenStream, item: TokenStream) -> Result<String, String> {
    expand_with(crate::prompt::expand, attr, item)
}

fn resource(attr: TokenStream, item: TokenStream) -> Result<String, String> {
    expand_with(crate::resource::expand, attr, item)
}

#[track_caller]
fn assert_err(result: Result<String, String>, needle: &str) {
    match result {
        Ok(out) => panic!("expected an error containing {needle:?}, got {out}"),
        Err(e) => assert!(e.contains(needle), "{e:?} lacks {needle:?}"),
    }
}

#[test]
fn tool_uses_name_doc_and_context() {
    let out = tool(
        quote!(),
        quote! {
            /// Line one.
            ///
            ///   indented
            pub async fn echo(args: Args, ctx: oxmcp::Context) -> Result<CallToolResult, Error> {}
        },
    )
    .unwrap();
    assert!(
        out.contains("pub fn echo_tool () -> :: oxmcp :: Tool"),
        "{out}"
    );
    assert!(
        out.contains(":: oxmcp :: Tool :: new (\"echo\" , \"Line one.\\n\\n  indented\""),
        "{out}"
    );
    assert!(
        out.contains("echo (__oxmcp_args , __oxmcp_ctx) . await"),
        "{out}"
    );

    let out = tool(
        quote!(name = "say", title = "Say", structured),
        quote!(
            async fn r#say(a: Args, c: &Context) -> Result<Out, Error> {}
        ),
    )
    .unwrap();
    assert!(out.contains("fn say_tool ()"), "{out}");
    assert!(
        out.contains(":: oxmcp :: Tool :: structured (\"say\" , \"\""),
        "{out}"
    );
    assert!(out.contains(". title (\"Say\")"), "{out}");
    assert!(out.contains("(__oxmcp_args , & __oxmcp_ctx)"), "{out}");

    let out = tool(
        quote!(),
        quote!(
            async fn e(a: Args) -> Result<CallToolResult, Error> {}
        ),
    )
    .unwrap();
    assert!(out.contains(", _ : :: oxmcp :: Context |"), "{out}");
    assert!(out.contains("e (__oxmcp_args) . await"), "{out}");
}

#[test]
fn tool_misuse_names_the_fix() {
    let ok = quote!(-> Result<CallToolResult, Error> {});
    assert_err(tool(quote!(), quote!(fn f(a: A) #ok)), "write `async fn f`");
    assert_err(
        tool(quote!(nmae = "x"), quote!(async fn f(a: A) #ok)),
        "unknown #[oxmcp::tool] key `nmae`",
    );
    assert_err(
        tool(quote!(name = "a", name = "b"), quote!(async fn f(a: A) #ok)),
        "duplicate key `name`",
    );
    assert_err(
        tool(quote!(structured = true), quote!(async fn f(a: A) #ok)),
        "takes no value",
    );
    assert_err(
        tool(quote!(), quote!(async fn f(a: A, b: B) #ok)),
        "put all the tool's arguments in one struct",
    );
    assert_err(
        tool(quote!(), quote!(async fn f(c: Context, a: A) #ok)),
        "goes last",
    );
    assert_err(
        tool(quote!(), quote!(async fn f(c: Context) #ok)),
        "missing parameter `args: T`",
    );
    assert_err(
        tool(quote!(), quote!(async fn f(&self, a: A) #ok)),
        "cannot take `self`",
    );
    assert_err(
        tool(quote!(), quote!(async fn f<T>(a: T) #ok)),
        "cannot be generic",
    );
    assert_err(
        tool(
            quote!(),
            quote!(
                async fn f(a: A) {}
            ),
        ),
        "add `-> Result<CallToolResult, oxmcp::Error>`",
    );
    assert_err(
        tool(
            quote!(),
            quote!(
                async fn f(a: A) -> Result<Sum, Error> {}
            ),
        ),
        "write `#[oxmcp::tool(structured)]`",
    );
    assert_err(
        tool(quote!(structured), quote!(async fn f(a: A) #ok)),
        "remove `structured`",
    );
    assert_err(
        tool(
            quote!(),
            quote!(#[doc = include_str!("x")] async fn f(a: A) #ok),
        ),
        "write `description = \"...\"`",
    );
}

#[test]
fn prompt_declares_arguments() {
    let out = prompt(
        quote!(
            name = "greet",
            arguments(who = "Who", style? = "How", "user-id"?, r#type)
        ),
        quote!(
            async fn g(args: HashMap<String, String>) -> Result<GetPromptResult, Error> {}
        ),
    )
    .unwrap();
    assert!(
        out.contains("fn g_prompt () -> :: oxmcp :: Prompt"),
        "{out}"
    );
    for arg in [
        ". argument (\"who\" , \"Who\" , true)",
        ". argument (\"style\" , \"How\" , false)",
        ". argument (\"user-id\" , \"\" , false)",
        ". argument (\"type\" , \"\" , true)",
    ] {
        assert!(out.contains(arg), "{arg} not in {out}");
    }
    let out = prompt(
        quote!(),
        quote!(
            async fn h() -> Result<GetPromptResult, Error> {}
        ),
    )
    .unwrap();
    assert!(
        out.contains("| _ : :: std :: collections :: HashMap"),
        "{out}"
    );
    assert!(out.contains("h () . await"), "{out}");

    assert_err(
        prompt(
            quote!(arguments(a, a?)),
            quote!(
                async fn h() -> R {}
            ),
        ),
        "declared twice",
    );
    assert_err(
        prompt(
            quote!(args(a)),
            quote!(
                async fn h() -> R {}
            ),
        ),
        "unknown #[oxmcp::prompt] key `args`",
    );
    assert_err(
        prompt(
            quote!(arguments(= "x")),
            quote!(
                async fn h() -> R {}
            ),
        ),
        "expected an argument",
    );
}

#[test]
fn resource_or_template_by_uri() {
    let out = resource(
        quote!(uri = "a://b", mime_type = "text/plain", title = "B"),
        quote! {
            /// The b.
            async fn b(ctx: Context) -> Result<Vec<ResourceContents>, Error> {}
        },
    )
    .unwrap();
    assert!(
        out.contains("fn b_resource () -> :: oxmcp :: Resource"),
        "{out}"
    );
    assert!(out.contains("Resource :: new (\"a://b\" , \"b\""), "{out}");
    assert!(
        out.contains(". description (\"The b.\") . mime_type (\"text/plain\") . title (\"B\")"),
        "{out}"
    );
    assert!(out.contains("b (__oxmcp_ctx) . await"), "{out}");

    let out = resource(
        quote!(uri = "a://{x}", name = "xs"),
        quote!(
            async fn x(
                u: String,
                v: HashMap<String, String>,
            ) -> Result<Vec<ResourceContents>, Error> {
            }
        ),
    )
    .unwrap();
    assert!(out.contains("fn x_template ()"), "{out}");
    assert!(
        out.contains("ResourceTemplate :: new (\"a://{x}\" , \"xs\""),
        "{out}"
    );
    assert!(
        out.contains("x (__oxmcp_uri , __oxmcp_vars) . await"),
        "{out}"
    );

    assert_err(
        resource(
            quote!(name = "n"),
            quote!(
                async fn b() -> R {}
            ),
        ),
        "needs a URI",
    );
    assert_err(
        resource(
            quote!(uri = "a://{x}"),
            quote!(
                async fn x(u: String) -> R {}
            ),
        ),
        "missing parameter `vars",
    );
    assert_err(
        resource(
            quote!(uri = "a://b", mime = "x"),
            quote!(
                async fn b() -> R {}
            ),
        ),
        "unknown #[oxmcp::resource] key `mime`",
    );
    assert_err(
        resource(
            quote!(uri = ""),
            quote!(
                async fn b() -> R {}
            ),
        ),
        "must not be empty",
    );
}
