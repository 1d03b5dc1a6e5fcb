//! Opaque, tamper-evident pagination cursors.
//!
//! A cursor names a position in one list (tools, resources, templates, prompts, tasks) and
//! carries a truncated HMAC-SHA256 tag under a key the server holds, so a client can only
//! send back cursors the server made. A forged, truncated or cross-list cursor is an
//! invalid-params error (-32602).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::ErrorObject;

const TAG_LEN: usize = 12;

/// Which list a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[non_exhaustive]
pub enum ListKind {
    /// `tools/list`.
    Tools = 1,
    /// `resources/list`.
    Resources = 2,
    /// `resources/templates/list`.
    ResourceTemplates = 3,
    /// `prompts/list`.
    Prompts = 4,
    /// `tasks/list`.
    Tasks = 5,
}

/// Makes and checks cursors under one key.
#[derive(Clone)]
pub struct CursorCodec {
    key: [u8; 32],
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec { key: <redacted> }")
    }
}

impl CursorCodec {
    /// A codec with a secret key (the runtime draws it from the OS's CSPRNG).
    pub fn new(key: [u8; 32]) -> Self {
        CursorCodec { key }
    }

    fn tag(&self, body: &[u8]) -> [u8; TAG_LEN] {
        let mut out = [0u8; TAG_LEN];
        // A 32-byte key is always a valid HMAC key.
        if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key) {
            mac.update(body);
            let full = mac.finalize().into_bytes();
            out.copy_from_slice(&full[..TAG_LEN]);
        }
        out
    }

    /// The cursor for "continue after `position`" in list `kind`.
    pub fn encode(&self, kind: ListKind, position: u64) -> String {
        let mut raw = [0u8; 9 + TAG_LEN];
        raw[0] = kind as u8;
        raw[1..9].copy_from_slice(&position.to_be_bytes());
        let tag = self.tag(&raw[..9]);
        raw[9..].copy_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The position a cursor of list `kind` names, or the -32602 error to send.
    pub fn decode(&self, kind: ListKind, cursor: &str) -> Result<u64, ErrorObject> {
        let invalid = || {
            ErrorObject::invalid_params("invalid cursor: not one this server issued for this list")
        };
        let raw = URL_SAFE_NO_PAD
            .decode(cursor.as_bytes())
            .map_err(|_| invalid())?;
        if raw.len() != 9 + TAG_LEN || raw[0] != kind as u8 {
            return Err(invalid());
        }
        let tag = self.tag(&raw[..9]);
        // Constant-time comparison of the tag.
        let diff = tag
            .iter()
            .zip(&raw[9..])
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return Err(invalid());
        }
        let mut pos = [0u8; 8];
        pos.copy_from_slice(&raw[1..9]);
        Ok(u64::from_be_bytes(pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_forgeries() {
        let c = CursorCodec::new([7; 32]);
        let s = c.encode(ListKind::Tools, 42);
        assert_eq!(c.decode(ListKind::Tools, &s), Ok(42));
        assert!(c.decode(ListKind::Prompts, &s).is_err(), "cross-list");
        assert!(
            CursorCodec::new([8; 32])
                .decode(ListKind::Tools, &s)
                .is_err(),
            "other key"
        );
        let mut forged = s.into_bytes();
        forged[3] = if forged[3] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(
            c.decode(ListKind::Tools, &forged).unwrap_err().code,
            crate::error::INVALID_PARAMS
        );
        assert!(c.decode(ListKind::Tools, "").is_err());
        assert!(c.decode(ListKind::Tools, "not base64!").is_err());
    }
}
