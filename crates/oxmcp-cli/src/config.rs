//! The configuration of `oxmcp serve`: one struct, [`Config`].
//!
//! It is read from a TOML file, then from `OXMCP_<SECTION>_<KEY>` environment variables,
//! then from command-line flags; each layer overrides the one before, and keys no layer
//! sets keep their defaults (the library's own: [`ServerOptions::default`] and
//! [`HttpOptions::default`]). [`Config::load`] merges the layers, checks every key and
//! value, and reports each problem with the key, where its value came from and the fix.
//! [`Config::runtime_options`] is the one place the configuration becomes the options of
//! the server and its HTTP transport.
//!
//! Durations are humantime strings (`"500ms"`, `"10s"`, `"10m"`, `"1h 30m"`); sizes are
//! integers of bytes; rates are `"100/s"`, `"600/min"` or `"5000/h"`. [`KEYS`] lists every key with its kind, flag and meaning; it drives
//! the environment variables, the did-you-mean suggestions and `oxmcp config default`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use oxmcp::guard::{BreakerPolicy, Rate};
use oxmcp::proto::modern::model::{CacheHint, CacheScope};
use oxmcp::server::ServerOptions;
use oxmcp::transport::http::{ClientAuth, HttpOptions, TlsOptions};
use serde::{Deserialize, Serialize};

/// The longest duration any key accepts: 365 days.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// The prefix of every environment variable the configuration reads.
pub const ENV_PREFIX: &str = "OXMCP_";

/// The environment variable that names the configuration file (like `--config`).
pub const CONFIG_ENV: &str = "OXMCP_CONFIG";

/// The older name of `OXMCP_SERVER_LOG`, still read (`OXMCP_SERVER_LOG` wins when both
/// are set).
pub const LOG_ENV: &str = "OXMCP_LOG";

/// The sections of the file, in order.
pub const SECTIONS: [&str; 7] = [
    "server",
    "http",
    "tls",
    "limits",
    "tasks",
    "modern",
    "telemetry",
];

/// Which transport `oxmcp serve` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Transport {
    /// Streamable HTTP on `server.listen` at `server.path`.
    #[default]
    Http,
    /// One session on stdin/stdout; nothing but protocol is written to stdout.
    Stdio,
}

/// How `oxmcp serve` writes its log lines on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, with the request span's fields.
    Json,
}

/// The whole configuration of `oxmcp serve`: the file's sections.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Config {
    /// `[server]`: what to serve, where, and how to stop.
    pub server: ServerConfig,
    /// `[http]`: the Streamable HTTP transport.
    pub http: HttpConfig,
    /// `[tls]`: HTTPS on the listener, optionally with client certificates.
    pub tls: TlsConfig,
    /// `[limits]`: per-session bounds of every transport.
    pub limits: LimitsConfig,
    /// `[tasks]`: bounds of 2025-11-25 tasks.
    pub tasks: TasksConfig,
    /// `[modern]`: the 2026-07-28 revision (requestState keys, caching hints).
    pub modern: ModernConfig,
    /// `[telemetry]`: OpenTelemetry traces exported over OTLP.
    pub telemetry: TelemetryConfig,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ServerConfig {
    /// `http` or `stdio`.
    pub transport: Transport,
    /// The address and port to listen on (HTTP).
    #[serde(with = "addr")]
    pub listen: SocketAddr,
    /// The endpoint's path (HTTP).
    pub path: String,
    /// Serve the files under this directory as read-only resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    /// Log filter for stderr, in tracing's syntax.
    pub log: String,
    /// `text` or `json` lines.
    pub log_format: LogFormat,
    /// Argument names whose values logs show as `<redacted>`.
    pub redact: Vec<String>,
    /// How long requests in flight may finish once shutdown begins.
    #[serde(with = "duration")]
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            transport: Transport::Http,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            path: HttpOptions::default().path.unwrap_or_else(|| "/mcp".into()),
            root: None,
            log: "warn".into(),
            log_format: LogFormat::Text,
            redact: ServerOptions::default().redact,
            shutdown_grace: ServerOptions::default().shutdown_grace,
        }
    }
}

/// `[http]`: the fields of [`HttpOptions`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Hosts the `Host` header may name (`"*"`: any). `None`: the loopback names when
    /// `server.listen` is a loopback address, otherwise any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_hosts: Option<Vec<String>>,
    /// Origins allowed besides the request's own (`"*"`: any).
    pub allowed_origins: Vec<String>,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// Sessions at once.
    pub max_sessions: usize,
    /// Idle time after which a session ends.
    #[serde(with = "duration")]
    pub session_ttl: Duration,
    /// No sessions: every POST is served on its own.
    pub stateless: bool,
    /// Answer every request with `application/json`.
    pub json_response: bool,
    /// Offer the GET stream.
    pub get_stream: bool,
    /// Events kept per stream for `Last-Event-ID` replay.
    pub replay_events: usize,
    /// Finished streams kept per session for resumption.
    pub resumable_streams: usize,
    /// Comment lines on idle SSE streams this often (`None`: never).
    #[serde(with = "duration_or_off")]
    pub keep_alive: Option<Duration>,
    /// The `retry` announced to clients.
    #[serde(with = "duration")]
    pub sse_retry: Duration,
    /// The `Retry-After` of a refusal.
    #[serde(with = "duration")]
    pub retry_after: Duration,
    /// Answer `/health/live` and `/health/ready`.
    pub health: bool,
    /// On shutdown, how long readiness fails before the listener closes.
    #[serde(with = "duration")]
    pub drain_delay: Duration,
    /// Answer `GET /metrics` (OpenMetrics text), after the Host and Origin checks.
    pub metrics: bool,
    /// Connections at once.
    pub max_connections: usize,
    /// Connections one client address may hold (`None`: no limit beyond `max_connections`).
    #[serde(with = "integer_or_off")]
    pub max_connections_per_ip: Option<usize>,
    /// Sessions one client address may hold (`None`: no limit beyond `max_sessions`).
    #[serde(with = "integer_or_off")]
    pub max_sessions_per_ip: Option<usize>,
    /// `initialize` requests one client address may send (`None`: no limit).
    #[serde(with = "rate_or_off")]
    pub initialize_rate_per_ip: Option<Rate>,
    /// POSTs one client address may send (`None`: no limit).
    #[serde(with = "rate_or_off")]
    pub rate_per_ip: Option<Rate>,
    /// POSTs one authenticated principal may send (`None`: no limit).
    #[serde(with = "rate_or_off")]
    pub rate_per_principal: Option<Rate>,
    /// Peers whose `X-Forwarded-For` names the client.
    #[serde(with = "ip_list")]
    pub trusted_proxies: Vec<IpAddr>,
    /// The largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// Headers one request may carry.
    pub max_headers: usize,
    /// How long a client may take to send a request's head.
    #[serde(with = "duration")]
    pub header_timeout: Duration,
    /// How long a handler waits for an SSE reader a full replay buffer behind.
    #[serde(with = "duration")]
    pub slow_reader_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let d = HttpOptions::default();
        HttpConfig {
            allowed_hosts: None,
            allowed_origins: d.allowed_origins,
            max_body: d.max_body,
            max_sessions: d.max_sessions,
            session_ttl: d.session_ttl,
            stateless: d.stateless,
            json_response: d.json_response,
            get_stream: d.get_stream,
            replay_events: d.replay_events,
            resumable_streams: d.resumable_streams,
            keep_alive: d.keep_alive,
            sse_retry: d.sse_retry,
            retry_after: d.retry_after,
            health: d.health,
            drain_delay: d.drain_delay,
            metrics: d.metrics,
            max_connections: d.max_connections,
            max_connections_per_ip: d.max_connections_per_ip,
            max_sessions_per_ip: d.max_sessions_per_ip,
            initialize_rate_per_ip: d.initialize_rate_per_ip,
            rate_per_ip: d.rate_per_ip,
            rate_per_principal: d.rate_per_principal,
            trusted_proxies: d.trusted_proxies,
            max_header_bytes: d.max_header_bytes,
            max_headers: d.max_headers,
            header_timeout: d.header_timeout,
            slow_reader_timeout: d.slow_reader_timeout,
        }
    }
}

/// `[tls]`: HTTPS on `server.listen` (the fields of [`TlsOptions`] and how often the
/// files are looked at). Without `cert` the listener speaks plain HTTP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct TlsConfig {
    /// PEM file with the certificate chain, leaf first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// PEM file with the private key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// PEM file with the CAs that sign client certificates (mTLS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ca: Option<PathBuf>,
    /// Whether a client certificate is required when `client_ca` is set.
    pub client_auth: TlsClientAuth,
    /// How often the files are read to reload changed ones (`None`: only on SIGHUP).
    #[serde(with = "duration_or_off")]
    pub watch_interval: Option<Duration>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            cert: None,
            key: None,
            client_ca: None,
            client_auth: TlsClientAuth::Required,
            watch_interval: Some(Duration::from_secs(10)),
        }
    }
}

/// `tls.client_auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TlsClientAuth {
    /// A client without a certificate signed by `client_ca` is refused in the handshake.
    #[default]
    Required,
    /// A client may connect without a certificate (and then has no principal).
    Optional,
}

/// `[limits]`: [`ServerOptions`] and its `SessionLimits`: per-session bounds, and the
/// server-wide guards (requests in flight, circuit breakers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LimitsConfig {
    /// The longest line a line transport reads, in bytes.
    pub max_line: usize,
    /// Messages queued for a client before senders wait.
    pub outbound_queue: usize,
    /// Items per page of every list.
    pub page_size: usize,
    /// Requests handled at once per session.
    pub max_in_flight: usize,
    /// Server-to-client requests awaiting an answer per session.
    pub max_pending_outgoing: usize,
    /// How long a request may run (`None`: no limit).
    #[serde(with = "duration_or_off")]
    pub request_timeout: Option<Duration>,
    /// How long the client may take to answer a server-to-client request.
    #[serde(with = "duration")]
    pub outgoing_timeout: Duration,
    /// Messages in one JSON-RPC batch.
    pub max_batch: usize,
    /// Resource subscriptions per session.
    pub max_subscriptions: usize,
    /// The wait suggested with an overload error.
    #[serde(with = "duration")]
    pub retry_after: Duration,
    /// Requests handled at once, all sessions together.
    pub max_in_flight_total: usize,
    /// Requests one session may send (`None`: no limit).
    #[serde(with = "rate_or_off")]
    pub rate_per_session: Option<Rate>,
    /// Consecutive failures that open a tool's circuit breaker (`None`: no breakers).
    #[serde(with = "integer_or_off")]
    pub breaker_failures: Option<u32>,
    /// How long an open breaker fails fast before one call may try again.
    #[serde(with = "duration")]
    pub breaker_cool_down: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let o = ServerOptions::default();
        LimitsConfig {
            max_line: o.max_line,
            outbound_queue: o.outbound_queue,
            page_size: o.page_size,
            max_in_flight: o.limits.max_in_flight,
            max_pending_outgoing: o.limits.max_pending_outgoing,
            request_timeout: o.limits.request_timeout,
            outgoing_timeout: o.limits.outgoing_timeout,
            max_batch: o.limits.max_batch,
            max_subscriptions: o.limits.max_subscriptions,
            retry_after: o.limits.retry_after,
            max_in_flight_total: o.max_in_flight_total,
            rate_per_session: o.rate_per_session,
            breaker_failures: o.breaker.map(|b| b.failures),
            breaker_cool_down: o.breaker.unwrap_or_default().cool_down,
        }
    }
}

/// `[tasks]`: `oxmcp::server::TaskLimits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct TasksConfig {
    /// Tasks one session holds at once.
    pub max_tasks: usize,
    /// A task's TTL when the client asks for none.
    #[serde(with = "duration")]
    pub default_ttl: Duration,
    /// The longest TTL granted.
    #[serde(with = "duration")]
    pub max_ttl: Duration,
    /// The `pollInterval` suggested to clients.
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// Tasks of the 2026-07-28 tasks extension held at once, server-wide.
    pub max_server_tasks: usize,
}

impl Default for TasksConfig {
    fn default() -> Self {
        let t = ServerOptions::default().tasks;
        TasksConfig {
            max_tasks: t.max_tasks,
            default_ttl: t.default_ttl,
            max_ttl: t.max_ttl,
            poll_interval: t.poll_interval,
            max_server_tasks: t.max_server_tasks,
        }
    }
}

/// A secret string ([`Kind::Secret`]): used, never printed. `Debug`, `oxmcp config check`
/// and the messages of a refused configuration show `<redacted>` or only its length;
/// serializing it (as [`Config`] does) writes the value, so a file round-trips.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

/// What a redacted secret is printed as.
pub const REDACTED: &str = "<redacted>";

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The shortest `requestState` key accepted, in bytes.
pub const MIN_STATE_KEY_BYTES: usize = 32;

/// `[modern]`: `oxmcp::server::ModernOptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ModernConfig {
    /// The key that signs `requestState` (every node of a deployment must share it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_key: Option<Secret>,
    /// The previous key, still accepted while a new one rolls out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_state_key: Option<Secret>,
    /// How long a `requestState` stays valid.
    #[serde(with = "duration")]
    pub state_ttl: Duration,
    /// Rounds of input one request may take (at least 1).
    pub max_rounds: u32,
    /// `ttlMs` of `server/discover`.
    #[serde(with = "duration")]
    pub discover_ttl: Duration,
    /// `ttlMs` of the four lists.
    #[serde(with = "duration")]
    pub list_ttl: Duration,
    /// `ttlMs` of `resources/read`.
    #[serde(with = "duration")]
    pub read_ttl: Duration,
    /// `cacheScope` of every cacheable result: `private` or `public`.
    pub cache_scope: CacheScope,
}

impl Default for ModernConfig {
    fn default() -> Self {
        let m = ServerOptions::default().modern;
        let ms = |h: CacheHint| Duration::from_millis(h.ttl_ms);
        ModernConfig {
            state_key: None,
            previous_state_key: None,
            state_ttl: m.state_ttl,
            max_rounds: m.max_rounds,
            discover_ttl: ms(m.cache.discover),
            list_ttl: ms(m.cache.tools),
            read_ttl: ms(m.cache.read),
            cache_scope: m.cache.read.scope,
        }
    }
}

/// The `service.name` of exported spans when `telemetry.service_name` is not set.
pub const DEFAULT_SERVICE_NAME: &str = "oxmcp";

/// `[telemetry]`: OpenTelemetry traces, exported over OTLP/HTTP (protobuf).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct TelemetryConfig {
    /// The full URL spans are POSTed to (`http://collector:4318/v1/traces`). Not set: no
    /// spans are exported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    /// The `service.name` resource attribute of the exported spans.
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            otlp_endpoint: None,
            service_name: DEFAULT_SERVICE_NAME.into(),
        }
    }
}

/// How a key's value is written in the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A string.
    Text,
    /// A whole number (sizes in bytes, counts).
    Integer,
    /// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off` in the environment).
    Bool,
    /// A humantime duration.
    Duration,
    /// A humantime duration, or `"off"`.
    DurationOrOff,
    /// A whole number, or `"off"`.
    IntegerOrOff,
    /// A rate (`"100/s"`, `"600/min"`, `"5000/h"`), or `"off"`.
    RateOrOff,
    /// A list of strings (comma-separated in the environment).
    List,
    /// A secret string: never printed (`oxmcp config check` shows `"<redacted>"`).
    Secret,
}

/// One key of the configuration.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Key {
    /// Its section (`"http"`).
    pub section: &'static str,
    /// Its name within the section (`"max_body"`).
    pub name: &'static str,
    /// How its value is written.
    pub kind: Kind,
    /// The `oxmcp serve` flag that sets it, if any.
    pub flag: Option<&'static str>,
    /// What it means (one sentence or two).
    pub doc: &'static str,
}

impl Key {
    /// `section.name`.
    pub fn path(&self) -> String {
        format!("{}.{}", self.section, self.name)
    }

    /// Its environment variable: `OXMCP_<SECTION>_<NAME>`.
    pub fn env(&self) -> String {
        format!(
            "{ENV_PREFIX}{}_{}",
            self.section.to_ascii_uppercase(),
            self.name.to_ascii_uppercase()
        )
    }
}

const fn key(
    section: &'static str,
    name: &'static str,
    kind: Kind,
    flag: Option<&'static str>,
    doc: &'static str,
) -> Key {
    Key {
        section,
        name,
        kind,
        flag,
        doc,
    }
}

/// Every key, section by section, in the order `oxmcp config` prints them.
#[rustfmt::skip]
pub const KEYS: &[Key] = &[
    key("server", "transport", Kind::Text, Some("--stdio"),
        "\"http\": Streamable HTTP on `listen` at `path`. \"stdio\": one session on stdin/stdout (nothing else is written to stdout)."),
    key("server", "listen", Kind::Text, Some("--listen"),
        "The IP address and port to listen on (HTTP). Port 0 picks a free port; the URL printed on start shows the real one."),
    key("server", "path", Kind::Text, Some("--path"),
        "The endpoint's path (HTTP); other paths get 404."),
    key("server", "root", Kind::Text, Some("--root"),
        "Serve the files under this directory as read-only resources. Not set: no file resources."),
    key("server", "log", Kind::Text, Some("--log"),
        "Log filter for stderr, in tracing's syntax (\"info\", \"oxmcp=debug\"). OXMCP_LOG is read too. SIGHUP re-reads it from the file."),
    key("server", "log_format", Kind::Text, None,
        "\"text\": one readable line per event. \"json\": one JSON object per line, with the request's span (method, session, tool, outcome)."),
    key("server", "redact", Kind::List, None,
        "Argument names (any depth, any case) whose values logs show as \"<redacted>\"; Authorization, Cookie and session-id headers always are."),
    key("server", "shutdown_grace", Kind::Duration, Some("--shutdown-grace-ms"),
        "After SIGTERM or Ctrl-C (HTTP) or the end of stdin (stdio), how long requests in flight may finish before they are aborted."),
    key("http", "allowed_hosts", Kind::List, None,
        "Hosts the Host header may name (\"host\" for any port, \"host:port\", or \"*\" for any); others get 403. Not set: the loopback names when `listen` is a loopback address, otherwise any."),
    key("http", "allowed_origins", Kind::List, None,
        "Origins allowed besides the request's own (\"https://app.example\", or \"*\" for any); others get 403. Requests without Origin always pass."),
    key("http", "max_body", Kind::Integer, None,
        "The largest request body, in bytes (at least 1024); a larger one gets 413."),
    key("http", "max_header_bytes", Kind::Integer, None,
        "The largest request head (request line and headers), in bytes (at least 8192); a larger one gets 431."),
    key("http", "max_headers", Kind::Integer, None,
        "Headers one request may carry (at least 1); more get 431."),
    key("http", "header_timeout", Kind::Duration, None,
        "How long a client may take to send a request's head (at least 1s); one that trickles its headers slower is cut off."),
    key("http", "max_connections", Kind::Integer, None,
        "Connections at once, all clients together (at least 1); one more is answered 503 with Retry-After and closed."),
    key("http", "max_connections_per_ip", Kind::IntegerOrOff, None,
        "Connections one client address may hold (at least 1; \"off\": no limit beyond max_connections); one more is answered 429 with Retry-After and closed."),
    key("http", "max_sessions", Kind::Integer, None,
        "Sessions at once; one more `initialize` gets 503 with Retry-After."),
    key("http", "max_sessions_per_ip", Kind::IntegerOrOff, None,
        "Sessions one client address may hold (at least 1; \"off\": no limit beyond max_sessions); one more `initialize` gets 429 with Retry-After."),
    key("http", "initialize_rate_per_ip", Kind::RateOrOff, None,
        "`initialize` requests one client address may send (\"100/s\", \"600/min\", \"5000/h\", in bursts of up to the count; \"off\": no limit); one more gets 429 with Retry-After."),
    key("http", "rate_per_ip", Kind::RateOrOff, None,
        "POSTs one client address may send (\"100/s\", \"600/min\", \"5000/h\", in bursts of up to the count; \"off\": no limit); one more gets 429 with Retry-After."),
    key("http", "rate_per_principal", Kind::RateOrOff, None,
        "POSTs one authenticated principal (set by an authentication layer in front) may send (\"off\": no limit); one more gets 429 with Retry-After."),
    key("http", "trusted_proxies", Kind::List, None,
        "IP addresses of the proxies in front whose X-Forwarded-For names the client, for the per-address limits (\"10.0.0.1\", \"fd00::1\"). Empty: the peer is the client."),
    key("http", "session_ttl", Kind::Duration, None,
        "A session with no request, stream or running handler for this long ends (at least 1s)."),
    key("http", "stateless", Kind::Bool, Some("--stateless"),
        "No sessions: every POST is served on its own, and a disconnect cancels its handler."),
    key("http", "json_response", Kind::Bool, Some("--json-response"),
        "Answer every request with application/json; progress and other related messages go to the GET stream."),
    key("http", "get_stream", Kind::Bool, None,
        "Offer the GET stream of server-to-client messages; when false, GET gets 405."),
    key("http", "replay_events", Kind::Integer, None,
        "Events kept per SSE stream for Last-Event-ID resumption (at least 1)."),
    key("http", "resumable_streams", Kind::Integer, None,
        "Finished streams kept per session for a client that has not read their end (0: none)."),
    key("http", "slow_reader_timeout", Kind::Duration, None,
        "How long a handler waits for an SSE reader that lags a full replay buffer behind (at least 100ms); then that reader's connection is closed and the stream goes on in the replay buffer, for Last-Event-ID."),
    key("http", "keep_alive", Kind::DurationOrOff, None,
        "A comment line on idle SSE streams this often (at least 1s; \"off\" or \"0s\": never)."),
    key("http", "sse_retry", Kind::Duration, None,
        "The reconnection delay (SSE `retry`) announced to clients on 2025-11-25 sessions."),
    key("http", "retry_after", Kind::Duration, None,
        "The Retry-After sent when the server is at max_sessions or max_connections, or an address at its max_sessions_per_ip or max_connections_per_ip (a rate limit sends the wait until a request would pass)."),
    key("http", "health", Kind::Bool, None,
        "Answer GET /health/live (200 while the process serves) and GET /health/ready (200 when it should get traffic; 503 while starting, draining or a dependency is down, with a JSON body saying why), before any Host or path check."),
    key("http", "metrics", Kind::Bool, None,
        "Answer GET /metrics with the server's metrics (OpenMetrics text), after the Host and Origin checks; when false, it gets 404."),
    key("http", "drain_delay", Kind::Duration, None,
        "On SIGTERM or Ctrl-C, how long /health/ready answers 503 while new connections are still accepted, so a load balancer stops sending clients before the listener closes; then the shutdown_grace drain begins."),
    key("tls", "cert", Kind::Text, None,
        "PEM file with the server's certificate chain, leaf first. Set (with key): the listener speaks HTTPS only (TLS 1.2 and 1.3), and plain HTTP gets 400. Not set: plain HTTP."),
    key("tls", "key", Kind::Text, None,
        "PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1)."),
    key("tls", "client_ca", Kind::Text, None,
        "PEM file with the CA certificates that sign client certificates (mTLS); a client certificate's subject (\"CN=alice,O=Example\") becomes the principal of http.rate_per_principal. Not set: no client certificates are asked for."),
    key("tls", "client_auth", Kind::Text, None,
        "With client_ca: \"required\" (a client without a valid certificate is refused in the handshake) or \"optional\" (one without a certificate is served, without a principal)."),
    key("tls", "watch_interval", Kind::DurationOrOff, None,
        "How often the three files are read; changed files are loaded for new connections while open ones keep theirs, and files that do not load leave the old certificate in place (logged, and counted in oxmcp_tls_reloads_total). SIGHUP reloads too. \"off\": only SIGHUP (at least 1s otherwise)."),
    key("limits", "max_line", Kind::Integer, Some("--max-line-bytes"),
        "The longest message line of stdio, in bytes (at least 1024); a longer one is skipped and answered with -32600 naming the limit."),
    key("limits", "outbound_queue", Kind::Integer, None,
        "Messages queued for a client before senders wait (backpressure)."),
    key("limits", "page_size", Kind::Integer, None,
        "Items per page of every */list result."),
    key("limits", "max_in_flight", Kind::Integer, None,
        "Requests handled at once per session; one more gets -31429 with data.retryAfterMs."),
    key("limits", "max_in_flight_total", Kind::Integer, None,
        "Requests handled at once, all sessions together (at least 1); one more is shed: over HTTP 503 with Retry-After, over stdio -31429 with data.retryAfterMs and data.limit."),
    key("limits", "rate_per_session", Kind::RateOrOff, None,
        "Requests one session may send (\"100/s\", \"600/min\", \"5000/h\", in bursts of up to the count; \"off\": no limit); one more gets -31429 with data.retryAfterMs (over HTTP 429 with Retry-After)."),
    key("limits", "max_pending_outgoing", Kind::Integer, None,
        "Server-to-client requests (sampling, elicitation, roots) awaiting an answer per session; one more fails the handler's call."),
    key("limits", "request_timeout", Kind::DurationOrOff, None,
        "How long a request may run before it is aborted (\"off\" or \"0s\": no limit); a tool then answers isError: true naming the limit."),
    key("limits", "outgoing_timeout", Kind::Duration, None,
        "How long the client may take to answer a server-to-client request."),
    key("limits", "max_batch", Kind::Integer, None,
        "Messages in one JSON-RPC batch (2025-03-26 sessions); a larger batch gets one -32600."),
    key("limits", "max_subscriptions", Kind::Integer, None,
        "Resource subscriptions per session; one more gets -31429."),
    key("limits", "retry_after", Kind::Duration, None,
        "The wait suggested (data.retryAfterMs) with an overload error, and the Retry-After of a request shed at max_in_flight_total."),
    key("limits", "breaker_failures", Kind::IntegerOrOff, None,
        "Consecutive failures (an error, a panic or a timeout) of one tool that open its circuit breaker (at least 1; \"off\": no breakers); while it is open, a call answers isError: true naming the breaker."),
    key("limits", "breaker_cool_down", Kind::Duration, None,
        "How long an open breaker fails calls fast before one call may try again; that call's outcome closes the breaker or opens it again."),
    key("tasks", "max_tasks", Kind::Integer, None,
        "Tasks one session holds at once, finished ones included until they expire; one more gets -31429."),
    key("tasks", "default_ttl", Kind::Duration, None,
        "A task's TTL when the client asks for none (at most max_ttl)."),
    key("tasks", "max_ttl", Kind::Duration, None,
        "The longest TTL granted; a longer request is cut to it."),
    key("tasks", "poll_interval", Kind::Duration, None,
        "The pollInterval suggested to clients."),
    key("tasks", "max_server_tasks", Kind::Integer, None,
        "Tasks of the 2026-07-28 tasks extension the server holds at once, for all clients together; one more gets -31429."),
    key("modern", "state_key", Kind::Secret, None,
        "The secret (at least 32 bytes) that signs the requestState of 2026-07-28 multi round-trip requests. Every node of a deployment must share it; set it through the environment. Not set: a random key per process (a state then opens only on the node that sealed it)."),
    key("modern", "previous_state_key", Kind::Secret, None,
        "The key before state_key, still accepted while a new key rolls out (then remove it). Not set: none."),
    key("modern", "state_ttl", Kind::Duration, None,
        "How long a requestState stays valid (at least 1s); an older one gets -32602."),
    key("modern", "max_rounds", Kind::Integer, None,
        "Rounds of input (input_required) one request may take before it is refused with -32602."),
    key("modern", "discover_ttl", Kind::Duration, None,
        "The ttlMs of server/discover results (0s: stale at once)."),
    key("modern", "list_ttl", Kind::Duration, None,
        "The ttlMs of tools/list, prompts/list, resources/list and resources/templates/list results."),
    key("modern", "read_ttl", Kind::Duration, None,
        "The ttlMs of resources/read results (a resource may set its own in code)."),
    key("modern", "cache_scope", Kind::Text, None,
        "The cacheScope of every cacheable result: \"private\" (only the same authorization context may reuse it) or \"public\"."),
    key("telemetry", "otlp_endpoint", Kind::Text, None,
        "The full OTLP/HTTP URL (protobuf) that spans are exported to, path included: \"http://127.0.0.1:4318/v1/traces\". Not set: no spans are exported."),
    key("telemetry", "service_name", Kind::Text, None,
        "The service.name resource attribute of the exported spans."),
];

/// The key at `section.name`.
pub fn find_key(section: &str, name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.section == section && k.name == name)
}

/// Where a key's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The configuration file at this path.
    File(PathBuf),
    /// This environment variable.
    Env(String),
    /// This command-line flag.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(p) => write!(f, "set in {}", p.display()),
            Origin::Env(v) => write!(f, "set by {v}"),
            Origin::Flag(v) => write!(f, "set by {v}"),
        }
    }
}

/// A value set by a command-line flag.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Flag {
    /// The key it sets (`"http.stateless"`).
    pub key: &'static str,
    /// The value, as it would be written in the file.
    pub value: toml::Value,
    /// The flag, for messages (`"--stateless"`).
    pub name: &'static str,
}

impl Flag {
    /// `name` sets `key` to `value`.
    pub fn new(key: &'static str, value: impl Into<toml::Value>, name: &'static str) -> Self {
        Flag {
            key,
            value: value.into(),
            name,
        }
    }
}

/// Why a configuration was refused: one problem per line, each naming the key, where its
/// value came from, and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<String>,
}

impl ConfigError {
    /// An error of these problems (one sentence each, naming the key).
    pub fn from_problems(problems: Vec<String>) -> Self {
        ConfigError { problems }
    }

    /// The problems, one sentence each.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// A configuration with the origin of every value that did not come from the defaults.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Loaded {
    /// The effective configuration.
    pub config: Config,
    /// `section.key` -> where its value came from (keys at their defaults are absent).
    pub origins: BTreeMap<String, Origin>,
}

impl Loaded {
    /// The effective configuration as TOML, every key with its value; values that did
    /// not come from the defaults say where they came from in a comment.
    pub fn to_toml(&self) -> String {
        render(&self.config, &self.origins)
    }
}

/// The `OXMCP_*` variables of this process's environment, for [`Config::load`]. A
/// variable whose name or value is not UTF-8 is an error naming it.
pub fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
    let mut vars = Vec::new();
    let mut problems = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(ENV_PREFIX) {
            continue;
        }
        match value.into_string() {
            Ok(v) => vars.push((name.to_owned(), v)),
            Err(_) => problems.push(format!("{name}: the value is not UTF-8")),
        }
    }
    if problems.is_empty() {
        Ok(vars)
    } else {
        Err(ConfigError::from_problems(problems))
    }
}

impl Config {
    /// Reads `file` (if any), then the `OXMCP_*` variables among `env`, then `flags`;
    /// later layers override earlier ones. Every key and value is checked, and every
    /// problem found is reported (unknown keys with a suggestion, bad values with the
    /// fix).
    pub fn load(
        file: Option<&Path>,
        env: &[(String, String)],
        flags: &[Flag],
    ) -> Result<Loaded, ConfigError> {
        let text = match file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                ConfigError::from_problems(vec![format!(
                    "cannot read the configuration file {}: {e}",
                    path.display()
                )])
            })?),
            None => None,
        };
        let file = file.zip(text.as_deref());
        load_layers(file, env, flags)
    }

    /// Parses a whole configuration file (no environment, no flags) and validates it;
    /// `name` is the file's name in messages.
    pub fn from_toml_str(text: &str, name: &str) -> Result<Config, ConfigError> {
        load_layers(Some((Path::new(name), text)), &[], &[]).map(|l| l.config)
    }

    /// Checks every value; the error lists every problem, each naming its key and the fix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::from_problems(
                problems
                    .into_iter()
                    .map(|(k, m)| format!("{k}: {m}"))
                    .collect(),
            ))
        }
    }

    fn problems(&self) -> Vec<(&'static str, String)> {
        let mut p: Vec<(&'static str, String)> = Vec::new();
        let s = &self.server;
        if !s.path.starts_with('/') {
            p.push((
                "server.path",
                format!("must start with \"/\", got {:?}", s.path),
            ));
        } else if s
            .path
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
        {
            p.push((
                "server.path",
                format!(
                    "{:?} is not a URL path: write it without spaces, `?` or `#`, e.g. \"/mcp\"",
                    s.path
                ),
            ));
        }
        if let Some(root) = &s.root
            && !root.is_dir()
        {
            p.push((
                "server.root",
                format!(
                    "{:?} is not a directory: give an existing directory, or leave root unset",
                    root.display().to_string()
                ),
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&s.log) {
            p.push((
                "server.log",
                format!(
                    "{:?} is not a log filter ({e}): write e.g. \"warn\", \"info\" or \"oxmcp=debug\"",
                    s.log
                ),
            ));
        }
        let h = &self.http;
        if let Some(hosts) = &h.allowed_hosts {
            for host in hosts {
                if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
                    p.push((
                        "http.allowed_hosts",
                        format!(
                            "{host:?} is not a host: write \"host\" or \"host:port\", e.g. \"mcp.example.com\", or \"*\" for any"
                        ),
                    ));
                }
            }
        }
        for origin in &h.allowed_origins {
            let ok = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.contains(char::is_whitespace)
                    && origin.splitn(4, '/').nth(3).is_none_or(str::is_empty));
            if !ok {
                p.push((
                    "http.allowed_origins",
                    format!(
                        "{origin:?} is not an origin: write scheme://host[:port], e.g. \"https://app.example.com\", or \"*\" for any"
                    ),
                ));
            }
        }
        at_least(&mut p, "http.max_body", h.max_body, 1024, " bytes");
        at_least(&mut p, "http.max_sessions", h.max_sessions, 1, "");
        at_least(&mut p, "http.replay_events", h.replay_events, 1, "");
        if h.session_ttl < Duration::from_secs(1) {
            p.push((
                "http.session_ttl",
                format!("must be at least 1s, got {}", fmt_duration(h.session_ttl)),
            ));
        }
        if let Some(k) = h.keep_alive
            && k < Duration::from_secs(1)
        {
            p.push((
                "http.keep_alive",
                format!(
                    "must be at least 1s, or \"off\" for none, got {}",
                    fmt_duration(k)
                ),
            ));
        }
        at_least(&mut p, "http.max_connections", h.max_connections, 1, "");
        at_least_or_off(
            &mut p,
            "http.max_connections_per_ip",
            h.max_connections_per_ip,
        );
        at_least_or_off(&mut p, "http.max_sessions_per_ip", h.max_sessions_per_ip);
        at_least(
            &mut p,
            "http.max_header_bytes",
            h.max_header_bytes,
            8192,
            " bytes",
        );
        at_least(&mut p, "http.max_headers", h.max_headers, 1, "");
        if h.header_timeout < Duration::from_secs(1) {
            p.push((
                "http.header_timeout",
                format!(
                    "must be at least 1s, got {}",
                    fmt_duration(h.header_timeout)
                ),
            ));
        }
        if h.slow_reader_timeout < Duration::from_millis(100) {
            p.push((
                "http.slow_reader_timeout",
                format!(
                    "must be at least 100ms, got {}",
                    fmt_duration(h.slow_reader_timeout)
                ),
            ));
        }
        if h.metrics && s.path == "/metrics" {
            p.push((
                "server.path",
                "\"/metrics\" is where http.metrics answers: choose another path, e.g. \"/mcp\", or set http.metrics = false".into(),
            ));
        }
        let l = &self.limits;
        at_least(&mut p, "limits.max_line", l.max_line, 1024, " bytes");
        at_least(&mut p, "limits.outbound_queue", l.outbound_queue, 1, "");
        at_least(&mut p, "limits.page_size", l.page_size, 1, "");
        at_least(&mut p, "limits.max_in_flight", l.max_in_flight, 1, "");
        at_least(
            &mut p,
            "limits.max_pending_outgoing",
            l.max_pending_outgoing,
            1,
            "",
        );
        at_least(&mut p, "limits.max_batch", l.max_batch, 1, "");
        at_least(
            &mut p,
            "limits.max_subscriptions",
            l.max_subscriptions,
            1,
            "",
        );
        if l.outgoing_timeout.is_zero() {
            p.push((
                "limits.outgoing_timeout",
                "must be more than 0s, e.g. \"60s\"".into(),
            ));
        }
        at_least(
            &mut p,
            "limits.max_in_flight_total",
            l.max_in_flight_total,
            1,
            "",
        );
        at_least_or_off(
            &mut p,
            "limits.breaker_failures",
            l.breaker_failures.map(|n| n as usize),
        );
        if l.breaker_cool_down.is_zero() {
            p.push((
                "limits.breaker_cool_down",
                "must be more than 0s, e.g. \"30s\"".into(),
            ));
        }
        let t = &self.tasks;
        at_least(&mut p, "tasks.max_tasks", t.max_tasks, 1, "");
        at_least(&mut p, "tasks.max_server_tasks", t.max_server_tasks, 1, "");
        if t.default_ttl.is_zero() {
            p.push((
                "tasks.default_ttl",
                "must be more than 0s, e.g. \"1h\"".into(),
            ));
        } else if t.default_ttl > t.max_ttl {
            p.push((
                "tasks.default_ttl",
                format!(
                    "must not exceed tasks.max_ttl ({}), got {}: lower it or raise max_ttl",
                    fmt_duration(t.max_ttl),
                    fmt_duration(t.default_ttl)
                ),
            ));
        }
        if t.poll_interval.is_zero() {
            p.push((
                "tasks.poll_interval",
                "must be more than 0s, e.g. \"500ms\"".into(),
            ));
        }
        let tls = &self.tls;
        match (&tls.cert, &tls.key) {
            (Some(_), None) => p.push((
                "tls.key",
                "is not set but tls.cert is: set both (the certificate and its private key), or neither for plain HTTP".into(),
            )),
            (None, Some(_)) => p.push((
                "tls.cert",
                "is not set but tls.key is: set both (the certificate and its private key), or neither for plain HTTP".into(),
            )),
            _ => {}
        }
        if tls.client_ca.is_some() && tls.cert.is_none() {
            p.push((
                "tls.client_ca",
                "is set but tls.cert is not: client certificates need TLS; set tls.cert and tls.key".into(),
            ));
        }
        if tls.cert.is_some() && s.transport == Transport::Stdio {
            p.push((
                "tls.cert",
                "is set but server.transport is \"stdio\": TLS is for the HTTP listener; remove [tls] or serve HTTP".into(),
            ));
        }
        if let Some(every) = tls.watch_interval
            && every < Duration::from_secs(1)
        {
            p.push((
                "tls.watch_interval",
                format!(
                    "must be at least 1s (or \"off\"), got {}",
                    fmt_duration(every)
                ),
            ));
        }
        let m = &self.modern;
        for (key, secret) in [
            ("modern.state_key", &m.state_key),
            ("modern.previous_state_key", &m.previous_state_key),
        ] {
            if let Some(Secret(k)) = secret
                && let Some(why) = state_key_problem(k)
            {
                p.push((key, why));
            }
        }
        match (&m.state_key, &m.previous_state_key) {
            (None, Some(_)) => p.push((
                "modern.previous_state_key",
                "is set but modern.state_key is not: set state_key to the new key on every node (the previous key is only accepted beside it), or remove previous_state_key".into(),
            )),
            (Some(current), Some(previous)) if current == previous => p.push((
                "modern.previous_state_key",
                "is the same as modern.state_key: set it to the key used before the rotation, or remove it".into(),
            )),
            _ => {}
        }
        if m.max_rounds < 1 {
            p.push((
                "modern.max_rounds",
                format!("must be at least 1, got {}", m.max_rounds),
            ));
        }
        if m.state_ttl < Duration::from_secs(1) {
            p.push((
                "modern.state_ttl",
                format!("must be at least 1s, got {}", fmt_duration(m.state_ttl)),
            ));
        }
        let t = &self.telemetry;
        if let Some(url) = &t.otlp_endpoint
            && let Some(why) = endpoint_problem(url)
        {
            p.push(("telemetry.otlp_endpoint", why));
        }
        if t.service_name.trim().is_empty() {
            p.push((
                "telemetry.service_name",
                "must not be empty: name the service, e.g. \"oxmcp\" or \"mcp-gateway\"".into(),
            ));
        }
        p
    }

    /// The listener's TLS files, when `tls.cert` is set.
    pub fn tls_options(&self) -> Option<TlsOptions> {
        let t = &self.tls;
        let (cert, key) = (t.cert.as_ref()?, t.key.as_ref()?);
        let opts = TlsOptions::new(cert, key);
        Some(match &t.client_ca {
            Some(ca) => opts.client_ca(
                ca,
                match t.client_auth {
                    TlsClientAuth::Required => ClientAuth::Required,
                    TlsClientAuth::Optional => ClientAuth::Optional,
                },
            ),
            None => opts,
        })
    }

    /// The hosts `Host` may name, as served: `None` for any.
    pub fn effective_allowed_hosts(&self) -> Option<Vec<String>> {
        match &self.http.allowed_hosts {
            Some(hosts) if hosts.iter().any(|h| h == "*") => None,
            Some(hosts) => Some(hosts.clone()),
            None if self.server.listen.ip().is_loopback() => {
                HttpOptions::default().loopback().allowed_hosts
            }
            None => None,
        }
    }

    /// The options of the server and of its HTTP transport: the one place the
    /// configuration reaches the library.
    pub fn runtime_options(&self) -> (ServerOptions, HttpOptions) {
        let l = &self.limits;
        let t = &self.tasks;
        let mut server = ServerOptions::default();
        server.max_line = l.max_line;
        server.outbound_queue = l.outbound_queue;
        server.page_size = l.page_size;
        server.shutdown_grace = self.server.shutdown_grace;
        server.redact = self.server.redact.clone();
        server.limits.max_in_flight = l.max_in_flight;
        server.limits.max_pending_outgoing = l.max_pending_outgoing;
        server.limits.request_timeout = l.request_timeout;
        server.limits.outgoing_timeout = l.outgoing_timeout;
        server.limits.max_batch = l.max_batch;
        server.limits.max_subscriptions = l.max_subscriptions;
        server.limits.retry_after = l.retry_after;
        server.max_in_flight_total = l.max_in_flight_total;
        server.rate_per_session = l.rate_per_session;
        server.breaker = l
            .breaker_failures
            .map(|n| BreakerPolicy::new(n, l.breaker_cool_down));
        server.tasks.max_tasks = t.max_tasks;
        server.tasks.default_ttl = t.default_ttl;
        server.tasks.max_ttl = t.max_ttl;
        server.tasks.poll_interval = t.poll_interval;
        server.tasks.max_server_tasks = t.max_server_tasks;
        let m = &self.modern;
        server.modern.state_key = m.state_key.as_ref().map(|k| k.0.as_bytes().to_vec());
        server.modern.previous_state_key = m
            .previous_state_key
            .as_ref()
            .map(|k| k.0.as_bytes().to_vec());
        server.modern.state_ttl = m.state_ttl;
        server.modern.max_rounds = m.max_rounds;
        let hint = |d: Duration| {
            CacheHint::new(
                u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
                m.cache_scope,
            )
        };
        let c = &mut server.modern.cache;
        c.discover = hint(m.discover_ttl);
        c.tools = hint(m.list_ttl);
        c.prompts = hint(m.list_ttl);
        c.resources = hint(m.list_ttl);
        c.templates = hint(m.list_ttl);
        c.read = hint(m.read_ttl);

        let h = &self.http;
        let mut http = HttpOptions::default();
        http.path = Some(self.server.path.clone());
        http.allowed_hosts = self.effective_allowed_hosts();
        http.allowed_origins = h.allowed_origins.clone();
        http.max_body = h.max_body;
        http.max_sessions = h.max_sessions;
        http.session_ttl = h.session_ttl;
        http.stateless = h.stateless;
        http.json_response = h.json_response;
        http.get_stream = h.get_stream;
        http.replay_events = h.replay_events;
        http.resumable_streams = h.resumable_streams;
        http.keep_alive = h.keep_alive;
        http.sse_retry = h.sse_retry;
        http.retry_after = h.retry_after;
        http.health = h.health;
        http.drain_delay = h.drain_delay;
        http.metrics = h.metrics;
        http.max_connections = h.max_connections;
        http.max_connections_per_ip = h.max_connections_per_ip;
        http.max_sessions_per_ip = h.max_sessions_per_ip;
        http.initialize_rate_per_ip = h.initialize_rate_per_ip;
        http.rate_per_ip = h.rate_per_ip;
        http.rate_per_principal = h.rate_per_principal;
        http.trusted_proxies = h.trusted_proxies.clone();
        http.max_header_bytes = h.max_header_bytes;
        http.max_headers = h.max_headers;
        http.header_timeout = h.header_timeout;
        http.slow_reader_timeout = h.slow_reader_timeout;
        (server, http)
    }

    /// The configuration as TOML, every key with its value.
    pub fn to_toml(&self) -> String {
        render(self, &BTreeMap::new())
    }

    /// The default configuration as a commented TOML file (what `oxmcp config default`
    /// prints): every key with its meaning, environment variable, flag and default.
    pub fn default_toml() -> String {
        let config = Config::default();
        let values = section_values(&config);
        let mut out = String::from(
            "# oxmcp configuration: every key at its default.\n\
             # Use it with `oxmcp serve --config FILE` (or OXMCP_CONFIG=FILE); check it with\n\
             # `oxmcp config check --config FILE`. Environment variables override the file, and\n\
             # flags override both. Durations: \"500ms\", \"10s\", \"10m\", \"1h 30m\". Sizes: bytes.\n\
             # Every key is described in docs/CONFIGURATION.md.\n",
        );
        for section in SECTIONS {
            out.push_str(&format!("\n[{section}]\n"));
            for k in KEYS.iter().filter(|k| k.section == section) {
                out.push('\n');
                for line in wrap(k.doc, 86) {
                    out.push_str(&format!("# {line}\n"));
                }
                match k.flag {
                    Some(flag) => out.push_str(&format!("# env {}; flag {flag}\n", k.env())),
                    None => out.push_str(&format!("# env {}\n", k.env())),
                }
                match values.get(section).and_then(|t| t.get(k.name)) {
                    Some(v) => out.push_str(&format!("{} = {v}\n", k.name)),
                    None if k.name == "root" => out.push_str("# root = \"/srv/mcp-files\"\n"),
                    None if k.section == "tls" => out.push_str(&format!(
                        "# {} = \"/etc/oxmcp/tls/{}\"\n",
                        k.name,
                        match k.name {
                            "cert" => "server.crt",
                            "key" => "server.key",
                            _ => "clients-ca.crt",
                        }
                    )),
                    None if k.name == "allowed_hosts" => {
                        out.push_str("# allowed_hosts = [\"mcp.example.com\"]\n")
                    }
                    None if k.name == "otlp_endpoint" => {
                        out.push_str("# otlp_endpoint = \"http://127.0.0.1:4318/v1/traces\"\n")
                    }
                    // A placeholder the checks refuse, should it be uncommented as is.
                    None if k.kind == Kind::Secret => out.push_str(&format!(
                        "# {} = \"<secret>\"  # better: {}, the same on every node\n",
                        k.name,
                        k.env()
                    )),
                    None => out.push_str(&format!("# {} is not set\n", k.name)),
                }
            }
        }
        out
    }
}

fn load_layers(
    file: Option<(&Path, &str)>,
    env: &[(String, String)],
    flags: &[Flag],
) -> Result<Loaded, ConfigError> {
    let mut merged = toml::Table::new();
    let mut origins = BTreeMap::new();
    let mut problems = Vec::new();
    if let Some((path, text)) = file {
        file_layer(path, text, &mut merged, &mut origins, &mut problems);
    }
    env_layer(env, &mut merged, &mut origins, &mut problems);
    for flag in flags {
        match flag.key.split_once('.') {
            Some((section, name)) if find_key(section, name).is_some() => set(
                &mut merged,
                &mut origins,
                section,
                name,
                flag.value.clone(),
                Origin::Flag(flag.name.into()),
            ),
            _ => problems.push(format!(
                "{}: sets `{}`, which is not a configuration key",
                flag.name, flag.key
            )),
        }
    }
    if !problems.is_empty() {
        return Err(ConfigError::from_problems(problems));
    }
    let config: Config =
        serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(|e| {
            let path = e.path().to_string();
            let secret = path
                .split_once('.')
                .and_then(|(section, name)| find_key(section, name))
                .is_some_and(|k| k.kind == Kind::Secret);
            // serde's message quotes the value, which may be the secret.
            let msg = if secret {
                format!("must be a string (a secret of at least {MIN_STATE_KEY_BYTES} bytes)")
            } else {
                e.inner().message().to_owned()
            };
            ConfigError::from_problems(vec![with_origin(&path, &msg, &origins)])
        })?;
    let problems: Vec<String> = config
        .problems()
        .into_iter()
        .map(|(key, msg)| with_origin(key, &msg, &origins))
        .collect();
    if !problems.is_empty() {
        return Err(ConfigError::from_problems(problems));
    }
    Ok(Loaded { config, origins })
}

fn at_least(
    p: &mut Vec<(&'static str, String)>,
    key: &'static str,
    value: usize,
    min: usize,
    unit: &str,
) {
    if value < min {
        p.push((key, format!("must be at least {min}{unit}, got {value}")));
    }
}

/// A limit of [`Kind::IntegerOrOff`]: at least 1 when set.
fn at_least_or_off(p: &mut Vec<(&'static str, String)>, key: &'static str, value: Option<usize>) {
    if value == Some(0) {
        p.push((
            key,
            "must be at least 1, or \"off\" for no limit, got 0".into(),
        ));
    }
}

/// Why `key` cannot sign `requestState`, if it cannot. Never quotes the key.
fn state_key_problem(key: &str) -> Option<String> {
    const FIX: &str = "use a random secret, e.g. the output of `openssl rand -hex 32`";
    if key.len() < MIN_STATE_KEY_BYTES {
        Some(format!(
            "must be at least {MIN_STATE_KEY_BYTES} bytes, got {}: {FIX}",
            key.len()
        ))
    } else if key.starts_with('<') && key.ends_with('>') {
        Some(format!("is a placeholder, not a key: {FIX}"))
    } else if key.trim() != key {
        // The environment's values are trimmed; a file's must agree with them.
        Some("starts or ends with white space: remove it".into())
    } else {
        None
    }
}

fn with_origin(key: &str, msg: &str, origins: &BTreeMap<String, Origin>) -> String {
    let key = if key.is_empty() || key == "." {
        "configuration"
    } else {
        key
    };
    match origins.get(key) {
        Some(o) => format!("{key}: {msg} ({o})"),
        None => format!("{key}: {msg}"),
    }
}

fn set(
    merged: &mut toml::Table,
    origins: &mut BTreeMap<String, Origin>,
    section: &str,
    name: &str,
    value: toml::Value,
    origin: Origin,
) {
    let entry = merged
        .entry(section.to_owned())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if !entry.is_table() {
        *entry = toml::Value::Table(toml::Table::new());
    }
    if let toml::Value::Table(t) = entry {
        t.insert(name.to_owned(), value);
    }
    origins.insert(format!("{section}.{name}"), origin);
}

fn file_layer(
    path: &Path,
    text: &str,
    merged: &mut toml::Table,
    origins: &mut BTreeMap<String, Origin>,
    problems: &mut Vec<String>,
) {
    let file = path.display();
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e)
            if KEYS
                .iter()
                .any(|k| k.kind == Kind::Secret && text.contains(k.name)) =>
        {
            // The usual message quotes the line, which may hold a secret: say where only.
            let at = e
                .span()
                .and_then(|s| text.get(..s.start))
                .map(|before| {
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                    format!(" (line {line}, column {column})")
                })
                .unwrap_or_default();
            problems.push(format!(
                "{file} is not valid TOML: {}{at}",
                e.message().trim_end()
            ));
            return;
        }
        Err(e) => {
            problems.push(format!("{file} is not valid TOML: {e}"));
            return;
        }
    };
    for (section, value) in table {
        if !SECTIONS.contains(&section.as_str()) {
            // A key written above every section header, or a misspelt section.
            let as_key: Vec<&Key> = KEYS.iter().filter(|k| k.name == section).collect();
            if let [k] = as_key.as_slice() {
                problems.push(format!(
                    "unknown key `{section}` in {file}; did you mean `{}`? Put it under [{}]",
                    k.path(),
                    k.section
                ));
            } else if let Some(s) = suggest(&section, SECTIONS.iter().copied()) {
                problems.push(format!(
                    "unknown section `[{section}]` in {file}; did you mean `[{s}]`?"
                ));
            } else {
                problems.push(format!(
                    "unknown section `[{section}]` in {file}; the sections are {}",
                    SECTIONS.map(|s| format!("[{s}]")).join(", ")
                ));
            }
            continue;
        }
        let toml::Value::Table(keys) = value else {
            problems.push(format!(
                "`{section}` in {file} must be a section: write [{section}] on a line of its own, then its keys"
            ));
            continue;
        };
        for (name, value) in keys {
            if find_key(&section, &name).is_some() {
                set(
                    merged,
                    origins,
                    &section,
                    &name,
                    value,
                    Origin::File(path.to_owned()),
                );
                continue;
            }
            let same = KEYS.iter().filter(|k| k.section == section).map(|k| k.name);
            if let Some(s) = suggest(&name, same) {
                problems.push(format!(
                    "unknown key `{section}.{name}` in {file}; did you mean `{s}`?"
                ));
            } else if let Some(k) = KEYS.iter().find(|k| k.name == name) {
                problems.push(format!(
                    "unknown key `{section}.{name}` in {file}; did you mean `{}`? Put it under [{}]",
                    k.path(),
                    k.section
                ));
            } else {
                let names: Vec<&str> = KEYS
                    .iter()
                    .filter(|k| k.section == section)
                    .map(|k| k.name)
                    .collect();
                problems.push(format!(
                    "unknown key `{section}.{name}` in {file}; the keys of [{section}] are {}",
                    names.join(", ")
                ));
            }
        }
    }
}

fn env_layer(
    env: &[(String, String)],
    merged: &mut toml::Table,
    origins: &mut BTreeMap<String, Origin>,
    problems: &mut Vec<String>,
) {
    let server_log_set = env.iter().any(|(n, _)| n == "OXMCP_SERVER_LOG");
    for (name, value) in env {
        if name == LOG_ENV {
            if !server_log_set {
                set(
                    merged,
                    origins,
                    "server",
                    "log",
                    toml::Value::String(value.clone()),
                    Origin::Env(name.clone()),
                );
            }
            continue;
        }
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some(section) = SECTIONS
            .iter()
            .find(|s| rest.starts_with(&format!("{}_", s.to_ascii_uppercase())))
        else {
            continue;
        };
        let Some(k) = KEYS.iter().find(|k| k.env() == *name) else {
            let names: Vec<String> = KEYS
                .iter()
                .filter(|k| k.section == *section)
                .map(|k| k.env())
                .collect();
            match suggest(name, names.iter().map(String::as_str)) {
                Some(s) => problems.push(format!(
                    "unknown environment variable {name}; did you mean {s}?"
                )),
                None => problems.push(format!(
                    "unknown environment variable {name}; the variables of [{section}] are {}",
                    names.join(", ")
                )),
            }
            continue;
        };
        match env_value(k.kind, value) {
            Ok(v) => set(
                merged,
                origins,
                k.section,
                k.name,
                v,
                Origin::Env(name.clone()),
            ),
            Err(msg) => problems.push(format!("{}: {msg} (set by {name})", k.path())),
        }
    }
}

fn env_value(kind: Kind, raw: &str) -> Result<toml::Value, String> {
    let v = raw.trim();
    match kind {
        Kind::Integer => v
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("{raw:?} is not a whole number")),
        Kind::IntegerOrOff if v.eq_ignore_ascii_case("off") => {
            Ok(toml::Value::String("off".into()))
        }
        Kind::IntegerOrOff => v
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("{raw:?} is not a whole number or \"off\"")),
        Kind::Bool => match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("{raw:?} is not true or false")),
        },
        Kind::List => Ok(toml::Value::Array(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        )),
        Kind::Text | Kind::Secret | Kind::Duration | Kind::DurationOrOff | Kind::RateOrOff => {
            Ok(toml::Value::String(v.to_owned()))
        }
    }
}

/// The closest candidate to `word`, if close enough to be a likely typo.
fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let limit = (w.chars().count() / 3).clamp(1, 3);
    candidates
        .map(|c| (distance(&w, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A duration in the largest whole unit that writes it exactly (`"24h"`, `"5m"`,
/// `"1500ms"`); humantime's mixed form otherwise.
fn fmt_duration(d: Duration) -> String {
    let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
    if nanos == 0 {
        match secs {
            0 => "0s".into(),
            s if s % 3600 == 0 => format!("{}h", s / 3600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        }
    } else if nanos % 1_000_000 == 0 {
        format!("{}ms", d.as_millis())
    } else {
        humantime::format_duration(d).to_string()
    }
}

/// The configuration as one table per section.
fn section_values(config: &Config) -> BTreeMap<String, toml::Table> {
    let mut out = BTreeMap::new();
    if let Ok(toml::Value::Table(top)) = toml::Value::try_from(config) {
        for (section, v) in top {
            if let toml::Value::Table(t) = v {
                out.insert(section, t);
            }
        }
    }
    out
}

fn render(config: &Config, origins: &BTreeMap<String, Origin>) -> String {
    let values = section_values(config);
    let mut out = String::from(
        "# The effective configuration of `oxmcp serve` (defaults < file < OXMCP_* < flags).\n",
    );
    for section in SECTIONS {
        out.push_str(&format!("\n[{section}]\n"));
        for k in KEYS.iter().filter(|k| k.section == section) {
            let origin = origins
                .get(&k.path())
                .map(|o| format!("  # {o}"))
                .unwrap_or_default();
            let value = values.get(section).and_then(|t| t.get(k.name));
            match (k.name, value) {
                (_, Some(_)) if k.kind == Kind::Secret => {
                    out.push_str(&format!("{} = \"{REDACTED}\"{origin}\n", k.name));
                }
                (_, Some(v)) if k.name != "allowed_hosts" => {
                    out.push_str(&format!("{} = {v}{origin}\n", k.name));
                }
                ("allowed_hosts", _) => {
                    let hosts = config
                        .effective_allowed_hosts()
                        .unwrap_or_else(|| vec!["*".into()]);
                    let v =
                        toml::Value::Array(hosts.into_iter().map(toml::Value::String).collect());
                    let note = if !origin.is_empty() {
                        origin
                    } else if config.server.listen.ip().is_loopback() {
                        "  # default: the loopback names (listen is a loopback address)".into()
                    } else {
                        "  # default: any host (listen is not a loopback address)".into()
                    };
                    out.push_str(&format!("allowed_hosts = {v}{note}\n"));
                }
                (name, _) => out.push_str(&format!("# {name} is not set\n")),
            }
        }
    }
    out
}

/// Why `url` cannot be the OTLP/HTTP traces endpoint, if it cannot.
fn endpoint_problem(url: &str) -> Option<String> {
    let fix = "write the collector's full traces URL, e.g. \"http://127.0.0.1:4318/v1/traces\"";
    match reqwest::Url::parse(url) {
        Err(e) => Some(format!("{url:?} is not a URL ({e}): {fix}")),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => Some(format!(
            "{url:?} is not an http or https URL (OTLP over gRPC is not supported): {fix}"
        )),
        Ok(u) if u.host_str().is_none_or(str::is_empty) => {
            Some(format!("{url:?} names no host: {fix}"))
        }
        Ok(_) => None,
    }
}

/// Splits `text` into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Durations as humantime strings.
mod duration {
    use std::fmt;
    use std::time::Duration;

    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::fmt_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_str(Visitor)
    }

    pub(super) fn parse(s: &str) -> Result<Duration, String> {
        let d = humantime::parse_duration(s.trim()).map_err(|_| {
            format!("{s:?} is not a duration: write e.g. \"500ms\", \"10s\", \"10m\" or \"1h 30m\"")
        })?;
        if d > super::MAX_DURATION {
            return Err(format!("{s:?} is too long: the longest allowed is 365d"));
        }
        Ok(d)
    }

    struct Visitor;

    impl de::Visitor<'_> for Visitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as \"10s\" or \"10m\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse(v).map_err(E::custom)
        }
    }
}

/// Durations as humantime strings, or `"off"` (also `"0s"`) for none.
mod duration_or_off {
    use std::fmt;
    use std::time::Duration;

    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::duration::serialize(d, s),
            None => s.serialize_str("off"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        d.deserialize_str(Visitor)
    }

    struct Visitor;

    impl de::Visitor<'_> for Visitor {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as \"10s\" or \"10m\", or \"off\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Duration>, E> {
            if v.trim().eq_ignore_ascii_case("off") {
                return Ok(None);
            }
            let d = super::duration::parse(v).map_err(|e| E::custom(format!("{e}, or \"off\"")))?;
            Ok((!d.is_zero()).then_some(d))
        }
    }
}

/// Whole numbers, or `"off"` for none.
mod integer_or_off {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S, T>(n: &Option<T>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: Copy + TryInto<u64>,
    {
        match n.map(TryInto::try_into) {
            Some(Ok(n)) => s.serialize_u64(n),
            Some(Err(_)) => Err(serde::ser::Error::custom(
                "the number does not fit in 64 bits",
            )),
            None => s.serialize_str("off"),
        }
    }

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<u64>,
    {
        d.deserialize_any(Visitor(PhantomData))
    }

    struct Visitor<T>(PhantomData<T>);

    impl<T: TryFrom<u64>> de::Visitor<'_> for Visitor<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number, or \"off\"")
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<T>, E> {
            T::try_from(v).map(Some).map_err(|_| {
                E::custom(format!(
                    "{v} is too large: write a smaller number, or \"off\""
                ))
            })
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<T>, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::custom(format!(
                    "{v} is negative: write a whole number of at least 1, or \"off\" for no limit"
                ))),
            }
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<T>, E> {
            if v.trim().eq_ignore_ascii_case("off") {
                Ok(None)
            } else {
                Err(E::custom(format!(
                    "{v:?} is not a whole number or \"off\": write e.g. 10, or \"off\" for no limit"
                )))
            }
        }
    }
}

/// Rates as `"N/s"`, `"N/min"` or `"N/h"` strings, or `"off"` for none.
mod rate_or_off {
    use std::fmt;

    use oxmcp::guard::Rate;
    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(r: &Option<Rate>, s: S) -> Result<S::Ok, S::Error> {
        match r {
            Some(r) => s.collect_str(r),
            None => s.serialize_str("off"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Rate>, D::Error> {
        d.deserialize_str(Visitor)
    }

    struct Visitor;

    impl de::Visitor<'_> for Visitor {
        type Value = Option<Rate>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a rate such as \"100/s\" or \"600/min\", or \"off\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Rate>, E> {
            if v.trim().eq_ignore_ascii_case("off") {
                return Ok(None);
            }
            Rate::parse(v).map(Some).map_err(|_| {
                E::custom(format!(
                    "{v:?} is not a rate: write a count of at least 1 per second, minute or hour, e.g. \"100/s\", \"600/min\" or \"5000/h\", or \"off\" for no limit"
                ))
            })
        }
    }
}

/// IP addresses as strings (`"10.0.0.1"`, `"fd00::1"`).
mod ip_list {
    use std::net::IpAddr;

    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(ips: &[IpAddr], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ips.iter().map(IpAddr::to_string))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| {
                t.trim().parse().map_err(|_| {
                    de::Error::custom(format!(
                        "{t:?} is not an IP address: write one address per entry, e.g. \"10.0.0.1\" or \"fd00::1\" (no port, no network)"
                    ))
                })
            })
            .collect()
    }
}

/// Socket addresses as `ADDR:PORT` strings.
mod addr {
    use std::fmt;
    use std::net::SocketAddr;

    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(a: &SocketAddr, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(a)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
        d.deserialize_str(Visitor)
    }

    struct Visitor;

    impl de::Visitor<'_> for Visitor {
        type Value = SocketAddr;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("ADDR:PORT, e.g. \"127.0.0.1:8080\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<SocketAddr, E> {
            v.trim().parse().map_err(|_| {
                E::custom(format!(
                    "{v:?} is not ADDR:PORT: write an IP address and a port, e.g. \"127.0.0.1:8080\", \"0.0.0.0:8080\" or \"[::1]:8080\""
                ))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn load(file: &str, env: &[(&str, &str)], flags: &[Flag]) -> Result<Loaded, ConfigError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        load_layers(Some((Path::new("oxmcp.toml"), file)), &env, flags)
    }

    #[test]
    fn defaults_are_the_library_defaults() {
        let (s, h) = Config::default().runtime_options();
        let (ds, dh) = (ServerOptions::default(), HttpOptions::default());
        assert_eq!(s.max_line, ds.max_line);
        assert_eq!(s.limits.request_timeout, ds.limits.request_timeout);
        assert_eq!(s.tasks.max_ttl, ds.tasks.max_ttl);
        assert_eq!(h.max_body, dh.max_body);
        assert_eq!(h.keep_alive, dh.keep_alive);
        assert_eq!(h.path, dh.path);
        assert_eq!(s.max_in_flight_total, ds.max_in_flight_total);
        assert_eq!(s.rate_per_session, ds.rate_per_session);
        assert_eq!(s.breaker, ds.breaker);
        assert_eq!(h.metrics, dh.metrics);
        assert_eq!(h.max_connections, dh.max_connections);
        assert_eq!(h.max_sessions_per_ip, dh.max_sessions_per_ip);
        assert_eq!(h.rate_per_ip, dh.rate_per_ip);
        assert_eq!(h.trusted_proxies, dh.trusted_proxies);
        assert_eq!(h.max_header_bytes, dh.max_header_bytes);
        assert_eq!(h.slow_reader_timeout, dh.slow_reader_timeout);
        // 127.0.0.1 is loopback: the Host allow list is the loopback names.
        assert_eq!(h.allowed_hosts, dh.loopback().allowed_hosts);
        Config::default().validate().unwrap();
    }

    #[test]
    fn every_key_is_a_field_and_every_field_a_key() {
        let mut c = Config::default();
        c.server.root = Some("/".into());
        c.http.allowed_hosts = Some(vec![]);
        c.modern.state_key = Some(Secret("k".repeat(32)));
        c.tls.cert = Some("c".into());
        c.tls.key = Some("k".into());
        c.tls.client_ca = Some("ca".into());
        c.modern.previous_state_key = Some(Secret("p".repeat(32)));
        c.telemetry.otlp_endpoint = Some("http://127.0.0.1:4318/v1/traces".into());
        let values = section_values(&c);
        let fields: usize = values.values().map(|t| t.len()).sum();
        assert_eq!(fields, KEYS.len());
        for k in KEYS {
            assert!(values[k.section].contains_key(k.name), "{}", k.path());
        }
    }

    #[test]
    fn telemetry_keys_are_checked_and_named() {
        let l = load(
            "[telemetry]\notlp_endpoint = \"http://127.0.0.1:4318/v1/traces\"\n",
            &[("OXMCP_TELEMETRY_SERVICE_NAME", "gateway")],
            &[],
        )
        .unwrap();
        let t = &l.config.telemetry;
        assert_eq!(
            t.otlp_endpoint.as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(t.service_name, "gateway");
        assert_eq!(
            Config::default().telemetry.service_name,
            DEFAULT_SERVICE_NAME
        );
        assert!(Config::default().telemetry.otlp_endpoint.is_none());
        for (bad, says) in [
            ("127.0.0.1:4318", "is not a URL"),
            ("grpc://collector:4317", "is not an http or https URL"),
            ("localhost:4318", "is not an http or https URL"),
        ] {
            let e = load(&format!("[telemetry]\notlp_endpoint = {bad:?}\n"), &[], &[]).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("telemetry.otlp_endpoint") && text.contains(says),
                "{bad}: {text}"
            );
        }
        let e = load("[telemetry]\nservice_name = \" \"\n", &[], &[]).unwrap_err();
        assert!(e.to_string().contains("telemetry.service_name"), "{e}");
    }

    #[test]
    fn layers_override_in_order() {
        let l = load(
            "[http]\nmax_sessions = 5\nmax_body = 2048\n[server]\nlog = \"info\"\n",
            &[("OXMCP_HTTP_MAX_SESSIONS", "6"), ("OXMCP_LOG", "debug")],
            &[Flag::new("http.max_body", 4096, "--x")],
        )
        .unwrap();
        assert_eq!(l.config.http.max_sessions, 6);
        assert_eq!(l.config.http.max_body, 4096);
        assert_eq!(l.config.server.log, "debug");
        assert_eq!(l.origins["http.max_body"], Origin::Flag("--x".into()));
    }

    #[test]
    fn tls_keys_come_in_pairs_and_map_to_the_listener_options() {
        let e = load(
            "[tls]\ncert = \"/c.pem\"\nwatch_interval = \"10ms\"\n",
            &[],
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("tls.key: is not set but tls.cert is"), "{e}");
        assert!(e.contains("tls.watch_interval: must be at least 1s"), "{e}");
        let e = load("[tls]\nclient_ca = \"/ca.pem\"\n", &[], &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("tls.client_ca: is set but tls.cert is not"),
            "{e}"
        );
        let e = load(
            "[server]\ntransport = \"stdio\"\n[tls]\ncert = \"/c\"\nkey = \"/k\"\n",
            &[],
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("tls.cert: is set but server.transport is \"stdio\""),
            "{e}"
        );
        let e = load("[tls]\nclient_auth = \"maybe\"\n", &[], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("client_auth"), "{e}");

        assert_eq!(Config::default().tls_options(), None);
        let l = load(
            "[tls]\ncert = \"/c.pem\"\nkey = \"/k.pem\"\nwatch_interval = \"off\"\n",
            &[
                ("OXMCP_TLS_CLIENT_CA", "/ca.pem"),
                ("OXMCP_TLS_CLIENT_AUTH", "optional"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(l.config.tls.watch_interval, None);
        assert_eq!(
            l.config.tls_options(),
            Some(TlsOptions::new("/c.pem", "/k.pem").client_ca("/ca.pem", ClientAuth::Optional))
        );
    }

    #[test]
    fn problems_name_the_key() {
        let e = load("[http]\nmax_sesions = 5\n", &[], &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown key `http.max_sesions` in oxmcp.toml; did you mean `max_sessions`?"
        );
        let e = load("listen = \"0.0.0.0:1\"\n", &[], &[]).unwrap_err();
        assert!(
            e.to_string().contains("did you mean `server.listen`?"),
            "{e}"
        );
        let e = load("[htp]\n", &[], &[]).unwrap_err();
        assert!(e.to_string().contains("did you mean `[http]`?"), "{e}");
        let e = load("[http]\nmax_body = 10\n", &[], &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("http.max_body: must be at least 1024 bytes, got 10 (set in "),
            "{e}"
        );
        let e = load("[server]\nlisten = \"abc\"\n", &[], &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("server.listen: \"abc\" is not ADDR:PORT"),
            "{e}"
        );
        let e = load("", &[("OXMCP_HTTP_SESSION_TTL", "ten minutes")], &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("http.session_ttl: \"ten minutes\" is not a duration")
                && e.to_string().ends_with("(set by OXMCP_HTTP_SESSION_TTL)"),
            "{e}"
        );
        let e = load("", &[("OXMCP_HTTP_MAX_SESIONS", "1")], &[]).unwrap_err();
        assert!(
            e.to_string()
                .contains("did you mean OXMCP_HTTP_MAX_SESSIONS?"),
            "{e}"
        );
        let e = load("[tasks]\ndefault_ttl = \"2d\"\n", &[], &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("tasks.default_ttl: must not exceed"),
            "{e}"
        );
        let e = load("[limits]\nmax_batch = -1\n", &[], &[]).unwrap_err();
        assert!(e.to_string().starts_with("limits.max_batch: "), "{e}");
    }

    #[test]
    fn off_and_zero_disable() {
        let l = load(
            "[http]\nkeep_alive = \"off\"\n[limits]\nrequest_timeout = \"0s\"\n",
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(l.config.http.keep_alive, None);
        assert_eq!(l.config.limits.request_timeout, None);
        assert!(l.to_toml().contains("request_timeout = \"off\""));
        // Integer and rate limits: "off" in the file and the environment, printed back.
        let l = load(
            "[http]\nmax_sessions_per_ip = 4\nrate_per_ip = \"60/m\"\n[limits]\nbreaker_failures = \"off\"\n",
            &[
                ("OXMCP_HTTP_MAX_CONNECTIONS_PER_IP", "off"),
                ("OXMCP_LIMITS_RATE_PER_SESSION", "OFF"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(l.config.http.max_sessions_per_ip, Some(4));
        assert_eq!(l.config.http.max_connections_per_ip, None);
        assert_eq!(l.config.limits.breaker_failures, None);
        assert_eq!(l.config.limits.rate_per_session, None);
        let printed = l.to_toml();
        assert!(
            printed.contains("\nmax_sessions_per_ip = 4  # set in"),
            "{printed}"
        );
        assert!(
            printed.contains("\nrate_per_ip = \"60/min\"  # set in"),
            "{printed}"
        );
        assert!(
            printed.contains("\nbreaker_failures = \"off\"  # set in"),
            "{printed}"
        );
    }

    #[test]
    fn allowed_hosts_follow_listen() {
        let mut c = Config::default();
        c.server.listen = "0.0.0.0:80".parse().unwrap();
        assert_eq!(c.effective_allowed_hosts(), None);
        c.http.allowed_hosts = Some(vec!["mcp.example.com".into()]);
        assert_eq!(
            c.effective_allowed_hosts(),
            Some(vec!["mcp.example.com".into()])
        );
        c.http.allowed_hosts = Some(vec!["*".into()]);
        assert_eq!(c.effective_allowed_hosts(), None);
    }

    #[test]
    fn rendered_configs_parse_back_to_the_same_config() {
        let d = Config::from_toml_str(&Config::default_toml(), "default.toml").unwrap();
        assert_eq!(d, Config::default());
        let again = Config::from_toml_str(&Config::default().to_toml(), "x.toml").unwrap();
        assert_eq!(
            again.runtime_options().1.allowed_hosts,
            d.runtime_options().1.allowed_hosts
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("max_sesions", ["max_sessions", "max_body"].into_iter()),
            Some("max_sessions")
        );
        assert_eq!(suggest("zzz", ["max_sessions"].into_iter()), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
