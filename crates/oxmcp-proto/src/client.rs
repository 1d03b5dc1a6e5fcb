//! The client side of a session as plain data: a legacy one (2024-11-05 … 2025-11-25,
//! after `initialize`), or the stateless 2026-07-28 ("modern": every request carries the
//! protocol version and the client's capabilities in `_meta`, `server/discover` replaces
//! `initialize`; see [`ClientSession::probe_modern`]).
//!
//! [`ClientSession`] keeps the requests the client sent (with deadlines and progress
//! tokens) and the requests the server sent (sampling, elicitation, roots) while the
//! application answers them. It takes `(now, frame)` and pushes [`ClientAction`]s; it reads
//! no clock. A request's deadline can be pushed back by each progress notification for it
//! (so long tools that report progress are not cut off), up to an optional hard maximum.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::ErrorObject;
use crate::jsonrpc::{self, Decoded, Message, RequestId};
use crate::model::{Implementation, InitializeResult, ProgressToken, ServerCapabilities};
use crate::version::ProtocolVersion;

/// Bounds of a client session. Every field has a documented default ([`Default`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientLimits {
    /// Requests awaiting the server's answer (default 64). One more fails at once with the
    /// overload error, without being sent.
    pub max_pending: usize,
    /// Server-to-client requests being answered at once (default 16); one more is refused
    /// with the overload error.
    pub max_incoming: usize,
    /// The default timeout of a request (default 60 s).
    pub request_timeout: Duration,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            max_pending: 64,
            max_incoming: 16,
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// How one request is sent.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Its timeout (default: [`ClientLimits::request_timeout`]).
    pub timeout: Option<Duration>,
    /// Ask for progress: a progress token is added to `params._meta`.
    pub progress: bool,
    /// Each progress notification restarts the timeout.
    pub reset_timeout_on_progress: bool,
    /// With `reset_timeout_on_progress`: the longest the request may take in all.
    pub max_total_timeout: Option<Duration>,
}

/// What the runtime must do.
#[derive(Debug)]
pub enum ClientAction {
    /// Write this message.
    Send(Vec<u8>),
    /// The server answered request `id` (or it timed out: then the error's `data` has
    /// `"timedOut": true`).
    Deliver {
        /// Our request id.
        id: i64,
        /// The result or the error.
        outcome: Result<Box<RawValue>, ErrorObject>,
    },
    /// Progress for request `id`.
    Progress {
        /// Our request id.
        id: i64,
        /// The notification's params.
        params: Box<RawValue>,
    },
    /// The server asks the application (sampling, elicitation, roots); answer with
    /// [`ClientSession::respond`].
    Handle {
        /// The server's request id.
        id: RequestId,
        /// The method.
        method: String,
        /// The raw params.
        params: Option<Box<RawValue>>,
    },
    /// The server withdrew its request `id`: drop its handler.
    Abort(RequestId),
    /// A notification for the application.
    Notify {
        /// The method.
        method: String,
        /// The raw params.
        params: Option<Box<RawValue>>,
    },
}

#[derive(Debug)]
struct Pending {
    method: String,
    deadline: Instant,
    timeout: Duration,
    reset_on_progress: bool,
    hard_deadline: Option<Instant>,
    token: Option<ProgressToken>,
}

/// One client session's protocol state.
#[derive(Debug)]
pub struct ClientSession {
    limits: ClientLimits,
    version: Option<ProtocolVersion>,
    server_capabilities: ServerCapabilities,
    server_info: Option<Implementation>,
    instructions: Option<String>,
    /// Methods the application can answer (from its declared capabilities).
    answers: HashSet<&'static str>,
    pending: HashMap<i64, Pending>,
    by_token: HashMap<ProgressToken, i64>,
    incoming: HashSet<RequestId>,
    next_id: i64,
    /// Speaking 2026-07-28: what goes into every request's `_meta`.
    modern: Option<ModernMeta>,
}

/// What a 2026-07-28 client puts into every request's `_meta`.
#[derive(Debug, Clone)]
struct ModernMeta {
    capabilities: Value,
    info: Value,
    log_level: Option<crate::model::LoggingLevel>,
}

/// The methods 2026-07-28 removed: a modern client refuses to send them.
const REMOVED_IN_MODERN: [&str; 7] = [
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
    "tasks/list",
    "tasks/result",
];

impl ClientSession {
    /// A session that will answer the server's requests for `answers` (any of
    /// `sampling/createMessage`, `elicitation/create`, `roots/list`).
    pub fn new(limits: ClientLimits, answers: &[&'static str]) -> Self {
        ClientSession {
            limits,
            version: None,
            server_capabilities: ServerCapabilities::default(),
            server_info: None,
            instructions: None,
            answers: answers.iter().copied().collect(),
            pending: HashMap::new(),
            by_token: HashMap::new(),
            incoming: HashSet::new(),
            next_id: 1,
            modern: None,
        }
    }

    /// Speaks 2026-07-28 from now on: every request carries the version, `capabilities`
    /// and `info` in its `_meta`. Until [`ClientSession::discovered`] accepts a discover
    /// result, only `server/discover` may be sent.
    pub fn probe_modern(&mut self, capabilities: Value, info: Value) {
        self.modern = Some(ModernMeta {
            capabilities,
            info,
            log_level: None,
        });
    }

    /// Stops speaking 2026-07-28 (the server turned out to be an older one).
    pub fn abandon_modern(&mut self) {
        self.modern = None;
        self.version = None;
    }

    /// Whether this session speaks 2026-07-28.
    pub fn is_modern(&self) -> bool {
        self.modern.is_some()
    }

    /// 2026-07-28: the log level every later request opts in to (`None`: no log messages).
    pub fn set_modern_log_level(&mut self, level: Option<crate::model::LoggingLevel>) {
        if let Some(m) = self.modern.as_mut() {
            m.log_level = level;
        }
    }

    /// Takes a `server/discover` result: it counts only if it is a complete discover
    /// result that offers a revision this client speaks (some servers answer unknown
    /// methods with `{}`). Then the session is a 2026-07-28 one.
    pub fn discovered(&mut self, result: &RawValue) -> Result<(), ErrorObject> {
        let r: crate::modern::model::DiscoverResult = serde_json::from_str(result.get())
            .map_err(|e| ErrorObject::invalid_params(format!("not a discover result: {e}")))?;
        if r.result_type != "complete" {
            return Err(ErrorObject::invalid_params(format!(
                "not a complete discover result (resultType {:?})",
                r.result_type
            )));
        }
        let version = r
            .supported_versions
            .iter()
            .filter_map(|v| ProtocolVersion::parse(v))
            .find(|v| crate::modern::SUPPORTED.contains(v))
            .ok_or_else(|| {
                ErrorObject::invalid_params(format!(
                    "the server offers {:?}, none of which this client speaks without a handshake",
                    r.supported_versions
                ))
            })?;
        self.version = Some(version);
        self.server_info = r.server_info();
        self.server_capabilities = r.capabilities;
        self.instructions = r.instructions;
        Ok(())
    }

    /// The negotiated revision, once `initialize` was answered.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// The server's capabilities.
    pub fn server_capabilities(&self) -> &ServerCapabilities {
        &self.server_capabilities
    }

    /// The server's `serverInfo`.
    pub fn server_info(&self) -> Option<&Implementation> {
        self.server_info.as_ref()
    }

    /// The server's instructions.
    pub fn instructions(&self) -> Option<&str> {
        self.instructions.as_deref()
    }

    /// Requests awaiting an answer.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Server requests being answered.
    pub fn incoming(&self) -> usize {
        self.incoming.len()
    }

    /// The method of pending request `id`.
    pub fn pending_method(&self, id: i64) -> Option<&str> {
        self.pending.get(&id).map(|p| p.method.as_str())
    }

    /// Takes the server's `initialize` result: accepts a legacy revision we speak, refuses
    /// anything else with an error that names it. Returns `notifications/initialized`.
    pub fn initialized(&mut self, result: &RawValue) -> Result<Vec<u8>, ErrorObject> {
        let r: InitializeResult = serde_json::from_str(result.get()).map_err(|e| {
            ErrorObject::invalid_params(format!("malformed initialize result: {e}"))
        })?;
        let version = ProtocolVersion::parse(&r.protocol_version)
            .filter(|v| ProtocolVersion::LEGACY.contains(v))
            .ok_or_else(|| {
                ErrorObject::invalid_request(format!(
                    "the server chose protocol revision {:?}, which this client does not speak (it speaks {})",
                    r.protocol_version,
                    ProtocolVersion::LEGACY.map(|v| v.as_str()).join(", ")
                ))
            })?;
        self.version = Some(version);
        self.server_capabilities = r.capabilities;
        self.server_info = Some(r.server_info);
        self.instructions = r.instructions;
        Ok(jsonrpc::encode_notification::<()>(
            "notifications/initialized",
            None,
        ))
    }

    /// Whether the server declared what `method` needs (and the revision has it).
    fn gate(&self, method: &str) -> Result<(), ErrorObject> {
        if self.modern.is_some() {
            return self.gate_modern(method);
        }
        let Some(version) = self.version else {
            return match method {
                "initialize" | "ping" => Ok(()),
                _ => Err(ErrorObject::invalid_request(format!(
                    "not initialized: cannot send {method} yet"
                ))),
            };
        };
        capability_gate(&self.server_capabilities, version, method)
    }

    fn gate_modern(&self, method: &str) -> Result<(), ErrorObject> {
        if REMOVED_IN_MODERN.contains(&method) {
            return Err(
                ErrorObject::method_not_found(method).with_data(serde_json::json!({
                    "reason": "protocol revision 2026-07-28 has no such method"
                })),
            );
        }
        match (self.version, method) {
            (_, "server/discover") => Ok(()),
            (None, _) => Err(ErrorObject::invalid_request(format!(
                "the server is not discovered yet: cannot send {method}"
            ))),
            (Some(_), "subscriptions/listen") => Ok(()),
            (Some(_), "tasks/get" | "tasks/update" | "tasks/cancel") => {
                let ok = self
                    .server_capabilities
                    .extensions
                    .as_ref()
                    .is_some_and(|e| e.contains_key(crate::modern::TASKS_EXTENSION));
                if ok {
                    Ok(())
                } else {
                    Err(
                        ErrorObject::method_not_found(method).with_data(serde_json::json!({
                            "reason": "the server did not declare the tasks extension"
                        })),
                    )
                }
            }
            // The capability rules are the same as the newest legacy revision's.
            (Some(_), _) => capability_gate(
                &self.server_capabilities,
                ProtocolVersion::LATEST_LEGACY,
                method,
            ),
        }
    }

    /// Starts a request: checks the server's capabilities and the pending bound, adds a
    /// progress token if asked, and returns our id with the message to send.
    pub fn start_request<P: Serialize>(
        &mut self,
        now: Instant,
        method: &str,
        params: Option<&P>,
        opts: &RequestOptions,
    ) -> Result<(i64, Vec<u8>), ErrorObject> {
        self.gate(method)?;
        if self.pending.len() >= self.limits.max_pending {
            return Err(ErrorObject::overloaded(
                format!(
                    "too many requests pending: the limit is {} per session",
                    self.limits.max_pending
                ),
                100,
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut params = match params {
            Some(p) => Some(
                serde_json::to_value(p).map_err(|e| ErrorObject::invalid_params(e.to_string()))?,
            ),
            None => None,
        };
        if let Some(m) = &self.modern {
            let p = params.get_or_insert_with(|| serde_json::json!({}));
            if let Some(obj) = p.as_object_mut() {
                let meta = obj.entry("_meta").or_insert_with(|| serde_json::json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    use crate::modern as m2;
                    meta.insert(
                        m2::PROTOCOL_VERSION_KEY.into(),
                        m2::SUPPORTED[0].as_str().into(),
                    );
                    meta.insert(m2::CLIENT_CAPABILITIES_KEY.into(), m.capabilities.clone());
                    meta.insert(m2::CLIENT_INFO_KEY.into(), m.info.clone());
                    if let Some(level) = m.log_level {
                        meta.insert(
                            m2::LOG_LEVEL_KEY.into(),
                            serde_json::to_value(level).unwrap_or(Value::Null),
                        );
                    }
                }
            }
        } else if let (Some(p), Some(v)) = (params.as_mut(), self.version) {
            crate::model::downgrade::downgrade_request(method, v, p);
        }
        let token = opts.progress.then_some(ProgressToken::Number(id));
        if let Some(token) = &token {
            let p = params.get_or_insert_with(|| serde_json::json!({}));
            if let Some(obj) = p.as_object_mut() {
                let meta = obj.entry("_meta").or_insert_with(|| serde_json::json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    meta.insert(
                        "progressToken".into(),
                        serde_json::to_value(token).unwrap_or(Value::Null),
                    );
                }
            }
            self.by_token.insert(token.clone(), id);
        }
        let timeout = opts.timeout.unwrap_or(self.limits.request_timeout);
        self.pending.insert(
            id,
            Pending {
                method: method.to_owned(),
                deadline: now + timeout,
                timeout,
                reset_on_progress: opts.reset_timeout_on_progress,
                hard_deadline: opts.max_total_timeout.map(|m| now + m),
                token,
            },
        );
        Ok((
            id,
            jsonrpc::encode_request(&RequestId::Number(id), method, params.as_ref()),
        ))
    }

    fn forget(&mut self, id: i64) -> Option<Pending> {
        let p = self.pending.remove(&id)?;
        if let Some(t) = &p.token {
            self.by_token.remove(t);
        }
        Some(p)
    }

    /// Gives up on request `id` (its caller went away): the `notifications/cancelled` to
    /// send, if it was still pending. `initialize` is never cancelled (the spec forbids it).
    pub fn cancel(&mut self, id: i64, reason: &str) -> Option<Vec<u8>> {
        if self
            .pending
            .get(&id)
            .is_some_and(|p| p.method == "initialize")
        {
            self.forget(id);
            return None;
        }
        self.forget(id)?;
        Some(jsonrpc::encode_notification(
            "notifications/cancelled",
            Some(&serde_json::json!({ "requestId": id, "reason": reason })),
        ))
    }

    /// A notification to the server.
    pub fn notification<P: Serialize>(&self, method: &str, params: Option<&P>) -> Vec<u8> {
        jsonrpc::encode_notification(method, params)
    }

    /// Handles one frame from the server.
    pub fn handle_frame(&mut self, now: Instant, frame: &[u8], out: &mut Vec<ClientAction>) {
        match jsonrpc::decode(frame) {
            Decoded::Single(Ok(m)) => self.handle_message(now, m, out),
            Decoded::Batch(items) => {
                for m in items.into_iter().flatten() {
                    self.handle_message(now, m, out);
                }
            }
            Decoded::Single(Err(e)) => {
                if e.reply && e.id.is_some() {
                    out.push(ClientAction::Send(jsonrpc::encode_error(
                        e.id.as_ref(),
                        &e.error,
                    )));
                }
            }
        }
    }

    fn handle_message(&mut self, now: Instant, m: Message, out: &mut Vec<ClientAction>) {
        match m {
            Message::Response(Some(r)) => {
                if let RequestId::Number(id) = r.id
                    && self.forget(id).is_some()
                {
                    out.push(ClientAction::Deliver {
                        id,
                        outcome: r.outcome,
                    });
                }
            }
            Message::Response(None) => {}
            Message::Request(r) => {
                let reply =
                    |e: ErrorObject| ClientAction::Send(jsonrpc::encode_error(Some(&r.id), &e));
                if r.method == "ping" {
                    out.push(ClientAction::Send(jsonrpc::encode_result(
                        &r.id,
                        &serde_json::json!({}),
                    )));
                } else if !self.answers.contains(r.method.as_str()) {
                    out.push(reply(ErrorObject::method_not_found(&r.method)));
                } else if self.incoming.len() >= self.limits.max_incoming {
                    out.push(reply(ErrorObject::overloaded(
                        format!(
                            "too many server requests in flight: the limit is {}",
                            self.limits.max_incoming
                        ),
                        100,
                    )));
                } else if self.incoming.contains(&r.id) {
                    out.push(reply(ErrorObject::invalid_request(format!(
                        "request id {} is already in use",
                        r.id
                    ))));
                } else {
                    self.incoming.insert(r.id.clone());
                    out.push(ClientAction::Handle {
                        id: r.id,
                        method: r.method,
                        params: r.params,
                    });
                }
            }
            Message::Notification(n) => match n.method.as_str() {
                "notifications/progress" => {
                    let Some(params) = n.params else { return };
                    let token = serde_json::from_str::<Value>(params.get())
                        .ok()
                        .and_then(|v| v.get("progressToken").cloned())
                        .and_then(|t| serde_json::from_value::<ProgressToken>(t).ok());
                    let Some(id) = token.and_then(|t| self.by_token.get(&t).copied()) else {
                        return;
                    };
                    if let Some(p) = self.pending.get_mut(&id)
                        && p.reset_on_progress
                    {
                        let next = now + p.timeout;
                        p.deadline = p.hard_deadline.map_or(next, |h| next.min(h));
                    }
                    out.push(ClientAction::Progress { id, params });
                }
                "notifications/cancelled" => {
                    let id = n
                        .params
                        .as_deref()
                        .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
                        .and_then(|v| v.get("requestId").cloned())
                        .and_then(|v| serde_json::from_value::<RequestId>(v).ok());
                    if let Some(id) = id
                        && self.incoming.remove(&id)
                    {
                        out.push(ClientAction::Abort(id));
                    }
                }
                _ => out.push(ClientAction::Notify {
                    method: n.method,
                    params: n.params,
                }),
            },
        }
    }

    /// Answers the server's request `id` of `method` with a 2025-11-25-shaped result (shaped
    /// here for the negotiated revision) or an error. Nothing is sent if the server withdrew
    /// the request.
    pub fn respond(
        &mut self,
        id: &RequestId,
        method: &str,
        outcome: Result<Value, &ErrorObject>,
    ) -> Option<Vec<u8>> {
        if !self.incoming.remove(id) {
            return None;
        }
        Some(match outcome {
            Ok(mut r) => {
                if let Some(v) = self.version {
                    crate::model::downgrade::downgrade_result(method, v, &mut r);
                }
                jsonrpc::encode_result(id, &r)
            }
            Err(e) => jsonrpc::encode_error(Some(id), e),
        })
    }

    /// The `initialize` params for offering `version`, shaped for that revision.
    pub fn initialize_params(
        version: ProtocolVersion,
        capabilities: Value,
        client_info: Value,
    ) -> Value {
        let mut params = serde_json::json!({
            "protocolVersion": version.as_str(),
            "capabilities": capabilities,
            "clientInfo": client_info,
        });
        crate::model::downgrade::downgrade_request("initialize", version, &mut params);
        params
    }

    /// The next instant at which [`ClientSession::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.deadline).min()
    }

    /// Fails requests whose deadline passed, telling the server they are cancelled.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Vec<ClientAction>) {
        let expired: Vec<i64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            let Some(p) = self.forget(id) else { continue };
            let text = format!("{} timed out after {} ms", p.method, p.timeout.as_millis());
            if p.method != "initialize" {
                out.push(ClientAction::Send(jsonrpc::encode_notification(
                    "notifications/cancelled",
                    Some(&serde_json::json!({ "requestId": id, "reason": text })),
                )));
            }
            out.push(ClientAction::Deliver {
                id,
                outcome: Err(ErrorObject::timed_out(text)),
            });
        }
    }

    /// Fails every pending request (the connection ended): their ids.
    pub fn close(&mut self) -> Vec<i64> {
        self.by_token.clear();
        self.incoming.clear();
        self.pending.drain().map(|(id, _)| id).collect()
    }
}

/// Whether a server with capabilities `c` (on `version`) takes `method`.
fn capability_gate(
    c: &ServerCapabilities,
    version: ProtocolVersion,
    method: &str,
) -> Result<(), ErrorObject> {
    let (ok, what) = match method {
        "ping" => (true, ""),
        "initialize" => (false, "a second initialize"),
        "tools/list" | "tools/call" => (c.tools.is_some(), "tools"),
        "resources/list" | "resources/read" | "resources/templates/list" => {
            (c.resources.is_some(), "resources")
        }
        "resources/subscribe" | "resources/unsubscribe" => (
            c.resources
                .as_ref()
                .is_some_and(|r| r.subscribe == Some(true)),
            "resources.subscribe",
        ),
        "prompts/list" | "prompts/get" => (c.prompts.is_some(), "prompts"),
        "completion/complete" => (
            c.completions.is_some() || version == ProtocolVersion::V2024_11_05,
            "completions",
        ),
        "logging/setLevel" => (c.logging.is_some(), "logging"),
        "tasks/get" | "tasks/result" => (c.tasks.is_some(), "tasks"),
        "tasks/list" => (
            c.tasks.as_ref().is_some_and(|t| t.list.is_some()),
            "tasks.list",
        ),
        "tasks/cancel" => (
            c.tasks.as_ref().is_some_and(|t| t.cancel.is_some()),
            "tasks.cancel",
        ),
        _ => (true, ""),
    };
    if ok {
        Ok(())
    } else {
        Err(
            ErrorObject::method_not_found(method).with_data(serde_json::json!({
                "reason": format!("the server did not declare {what}")
            })),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init(s: &mut ClientSession, now: Instant, caps: Value) {
        let result = serde_json::json!({ "protocolVersion": "2025-06-18", "capabilities": caps, "serverInfo": { "name": "s", "version": "1" } });
        s.initialized(&serde_json::value::to_raw_value(&result).unwrap())
            .unwrap();
        let _ = now;
    }

    #[test]
    fn refuses_unknown_revisions_and_undeclared_capabilities() {
        let mut s = ClientSession::new(ClientLimits::default(), &[]);
        let bad = serde_json::json!({ "protocolVersion": "2099-01-01", "capabilities": {}, "serverInfo": { "name": "s", "version": "1" } });
        let e = s
            .initialized(&serde_json::value::to_raw_value(&bad).unwrap())
            .unwrap_err();
        assert!(e.message.contains("2099-01-01"), "{e}");
        let now = Instant::now();
        init(&mut s, now, serde_json::json!({ "tools": {} }));
        assert!(
            s.start_request::<()>(now, "tools/list", None, &RequestOptions::default())
                .is_ok()
        );
        let e = s
            .start_request::<()>(now, "prompts/list", None, &RequestOptions::default())
            .unwrap_err();
        assert_eq!(e.code, crate::error::METHOD_NOT_FOUND);
    }

    #[test]
    fn progress_pushes_the_deadline_back_up_to_the_hard_limit() {
        let mut s = ClientSession::new(ClientLimits::default(), &[]);
        let t0 = Instant::now();
        init(&mut s, t0, serde_json::json!({ "tools": {} }));
        let opts = RequestOptions {
            timeout: Some(Duration::from_secs(10)),
            progress: true,
            reset_timeout_on_progress: true,
            max_total_timeout: Some(Duration::from_secs(25)),
        };
        let (id, bytes) = s
            .start_request(
                t0,
                "tools/call",
                Some(&serde_json::json!({ "name": "x" })),
                &opts,
            )
            .unwrap();
        assert!(
            String::from_utf8(bytes)
                .unwrap()
                .contains("\"progressToken\":1")
        );
        let mut out = Vec::new();
        let progress = format!(
            r#"{{"jsonrpc":"2.0","method":"notifications/progress","params":{{"progressToken":{id},"progress":1}}}}"#
        );
        s.handle_frame(t0 + Duration::from_secs(8), progress.as_bytes(), &mut out);
        assert!(matches!(out.pop(), Some(ClientAction::Progress { .. })));
        s.handle_timeout(t0 + Duration::from_secs(12), &mut out);
        assert!(out.is_empty(), "the deadline moved to 18 s");
        s.handle_frame(t0 + Duration::from_secs(17), progress.as_bytes(), &mut out);
        out.clear();
        s.handle_timeout(t0 + Duration::from_secs(25), &mut out);
        assert!(
            matches!(
                out.last(),
                Some(ClientAction::Deliver {
                    outcome: Err(_),
                    ..
                })
            ),
            "the hard limit holds"
        );
        assert_eq!(s.pending(), 0);
    }
}
