//! The Model Context Protocol without I/O.
//!
//! Wire models, the JSON-RPC codec, line framing and the session engine as plain data and
//! functions: no sockets, no tasks, no clock of its own. The `oxmcp` crate drives it.
#![forbid(unsafe_code)]

pub mod client;
pub mod cursor;
pub mod error;
pub mod framing;
pub mod jsonrpc;
pub mod model;
pub mod modern;
pub mod needle;
pub mod session;
pub mod version;

pub use error::ErrorObject;
pub use jsonrpc::RequestId;
pub use version::ProtocolVersion;
