//! Results and input requests of the SDK model, shaped for 2026-07-28.
//!
//! The SDK model is the legacy one (see [`crate::model`]); what differs on the wire is
//! small and written here, one rule per difference:
//!
//! - every result gets `resultType` (`"complete"` unless the handler path set another);
//! - the six cacheable results (discover, the three lists, the template list, read) get
//!   `ttlMs` and `cacheScope`;
//! - every result gets the server's identity in `_meta["io.modelcontextprotocol/serverInfo"]`;
//! - tools lose `execution` (core tasks are gone), capabilities lose `tasks`;
//! - input requests (elicitation, sampling, roots) are `{method, params}` without `id`,
//!   `_meta`, `task` or `elicitationId`.

use serde_json::{Map, Value, json};

use super::SERVER_INFO_KEY;
use super::model::CacheHint;
use crate::model::Implementation;

/// Whether `method`'s result is cacheable (carries `ttlMs` and `cacheScope`).
pub fn is_cacheable(method: &str) -> bool {
    matches!(
        method,
        "server/discover"
            | "tools/list"
            | "prompts/list"
            | "resources/list"
            | "resources/templates/list"
            | "resources/read"
    )
}

/// Stamps a complete result of `method`: `resultType`, the caching hint where the method
/// has one, and the server's identity; removes what the revision does not have.
pub fn stamp(
    method: &str,
    result: &mut Map<String, Value>,
    server: &Implementation,
    cache: Option<CacheHint>,
) {
    result
        .entry("resultType")
        .or_insert_with(|| Value::from("complete"));
    if is_cacheable(method) {
        let hint = cache.unwrap_or_default();
        result.insert("ttlMs".into(), hint.ttl_ms.into());
        result.insert("cacheScope".into(), hint.scope.as_str().into());
    }
    if method == "tools/list"
        && let Some(Value::Array(tools)) = result.get_mut("tools")
    {
        for t in tools.iter_mut().filter_map(Value::as_object_mut) {
            t.remove("execution");
        }
    }
    if let Some(Value::Object(caps)) = result.get_mut("capabilities") {
        caps.remove("tasks");
    }
    server_info(result, server);
}

/// Puts the server's identity into a result's `_meta`.
pub fn server_info(result: &mut Map<String, Value>, server: &Implementation) {
    let meta = result.entry("_meta").or_insert_with(|| json!({}));
    if let (Some(meta), Ok(info)) = (meta.as_object_mut(), serde_json::to_value(server)) {
        meta.insert(SERVER_INFO_KEY.into(), info);
    }
}

/// One input request as it goes into `inputRequests`: `{method, params}` with the params
/// stripped of what 2026-07-28 removed.
pub fn input_request(method: &str, mut params: Value) -> Value {
    if let Some(p) = params.as_object_mut() {
        p.remove("_meta");
        p.remove("task");
        p.remove("elicitationId");
    }
    match method {
        // roots/list has no params at all in this revision.
        "roots/list" => json!({ "method": method }),
        _ => json!({ "method": method, "params": params }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modern::model::CacheScope;

    #[test]
    fn a_list_result_gets_type_hint_identity_and_loses_execution() {
        let mut r = json!({ "tools": [{ "name": "t", "inputSchema": {"type":"object"}, "execution": {"taskSupport":"optional"} }] });
        let Some(map) = r.as_object_mut() else {
            panic!("not an object")
        };
        stamp(
            "tools/list",
            map,
            &Implementation::new("srv", "1.0"),
            Some(CacheHint::new(5000, CacheScope::Public)),
        );
        assert_eq!(
            r,
            json!({
                "tools": [{ "name": "t", "inputSchema": {"type":"object"} }],
                "resultType": "complete", "ttlMs": 5000, "cacheScope": "public",
                "_meta": { SERVER_INFO_KEY: { "name": "srv", "version": "1.0" } }
            })
        );
    }

    #[test]
    fn a_call_result_has_no_cache_fields_and_keeps_its_own_result_type() {
        let mut r = json!({ "resultType": "input_required", "requestState": "x" });
        let Some(map) = r.as_object_mut() else {
            panic!("not an object")
        };
        stamp("tools/call", map, &Implementation::new("s", "1"), None);
        assert_eq!(r["resultType"], "input_required");
        assert!(r.get("ttlMs").is_none());
    }
}
