//! What the load generator says and expects, whatever carries it: the `echo` call in each
//! protocol era, the `initialize` handshake of the revisions that have one, and the check
//! of a reply.

use std::fmt::Write;

use serde::Deserialize;
use serde_json::{Value, json};

/// The revision the stateless era starts with: requests carry their version in `_meta`
/// and need no `initialize`.
pub const MODERN: &str = "2026-07-28";

/// How one run talks: the revision, and the echoed text.
#[derive(Debug, Clone)]
pub struct Framing {
    /// The revision asked for (`initialize`'s `protocolVersion`, or the modern one).
    pub version: String,
    /// The text every reply must echo.
    pub expect: String,
    /// The `tools/call` body up to its id, and from after it: built once, so a request
    /// costs the generator one copy.
    head: String,
    tail: String,
}

impl Framing {
    /// A framing for `version` echoing `payload` bytes.
    pub fn new(version: &str, payload: usize) -> Framing {
        let expect = "x".repeat(payload);
        let mut params = json!({ "name": "echo", "arguments": { "message": expect } });
        if version == MODERN {
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {}
            });
        }
        let tail = json!({ "method": "tools/call", "params": params }).to_string();
        Framing {
            version: version.to_owned(),
            head: r#"{"jsonrpc":"2.0","id":"#.to_owned(),
            // `{"method":…}` becomes `,"method":…}` after the id.
            tail: format!(",{}", &tail[1..]),
            expect,
        }
    }

    /// Whether requests stand alone (no `initialize`, no session).
    pub fn is_modern(&self) -> bool {
        self.version == MODERN
    }

    /// The `tools/call` body with request id `id`.
    pub fn call(&self, id: u64) -> String {
        let mut s = String::with_capacity(self.head.len() + self.tail.len() + 20);
        s.push_str(&self.head);
        let _ = write!(s, "{id}");
        s.push_str(&self.tail);
        s
    }

    /// The `initialize` request body.
    pub fn initialize(&self, id: u64) -> String {
        json!({
            "jsonrpc": "2.0", "id": id, "method": "initialize",
            "params": {
                "protocolVersion": self.version,
                "capabilities": {},
                "clientInfo": { "name": "oxmcp-bench", "version": env!("CARGO_PKG_VERSION") }
            }
        })
        .to_string()
    }

    /// The `notifications/initialized` body.
    pub fn initialized(&self) -> &'static str {
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
    }
}

#[derive(Deserialize)]
struct Reply {
    result: Option<Value>,
    error: Option<Value>,
}

/// Checks one reply message (JSON-RPC): `Err(kind)` when it is an error or does not echo
/// `expect`.
pub fn check_echo(message: &[u8], expect: &str) -> Result<(), String> {
    let reply: Reply = serde_json::from_slice(message).map_err(|_| "not JSON-RPC".to_owned())?;
    if let Some(e) = reply.error {
        return Err(format!("rpc {}", e["code"]));
    }
    let text = reply
        .result
        .as_ref()
        .and_then(|r| r["content"][0]["text"].as_str());
    if text == Some(expect) {
        Ok(())
    } else {
        Err("wrong reply".to_owned())
    }
}

/// The revision an `initialize` reply settled on.
pub fn negotiated(message: &[u8]) -> anyhow::Result<String> {
    let reply: Reply = serde_json::from_slice(message)
        .map_err(|e| anyhow::anyhow!("initialize: the reply is not JSON-RPC: {e}"))?;
    if let Some(e) = reply.error {
        anyhow::bail!("initialize failed: {e}");
    }
    reply
        .result
        .as_ref()
        .and_then(|r| r["protocolVersion"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("initialize: the reply names no protocolVersion"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_body_is_json_rpc_with_its_id_and_the_era_s_meta() {
        let f = Framing::new(MODERN, 3);
        let v: Value = serde_json::from_str(&f.call(42)).unwrap_or_default();
        assert_eq!(v["id"], 42);
        assert_eq!(v["method"], "tools/call");
        assert_eq!(v["params"]["arguments"]["message"], "xxx");
        assert_eq!(
            v["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
            MODERN
        );
        let legacy = Framing::new("2025-06-18", 1);
        let v: Value = serde_json::from_str(&legacy.call(7)).unwrap_or_default();
        assert_eq!(v["id"], 7);
        assert!(v["params"].get("_meta").is_none());
    }

    #[test]
    fn a_reply_is_checked_for_the_echoed_text() {
        let ok = br#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"xx"}]}}"#;
        assert_eq!(check_echo(ok, "xx"), Ok(()));
        assert_eq!(check_echo(ok, "x"), Err("wrong reply".into()));
        let err = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"no"}}"#;
        assert_eq!(check_echo(err, "xx"), Err("rpc -32602".into()));
        assert_eq!(check_echo(b"<html>", "xx"), Err("not JSON-RPC".into()));
    }
}
