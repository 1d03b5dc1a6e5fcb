//! Streamable HTTP, server side (MCP 2025-03-26, 2025-06-18 and 2025-11-25).
//!
//! [`HttpService`] is a `tower::Service<http::Request<B>>`: mount it in axum (or any tower
//! stack), or run it on bare hyper with [`serve`]. One endpoint takes:
//!
//! - **POST** a JSON-RPC message. Notifications and responses get 202. A request is
//!   answered with `application/json` when its handler sends nothing before the result,
//!   or with an SSE stream when it sends related messages (progress, logs, requests to
//!   the client) first: the headers are held until the result or the first related
//!   message, then the reply type is chosen.
//! - **GET** the session's general stream (server-to-client messages related to no
//!   request), or, with `Last-Event-ID`, the rest of any stream of the session.
//! - **DELETE** to end the session.
//!
//! Sessions are created by `initialize` (id: 128 bits from the OS CSPRNG), expire after an
//! idle TTL, and are bounded in number; a request without a session id gets 400, one with
//! an unknown or expired id 404. In stateless mode there are no sessions: every POST is
//! served by a throwaway session, and its handler is cancelled if the client disconnects.
//! On a session, a disconnect cancels nothing: the handler runs on into the stream's
//! replay buffer, and the client resumes with `Last-Event-ID`.
//!
//! Guards: Host allow list (DNS rebinding) and Origin (403), Accept (406), Content-Type
//! (415), body size (413), `MCP-Protocol-Version` (400 when unsupported).

mod body;
mod edge;
mod guard;
mod modern;
mod serve;
mod sessions;
mod streams;
mod tls;

use std::convert::Infallible;
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use oxmcp_proto::needle::Needle;
use oxmcp_proto::session::{Action, Dispatch, Session};
use oxmcp_proto::{ErrorObject, ProtocolVersion, RequestId};
use parking_lot::Mutex;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use body::HttpBody;
pub use edge::ClientAddr;
pub use serve::{serve, serve_tls, shutdown_signal};
pub use tls::{ClientAuth, Tls, TlsError, TlsOptions};

use self::body::{SseBody, empty, full};
use self::guard::{Allow, Refusal, refuse};
use self::sessions::{HttpSession, Sessions, new_session_id};
use self::streams::{First, StreamLimits, Streams, parse_event_id};
use crate::connection::{Connection, Outlet};
use crate::server::context::Context;
use crate::server::{Change, Server, dispatch};
use crate::time::{Alarm, now};

/// The header that carries the session id.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// The header that carries the negotiated protocol revision.
pub const VERSION_HEADER: &str = "mcp-protocol-version";

/// [`SESSION_HEADER`] and [`VERSION_HEADER`] as header names: a lookup by a `&str` parses
/// the name again on every request.
const SESSION: HeaderName = HeaderName::from_static(SESSION_HEADER);
const VERSION: HeaderName = HeaderName::from_static(VERSION_HEADER);

/// How the HTTP transport behaves. Every field has a documented default ([`Default`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpOptions {
    /// The endpoint's path (default `/mcp`); other paths get 404. `None`: answer on any
    /// path (when a router in front picks the path).
    pub path: Option<String>,
    /// Hosts the `Host` header may name, as `host` (any port) or `host:port` (default
    /// `None`: any). [`HttpOptions::loopback`] sets the loopback names.
    pub allowed_hosts: Option<Vec<String>>,
    /// Origins allowed besides the request's own (`scheme://host[:port]`; `*`: any).
    /// Requests without `Origin` always pass. Default: none.
    pub allowed_origins: Vec<String>,
    /// The largest request body (default 4 MiB); a larger one gets 413.
    pub max_body: usize,
    /// Sessions at once (default 10,000); one more `initialize` gets 503.
    pub max_sessions: usize,
    /// A session with no request, stream or handler for this long ends (default 10 min).
    pub session_ttl: Duration,
    /// No sessions: every POST is served on its own (default false).
    pub stateless: bool,
    /// Answer every request with `application/json`; related messages go to the GET
    /// stream (default false).
    pub json_response: bool,
    /// Offer the GET stream (default true); when off, GET gets 405.
    pub get_stream: bool,
    /// Events kept per stream for `Last-Event-ID` replay (default 256).
    pub replay_events: usize,
    /// Finished streams kept per session for a client that has not read their end
    /// (default 16).
    pub resumable_streams: usize,
    /// A comment line on idle SSE streams this often (default 15 s; `None`: never).
    pub keep_alive: Option<Duration>,
    /// The `retry` announced in the priming event of sessions on 2025-11-25 or later
    /// (default 1 s).
    pub sse_retry: Duration,
    /// How long `Retry-After` tells a refused client to wait (default 1 s).
    pub retry_after: Duration,
    /// Answer `GET /health/live` and `GET /health/ready` (default true), before any Host,
    /// Origin or path check: an orchestrator's probe names the pod's address.
    pub health: bool,
    /// On shutdown, how long readiness fails while connections are still accepted, so load
    /// balancers stop sending new clients before the listener closes (default 0 s).
    pub drain_delay: Duration,
    /// Answer `GET /metrics` with the server's Prometheus metrics (default true), after the
    /// Host and Origin checks.
    pub metrics: bool,
    /// Connections [`serve`] holds at once (default 10,000); one more is answered 503 and
    /// closed.
    pub max_connections: usize,
    /// Connections one client address may hold (default: no limit beyond
    /// `max_connections`); one more is answered 429 and closed.
    pub max_connections_per_ip: Option<usize>,
    /// Sessions one client address may hold (default: no limit beyond `max_sessions`); one
    /// more `initialize` gets 429.
    pub max_sessions_per_ip: Option<usize>,
    /// `initialize` requests one address may send (default: no limit); one more gets 429
    /// with `Retry-After`.
    pub initialize_rate_per_ip: Option<crate::guard::Rate>,
    /// POSTs one address may send (default: no limit); one more gets 429.
    pub rate_per_ip: Option<crate::guard::Rate>,
    /// POSTs one [`Principal`](crate::guard::Principal) may send (default: no limit); one
    /// more gets 429.
    pub rate_per_principal: Option<crate::guard::Rate>,
    /// Peers whose `X-Forwarded-For` names the client (default: none; the peer is the
    /// client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The largest request head (request line and headers) [`serve`] buffers (default
    /// 64 KiB); a larger one gets 431.
    pub max_header_bytes: usize,
    /// Headers one request may carry (default 100); more get 431.
    pub max_headers: usize,
    /// How long a client may take to send a request's head (default 30 s).
    pub header_timeout: Duration,
    /// How long a handler waits for an SSE reader that lags a full replay buffer behind
    /// (default 30 s); then that reader's connection is closed and the stream goes on in
    /// the replay buffer, for `Last-Event-ID`.
    pub slow_reader_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            path: Some("/mcp".into()),
            allowed_hosts: None,
            allowed_origins: Vec::new(),
            max_body: 4 * 1024 * 1024,
            max_sessions: 10_000,
            session_ttl: Duration::from_secs(600),
            stateless: false,
            json_response: false,
            get_stream: true,
            replay_events: 256,
            resumable_streams: 16,
            keep_alive: Some(Duration::from_secs(15)),
            sse_retry: Duration::from_secs(1),
            retry_after: Duration::from_secs(1),
            health: true,
            drain_delay: Duration::ZERO,
            metrics: true,
            max_connections: 10_000,
            max_connections_per_ip: None,
            max_sessions_per_ip: None,
            initialize_rate_per_ip: None,
            rate_per_ip: None,
            rate_per_principal: None,
            trusted_proxies: Vec::new(),
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            header_timeout: Duration::from_secs(30),
            slow_reader_timeout: Duration::from_secs(30),
        }
    }
}

impl HttpOptions {
    /// Allows only the loopback names (`localhost`, `127.0.0.1`, `[::1]`) as `Host`: the
    /// default of `oxmcp serve` on a loopback address.
    pub fn loopback(mut self) -> Self {
        self.allowed_hosts = Some(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]);
        self
    }
}

/// Closes the connection a request came on: a request extension [`serve`] sets, used to
/// cut off a client that stopped reading its stream.
#[derive(Debug, Clone)]
pub(crate) struct Disconnect(pub(crate) CancellationToken);

/// Counters of the HTTP transport, for tests, health and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpStats {
    /// Live sessions.
    pub sessions: usize,
    /// SSE streams with a client attached.
    pub streams: usize,
    /// Streams held (attached, awaiting answers, or kept for resumption).
    pub held_streams: usize,
    /// Requests being handled.
    pub in_flight: usize,
    /// Server-to-client requests awaiting an answer.
    pub pending_outgoing: usize,
    /// Handler tasks not yet finished.
    pub handler_tasks: usize,
}

/// The Streamable HTTP endpoint of a [`Server`]: a cheap-to-clone `tower::Service`.
#[derive(Clone)]
pub struct HttpService {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpService")
            .field("options", &self.shared.opts)
            .finish_non_exhaustive()
    }
}

struct Shared {
    server: Server,
    opts: HttpOptions,
    allow: Allow,
    sessions: Sessions,
    /// Cancelled when shutdown begins: GET streams end.
    draining: CancellationToken,
    /// Liveness and readiness.
    health: crate::observe::Health,
    /// What stateless requests are served under: the server's setup without what needs a
    /// session (tasks, subscriptions, `listChanged`).
    stateless_setup: Arc<oxmcp_proto::session::ServerSetup>,
    /// Handlers of sessionless requests (stateless mode) still running.
    sessionless: Arc<std::sync::atomic::AtomicUsize>,
    /// The limits keyed on who the client is.
    edge: edge::Edge,
    /// The limits of every session's streams.
    stream_limits: Arc<StreamLimits>,
}

impl HttpService {
    /// Serves `server` with `opts`. Must be called within a tokio runtime: it starts the
    /// one background task of the service (session expiry and change broadcasts).
    pub fn new(server: Server, opts: HttpOptions) -> Self {
        let allow = Allow {
            hosts: opts
                .allowed_hosts
                .as_ref()
                .map(|h| h.iter().map(|s| s.to_ascii_lowercase()).collect()),
            origins: opts
                .allowed_origins
                .iter()
                .map(|s| s.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        };
        let stateless_setup = Arc::new(stateless_setup(&server.setup()));
        let stream_limits = Arc::new(StreamLimits {
            replay: opts.replay_events.max(1),
            keep_done: opts.resumable_streams,
            json_only: opts.json_response,
            slow_reader: opts.slow_reader_timeout,
            metrics: server.metrics().clone(),
        });
        let shared = Arc::new(Shared {
            stream_limits,
            edge: edge::Edge::new(&opts),
            stateless_setup,
            sessions: Sessions::new(opts.max_sessions),
            server,
            opts,
            allow,
            draining: CancellationToken::new(),
            health: crate::observe::Health::new(),
            sessionless: Default::default(),
        });
        let period =
            (shared.opts.session_ttl / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
        tokio::spawn(background(
            Arc::downgrade(&shared),
            shared.server.subscribe_changes(),
            period,
        ));
        HttpService { shared }
    }

    /// The transport's counters.
    pub fn stats(&self) -> HttpStats {
        let mut st = HttpStats {
            sessions: self.shared.sessions.len(),
            ..Default::default()
        };
        for s in self.shared.sessions.all() {
            st.streams += s.streams.readers();
            st.held_streams += s.streams.len();
            let c = s.conn.stats();
            st.in_flight += c.in_flight;
            st.pending_outgoing += c.pending_outgoing;
            st.handler_tasks += c.handler_tasks;
        }
        st.handler_tasks += self
            .shared
            .sessionless
            .load(std::sync::atomic::Ordering::Relaxed);
        st
    }

    /// The Prometheus text of `GET /metrics`: the server's metrics with this transport's
    /// gauges.
    pub fn render_metrics(&self) -> String {
        let st = self.stats();
        let levels = crate::observe::metrics::Levels {
            sessions: st.sessions,
            streams: st.streams,
            in_flight: self.shared.server.load().current(),
            pending_outgoing: st.pending_outgoing,
            handler_tasks: st.handler_tasks,
            connections: self.shared.edge.connections(),
        };
        self.shared.server.metrics().render(levels)
    }

    /// The service's health: readiness starts false ([`serve`] sets it once its listener
    /// accepts; a service mounted elsewhere calls [`Health::set_ready`](crate::observe::Health::set_ready)
    /// itself) and fails from [`HttpService::drain`] on; dependencies add checks to it.
    pub fn health(&self) -> crate::observe::Health {
        self.shared.health.clone()
    }

    /// How long [`serve`] keeps accepting after readiness fails on shutdown.
    pub(crate) fn drain_delay(&self) -> Duration {
        self.shared.opts.drain_delay
    }

    /// Begins shutdown: readiness fails, GET streams end, 2026-07-28 listen streams end
    /// with their final result; requests in flight go on.
    pub fn drain(&self) {
        self.shared.health.set_draining();
        self.shared.draining.cancel();
        self.shared.server.end_listens();
    }

    /// Ends every session now: aborts handlers, ends streams.
    pub fn close_all(&self) {
        for s in self.shared.sessions.drain() {
            s.close();
        }
    }

    /// Answers one HTTP request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<HttpBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        handle(self.shared.clone(), req).await
    }
}

impl<B> tower_service::Service<Request<B>> for HttpService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<HttpBody>;
    type Error = Infallible;
    type Future = futures::future::BoxFuture<'static, Result<Response<HttpBody>, Infallible>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move { Ok(handle(shared, req).await) })
    }
}

/// Counts the bytes of a response whose length is known (SSE bodies count their own).
fn counted(shared: &Shared, resp: Response<HttpBody>) -> Response<HttpBody> {
    use http_body::Body;
    if let Some(n) = resp.body().size_hint().exact() {
        shared.server.metrics().bytes_out(n as usize);
    }
    resp
}

async fn handle<B>(shared: Arc<Shared>, req: Request<B>) -> Response<HttpBody>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let resp = route_request(&shared, req).await;
    counted(&shared, resp)
}

async fn route_request<B>(shared: &Arc<Shared>, req: Request<B>) -> Response<HttpBody>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let shared = shared.clone();
    if shared.opts.health
        && let Some(resp) = health_probe(&shared, &req)
    {
        return resp;
    }
    if let Err(r) = guard::check_origin(&shared.allow, req.headers()) {
        return r.response();
    }
    if shared.opts.metrics && *req.method() == Method::GET && req.uri().path() == "/metrics" {
        let text = HttpService {
            shared: shared.clone(),
        }
        .render_metrics();
        let mut r = Response::new(full(text));
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(crate::observe::metrics::CONTENT_TYPE),
        );
        return r;
    }
    if let Some(path) = &shared.opts.path
        && req.uri().path() != path
    {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no MCP endpoint at {}: it is at {path}", req.uri().path()),
        );
    }
    if *req.method() == Method::POST {
        // The body decides the era; the version header is checked per era.
        return post(shared, req).await;
    }
    if let Some(text) = header_str(req.headers(), &VERSION)
        && oxmcp_proto::modern::is_modern_version(text)
        && session_id(&req).is_none()
    {
        // 2026-07-28 has no GET stream and no session to end.
        return method_not_allowed(&shared);
    }
    if let Err(r) = check_legacy_version(req.headers()) {
        return r;
    }
    match *req.method() {
        Method::GET => get(&shared, &req),
        Method::DELETE => delete(&shared, &req),
        _ => method_not_allowed(&shared),
    }
}

/// `GET /health/live` and `GET /health/ready`, as JSON; `None` for any other request.
fn health_probe<B>(shared: &Shared, req: &Request<B>) -> Option<Response<HttpBody>> {
    if *req.method() != Method::GET {
        return None;
    }
    let (status, body) = match req.uri().path() {
        "/health/live" => (StatusCode::OK, serde_json::json!({ "status": "live" })),
        "/health/ready" => {
            let mut r = shared.health.readiness();
            let status = if r.ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            // Open breakers are reported, not failed on: the other tools still serve.
            let breakers = shared.server.breakers();
            if !breakers.is_empty()
                && let Some(obj) = r.body.as_object_mut()
            {
                let map: serde_json::Map<String, serde_json::Value> = breakers
                    .into_iter()
                    .map(|(name, state)| (name, state.name().into()))
                    .collect();
                obj.insert("breakers".into(), map.into());
            }
            (status, r.body)
        }
        _ => return None,
    };
    let mut resp = json_response(status, body.to_string());
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(resp)
}

fn header_str<'a>(headers: &'a http::HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap_or(""))
}

/// A legacy request's `MCP-Protocol-Version`, if any, must name a legacy revision.
#[allow(clippy::result_large_err)]
fn check_legacy_version(headers: &http::HeaderMap) -> Result<(), Response<HttpBody>> {
    if let Some(text) = header_str(headers, &VERSION)
        && !ProtocolVersion::parse(text).is_some_and(|v| ProtocolVersion::LEGACY.contains(&v))
    {
        let known: Vec<&str> = ProtocolVersion::LEGACY.iter().map(|v| v.as_str()).collect();
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "Bad Request: unsupported MCP-Protocol-Version {text:?} (supported: {})",
                known.join(", ")
            ),
        ));
    }
    Ok(())
}

fn method_not_allowed(shared: &Shared) -> Response<HttpBody> {
    let allow = if shared.opts.stateless {
        "POST"
    } else if shared.opts.get_stream {
        "GET, POST, DELETE"
    } else {
        "POST, DELETE"
    };
    let mut r = refuse(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method Not Allowed: this endpoint takes {allow}"),
    );
    r.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    r
}

fn session_id(req: &Request<impl Sized>) -> Option<&str> {
    req.headers().get(&SESSION).and_then(|v| v.to_str().ok())
}

/// The session a request names: 400 without an id, 404 for an unknown or expired one.
fn find_session(shared: &Shared, id: Option<&str>) -> Result<Arc<HttpSession>, Refusal> {
    let Some(id) = id else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "Bad Request: the Mcp-Session-Id header is required (send initialize first)",
        ));
    };
    match shared.sessions.get(id) {
        Some(s) => {
            s.touch();
            Ok(s)
        }
        None => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            format!("Not Found: unknown or expired session {id:?}; initialize a new session"),
        )),
    }
}

fn overloaded(shared: &Shared, message: &str) -> Response<HttpBody> {
    edge::retry_later(
        StatusCode::SERVICE_UNAVAILABLE,
        message,
        crate::observe::metrics::Reject::Sessions,
        shared.opts.retry_after,
    )
}

async fn post<B>(shared: Arc<Shared>, req: Request<B>) -> Response<HttpBody>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if let Err(r) = guard::check_post(req.headers(), shared.opts.json_response) {
        return r.response();
    }
    let metrics = shared.server.metrics();
    if tracing::enabled!(tracing::Level::DEBUG) {
        let headers = crate::observe::logs::redact_headers(req.headers());
        tracing::debug!(%headers, "POST {}", req.uri().path());
    }
    let ip = shared.edge.client_ip(&req);
    let principal = req.extensions().get::<crate::guard::Principal>();
    if let Err(limited) = shared.edge.check_request(ip, principal) {
        return limited.response(metrics);
    }
    let max = shared.opts.max_body;
    let too_large = || {
        metrics.reject(crate::observe::metrics::Reject::Body);
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload Too Large: the body exceeds the limit of {max} bytes (max_body)"),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    let sid = session_id(&req).map(str::to_owned);
    let version = req
        .headers()
        .get(&VERSION)
        .and_then(|v| v.to_str().ok())
        .and_then(ProtocolVersion::parse);
    let (parts, body) = req.into_parts();
    let body = match http_body_util::Limited::new(body, max).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("Bad Request: cannot read the body: {e}"),
            );
        }
    };
    metrics.bytes_in(body.len());
    let header = header_str(&parts.headers, &VERSION);
    let cut = parts.extensions.get::<Disconnect>();
    if oxmcp_proto::modern::era_of(&body, header) == oxmcp_proto::modern::Era::Modern {
        return modern::post(shared, &parts.headers, body, cut).await;
    }
    if let Err(r) = check_legacy_version(&parts.headers) {
        return r;
    }
    if shared.opts.stateless {
        return stateless(shared, body, version, cut).await;
    }
    if sid.is_some() {
        let sess = match find_session(&shared, sid.as_deref()) {
            Ok(sess) => sess,
            Err(r) => return r.response(),
        };
        return exchange(&shared, &sess, Input::Body(&body), false, cut).await;
    }
    if !is_initialize(&body) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Bad Request: the Mcp-Session-Id header is required (send initialize first)",
        );
    }
    if !shared.sessions.has_room() {
        metrics.reject(crate::observe::metrics::Reject::Sessions);
        return overloaded(
            &shared,
            "Service Unavailable: too many sessions (max_sessions)",
        );
    }
    let ip_slot = match shared.edge.check_initialize(ip, shared.opts.retry_after) {
        Ok(slot) => slot,
        Err(limited) => return limited.response(metrics),
    };
    let id = match new_session_id() {
        Ok(id) => id,
        Err(e) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot draw a session id: {e}"),
            );
        }
    };
    let sess = new_session(&shared, Some(id.clone()), ip_slot);
    let mut resp = exchange(&shared, &sess, Input::Body(&body), false, cut).await;
    if sess.conn.session.lock().version().is_some() {
        metrics.session_opened();
        if !shared.sessions.insert(id.clone(), sess.clone()) {
            metrics.reject(crate::observe::metrics::Reject::Sessions);
            sess.close();
            return overloaded(
                &shared,
                "Service Unavailable: too many sessions (max_sessions)",
            );
        }
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert(SESSION, v);
        }
    }
    resp
}

fn empty_response(status: StatusCode) -> Response<HttpBody> {
    let mut r = Response::new(empty());
    *r.status_mut() = status;
    r
}

/// Whether a body is a single `initialize` request.
fn is_initialize(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        method: Option<std::borrow::Cow<'a, str>>,
    }
    static NAME: Needle = Needle::new(b"initialize");
    // Without the name's bytes (or an escape) it is not one: no parse per request.
    if !NAME.may_be_in_json(body) {
        return false;
    }
    serde_json::from_slice::<Probe<'_>>(body)
        .is_ok_and(|p| p.method.as_deref() == Some("initialize"))
}

/// Whether a reply is an error without an id (the input could not be read as a request).
fn is_unaddressed_error(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        id: Option<serde::de::IgnoredAny>,
        error: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(bytes).is_ok_and(|p| p.id.is_none() && p.error.is_some())
}

fn new_session(
    shared: &Arc<Shared>,
    id: Option<Arc<str>>,
    ip_slot: Option<crate::guard::per_ip::IpSlot>,
) -> Arc<HttpSession> {
    let setup = if id.is_none() {
        shared.stateless_setup.clone()
    } else {
        shared.server.setup()
    };
    let rate = id
        .is_some()
        .then(|| Connection::session_rate(&shared.server))
        .flatten();
    new_session_with(shared, id, setup, rate, ip_slot)
}

/// A session record under `setup` (`id: None`: a throwaway one for a single request).
fn new_session_with(
    shared: &Arc<Shared>,
    id: Option<Arc<str>>,
    setup: Arc<oxmcp_proto::session::ServerSetup>,
    rate: Option<Arc<crate::guard::rate::Limit>>,
    ip_slot: Option<crate::guard::per_ip::IpSlot>,
) -> Arc<HttpSession> {
    let sessionless = id.is_none().then(|| shared.sessionless.clone());
    let streams = Arc::new(Streams::new(shared.stream_limits.clone()));
    let server = shared.server.clone();
    let session = Session::new(setup, server.session_limits());
    let conn = Arc::new(
        Connection::new(server, session, Outlet::Routed(streams.clone()))
            .with_rate(rate)
            .with_session_id(id.clone()),
    );
    Arc::new(HttpSession {
        conn,
        streams,
        last_seen: Mutex::new(tokio::time::Instant::now()),
        handlers: Mutex::new(Default::default()),
        sessionless,
        ip_slot: ip_slot.map(Box::new),
    })
}

/// The setup stateless requests are served under: no tasks (a task would live in a
/// throwaway session nobody can reach again), no subscriptions and no `listChanged` (there
/// is no stream to deliver them on).
fn stateless_setup(setup: &oxmcp_proto::session::ServerSetup) -> oxmcp_proto::session::ServerSetup {
    let mut s = setup.clone();
    let caps = &mut s.capabilities;
    caps.tasks = None;
    if let Some(r) = caps.resources.as_mut() {
        r.subscribe = None;
        r.list_changed = None;
    }
    if let Some(t) = caps.tools.as_mut() {
        t.list_changed = None;
    }
    if let Some(p) = caps.prompts.as_mut() {
        p.list_changed = None;
    }
    s
}

/// A stateless POST: a throwaway session under the header's revision (2025-03-26 without
/// one), cancelled if the client goes away.
async fn stateless(
    shared: Arc<Shared>,
    body: Bytes,
    version: Option<ProtocolVersion>,
    cut: Option<&Disconnect>,
) -> Response<HttpBody> {
    let sess = new_session(&shared, None, None);
    if !is_initialize(&body) {
        sess.conn
            .session
            .lock()
            .assume_initialized(version.unwrap_or(ProtocolVersion::V2025_03_26));
    }
    exchange(&shared, &sess, Input::Body(&body), true, cut).await
}

/// Closes a throwaway session unless disarmed (its client went away).
struct CloseOnDrop(Option<Arc<HttpSession>>);
impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.close();
        }
    }
}

/// Feeds one POST body to a session and answers it.
/// A POST's input to the session: its body, or the one message already decoded from it.
enum Input<'a> {
    Body(&'a [u8]),
    Decoded(oxmcp_proto::jsonrpc::Message),
}

async fn exchange(
    shared: &Arc<Shared>,
    sess: &Arc<HttpSession>,
    input: Input<'_>,
    sessionless: bool,
    cut: Option<&Disconnect>,
) -> Response<HttpBody> {
    let batch =
        matches!(input, Input::Body(body) if body.trim_ascii_start().first() == Some(&b'['));
    let stream = sess.streams.open(batch);
    let mut actions = Vec::new();
    {
        let mut session = sess.conn.session.lock();
        match input {
            Input::Body(body) => session.handle_frame(now(), body, &mut actions),
            Input::Decoded(msg) => session.handle_decoded(now(), msg, &mut actions),
        }
        let refused = session.take_refused();
        shared
            .server
            .metrics()
            .reject_n(crate::observe::metrics::Reject::InFlight, refused);
    }
    let mut immediate = Vec::new();
    let mut dispatched = false;
    // A request refused before it ran: the status and wait of the reply.
    let mut refused: Option<(StatusCode, Duration)> = None;
    for a in actions {
        match a {
            Action::Send(bytes) => immediate.push(bytes),
            Action::Dispatch(d) if let Some((status, wait, e)) = admission(shared, sess) => {
                let mut done = Vec::new();
                sess.conn.session.lock().complete(&d.id, Err(&e), &mut done);
                for a in done {
                    match a {
                        Action::Send(bytes) => immediate.push(bytes),
                        Action::Respond { bytes, .. } if !batch => immediate.push(bytes),
                        // A batch member: its answer goes into the batch's array.
                        Action::Respond { id, bytes } => {
                            sess.streams.bind(stream, id.clone());
                            sess.streams.respond(&id, bytes);
                            dispatched = true;
                        }
                        other => run_action(sess, other),
                    }
                }
                refused = Some((status, wait));
            }
            Action::Dispatch(d) => {
                sess.streams.bind(stream, d.id.clone());
                start_handler(sess, d).await;
                dispatched = true;
            }
            other => run_action(sess, other),
        }
    }
    if !dispatched {
        sess.streams.forget(stream);
        return match immediate.pop() {
            None => empty_response(StatusCode::ACCEPTED),
            Some(bytes) if let Some((status, wait)) = refused => {
                let mut r = json_response(status, bytes);
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                r.headers_mut()
                    .insert(http::header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
                r
            }
            Some(bytes) => {
                let status = if is_unaddressed_error(&bytes) {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                };
                json_response(status, bytes)
            }
        };
    }
    let mut guard = CloseOnDrop(sessionless.then(|| sess.clone()));
    let first = futures::future::poll_fn(|cx| sess.streams.poll_first(stream, cx)).await;
    match first {
        First::Event(ev) if ev.last => {
            sess.streams.forget(stream);
            guard.0 = None;
            let status = if sess.conn.is_modern() {
                modern::status_of(&ev.json)
            } else {
                StatusCode::OK
            };
            json_response(status, ev.json)
        }
        First::End => {
            // Cancelled before anything was sent: nothing will come. JSON-only mode says
            // so with 202; otherwise an SSE stream that ends at once, without a priming
            // event (an event id would invite the client to resume a stream that is over).
            sess.streams.forget(stream);
            guard.0 = None;
            if shared.opts.json_response {
                empty_response(StatusCode::ACCEPTED)
            } else {
                sse_response(empty())
            }
        }
        First::Sse | First::Event(_) => {
            sess.streams.attach(stream, cut.map(|d| d.0.clone()));
            let mut body = SseBody::new(
                sess.streams.clone(),
                stream,
                0,
                priming(shared, sess),
                shared.opts.keep_alive,
                Box::pin(std::future::pending()),
            );
            if let Some(s) = guard.0.take() {
                body = body.on_disconnect(move || s.close());
            }
            if sess.conn.is_modern() {
                body = body.without_ids();
            }
            sse_response(body.counting(shared.server.metrics()).boxed())
        }
    }
}

/// Whether a request may start: `None`, or the status, wait and error that refuse it.
/// Load shedding comes first (503; the dispatcher's own check still holds the bound
/// exactly when many POSTs race past this one), then the session's rate (429).
fn admission(shared: &Shared, sess: &HttpSession) -> Option<(StatusCode, Duration, ErrorObject)> {
    use crate::observe::metrics::Reject;
    let server = &shared.server;
    let opts = server.options();
    if server.load().is_full() {
        server.metrics().reject(Reject::InFlightTotal);
        let wait = opts.limits.retry_after;
        let e = dispatch::shed(opts.max_in_flight_total, wait.as_millis() as u64);
        return Some((StatusCode::SERVICE_UNAVAILABLE, wait, e));
    }
    let wait = sess.conn.rate.as_ref()?.check().err()?;
    server.metrics().reject(Reject::RateSession);
    let e = ErrorObject::overloaded(
        "too many requests on this session (rate_per_session); retry later",
        wait.as_millis() as u64 + 1,
    )
    .with_limit(Reject::RateSession.label());
    Some((StatusCode::TOO_MANY_REQUESTS, wait, e))
}

/// The priming `retry`, for sessions on 2025-11-25 or later.
fn priming(shared: &Shared, sess: &HttpSession) -> Option<Duration> {
    let session = sess.conn.session.lock();
    let resumable = !session.is_modern() && session.version() >= Some(ProtocolVersion::V2025_11_25);
    resumable.then_some(shared.opts.sse_retry)
}

fn json_response(status: StatusCode, bytes: impl Into<Bytes>) -> Response<HttpBody> {
    let mut r = Response::new(full(bytes));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn sse_response(body: HttpBody) -> Response<HttpBody> {
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn get<B>(shared: &Arc<Shared>, req: &Request<B>) -> Response<HttpBody> {
    if shared.opts.stateless || !shared.opts.get_stream {
        return method_not_allowed(shared);
    }
    if let Err(r) = guard::check_get(req.headers()) {
        return r.response();
    }
    let sess = match find_session(shared, session_id(req)) {
        Ok(s) => s,
        Err(r) => return r.response(),
    };
    let conflict = || {
        refuse(
            StatusCode::CONFLICT,
            "Conflict: a client is already reading this stream of the session",
        )
    };
    let last = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_event_id);
    let drain = || -> body::Signal { Box::pin(shared.draining.clone().cancelled_owned()) };
    let cut = || req.extensions().get::<Disconnect>().map(|d| d.0.clone());
    if let Some((stream, after)) = last {
        match sess.streams.resume(stream, after, cut()) {
            Some(Ok(())) => {
                let body = SseBody::new(
                    sess.streams.clone(),
                    stream,
                    after,
                    None,
                    shared.opts.keep_alive,
                    drain(),
                );
                return sse_response(body.counting(shared.server.metrics()).boxed());
            }
            Some(Err(())) => return conflict(),
            // Not a stream of this session: nothing to replay; open the general stream.
            None => {}
        }
    }
    match sess.streams.open_general(cut()) {
        Ok((stream, cursor)) => {
            let body = SseBody::new(
                sess.streams.clone(),
                stream,
                cursor,
                priming(shared, &sess),
                shared.opts.keep_alive,
                drain(),
            );
            sse_response(body.counting(shared.server.metrics()).boxed())
        }
        Err(()) => conflict(),
    }
}

fn delete<B>(shared: &Arc<Shared>, req: &Request<B>) -> Response<HttpBody> {
    if shared.opts.stateless {
        return method_not_allowed(shared);
    }
    let sess = match find_session(shared, session_id(req)) {
        Ok(s) => s,
        Err(r) => return r.response(),
    };
    if let Some(id) = sess.id()
        && let Some(s) = shared.sessions.remove(id)
    {
        s.close();
    }
    empty_response(StatusCode::OK)
}

/// Starts the handler of request `d` on its own task.
fn spawn_handler(sess: &Arc<HttpSession>, d: Dispatch) {
    sess.count_handler(true);
    let id = d.id.clone();
    spawn_run(sess, id, Box::pin(run_handler(sess.clone(), d)));
}

/// Runs the handler of request `d`, in place first ([`crate::inline::poll_once`]); one
/// that waits goes on on a task of its own.
async fn start_handler(sess: &Arc<HttpSession>, d: Dispatch) {
    sess.count_handler(true);
    let id = d.id.clone();
    let run: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> =
        Box::pin(run_handler(sess.clone(), d));
    if let Err(waiting) = crate::inline::poll_once(run).await {
        spawn_run(sess, id, waiting);
    }
}

/// Spawns a handler's run, abortable by its request id.
fn spawn_run(
    sess: &Arc<HttpSession>,
    id: RequestId,
    run: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
) {
    // Held across the spawn: the run's guard must find its own entry when it ends.
    let mut handlers = sess.handlers.lock();
    let task = tokio::spawn(run);
    handlers.insert(id, task.abort_handle());
}

/// Forgets a finished (or aborted) handler.
struct HandlerGuard {
    sess: Arc<HttpSession>,
    id: RequestId,
}

impl Drop for HandlerGuard {
    fn drop(&mut self) {
        let me = tokio::task::try_id();
        let mut handlers = self.sess.handlers.lock();
        if handlers.get(&self.id).is_some_and(|h| Some(h.id()) == me) {
            handlers.remove(&self.id);
        }
        drop(handlers);
        self.sess.count_handler(false);
    }
}

/// Runs one request's handler, firing the session's deadlines while it waits.
async fn run_handler(sess: Arc<HttpSession>, mut d: Dispatch) {
    let _guard = HandlerGuard {
        sess: sess.clone(),
        id: d.id.clone(),
    };
    let conn = sess.conn.clone();
    let cancel = CancellationToken::new();
    let _cancel_on_drop = cancel.clone().drop_guard();
    let ctx = Context::new(
        conn.clone(),
        Some(d.id.clone()),
        d.progress_token.clone(),
        d.meta.take(),
        cancel,
    );
    let params = d.params.take();
    let route = dispatch::route(&conn, ctx, &d.method, params);
    tokio::pin!(route);
    let mut alarm = Alarm::new();
    loop {
        let deadline = conn.deadline();
        tokio::select! {
            // The handler first: one that is done needs no timer.
            biased;
            outcome = &mut route => {
                let mut actions = Vec::new();
                conn.session.lock().complete(&d.id, outcome.as_deref(), &mut actions);
                run_actions(&sess, actions);
                return;
            }
            () = alarm.at(deadline) => {
                let mut actions = Vec::new();
                conn.session.lock().handle_timeout(now(), &mut actions);
                crate::connection::count_timeouts(&conn, &actions);
                run_actions(&sess, actions);
                if !conn.session.lock().is_in_flight(&d.id) {
                    return;
                }
            }
            () = conn.timer.notified() => {}
        }
    }
}

fn run_actions(sess: &Arc<HttpSession>, actions: Vec<Action>) {
    for a in actions {
        run_action(sess, a);
    }
}

/// Carries out one action of the core outside of a POST's own frame.
fn run_action(sess: &Arc<HttpSession>, action: Action) {
    use crate::connection::Route;
    match action {
        Action::Send(bytes) => sess.streams.send_later(None, bytes),
        Action::Respond { id, bytes } => sess.streams.respond(&id, bytes),
        Action::Dispatch(d) => spawn_handler(sess, d),
        Action::Abort(id) => {
            if let Some(h) = sess.handlers.lock().remove(&id) {
                h.abort();
            }
            sess.streams.abandon(&id);
        }
        Action::Deliver { id, outcome } => sess.conn.deliver(id, outcome),
        Action::Notify { method, params } => sess.conn.notify_app(&method, params),
    }
}

/// The service's one background task: expires idle sessions and tells sessions about
/// changes of the server's lists and resources. Ends when the service is dropped.
async fn background(
    shared: Weak<Shared>,
    mut changes: broadcast::Receiver<Change>,
    period: Duration,
) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut listening = true;
    // Rate limiters forget addresses whose budget is full again.
    let mut sweep = tokio::time::interval(Duration::from_secs(60));
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let Some(shared) = shared.upgrade() else { return };
                let cutoff = tokio::time::Instant::now()
                    .checked_sub(shared.opts.session_ttl);
                if let Some(cutoff) = cutoff {
                    for s in shared.sessions.sweep(cutoff) {
                        s.close();
                    }
                }
            }
            _ = sweep.tick() => {
                let Some(shared) = shared.upgrade() else { return };
                shared.edge.sweep();
            }
            change = changes.recv(), if listening => {
                let Some(shared) = shared.upgrade() else { return };
                listening = !matches!(change, Err(broadcast::error::RecvError::Closed));
                fan_out(&shared, change);
            }
        }
    }
}

fn fan_out(shared: &Shared, change: Result<Change, broadcast::error::RecvError>) {
    use crate::connection::Route;
    for s in shared.sessions.all() {
        let messages = crate::connection::change_messages(&s.conn.session.lock(), &change);
        for m in messages {
            s.streams.send_later(None, m);
        }
    }
}
