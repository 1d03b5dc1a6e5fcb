//! What a client call can fail with.

use oxmcp_proto::ErrorObject;

/// Why a client call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with a JSON-RPC error (or the request was refused before it was
    /// sent, e.g. for a capability the server did not declare).
    #[error("{0}")]
    Rpc(ErrorObject),
    /// No answer within the timeout; the server was sent `notifications/cancelled`.
    #[error("{0}")]
    Timeout(String),
    /// The connection ended before the answer (the message says how: e.g. the server
    /// process exited, with its status).
    #[error("connection closed: {0}")]
    Closed(String),
    /// The server's answer did not fit the expected type.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// Starting the transport failed (e.g. the server program could not be spawned).
    #[error("transport: {0}")]
    Transport(String),
}

impl ClientError {
    /// The JSON-RPC error, if the server sent one.
    pub fn rpc(&self) -> Option<&ErrorObject> {
        match self {
            ClientError::Rpc(e) => Some(e),
            _ => None,
        }
    }
}
