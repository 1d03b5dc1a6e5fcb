//! The JSON-RPC decoder and the session engine that reads what it decodes.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use oxmcp_proto::error::{INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR};
use oxmcp_proto::jsonrpc::{self, DecodeError, Decoded, Message};
use oxmcp_proto::session::{Action, ServerSetup, Session, SessionLimits};
use oxmcp_proto::{ProtocolVersion, RequestId};
use serde_json::Value;
use serde_json::value::RawValue;

/// Decodes `data` as one frame (a line or an HTTP body) and feeds it to two sessions.
///
/// Checks: every message accepted re-encodes and decodes to the same message (and the
/// encoding is a fixed point); every refusal has a code of the table (-32700, -32600,
/// -32602) and encodes as an error response carrying exactly its id; a batch re-encodes
/// element by element. Then sessions before `initialize`, on 2025-03-26 (batches) and on
/// 2025-11-25 (tasks) handle the frame, every dispatched request completes, and every
/// reply must be a response (or an array of them), without `"id": null`; a single
/// request is answered exactly once, with its id; nothing stays in flight.
pub fn jsonrpc(data: &[u8]) {
    match jsonrpc::decode(data) {
        Decoded::Single(item) => check_item(&item),
        Decoded::Batch(items) => {
            for item in &items {
                check_item(item);
            }
            let encoded: Vec<Vec<u8>> = items.iter().map(encode_item).collect();
            if !encoded.is_empty() {
                let again = jsonrpc::encode_batch(&encoded);
                let Decoded::Batch(back) = jsonrpc::decode(&again) else {
                    panic!("a re-encoded batch decodes as a single message");
                };
                assert_eq!(back.len(), encoded.len(), "a re-encoded batch's length");
                for ((line, orig), item) in encoded.iter().zip(&items).zip(&back) {
                    match (orig, item) {
                        // An error without id: the decoder keeps no error to re-encode.
                        (Ok(Message::Response(None)), _) | (_, Ok(Message::Response(None))) => {}
                        (_, item) => assert_eq!(
                            &encode_item(item),
                            line,
                            "a batch element re-encodes to itself"
                        ),
                    }
                }
            }
        }
    }
    for version in [
        None,
        Some(ProtocolVersion::V2025_03_26),
        Some(ProtocolVersion::V2025_11_25),
    ] {
        drive(data, version);
    }
}

/// Our encoding of a decoded item: the message, or the error reply to it (an error
/// response without id, whose error the decoder does not keep, as a placeholder).
fn encode_item(item: &Result<Message, DecodeError>) -> Vec<u8> {
    match item {
        Ok(msg) => encode(msg).unwrap_or_else(|| b"{}".to_vec()),
        Err(e) => jsonrpc::encode_error(e.id.as_ref(), &e.error),
    }
}

fn encode(msg: &Message) -> Option<Vec<u8>> {
    Some(match msg {
        Message::Request(r) => jsonrpc::encode_request(&r.id, &r.method, r.params.as_deref()),
        Message::Notification(n) => jsonrpc::encode_notification(&n.method, n.params.as_deref()),
        Message::Response(Some(r)) => match &r.outcome {
            Ok(result) => jsonrpc::encode_result(&r.id, result.as_ref()),
            Err(e) => jsonrpc::encode_error(Some(&r.id), e),
        },
        Message::Response(None) => return None,
    })
}

fn check_item(item: &Result<Message, DecodeError>) {
    match item {
        Ok(msg) => check_message(msg),
        Err(e) => check_refusal(e),
    }
}

fn check_message(msg: &Message) {
    if let Message::Request(r) = msg {
        assert!(
            matches!(
                r.params.as_ref().map(|p| p.get().as_bytes()[0]),
                None | Some(b'{' | b'[')
            ),
            "request params that are not an object or array were accepted"
        );
    }
    let Some(line) = encode(msg) else { return };
    let back = match jsonrpc::decode_one(&line) {
        Ok(m) => m,
        Err(e) => panic!(
            "our encoding of an accepted message is refused: {e:?}\n{}",
            String::from_utf8_lossy(&line)
        ),
    };
    same(msg, &back);
    assert_eq!(
        encode(&back).as_deref(),
        Some(&line[..]),
        "the encoding is a fixed point"
    );
}

fn same(a: &Message, b: &Message) {
    let raw = |p: &Option<Box<RawValue>>| p.as_ref().map(|p| p.get().to_owned());
    match (a, b) {
        (Message::Request(a), Message::Request(b)) => {
            assert_eq!(
                (&a.id, &a.method, raw(&a.params)),
                (&b.id, &b.method, raw(&b.params))
            );
        }
        (Message::Notification(a), Message::Notification(b)) => {
            assert_eq!((&a.method, raw(&a.params)), (&b.method, raw(&b.params)));
        }
        (Message::Response(Some(a)), Message::Response(Some(b))) => {
            assert_eq!(a.id, b.id);
            match (&a.outcome, &b.outcome) {
                (Ok(x), Ok(y)) => assert_eq!(x.get(), y.get()),
                (Err(x), Err(y)) => assert_eq!(x.code, y.code),
                _ => panic!("a result decodes as an error or back"),
            }
        }
        (Message::Response(None), Message::Response(None)) => {}
        (a, b) => panic!("re-encoded {a:?} decodes as {b:?}"),
    }
}

fn check_refusal(e: &DecodeError) {
    assert!(
        [PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS].contains(&e.error.code),
        "a decode error outside the table: {e:?}"
    );
    assert!(
        !e.error.message.is_empty(),
        "an error message that names nothing"
    );
    let line = jsonrpc::encode_error(e.id.as_ref(), &e.error);
    match jsonrpc::decode_one(&line) {
        Ok(Message::Response(Some(r))) => {
            assert_eq!(Some(&r.id), e.id.as_ref(), "the error reply's id");
            assert_eq!(
                r.outcome.as_ref().err(),
                Some(&e.error),
                "the error round-trips"
            );
        }
        Ok(Message::Response(None)) => assert!(e.id.is_none(), "the id was dropped"),
        other => panic!(
            "our error reply decodes as {other:?}: {}",
            String::from_utf8_lossy(&line)
        ),
    }
    no_null_id(&line);
}

/// A server that declares everything a session can gate on.
fn setup() -> Arc<ServerSetup> {
    static SETUP: OnceLock<Arc<ServerSetup>> = OnceLock::new();
    SETUP
        .get_or_init(|| {
            let caps = serde_json::from_value(serde_json::json!({
                "tools": { "listChanged": true },
                "resources": { "subscribe": true, "listChanged": true },
                "prompts": {},
                "logging": {},
                "completions": {},
                "tasks": { "list": {}, "cancel": {}, "requests": { "tools": { "call": {} } } }
            }))
            .expect("the capabilities of the fuzz server");
            let info = serde_json::from_value(serde_json::json!({"name": "fuzz", "version": "0"}))
                .expect("the server info of the fuzz server");
            Arc::new(ServerSetup::new(info, caps, None))
        })
        .clone()
}

/// One session (`version`: serving it without a handshake; `None`: before `initialize`)
/// handles `frame`.
fn drive(frame: &[u8], version: Option<ProtocolVersion>) {
    let mut s = Session::new(setup(), SessionLimits::default());
    if let Some(v) = version {
        s.assume_initialized(v);
    }
    let now = Instant::now();
    let mut out = Vec::new();
    s.handle_frame(now, frame, &mut out);
    let mut later = Vec::new();
    let done = RawValue::from_string("{}".into()).expect("an empty object");
    for a in &out {
        if let Action::Dispatch(d) = a {
            s.complete(&d.id, Ok(&done), &mut later);
        }
    }
    let mut replies = Vec::new();
    for a in out.iter().chain(&later) {
        match a {
            Action::Send(bytes) | Action::Respond { bytes, .. } => replies.push(check_reply(bytes)),
            _ => {}
        }
    }
    assert_eq!(s.in_flight(), 0, "requests left in flight");
    assert_eq!(s.open_batches(), 0, "batches left open");
    // A single well-formed request is answered exactly once, with its id.
    if let Decoded::Single(Ok(Message::Request(r))) = jsonrpc::decode(frame) {
        let ids: Vec<&Vec<Option<RequestId>>> = replies.iter().collect();
        assert_eq!(
            ids,
            [&vec![Some(r.id.clone())]],
            "a request gets one reply with its id (session on {version:?})"
        );
    }
}

/// Checks one reply; returns the ids it answers (one per response; `None`: without id).
fn check_reply(bytes: &[u8]) -> Vec<Option<RequestId>> {
    no_null_id(bytes);
    let one = |item: &Result<Message, DecodeError>| match item {
        Ok(Message::Response(Some(r))) => Some(r.id.clone()),
        Ok(Message::Response(None)) => None,
        other => panic!(
            "a reply that is not a response: {other:?}: {}",
            String::from_utf8_lossy(bytes)
        ),
    };
    match jsonrpc::decode(bytes) {
        Decoded::Single(item) => vec![one(&item)],
        Decoded::Batch(items) => {
            assert!(!items.is_empty(), "an empty batch reply");
            items.iter().map(one).collect()
        }
    }
}

/// No message of ours says `"id": null` (an unknown id is omitted).
fn no_null_id(bytes: &[u8]) {
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => panic!(
            "a reply that is not JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        ),
    };
    let items = match &v {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    for item in items {
        assert!(
            item.get("id") != Some(&Value::Null),
            "a reply with \"id\": null: {item}"
        );
    }
}
