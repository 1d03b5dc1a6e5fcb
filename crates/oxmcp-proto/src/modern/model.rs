//! Messages only 2026-07-28 has: `server/discover`, the `input_required` result, the
//! `subscriptions/listen` filter, and the caching hints.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{Implementation, ServerCapabilities};

/// Who may reuse a cached result (`cacheScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// Only within the same authorization context (the safe default).
    #[default]
    Private,
    /// Anyone, across authorization contexts.
    Public,
}

impl CacheScope {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheScope::Private => "private",
            CacheScope::Public => "public",
        }
    }
}

/// The caching hint of a cacheable result: `ttlMs` and `cacheScope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheHint {
    /// How long the client may reuse the result, in milliseconds (0: stale at once).
    pub ttl_ms: u64,
    /// Who may reuse it.
    pub scope: CacheScope,
}

impl CacheHint {
    /// A hint from its parts.
    pub const fn new(ttl_ms: u64, scope: CacheScope) -> Self {
        CacheHint { ttl_ms, scope }
    }
}

/// The result of `server/discover`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult {
    /// `"complete"`.
    pub result_type: String,
    /// The revisions the server speaks without a handshake.
    pub supported_versions: Vec<String>,
    /// The server's capabilities.
    pub capabilities: ServerCapabilities,
    /// Guidance for the client's model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Cache lifetime in milliseconds.
    pub ttl_ms: u64,
    /// Cache scope.
    pub cache_scope: CacheScope,
    /// Result metadata (the server's identity under `io.modelcontextprotocol/serverInfo`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Map<String, Value>>,
}

impl DiscoverResult {
    /// The server's identity, if the result carries it.
    pub fn server_info(&self) -> Option<Implementation> {
        self.meta
            .as_ref()?
            .get(super::SERVER_INFO_KEY)
            .and_then(|v| Implementation::deserialize(v).ok())
    }
}

/// An `input_required` result: what the client must supply before it repeats the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// Requests to fulfil, by key: each `{"method": …, "params": …}` (elicitation,
    /// sampling or roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<Map<String, Value>>,
    /// Opaque state to echo back exactly on the retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Map<String, Value>>,
}

/// The notification kinds a `subscriptions/listen` stream opts in to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// `notifications/resources/updated` for these URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
}

impl SubscriptionFilter {
    /// The part of this filter a server with `caps` honours: list-changed kinds it
    /// declared `listChanged` for, and resource updates if it declared `subscribe`.
    pub fn honoured_by(&self, caps: &ServerCapabilities) -> SubscriptionFilter {
        let yes = |asked: Option<bool>, has: bool| (asked == Some(true) && has).then_some(true);
        SubscriptionFilter {
            tools_list_changed: yes(
                self.tools_list_changed,
                caps.tools
                    .as_ref()
                    .is_some_and(|t| t.list_changed == Some(true)),
            ),
            prompts_list_changed: yes(
                self.prompts_list_changed,
                caps.prompts
                    .as_ref()
                    .is_some_and(|t| t.list_changed == Some(true)),
            ),
            resources_list_changed: yes(
                self.resources_list_changed,
                caps.resources
                    .as_ref()
                    .is_some_and(|t| t.list_changed == Some(true)),
            ),
            resource_subscriptions: self.resource_subscriptions.clone().filter(|_| {
                caps.resources
                    .as_ref()
                    .is_some_and(|r| r.subscribe == Some(true))
            }),
        }
    }
}

/// A 2026-07-28 result: a result of the SDK model plus the fields this revision adds to
/// every result (`resultType`) and to the cacheable ones (`ttlMs`, `cacheScope`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct ModernResult<T> {
    /// The SDK model's result.
    #[serde(flatten)]
    pub result: T,
    /// `complete`, `input_required` (or `task`, tasks extension); absent from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<String>,
    /// Cache lifetime in milliseconds (cacheable results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// Cache scope (cacheable results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
}

/// The params of a 2026-07-28 `tools/call`, `prompts/get` or `resources/read`: the SDK
/// model's params plus the answers and state of a multi round-trip retry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct ModernParams<T> {
    /// The SDK model's params.
    #[serde(flatten)]
    pub params: T,
    /// The answers to the previous round's input requests, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<Map<String, Value>>,
    /// The previous round's `requestState`, echoed exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

/// A request embedded in an `input_required` result (no `jsonrpc`, no `id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "P: Deserialize<'de>"))]
pub struct EmbeddedRequest<P> {
    /// `elicitation/create`, `sampling/createMessage` or `roots/list`.
    pub method: String,
    /// Its params.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<P>,
}

/// The params of `subscriptions/listen`, and of `notifications/subscriptions/acknowledged`
/// (there: the honoured part of the filter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionParams {
    /// The notification kinds.
    pub notifications: SubscriptionFilter,
    /// Metadata (the request `_meta`, or the stream's `subscriptionId`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Map<String, Value>>,
}
