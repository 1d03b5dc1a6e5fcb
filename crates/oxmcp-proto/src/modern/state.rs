//! `requestState`: what a handler carries from one round of a multi round-trip request to
//! the next, sealed so the client can only echo it.
//!
//! The token is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`. The payload
//! binds the state to the method, a digest of the call's target and arguments (a state
//! cannot be replayed on another call) and an expiry; it holds the answers of earlier
//! rounds and the handler's own values. Keys come from configuration so every node of a
//! deployment accepts every other node's state; the previous key is still accepted while
//! a new one rolls out. A forged, altered, expired or misapplied state is -32602.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::ErrorObject;

/// The largest `requestState` accepted or produced (256 KiB).
pub const MAX_STATE_BYTES: usize = 256 * 1024;

/// What survives between rounds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundState {
    /// Answers of earlier rounds, by input key.
    #[serde(rename = "a", default)]
    pub answers: Map<String, Value>,
    /// The handler's own values ([`set_state`](crate) in the SDK), by key.
    #[serde(rename = "s", default)]
    pub values: Map<String, Value>,
    /// How many rounds came before this one.
    #[serde(rename = "r", default)]
    pub round: u32,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    v: u8,
    /// The call this state belongs to: SHA-256 of method, target and arguments.
    d: String,
    /// Expiry, Unix milliseconds.
    x: u64,
    #[serde(flatten)]
    state: RoundState,
}

/// Seals and opens `requestState` under a current key and, for rotation, a previous one.
#[derive(Clone)]
pub struct StateCodec {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for StateCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateCodec { keys: <redacted> }")
    }
}

/// Writes `v` as JSON with object keys sorted, so equal values digest equally whatever
/// order the client serialised them in.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push(':');
                if let Some(x) = m.get(k) {
                    canonical(x, out);
                }
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The digest that binds a state to one call: method, target (tool or prompt name,
/// resource URI) and arguments (absent and `{}` digest alike).
pub fn call_digest(method: &str, target: &str, arguments: Option<&Value>) -> String {
    let mut text = String::new();
    canonical(
        &Value::Array(vec![
            method.into(),
            target.into(),
            arguments
                .filter(|a| !a.is_null())
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
        ]),
        &mut text,
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

impl StateCodec {
    /// A codec signing with `current` and also accepting `previous`.
    pub fn new(current: impl Into<Vec<u8>>, previous: Option<Vec<u8>>) -> Self {
        StateCodec {
            current: current.into(),
            previous,
        }
    }

    fn tag(key: &[u8], body: &[u8]) -> Option<Vec<u8>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
        mac.update(body);
        Some(mac.finalize().into_bytes().to_vec())
    }

    fn verify(key: &[u8], body: &[u8], tag: &[u8]) -> bool {
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).is_ok_and(|mut mac| {
            mac.update(body);
            mac.verify_slice(tag).is_ok()
        })
    }

    /// Seals `state` for the call `digest`, valid until `expires_ms` (Unix ms).
    pub fn seal(
        &self,
        digest: &str,
        expires_ms: u64,
        state: &RoundState,
    ) -> Result<String, ErrorObject> {
        let payload = Payload {
            v: 1,
            d: digest.to_owned(),
            x: expires_ms,
            state: state.clone(),
        };
        let body = serde_json::to_vec(&payload)
            .map_err(|e| ErrorObject::internal(format!("cannot encode requestState: {e}")))?;
        let tag = Self::tag(&self.current, &body)
            .ok_or_else(|| ErrorObject::internal("no usable requestState key"))?;
        let token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(tag)
        );
        if token.len() > MAX_STATE_BYTES {
            return Err(ErrorObject::internal(format!(
                "requestState of {} bytes exceeds the limit of {MAX_STATE_BYTES} bytes: the handler keeps too much between rounds",
                token.len()
            )));
        }
        Ok(token)
    }

    /// Opens a state the client echoed for the call `digest` at `now_ms`: -32602 if it was
    /// not sealed by this deployment, was altered, belongs to another call, or expired.
    pub fn open(&self, token: &str, digest: &str, now_ms: u64) -> Result<RoundState, ErrorObject> {
        let bad = |why: &str| ErrorObject::invalid_params(format!("invalid requestState: {why}"));
        if token.len() > MAX_STATE_BYTES {
            return Err(bad("longer than any state this server issues"));
        }
        let (body, tag) = token
            .split_once('.')
            .ok_or_else(|| bad("not a state this server issued"))?;
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| bad("not a state this server issued"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| bad("not a state this server issued"))?;
        let genuine = Self::verify(&self.current, &body, &tag)
            || self
                .previous
                .as_deref()
                .is_some_and(|k| Self::verify(k, &body, &tag));
        if !genuine {
            return Err(bad(
                "its signature does not match (altered, or sealed by another deployment)",
            ));
        }
        let payload: Payload =
            serde_json::from_slice(&body).map_err(|_| bad("unreadable payload"))?;
        if payload.d != digest {
            return Err(bad(
                "it belongs to another call (the method, name or arguments differ)",
            ));
        }
        if payload.x < now_ms {
            return Err(bad("it expired; repeat the call without requestState"));
        }
        Ok(payload.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> RoundState {
        let mut s = RoundState::default();
        s.answers
            .insert("step1".into(), serde_json::json!({"action":"accept"}));
        s.round = 1;
        s
    }

    #[test]
    fn a_sealed_state_opens_for_its_call_until_it_expires() {
        let c = StateCodec::new(b"k1".to_vec(), None);
        let d = call_digest("tools/call", "t", Some(&serde_json::json!({"b":1,"a":2})));
        let tok = c.seal(&d, 1000, &state()).unwrap();
        assert_eq!(c.open(&tok, &d, 999).unwrap(), state());
        // Key order of the arguments does not matter.
        let d2 = call_digest("tools/call", "t", Some(&serde_json::json!({"a":2,"b":1})));
        assert!(c.open(&tok, &d2, 999).is_ok());
        assert!(c.open(&tok, &d, 1001).is_err(), "expired");
        let other = call_digest("tools/call", "u", None);
        assert!(c.open(&tok, &other, 999).is_err(), "another call");
    }

    #[test]
    fn an_altered_or_foreign_state_is_refused_and_the_previous_key_still_opens() {
        let old = StateCodec::new(b"old".to_vec(), None);
        let d = call_digest("prompts/get", "p", None);
        let tok = old.seal(&d, 10, &state()).unwrap();
        let rotated = StateCodec::new(b"new".to_vec(), Some(b"old".to_vec()));
        assert!(rotated.open(&tok, &d, 0).is_ok());
        let stranger = StateCodec::new(b"other".to_vec(), None);
        let e = stranger.open(&tok, &d, 0).unwrap_err();
        assert_eq!(e.code, crate::error::INVALID_PARAMS);
        let mut bytes = tok.into_bytes();
        bytes[3] ^= 1;
        let forged = String::from_utf8(bytes).unwrap();
        assert!(old.open(&forged, &d, 0).is_err());
        assert!(old.open("garbage", &d, 0).is_err());
    }
}
