//! The era router: which engine (legacy sessions or stateless 2026-07-28) a message goes
//! to, and the first steps of the modern ladder it then meets.

use oxmcp_proto::ProtocolVersion;
use oxmcp_proto::error::{HEADER_MISMATCH, INVALID_PARAMS, UNSUPPORTED_PROTOCOL_VERSION};
use oxmcp_proto::jsonrpc::{self, Decoded, Message};
use oxmcp_proto::modern::meta::{self, Carrier};
use oxmcp_proto::modern::{self, Era, PROTOCOL_VERSION_KEY, SUPPORTED, headers};
use serde_json::{Map, Value};

use super::strict;

/// Routes `data` as a message with an optional `MCP-Protocol-Version` header.
///
/// Input: `H:<header value>\n<body>`, or just the body (no header). Header bytes that are
/// not UTF-8 read as an empty value, as the HTTP transport reads a header that is not
/// visible ASCII.
///
/// Checks: a modern version header makes any body modern, any other header changes
/// nothing; without it the era is modern exactly when a full parse of the body (an object
/// whose `params` is an object whose `_meta` is an object holding the version key) says
/// so; a body routed modern reaches the ladder with that `_meta`; the ladder's refusals
/// are 400 with -32020, -32602 or -32022, and what it accepts names a served revision
/// (the header's, over HTTP); the header codec round-trips; the `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers a
/// client writes for the request (an oxmcp client: [`headers::encode`]) pass the
/// server's check, and a wrong `Mcp-Method` does not.
pub fn era(data: &[u8]) {
    let (header, body) = match data.strip_prefix(b"H:") {
        Some(rest) => {
            let (h, body) = match rest.iter().position(|b| *b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            (Some(std::str::from_utf8(h).unwrap_or("")), body)
        }
        None => (None, data),
    };
    let by_body = modern::era_of(body, None);
    let era = modern::era_of(body, header);
    if let Some(h) = header {
        check_header(h);
        if modern::is_modern_version(h) {
            assert_eq!(era, Era::Modern, "a modern version header {h:?} must win");
        } else {
            assert_eq!(
                era, by_body,
                "a header {h:?} that is not modern changes the era"
            );
        }
    } else {
        assert_eq!(era, by_body);
    }
    let strict = strict::parse(body);
    if let Some(v) = &strict {
        let expected = version_key_in_meta(v);
        assert_eq!(
            by_body == Era::Modern,
            expected,
            "the era probe disagrees with a full parse of the body"
        );
    }
    let Decoded::Single(Ok(Message::Request(req))) = jsonrpc::decode(body) else {
        return;
    };
    let (meta_obj, name) = headers::envelope_of(&req.method, req.params.as_deref());
    if strict.is_some() && by_body == Era::Modern {
        assert!(
            meta_obj
                .as_ref()
                .is_some_and(|m| m.contains_key(PROTOCOL_VERSION_KEY)),
            "a body routed to 2026-07-28 by its _meta reaches the ladder without it: {meta_obj:?}"
        );
    }
    if era == Era::Modern {
        ladder(meta_obj.as_ref(), Carrier::Plain);
        ladder(meta_obj.as_ref(), Carrier::Http(header));
    }
    // A client writes params as an object (or none); with duplicate keys it has no single
    // reading to mirror.
    let object = req.params.as_ref().is_none_or(|p| p.get().starts_with('{'));
    if strict.is_some() && object {
        client_headers(&req.method, name.as_deref(), req.params.as_deref());
    }
}

/// What a header value must satisfy whatever the body.
fn check_header(h: &str) {
    if modern::is_modern_version(h) {
        assert!(
            ProtocolVersion::parse(h).is_none_or(|v| !ProtocolVersion::LEGACY.contains(&v)),
            "{h:?} reads as both modern and legacy"
        );
    }
    // The header codec: what a client writes reads back as the text, exactly (a value
    // with spaces at its ends is wrapped so that they survive HTTP's trimming).
    let encoded = headers::encode(h);
    assert!(
        encoded.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
            && !encoded.starts_with(' ')
            && !encoded.ends_with(' '),
        "an encoded header value that HTTP would not carry as it is: {encoded:?}"
    );
    assert_eq!(
        headers::decode(&encoded).as_deref(),
        Some(h),
        "the header codec does not round-trip {h:?} (as {encoded:?})"
    );
    let _ = headers::decode(h);
}

/// The routing rule, on a parsed body.
fn version_key_in_meta(v: &Value) -> bool {
    v.as_object()
        .and_then(|o| o.get("params"))
        .and_then(Value::as_object)
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key(PROTOCOL_VERSION_KEY))
}

/// The `_meta` and version steps of the 2026-07-28 ladder.
fn ladder(meta_obj: Option<&Map<String, Value>>, carrier: Carrier<'_>) {
    match meta::validate(meta_obj, carrier) {
        Ok(m) => {
            let version = meta_obj
                .and_then(|o| o.get(PROTOCOL_VERSION_KEY))
                .and_then(Value::as_str);
            let Some(version) = version else {
                panic!("the ladder accepted a _meta without a version string: {meta_obj:?}");
            };
            assert_eq!(ProtocolVersion::parse(version), Some(m.version));
            assert!(
                SUPPORTED.contains(&m.version),
                "accepted an unserved {version:?}"
            );
            if let Carrier::Http(h) = carrier {
                assert_eq!(
                    h.map(str::trim),
                    Some(version),
                    "accepted a version header that differs"
                );
            }
        }
        Err(r) => {
            assert_eq!(r.status, 400, "a ladder refusal that is not 400: {r:?}");
            assert!(
                [
                    HEADER_MISMATCH,
                    INVALID_PARAMS,
                    UNSUPPORTED_PROTOCOL_VERSION
                ]
                .contains(&r.error.code),
                "a ladder refusal outside its codes: {r:?}"
            );
            if let Carrier::Http(None) = carrier {
                assert_eq!(r.error.code, HEADER_MISMATCH, "a missing version header");
            }
        }
    }
}

/// A tool schema with one mirrored argument, as a server's tool could declare it.
fn marked_schema() -> Map<String, Value> {
    let v = serde_json::json!({
        "type": "object",
        "properties": { "region": { "type": "string", "x-mcp-header": "Region" } }
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The headers an oxmcp client writes for this request pass the server's check.
fn client_headers(method: &str, name: Option<&str>, params: Option<&serde_json::value::RawValue>) {
    let schema = marked_schema();
    let region = params
        .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
        .and_then(|p| p.get("arguments").cloned())
        .and_then(|a| a.get("region").and_then(headers::value_text));
    let written = |method: String| {
        let name = name.map(headers::encode);
        let region = region.as_deref().map(headers::encode);
        move |h: &str| match h {
            headers::METHOD => Some(method.clone()),
            headers::NAME => name.clone(),
            "mcp-param-region" => region.clone(),
            _ => None,
        }
    };
    let schema = (method == "tools/call").then_some(&schema);
    if let Err(e) = headers::check(method, params, schema, written(headers::encode(method))) {
        panic!("the server refuses the headers a client writes for {method:?}: {e:?}");
    }
    let wrong = headers::encode(&format!("{method}x"));
    assert!(
        headers::check(method, params, schema, written(wrong)).is_err(),
        "a wrong Mcp-Method header passes"
    );
}
