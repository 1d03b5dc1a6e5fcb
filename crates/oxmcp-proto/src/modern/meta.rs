//! The request `_meta` of 2026-07-28 and the validation ladder, in the spec's order.
//!
//! Over HTTP the order is (each a 400 carrying the request's id):
//! 1. `MCP-Protocol-Version` header missing → -32020;
//! 2. `_meta` missing, or without the version or the capabilities → -32602;
//! 3. header version ≠ `_meta` version → -32020 (before the support check);
//! 4. version not served → -32022 with `data.supported` and `data.requested`.
//!
//! Method routing (unknown or unadvertised method → 404 / -32601, see [`method_known`])
//! and the `Mcp-*` header checks ([`super::headers`]) follow; a missing client capability
//! (-32021) is found by the handler that needs it. On stdio the header steps are skipped.

use serde::Deserialize;
use serde_json::Value;

use super::{
    CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, LOG_LEVEL_KEY, PROTOCOL_VERSION_KEY, SUPPORTED,
    supported_strings,
};
use crate::error::ErrorObject;
use crate::model::{ClientCapabilities, Implementation, LoggingLevel, Meta, ProgressToken};
use crate::version::ProtocolVersion;

/// What a modern request's `_meta` says, once validated.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestMeta {
    /// The request's revision (one of [`SUPPORTED`]).
    pub version: ProtocolVersion,
    /// The client's capabilities for this request only.
    pub capabilities: ClientCapabilities,
    /// The client's identity, if it sent one.
    pub client_info: Option<Implementation>,
    /// The lowest level of log messages the request opted in to (`None`: no log messages).
    pub log_level: Option<LoggingLevel>,
    /// The progress token, if the client asked for progress.
    pub progress_token: Option<ProgressToken>,
}

/// A request refused by the ladder: the HTTP status to answer with and the error.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The HTTP status (400 for the ladder, 404 for an unknown method).
    pub status: u16,
    /// The JSON-RPC error.
    pub error: ErrorObject,
}

impl Rejection {
    fn bad(error: ErrorObject) -> Self {
        Rejection { status: 400, error }
    }
}

/// Where the request came from, for the header steps of the ladder.
#[derive(Debug, Clone, Copy)]
pub enum Carrier<'a> {
    /// Streamable HTTP, with the `MCP-Protocol-Version` header's value (`None`: absent).
    Http(Option<&'a str>),
    /// A transport without headers (stdio).
    Plain,
}

/// Reads `params._meta` of a request (`None` when params or `_meta` are absent or not
/// objects).
pub fn meta_of(params: Option<&serde_json::value::RawValue>) -> Option<Meta> {
    super::headers::envelope_of("", params).0
}

/// Runs the ladder's `_meta` and version steps for one request.
pub fn validate(meta: Option<&Meta>, carrier: Carrier<'_>) -> Result<RequestMeta, Rejection> {
    if let Carrier::Http(None) = carrier {
        return Err(Rejection::bad(ErrorObject::header_mismatch(
            "the MCP-Protocol-Version header is required on every 2026-07-28 request",
        )));
    }
    let Some(meta) = meta else {
        return Err(Rejection::bad(ErrorObject::invalid_params(format!(
            "params._meta is required on every 2026-07-28 request (with {PROTOCOL_VERSION_KEY} and {CLIENT_CAPABILITIES_KEY})"
        ))));
    };
    let version = match meta.get(PROTOCOL_VERSION_KEY) {
        Some(Value::String(v)) => v.as_str(),
        Some(_) => {
            return Err(Rejection::bad(ErrorObject::invalid_params(format!(
                "params._meta[\"{PROTOCOL_VERSION_KEY}\"] must be a string"
            ))));
        }
        None => {
            return Err(Rejection::bad(ErrorObject::invalid_params(format!(
                "params._meta lacks \"{PROTOCOL_VERSION_KEY}\", which every 2026-07-28 request must carry"
            ))));
        }
    };
    let capabilities = match meta.get(CLIENT_CAPABILITIES_KEY) {
        Some(v @ Value::Object(_)) => ClientCapabilities::deserialize(v).map_err(|e| {
            Rejection::bad(ErrorObject::invalid_params(format!(
                "params._meta[\"{CLIENT_CAPABILITIES_KEY}\"] is malformed: {e}"
            )))
        })?,
        Some(_) => {
            return Err(Rejection::bad(ErrorObject::invalid_params(format!(
                "params._meta[\"{CLIENT_CAPABILITIES_KEY}\"] must be an object"
            ))));
        }
        None => {
            return Err(Rejection::bad(ErrorObject::invalid_params(format!(
                "params._meta lacks \"{CLIENT_CAPABILITIES_KEY}\", which every 2026-07-28 request must carry (an empty object declares none)"
            ))));
        }
    };
    if let Carrier::Http(Some(header)) = carrier
        && header.trim() != version
    {
        return Err(Rejection::bad(ErrorObject::header_mismatch(format!(
            "the MCP-Protocol-Version header ({header:?}) differs from params._meta[\"{PROTOCOL_VERSION_KEY}\"] ({version:?})"
        ))));
    }
    let Some(version) = ProtocolVersion::parse(version).filter(|v| SUPPORTED.contains(v)) else {
        return Err(Rejection::bad(ErrorObject::unsupported_version(
            version,
            &supported_strings(),
        )));
    };
    // A malformed clientInfo is not worth refusing a request over: it is for display only.
    let client_info = meta
        .get(CLIENT_INFO_KEY)
        .and_then(|v| Implementation::deserialize(v).ok());
    let log_level = match meta.get(LOG_LEVEL_KEY) {
        None | Some(Value::Null) => None,
        Some(v) => Some(LoggingLevel::deserialize(v).map_err(|_| Rejection {
            status: 200,
            error: ErrorObject::invalid_params(format!(
                "params._meta[\"{LOG_LEVEL_KEY}\"] must be one of debug, info, notice, warning, error, critical, alert, emergency; got {v}"
            )),
        })?),
    };
    Ok(RequestMeta {
        version,
        capabilities,
        client_info,
        log_level,
        progress_token: ProgressToken::from_meta(meta),
    })
}

/// The server capabilities a modern method needs, as a predicate over what the server
/// declared. `None`: the method does not exist in 2026-07-28 (including the ones it
/// removed: `initialize`, `ping`, `logging/setLevel`, `resources/subscribe`,
/// `resources/unsubscribe`, and the core tasks methods).
pub fn method_known(method: &str, caps: &crate::model::ServerCapabilities) -> bool {
    match method {
        "server/discover" | "subscriptions/listen" => true,
        "tools/list" | "tools/call" => caps.tools.is_some(),
        "resources/list" | "resources/read" | "resources/templates/list" => {
            caps.resources.is_some()
        }
        "prompts/list" | "prompts/get" => caps.prompts.is_some(),
        "completion/complete" => caps.completions.is_some(),
        "tasks/get" | "tasks/update" | "tasks/cancel" => caps
            .extensions
            .as_ref()
            .is_some_and(|e| e.contains_key(super::TASKS_EXTENSION)),
        _ => false,
    }
}

/// The methods that may answer `input_required` (multi round-trip requests).
pub fn may_require_input(method: &str) -> bool {
    matches!(method, "tools/call" | "prompts/get" | "resources/read")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{HEADER_MISMATCH, INVALID_PARAMS, UNSUPPORTED_PROTOCOL_VERSION};

    fn meta(v: Value) -> Meta {
        match v {
            Value::Object(m) => m,
            _ => Meta::new(),
        }
    }

    fn code(r: Result<RequestMeta, Rejection>) -> i32 {
        match r {
            Ok(_) => 0,
            Err(r) => r.error.code,
        }
    }

    #[test]
    fn the_ladder_runs_in_the_spec_order() {
        let good = meta(serde_json::json!({
            PROTOCOL_VERSION_KEY: "2026-07-28", CLIENT_CAPABILITIES_KEY: {}
        }));
        // Header missing beats everything else.
        assert_eq!(code(validate(None, Carrier::Http(None))), HEADER_MISMATCH);
        // _meta problems come before the header/body comparison.
        assert_eq!(
            code(validate(None, Carrier::Http(Some("2025-01-01")))),
            INVALID_PARAMS
        );
        let no_caps = meta(serde_json::json!({ PROTOCOL_VERSION_KEY: "2026-07-28" }));
        assert_eq!(
            code(validate(Some(&no_caps), Carrier::Http(Some("2026-07-28")))),
            INVALID_PARAMS
        );
        // Mismatch comes before the support check.
        let odd = meta(serde_json::json!({
            PROTOCOL_VERSION_KEY: "v999.0.0", CLIENT_CAPABILITIES_KEY: {}
        }));
        assert_eq!(
            code(validate(Some(&odd), Carrier::Http(Some("2026-07-28")))),
            HEADER_MISMATCH
        );
        let r = validate(Some(&odd), Carrier::Http(Some("v999.0.0")));
        let Err(r) = r else {
            panic!("v999.0.0 accepted")
        };
        assert_eq!(r.error.code, UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(
            r.error.data,
            Some(serde_json::json!({ "supported": ["2026-07-28"], "requested": "v999.0.0" }))
        );
        // stdio skips the header steps; clientInfo is optional.
        assert!(validate(Some(&good), Carrier::Plain).is_ok());
        assert!(validate(Some(&good), Carrier::Http(Some("2026-07-28"))).is_ok());
    }

    #[test]
    fn removed_methods_are_unknown() {
        let caps = crate::model::ServerCapabilities::default();
        for m in [
            "initialize",
            "ping",
            "logging/setLevel",
            "resources/subscribe",
            "tasks/list",
        ] {
            assert!(!method_known(m, &caps), "{m}");
        }
        assert!(method_known("server/discover", &caps));
        assert!(!method_known("tools/list", &caps));
    }
}
