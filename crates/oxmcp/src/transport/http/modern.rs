//! Streamable HTTP for 2026-07-28: one POST, one request, no session.
//!
//! The validation ladder runs in the spec's order, each refusal carrying the request's
//! id: a body that is not one JSON-RPC message (400, -32700/-32600); the version header
//! and `_meta` ([`oxmcp_proto::modern::meta::validate`]: 400 with -32020, -32602 or
//! -32022); an unknown or unadvertised method (404, -32601); the `Mcp-Method`,
//! `Mcp-Name` and `Mcp-Param-*` headers (400, -32020). The request then runs on a
//! throwaway session that took its capabilities from `_meta`; a missing client
//! capability found by the handler is 400 with -32021. The reply is JSON, or SSE when
//! the handler sends progress or logs first (without event ids: nothing resumes). A
//! client that closes the stream cancels the request.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use oxmcp_proto::jsonrpc::{self, Decoded, Message};
use oxmcp_proto::modern::headers;
use oxmcp_proto::modern::meta::{self, Carrier};
use oxmcp_proto::{ErrorObject, RequestId};

use super::body::HttpBody;
use super::{Input, Shared, empty_response, exchange, json_response, new_session_with};

/// The status a modern reply goes out with: 400 for the errors the spec ties to it.
pub(super) fn status_of(reply: &[u8]) -> StatusCode {
    #[derive(serde::Deserialize)]
    struct Probe {
        error: Option<Code>,
    }
    #[derive(serde::Deserialize)]
    struct Code {
        code: i32,
    }
    use oxmcp_proto::error::{
        HEADER_MISMATCH, MISSING_CLIENT_CAPABILITY, UNSUPPORTED_PROTOCOL_VERSION,
    };
    // Our own encoding: an error reply names "error"; most replies are results.
    static ERROR: oxmcp_proto::needle::Needle = oxmcp_proto::needle::Needle::new(b"\"error\"");
    if !ERROR.is_in(reply) {
        return StatusCode::OK;
    }
    match serde_json::from_slice::<Probe>(reply) {
        Ok(Probe { error: Some(c) })
            if matches!(
                c.code,
                HEADER_MISMATCH | MISSING_CLIENT_CAPABILITY | UNSUPPORTED_PROTOCOL_VERSION
            ) =>
        {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::OK,
    }
}

fn error(status: StatusCode, id: Option<&RequestId>, e: &ErrorObject) -> Response<HttpBody> {
    json_response(status, jsonrpc::encode_error(id, e))
}

/// Answers one 2026-07-28 POST.
pub(super) async fn post(
    shared: Arc<Shared>,
    header_map: &HeaderMap,
    body: Bytes,
    cut: Option<&super::Disconnect>,
) -> Response<HttpBody> {
    let req = match jsonrpc::decode(&body) {
        Decoded::Batch(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                None,
                &ErrorObject::invalid_request(
                    "JSON-RPC batches are not part of protocol revision 2026-07-28: send one request per POST",
                ),
            );
        }
        Decoded::Single(Err(e)) => {
            return error(StatusCode::BAD_REQUEST, e.id.as_ref(), &e.error);
        }
        Decoded::Single(Ok(Message::Request(r))) => r,
        // Notifications (a cancellation) need no answer; on HTTP a closed stream cancels.
        Decoded::Single(Ok(Message::Notification(_))) => {
            return empty_response(StatusCode::ACCEPTED);
        }
        Decoded::Single(Ok(Message::Response(_))) => {
            return error(
                StatusCode::BAD_REQUEST,
                None,
                &ErrorObject::invalid_request(
                    "a response was posted, but under 2026-07-28 the server sends no requests to answer",
                ),
            );
        }
    };
    let id = &req.id;
    let header = header_map
        .get(&super::VERSION)
        .map(|v| v.to_str().unwrap_or("<not visible ASCII>"));
    // `_meta` and the name `Mcp-Name` must match, in one read of the params.
    let (meta_obj, name) = headers::envelope_of(&req.method, req.params.as_deref());
    let request_meta = match meta::validate(meta_obj.as_ref(), Carrier::Http(header)) {
        Ok(m) => m,
        Err(r) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
            return error(status, Some(id), &r.error);
        }
    };
    let setup = shared.server.modern_setup();
    if !meta::method_known(&req.method, &setup.capabilities) {
        return error(
            StatusCode::NOT_FOUND,
            Some(id),
            &ErrorObject::method_not_found(&req.method),
        );
    }
    // The two names every request has, without parsing them per request.
    const METHOD: http::HeaderName = http::HeaderName::from_static(headers::METHOD);
    const NAME: http::HeaderName = http::HeaderName::from_static(headers::NAME);
    let lookup = |name: &str| {
        let value = match name {
            headers::METHOD => header_map.get(&METHOD),
            headers::NAME => header_map.get(&NAME),
            other => header_map.get(other),
        };
        value.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    // The called tool (shared, not copied), for the `Mcp-Param-*` headers of its schema.
    let tool = name
        .as_deref()
        .filter(|_| req.method == "tools/call")
        .and_then(|name| shared.server.registry().tools.get(name));
    let schema = tool.as_ref().map(|t| &t.def.input_schema);
    let checked = headers::check_named(&req.method, name, req.params.as_deref(), schema, lookup);
    if let Err(e) = checked {
        return error(StatusCode::BAD_REQUEST, Some(id), &e);
    }
    let sess = new_session_with(&shared, None, setup, None, None);
    sess.conn.session.lock().assume_modern(request_meta);
    exchange(
        &shared,
        &sess,
        Input::Decoded(Message::Request(req)),
        true,
        cut,
    )
    .await
}
