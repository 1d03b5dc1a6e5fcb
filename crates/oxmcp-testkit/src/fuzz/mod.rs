//! The entries of the fuzz targets (`fuzz/fuzz_targets/*.rs`), kept here so that the
//! committed corpus replays as an ordinary test on stable (`tests/fuzz_corpus.rs`) without
//! building the fuzz targets.
//!
//! Each entry takes arbitrary bytes, drives one piece of oxmcp with them and checks what
//! it can cheaply check: it panics only to report a broken invariant (or a bug that
//! panicked inside oxmcp), never because the input was bad.
//!
//! | entry | drives | checks |
//! |---|---|---|
//! | [`line_framer`] | `oxmcp_proto::framing::LineFramer`, fed in chunks | the frames equal a plain split of the input, whatever the chunking; no frame over the limit; the buffer never over the limit |
//! | [`jsonrpc`] | `oxmcp_proto::jsonrpc::decode` and `Session::handle_frame` | anything accepted re-encodes and decodes to the same message; every refusal encodes as a JSON-RPC error with the right id and a code of the table; the session answers each request exactly once, never with `"id": null` |
//! | [`era`] | `oxmcp_proto::modern::era_of` and the 2026-07-28 ladder | the era agrees with a full parse of the body; a modern version header always wins; a modern body reaches the ladder with its `_meta`; the routing headers a client writes are the ones the server accepts |
//! | [`http_front`] | `oxmcp::transport::http::HttpService::handle` | every status is one of the documented table; refusals carry a JSON-RPC error (and `Retry-After` on 429/503); nothing panics; the service still answers a good request afterwards |

mod era;
mod framer;
mod http_front;
mod jsonrpc;
mod strict;

pub use era::era;
pub use framer::line_framer;
pub use http_front::http_front;
pub use jsonrpc::jsonrpc;

/// A fuzz entry: takes any bytes, panics only on a broken invariant.
pub type Entry = fn(&[u8]);

/// The fuzz targets, by the name of their entry, their `fuzz/corpus/` folder and their
/// `fuzz/fuzz_targets/` file.
pub const TARGETS: [(&str, Entry); 4] = [
    ("line_framer", line_framer),
    ("jsonrpc", jsonrpc),
    ("era", era),
    ("http_front", http_front),
];
