//! Shared fixtures for the oxmcp integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod scrape;
pub mod tcp;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use oxmcp::model::{CallToolResult, GetPromptResult, PromptMessage, ResourceContents};
use oxmcp::server::{
    Prompt, Resource, ResourceTemplate, Server, ServerBuilder, ServerOptions, TaskSupport, Tool,
};
use oxmcp_testkit::LineClient;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::io::{DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub type Client = LineClient<ReadHalf<DuplexStream>, WriteHalf<DuplexStream>>;

/// Runs `server` on an in-memory duplex; returns the client and the session's task.
pub fn start(server: Server) -> (Client, JoinHandle<std::io::Result<()>>) {
    start_with_buffer(server, 64 * 1024)
}

pub fn start_with_buffer(
    server: Server,
    buffer: usize,
) -> (Client, JoinHandle<std::io::Result<()>>) {
    let (client_io, server_io) = tokio::io::duplex(buffer);
    let (sr, sw) = tokio::io::split(server_io);
    let task = tokio::spawn(oxmcp::connection::serve_lines(server, sr, sw));
    let (cr, cw) = tokio::io::split(client_io);
    (LineClient::new(cr, cw), task)
}

#[derive(Deserialize, JsonSchema)]
pub struct EchoArgs {
    pub message: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct Nested {
    pub items: Vec<Item>,
}

#[derive(Deserialize, JsonSchema)]
pub struct Item {
    pub name: String,
    pub count: u32,
}

#[derive(Deserialize, JsonSchema)]
pub struct SlowArgs {
    pub seconds: u64,
}

#[derive(Deserialize, JsonSchema)]
pub struct AddArgs {
    pub a: i64,
    pub b: i64,
}

#[derive(serde::Serialize, JsonSchema)]
pub struct Sum {
    pub sum: i64,
}

#[derive(Deserialize, JsonSchema)]
pub struct Empty {}

/// Each call of the `block` tool sends a receiver that resolves when the handler's future
/// is dropped (its sender is held inside the future), then waits forever.
pub type Started = mpsc::UnboundedReceiver<oneshot::Receiver<()>>;

/// A server with one of everything the engine tests need.
pub fn fixture(options: ServerOptions) -> (Server, Started) {
    let (started_tx, started_rx) = mpsc::unbounded_channel();
    let server = fixture_builder(started_tx).options(options).build();
    (server, started_rx)
}

pub fn fixture_builder(started: mpsc::UnboundedSender<oneshot::Receiver<()>>) -> ServerBuilder {
    Server::builder("fixture", "1.0.0")
        .tool(Tool::new("echo", "Echoes `message`.", |a: EchoArgs, _ctx| async move { Ok(CallToolResult::text(a.message)) }))
        .tool(Tool::new("nested", "Counts items.", |a: Nested, _ctx| async move {
            Ok(CallToolResult::text(a.items.iter().map(|i| format!("{}={}", i.name, i.count)).collect::<Vec<_>>().join(",")))
        }))
        .tool(Tool::new("block", "Blocks until cancelled.", move |_a: Empty, _ctx| {
            let started = started.clone();
            async move {
                let (alive, dropped) = oneshot::channel::<()>();
                let _ = started.send(dropped);
                std::future::pending::<()>().await;
                drop(alive);
                Ok(CallToolResult::text("unreachable"))
            }
        }))
        .tool(
            Tool::new("slow", "Sleeps `seconds`, with progress each second.", |a: SlowArgs, ctx| async move {
                for i in 1..=a.seconds {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    ctx.progress(i as f64, Some(a.seconds as f64), Some("working")).await?;
                }
                Ok(CallToolResult::text(format!("slept {}", a.seconds)))
            })
            .task_support(TaskSupport::Optional),
        )
        .tool(Tool::structured("add", "Adds two integers.", |a: AddArgs, _ctx| async move { Ok(Sum { sum: a.a + a.b }) }))
        .tool(Tool::new("fail", "Always fails.", |_a: Empty, _ctx| async move {
            Err::<CallToolResult, _>(oxmcp::Error::failed("the fail tool failed on purpose"))
        }))
        .tool(Tool::new("panic", "Panics.", |_a: Empty, _ctx| async move {
            if std::hint::black_box(true) {
                panic!("the panic tool panicked on purpose");
            }
            Ok(CallToolResult::text("unreachable"))
        }))
        .tool(Tool::new("ask", "Elicits a name.", |_a: Empty, ctx| async move {
            let params = serde_json::from_value(serde_json::json!({
                "message": "Your name?",
                "requestedSchema": { "type": "object", "properties": { "name": { "type": "string" } }, "required": ["name"] }
            }))?;
            let answer = ctx.elicit("name", params).await?;
            Ok(CallToolResult::text(serde_json::to_string(&answer)?))
        }))
        .tool(Tool::new("roots", "Lists the client's roots.", |_a: Empty, ctx| async move {
            let roots = ctx.roots("roots").await?;
            Ok(CallToolResult::text(serde_json::to_string(&roots)?))
        }))
        .tool(Tool::new("log", "Logs at every level.", |_a: Empty, ctx| async move {
            use oxmcp::model::LoggingLevel::*;
            for level in [Debug, Info, Warning, Error] {
                ctx.log(level, serde_json::json!({ "level": format!("{level:?}") })).await;
            }
            Ok(CallToolResult::text("logged"))
        }))
        .resource(Resource::text("test://static", "static", "text/plain", "hello"))
        .resource(Resource::text("test://watched", "watched", "text/plain", "v1"))
        .resource_template(
            ResourceTemplate::new("test://item/{id}", "items", |uri, vars: HashMap<String, String>, _ctx| async move {
                let id = vars.get("id").cloned().unwrap_or_default();
                if id == "missing" {
                    return Err(oxmcp::Error::resource_not_found(&uri));
                }
                Ok(vec![ResourceContents::text(uri, Some("text/plain".into()), format!("item {id}"))])
            })
            .unwrap()
            .complete("id", |value, _| ["1", "10", "2"].iter().filter(|c| c.starts_with(value)).map(|s| s.to_string()).collect()),
        )
        .prompt(
            Prompt::new("greet", "Greets someone.", |args: HashMap<String, String>, _ctx| async move {
                let name = args.get("name").cloned().unwrap_or_default();
                Ok(GetPromptResult { messages: vec![PromptMessage::user_text(format!("Hello, {name}!"))], ..Default::default() })
            })
            .argument("name", "Who to greet", true)
            .argument("style", "How", false)
            .complete("name", |value, _| ["alice", "albert", "bob"].iter().filter(|c| c.starts_with(value)).map(|s| s.to_string()).collect()),
        )
}

pub fn options() -> ServerOptions {
    ServerOptions::default()
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}
pub mod http;
