//! One keep-alive HTTP/1.1 connection to an MCP server, as a [`Service`]: each call is a
//! 2026-07-28 `tools/call` of `echo` (no session, so every connection and every request
//! stands alone), checked for the echoed text.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{Value, json};

use super::recorder::Service;

/// Where and what to send: built once, shared by every connection.
#[derive(Debug)]
pub struct Target {
    /// `host:port` to connect to.
    pub authority: String,
    /// The endpoint's path.
    pub path: String,
    /// The request body.
    pub body: Bytes,
    /// The text the server must answer with.
    pub expect: String,
}

impl Target {
    /// A target for `url` (`http://host:port/path`) that echoes `payload` bytes.
    pub fn new(url: &str, payload: usize) -> anyhow::Result<Target> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| anyhow::anyhow!("--url {url:?}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            anyhow::bail!("--url {url:?}: only http:// is supported by the load generator");
        }
        let authority = uri
            .authority()
            .map(|a| a.to_string())
            .ok_or_else(|| anyhow::anyhow!("--url {url:?}: no host"))?;
        let path = uri.path().to_owned();
        let expect = "x".repeat(payload);
        let body = json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {
                "name": "echo",
                "arguments": { "message": expect },
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {}
                }
            }
        });
        Ok(Target {
            authority,
            path,
            body: Bytes::from(body.to_string()),
            expect,
        })
    }
}

/// One open connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    target: Arc<Target>,
}

impl Conn {
    /// Opens a connection (TCP_NODELAY) to the target.
    pub async fn open(target: Arc<Target>) -> anyhow::Result<Conn> {
        let stream = tokio::net::TcpStream::connect(&target.authority).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn { sender, target })
    }
}

#[derive(Deserialize)]
struct Reply {
    result: Option<Value>,
    error: Option<Value>,
}

/// The JSON-RPC message of a reply body: the body itself, or the last `data:` line of an
/// SSE stream.
fn message(body: &[u8]) -> &[u8] {
    let trimmed = body.trim_ascii_start();
    if trimmed.first() == Some(&b'{') {
        return trimmed;
    }
    body.split(|b| *b == b'\n')
        .filter_map(|l| l.strip_prefix(b"data: "))
        .rfind(|l| !l.is_empty())
        .unwrap_or(b"")
}

impl Service for Conn {
    async fn call(&mut self) -> Result<(), String> {
        self.sender
            .ready()
            .await
            .map_err(|_| "connection closed".to_owned())?;
        let t = &self.target;
        let req = hyper::Request::post(t.path.as_str())
            .header("host", t.authority.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "echo")
            .body(Full::new(t.body.clone()))
            .map_err(|e| format!("request: {e}"))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|_| "connection error".to_owned())?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|_| "body read error".to_owned())?
            .to_bytes();
        if status != hyper::StatusCode::OK {
            return Err(format!("http {}", status.as_u16()));
        }
        let reply: Reply =
            serde_json::from_slice(message(&body)).map_err(|_| "not JSON-RPC".to_owned())?;
        if let Some(e) = reply.error {
            return Err(format!("rpc {}", e["code"]));
        }
        let text = reply
            .result
            .as_ref()
            .and_then(|r| r["content"][0]["text"].as_str());
        if text == Some(t.expect.as_str()) {
            Ok(())
        } else {
            Err("wrong reply".to_owned())
        }
    }
}
