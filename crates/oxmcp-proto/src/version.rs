//! Protocol revisions and `initialize` version negotiation.

use std::fmt;

/// A protocol revision oxmcp speaks.
///
/// Ordered by date, so `v >= ProtocolVersion::V2025_06_18` reads as "has everything
/// 2025-06-18 added".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// The first public revision (HTTP+SSE transport, no audio, no batching).
    V2024_11_05,
    /// Streamable HTTP, JSON-RPC batches, audio content, tool annotations.
    V2025_03_26,
    /// Structured tool output, elicitation, resource links, titles; batches removed.
    V2025_06_18,
    /// Tasks, URL elicitation, sampling with tools, icons.
    V2025_11_25,
    /// The stateless revision: no `initialize`, `server/discover` instead.
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every revision that `initialize` may settle on, oldest first.
    pub const LEGACY: [ProtocolVersion; 4] = [
        ProtocolVersion::V2024_11_05,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_11_25,
    ];

    /// The newest revision that `initialize` negotiates; also the counter-offer to a client
    /// that asked for a revision we do not speak.
    pub const LATEST_LEGACY: ProtocolVersion = ProtocolVersion::V2025_11_25;

    /// The revision string as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2024_11_05 => "2024-11-05",
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }

    /// Parses a revision string; `None` for one oxmcp does not speak.
    pub fn parse(s: &str) -> Option<ProtocolVersion> {
        Some(match s {
            "2024-11-05" => ProtocolVersion::V2024_11_05,
            "2025-03-26" => ProtocolVersion::V2025_03_26,
            "2025-06-18" => ProtocolVersion::V2025_06_18,
            "2025-11-25" => ProtocolVersion::V2025_11_25,
            "2026-07-28" => ProtocolVersion::V2026_07_28,
            _ => return None,
        })
    }

    /// Whether JSON-RPC batches must be accepted from the peer (only 2025-03-26 has them).
    pub fn allows_batches(self) -> bool {
        self == ProtocolVersion::V2025_03_26
    }

    /// The revision an `initialize` request asking for `requested` settles on.
    ///
    /// A legacy revision we speak is accepted as asked; anything else (an unknown string,
    /// or the stateless 2026-07-28, which has no `initialize`) gets the newest legacy
    /// revision as the counter-offer, as the lifecycle section of the spec says.
    pub fn negotiate(requested: &str) -> ProtocolVersion {
        match ProtocolVersion::parse(requested) {
            Some(v) if ProtocolVersion::LEGACY.contains(&v) => v,
            _ => ProtocolVersion::LATEST_LEGACY,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ProtocolVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_accepts_every_legacy_revision_and_counter_offers_the_rest() {
        for v in ProtocolVersion::LEGACY {
            assert_eq!(ProtocolVersion::negotiate(v.as_str()), v);
        }
        assert_eq!(
            ProtocolVersion::negotiate("2099-01-01"),
            ProtocolVersion::V2025_11_25
        );
        assert_eq!(
            ProtocolVersion::negotiate("2026-07-28"),
            ProtocolVersion::V2025_11_25
        );
        assert_eq!(ProtocolVersion::negotiate(""), ProtocolVersion::V2025_11_25);
    }

    #[test]
    fn only_2025_03_26_has_batches() {
        let with: Vec<_> = ProtocolVersion::LEGACY
            .into_iter()
            .filter(|v| v.allows_batches())
            .collect();
        assert_eq!(with, vec![ProtocolVersion::V2025_03_26]);
    }
}
