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

use std::collections::BTreeMap;

use serde::Deserializer;
use serde::de::Error as _;

use crate::model::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    ListRootsResult, RequestParams,
};

/// One request of an `input_required` result (`InputRequest`, 2026-07-28): what the server
/// needs from the client before it repeats the call, told apart by `method`. Embedded, so
/// it has no `jsonrpc` and no `id`.
///
/// A form elicitation that leaves out `mode` is written back with `"mode": "form"` (the
/// same request: no `mode` means form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method")]
#[non_exhaustive]
pub enum InputRequest {
    /// `elicitation/create` (`ElicitRequest`).
    #[serde(rename = "elicitation/create")]
    Elicit {
        /// The form or URL to show the user.
        params: ElicitRequestParams,
    },
    /// `sampling/createMessage` (`CreateMessageRequest`).
    #[serde(rename = "sampling/createMessage")]
    CreateMessage {
        /// What to ask the client's model.
        params: CreateMessageRequestParams,
    },
    /// `roots/list` (`ListRootsRequest`).
    #[serde(rename = "roots/list")]
    ListRoots {
        /// Nothing but `_meta`, if anything.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        params: Option<RequestParams>,
    },
}

impl InputRequest {
    /// The method the request names.
    pub fn method(&self) -> &'static str {
        match self {
            InputRequest::Elicit { .. } => crate::model::methods::ELICITATION_CREATE,
            InputRequest::CreateMessage { .. } => crate::model::methods::SAMPLING_CREATE_MESSAGE,
            InputRequest::ListRoots { .. } => crate::model::methods::ROOTS_LIST,
        }
    }
}

/// The input requests of an `input_required` result, by the key the answer must carry
/// (`InputRequests`, 2026-07-28).
pub type InputRequests = BTreeMap<String, InputRequest>;

/// The client's answer to one [`InputRequest`] (`InputResponse`, 2026-07-28): the result
/// of the embedded request, without `resultType`. Told apart by shape: `action` is an
/// elicitation's answer, `roots` a roots list, anything else a sampled message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum InputResponse {
    /// The answer to `elicitation/create`.
    Elicit(ElicitResult),
    /// The answer to `sampling/createMessage`.
    CreateMessage(CreateMessageResult),
    /// The answer to `roots/list`.
    ListRoots(ListRootsResult),
}

impl<'de> Deserialize<'de> for InputResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        if v.get("action").is_some() {
            ElicitResult::deserialize(v)
                .map(InputResponse::Elicit)
                .map_err(D::Error::custom)
        } else if v.get("roots").is_some() {
            ListRootsResult::deserialize(v)
                .map(InputResponse::ListRoots)
                .map_err(D::Error::custom)
        } else {
            CreateMessageResult::deserialize(v)
                .map(InputResponse::CreateMessage)
                .map_err(D::Error::custom)
        }
    }
}

/// The answers to a previous round's input requests, by the keys of its
/// [`InputRequests`] (`InputResponses`, 2026-07-28): the `inputResponses` of a retried
/// request.
pub type InputResponses = BTreeMap<String, InputResponse>;

/// The result that closes a `subscriptions/listen` stream (`SubscriptionsListenResult`,
/// 2026-07-28), less the `resultType` that [`ModernResult`] adds: nothing but its `_meta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionsListenResult {
    /// Result metadata (2026-07-28; required): the stream it closes, under
    /// `io.modelcontextprotocol/subscriptionId`, and the server's identity.
    #[serde(rename = "_meta", default)]
    pub meta: Map<String, Value>,
}
