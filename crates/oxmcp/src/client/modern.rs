//! The client's half of MCP 2026-07-28: finding out which era a server speaks, the
//! multi round-trip loop, the response cache, and listen streams.
//!
//! **Era detection.** The client sends `server/discover` in the modern form first. Only a
//! result that is a complete discover result offering 2026-07-28 makes the server modern
//! (some servers answer unknown methods with `{}`). An error that is a 2026-07-28 error
//! (-32020, -32021, -32022) means modern too and is never a reason to fall back. Evidence of
//! an older server: over HTTP, 400, 404 or 405 without such an error; on stdio, any other
//! error, silence until [`ClientBuilder::discover_timeout`](super::ClientBuilder) or the
//! child exiting (it is then started again). 401, 403, 406, 413, 415, 429 and 5xx are
//! never evidence of an era: they fail the connection. [`Era::Modern`] never falls back.
//!
//! **Multi round-trip requests.** A `tools/call`, `prompts/get` or `resources/read` that
//! answers `input_required` is fulfilled through the same sampling, elicitation and roots
//! handlers as the older revisions' server requests, and repeated under a fresh id with
//! the answers and the server's `requestState` echoed exactly, up to
//! [`MAX_ROUNDS`] rounds.
//!
//! **Cache.** Cacheable results (discover, the lists, reads) with a positive `ttlMs` are
//! reused until it passes; a list-changed notification drops that list, a resource update
//! drops its reads. `private` entries are kept per client (one client, one authorization
//! context); `input_required` replies and retried calls are never cached.

use std::collections::HashMap;
use std::time::Duration;

use oxmcp_proto::ErrorObject;
use oxmcp_proto::error::{
    HEADER_MISMATCH, MISSING_CLIENT_CAPABILITY, UNSUPPORTED_PROTOCOL_VERSION,
};
use oxmcp_proto::modern::model::{InputRequiredResult, SubscriptionFilter};
use parking_lot::Mutex;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::{ClientError, Handlers};

/// Rounds of `input_required` one call may take before the client gives up.
pub const MAX_ROUNDS: usize = 16;
/// Entries the response cache holds at most.
pub const MAX_CACHE_ENTRIES: usize = 256;

/// Which protocol era a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Era {
    /// 2026-07-28 if the server speaks it, else `initialize` (the default).
    #[default]
    Auto,
    /// Only 2026-07-28: a server that does not speak it is an error.
    Modern,
    /// Only the handshake revisions (`initialize`), never probing.
    Legacy,
}

/// What the `server/discover` probe says about the server.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// An older server: run `initialize` (the reason, for logs).
    Legacy(String),
    /// The server process ended: start it again, then `initialize`.
    Restart(String),
    /// No evidence of an era: fail the connection with this error.
    Fail(ClientError),
}

fn http_status(e: &ErrorObject) -> Option<u64> {
    e.data.as_ref()?.get("httpStatus")?.as_u64()
}

/// Judges the error the probe got. `http`: whether the transport is HTTP.
pub(crate) fn classify(err: ClientError, http: bool) -> Verdict {
    match err {
        ClientError::Rpc(e) => {
            let modern_error = matches!(
                e.code,
                HEADER_MISMATCH | MISSING_CLIENT_CAPABILITY | UNSUPPORTED_PROTOCOL_VERSION
            );
            if e.code == UNSUPPORTED_PROTOCOL_VERSION {
                // A modern server that does not serve our revision: if it names a revision
                // `initialize` reaches, that is the way in.
                let legacy =
                    supported(&e).any(|p| oxmcp_proto::ProtocolVersion::LEGACY.contains(&p));
                return if legacy {
                    Verdict::Legacy(format!(
                        "the server serves only older revisions: {}",
                        e.message
                    ))
                } else {
                    Verdict::Fail(ClientError::Rpc(e))
                };
            }
            if modern_error {
                return Verdict::Fail(ClientError::Rpc(e));
            }
            match http_status(&e) {
                Some(400 | 404 | 405) | None => {
                    Verdict::Legacy(format!("server/discover was refused: {}", e.message))
                }
                Some(_) => Verdict::Fail(ClientError::Rpc(e)),
            }
        }
        ClientError::Timeout(t) if !http => {
            Verdict::Legacy(format!("no answer to server/discover: {t}"))
        }
        ClientError::Closed(why) if !http => Verdict::Restart(why),
        ClientError::Malformed(m) => Verdict::Legacy(m),
        other => Verdict::Fail(other),
    }
}

/// Whether a -32022 error lists a revision this client speaks without a handshake (the
/// server refused our first choice; a retry is due).
pub(crate) fn offers_our_version(e: &ErrorObject) -> bool {
    e.code == UNSUPPORTED_PROTOCOL_VERSION
        && supported(e).any(|p| oxmcp_proto::modern::SUPPORTED.contains(&p))
}

/// The revisions a -32022 error's `data.supported` lists that oxmcp knows.
fn supported(e: &ErrorObject) -> impl Iterator<Item = oxmcp_proto::ProtocolVersion> + '_ {
    e.data
        .as_ref()
        .and_then(|d| d.get("supported"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(oxmcp_proto::ProtocolVersion::parse)
}

/// Whether an error from `initialize` (after the probe said legacy) means the server is
/// a 2024-11-05 HTTP+SSE one.
pub(crate) fn is_old_http_transport(err: &ClientError) -> bool {
    matches!(err, ClientError::Rpc(e) if matches!(http_status(e), Some(400 | 404 | 405)))
}

/// The `resultType` of a result: absent means complete (older servers).
fn result_type(raw: &RawValue) -> Result<String, ClientError> {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "resultType")]
        result_type: Option<String>,
    }
    let p: Peek = serde_json::from_str(raw.get())
        .map_err(|e| ClientError::Malformed(format!("a result that is not an object: {e}")))?;
    Ok(p.result_type.unwrap_or_else(|| "complete".into()))
}

/// Checks a modern result's `resultType`: returns `Some(input_required)` for an interim
/// reply; `complete` (and `task`, for the tasks extension) pass; anything else is an error.
pub(crate) fn interim(raw: &RawValue) -> Result<Option<InputRequiredResult>, ClientError> {
    match result_type(raw)?.as_str() {
        "complete" | "task" => Ok(None),
        "input_required" => serde_json::from_str(raw.get())
            .map(Some)
            .map_err(|e| ClientError::Malformed(format!("a malformed input_required result: {e}"))),
        other => Err(ClientError::Malformed(format!(
            "unknown resultType {other:?}"
        ))),
    }
}

/// Fulfils every input request of an `input_required` result through the handlers.
pub(crate) async fn fulfil(
    handlers: &Handlers,
    requests: Map<String, Value>,
) -> Result<Map<String, Value>, ClientError> {
    let calls = requests.into_iter().map(|(key, req)| async move {
        let method = req.get("method").and_then(Value::as_str).unwrap_or_default().to_owned();
        let params = req.get("params").cloned().unwrap_or_else(|| json!({}));
        let missing = || {
            ClientError::Rpc(ErrorObject::method_not_found(&method).with_data(json!({
                "reason": format!("the server asked for {method} (input {key:?}), which this client has no handler for")
            })))
        };
        let bad = |e: serde_json::Error| {
            ClientError::Malformed(format!("input request {key:?} ({method}): {e}"))
        };
        let answer = match method.as_str() {
            "elicitation/create" => {
                let h = handlers.elicitation.clone().ok_or_else(missing)?;
                let p = serde_json::from_value(params).map_err(bad)?;
                serde_json::to_value(h(p).await.map_err(ClientError::Rpc)?).map_err(bad)?
            }
            "sampling/createMessage" => {
                let h = handlers.sampling.clone().ok_or_else(missing)?;
                let p = serde_json::from_value(params).map_err(bad)?;
                serde_json::to_value(h(p).await.map_err(ClientError::Rpc)?).map_err(bad)?
            }
            "roots/list" => {
                let h = handlers.roots.clone().ok_or_else(missing)?;
                serde_json::to_value(h(()).await.map_err(ClientError::Rpc)?).map_err(bad)?
            }
            _ => return Err(missing()),
        };
        Ok::<_, ClientError>((key, answer))
    });
    futures::future::try_join_all(calls)
        .await
        .map(|v| v.into_iter().collect())
}

struct Entry {
    raw: Box<RawValue>,
    expires: Instant,
}

/// The client's cache of cacheable 2026-07-28 results, keyed by method and params.
#[derive(Default)]
pub(crate) struct Cache {
    map: Mutex<HashMap<String, Entry>>,
}

/// The cache key of a request: the method and its params without `_meta`.
pub(crate) fn cache_key(method: &str, params: Option<&Value>) -> String {
    let mut p = params.cloned().unwrap_or(Value::Null);
    if let Some(o) = p.as_object_mut() {
        o.remove("_meta");
    }
    format!("{method} {p}")
}

impl Cache {
    /// A fresh cached result.
    pub(crate) fn get(&self, key: &str) -> Option<Box<RawValue>> {
        let map = self.map.lock();
        let e = map.get(key)?;
        (e.expires > Instant::now()).then(|| e.raw.clone())
    }

    /// Keeps a result for its `ttlMs` (not at all when 0 or absent).
    pub(crate) fn put(&self, key: String, raw: &RawValue) {
        #[derive(serde::Deserialize)]
        struct Hint {
            #[serde(rename = "ttlMs")]
            ttl_ms: Option<u64>,
        }
        let Some(ttl) = serde_json::from_str::<Hint>(raw.get())
            .ok()
            .and_then(|h| h.ttl_ms)
            .filter(|t| *t > 0)
        else {
            return;
        };
        let now = Instant::now();
        let mut map = self.map.lock();
        map.retain(|_, e| e.expires > now);
        if map.len() >= MAX_CACHE_ENTRIES && !map.contains_key(&key) {
            return;
        }
        map.insert(
            key,
            Entry {
                raw: raw.to_owned(),
                expires: now + Duration::from_millis(ttl.min(365 * 24 * 3600 * 1000)),
            },
        );
    }

    /// Drops what a server notification says changed.
    pub(crate) fn invalidate(&self, method: &str, params: &Value) {
        let prefix = match method {
            "notifications/tools/list_changed" => "tools/list ",
            "notifications/prompts/list_changed" => "prompts/list ",
            "notifications/resources/list_changed" => "resources/",
            "notifications/resources/updated" => {
                let uri = params
                    .get("uri")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let key = cache_key("resources/read", Some(&json!({ "uri": uri })));
                self.map.lock().remove(&key);
                return;
            }
            _ => return,
        };
        self.map.lock().retain(|k, _| !k.starts_with(prefix));
    }

    /// Entries held (for tests).
    pub(crate) fn len(&self) -> usize {
        self.map.lock().len()
    }
}

/// A `subscriptions/listen` stream the client keeps open (reopened after a drop). Its
/// notifications arrive on [`Client::notifications`](super::Client::notifications).
/// Dropping it closes the stream.
#[derive(Debug)]
pub struct Subscription {
    /// What the server agreed to send (the acknowledgement's filter).
    pub acknowledged: SubscriptionFilter,
    pub(crate) task: tokio::task::AbortHandle,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}
