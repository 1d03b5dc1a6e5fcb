//! `#[oxmcp::tool]`, `#[oxmcp::prompt]` and `#[oxmcp::resource]`: sugar over the oxmcp
//! server builder.
//!
//! Each attribute leaves the `async fn` it is put on as it is and generates, next to it, a
//! plain function that builds the matching builder value:
//!
//! | on `async fn foo` | generates | built with |
//! | --- | --- | --- |
//! | `#[tool]` | `fn foo_tool() -> oxmcp::Tool` | `Tool::new` / `Tool::structured` |
//! | `#[prompt]` | `fn foo_prompt() -> oxmcp::Prompt` | `Prompt::new` + `.argument(..)` |
//! | `#[resource(uri = "a://b")]` | `fn foo_resource() -> oxmcp::Resource` | `Resource::new` |
//! | `#[resource(uri = "a://{x}")]` | `fn foo_template() -> Result<oxmcp::ResourceTemplate, oxmcp::Error>` | `ResourceTemplate::new` |
//!
//! The generated function has the visibility of the original, so the builder can still be
//! used at run time, and anything the attributes do not cover is one method call away
//! (`echo_tool().task_support(..)`, `greet_prompt().complete(..)`). The description of each
//! item is its doc comment (common indentation and blank edges removed, lines joined with
//! `\n`) unless `description = "..."` is given. The generated code names `::oxmcp::...`
//! paths only, so the `oxmcp` crate must be a dependency under that name.
//!
//! # Grouping ("routers")
//!
//! There is no router type: a group of tools is a function returning them, and a server is
//! built from as many groups as it likes.
//!
//! ```text
//! pub fn math_tools() -> Vec<oxmcp::Tool> {
//!     vec![add_tool(), mul_tool()]
//! }
//!
//! let server = math_tools()
//!     .into_iter()
//!     .chain(text_tools())
//!     .fold(Server::builder("calc", "1.0.0"), |b, t| b.tool(t))
//!     .build();
//! ```
//!
//! # Errors
//!
//! A function of the wrong shape (not `async`, generic, a `self` receiver, missing or extra
//! parameters, a context parameter that is not last) or an unknown attribute key is a
//! compile error pointing at the offending token and naming the fix.

mod common;
mod prompt;
mod resource;
mod tool;

use proc_macro::TokenStream;

/// Turns `async fn name(args: A[, ctx: Context]) -> Result<CallToolResult, Error>` into a
/// tool, generating `fn name_tool() -> oxmcp::Tool`.
///
/// - `A` is `Deserialize + JsonSchema`: the input schema comes from it, and arguments that
///   do not deserialise give an `isError` result naming the field, before the function runs.
/// - `ctx: oxmcp::Context` (or `&Context`) is optional and goes last.
/// - The tool's name is the function's; its description is the doc comment.
///
/// Keys, all optional:
///
/// - `name = "..."`: the tool's name instead of the function's;
/// - `title = "..."`: the human-readable title;
/// - `description = "..."`: instead of the doc comment;
/// - `structured`: the function returns `Result<T, oxmcp::Error>` with
///   `T: Serialize + JsonSchema` (an object); `T`'s schema becomes the `outputSchema` and the
///   value is sent as `structuredContent` (uses `Tool::structured`).
///
/// ```text
/// use oxmcp::model::CallToolResult;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct EchoArgs {
///     /// The text to send back.
///     message: String,
/// }
///
/// /// Echoes `message` back.
/// #[oxmcp::tool]
/// async fn echo(args: EchoArgs) -> Result<CallToolResult, oxmcp::Error> {
///     Ok(CallToolResult::text(args.message))
/// }
///
/// /// Adds two integers.
/// #[oxmcp::tool(name = "add", title = "Adder", structured)]
/// async fn add(args: AddArgs, ctx: oxmcp::Context) -> Result<Sum, oxmcp::Error> {
///     Ok(Sum { sum: args.a + args.b })
/// }
///
/// let server = Server::builder("demo", "1.0.0").tool(echo_tool()).tool(add_tool()).build();
/// ```
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    common::expand("tool", item.into(), |f| tool::expand(attr.into(), f)).into()
}

/// Turns `async fn name([args: HashMap<String, String>][, ctx: Context]) ->
/// Result<GetPromptResult, Error>` into a prompt, generating `fn name_prompt() ->
/// oxmcp::Prompt`. Both parameters are optional; `ctx` goes last.
///
/// Keys, all optional:
///
/// - `name = "..."`, `title = "..."`, `description = "..."` (else the doc comment);
/// - `arguments(topic = "What to write about", tone? = "How it should sound")`: the
///   declared arguments, in order, each `name = "description"`; a `?` after the name makes
///   it optional (required arguments are checked before the function runs). The
///   description may be left out (`arguments(topic, tone?)`), and a name that is not a Rust
///   identifier may be a string (`"user-id" = "..."`).
///
/// ```text
/// /// Writes a haiku.
/// #[oxmcp::prompt(arguments(topic = "What about", tone? = "How it should sound"))]
/// async fn haiku(args: HashMap<String, String>) -> Result<GetPromptResult, oxmcp::Error> {
///     let topic = &args["topic"];
///     Ok(GetPromptResult {
///         messages: vec![PromptMessage::user_text(format!("A haiku about {topic}"))],
///         ..Default::default()
///     })
/// }
///
/// let server = Server::builder("demo", "1.0.0").prompt(haiku_prompt()).build();
/// ```
#[proc_macro_attribute]
pub fn prompt(attr: TokenStream, item: TokenStream) -> TokenStream {
    common::expand("prompt", item.into(), |f| prompt::expand(attr.into(), f)).into()
}

/// Turns an `async fn` returning `Result<Vec<ResourceContents>, Error>` into a resource.
///
/// - With a fixed URI, the function takes `([uri: String][, ctx: Context])` (both
///   optional) and `fn name_resource() -> oxmcp::Resource` is generated.
/// - With a URI template (the URI contains `{`), it takes `(uri: String, vars:
///   HashMap<String, String>[, ctx: Context])` and `fn name_template() ->
///   Result<oxmcp::ResourceTemplate, oxmcp::Error>` is generated (it fails if the template
///   uses an expression oxmcp does not support).
///
/// Keys: `uri = "..."` (required); optional `name = "..."` (else the function's name),
/// `mime_type = "..."`, `description = "..."` (else the doc comment) and, for fixed
/// resources only, `title = "..."`.
///
/// ```text
/// /// The project's README.
/// #[oxmcp::resource(uri = "docs://readme", mime_type = "text/markdown")]
/// async fn readme(uri: String) -> Result<Vec<ResourceContents>, oxmcp::Error> {
///     Ok(vec![ResourceContents::text(uri, Some("text/markdown".into()), "# Hi")])
/// }
///
/// /// One user's profile.
/// #[oxmcp::resource(uri = "users://{id}/profile", name = "profile")]
/// async fn profile(
///     uri: String,
///     vars: HashMap<String, String>,
///     ctx: oxmcp::Context,
/// ) -> Result<Vec<ResourceContents>, oxmcp::Error> {
///     Ok(vec![ResourceContents::text(uri, None, format!("user {}", vars["id"]))])
/// }
///
/// let server = Server::builder("demo", "1.0.0")
///     .resource(readme_resource())
///     .resource_template(profile_template()?)
///     .build();
/// ```
#[proc_macro_attribute]
pub fn resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    common::expand("resource", item.into(), |f| {
        resource::expand(attr.into(), f)
    })
    .into()
}

#[cfg(test)]
mod tests;
