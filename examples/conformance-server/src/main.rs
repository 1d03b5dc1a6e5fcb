//! `oxmcp-conformance-server`: the fixture server that the official MCP conformance suite's
//! server scenarios expect (tools, resources, prompts by the names the suite calls), plus
//! `test_slow` (progress, cancellation, tasks) and `test_list_roots` for the interop tests.
//!
//! Usage: `oxmcp-conformance-server --stdio`, or `--listen ADDR:PORT` for Streamable HTTP
//! at `/mcp` (`--stateless`, `--json` for those modes). With `--listen` it prints
//! `listening on http://ADDR:PORT/mcp` on stdout once it accepts connections.

mod modern;

use std::collections::HashMap;
use std::time::Duration;

use oxmcp::Error;
use oxmcp::model::{CallToolResult, GetPromptResult, LoggingLevel, ResourceContents};
use oxmcp::server::{Prompt, Resource, ResourceTemplate, Server, ServerOptions, TaskSupport, Tool};
use oxmcp::transport::http::{self, HttpOptions, HttpService};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
/// A tiny 8 kHz mono WAV.
const WAV: &str =
    "UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

#[derive(Deserialize, JsonSchema)]
struct SamplingArgs {
    /// The prompt to send to the client's model.
    prompt: String,
}

#[derive(Deserialize, JsonSchema)]
struct ElicitationArgs {
    /// The message shown to the user.
    message: String,
}

#[derive(Deserialize, JsonSchema)]
struct SlowArgs {
    /// How long to work, in seconds (at most 3600).
    seconds: u64,
}

fn result(v: Value) -> Result<CallToolResult, Error> {
    Ok(serde_json::from_value(v)?)
}

fn text(s: impl Into<String>) -> Result<CallToolResult, Error> {
    Ok(CallToolResult::text(s.into()))
}

fn tool<F, Fut>(name: &str, description: &str, f: F) -> Tool
where
    F: Fn(NoArgs, oxmcp::Context) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<CallToolResult, Error>> + Send + 'static,
{
    Tool::new(name, description, f)
}

async fn elicit_summary(
    ctx: &oxmcp::Context,
    key: &str,
    params: Value,
) -> Result<CallToolResult, Error> {
    let answer = ctx.elicit(key, serde_json::from_value(params)?).await?;
    let answer = serde_json::to_value(answer)?;
    text(format!(
        "Elicitation completed: action={}, content={}",
        answer["action"].as_str().unwrap_or("unknown"),
        answer.get("content").cloned().unwrap_or(Value::Null)
    ))
}

fn tools() -> Result<Vec<Tool>, Error> {
    let json_schema_tool = Tool::dynamic(
        serde_json::from_value(json!({
            "name": "json_schema_2020_12_tool",
            "description": "Tool with JSON Schema 2020-12 features",
            "inputSchema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {
                    "address": {
                        "$anchor": "address",
                        "type": "object",
                        "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
                    }
                },
                "properties": { "name": { "type": "string" }, "address": { "$ref": "#/$defs/address" } },
                "additionalProperties": false,
                "allOf": [{ "anyOf": [{ "required": ["name"] }, { "required": ["address"] }, { "maxProperties": 0 }] }],
                "if": { "required": ["address"] },
                "then": { "properties": { "address": { "type": "object" } } },
                "else": { "properties": { "name": { "type": "string" } } }
            }
        }))?,
        |args, _ctx| async move {
            text(format!(
                "JSON Schema 2020-12 tool called with: {}",
                Value::Object(args)
            ))
        },
    )?;
    Ok(vec![
        tool("test_simple_text", "Returns a simple text response.", |_, _| async {
            text("This is a simple text response for testing.")
        }),
        tool("test_image_content", "Returns an image (PNG).", |_, _| async {
            result(json!({ "content": [{ "type": "image", "data": PNG, "mimeType": "image/png" }] }))
        }),
        tool("test_audio_content", "Returns audio (WAV).", |_, _| async {
            result(json!({ "content": [{ "type": "audio", "data": WAV, "mimeType": "audio/wav" }] }))
        }),
        tool("test_embedded_resource", "Returns an embedded resource.", |_, _| async {
            result(json!({ "content": [{ "type": "resource", "resource": {
                "uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."
            } }] }))
        }),
        tool("test_multiple_content_types", "Returns text, an image and a resource.", |_, _| async {
            result(json!({ "content": [
                { "type": "text", "text": "Multiple content types test:" },
                { "type": "image", "data": PNG, "mimeType": "image/png" },
                { "type": "resource", "resource": {
                    "uri": "test://mixed-content-resource", "mimeType": "application/json", "text": "{\"test\":\"data\",\"value\":123}"
                } }
            ] }))
        }),
        tool("test_tool_with_logging", "Sends three log messages while it runs.", |_, ctx| async move {
            for (i, msg) in ["Tool execution started", "Tool processing data", "Tool execution completed"].iter().enumerate() {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ctx.log(LoggingLevel::Info, *msg).await;
            }
            text("Tool with logging executed successfully")
        }),
        tool("test_error_handling", "Always returns a tool error (isError: true).", |_, _| async {
            Ok(CallToolResult::error_text("This tool intentionally returns an error for testing"))
        }),
        tool("test_tool_with_progress", "Reports progress three times.", |_, ctx| async move {
            for (i, p) in [0.0, 50.0, 100.0].iter().enumerate() {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ctx.progress(*p, Some(100.0), None).await?;
            }
            // The TypeScript SDK client dispatches notifications on a later tick than
            // responses, so progress written right before the result can reach its callback
            // after the call resolved (and be dropped). Leave it the time to arrive.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let token = ctx.meta().and_then(|m| m.get("progressToken")).map(|t| match t {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            text(token.unwrap_or_else(|| "no progress token".into()))
        }),
        Tool::new("test_sampling", "Asks the client's model to complete a prompt.", |a: SamplingArgs, ctx| async move {
            let params = serde_json::from_value(json!({
                "messages": [{ "role": "user", "content": { "type": "text", "text": a.prompt } }],
                "maxTokens": 100
            }))?;
            let answer = serde_json::to_value(ctx.sample("completion", params).await?)?;
            let said = match &answer["content"] {
                Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join(""),
                block => block["text"].as_str().unwrap_or_default().to_owned(),
            };
            text(format!("LLM response: {said}"))
        }),
        Tool::new("test_elicitation", "Asks the user for a username and email.", |a: ElicitationArgs, ctx| async move {
            let answer = ctx
                .elicit(
                    "user",
                    serde_json::from_value(json!({
                        "message": a.message,
                        "requestedSchema": {
                            "type": "object",
                            "properties": {
                                "username": { "type": "string", "description": "User's response" },
                                "email": { "type": "string", "description": "User's email address" }
                            },
                            "required": ["username", "email"]
                        }
                    }))?,
                )
                .await?;
            let answer = serde_json::to_value(answer)?;
            text(format!(
                "User response: action={}, content={}",
                answer["action"].as_str().unwrap_or("unknown"),
                answer.get("content").cloned().unwrap_or(Value::Null)
            ))
        }),
        tool("test_elicitation_sep1034_defaults", "Elicits a form whose fields have defaults.", |_, ctx| async move {
            elicit_summary(&ctx, "defaults", json!({
                "message": "Please review and update the form fields with defaults",
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string", "description": "User name", "default": "John Doe" },
                        "age": { "type": "integer", "description": "User age", "default": 30 },
                        "score": { "type": "number", "description": "User score", "default": 95.5 },
                        "status": { "type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active" },
                        "verified": { "type": "boolean", "description": "Verification status", "default": true }
                    },
                    "required": []
                }
            }))
            .await
        }),
        tool("test_elicitation_sep1330_enums", "Elicits every kind of enum field.", |_, ctx| async move {
            elicit_summary(&ctx, "enums", json!({
                "message": "Please select options from the enum fields",
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "untitledSingle": { "type": "string", "enum": ["option1", "option2", "option3"] },
                        "titledSingle": { "type": "string", "oneOf": [
                            { "const": "value1", "title": "First Option" },
                            { "const": "value2", "title": "Second Option" },
                            { "const": "value3", "title": "Third Option" }
                        ] },
                        "legacyEnum": { "type": "string", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"] },
                        "untitledMulti": { "type": "array", "items": { "type": "string", "enum": ["option1", "option2", "option3"] } },
                        "titledMulti": { "type": "array", "items": { "anyOf": [
                            { "const": "value1", "title": "First Choice" },
                            { "const": "value2", "title": "Second Choice" },
                            { "const": "value3", "title": "Third Choice" }
                        ] } }
                    },
                    "required": []
                }
            }))
            .await
        }),
        json_schema_tool,
        tool("test_reconnection", "Over HTTP, closes its SSE stream mid-call so the client resumes.", |_, ctx| async move {
            // SEP-1699 polling: end the client's connection now; the result, sent a moment
            // later, waits in the stream's replay buffer for the client's GET with
            // Last-Event-ID.
            if ctx.close_sse_stream() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            text("Reconnection test completed")
        }),
        Tool::new("test_slow", "Works for `seconds` seconds with progress each second; cancellable; may run as a task.", |a: SlowArgs, ctx| async move {
            if a.seconds > 3600 {
                return Ok(CallToolResult::error_text(format!("seconds must be at most 3600, got {}", a.seconds)));
            }
            for i in 1..=a.seconds {
                tokio::time::sleep(Duration::from_secs(1)).await;
                ctx.progress(i as f64, Some(a.seconds as f64), None).await?;
            }
            text(format!("test_slow finished after {} seconds", a.seconds))
        })
        .task_support(TaskSupport::Optional),
        tool("test_list_roots", "Asks the client for its roots and returns their URIs.", |_, ctx| async move {
            let roots = serde_json::to_value(ctx.roots("roots").await?)?;
            let uris: Vec<&str> = roots["roots"].as_array().map(|r| r.iter().filter_map(|x| x["uri"].as_str()).collect()).unwrap_or_default();
            text(uris.join("\n"))
        }),
    ])
}

fn prompt_result(v: Value) -> Result<GetPromptResult, Error> {
    Ok(serde_json::from_value(v)?)
}

fn server(options: ServerOptions) -> Result<Server, Error> {
    let mut b =
        Server::builder("oxmcp-conformance-server", env!("CARGO_PKG_VERSION")).options(options);
    for t in tools()?
        .into_iter()
        .chain(modern::tools()?)
        .chain(modern::task_tools())
    {
        b = b.tool(t);
    }
    for p in modern::prompts() {
        b = b.prompt(p);
    }
    b = b
        .resource(
            Resource::text("test://static-text", "static-text", "text/plain", "This is the content of the static text resource.")
                .description("A static text resource"),
        )
        .resource(
            Resource::new("test://static-binary", "static-binary", |uri, _ctx| async move {
                Ok(vec![ResourceContents::blob(uri, Some("image/png".into()), PNG.to_owned())])
            })
            .mime_type("image/png")
            .description("A static binary resource (PNG)"),
        )
        .resource(
            Resource::text("test://watched-resource", "watched-resource", "text/plain", "Watched resource content")
                .description("A resource clients can subscribe to"),
        )
        .resource_template(
            ResourceTemplate::new("test://template/{id}/data", "template-data", |uri, vars: HashMap<String, String>, _ctx| async move {
                let id = vars.get("id").cloned().unwrap_or_default();
                let body = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
                Ok(vec![ResourceContents::text(uri, Some("application/json".into()), body.to_string())])
            })?
            .mime_type("application/json")
            .description("Data for any id"),
        )
        .prompt(Prompt::new("test_simple_prompt", "A prompt without arguments.", |_, _| async {
            prompt_result(json!({ "messages": [{ "role": "user", "content": { "type": "text", "text": "This is a simple prompt for testing." } }] }))
        }))
        .prompt(
            Prompt::new("test_prompt_with_arguments", "A prompt with two arguments.", |args: HashMap<String, String>, _| async move {
                let a1 = args.get("arg1").cloned().unwrap_or_default();
                let a2 = args.get("arg2").cloned().unwrap_or_default();
                prompt_result(json!({ "messages": [{ "role": "user", "content": { "type": "text", "text": format!("Prompt with arguments: arg1='{a1}', arg2='{a2}'") } }] }))
            })
            .argument("arg1", "First test argument", true)
            .argument("arg2", "Second test argument", true)
            .complete("arg1", |value, _| ["testValue1", "testValue2", "other"].iter().filter(|c| c.starts_with(value)).map(|s| s.to_string()).collect()),
        )
        .prompt(
            Prompt::new("test_prompt_with_embedded_resource", "A prompt that embeds a resource.", |args: HashMap<String, String>, _| async move {
                let uri = args.get("resourceUri").cloned().unwrap_or_default();
                prompt_result(json!({ "messages": [
                    { "role": "user", "content": { "type": "resource", "resource": { "uri": uri, "mimeType": "text/plain", "text": "Embedded resource content for testing." } } },
                    { "role": "user", "content": { "type": "text", "text": "Please process the embedded resource above." } }
                ] }))
            })
            .argument("resourceUri", "URI of the resource to embed", true),
        )
        .prompt(Prompt::new("test_prompt_with_image", "A prompt that carries an image.", |_, _| async {
            prompt_result(json!({ "messages": [
                { "role": "user", "content": { "type": "image", "data": PNG, "mimeType": "image/png" } },
                { "role": "user", "content": { "type": "text", "text": "Please analyze the image above." } }
            ] }))
        }));
    Ok(b.build())
}

const USAGE: &str =
    "usage: oxmcp-conformance-server --stdio | --listen ADDR:PORT [--stateless] [--json]";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter("warn")
        .init();
    let mut stdio = false;
    let mut listen = None;
    let mut opts = HttpOptions::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--stdio" => stdio = true,
            "--listen" => {
                let v = it
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--listen needs ADDR:PORT; {USAGE}"))?;
                listen = Some(
                    v.parse::<std::net::SocketAddr>()
                        .map_err(|e| anyhow::anyhow!("--listen {v:?}: {e}; {USAGE}"))?,
                );
            }
            "--stateless" => opts.stateless = true,
            "--json" => opts.json_response = true,
            other => anyhow::bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    let server = server(ServerOptions::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match (stdio, listen) {
        (true, None) => rt.block_on(server.serve_stdio())?,
        (false, Some(addr)) => rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let local = listener.local_addr()?;
            if local.ip().is_loopback() {
                opts = opts.loopback();
            }
            let grace = server.options().shutdown_grace;
            let service = HttpService::new(server, opts);
            println!("listening on http://{local}/mcp");
            http::serve(listener, service, http::shutdown_signal(), grace).await
        })?,
        _ => anyhow::bail!("pass exactly one of --stdio and --listen; {USAGE}"),
    }
    Ok(())
}
