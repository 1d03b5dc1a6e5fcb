//! Quick looks at a message's bytes before a parse: most messages lack what a probe looks
//! for, and finding that out costs one vectorised scan instead of a JSON parse.

use std::sync::OnceLock;

use memchr::memmem::Finder;

/// Bytes to look for, with their searcher built once, on first use (a `static` can hold
/// one: `static KEY: Needle = Needle::new(b"…");`).
pub struct Needle {
    bytes: &'static [u8],
    finder: OnceLock<Finder<'static>>,
}

impl Needle {
    /// A needle for `bytes`.
    pub const fn new(bytes: &'static [u8]) -> Self {
        Needle {
            bytes,
            finder: OnceLock::new(),
        }
    }

    /// Whether `haystack` holds the bytes as they are.
    pub fn is_in(&self, haystack: &[u8]) -> bool {
        self.finder
            .get_or_init(|| Finder::new(self.bytes))
            .find(haystack)
            .is_some()
    }

    /// Whether a parse of the JSON text `json` could find the bytes in a key or a string:
    /// they are there as they are, or something in the text is escaped (JSON may spell any
    /// character with an escape). `false` means no parse would find them.
    pub fn may_be_in_json(&self, json: &[u8]) -> bool {
        memchr::memchr(b'\\', json).is_some() || self.is_in(json)
    }
}

impl std::fmt::Debug for Needle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Needle")
            .field(&String::from_utf8_lossy(self.bytes))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_escape_anywhere_keeps_the_parse_and_plain_absence_skips_it() {
        static META: Needle = Needle::new(b"_meta");
        assert!(META.may_be_in_json(br#"{"_meta":{"progressToken":1}}"#));
        assert!(META.may_be_in_json(br#"{"\u005fmeta":{"progressToken":1}}"#));
        assert!(!META.may_be_in_json(br#"{"name":"echo","arguments":{"message":"hi"}}"#));
        assert!(META.is_in(b"x_metay"));
        assert!(!META.is_in(br#"{"\u005fmeta":1}"#));
    }
}
