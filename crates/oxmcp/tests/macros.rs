//! `#[oxmcp::tool]`, `#[oxmcp::prompt]` and `#[oxmcp::resource]`, end to end over an
//! in-memory duplex: what the generated builders list, and that calls reach the functions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{Client, start};
use oxmcp::model::{CallToolResult, GetPromptResult, PromptMessage, ResourceContents};
use oxmcp::{Context, Error, Server, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    message: String,
    /// How many times.
    #[serde(default)]
    times: Option<u32>,
}

/// Echoes `message` back.
///
///     Indented lines keep their relative indentation.
#[oxmcp::tool]
async fn echo(args: EchoArgs) -> Result<CallToolResult, Error> {
    let times = args.times.unwrap_or(1) as usize;
    Ok(CallToolResult::text(args.message.repeat(times)))
}

/// Says which request it serves.
#[oxmcp::tool(name = "who-am-i", title = "Who am I")]
async fn whoami(_args: Empty, ctx: Context) -> Result<CallToolResult, Error> {
    let id = ctx
        .request_id()
        .map(|id| format!("{id:?}"))
        .unwrap_or_default();
    Ok(CallToolResult::text(format!("request {id}")))
}

#[derive(Deserialize, JsonSchema)]
struct Empty {}

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    a: i64,
    b: i64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: i64,
}

/// Adds two integers.
#[oxmcp::tool(structured)]
async fn add(args: AddArgs, _ctx: &Context) -> Result<Sum, Error> {
    Ok(Sum {
        sum: args.a + args.b,
    })
}

#[oxmcp::tool(description = "Always fails.")]
async fn r#fail(_args: Empty) -> Result<CallToolResult, Error> {
    Err(Error::failed("failed on purpose"))
}

/// Greets someone.
#[oxmcp::prompt(title = "Greeting", arguments(name = "Who to greet", style? = "How"))]
async fn greet(args: HashMap<String, String>, _ctx: Context) -> Result<GetPromptResult, Error> {
    let style = args.get("style").map_or("plainly", String::as_str);
    Ok(GetPromptResult {
        messages: vec![PromptMessage::user_text(format!(
            "Greet {} {style}.",
            args["name"]
        ))],
        ..Default::default()
    })
}

/// Says hello; takes nothing.
#[oxmcp::prompt(name = "hello")]
async fn hello_prompt_fn() -> Result<GetPromptResult, Error> {
    Ok(GetPromptResult {
        messages: vec![PromptMessage::user_text("Hello!")],
        ..Default::default()
    })
}

/// The project's README.
#[oxmcp::resource(uri = "docs://readme", mime_type = "text/markdown", title = "README")]
async fn readme(uri: String, _ctx: Context) -> Result<Vec<ResourceContents>, Error> {
    Ok(vec![ResourceContents::text(
        uri,
        Some("text/markdown".into()),
        "# oxmcp",
    )])
}

/// A constant.
#[oxmcp::resource(uri = "const://answer", name = "answer")]
async fn answer() -> Result<Vec<ResourceContents>, Error> {
    Ok(vec![ResourceContents::text("const://answer", None, "42")])
}

/// One user's profile.
#[oxmcp::resource(
    uri = "users://{id}/profile",
    name = "profile",
    mime_type = "text/plain"
)]
async fn profile(
    uri: String,
    vars: HashMap<String, String>,
    _ctx: Context,
) -> Result<Vec<ResourceContents>, Error> {
    let id = &vars["id"];
    if id == "0" {
        return Err(Error::resource_not_found(&uri));
    }
    Ok(vec![ResourceContents::text(
        uri.clone(),
        Some("text/plain".into()),
        format!("user {id}"),
    )])
}

/// A group of tools, the way an application composes its "routers".
fn math_tools() -> Vec<Tool> {
    vec![add_tool(), fail_tool()]
}

fn server() -> Server {
    [echo_tool(), whoami_tool()]
        .into_iter()
        .chain(math_tools())
        .fold(Server::builder("macros", "1.0.0"), |b, t| b.tool(t))
        .prompt(greet_prompt())
        .prompt(hello_prompt_fn_prompt())
        .resource(readme_resource())
        .resource(answer_resource())
        .resource_template(profile_template().unwrap())
        .build()
}

async fn ready(version: &str) -> Client {
    let (mut c, _task) = start(server());
    let init = c.initialize(version, json!({})).await;
    assert_eq!(init["protocolVersion"], version);
    c
}

async fn call(c: &mut Client, id: i64, name: &str, arguments: Value) -> Value {
    let (resp, _) = c
        .request(
            json!(id),
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        )
        .await;
    resp["result"].clone()
}

fn by_name<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t[key] == name)
        .unwrap_or_else(|| panic!("{name} not in {list}"))
}

#[tokio::test(start_paused = true)]
async fn tools_are_listed_with_doc_and_schema() {
    let mut c = ready("2025-11-25").await;
    let (resp, _) = c.request(json!(1), "tools/list", json!({})).await;
    let tools = &resp["result"]["tools"];
    let echo = by_name(tools, "name", "echo");
    assert_eq!(
        echo["description"],
        "Echoes `message` back.\n\n    Indented lines keep their relative indentation."
    );
    let schema = &echo["inputSchema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(
        schema["properties"]["message"]["description"],
        "The text to send back."
    );
    assert_eq!(schema["required"], json!(["message"]));
    assert!(echo.get("outputSchema").is_none());

    let who = by_name(tools, "name", "who-am-i");
    assert_eq!(who["title"], "Who am I");
    assert_eq!(who["description"], "Says which request it serves.");
    let fail = by_name(tools, "name", "fail");
    assert_eq!(fail["description"], "Always fails.");
    let add = by_name(tools, "name", "add");
    assert_eq!(add["outputSchema"]["properties"]["sum"]["type"], "integer");
}

#[tokio::test(start_paused = true)]
async fn tools_run_and_bad_arguments_name_the_field() {
    let mut c = ready("2025-11-25").await;
    let r = call(&mut c, 1, "echo", json!({ "message": "ab", "times": 2 })).await;
    assert_eq!(r["content"][0]["text"], "abab");
    assert!(r.get("isError").is_none() || r["isError"] == false, "{r}");

    let r = call(&mut c, 2, "echo", json!({})).await;
    assert_eq!(r["isError"], true, "{r}");
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("message"), "{text}");

    let r = call(&mut c, 3, "echo", json!({ "message": 7 })).await;
    assert_eq!(r["isError"], true, "{r}");
    assert!(
        r["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("`message`")
    );

    // The context reaches the function.
    let r = call(&mut c, 4, "who-am-i", json!({})).await;
    assert!(
        r["content"][0]["text"].as_str().unwrap().contains('4'),
        "{r}"
    );

    let r = call(&mut c, 5, "fail", json!({})).await;
    assert_eq!(r["isError"], true);
    assert_eq!(r["content"][0]["text"], "failed on purpose");
}

#[tokio::test(start_paused = true)]
async fn structured_tools_send_structured_content() {
    let mut c = ready("2025-11-25").await;
    let r = call(&mut c, 1, "add", json!({ "a": 2, "b": 40 })).await;
    assert_eq!(r["structuredContent"], json!({ "sum": 42 }));
    let text: Value = serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, json!({ "sum": 42 }));
}

#[tokio::test(start_paused = true)]
async fn prompts_declare_arguments_and_run() {
    let mut c = ready("2025-11-25").await;
    let (resp, _) = c.request(json!(1), "prompts/list", json!({})).await;
    let prompts = &resp["result"]["prompts"];
    let greet = by_name(prompts, "name", "greet");
    assert_eq!(greet["description"], "Greets someone.");
    assert_eq!(greet["title"], "Greeting");
    assert_eq!(
        greet["arguments"],
        json!([
            { "name": "name", "description": "Who to greet", "required": true },
            { "name": "style", "description": "How", "required": false },
        ])
    );
    let hello = by_name(prompts, "name", "hello");
    assert_eq!(hello["description"], "Says hello; takes nothing.");
    assert!(hello.get("arguments").is_none(), "{hello}");

    let (resp, _) = c
        .request(
            json!(2),
            "prompts/get",
            json!({ "name": "greet", "arguments": { "name": "Ada", "style": "warmly" } }),
        )
        .await;
    assert_eq!(
        resp["result"]["messages"][0]["content"]["text"],
        "Greet Ada warmly."
    );
    // A missing required argument is refused before the function runs.
    let (resp, _) = c
        .request(json!(3), "prompts/get", json!({ "name": "greet" }))
        .await;
    assert_eq!(resp["error"]["code"], -32602, "{resp}");
    let (resp, _) = c
        .request(json!(4), "prompts/get", json!({ "name": "hello" }))
        .await;
    assert_eq!(resp["result"]["messages"][0]["content"]["text"], "Hello!");
}

#[tokio::test(start_paused = true)]
async fn resources_and_templates_are_listed_and_read() {
    let mut c = ready("2025-11-25").await;
    let (resp, _) = c.request(json!(1), "resources/list", json!({})).await;
    let list = &resp["result"]["resources"];
    let readme = by_name(list, "uri", "docs://readme");
    assert_eq!(readme["name"], "readme");
    assert_eq!(readme["title"], "README");
    assert_eq!(readme["mimeType"], "text/markdown");
    assert_eq!(readme["description"], "The project's README.");
    assert_eq!(by_name(list, "uri", "const://answer")["name"], "answer");

    let (resp, _) = c
        .request(json!(2), "resources/templates/list", json!({}))
        .await;
    let t = by_name(
        &resp["result"]["resourceTemplates"],
        "uriTemplate",
        "users://{id}/profile",
    );
    assert_eq!(t["name"], "profile");
    assert_eq!(t["mimeType"], "text/plain");
    assert_eq!(t["description"], "One user's profile.");

    for (id, uri, text) in [
        (3, "docs://readme", "# oxmcp"),
        (4, "const://answer", "42"),
        (5, "users://7/profile", "user 7"),
    ] {
        let (resp, _) = c
            .request(json!(id), "resources/read", json!({ "uri": uri }))
            .await;
        assert_eq!(resp["result"]["contents"][0]["text"], text, "{resp}");
        assert_eq!(resp["result"]["contents"][0]["uri"], uri);
    }
    let (resp, _) = c
        .request(
            json!(6),
            "resources/read",
            json!({ "uri": "users://0/profile" }),
        )
        .await;
    assert_eq!(resp["error"]["code"], -32002, "{resp}");
}

#[test]
fn generated_builders_are_plain_values() {
    assert_eq!(echo_tool().name(), "echo");
    assert_eq!(add_tool().definition().title, None);
    assert_eq!(greet_prompt().definition().name, "greet");
    assert_eq!(readme_resource().definition().uri, "docs://readme");
    assert_eq!(
        profile_template().unwrap().definition().uri_template,
        "users://{id}/profile"
    );
}
