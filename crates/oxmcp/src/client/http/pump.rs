//! The pump between the client engine's pipe and the network.
//!
//! Each line the engine writes becomes one POST, run in its own task (bounded: requests and
//! other messages each have a cap on what is in flight, and reading the pipe waits for a
//! place). Replies come back into the pipe through one bounded queue.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use oxmcp_proto::ErrorObject;
use oxmcp_proto::framing::{Frame, LineFramer};
use parking_lot::Mutex;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::io::{AsyncReadExt, DuplexStream};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::ReconnectPolicy;
use super::sse::SseParser;

/// Requests in flight at once (each may hold an SSE stream open).
const MAX_REQUESTS_IN_FLIGHT: usize = 256;
/// Notifications and responses in flight at once.
const MAX_OTHERS_IN_FLIGHT: usize = 64;
/// Messages queued for the client engine.
const TO_CLIENT_QUEUE: usize = 256;
/// The most of an error body that is read (and quoted).
const MAX_ERROR_BODY: usize = 64 * 1024;
const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
const LAST_EVENT_ID: &str = "last-event-id";
/// After `notifications/initialized`, how long later messages wait for the GET stream to
/// be answered (so that a server request sent on it right away is not lost).
const LISTEN_READY_WAIT: Duration = Duration::from_secs(5);

pub(crate) struct Config {
    pub(crate) url: reqwest::Url,
    pub(crate) headers: HeaderMap,
    pub(crate) max_body: usize,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) close_timeout: Duration,
}

/// A message the engine sent.
#[derive(Clone)]
struct Outgoing {
    body: Bytes,
    kind: Kind,
    /// A 2026-07-28 message (its `_meta` carries the version): no session, routing headers.
    modern: bool,
}

#[derive(Clone)]
enum Kind {
    Request {
        id: Value,
        method: String,
    },
    Notification {
        method: String,
        cancels: Option<Value>,
    },
    Response,
}

impl Outgoing {
    fn parse(body: Bytes) -> Option<Outgoing> {
        #[derive(Deserialize)]
        struct Peek {
            id: Option<Value>,
            method: Option<String>,
            params: Option<Value>,
        }
        let peek: Peek = serde_json::from_slice(&body).ok()?;
        let kind = match (peek.id, peek.method) {
            (Some(id), Some(method)) => Kind::Request { id, method },
            (None, Some(method)) => Kind::Notification {
                cancels: (method == "notifications/cancelled")
                    .then(|| peek.params.and_then(|p| p.get("requestId").cloned()))
                    .flatten(),
                method,
            },
            _ => Kind::Response,
        };
        let modern = oxmcp_proto::modern::era_of(&body, None) == oxmcp_proto::modern::Era::Modern;
        Some(Outgoing { body, kind, modern })
    }

    fn initialized() -> Outgoing {
        Outgoing {
            body: Bytes::from_static(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            kind: Kind::Notification {
                method: "notifications/initialized".into(),
                cancels: None,
            },
            modern: false,
        }
    }

    fn request_id(&self) -> Option<&Value> {
        match &self.kind {
            Kind::Request { id, .. } => Some(id),
            _ => None,
        }
    }

    fn method(&self) -> &str {
        match &self.kind {
            Kind::Request { method, .. } | Kind::Notification { method, .. } => method,
            Kind::Response => "a response",
        }
    }

    fn is_initialized(&self) -> bool {
        matches!(&self.kind, Kind::Notification { method, .. } if method == "notifications/initialized")
    }

    fn is_initialize(&self) -> bool {
        matches!(&self.kind, Kind::Request { method, .. } if method == "initialize")
    }
}

/// Why an exchange failed.
#[derive(Debug)]
enum Failure {
    /// 404 on a request that carried a session id.
    Expired,
    /// An HTTP error status, with the JSON-RPC error the body held, if any.
    Status {
        status: StatusCode,
        rpc: Option<ErrorObject>,
        body: String,
    },
    /// The request could not be sent or its reply not read.
    Network(String),
    /// Anything else, said in words.
    Other(String),
}

impl Failure {
    fn network(e: reqwest::Error) -> Failure {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        Failure::Network(text)
    }

    fn to_error(&self) -> ErrorObject {
        use oxmcp_proto::error::INTERNAL_ERROR;
        match self {
            Failure::Expired => ErrorObject::new(
                INTERNAL_ERROR,
                "HTTP 404 Not Found: the session expired and re-initialising did not help",
            )
            .with_data(serde_json::json!({ "httpStatus": 404 })),
            Failure::Status { status, rpc, body } => {
                let detail = match rpc {
                    Some(e) => e.message.clone(),
                    None if body.trim().is_empty() => "no body".to_owned(),
                    None => body.trim().chars().take(500).collect(),
                };
                let mut data = serde_json::json!({ "httpStatus": status.as_u16() });
                if let Some(d) = rpc.as_ref().and_then(|e| e.data.clone()) {
                    data["data"] = d;
                }
                ErrorObject::new(
                    rpc.as_ref().map_or(INTERNAL_ERROR, |e| e.code),
                    format!("HTTP {status} from the server: {detail}"),
                )
                .with_data(data)
            }
            Failure::Network(e) => ErrorObject::new(INTERNAL_ERROR, format!("HTTP: {e}")),
            Failure::Other(e) => ErrorObject::new(INTERNAL_ERROR, e.clone()),
        }
    }
}

/// Why a GET stream could not be opened.
enum GetError {
    /// 405: the server offers no GET stream.
    NotAllowed,
    /// 404 with a session id.
    Expired,
    Failed(String),
}

#[derive(Default)]
struct State {
    session: Option<String>,
    version: Option<String>,
    /// The engine's `initialize`, sent again when the session expires.
    init: Option<Outgoing>,
    listener: Option<AbortHandle>,
    in_flight: HashMap<String, AbortHandle>,
    /// Ids of 2026-07-28 requests in flight (their cancellation is closing the stream).
    modern_in_flight: std::collections::HashSet<String>,
    /// Ids of 2026-07-28 `tools/list` requests in flight (their answers teach
    /// `tool_headers`).
    tool_lists: std::collections::HashSet<String>,
    /// For each tool: its arguments mirrored into `Mcp-Param-*` headers (2026-07-28).
    tool_headers: HashMap<String, Vec<(String, String)>>,
}

struct Pump {
    http: reqwest::Client,
    cfg: Config,
    to_client: mpsc::Sender<Vec<u8>>,
    state: Mutex<State>,
    reinit: tokio::sync::Mutex<()>,
    /// Stops every task of the pump.
    stop: CancellationToken,
}

pub(crate) async fn run(
    http: reqwest::Client,
    cfg: Config,
    pipe: DuplexStream,
    shutdown: CancellationToken,
    done: watch::Sender<bool>,
) {
    let (mut from_client, writer) = tokio::io::split(pipe);
    let (to_client, rx) = mpsc::channel(TO_CLIENT_QUEUE);
    let (stop_writer, stop_rx) = oneshot::channel();
    let writer_task = tokio::spawn(crate::outbox::write_lines(writer, rx, stop_rx));
    let pump = Arc::new(Pump {
        http,
        cfg,
        to_client,
        state: Mutex::new(State::default()),
        reinit: tokio::sync::Mutex::new(()),
        stop: CancellationToken::new(),
    });
    let requests = Arc::new(Semaphore::new(MAX_REQUESTS_IN_FLIGHT));
    let others = Arc::new(Semaphore::new(MAX_OTHERS_IN_FLIGHT));
    let mut framer = LineFramer::new(pump.cfg.max_body);
    let mut buf = vec![0u8; 64 * 1024];
    'read: loop {
        let n = tokio::select! {
            () = shutdown.cancelled() => break,
            r = from_client.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
        };
        framer.push(&buf[..n]);
        while let Some(frame) = framer.next_frame() {
            let Frame::Line(line) = frame else {
                tracing::warn!("the client wrote an oversize message; not sent");
                continue;
            };
            let Some(out) = Outgoing::parse(line) else {
                tracing::warn!("the client wrote a message that is not JSON-RPC; not sent");
                continue;
            };
            let sem = if out.request_id().is_some() {
                &requests
            } else {
                &others
            };
            let permit = tokio::select! {
                () = shutdown.cancelled() => break 'read,
                p = sem.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break 'read,
                },
            };
            if out.is_initialized() {
                // In order, and the GET stream answered, before anything that follows:
                // a request sent next may make the server write to that stream at once.
                let pump = pump.clone();
                let sent = pump.stop.clone().run_until_cancelled_owned(async move {
                    let _permit = permit;
                    pump.send(out).await;
                });
                tokio::select! {
                    () = shutdown.cancelled() => break 'read,
                    _ = sent => continue,
                }
            }
            let key = out.request_id().map(Value::to_string);
            let task = {
                let pump = pump.clone();
                tokio::spawn(pump.stop.clone().run_until_cancelled_owned(async move {
                    let _permit = permit;
                    pump.send(out).await;
                }))
            };
            if let Some(key) = key {
                let mut st = pump.state.lock();
                st.in_flight.retain(|_, h| !h.is_finished());
                st.in_flight.insert(key, task.abort_handle());
            }
        }
    }
    pump.stop.cancel();
    pump.delete_session().await;
    // Close the pipe: the engine fails what is still pending.
    let _ = stop_writer.send(());
    drop(pump);
    let _ = writer_task.await;
    let _ = done.send(true);
}

impl Pump {
    /// Sends one message of the engine and routes what comes back.
    async fn send(self: &Arc<Self>, out: Outgoing) {
        if let Kind::Notification {
            cancels: Some(id), ..
        } = &out.kind
        {
            // The engine withdrew the request: stop reading its stream.
            let key = id.to_string();
            let mut st = self.state.lock();
            if let Some(h) = st.in_flight.remove(&key) {
                h.abort();
            }
            if st.modern_in_flight.remove(&key) {
                // 2026-07-28 over HTTP: closing the stream is the cancellation.
                st.tool_lists.remove(&key);
                return;
            }
        }
        if out.modern
            && let Kind::Request { id, method } = &out.kind
        {
            let mut st = self.state.lock();
            st.modern_in_flight.insert(id.to_string());
            if method == "tools/list" {
                st.tool_lists.insert(id.to_string());
            }
        }
        if out.is_initialize() {
            let mut st = self.state.lock();
            st.init = Some(out.clone());
            st.session = None;
            st.version = None;
        }
        let sent_with = self.state.lock().session.clone();
        let mut result = self.exchange(&out, true).await;
        if out.modern
            && let Some(id) = out.request_id()
        {
            let mut st = self.state.lock();
            st.modern_in_flight.remove(&id.to_string());
            st.tool_lists.remove(&id.to_string());
        }
        if matches!(result, Err(Failure::Expired)) && !out.is_initialize() {
            tracing::info!(
                method = out.method(),
                "HTTP 404: the session expired; initialising a new one"
            );
            result = match self.reinitialize(sent_with).await {
                Ok(()) => self.exchange(&out, true).await,
                Err(e) => Err(e),
            };
        }
        match result {
            Ok(()) => {
                if out.is_initialized() {
                    self.start_listening().await;
                }
            }
            Err(f) => match out.request_id() {
                Some(id) => {
                    let line =
                        serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": f.to_error() });
                    self.deliver_line(line.to_string().into_bytes()).await;
                }
                None => tracing::warn!(
                    method = out.method(),
                    error = %f.to_error().message,
                    "a message to the server was not delivered"
                ),
            },
        }
    }

    /// A new session: the engine's `initialize` again, then `notifications/initialized`,
    /// then the GET stream. Runs once for all requests that saw the same session expire.
    async fn reinitialize(self: &Arc<Self>, expired: Option<String>) -> Result<(), Failure> {
        let _one_at_a_time = self.reinit.lock().await;
        let init = {
            let mut st = self.state.lock();
            if st.session != expired {
                return Ok(()); // another request already did it
            }
            st.session = None;
            if let Some(h) = st.listener.take() {
                h.abort();
            }
            st.init.clone()
        };
        let init = init.ok_or_else(|| {
            Failure::Other("HTTP 404 before the session was initialised".to_owned())
        })?;
        self.exchange(&init, false).await?;
        self.exchange(&Outgoing::initialized(), false).await?;
        self.start_listening().await;
        Ok(())
    }

    /// The headers of a 2026-07-28 message: the version, `Mcp-Method`, `Mcp-Name` and the
    /// `Mcp-Param-*` of the called tool's marked arguments; never a session id.
    fn modern_headers(&self, out: &Outgoing) -> HeaderMap {
        use oxmcp_proto::modern::headers as mh;
        let mut h = self.cfg.headers.clone();
        h.insert(
            VERSION_HEADER,
            HeaderValue::from_static(oxmcp_proto::modern::SUPPORTED[0].as_str()),
        );
        let Kind::Request { method, .. } = &out.kind else {
            return h;
        };
        let put = |h: &mut HeaderMap, name: &str, text: &str| {
            if let (Ok(n), Ok(v)) = (
                http::header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&mh::encode(text)),
            ) {
                h.insert(n, v);
            }
        };
        put(&mut h, mh::METHOD, method);
        #[derive(Deserialize)]
        struct Body {
            params: Option<Box<RawValue>>,
        }
        let params = serde_json::from_slice::<Body>(&out.body)
            .ok()
            .and_then(|b| b.params);
        if let Some(name) = mh::name_of(method, params.as_deref()) {
            put(&mut h, mh::NAME, &name);
            if method == "tools/call" {
                let marked = self.state.lock().tool_headers.get(&name).cloned();
                let args = params
                    .as_deref()
                    .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
                    .and_then(|p| p.get("arguments").cloned());
                for (arg, suffix) in marked.unwrap_or_default() {
                    if let Some(text) = args
                        .as_ref()
                        .and_then(|a| a.get(&arg))
                        .and_then(mh::value_text)
                    {
                        put(&mut h, &format!("{}{suffix}", mh::PARAM_PREFIX), &text);
                    }
                }
            }
        }
        h
    }

    /// A 2026-07-28 `tools/list` answer: learns each tool's mirrored arguments and drops
    /// the tools whose `x-mcp-header` markings are invalid (with a warning), so no call can
    /// carry headers the server would refuse.
    fn learn_tools(&self, message: &str) -> Option<String> {
        let mut v: Value = serde_json::from_str(message).ok()?;
        let tools = v.get_mut("result")?.get_mut("tools")?.as_array_mut()?;
        let mut learned = Vec::new();
        tools.retain(|t| {
            let name = t.get("name").and_then(Value::as_str).unwrap_or_default();
            let schema = t.get("inputSchema").and_then(Value::as_object);
            match schema.map(oxmcp_proto::modern::headers::validate_markings) {
                Some(Err(why)) => {
                    tracing::warn!(
                        tool = name,
                        "dropped a tool with invalid x-mcp-header markings: {why}"
                    );
                    false
                }
                Some(Ok(marked)) => {
                    learned.push((name.to_owned(), marked));
                    true
                }
                None => true,
            }
        });
        let mut st = self.state.lock();
        for (name, marked) in learned {
            st.tool_headers.insert(name, marked);
        }
        Some(v.to_string())
    }

    fn headers(&self, initialize: bool) -> (HeaderMap, bool) {
        let mut h = self.cfg.headers.clone();
        let st = self.state.lock();
        let mut with_session = false;
        if !initialize {
            if let Some(v) = st
                .session
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                h.insert(SESSION_HEADER, v);
                with_session = true;
            }
            if let Some(v) = st
                .version
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                h.insert(VERSION_HEADER, v);
            }
        }
        (h, with_session)
    }

    /// POSTs one message and routes the reply. `forward_answer`: whether the response to
    /// this request goes to the engine (not when re-initialising behind its back).
    async fn exchange(
        self: &Arc<Self>,
        out: &Outgoing,
        forward_answer: bool,
    ) -> Result<(), Failure> {
        let (headers, with_session) = if out.modern {
            (self.modern_headers(out), false)
        } else {
            self.headers(out.is_initialize())
        };
        let resp = self
            .http
            .post(self.cfg.url.clone())
            .headers(headers)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream")
            .body(out.body.clone())
            .send()
            .await
            .map_err(Failure::network)?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND && with_session {
            return Err(Failure::Expired);
        }
        if !status.is_success() {
            let failure = error_status(resp).await;
            if out.modern
                && let Some(want) = out.request_id()
                && let Failure::Status {
                    status,
                    rpc: Some(e),
                    ..
                } = &failure
            {
                // 2026-07-28 errors travel with an HTTP status; the engine gets the server's
                // error as sent, the status added to its data.
                let mut e = e.clone();
                let mut data = match e.data.take() {
                    Some(Value::Object(m)) => m,
                    Some(other) => {
                        let mut m = serde_json::Map::new();
                        m.insert("data".into(), other);
                        m
                    }
                    None => serde_json::Map::new(),
                };
                data.insert("httpStatus".into(), status.as_u16().into());
                e.data = Some(Value::Object(data));
                if forward_answer {
                    let line = serde_json::json!({ "jsonrpc": "2.0", "id": want, "error": e });
                    self.deliver_line(line.to_string().into_bytes()).await;
                }
                return Ok(());
            }
            return Err(failure);
        }
        if out.is_initialize() {
            self.learn_session(resp.headers());
        }
        let Some(want) = out.request_id() else {
            // A notification or response: 202 and no body is the rule; a body is ignored.
            return Ok(());
        };
        if status == StatusCode::ACCEPTED {
            return Ok(()); // the answer will come on the GET stream
        }
        let ct = content_type(resp.headers());
        if ct == "application/json" {
            let body = read_body(resp, self.cfg.max_body).await?;
            self.deliver_json(&body, Some(want), forward_answer).await?;
            Ok(())
        } else if ct == "text/event-stream" {
            let mut parser = SseParser::new(self.cfg.max_body);
            if self
                .read_stream(resp, &mut parser, Some(want), forward_answer)
                .await?
            {
                return Ok(());
            }
            self.resume(&mut parser, want, forward_answer).await
        } else {
            Err(Failure::Other(format!(
                "HTTP {status} with Content-Type {ct:?}: expected application/json or text/event-stream"
            )))
        }
    }

    fn learn_session(&self, headers: &HeaderMap) {
        let Some(v) = headers.get(SESSION_HEADER) else {
            return;
        };
        // Visible ASCII only (0x21..=0x7E), as the spec requires.
        match v.to_str() {
            Ok(s) if !s.is_empty() && s.bytes().all(|b| (0x21..=0x7E).contains(&b)) => {
                self.state.lock().session = Some(s.to_owned());
            }
            _ => tracing::warn!("ignored an Mcp-Session-Id that is not visible ASCII"),
        }
    }

    /// Reads an SSE stream, delivering its messages, until it ends or (with `want`) the
    /// response to `want` arrived. Returns whether it did. A dropped connection is an end.
    async fn read_stream(
        &self,
        mut resp: reqwest::Response,
        parser: &mut SseParser,
        want: Option<&Value>,
        forward_answer: bool,
    ) -> Result<bool, Failure> {
        parser.reconnected();
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(false),
                Err(e) => {
                    tracing::debug!(error = %e, "the SSE stream broke");
                    return Ok(false);
                }
            };
            if let Err(o) = parser.push(&chunk) {
                return Err(Failure::Other(format!(
                    "an SSE event from the server is over the {}-byte limit",
                    o.limit
                )));
            }
            let mut answered = false;
            while let Some(ev) = parser.next_event() {
                if ev.event != "message" || ev.data.trim().is_empty() {
                    continue; // priming events and unknown event types carry no message
                }
                answered |= self
                    .deliver_json(ev.data.as_bytes(), want, forward_answer)
                    .await?;
            }
            if answered {
                return Ok(true);
            }
        }
    }

    /// Resumes a POST's stream with GET + `Last-Event-ID` until the response arrives.
    async fn resume(
        self: &Arc<Self>,
        parser: &mut SseParser,
        want: &Value,
        forward_answer: bool,
    ) -> Result<(), Failure> {
        let policy = self.cfg.reconnect;
        let mut failures = 0u32;
        let mut last_error = String::new();
        loop {
            if parser.last_event_id().is_none() {
                return Err(Failure::Other(
                    "the server's SSE stream ended before the response, with no event id to resume from"
                        .to_owned(),
                ));
            }
            if failures > policy.max_attempts {
                return Err(Failure::Other(format!(
                    "the SSE stream could not be resumed after {} attempts: {last_error}",
                    failures
                )));
            }
            tokio::time::sleep(policy.delay(parser.retry_ms(), failures)).await;
            match self.get_stream(parser.last_event_id()).await {
                Ok(resp) => {
                    if self
                        .read_stream(resp, parser, Some(want), forward_answer)
                        .await?
                    {
                        return Ok(());
                    }
                    if parser.dispatched() > 0 {
                        failures = 0;
                    } else {
                        failures += 1;
                        last_error = "the resumed stream ended without an event".to_owned();
                    }
                }
                Err(GetError::NotAllowed) => {
                    return Err(Failure::Other(
                        "the SSE stream ended before the response and the server does not allow GET to resume it (405)"
                            .to_owned(),
                    ));
                }
                Err(GetError::Expired) => {
                    return Err(Failure::Other(
                        "HTTP 404 Not Found while resuming the SSE stream: the session expired and the request's outcome is unknown"
                            .to_owned(),
                    ));
                }
                Err(GetError::Failed(e)) => {
                    failures += 1;
                    last_error = e;
                }
            }
        }
    }

    /// Opens (or reopens) the GET stream for server-initiated messages; returns once the
    /// server answered the first GET (or [`LISTEN_READY_WAIT`] passed).
    async fn start_listening(self: &Arc<Self>) {
        let pump = self.clone();
        let (ready_tx, ready) = oneshot::channel();
        let task = tokio::spawn(
            self.stop
                .clone()
                .run_until_cancelled_owned(async move { pump.listen(ready_tx).await }),
        );
        if let Some(old) = self.state.lock().listener.replace(task.abort_handle()) {
            old.abort();
        }
        let _ = tokio::time::timeout(LISTEN_READY_WAIT, ready).await;
    }

    async fn listen(self: &Arc<Self>, ready: oneshot::Sender<()>) {
        let mut ready = Some(ready);
        let policy = self.cfg.reconnect;
        let mut parser = SseParser::new(self.cfg.max_body);
        let mut failures = 0u32;
        let mut first = true;
        loop {
            if !first {
                if failures > policy.max_attempts {
                    tracing::warn!(failures, "gave up the GET stream");
                    return;
                }
                tokio::time::sleep(policy.delay(parser.retry_ms(), failures)).await;
            }
            first = false;
            let opened = self.get_stream(parser.last_event_id()).await;
            if let Some(tx) = ready.take() {
                let _ = tx.send(());
            }
            match opened {
                Ok(resp) => match self.read_stream(resp, &mut parser, None, true).await {
                    Ok(_) if parser.dispatched() > 0 => failures = 0,
                    Ok(_) => failures += 1,
                    Err(f) => {
                        tracing::warn!(error = %f.to_error().message, "dropped the GET stream");
                        return;
                    }
                },
                Err(GetError::NotAllowed) => {
                    tracing::debug!("the server offers no GET stream (405)");
                    return;
                }
                Err(GetError::Expired) => return, // the next request re-initialises
                Err(GetError::Failed(e)) => {
                    tracing::debug!(error = %e, "the GET stream failed");
                    failures += 1;
                }
            }
        }
    }

    async fn get_stream(&self, last_event_id: Option<&str>) -> Result<reqwest::Response, GetError> {
        let (mut headers, with_session) = self.headers(false);
        if let Some(v) = last_event_id.and_then(|id| HeaderValue::from_str(id).ok()) {
            headers.insert(LAST_EVENT_ID, v);
        }
        let resp = self
            .http
            .get(self.cfg.url.clone())
            .headers(headers)
            .header(ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| GetError::Failed(Failure::network(e).to_error().message))?;
        let status = resp.status();
        if status == StatusCode::METHOD_NOT_ALLOWED {
            return Err(GetError::NotAllowed);
        }
        if status == StatusCode::NOT_FOUND && with_session {
            return Err(GetError::Expired);
        }
        if !status.is_success() {
            return Err(GetError::Failed(
                error_status(resp).await.to_error().message,
            ));
        }
        let ct = content_type(resp.headers());
        if ct != "text/event-stream" {
            return Err(GetError::Failed(format!(
                "GET answered with Content-Type {ct:?}, not text/event-stream"
            )));
        }
        Ok(resp)
    }

    /// Delivers a JSON body or event (one message or a batch) to the engine. Returns whether
    /// the response to `want` was among it.
    async fn deliver_json(
        &self,
        body: &[u8],
        want: Option<&Value>,
        forward_answer: bool,
    ) -> Result<bool, Failure> {
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        let messages: Vec<Box<RawValue>> = if first == Some(&b'[') {
            serde_json::from_slice(body)
        } else {
            serde_json::from_slice(body).map(|m| vec![m])
        }
        .map_err(|e| Failure::Other(format!("the server sent a message that is not JSON: {e}")))?;
        let mut answered = false;
        for m in messages {
            #[derive(Deserialize)]
            struct Peek<'a> {
                id: Option<Value>,
                method: Option<IgnoredAny>,
                #[serde(borrow)]
                result: Option<&'a RawValue>,
                error: Option<IgnoredAny>,
            }
            let Ok(peek) = serde_json::from_str::<Peek<'_>>(m.get()) else {
                tracing::warn!("skipped a message from the server that is not JSON-RPC");
                continue;
            };
            let is_response =
                peek.method.is_none() && (peek.result.is_some() || peek.error.is_some());
            let is_answer = is_response && want.is_some() && peek.id.as_ref() == want;
            if is_response {
                self.observe_response(peek.id.as_ref(), peek.result);
            }
            answered |= is_answer;
            if is_answer && !forward_answer {
                continue;
            }
            let learned = if is_answer
                && peek.result.is_some()
                && want.is_some_and(|w| self.state.lock().tool_lists.contains(&w.to_string()))
            {
                self.learn_tools(m.get())
            } else {
                None
            };
            let text = learned.as_deref().unwrap_or(m.get());
            let line = if text.contains(['\n', '\r']) {
                // Pretty-printed JSON would break the line framing: compact it.
                serde_json::from_str::<Value>(text)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            } else {
                text.to_owned()
            };
            self.deliver_line(line.into_bytes()).await;
        }
        Ok(answered)
    }

    /// Learns the negotiated revision from the answer to `initialize`.
    fn observe_response(&self, id: Option<&Value>, result: Option<&RawValue>) {
        #[derive(Deserialize)]
        struct Init {
            #[serde(rename = "protocolVersion")]
            protocol_version: String,
        }
        let mut st = self.state.lock();
        let is_init = matches!(
            (&st.init, id),
            (Some(Outgoing { kind: Kind::Request { id: init_id, .. }, .. }), Some(id)) if init_id == id
        );
        if let (true, Some(result)) = (is_init, result)
            && let Ok(init) = serde_json::from_str::<Init>(result.get())
        {
            st.version = Some(init.protocol_version);
        }
    }

    async fn deliver_line(&self, line: Vec<u8>) {
        if line.is_empty() {
            return;
        }
        let _ = self.to_client.send(line).await;
    }

    /// DELETE for the session: best effort, bounded by the close timeout.
    async fn delete_session(&self) {
        let (headers, with_session) = self.headers(false);
        if !with_session {
            return;
        }
        let req = self
            .http
            .delete(self.cfg.url.clone())
            .headers(headers)
            .send();
        match tokio::time::timeout(self.cfg.close_timeout, req).await {
            Ok(Ok(r)) => tracing::debug!(status = %r.status(), "DELETE for the session"),
            Ok(Err(e)) => tracing::debug!(error = %e, "DELETE for the session failed"),
            Err(_) => tracing::debug!("DELETE for the session timed out"),
        }
    }
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Reads a body of at most `max` bytes.
async fn read_body(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, Failure> {
    let over = || Failure::Other(format!("the server's reply is over the {max}-byte limit"));
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(over());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Failure::network)? {
        if body.len() + chunk.len() > max {
            return Err(over());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An HTTP error reply: the status and what its body says.
async fn error_status(mut resp: reqwest::Response) -> Failure {
    #[derive(Deserialize)]
    struct Body {
        error: ErrorObject,
    }
    let status = resp.status();
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = MAX_ERROR_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    let rpc = serde_json::from_slice::<Body>(&body).ok().map(|b| b.error);
    Failure::Status {
        status,
        rpc,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
