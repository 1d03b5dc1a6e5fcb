//! The stateless revision 2026-07-28 ("modern"), beside the legacy session engine.
//!
//! Under 2026-07-28 there is no handshake and no session: every request carries its
//! protocol version and the client's capabilities in `params._meta`, `server/discover`
//! replaces `initialize`, a handler that needs input *returns* an `input_required` result
//! the client answers by repeating the call, notifications arrive only on a
//! `subscriptions/listen` stream, and results carry `resultType` and caching hints.
//!
//! This module is the protocol half of that, as plain functions and data:
//!
//! - [`era_of`] decides whether an incoming message is modern or legacy (the routing rule
//!   is the same on every transport: the body decides, a header only cross-checks);
//! - [`meta`] reads and validates the request `_meta` in the spec's order (-32020,
//!   -32602, -32022);
//! - [`shape`] turns results of the SDK model into 2026-07-28 results (`resultType`,
//!   `ttlMs`/`cacheScope`, `serverInfo` in `_meta`, fields the revision removed);
//! - [`headers`] is the `Mcp-Method`/`Mcp-Name`/`Mcp-Param-*` codec (both sides);
//! - [`state`] seals and opens `requestState` (HMAC-SHA256, key rotation, expiry);
//! - [`model`] holds the messages only this revision has (discover, input required,
//!   subscriptions).

pub mod headers;
pub mod meta;
pub mod model;
pub mod shape;
pub mod state;

use serde::Deserialize;

use crate::needle::Needle;
use crate::version::ProtocolVersion;

/// `_meta` key: the request's protocol revision (required on every modern request).
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key: the client's capabilities for this request (required).
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key: the client's identity (recommended).
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key: the log level this request opts in to (no key: no log messages).
pub const LOG_LEVEL_KEY: &str = "io.modelcontextprotocol/logLevel";
/// Result `_meta` key: the server's identity.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";
/// Notification and result `_meta` key: the listen stream (its request id) a message
/// belongs to.
pub const SUBSCRIPTION_ID_KEY: &str = "io.modelcontextprotocol/subscriptionId";

/// The tasks extension of 2026-07-28 (SEP-2663): server-directed tasks, `tasks/get`,
/// `tasks/update`, `tasks/cancel`.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// The revisions served without a handshake, advertised by `server/discover` and in every
/// -32022 error (legacy revisions stay reachable through `initialize`).
pub const SUPPORTED: [ProtocolVersion; 1] = [ProtocolVersion::V2026_07_28];

/// The wire strings of [`SUPPORTED`].
pub fn supported_strings() -> Vec<&'static str> {
    SUPPORTED.iter().map(|v| v.as_str()).collect()
}

/// Which engine an incoming message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2024-11-05 … 2025-11-25: the session engine.
    Legacy,
    /// 2026-07-28 and later: stateless, validated by [`meta`].
    Modern,
}

/// Whether a protocol version string names 2026-07-28 or later (a date-shaped string
/// compared as a date; anything else is not).
pub fn is_modern_version(v: &str) -> bool {
    let b = v.as_bytes();
    let date_shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    date_shaped && v >= ProtocolVersion::V2026_07_28.as_str()
}

// One pass over the body, down to the key: a value that is not an object where an
// object is needed fails the probe (and so reads as legacy).
#[derive(Deserialize)]
struct Probe {
    #[serde(default, deserialize_with = "object")]
    params: Option<ParamsProbe>,
}

#[derive(Deserialize)]
struct ParamsProbe {
    #[serde(rename = "_meta", default, deserialize_with = "object")]
    meta: Option<MetaProbe>,
}

#[derive(Deserialize)]
struct MetaProbe {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", default)]
    version: Option<serde::de::IgnoredAny>,
}

/// An object read as `T`, or `None` for null; anything else fails. (A derived struct
/// alone would also take an array, field by field: `"_meta": ["…"]` read as a `_meta`
/// holding the key, and the era then hung on whether the body had an escape for the quick
/// look to give up on.)
fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Object<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Object<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    d.deserialize_any(Object(std::marker::PhantomData))
}

/// Whether the body's `params._meta` carries the modern protocol-version key (whatever
/// its value: a bad value is the validation's business, not the router's).
fn has_version_key(body: &[u8]) -> bool {
    // The key can only be there if its bytes are, or if the body escapes something (a key
    // may be spelled with escapes): most legacy traffic is decided without a parse.
    static KEY: Needle = Needle::new(PROTOCOL_VERSION_KEY.as_bytes());
    if !KEY.may_be_in_json(body) {
        return false;
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let probe = object::<_, Probe>(&mut de).ok().flatten();
    de.end().is_ok()
        && probe
            .and_then(|p| p.params)
            .and_then(|p| p.meta)
            .is_some_and(|m| m.version.is_some())
}

/// The era of one incoming message: modern when its `params._meta` carries the protocol
/// version key (whatever the method: a modern-tagged `initialize` is an unknown method),
/// or when it has no such key but the transport's version header names 2026-07-28 or
/// later (it then fails `_meta` validation instead of reaching the legacy engine);
/// legacy otherwise (plain `initialize`, session traffic, old clients). A batch (an array)
/// has no `params` and so is legacy unless a modern header says otherwise.
pub fn era_of(body: &[u8], header_version: Option<&str>) -> Era {
    if header_version.is_some_and(is_modern_version) || has_version_key(body) {
        Era::Modern
    } else {
        Era::Legacy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_decides_and_a_modern_header_keeps_untagged_bodies_off_the_legacy_engine() {
        let tagged = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
        assert_eq!(era_of(tagged, None), Era::Modern);
        assert_eq!(era_of(tagged, Some("2025-11-25")), Era::Modern);
        let plain = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#;
        assert_eq!(era_of(plain, None), Era::Legacy);
        assert_eq!(era_of(plain, Some("2025-11-25")), Era::Legacy);
        assert_eq!(era_of(plain, Some("2026-07-28")), Era::Modern);
        assert_eq!(era_of(plain, Some("2099-01-01")), Era::Modern);
        assert_eq!(era_of(plain, Some("v999.0.0")), Era::Legacy);
        assert_eq!(era_of(b"[]", Some("2026-07-28")), Era::Modern);
        assert_eq!(era_of(b"[]", None), Era::Legacy);
        assert_eq!(era_of(b"not json", None), Era::Legacy);
        // The quick look for the key's bytes must not miss a key spelled with escapes.
        let escaped = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol\/protocolVersion":"2026-07-28"}}}"#;
        assert_eq!(era_of(escaped, None), Era::Modern);
        let unicode = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocol\u0056ersion":"2026-07-28"}}}"#;
        assert_eq!(era_of(unicode, None), Era::Modern);
    }

    #[test]
    fn an_array_never_stands_for_an_object_on_the_way_to_the_key() {
        // Found by the fuzz target `era` (fuzz/regressions/era/): serde's derived structs
        // also read arrays, so these were modern, but only with an escape somewhere.
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":["io.modelcontextprotocol/protocolVersion"]}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools\/list","params":[[1]]}"#,
            r#"[{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}]"#,
            r#"{"params":{"_meta":{"io.modelcontextprotocol/protocolVersion":1}}} trailing"#,
        ] {
            assert_eq!(era_of(body.as_bytes(), None), Era::Legacy, "{body}");
        }
        let null = br#"{"params":null,"x":"\u0041"}"#;
        assert_eq!(era_of(null, None), Era::Legacy);
        let key =
            br#"{"params":{"_meta":{"io.modelcontextprotocol/protocolVersion":1}},"x":"\u0041"}"#;
        assert_eq!(era_of(key, None), Era::Modern);
    }
}
