//! The Streamable HTTP client transport (MCP 2025-03-26 … 2025-11-25).
//!
//! A thin adapter: the client engine speaks newline-delimited JSON into an in-memory pipe,
//! and a pump task turns each line into an HTTP POST and each reply (a JSON body, an SSE
//! stream, or `202 Accepted`) back into lines. The pump also
//!
//! - keeps the `Mcp-Session-Id` the server assigns and sends `MCP-Protocol-Version` once
//!   `initialize` has been answered;
//! - resumes an SSE stream that ends before its response arrived with a GET carrying
//!   `Last-Event-ID`, waiting exactly the server's last `retry` before the first attempt
//!   and backing off exponentially only after a failed one ([`ReconnectPolicy`]);
//! - opens the GET stream for server-initiated messages after initialization (a 405 means
//!   the server has none);
//! - re-initialises when a request carrying a session id gets 404 (the session expired) and
//!   retries that request once;
//! - turns HTTP failures into JSON-RPC errors for the request concerned, naming the status;
//! - sends DELETE for the session when the client closes ([`Client::close`] or dropping the
//!   last handle), best effort and bounded in time.
//!
//! ```no_run
//! # async fn run() -> Result<(), oxmcp::client::ClientError> {
//! use oxmcp::client::{Client, HttpClientTransport};
//!
//! let client = Client::builder("my-agent", "1.0.0")
//!     .connect_http(HttpClientTransport::new("https://example.com/mcp").header("Authorization", "Bearer t0k3n"))
//!     .await?;
//! let tools = client.list_all_tools().await?;
//! client.close().await;
//! # Ok(()) }
//! ```
//!
//! TLS is rustls with the *ring* provider (installed as the process default when none is)
//! and the platform's certificate verifier; [`HttpClientTransport::tls_config`] takes a
//! preconfigured rustls `ClientConfig` instead, [`HttpClientTransport::http_client`] a whole
//! `reqwest::Client`.
//!
//! [`Client::close`]: super::Client::close

mod pump;
mod sse;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::ClientError;

/// The default bound on one response body or one SSE event: 4 MiB, like the line limit.
pub const DEFAULT_MAX_BODY: usize = oxmcp_proto::framing::DEFAULT_MAX_LINE;

/// How a broken SSE stream is reconnected.
///
/// The first reconnection waits the stream's last `retry` value exactly (the spec's "MUST
/// respect the retry field"), or `initial_delay` when the server sent none. Each failed
/// attempt doubles the wait, up to `max_delay`; after `max_attempts` failures in a row the
/// stream is given up (a pending request then fails with the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// The wait before the first reconnection when the server sent no `retry` (default 1 s).
    pub initial_delay: Duration,
    /// The longest wait, also the cap on a server's `retry` (default 30 s).
    pub max_delay: Duration,
    /// Failed reconnections in a row before giving up (default 5).
    pub max_attempts: u32,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_attempts: 5,
        }
    }
}

impl ReconnectPolicy {
    /// Sets the wait used when the server sent no `retry`.
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }
    /// Sets the longest wait.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }
    /// Sets the failed attempts in a row before giving up.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// The wait before the next attempt, after `failures` failed ones in a row.
    pub(crate) fn delay(&self, retry_ms: Option<u64>, failures: u32) -> Duration {
        let base = retry_ms
            .map(Duration::from_millis)
            .unwrap_or(self.initial_delay)
            .min(self.max_delay);
        let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
        base.saturating_mul(factor).min(self.max_delay.max(base))
    }
}

/// Where and how to reach a Streamable HTTP server; give it to
/// [`ClientBuilder::connect_http`](super::ClientBuilder::connect_http).
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpClientTransport {
    url: String,
    headers: Vec<(String, String)>,
    max_body: usize,
    reconnect: ReconnectPolicy,
    connect_timeout: Duration,
    close_timeout: Duration,
    tls: Option<Arc<rustls::ClientConfig>>,
    client: Option<reqwest::Client>,
}

impl std::fmt::Debug for HttpClientTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values may be credentials: only their names are shown.
        f.debug_struct("HttpClientTransport")
            .field("url", &self.url)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("max_body", &self.max_body)
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

impl HttpClientTransport {
    /// The MCP endpoint, e.g. `https://example.com/mcp` (checked at connect).
    pub fn new(url: impl Into<String>) -> Self {
        HttpClientTransport {
            url: url.into(),
            headers: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
            reconnect: ReconnectPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
            tls: None,
            client: None,
        }
    }

    /// Adds a header to every request (e.g. `Authorization`); checked at connect.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The largest response body or SSE event accepted, in bytes (default 4 MiB). A larger
    /// reply fails the request it answers with an error naming the limit.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes.max(1);
        self
    }

    /// How broken SSE streams are reconnected.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// The TCP/TLS connect timeout (default 10 s; not used with [`Self::http_client`]).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// How long closing waits for the session's DELETE (default 2 s).
    pub fn close_timeout(mut self, t: Duration) -> Self {
        self.close_timeout = t;
        self
    }

    /// Uses this rustls configuration (roots, client certificates, ALPN) for TLS.
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(Arc::new(config));
        self
    }

    /// Uses this HTTP client as it is (its own TLS, proxies, timeouts).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    fn http(&self) -> Result<reqwest::Client, ClientError> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        ensure_crypto_provider();
        let mut b = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true);
        if let Some(tls) = &self.tls {
            b = b.tls_backend_preconfigured(rustls::ClientConfig::clone(tls));
        }
        b.build()
            .map_err(|e| ClientError::Transport(format!("cannot build the HTTP client: {e}")))
    }

    fn header_map(&self) -> Result<http::HeaderMap, ClientError> {
        let mut map = http::HeaderMap::new();
        for (k, v) in &self.headers {
            let name = http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| ClientError::Transport(format!("invalid header name {k:?}: {e}")))?;
            let mut value = http::HeaderValue::from_str(v).map_err(|e| {
                ClientError::Transport(format!("invalid value for header {k}: {e}"))
            })?;
            if name == http::header::AUTHORIZATION {
                value.set_sensitive(true);
            }
            map.append(name, value);
        }
        Ok(map)
    }
}

/// Installs rustls's *ring* provider as the process default unless one is installed.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: a provider is installed either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The running transport, held by the client's handles.
#[derive(Debug, Clone)]
pub(crate) struct TransportHandle {
    shutdown: CancellationToken,
    done: watch::Receiver<bool>,
}

impl TransportHandle {
    /// Stops the transport (DELETE for the session included) and waits until it has.
    pub(crate) async fn close(&self) {
        self.shutdown.cancel();
        let mut done = self.done.clone();
        let _ = done.wait_for(|d| *d).await;
    }
}

/// The client's end of the pipe to the pump.
pub(crate) type ClientEnd = (
    tokio::io::ReadHalf<tokio::io::DuplexStream>,
    tokio::io::WriteHalf<tokio::io::DuplexStream>,
);

/// Starts the pump; returns the pipe end for the client engine and the handle.
pub(crate) fn start(t: HttpClientTransport) -> Result<(ClientEnd, TransportHandle), ClientError> {
    let url = reqwest::Url::parse(&t.url)
        .map_err(|e| ClientError::Transport(format!("invalid URL {:?}: {e}", t.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ClientError::Transport(format!(
            "the URL {url} is not http or https"
        )));
    }
    let headers = t.header_map()?;
    let http = t.http()?;
    let (client_end, pump_end) = tokio::io::duplex(64 * 1024);
    let shutdown = CancellationToken::new();
    let (done_tx, done_rx) = watch::channel(false);
    let config = pump::Config {
        url,
        headers,
        max_body: t.max_body,
        reconnect: t.reconnect,
        close_timeout: t.close_timeout,
    };
    tokio::spawn(pump::run(http, config, pump_end, shutdown.clone(), done_tx));
    Ok((
        tokio::io::split(client_end),
        TransportHandle {
            shutdown,
            done: done_rx,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_waits_retry_first_then_backs_off_capped() {
        let p = ReconnectPolicy::default();
        assert_eq!(p.delay(Some(500), 0), Duration::from_millis(500));
        assert_eq!(p.delay(Some(500), 1), Duration::from_millis(1000));
        assert_eq!(p.delay(Some(500), 3), Duration::from_millis(4000));
        assert_eq!(p.delay(None, 0), Duration::from_secs(1));
        assert_eq!(p.delay(Some(500), 40), Duration::from_secs(30));
        assert_eq!(p.delay(Some(u64::MAX), 0), Duration::from_secs(30));
    }
}
