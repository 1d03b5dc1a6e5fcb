//! The one table of wire error codes, and the error object sent to peers.
//!
//! | code | name | when |
//! |---|---|---|
//! | -32700 | parse error | the message is not JSON (incl. invalid UTF-8); `id` omitted |
//! | -32600 | invalid request | not a JSON-RPC 2.0 message; oversize line (names the limit); batch where the revision has none; request before `initialize` |
//! | -32601 | method not found | unknown method, or one behind a capability the server did not declare |
//! | -32602 | invalid params | params that do not fit the method; unknown tool, prompt; forged cursor |
//! | -32603 | internal error | a handler failed, or a request ran past its deadline (names the limit) |
//! | -32002 | resource not found | `resources/read` of an unknown URI (2025-06-18 … 2025-11-25; 2026-07-28 uses -32602 with `data.uri`) |
//! | -32020 | header mismatch | 2026-07-28 over HTTP: a header is missing, malformed or disagrees with the body (HTTP 400) |
//! | -32021 | missing client capability | 2026-07-28: the request needs a capability its `_meta` did not declare; `data.requiredCapabilities` (HTTP 400) |
//! | -32022 | unsupported protocol version | 2026-07-28: the requested revision is not served; `data.supported`, `data.requested` (HTTP 400) |
//! | -31429 | overloaded | a bound was reached (in-flight requests, pending requests, tasks); `data.retryAfterMs` says when to retry |
//!
//! An error whose request id cannot be read omits `id` on every revision (the 2025-11-25
//! schema allows that; older schemas demand an id that cannot exist: a documented deviation).
//! A tool that fails or times out answers with an `isError: true` result, not an error.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Invalid JSON was received.
pub const PARSE_ERROR: i32 = -32700;
/// The JSON sent is not a valid request object.
pub const INVALID_REQUEST: i32 = -32600;
/// The method does not exist or is not available.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// Invalid method parameters.
pub const INVALID_PARAMS: i32 = -32602;
/// Internal JSON-RPC error.
pub const INTERNAL_ERROR: i32 = -32603;
/// MCP: the resource does not exist (2025-06-18 … 2025-11-25).
pub const RESOURCE_NOT_FOUND: i32 = -32002;
/// MCP 2025-11-25: URL elicitation is required before the request can proceed.
pub const URL_ELICITATION_REQUIRED: i32 = -32042;
/// MCP 2026-07-28: an HTTP header is missing or malformed, or disagrees with the body.
pub const HEADER_MISMATCH: i32 = -32020;
/// MCP 2026-07-28: the request needs a client capability its `_meta` did not declare.
pub const MISSING_CLIENT_CAPABILITY: i32 = -32021;
/// MCP 2026-07-28: the requested protocol revision is not served.
pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;
/// oxmcp: a bound was reached; retry after `data.retryAfterMs`. Outside the JSON-RPC
/// reserved range on purpose.
pub const OVERLOADED: i32 = -31429;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code (see the module's table).
    pub code: i32,
    /// A message that names the problem.
    pub message: String,
    /// Extra, machine-readable detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }
    /// Attaches `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
    /// -32700.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(PARSE_ERROR, message)
    }
    /// -32600.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(INVALID_REQUEST, message)
    }
    /// -32601 naming the method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(METHOD_NOT_FOUND, format!("method not found: {method}"))
    }
    /// -32602.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }
    /// -32603.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(INTERNAL_ERROR, message)
    }
    /// A request that got no answer in time (-32603 naming the limit, marked in `data` so
    /// the side that waited can tell a timeout from a peer's error).
    pub fn timed_out(message: impl Into<String>) -> Self {
        Self::internal(message).with_data(serde_json::json!({ "timedOut": true }))
    }
    /// Whether this is a [`ErrorObject::timed_out`] error.
    pub fn is_timed_out(&self) -> bool {
        self.data
            .as_ref()
            .and_then(|d| d.get("timedOut"))
            .and_then(serde_json::Value::as_bool)
            == Some(true)
    }
    /// -32020: a header disagrees with the body, or is missing or malformed.
    pub fn header_mismatch(message: impl Into<String>) -> Self {
        Self::new(HEADER_MISMATCH, message)
    }
    /// -32021 with `data.requiredCapabilities` (a client capabilities object such as
    /// `{"sampling":{}}`).
    pub fn missing_client_capability(required: Value, message: impl Into<String>) -> Self {
        Self::new(MISSING_CLIENT_CAPABILITY, message)
            .with_data(serde_json::json!({ "requiredCapabilities": required }))
    }
    /// -32022 naming the requested revision (echoed verbatim) and the served ones.
    pub fn unsupported_version(requested: &str, supported: &[&str]) -> Self {
        Self::new(
            UNSUPPORTED_PROTOCOL_VERSION,
            format!(
                "unsupported protocol version {requested:?}: this server speaks {} without a handshake",
                supported.join(", ")
            ),
        )
        .with_data(serde_json::json!({ "supported": supported, "requested": requested }))
    }
    /// The overload error: `message` names the bound, `retry_after_ms` goes to `data`.
    pub fn overloaded(message: impl Into<String>, retry_after_ms: u64) -> Self {
        Self::new(OVERLOADED, message)
            .with_data(serde_json::json!({ "retryAfterMs": retry_after_ms }))
    }
    /// Adds `data.limit`: the configuration key of the bound that refused (overload errors).
    pub fn with_limit(mut self, key: &str) -> Self {
        match &mut self.data {
            Some(serde_json::Value::Object(map)) => {
                map.insert("limit".into(), key.into());
            }
            _ => self.data = Some(serde_json::json!({ "limit": key })),
        }
        self
    }
}

impl std::fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ErrorObject {}
