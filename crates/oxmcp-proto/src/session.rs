//! The legacy session engine (2024-11-05 … 2025-11-25) as plain data.
//!
//! [`Session`] takes `(now, frame)` and pushes [`Action`]s: bytes to send, handlers to run,
//! handlers to abort, responses to deliver to whoever awaits a server-to-client request. It
//! reads no clock and does no I/O: the runtime passes `now`, asks [`Session::poll_timeout`]
//! for the next deadline and calls [`Session::handle_timeout`] when it passes. It answers
//! what needs no application code itself (`initialize`, `ping`, `logging/setLevel`,
//! `notifications/cancelled`, the lifecycle and capability rules, batches) and hands every
//! other request out as [`Action::Dispatch`]; the runtime reports each handler's outcome with
//! [`Session::complete`]. A cancelled or expired request is forgotten at once, so its
//! handler's late outcome is dropped and nothing is written for it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::ErrorObject;
use crate::jsonrpc::{self, Decoded, Message, Request, RequestId};
use crate::model::{
    ClientCapabilities, Implementation, InitializeResult, LoggingLevel, Meta, ProgressToken,
    ServerCapabilities,
};
use crate::version::ProtocolVersion;

/// A map keyed by request ids: hashed fast (the ids a client picks are bounded by the
/// in-flight limit, and the hasher is seeded per process).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The bounds of one session. Every field has a documented default ([`Default`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionLimits {
    /// Requests from the client being handled at once (default 64). One more gets the
    /// overload error (-31429).
    pub max_in_flight: usize,
    /// Server-to-client requests awaiting an answer (default 16). One more fails the
    /// handler's call with the overload error.
    pub max_pending_outgoing: usize,
    /// How long a client request may run before it is aborted (default 300 s; `None`: no
    /// limit). A tool call that runs out answers `isError: true` naming the limit; other
    /// requests get -32603 naming it.
    pub request_timeout: Option<Duration>,
    /// How long the client may take to answer a server-to-client request (default 60 s).
    pub outgoing_timeout: Duration,
    /// Elements in one JSON-RPC batch (default 64). A larger batch gets one -32600.
    pub max_batch: usize,
    /// Resource subscriptions per session (default 1,024).
    pub max_subscriptions: usize,
    /// How long a client should wait before retrying after an overload error (default 1 s).
    pub retry_after: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_in_flight: 64,
            max_pending_outgoing: 16,
            request_timeout: Some(Duration::from_secs(300)),
            outgoing_timeout: Duration::from_secs(60),
            max_batch: 64,
            max_subscriptions: 1024,
            retry_after: Duration::from_secs(1),
        }
    }
}

/// What the server says about itself in `initialize`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ServerSetup {
    /// `serverInfo`.
    pub info: Implementation,
    /// The capabilities the server declares (and which gate the client's requests).
    pub capabilities: ServerCapabilities,
    /// Optional instructions for the client's model.
    pub instructions: Option<String>,
}

impl ServerSetup {
    /// A setup from its parts.
    pub fn new(
        info: Implementation,
        capabilities: ServerCapabilities,
        instructions: Option<String>,
    ) -> Self {
        ServerSetup {
            info,
            capabilities,
            instructions,
        }
    }
}

/// A request the runtime must run a handler for.
#[derive(Debug)]
pub struct Dispatch {
    /// The client's request id.
    pub id: RequestId,
    /// The method.
    pub method: String,
    /// The raw params.
    pub params: Option<Box<RawValue>>,
    /// `params._meta.progressToken`, if the client asked for progress.
    pub progress_token: Option<ProgressToken>,
    /// `params._meta`, as the client sent it.
    pub meta: Option<Meta>,
}

/// What the runtime must do.
#[derive(Debug)]
pub enum Action {
    /// Write this message (one JSON text, no framing): a reply to the frame just handled,
    /// or a message related to no request.
    Send(Vec<u8>),
    /// Write this message: the answer to request `id` (or to the batch `id` was part of),
    /// produced after the frame that carried it was handled (a handler finished, or the
    /// request expired). A transport with one stream per request (Streamable HTTP) writes
    /// it on the stream that carried `id` and then ends that stream.
    Respond {
        /// The request answered.
        id: RequestId,
        /// The response (or batch response).
        bytes: Vec<u8>,
    },
    /// Run a handler; report its outcome with [`Session::complete`].
    Dispatch(Dispatch),
    /// Abort the handler of this request (cancelled or expired): drop it, send nothing.
    Abort(RequestId),
    /// The client answered (or failed to answer in time) our request `id`.
    Deliver {
        /// The id of our server-to-client request.
        id: i64,
        /// The client's result, or its error (or ours, on timeout).
        outcome: Result<Box<RawValue>, ErrorObject>,
    },
    /// A client notification for the application (e.g. `notifications/roots/list_changed`).
    Notify {
        /// The method.
        method: String,
        /// The raw params.
        params: Option<Box<RawValue>>,
    },
}

/// A client capability a server-to-client request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientNeed {
    /// `sampling/createMessage`.
    Sampling,
    /// `sampling/createMessage` with `tools` (2025-11-25).
    SamplingTools,
    /// `elicitation/create` in form mode (2025-06-18).
    ElicitationForm,
    /// `elicitation/create` in URL mode (2025-11-25).
    ElicitationUrl,
    /// `roots/list`.
    Roots,
}

impl ClientNeed {
    fn method(self) -> &'static str {
        match self {
            ClientNeed::Sampling | ClientNeed::SamplingTools => "sampling/createMessage",
            ClientNeed::ElicitationForm | ClientNeed::ElicitationUrl => "elicitation/create",
            ClientNeed::Roots => "roots/list",
        }
    }
}

/// Which `list_changed` notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListChanged {
    /// `notifications/tools/list_changed`.
    Tools,
    /// `notifications/resources/list_changed`.
    Resources,
    /// `notifications/prompts/list_changed`.
    Prompts,
}

#[derive(Debug)]
struct InFlight {
    method: String,
    deadline: Option<Instant>,
    progress: Option<ProgressToken>,
    last_progress: Option<f64>,
    batch: Option<u64>,
}

#[derive(Debug)]
struct Outgoing {
    deadline: Instant,
    method: &'static str,
}

#[derive(Debug, Default)]
struct BatchReply {
    remaining: usize,
    replies: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeParams {
    protocol_version: String,
    #[serde(default)]
    capabilities: ClientCapabilities,
    #[serde(default)]
    client_info: Option<Implementation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelledParams {
    #[serde(default)]
    request_id: Option<RequestId>,
}

#[derive(Deserialize)]
struct SetLevelParams {
    level: LoggingLevel,
}

/// `_meta`, looked for before params are parsed for it.
static META: crate::needle::Needle = crate::needle::Needle::new(b"_meta");

#[derive(Deserialize)]
struct MetaOnly {
    #[serde(rename = "_meta", default)]
    meta: Option<Meta>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressOut<'a> {
    progress_token: &'a ProgressToken,
    progress: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    meta: Option<&'a serde_json::Value>,
}

/// A `notifications/progress` for `token`, after checking that `progress` increases on
/// `last` (which it then updates): the one place progress is built, for requests and for
/// tasks' background runs (`meta` carries the related task there).
pub fn progress_notification(
    last: &mut Option<f64>,
    token: &ProgressToken,
    progress: f64,
    total: Option<f64>,
    message: Option<&str>,
    meta: Option<&serde_json::Value>,
) -> Result<Vec<u8>, ErrorObject> {
    if last.is_some_and(|l| progress <= l) || !progress.is_finite() {
        return Err(ErrorObject::invalid_params(format!(
            "progress must increase with each notification: {progress} after {}",
            last.unwrap_or_default()
        )));
    }
    *last = Some(progress);
    Ok(jsonrpc::encode_notification(
        "notifications/progress",
        Some(&ProgressOut {
            progress_token: token,
            progress,
            total,
            message,
            meta,
        }),
    ))
}

/// The capabilities of a client that declared none.
static NO_CAPABILITIES: ClientCapabilities = ClientCapabilities {
    experimental: None,
    roots: None,
    sampling: None,
    elicitation: None,
    tasks: None,
    extensions: None,
};

/// Declared capabilities, kept on the heap only when there are some.
fn boxed_unless_empty(caps: ClientCapabilities) -> Option<Box<ClientCapabilities>> {
    (caps != NO_CAPABILITIES).then(|| Box::new(caps))
}

/// One legacy session's protocol state.
#[derive(Debug)]
pub struct Session {
    /// Shared by the sessions of one server.
    limits: std::sync::Arc<SessionLimits>,
    setup: std::sync::Arc<ServerSetup>,
    version: Option<ProtocolVersion>,
    /// `None` while the client declared none (most idle sessions: no allocation).
    client_capabilities: Option<Box<ClientCapabilities>>,
    client_info: Option<Box<Implementation>>,
    initialized_notified: bool,
    log_level: Option<LoggingLevel>,
    subscriptions: HashSet<String>,
    in_flight: FastMap<RequestId, InFlight>,
    outgoing: FastMap<i64, Outgoing>,
    next_outgoing: i64,
    batches: HashMap<u64, BatchReply>,
    next_batch: u64,
    /// Serving one request without a session: nothing can reach the client but the answer.
    sessionless: bool,
    /// Serving one 2026-07-28 request: capabilities and log level come from its `_meta`.
    modern: bool,
    /// Requests refused at `max_in_flight` since [`Session::take_refused`] last looked.
    refused: u32,
}

impl Session {
    /// How many requests were refused at `max_in_flight` since the last call (for metrics).
    pub fn take_refused(&mut self) -> u32 {
        std::mem::take(&mut self.refused)
    }

    /// A new session awaiting `initialize`.
    pub fn new(
        setup: std::sync::Arc<ServerSetup>,
        limits: impl Into<std::sync::Arc<SessionLimits>>,
    ) -> Self {
        Session {
            limits: limits.into(),
            setup,
            version: None,
            client_capabilities: None,
            client_info: None,
            initialized_notified: false,
            log_level: None,
            subscriptions: HashSet::new(),
            in_flight: FastMap::default(),
            outgoing: FastMap::default(),
            next_outgoing: 0,
            batches: HashMap::new(),
            next_batch: 0,
            sessionless: false,
            modern: false,
            refused: 0,
        }
    }

    /// Serves one 2026-07-28 request: no handshake, the capabilities, identity and log
    /// level of its validated `_meta`; input calls end the handler with `input_required`
    /// instead of sending requests; logs flow only if the request set a level.
    pub fn assume_modern(&mut self, meta: crate::modern::meta::RequestMeta) {
        self.version = Some(meta.version);
        self.initialized_notified = true;
        self.sessionless = true;
        self.modern = true;
        self.client_capabilities = boxed_unless_empty(meta.capabilities);
        self.client_info = meta.client_info.map(Box::new);
        self.log_level = meta.log_level;
    }

    /// Whether this serves a 2026-07-28 request (see [`Session::assume_modern`]).
    pub fn is_modern(&self) -> bool {
        self.modern
    }

    /// Serves without an `initialize` exchange (a stateless HTTP request): the session
    /// acts as initialized under `version`, with a client that declared no capabilities.
    pub fn assume_initialized(&mut self, version: ProtocolVersion) {
        self.version = Some(version);
        self.initialized_notified = true;
        self.sessionless = true;
    }

    /// The negotiated revision, once `initialize` was answered.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// The client's declared capabilities (empty before `initialize`).
    pub fn client_capabilities(&self) -> &ClientCapabilities {
        self.client_capabilities
            .as_deref()
            .unwrap_or(&NO_CAPABILITIES)
    }

    /// The client's `clientInfo`.
    pub fn client_info(&self) -> Option<&Implementation> {
        self.client_info.as_deref()
    }

    /// Whether `notifications/initialized` has arrived.
    pub fn initialized_notified(&self) -> bool {
        self.initialized_notified
    }

    /// The level set by `logging/setLevel`, if any.
    pub fn log_level(&self) -> Option<LoggingLevel> {
        self.log_level
    }

    /// Requests being handled now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Server-to-client requests awaiting an answer.
    pub fn pending_outgoing(&self) -> usize {
        self.outgoing.len()
    }

    /// Batches whose reply is still being collected.
    pub fn open_batches(&self) -> usize {
        self.batches.len()
    }

    /// Whether `uri` is subscribed.
    pub fn is_subscribed(&self, uri: &str) -> bool {
        self.subscriptions.contains(uri)
    }

    /// The session's limits.
    pub fn limits(&self) -> &SessionLimits {
        &self.limits
    }

    /// The server's setup.
    pub fn setup(&self) -> &ServerSetup {
        &self.setup
    }

    /// Handles one frame (a line on stdio, a body over HTTP).
    pub fn handle_frame(&mut self, now: Instant, frame: &[u8], out: &mut Vec<Action>) {
        match jsonrpc::decode(frame) {
            Decoded::Single(Ok(msg)) => self.handle_message(now, msg, None, out),
            Decoded::Single(Err(e)) => {
                if e.reply {
                    out.push(Action::Send(jsonrpc::encode_error(e.id.as_ref(), &e.error)));
                }
            }
            Decoded::Batch(items) => self.handle_batch(now, items, out),
        }
    }

    /// Feeds one message the transport already decoded (as [`Session::handle_frame`] would
    /// have): a transport that read the message to route it need not decode it twice.
    pub fn handle_decoded(&mut self, now: Instant, msg: Message, out: &mut Vec<Action>) {
        self.handle_message(now, msg, None, out);
    }

    /// Answers a line that was too long to read (the transport skipped it).
    pub fn oversize(&mut self, len: usize, limit: usize, out: &mut Vec<Action>) {
        let e = ErrorObject::invalid_request(format!(
            "message of {len} bytes exceeds the maximum message size of {limit} bytes"
        ))
        .with_data(serde_json::json!({ "limit": limit, "size": len }));
        out.push(Action::Send(jsonrpc::encode_error(None, &e)));
    }

    fn handle_batch(
        &mut self,
        now: Instant,
        items: Vec<Result<Message, jsonrpc::DecodeError>>,
        out: &mut Vec<Action>,
    ) {
        let refuse = |message: String, out: &mut Vec<Action>| {
            out.push(Action::Send(jsonrpc::encode_error(
                None,
                &ErrorObject::invalid_request(message),
            )));
        };
        if items.is_empty() {
            return refuse(
                "empty batch: a batch must hold at least one message".into(),
                out,
            );
        }
        match self.version {
            Some(v) if v.allows_batches() => {}
            Some(v) => {
                return refuse(
                    format!("JSON-RPC batches are not supported on protocol revision {v}"),
                    out,
                );
            }
            None => {
                return refuse("JSON-RPC batches are not allowed before initialization (initialize must be sent alone)".into(), out);
            }
        }
        if items.len() > self.limits.max_batch {
            return refuse(
                format!(
                    "batch of {} messages exceeds the limit of {}",
                    items.len(),
                    self.limits.max_batch
                ),
                out,
            );
        }
        let batch = self.next_batch;
        self.next_batch = self.next_batch.wrapping_add(1);
        self.batches.insert(batch, BatchReply::default());
        for item in items {
            match item {
                Ok(msg) => self.handle_message(now, msg, Some(batch), out),
                Err(e) => {
                    if e.reply {
                        self.reply(
                            Some(batch),
                            jsonrpc::encode_error(e.id.as_ref(), &e.error),
                            out,
                        );
                    }
                }
            }
        }
        self.maybe_finish_batch(batch, None, out);
    }

    fn reply(&mut self, batch: Option<u64>, bytes: Vec<u8>, out: &mut Vec<Action>) {
        match batch.and_then(|b| self.batches.get_mut(&b)) {
            Some(acc) => acc.replies.push(bytes),
            None => out.push(Action::Send(bytes)),
        }
    }

    /// Emits the batch's reply once every member is answered: as a reply to the frame
    /// (`answered: None`) or as the late answer of request `answered`.
    fn maybe_finish_batch(
        &mut self,
        batch: u64,
        answered: Option<&RequestId>,
        out: &mut Vec<Action>,
    ) {
        if self
            .batches
            .get(&batch)
            .is_some_and(|acc| acc.remaining == 0)
            && let Some(acc) = self.batches.remove(&batch)
            // A batch of only notifications and responses gets no reply at all.
            && !acc.replies.is_empty()
        {
            let bytes = jsonrpc::encode_batch(&acc.replies);
            out.push(match answered {
                Some(id) => Action::Respond {
                    id: id.clone(),
                    bytes,
                },
                None => Action::Send(bytes),
            });
        }
    }

    /// Counts one member of `batch` as answered (after a cancellation or a late answer).
    fn settle(&mut self, batch: Option<u64>, answered: Option<&RequestId>, out: &mut Vec<Action>) {
        if let Some(b) = batch {
            if let Some(acc) = self.batches.get_mut(&b) {
                acc.remaining = acc.remaining.saturating_sub(1);
            }
            self.maybe_finish_batch(b, answered, out);
        }
    }

    /// The late answer to request `id`: alone, or into its batch.
    fn respond(
        &mut self,
        batch: Option<u64>,
        id: &RequestId,
        bytes: Vec<u8>,
        out: &mut Vec<Action>,
    ) {
        match batch.and_then(|b| self.batches.get_mut(&b)) {
            Some(acc) => acc.replies.push(bytes),
            None => out.push(Action::Respond {
                id: id.clone(),
                bytes,
            }),
        }
        self.settle(batch, Some(id), out);
    }

    fn handle_message(
        &mut self,
        now: Instant,
        msg: Message,
        batch: Option<u64>,
        out: &mut Vec<Action>,
    ) {
        match msg {
            Message::Request(req) => self.handle_request(now, req, batch, out),
            Message::Notification(n) => self.handle_notification(n.method, n.params, out),
            Message::Response(Some(resp)) => {
                if let RequestId::Number(n) = resp.id
                    && self.outgoing.remove(&n).is_some()
                {
                    out.push(Action::Deliver {
                        id: n,
                        outcome: resp.outcome,
                    });
                }
            }
            // An error the client could not tie to a request: nothing to answer.
            Message::Response(None) => {}
        }
    }

    fn handle_request(
        &mut self,
        now: Instant,
        req: Request,
        batch: Option<u64>,
        out: &mut Vec<Action>,
    ) {
        let Request { id, method, params } = req;
        let err = |e: ErrorObject| jsonrpc::encode_error(Some(&id), &e);
        if self.modern
            && let Err(e) = self.gate(&method)
        {
            // 2026-07-28 removed initialize, ping and logging/setLevel with the rest.
            return self.reply(batch, err(e), out);
        }
        match method.as_str() {
            "initialize" if !self.modern => {
                let bytes = if batch.is_some() {
                    err(ErrorObject::invalid_request(
                        "initialize must not be part of a JSON-RPC batch",
                    ))
                } else {
                    match self.initialize(params.as_deref()) {
                        Ok(result) => jsonrpc::encode_result(&id, &result),
                        Err(e) => err(e),
                    }
                };
                self.reply(batch, bytes, out);
            }
            "ping" if !self.modern => self.reply(
                batch,
                jsonrpc::encode_result(&id, &serde_json::json!({})),
                out,
            ),
            _ if self.version.is_none() => {
                let e = ErrorObject::invalid_request(format!(
                    "the session is not initialized: send initialize before {method}"
                ));
                self.reply(batch, err(e), out);
            }
            "logging/setLevel" if !self.modern && self.setup.capabilities.logging.is_some() => {
                let bytes = match parse::<SetLevelParams>(params.as_deref()) {
                    Ok(p) => {
                        self.log_level = Some(p.level);
                        jsonrpc::encode_result(&id, &serde_json::json!({}))
                    }
                    Err(e) => err(e),
                };
                self.reply(batch, bytes, out);
            }
            _ => {
                if let Err(e) = self.gate(&method) {
                    return self.reply(batch, err(e), out);
                }
                if self.in_flight.contains_key(&id) {
                    let e = ErrorObject::invalid_request(format!(
                        "request id {id} is already in use by a request in flight"
                    ));
                    return self.reply(batch, err(e), out);
                }
                if self.in_flight.len() >= self.limits.max_in_flight {
                    self.refused = self.refused.saturating_add(1);
                    let e = ErrorObject::overloaded(
                        format!(
                            "too many requests in flight: the limit is {} per session (max_in_flight)",
                            self.limits.max_in_flight
                        ),
                        self.limits.retry_after.as_millis() as u64,
                    )
                    .with_limit("max_in_flight");
                    return self.reply(batch, err(e), out);
                }
                // `_meta` is read here once; the handler gets it with the dispatch.
                let meta = params
                    .as_deref()
                    .filter(|p| META.may_be_in_json(p.get().as_bytes()))
                    .and_then(|p| serde_json::from_str::<MetaOnly>(p.get()).ok())
                    .and_then(|m| m.meta);
                let progress = meta.as_ref().and_then(ProgressToken::from_meta);
                if let Some(b) = batch.and_then(|b| self.batches.get_mut(&b)) {
                    b.remaining += 1;
                }
                self.in_flight.insert(
                    id.clone(),
                    InFlight {
                        method: method.clone(),
                        // A listen stream lives until the client closes it.
                        deadline: self
                            .limits
                            .request_timeout
                            .filter(|_| method != "subscriptions/listen")
                            .map(|t| now + t),
                        progress: progress.clone(),
                        last_progress: None,
                        batch,
                    },
                );
                out.push(Action::Dispatch(Dispatch {
                    id,
                    method,
                    params,
                    progress_token: progress,
                    meta,
                }));
            }
        }
    }

    /// Which server capability (and revision) a client request needs.
    fn gate(&self, method: &str) -> Result<(), ErrorObject> {
        let caps = &self.setup.capabilities;
        let version = self.version.unwrap_or(ProtocolVersion::LATEST_LEGACY);
        if self.modern {
            return if crate::modern::meta::method_known(method, caps) {
                Ok(())
            } else {
                Err(ErrorObject::method_not_found(method))
            };
        }
        let allowed = match method {
            "tools/list" | "tools/call" => caps.tools.is_some(),
            "resources/list" | "resources/read" | "resources/templates/list" => {
                caps.resources.is_some()
            }
            "resources/subscribe" | "resources/unsubscribe" => caps
                .resources
                .as_ref()
                .is_some_and(|r| r.subscribe == Some(true)),
            "prompts/list" | "prompts/get" => caps.prompts.is_some(),
            "completion/complete" => caps.completions.is_some(),
            "tasks/get" | "tasks/result" => {
                version >= ProtocolVersion::V2025_11_25 && caps.tasks.is_some()
            }
            "tasks/list" => {
                version >= ProtocolVersion::V2025_11_25
                    && caps.tasks.as_ref().is_some_and(|t| t.list.is_some())
            }
            "tasks/cancel" => {
                version >= ProtocolVersion::V2025_11_25
                    && caps.tasks.as_ref().is_some_and(|t| t.cancel.is_some())
            }
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(ErrorObject::method_not_found(method))
        }
    }

    fn initialize(&mut self, params: Option<&RawValue>) -> Result<serde_json::Value, ErrorObject> {
        if let Some(v) = self.version {
            return Err(ErrorObject::invalid_request(format!(
                "the session is already initialized (protocol revision {v})"
            )));
        }
        let p: InitializeParams = parse(params)?;
        let version = ProtocolVersion::negotiate(&p.protocol_version);
        let result = InitializeResult {
            protocol_version: version.as_str().to_owned(),
            capabilities: self.setup.capabilities.clone(),
            server_info: self.setup.info.clone(),
            instructions: self.setup.instructions.clone(),
            ..Default::default()
        };
        let mut value =
            serde_json::to_value(&result).map_err(|e| ErrorObject::internal(e.to_string()))?;
        crate::model::downgrade::downgrade_result("initialize", version, &mut value);
        self.version = Some(version);
        self.client_capabilities = boxed_unless_empty(p.capabilities);
        self.client_info = p.client_info.map(Box::new);
        Ok(value)
    }

    fn handle_notification(
        &mut self,
        method: String,
        params: Option<Box<RawValue>>,
        out: &mut Vec<Action>,
    ) {
        match method.as_str() {
            "notifications/initialized" => self.initialized_notified = true,
            "notifications/cancelled" => {
                let Ok(p) = parse::<CancelledParams>(params.as_deref()) else {
                    return;
                };
                let Some(id) = p.request_id else { return };
                if let Some(f) = self.in_flight.remove(&id) {
                    out.push(Action::Abort(id.clone()));
                    self.settle(f.batch, Some(&id), out);
                }
            }
            _ if self.version.is_none() => {}
            _ => out.push(Action::Notify { method, params }),
        }
    }

    /// Reports a handler's outcome: the result JSON (already downgraded for
    /// [`Session::version`]) or an error. Nothing is sent if the request was cancelled or
    /// expired meanwhile.
    pub fn complete(
        &mut self,
        id: &RequestId,
        outcome: Result<&RawValue, &ErrorObject>,
        out: &mut Vec<Action>,
    ) {
        let Some(f) = self.in_flight.remove(id) else {
            return;
        };
        let bytes = match outcome {
            Ok(result) => jsonrpc::encode_result(id, result),
            Err(e) => jsonrpc::encode_error(Some(id), e),
        };
        self.respond(f.batch, id, bytes, out);
    }

    /// Whether request `id` is still being handled (not answered, cancelled or expired).
    pub fn is_in_flight(&self, id: &RequestId) -> bool {
        self.in_flight.contains_key(id)
    }

    /// The next instant at which [`Session::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let a = self.in_flight.values().filter_map(|f| f.deadline).min();
        let b = self.outgoing.values().map(|o| o.deadline).min();
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Expires requests whose deadline passed: aborts their handlers and answers them,
    /// and fails server-to-client requests the client did not answer in time.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        let expired: Vec<RequestId> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            let Some(f) = self.in_flight.remove(&id) else {
                continue;
            };
            let limit = self.limits.request_timeout.unwrap_or_default();
            let text = format!(
                "the request exceeded its deadline of {} ms (request_timeout)",
                limit.as_millis()
            );
            let bytes = if f.method == "tools/call" {
                jsonrpc::encode_result(
                    &id,
                    &serde_json::json!({ "content": [{ "type": "text", "text": text }], "isError": true }),
                )
            } else {
                jsonrpc::encode_error(Some(&id), &ErrorObject::internal(text))
            };
            // The answer first: a transport that ends the request's stream on `Abort`
            // must have it by then.
            self.respond(f.batch, &id, bytes, out);
            out.push(Action::Abort(id.clone()));
        }
        let expired: Vec<i64> = self
            .outgoing
            .iter()
            .filter(|(_, o)| o.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            let Some(o) = self.outgoing.remove(&id) else {
                continue;
            };
            let text = format!(
                "the client did not answer {} within {} ms",
                o.method,
                self.limits.outgoing_timeout.as_millis()
            );
            out.push(Action::Send(jsonrpc::encode_notification(
                "notifications/cancelled",
                Some(&serde_json::json!({ "requestId": id, "reason": text })),
            )));
            out.push(Action::Deliver {
                id,
                outcome: Err(ErrorObject::timed_out(text)),
            });
        }
    }

    /// Checks that the client can take a server-to-client request of this kind.
    pub fn check_client_need(&self, need: ClientNeed) -> Result<(), ErrorObject> {
        let Some(version) = self.version else {
            return Err(ErrorObject::invalid_request(
                "the session is not initialized",
            ));
        };
        if self.modern {
            return self.check_modern_need(need);
        }
        if self.sessionless {
            return Err(ErrorObject::invalid_request(format!(
                "{} is unavailable without a session (stateless HTTP): the server cannot send requests to the client",
                need.method()
            )));
        }
        let caps = self.client_capabilities();
        let (ok, what, since) = match need {
            ClientNeed::Sampling => (
                caps.sampling.is_some(),
                "sampling",
                ProtocolVersion::V2024_11_05,
            ),
            ClientNeed::SamplingTools => (
                caps.sampling.as_ref().is_some_and(|s| s.tools.is_some()),
                "sampling.tools",
                ProtocolVersion::V2025_11_25,
            ),
            ClientNeed::ElicitationForm => (
                caps.elicitation
                    .as_ref()
                    .is_some_and(|e| e.form.is_some() || e.url.is_none()),
                "elicitation (form)",
                ProtocolVersion::V2025_06_18,
            ),
            ClientNeed::ElicitationUrl => (
                caps.elicitation.as_ref().is_some_and(|e| e.url.is_some()),
                "elicitation.url",
                ProtocolVersion::V2025_11_25,
            ),
            ClientNeed::Roots => (caps.roots.is_some(), "roots", ProtocolVersion::V2024_11_05),
        };
        if version < since {
            return Err(ErrorObject::new(
                crate::error::METHOD_NOT_FOUND,
                format!(
                    "{} is unavailable: {what} needs protocol revision {since} or later; the session negotiated {version}",
                    need.method()
                ),
            ));
        }
        if !ok {
            return Err(ErrorObject::invalid_request(format!(
                "the client did not declare the {what} capability"
            )));
        }
        Ok(())
    }

    /// 2026-07-28: whether this request's `_meta` declared what `need` takes; if not,
    /// -32021 naming the capability as a capabilities object.
    fn check_modern_need(&self, need: ClientNeed) -> Result<(), ErrorObject> {
        let caps = self.client_capabilities();
        let (ok, required) = match need {
            ClientNeed::Sampling => (
                caps.sampling.is_some(),
                serde_json::json!({ "sampling": {} }),
            ),
            ClientNeed::SamplingTools => (
                caps.sampling.as_ref().is_some_and(|s| s.tools.is_some()),
                serde_json::json!({ "sampling": { "tools": {} } }),
            ),
            ClientNeed::ElicitationForm => (
                caps.elicitation
                    .as_ref()
                    .is_some_and(|e| e.form.is_some() || e.url.is_none()),
                serde_json::json!({ "elicitation": { "form": {} } }),
            ),
            ClientNeed::ElicitationUrl => (
                caps.elicitation.as_ref().is_some_and(|e| e.url.is_some()),
                serde_json::json!({ "elicitation": { "url": {} } }),
            ),
            ClientNeed::Roots => (caps.roots.is_some(), serde_json::json!({ "roots": {} })),
        };
        if ok {
            Ok(())
        } else {
            Err(ErrorObject::missing_client_capability(
                required.clone(),
                format!(
                    "this request needs the client capability {required} ({}), which its _meta did not declare",
                    need.method()
                ),
            ))
        }
    }

    /// The method of a server-to-client request of this kind.
    pub fn need_method(need: ClientNeed) -> &'static str {
        need.method()
    }

    /// Starts a server-to-client request: checks the client's capability and the pending
    /// bound, and returns our request id with the message to send.
    pub fn start_request<P: Serialize>(
        &mut self,
        now: Instant,
        need: ClientNeed,
        params: &P,
    ) -> Result<(i64, Vec<u8>), ErrorObject> {
        self.check_client_need(need)?;
        if self.outgoing.len() >= self.limits.max_pending_outgoing {
            return Err(ErrorObject::overloaded(
                format!(
                    "too many server-to-client requests pending: the limit is {} per session",
                    self.limits.max_pending_outgoing
                ),
                self.limits.retry_after.as_millis() as u64,
            ));
        }
        let mut params =
            serde_json::to_value(params).map_err(|e| ErrorObject::internal(e.to_string()))?;
        crate::model::downgrade::downgrade_request(
            need.method(),
            self.version.unwrap_or(ProtocolVersion::LATEST_LEGACY),
            &mut params,
        );
        let id = self.next_outgoing;
        self.next_outgoing += 1;
        let method = need.method();
        self.outgoing.insert(
            id,
            Outgoing {
                deadline: now + self.limits.outgoing_timeout,
                method,
            },
        );
        Ok((
            id,
            jsonrpc::encode_request(&RequestId::Number(id), method, Some(&params)),
        ))
    }

    /// Gives up on our request `id` (its caller went away): the notification to send, if
    /// it was still pending.
    pub fn cancel_request(&mut self, id: i64, reason: &str) -> Option<Vec<u8>> {
        self.outgoing.remove(&id)?;
        Some(jsonrpc::encode_notification(
            "notifications/cancelled",
            Some(&serde_json::json!({ "requestId": id, "reason": reason })),
        ))
    }

    /// A progress notification for request `id`, if the client asked for progress and the
    /// request is still in flight. Progress must increase; a value that does not is refused.
    pub fn progress(
        &mut self,
        id: &RequestId,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> Result<Option<Vec<u8>>, ErrorObject> {
        let Some(f) = self.in_flight.get_mut(id) else {
            return Ok(None);
        };
        let Some(token) = f.progress.as_ref() else {
            return Ok(None);
        };
        let message = message.filter(|_| self.version >= Some(ProtocolVersion::V2025_03_26));
        progress_notification(&mut f.last_progress, token, progress, total, message, None).map(Some)
    }

    /// A `notifications/message` if the server declared logging and `level` passes the
    /// level the client set (everything passes until it sets one).
    pub fn log(
        &self,
        level: LoggingLevel,
        logger: Option<&str>,
        data: &serde_json::Value,
    ) -> Option<Vec<u8>> {
        self.version?;
        if self.modern {
            // 2026-07-28: no level in the request's _meta means no log messages at all.
            if self.log_level.is_none_or(|min| level < min) {
                return None;
            }
        } else if self.setup.capabilities.logging.is_none() {
            return None;
        }
        if self.log_level.is_some_and(|min| level < min) {
            return None;
        }
        let mut params = serde_json::json!({ "level": level, "data": data });
        if let (Some(logger), Some(map)) = (logger, params.as_object_mut()) {
            map.insert("logger".into(), logger.into());
        }
        Some(jsonrpc::encode_notification(
            "notifications/message",
            Some(&params),
        ))
    }

    /// A `list_changed` notification, if the server declared `listChanged` for that list.
    pub fn list_changed(&self, which: ListChanged) -> Option<Vec<u8>> {
        self.version?;
        let caps = &self.setup.capabilities;
        let (declared, method) = match which {
            ListChanged::Tools => (
                caps.tools
                    .as_ref()
                    .is_some_and(|c| c.list_changed == Some(true)),
                "notifications/tools/list_changed",
            ),
            ListChanged::Resources => (
                caps.resources
                    .as_ref()
                    .is_some_and(|c| c.list_changed == Some(true)),
                "notifications/resources/list_changed",
            ),
            ListChanged::Prompts => (
                caps.prompts
                    .as_ref()
                    .is_some_and(|c| c.list_changed == Some(true)),
                "notifications/prompts/list_changed",
            ),
        };
        declared.then(|| jsonrpc::encode_notification::<()>(method, None))
    }

    /// Subscribes to `uri` (`resources/subscribe`, after the runtime checked the resource).
    pub fn subscribe(&mut self, uri: &str) -> Result<(), ErrorObject> {
        if !self.subscriptions.contains(uri)
            && self.subscriptions.len() >= self.limits.max_subscriptions
        {
            return Err(ErrorObject::overloaded(
                format!(
                    "too many subscriptions: the limit is {} per session",
                    self.limits.max_subscriptions
                ),
                self.limits.retry_after.as_millis() as u64,
            ));
        }
        self.subscriptions.insert(uri.to_owned());
        Ok(())
    }

    /// Unsubscribes from `uri`.
    pub fn unsubscribe(&mut self, uri: &str) {
        self.subscriptions.remove(uri);
    }

    /// `notifications/resources/updated` for `uri`, if the client subscribed to it.
    pub fn resource_updated(&self, uri: &str) -> Option<Vec<u8>> {
        self.subscriptions.contains(uri).then(|| {
            jsonrpc::encode_notification(
                "notifications/resources/updated",
                Some(&serde_json::json!({ "uri": uri })),
            )
        })
    }

    /// Any other notification to the client (already shaped for [`Session::version`]).
    pub fn notification<P: Serialize>(&self, method: &str, params: &P) -> Option<Vec<u8>> {
        self.version?;
        Some(jsonrpc::encode_notification(method, Some(params)))
    }
}

/// Deserialises JSON text into `T`; on failure, the path of the offending field (`None` at
/// the root, e.g. `items[1].count`) and what is wrong with it.
pub fn deserialize_named<T: for<'de> Deserialize<'de>>(
    text: &str,
) -> Result<T, (Option<String>, String)> {
    // Tracking the path costs on every field; it is only needed to name a failure, so
    // the plain parse goes first and the tracked one runs again only when that fails.
    if let Ok(v) = serde_json::from_str(text) {
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        ((!path.is_empty() && path != ".").then_some(path), inner)
    })
}

/// Deserialises params (absent params read as `{}`), naming the problem on failure.
pub fn parse<T: for<'de> Deserialize<'de>>(params: Option<&RawValue>) -> Result<T, ErrorObject> {
    deserialize_named(params.map_or("{}", RawValue::get)).map_err(|(path, inner)| match path {
        None => ErrorObject::invalid_params(format!("invalid params: {inner}")),
        Some(path) => ErrorObject::invalid_params(format!("invalid params at `{path}`: {inner}")),
    })
}
