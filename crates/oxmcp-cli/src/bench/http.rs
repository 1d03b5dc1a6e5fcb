//! One keep-alive HTTP/1.1 connection to an MCP server over Streamable HTTP, as a
//! [`Service`]: each call is a `tools/call` of `echo`, checked for the echoed text.
//!
//! In the 2026-07-28 era every request stands alone. In the revisions with a handshake the
//! connection first opens a session (`initialize`, then `notifications/initialized`) of its
//! own, or joins one shared by every connection, or uses none (a stateless server); the
//! replies may be JSON or an SSE stream, whose last `data:` line is the answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper::{HeaderMap, StatusCode};
use hyper_util::rt::TokioIo;

use super::mcp::{Framing, check_echo, negotiated};
use super::recorder::Service;

/// Which session the connections of a run use (revisions with a handshake only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SessionMode {
    /// Each connection opens its own session.
    PerConnection,
    /// One session, opened first, shared by every connection.
    Shared,
    /// No `initialize`, no session: for servers in a stateless mode.
    None,
}

/// Where and what to send: built once, shared by every connection.
#[derive(Debug)]
pub struct Target {
    /// `host:port` to connect to.
    pub authority: String,
    /// The endpoint's path.
    pub path: String,
    /// The requests and the expected replies.
    pub framing: Framing,
    /// Which session requests go to.
    pub sessions: SessionMode,
    /// The next request id: one counter for every connection, since connections may
    /// share a session, where ids must not repeat while in flight.
    next_id: AtomicU64,
}

impl Target {
    /// A target for `url` (`http://host:port/path`).
    pub fn new(url: &str, framing: Framing, sessions: SessionMode) -> anyhow::Result<Target> {
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
        Ok(Target {
            authority,
            path: uri.path().to_owned(),
            framing,
            sessions,
            next_id: AtomicU64::new(1),
        })
    }
}

/// A session the handshake opened: its id (none from a server without sessions) and the
/// revision it settled on.
#[derive(Debug, Clone)]
pub struct Session {
    /// The `Mcp-Session-Id` to send.
    pub id: Option<Arc<str>>,
    /// The `MCP-Protocol-Version` to send.
    pub version: Arc<str>,
}

/// One open connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    target: Arc<Target>,
    session: Session,
    /// Whether this connection opened its session (and ends it on [`Conn::close`]).
    owns_session: bool,
}

impl Conn {
    /// Opens a connection (TCP_NODELAY) with no session yet.
    pub async fn connect(target: Arc<Target>) -> anyhow::Result<Conn> {
        let stream = tokio::net::TcpStream::connect(&target.authority)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", target.authority))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let version = Arc::from(target.framing.version.as_str());
        Ok(Conn {
            sender,
            target,
            session: Session { id: None, version },
            owns_session: false,
        })
    }

    /// Opens a connection ready for calls: in the session `shared`, or in one of its own
    /// when the run's mode asks for that.
    pub async fn open(target: Arc<Target>, shared: Option<&Session>) -> anyhow::Result<Conn> {
        let mut conn = Conn::connect(target).await?;
        if let Some(s) = shared {
            conn.session = s.clone();
        } else if !conn.target.framing.is_modern()
            && conn.target.sessions == SessionMode::PerConnection
        {
            conn.session = conn.initialize().await?;
            conn.owns_session = true;
        }
        Ok(conn)
    }

    /// Runs the handshake: `initialize`, then `notifications/initialized`, and returns the
    /// session it opened (not adopted by this connection).
    pub async fn initialize(&mut self) -> anyhow::Result<Session> {
        let id = self.next_id();
        let body = self.target.framing.initialize(id);
        let (status, headers, reply) = self
            .post(body, "initialize", None, None)
            .await
            .map_err(|e| anyhow::anyhow!("initialize: {e}"))?;
        if status != StatusCode::OK {
            anyhow::bail!(
                "initialize: HTTP {status}: {}",
                String::from_utf8_lossy(&reply)
            );
        }
        let version: Arc<str> = Arc::from(negotiated(message(&reply))?);
        let session = Session {
            id: headers
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
                .map(Arc::from),
            version,
        };
        let (status, _, reply) = self
            .post(
                self.target.framing.initialized().to_owned(),
                "notifications/initialized",
                None,
                Some(&session),
            )
            .await
            .map_err(|e| anyhow::anyhow!("notifications/initialized: {e}"))?;
        if !status.is_success() {
            anyhow::bail!(
                "notifications/initialized: HTTP {status}: {}",
                String::from_utf8_lossy(&reply)
            );
        }
        Ok(session)
    }

    /// Ends the session `s` (`DELETE`); a server that does not allow it is not an error.
    pub async fn delete(&mut self, s: &Session) -> anyhow::Result<()> {
        let Some(id) = &s.id else { return Ok(()) };
        self.sender.ready().await?;
        let req = hyper::Request::delete(self.target.path.as_str())
            .header("host", self.target.authority.as_str())
            .header("mcp-session-id", id.as_ref())
            .header("mcp-protocol-version", s.version.as_ref())
            .body(Full::new(Bytes::new()))?;
        let resp = self.sender.send_request(req).await?;
        let _ = resp.into_body().collect().await;
        Ok(())
    }

    /// Ends the session this connection opened, if any.
    pub async fn close(mut self) {
        if self.owns_session {
            let s = self.session.clone();
            let _ = self.delete(&s).await;
        }
    }

    fn next_id(&self) -> u64 {
        self.target.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// POSTs one message; `name` is the tool's for `tools/call`. Returns the status, the
    /// headers and the whole body.
    async fn post(
        &mut self,
        body: String,
        method: &str,
        name: Option<&str>,
        session: Option<&Session>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), String> {
        self.sender
            .ready()
            .await
            .map_err(|_| "connection closed".to_owned())?;
        let t = &self.target;
        let s = session.unwrap_or(&self.session);
        let mut req = hyper::Request::post(t.path.as_str())
            .header("host", t.authority.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if method != "initialize" {
            req = req.header("mcp-protocol-version", s.version.as_ref());
        }
        if t.framing.is_modern() {
            req = req.header("mcp-method", method);
            if let Some(name) = name {
                req = req.header("mcp-name", name);
            }
        }
        if let Some(id) = &s.id {
            req = req.header("mcp-session-id", id.as_ref());
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("request: {e}"))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|_| "connection error".to_owned())?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|_| "body read error".to_owned())?
            .to_bytes();
        Ok((parts.status, parts.headers, body))
    }
}

/// The JSON-RPC message of a reply body: the body itself, or the last `data:` line of an
/// SSE stream.
pub fn message(body: &[u8]) -> &[u8] {
    let trimmed = body.trim_ascii_start();
    if trimmed.first() == Some(&b'{') {
        return trimmed;
    }
    body.split(|b| *b == b'\n')
        .filter_map(|l| l.strip_prefix(b"data:"))
        .map(|l| l.strip_prefix(b" ").unwrap_or(l))
        .rfind(|l| !l.trim_ascii().is_empty())
        .unwrap_or(b"")
}

impl Service for Conn {
    async fn call(&mut self) -> Result<(), String> {
        let id = self.next_id();
        let body = self.target.framing.call(id);
        let (status, _, reply) = self.post(body, "tools/call", Some("echo"), None).await?;
        if status != StatusCode::OK {
            return Err(format!("http {}", status.as_u16()));
        }
        check_echo(message(&reply), &self.target.framing.expect)
    }
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn the_answer_is_the_json_body_or_the_last_data_line_of_a_stream() {
        assert_eq!(message(b" {\"a\":1}"), b"{\"a\":1}");
        let sse = b"id: 1\ndata: \n\nevent: message\ndata: {\"b\":2}\r\n\n";
        assert_eq!(message(sse).trim_ascii(), b"{\"b\":2}");
        assert_eq!(message(b"data:{\"c\":3}\n\n"), b"{\"c\":3}");
    }
}
