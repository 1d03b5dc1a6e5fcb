//! `rmcp-echo`: an MCP server built on the official Rust SDK (`rmcp`), a peer
//! for `oxmcp bench`.
//!
//! It exposes one tool, `echo`, which returns its `message` argument as a single
//! text content item. Transports:
//!
//! * `rmcp-echo --listen 127.0.0.1:PORT --mode stateful` — Streamable HTTP at
//!   `/mcp` with rmcp's defaults: sessions (`Mcp-Session-Id`) and SSE replies.
//! * `rmcp-echo --listen 127.0.0.1:PORT --mode stateless` — Streamable HTTP at
//!   `/mcp` without sessions (`legacy_session_mode = false`) and with plain
//!   JSON replies (`json_response = true`).
//! * `rmcp-echo --stdio` — newline-delimited JSON-RPC on stdin/stdout.
//!
//! HTTP is served by axum (`Router::nest_service`), as rmcp documents, with
//! TCP_NODELAY set on every accepted connection.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService, stdio_pipes};
use rmcp::{ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

/// Arguments of the `echo` tool.
#[derive(Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    message: String,
}

/// The server: its tool router is built once and shared by every clone, so a
/// stateless request (one server instance each) does not rebuild it.
#[derive(Clone)]
struct Echo {
    tool_router: Arc<ToolRouter<Echo>>,
}

#[tool_router]
impl Echo {
    fn new() -> Self {
        Self {
            tool_router: Arc::new(Self::tool_router()),
        }
    }

    #[tool(description = "Returns its message argument unchanged.")]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        message
    }
}

#[tool_handler(router = self.tool_router, name = "rmcp-echo")]
impl rmcp::ServerHandler for Echo {}

enum Mode {
    Stateful,
    Stateless,
}

enum Command {
    Http(SocketAddr, Mode),
    Stdio,
}

const USAGE: &str =
    "usage: rmcp-echo --listen 127.0.0.1:PORT --mode stateful|stateless | rmcp-echo --stdio";

fn parse_args() -> Result<Command, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["--stdio"] => Ok(Command::Stdio),
        ["--listen", addr, "--mode", mode] | ["--mode", mode, "--listen", addr] => {
            let addr = addr
                .parse()
                .map_err(|e| format!("bad --listen {addr}: {e}"))?;
            let mode = match *mode {
                "stateful" => Mode::Stateful,
                "stateless" => Mode::Stateless,
                other => return Err(format!("bad --mode {other}")),
            };
            Ok(Command::Http(addr, mode))
        }
        _ => Err(USAGE.to_owned()),
    }
}

async fn serve_http(addr: SocketAddr, mode: Mode) -> std::io::Result<()> {
    let server = Echo::new();
    let factory = move || Ok(server.clone());
    let config = StreamableHttpServerConfig::default();
    let router = match mode {
        Mode::Stateful => axum::Router::new().nest_service(
            "/mcp",
            StreamableHttpService::new(factory, Arc::new(LocalSessionManager::default()), config),
        ),
        Mode::Stateless => axum::Router::new().nest_service(
            "/mcp",
            StreamableHttpService::new(
                factory,
                Arc::new(NeverSessionManager::default()),
                config
                    .with_legacy_session_mode(false)
                    .with_json_response(true),
            ),
        ),
    };
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match parse_args() {
        Ok(Command::Http(addr, mode)) => serve_http(addr, mode).await?,
        Ok(Command::Stdio) => {
            Echo::new().serve(stdio_pipes()).await?.waiting().await?;
        }
        Err(message) => {
            eprintln!("rmcp-echo: {message}");
            std::process::exit(2);
        }
    }
    Ok(())
}
