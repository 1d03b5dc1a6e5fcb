//! `hyper-echo`: the bare HTTP JSON-RPC floor for `oxmcp bench`.
//!
//! Plain hyper 1 (HTTP/1.1, keep-alive, TCP_NODELAY) on a multi-threaded tokio
//! runtime. Every POST body is parsed as a JSON-RPC message and answered with an
//! `echo` tool result carrying `params.arguments.message` (empty when absent).
//! There are no MCP semantics: no sessions, no initialize, no header checks. A
//! message without an `id` (a notification) gets `202 Accepted` and no body.
//!
//! Usage: `hyper-echo --listen 127.0.0.1:PORT`

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::net::TcpListener;

#[derive(Deserialize)]
struct Call {
    id: Option<Value>,
    #[serde(default)]
    params: Option<Params>,
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    arguments: Option<Arguments>,
}

#[derive(Deserialize)]
struct Arguments {
    #[serde(default)]
    message: String,
}

#[derive(Serialize)]
struct Reply<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    result: ReplyResult<'a>,
}

#[derive(Serialize)]
struct ReplyResult<'a> {
    content: [TextContent<'a>; 1],
}

#[derive(Serialize)]
struct TextContent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::POST {
        return Ok(status(StatusCode::METHOD_NOT_ALLOWED));
    }
    let Ok(body) = request.into_body().collect().await.map(|b| b.to_bytes()) else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    let Ok(call) = serde_json::from_slice::<Call>(&body) else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    let Some(id) = &call.id else {
        return Ok(status(StatusCode::ACCEPTED));
    };
    let text = call
        .params
        .as_ref()
        .and_then(|p| p.arguments.as_ref())
        .map_or("", |a| a.message.as_str());
    let reply = Reply {
        jsonrpc: "2.0",
        id,
        result: ReplyResult {
            content: [TextContent { kind: "text", text }],
        },
    };
    let Ok(json) = serde_json::to_vec(&reply) else {
        return Ok(status(StatusCode::INTERNAL_SERVER_ERROR));
    };
    let mut response = Response::new(Full::new(Bytes::from(json)));
    response.headers_mut().insert(
        CONTENT_TYPE,
        "application/json".parse().expect("static header"),
    );
    Ok(response)
}

fn listen_addr() -> SocketAddr {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, addr] if flag == "--listen" => addr.parse().unwrap_or_else(|e| {
            eprintln!("hyper-echo: bad --listen address {addr}: {e}");
            std::process::exit(2)
        }),
        _ => {
            eprintln!("usage: hyper-echo --listen 127.0.0.1:PORT");
            std::process::exit(2)
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind(listen_addr()).await?;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                eprintln!("hyper-echo: accept failed: {error}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            // A client closing its connection mid-request is routine under load.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                .await;
        });
    }
}
