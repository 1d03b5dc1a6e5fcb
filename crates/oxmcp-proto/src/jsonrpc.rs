//! The JSON-RPC 2.0 envelope: decoding what a peer sent and encoding what we send.
//!
//! Decoding reads the envelope only; `params` and `result` stay raw JSON
//! ([`RawValue`]) until whoever owns them deserialises them into their own type.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::ErrorObject;

/// A request id: a string or an integer (never null, never a fraction).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(String),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl Serialize for RequestId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Number(n) => s.serialize_i64(*n),
            RequestId::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RequestId, E> {
                i64::try_from(v)
                    .map(RequestId::Number)
                    .map_err(|_| E::custom("integer id out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<RequestId, E> {
                Ok(RequestId::String(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A request: it wants a response.
#[derive(Debug)]
pub struct Request {
    /// Its id.
    pub id: RequestId,
    /// The method.
    pub method: String,
    /// Raw params, if any (an object or array, checked).
    pub params: Option<Box<RawValue>>,
}

/// A notification: no id, no response.
#[derive(Debug)]
pub struct Notification {
    /// The method.
    pub method: String,
    /// Raw params, if any.
    pub params: Option<Box<RawValue>>,
}

/// A response to a request we sent.
#[derive(Debug)]
pub struct Response {
    /// The id of our request.
    pub id: RequestId,
    /// `Ok(result)` or the peer's error.
    pub outcome: Result<Box<RawValue>, ErrorObject>,
}

/// One well-formed JSON-RPC message.
#[derive(Debug)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A response (result or error) to a request of ours. An error response whose id is
    /// null or absent has `None` here.
    Response(Option<Response>),
}

/// Why a message was refused, with what the error reply needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    /// The request id, when it could be read (the reply carries it).
    pub id: Option<RequestId>,
    /// The error to send back.
    pub error: ErrorObject,
    /// Whether the message looked like a request or could not be classified, so that it
    /// deserves a reply (malformed responses and notifications get none).
    pub reply: bool,
}

/// What one frame (line or HTTP body) held.
#[derive(Debug)]
pub enum Decoded {
    /// One message, or why it was refused.
    Single(Result<Message, DecodeError>),
    /// A JSON array: each element decoded on its own. Empty for `[]`.
    Batch(Vec<Result<Message, DecodeError>>),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

/// A present field is `Some` even when its value is `null` (plain `Option` would say `None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

fn parse_error(e: &serde_json::Error) -> DecodeError {
    let error = match e.classify() {
        serde_json::error::Category::Data => {
            ErrorObject::invalid_request(format!("not a JSON-RPC message: {e}"))
        }
        _ => ErrorObject::parse_error(format!("parse error: {e}")),
    };
    DecodeError {
        id: None,
        error,
        reply: true,
    }
}

/// Decodes one frame: a single message or a batch.
pub fn decode(frame: &[u8]) -> Decoded {
    let first = frame.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match first {
        Some(b'[') => match serde_json::from_slice::<Vec<&RawValue>>(frame) {
            Ok(items) => Decoded::Batch(
                items
                    .into_iter()
                    .map(|raw| decode_one(raw.get().as_bytes()))
                    .collect(),
            ),
            Err(e) => Decoded::Single(Err(parse_error(&e))),
        },
        _ => Decoded::Single(decode_one(frame)),
    }
}

fn invalid(id: Option<RequestId>, reply: bool, message: impl Into<String>) -> DecodeError {
    DecodeError {
        id,
        error: ErrorObject::invalid_request(message),
        reply,
    }
}

/// Decodes one JSON-RPC message (not a batch).
pub fn decode_one(bytes: &[u8]) -> Result<Message, DecodeError> {
    let env: Envelope<'_> = match serde_json::from_slice(bytes) {
        Ok(env) => env,
        Err(e) => {
            // A JSON value that is not an object: a data error, hence invalid request.
            return Err(parse_error(&e));
        }
    };
    // The id first, so that every later error can carry it.
    let id = match env.id {
        None => None,
        Some(raw) => match serde_json::from_str::<RequestId>(raw.get()) {
            Ok(id) => Some(id),
            Err(_) if raw.get() == "null" && env.method.is_none() => None,
            Err(_) => {
                return Err(invalid(
                    None,
                    true,
                    format!(
                        "invalid request id {}: must be a string or an integer",
                        truncate(raw.get())
                    ),
                ));
            }
        },
    };
    let is_request_like = env.method.is_some();
    match env.jsonrpc {
        Some(v) if v.get() == "\"2.0\"" => {}
        Some(v) => {
            return Err(invalid(
                id,
                is_request_like || env.id.is_some(),
                format!(
                    "unsupported jsonrpc version {}: must be \"2.0\"",
                    truncate(v.get())
                ),
            ));
        }
        None => {
            return Err(invalid(
                id,
                is_request_like || env.id.is_some(),
                "missing \"jsonrpc\": \"2.0\"",
            ));
        }
    }
    if let Some(method) = env.method {
        let method: String = serde_json::from_str(method.get())
            .map_err(|_| invalid(id.clone(), true, "\"method\" must be a string"))?;
        if env.result.is_some() || env.error.is_some() {
            return Err(invalid(
                id,
                true,
                "a request must not carry \"result\" or \"error\"",
            ));
        }
        let params = match env.params {
            None => None,
            Some(p) => match p.get().as_bytes().first() {
                Some(b'{') | Some(b'[') => Some(p.to_owned()),
                _ => {
                    return Err(DecodeError {
                        id,
                        error: ErrorObject::invalid_params("\"params\" must be an object"),
                        reply: true,
                    });
                }
            },
        };
        return Ok(match id {
            Some(id) => Message::Request(Request { id, method, params }),
            None => Message::Notification(Notification { method, params }),
        });
    }
    match (env.result, env.error) {
        (Some(result), None) => match id {
            Some(id) => Ok(Message::Response(Some(Response {
                id,
                outcome: Ok(result.to_owned()),
            }))),
            None => Err(invalid(
                None,
                false,
                "a response must carry the id of its request",
            )),
        },
        (None, Some(error)) => match serde_json::from_str::<ErrorObject>(error.get()) {
            Ok(error) => Ok(Message::Response(id.map(|id| Response {
                id,
                outcome: Err(error),
            }))),
            Err(e) => Err(invalid(id, false, format!("malformed error object: {e}"))),
        },
        (Some(_), Some(_)) => Err(invalid(
            id,
            false,
            "a response must not carry both \"result\" and \"error\"",
        )),
        (None, None) => Err(invalid(id, true, "missing \"method\"")),
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[derive(Serialize)]
struct OutResult<'a, T: Serialize + ?Sized> {
    jsonrpc: &'static str,
    id: &'a RequestId,
    result: &'a T,
}

#[derive(Serialize)]
struct OutError<'a> {
    jsonrpc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a RequestId>,
    error: &'a ErrorObject,
}

#[derive(Serialize)]
struct OutRequest<'a, T: Serialize + ?Sized> {
    jsonrpc: &'static str,
    id: &'a RequestId,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a T>,
}

#[derive(Serialize)]
struct OutNotification<'a, T: Serialize + ?Sized> {
    jsonrpc: &'static str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a T>,
}

fn to_vec<T: Serialize>(v: &T) -> Vec<u8> {
    // Serialising our own envelope types (string keys, no maps with non-string keys)
    // cannot fail; fall back to an internal error line rather than panicking.
    serde_json::to_vec(v).unwrap_or_else(|e| {
        format!(r#"{{"jsonrpc":"2.0","error":{{"code":-32603,"message":"cannot encode message: {e}"}}}}"#)
            .into_bytes()
    })
}

/// Encodes a result response.
pub fn encode_result<T: Serialize + ?Sized>(id: &RequestId, result: &T) -> Vec<u8> {
    to_vec(&OutResult {
        jsonrpc: "2.0",
        id,
        result,
    })
}

/// Encodes an error response; `id` is omitted when `None` (never `null`).
pub fn encode_error(id: Option<&RequestId>, error: &ErrorObject) -> Vec<u8> {
    to_vec(&OutError {
        jsonrpc: "2.0",
        id,
        error,
    })
}

/// Encodes a request.
pub fn encode_request<T: Serialize + ?Sized>(
    id: &RequestId,
    method: &str,
    params: Option<&T>,
) -> Vec<u8> {
    to_vec(&OutRequest {
        jsonrpc: "2.0",
        id,
        method,
        params,
    })
}

/// Encodes a notification.
pub fn encode_notification<T: Serialize + ?Sized>(method: &str, params: Option<&T>) -> Vec<u8> {
    to_vec(&OutNotification {
        jsonrpc: "2.0",
        method,
        params,
    })
}

/// Joins already-encoded messages into one JSON array (a batch reply).
pub fn encode_batch(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::*;

    fn single(s: &str) -> Result<Message, DecodeError> {
        match decode(s.as_bytes()) {
            Decoded::Single(m) => m,
            Decoded::Batch(_) => panic!("batch"),
        }
    }

    #[test]
    fn classifies_messages() {
        assert!(
            matches!(single(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#), Ok(Message::Request(r)) if r.id == RequestId::Number(1))
        );
        assert!(
            matches!(single(r#"{"jsonrpc":"2.0","id":"a","method":"ping","params":{}}"#), Ok(Message::Request(r)) if r.id == RequestId::String("a".into()) && r.params.is_some())
        );
        assert!(matches!(
            single(r#"{"jsonrpc":"2.0","method":"notifications/initialized","extra":1}"#),
            Ok(Message::Notification(_))
        ));
        assert!(matches!(
            single(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#),
            Ok(Message::Response(Some(_)))
        ));
        assert!(matches!(
            single(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}"#),
            Ok(Message::Response(None))
        ));
    }

    #[test]
    fn refuses_with_the_right_code_and_id() {
        let e = single("{not json").unwrap_err();
        assert_eq!((e.error.code, e.id), (PARSE_ERROR, None));
        let e = single(r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#).unwrap_err();
        assert_eq!(
            (e.error.code, e.id),
            (INVALID_REQUEST, Some(RequestId::Number(7)))
        );
        for bad_id in ["null", "true", "1.5", "{}", "[1]"] {
            let e = single(&format!(
                r#"{{"jsonrpc":"2.0","id":{bad_id},"method":"ping"}}"#
            ))
            .unwrap_err();
            assert_eq!(
                (e.error.code, e.id.clone()),
                (INVALID_REQUEST, None),
                "{bad_id}"
            );
            assert!(e.error.message.contains("id"), "{}", e.error.message);
        }
        let e = single(r#"{"jsonrpc":"2.0","id":2,"method":5}"#).unwrap_err();
        assert_eq!(
            (e.error.code, e.id),
            (INVALID_REQUEST, Some(RequestId::Number(2)))
        );
        let e = single(r#"{"jsonrpc":"2.0","id":2,"method":"x","params":3}"#).unwrap_err();
        assert_eq!(e.error.code, INVALID_PARAMS);
        let e = single("42").unwrap_err();
        assert_eq!(e.error.code, INVALID_REQUEST);
        let e = single(r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}"#).unwrap_err();
        assert_eq!(e.error.code, INVALID_REQUEST);
        let e = decode_one(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}").unwrap_err();
        assert_eq!(e.error.code, PARSE_ERROR);
    }

    #[test]
    fn batches_decode_element_by_element() {
        match decode(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}, 5]"#) {
            Decoded::Batch(items) => {
                assert!(items[0].is_ok());
                assert_eq!(items[1].as_ref().unwrap_err().error.code, INVALID_REQUEST);
            }
            Decoded::Single(_) => panic!("not a batch"),
        }
        assert!(matches!(decode(b" []"), Decoded::Batch(v) if v.is_empty()));
    }

    #[test]
    fn encodes_without_null_ids() {
        let line = encode_error(None, &ErrorObject::parse_error("x"));
        assert!(!String::from_utf8_lossy(&line).contains("\"id\""));
        let line = encode_result(&RequestId::String("a".into()), &serde_json::json!({}));
        assert_eq!(line, br#"{"jsonrpc":"2.0","id":"a","result":{}}"#);
    }
}
