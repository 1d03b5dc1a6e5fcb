//! Serving 2026-07-28 requests: `server/discover`, `subscriptions/listen`, multi round-trip
//! rounds, and shaping every result for the revision.
//!
//! A modern request runs through the same dispatcher and handlers as a legacy one, on a
//! throwaway session that took its capabilities from the request's `_meta`
//! ([`Session::assume_modern`](oxmcp_proto::session::Session::assume_modern)). What
//! differs is here:
//!
//! - before a `tools/call`, `prompts/get` or `resources/read` runs, its `requestState` is
//!   opened (-32602 when forged, altered, expired or from another call) and the answers
//!   of every round so far are handed to the [`Context`]'s input calls;
//! - an input call the answers do not cover records an input request and fails; when
//!   the handler returns, whatever it returned, recorded requests turn the reply into an
//!   `input_required` result with a freshly sealed `requestState`;
//! - every result gets `resultType`, caching hints where the method has them, and the
//!   server's identity; `resources/read` of a missing URI is -32602 with `data.uri`.

use std::sync::Arc;
use std::time::Duration;

use oxmcp_proto::ErrorObject;
use oxmcp_proto::modern::model::{CacheHint, CacheScope, SubscriptionFilter};
use oxmcp_proto::modern::state::{RoundState, StateCodec, call_digest};
use oxmcp_proto::modern::{SUBSCRIPTION_ID_KEY, meta::may_require_input, shape};
use oxmcp_proto::{RequestId, jsonrpc};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::context::Context;
use super::{Change, Server};
use crate::connection::Connection;

/// How the server answers 2026-07-28 requests. Every field has a documented default.
#[derive(Clone)]
#[non_exhaustive]
pub struct ModernOptions {
    /// The key that signs `requestState` (default `None`: a random key per process, fine
    /// for one node; a deployment of several nodes must configure one shared key).
    pub state_key: Option<Vec<u8>>,
    /// The previous key, still accepted while a new one rolls out (default `None`).
    pub previous_state_key: Option<Vec<u8>>,
    /// How long a `requestState` stays valid (default 10 min).
    pub state_ttl: Duration,
    /// Rounds one multi round-trip request may take before it is refused (default 16).
    pub max_rounds: u32,
    /// Caching hints of the cacheable results.
    pub cache: CacheHints,
}

/// The keys are secrets: `Debug` (and so any log of `ServerOptions`) shows whether they are
/// set, never their bytes.
impl std::fmt::Debug for ModernOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = |k: &Option<Vec<u8>>| if k.is_some() { "<redacted>" } else { "None" };
        f.debug_struct("ModernOptions")
            .field("state_key", &key(&self.state_key))
            .field("previous_state_key", &key(&self.previous_state_key))
            .field("state_ttl", &self.state_ttl)
            .field("max_rounds", &self.max_rounds)
            .field("cache", &self.cache)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_never_shows_the_keys() {
        let o = super::ModernOptions {
            state_key: Some(b"a-very-secret-key-of-enough-length".to_vec()),
            ..Default::default()
        };
        let shown = format!("{o:?}");
        assert!(
            shown.contains("<redacted>") && !shown.contains("very-secret"),
            "{shown}"
        );
        let shown = format!(
            "{:?}",
            crate::server::ServerOptions {
                modern: o,
                ..Default::default()
            }
        );
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}

impl Default for ModernOptions {
    fn default() -> Self {
        ModernOptions {
            state_key: None,
            previous_state_key: None,
            state_ttl: Duration::from_secs(600),
            max_rounds: 16,
            cache: CacheHints::default(),
        }
    }
}

/// `ttlMs` and `cacheScope` per cacheable result. Default: every result stale at once
/// (`ttlMs: 0`) and `private`, which is right for any server; raise them when lists
/// change rarely and do not depend on the caller. A resource's own hint
/// ([`Resource::cache`](super::Resource::cache)) beats `read`.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct CacheHints {
    /// `server/discover`.
    pub discover: CacheHint,
    /// `tools/list`.
    pub tools: CacheHint,
    /// `prompts/list`.
    pub prompts: CacheHint,
    /// `resources/list`.
    pub resources: CacheHint,
    /// `resources/templates/list`.
    pub templates: CacheHint,
    /// `resources/read` of a resource without its own hint.
    pub read: CacheHint,
}

impl CacheHints {
    fn for_method(&self, method: &str) -> CacheHint {
        match method {
            "server/discover" => self.discover,
            "tools/list" => self.tools,
            "prompts/list" => self.prompts,
            "resources/list" => self.resources,
            "resources/templates/list" => self.templates,
            _ => self.read,
        }
    }
}

/// The requestState codec of a server, from its options.
pub(crate) fn state_codec(opts: &ModernOptions) -> StateCodec {
    let key = opts.state_key.clone().unwrap_or_else(|| {
        let mut k = vec![0u8; 32];
        if getrandom::fill(&mut k).is_err() {
            tracing::warn!("no OS randomness: requestState uses a fixed key");
        }
        k
    });
    StateCodec::new(key, opts.previous_state_key.clone())
}

/// One round of a multi round-trip request, as the handler's input calls see it.
#[derive(Debug, Default)]
pub(crate) struct Round {
    /// Answers of this and every earlier round, by key.
    pub(crate) responses: Map<String, Value>,
    /// Input requests the answers did not cover, by key.
    pub(crate) asked: Mutex<Map<String, Value>>,
    /// An error that ends the request whatever the handler returns (a capability the
    /// request did not declare, a malformed answer).
    pub(crate) refusal: Mutex<Option<ErrorObject>>,
    round: u32,
    /// What the round's state is bound to; digested only when a state is opened or
    /// sealed (most calls need neither).
    call: CallKey,
}

/// The method, target and arguments a request state is bound to.
#[derive(Debug, Default)]
struct CallKey {
    method: String,
    target: String,
    arguments: Option<Box<RawValue>>,
}

impl CallKey {
    fn digest(&self) -> String {
        let args = self
            .arguments
            .as_ref()
            .and_then(|r| serde_json::from_str::<Value>(r.get()).ok());
        call_digest(&self.method, &self.target, args.as_ref())
    }
}

impl Round {
    pub(crate) fn refuse(&self, e: ErrorObject) {
        self.refusal.lock().get_or_insert(e);
    }
    pub(crate) fn ask(&self, key: &str, request: Value) {
        self.asked.lock().insert(key.to_owned(), request);
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoundParams {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    arguments: Option<Box<RawValue>>,
    #[serde(default)]
    input_responses: Option<Map<String, Value>>,
    #[serde(default)]
    request_state: Option<String>,
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Opens the round a request continues: its `requestState` (if any) and its answers.
fn open_round(
    server: &Server,
    method: &str,
    params: Option<&RawValue>,
) -> Result<(Round, Map<String, Value>), ErrorObject> {
    let p: RoundParams = oxmcp_proto::session::parse(params)?;
    let call = CallKey {
        method: method.to_owned(),
        target: p.name.or(p.uri).unwrap_or_default(),
        arguments: p.arguments,
    };
    let state = match &p.request_state {
        None => RoundState::default(),
        Some(token) => server
            .state_codec()
            .open(token, &call.digest(), unix_ms())?,
    };
    let max = server.options().modern.max_rounds;
    if state.round >= max {
        return Err(ErrorObject::invalid_params(format!(
            "the request took {} rounds of input, the limit is {max} (max_rounds)",
            state.round
        )));
    }
    let mut responses = state.answers;
    if let Some(r) = p.input_responses {
        responses.extend(r);
    }
    Ok((
        Round {
            responses,
            round: state.round,
            call,
            ..Default::default()
        },
        state.values,
    ))
}

/// Runs a modern request: discover and listen here, everything else through the
/// dispatcher, then shaped for the revision.
pub(crate) async fn route(
    conn: &Arc<Connection>,
    ctx: Context,
    method: &str,
    params: Option<Box<RawValue>>,
) -> Result<Box<RawValue>, ErrorObject> {
    let server = conn.server();
    match method {
        "server/discover" => return to_raw(discover(conn)),
        "subscriptions/listen" => return listen(conn, &ctx, params.as_deref()).await,
        _ => {}
    }
    if let "tasks/get" | "tasks/update" | "tasks/cancel" = method {
        let out = super::tasks_route::route(conn, method, params.as_deref());
        return finish(&server, &ctx, method, out.and_then(to_raw));
    }
    let mut target = None;
    if may_require_input(method) {
        let (round, values) = open_round(&server, method, params.as_deref())?;
        target = Some(round.call.target.clone());
        ctx.start_round(round, values);
    }
    if method == "tools/call"
        && let Some(outcome) =
            super::tasks_route::call_as_task(conn, &ctx, target.as_deref(), params.as_deref()).await
    {
        return finish(&server, &ctx, method, outcome);
    }
    let outcome = super::dispatch::route_legacy(conn, ctx.clone(), method, params).await;
    finish(&server, &ctx, method, outcome)
}

pub(crate) fn to_raw(v: Value) -> Result<Box<RawValue>, ErrorObject> {
    serde_json::value::to_raw_value(&v).map_err(|e| ErrorObject::internal(e.to_string()))
}

/// Turns a handler's outcome into the modern reply.
fn finish(
    server: &Server,
    ctx: &Context,
    method: &str,
    outcome: Result<Box<RawValue>, ErrorObject>,
) -> Result<Box<RawValue>, ErrorObject> {
    let info = &server.setup().info;
    if let Some(round) = ctx.round() {
        if let Some(e) = round.refusal.lock().take() {
            return Err(e);
        }
        let asked = std::mem::take(&mut *round.asked.lock());
        if !asked.is_empty() {
            let state = RoundState {
                answers: round.responses.clone(),
                values: ctx.state_snapshot(),
                round: round.round + 1,
            };
            let ttl = server.options().modern.state_ttl.as_millis() as u64;
            let token = server.state_codec().seal(
                &round.call.digest(),
                unix_ms().saturating_add(ttl),
                &state,
            )?;
            let mut out = Map::new();
            out.insert("resultType".into(), "input_required".into());
            out.insert("inputRequests".into(), Value::Object(asked));
            out.insert("requestState".into(), token.into());
            shape::server_info(&mut out, info);
            return to_raw(Value::Object(out));
        }
    }
    let raw = match outcome {
        Ok(raw) => raw,
        Err(e) if e.code == oxmcp_proto::error::RESOURCE_NOT_FOUND => {
            // 2026-07-28 reports a missing resource as invalid params, URI in data.
            return Err(ErrorObject {
                code: oxmcp_proto::error::INVALID_PARAMS,
                ..e
            });
        }
        Err(e) => return Err(e),
    };
    if let Some(fast) = stamp_plain(method, &raw, server.info_json()) {
        return Ok(fast);
    }
    let mut value: Value =
        serde_json::from_str(raw.get()).map_err(|e| ErrorObject::internal(e.to_string()))?;
    if let Some(map) = value.as_object_mut() {
        let hint = ctx
            .cache_hint()
            .unwrap_or_else(|| server.options().modern.cache.for_method(method));
        shape::stamp(method, map, info, Some(hint));
    }
    to_raw(value)
}

/// The common case of [`shape::stamp`] without a parse: a result of a method with no
/// caching hint, with no `resultType`, `_meta` or `capabilities` of its own (the bytes do
/// not even contain those names), gets `resultType` and the server's identity spliced in
/// before its closing brace. `None`: the general path must shape it.
fn stamp_plain(method: &str, raw: &RawValue, info: &str) -> Option<Box<RawValue>> {
    use oxmcp_proto::needle::Needle;
    static NAMES: [Needle; 3] = [
        Needle::new(b"\"resultType\""),
        Needle::new(b"\"_meta\""),
        Needle::new(b"\"capabilities\""),
    ];
    if shape::is_cacheable(method) || method == "tools/list" {
        return None;
    }
    let body = raw.get().trim();
    let bytes = body.as_bytes();
    if NAMES.iter().any(|name| name.is_in(bytes)) {
        return None;
    }
    let inner = body.strip_prefix('{')?.strip_suffix('}')?;
    let mut out = String::with_capacity(body.len() + info.len() + 96);
    out.push('{');
    out.push_str(inner);
    if !inner.trim().is_empty() {
        out.push(',');
    }
    out.push_str(r#""resultType":"complete","_meta":{""#);
    out.push_str(oxmcp_proto::modern::SERVER_INFO_KEY);
    out.push_str("\":");
    out.push_str(info);
    out.push_str("}}");
    RawValue::from_string(out).ok()
}

/// The `server/discover` result.
fn discover(conn: &Connection) -> Value {
    let server = conn.server();
    let setup = server.modern_setup();
    let caps = serde_json::to_value(&setup.capabilities).unwrap_or_else(|_| json!({}));
    let mut out = Map::new();
    out.insert(
        "supportedVersions".into(),
        json!(oxmcp_proto::modern::supported_strings()),
    );
    out.insert("capabilities".into(), caps);
    if let Some(i) = &setup.instructions {
        out.insert("instructions".into(), i.clone().into());
    }
    let hint = server.options().modern.cache.discover;
    shape::stamp("server/discover", &mut out, &setup.info, Some(hint));
    Value::Object(out)
}

#[derive(Deserialize)]
struct ListenParams {
    #[serde(default)]
    notifications: Option<SubscriptionFilter>,
}

/// A notification on listen stream `id`: the method, its params, tagged with the stream.
fn tagged(id: &RequestId, method: &str, mut params: Map<String, Value>) -> Vec<u8> {
    let meta = params.entry("_meta").or_insert_with(|| json!({}));
    if let (Some(m), Ok(id)) = (meta.as_object_mut(), serde_json::to_value(id)) {
        m.insert(SUBSCRIPTION_ID_KEY.into(), id);
    }
    jsonrpc::encode_notification(method, Some(&params))
}

/// The messages a server-wide change means for a listen stream with `filter`.
fn listen_messages(
    id: &RequestId,
    filter: &SubscriptionFilter,
    change: &Result<Change, broadcast::error::RecvError>,
) -> Vec<Vec<u8>> {
    use oxmcp_proto::session::ListChanged;
    let list = |which: ListChanged| -> Option<Vec<u8>> {
        let (on, method) = match which {
            ListChanged::Tools => (
                filter.tools_list_changed,
                "notifications/tools/list_changed",
            ),
            ListChanged::Prompts => (
                filter.prompts_list_changed,
                "notifications/prompts/list_changed",
            ),
            _ => (
                filter.resources_list_changed,
                "notifications/resources/list_changed",
            ),
        };
        (on == Some(true)).then(|| tagged(id, method, Map::new()))
    };
    match change {
        Ok(Change::List(which)) => list(*which).into_iter().collect(),
        Ok(Change::ResourceUpdated(uri)) => {
            let subscribed = filter
                .resource_subscriptions
                .as_ref()
                .is_some_and(|uris| uris.iter().any(|u| u == uri));
            let mut params = Map::new();
            params.insert("uri".into(), uri.clone().into());
            subscribed
                .then(|| tagged(id, "notifications/resources/updated", params))
                .into_iter()
                .collect()
        }
        // Missed changes: every list the stream follows may have changed.
        Err(broadcast::error::RecvError::Lagged(_)) => [
            ListChanged::Tools,
            ListChanged::Prompts,
            ListChanged::Resources,
        ]
        .into_iter()
        .filter_map(list)
        .collect(),
        Err(broadcast::error::RecvError::Closed) => Vec::new(),
    }
}

/// `subscriptions/listen`: acknowledges the honoured part of the filter, then forwards
/// the changes it covers, each tagged with the stream, until the client goes away (the
/// handler is then dropped) or the server ends ([`Server::end_listens`]); then a complete
/// result tagged the same; on stdio a `notifications/cancelled` for the stream's id comes
/// first (two pages of the spec ask for one or the other: both are sent).
async fn listen(
    conn: &Arc<Connection>,
    ctx: &Context,
    params: Option<&RawValue>,
) -> Result<Box<RawValue>, ErrorObject> {
    let p: ListenParams = oxmcp_proto::session::parse(params)?;
    let Some(filter) = p.notifications else {
        return Err(ErrorObject::invalid_params(
            "subscriptions/listen needs `notifications`: the kinds of notification to receive",
        ));
    };
    let Some(id) = ctx.request_id().cloned() else {
        return Err(ErrorObject::internal("a listen stream needs a request id"));
    };
    let server = conn.server();
    let honoured = filter.honoured_by(&server.setup().capabilities);
    let mut changes = server.subscribe_changes();
    let mut ack = Map::new();
    ack.insert(
        "notifications".into(),
        serde_json::to_value(&honoured).unwrap_or_else(|_| json!({})),
    );
    if !conn
        .send(
            Some(&id),
            tagged(&id, "notifications/subscriptions/acknowledged", ack),
        )
        .await
    {
        return Err(ErrorObject::internal("the listen stream closed"));
    }
    let ending = server.listens_ending();
    tokio::pin!(ending);
    loop {
        let change = tokio::select! {
            change = changes.recv() => change,
            () = &mut ending => break,
        };
        for m in listen_messages(&id, &honoured, &change) {
            if !conn.send(Some(&id), m).await {
                return Err(ErrorObject::internal("the listen stream closed"));
            }
        }
        if matches!(change, Err(broadcast::error::RecvError::Closed)) {
            break;
        }
    }
    if conn.is_lines() {
        let mut params = Map::new();
        params.insert(
            "requestId".into(),
            serde_json::to_value(&id).unwrap_or(Value::Null),
        );
        params.insert("reason".into(), "the server is shutting down".into());
        conn.send(
            Some(&id),
            jsonrpc::encode_notification("notifications/cancelled", Some(&params)),
        )
        .await;
    }
    let mut out = Map::new();
    out.insert("resultType".into(), "complete".into());
    let mut meta = Map::new();
    meta.insert(
        SUBSCRIPTION_ID_KEY.into(),
        serde_json::to_value(&id).unwrap_or(Value::Null),
    );
    out.insert("_meta".into(), Value::Object(meta));
    shape::server_info(&mut out, &server.setup().info);
    to_raw(Value::Object(out))
}

/// A caching hint from parts, for builders.
pub fn cache_hint(ttl: Duration, scope: CacheScope) -> CacheHint {
    CacheHint::new(ttl.as_millis() as u64, scope)
}
