//! Errors a handler returns, and errors of input calls to the client.

use oxmcp_proto::ErrorObject;

/// Why a handler failed.
///
/// In a tool, [`Error::Failed`] and [`Error::Input`] become an `isError: true` result whose
/// text is the error's message (the model sees it and can react); [`Error::Rpc`] is sent as a
/// JSON-RPC error. In other handlers every variant is a JSON-RPC error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A JSON-RPC error sent as is (e.g. invalid params, resource not found).
    #[error("{0}")]
    Rpc(ErrorObject),
    /// The handler failed; the message says why.
    #[error("{0}")]
    Failed(String),
    /// Input from the client (elicitation, sampling, roots) could not be had.
    #[error(transparent)]
    Input(#[from] InputError),
}

impl Error {
    /// The handler failed with this message.
    pub fn failed(message: impl Into<String>) -> Self {
        Error::Failed(message.into())
    }
    /// -32602 with this message.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Error::Rpc(ErrorObject::invalid_params(message))
    }
    /// -32002 (resource not found), with the URI in `data`.
    pub fn resource_not_found(uri: &str) -> Self {
        Error::Rpc(
            ErrorObject::new(
                oxmcp_proto::error::RESOURCE_NOT_FOUND,
                format!("resource not found: {uri}"),
            )
            .with_data(serde_json::json!({ "uri": uri })),
        )
    }
    /// The JSON-RPC error to send for this failure outside tools.
    pub fn to_error_object(&self) -> ErrorObject {
        match self {
            Error::Rpc(e) => e.clone(),
            Error::Failed(m) => ErrorObject::internal(m.clone()),
            Error::Input(e) => e.to_error_object(),
        }
    }
}

impl From<ErrorObject> for Error {
    fn from(e: ErrorObject) -> Self {
        Error::Rpc(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Failed(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Failed(e.to_string())
    }
}

/// Why an input call to the client (`ctx.elicit`, `ctx.sample`, `ctx.roots`) gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The client cannot take this request: it did not declare the capability, or the
    /// negotiated revision lacks it.
    #[error("client input unavailable: {}", .0.message)]
    Unsupported(ErrorObject),
    /// Too many server-to-client requests are pending.
    #[error("{}", .0.message)]
    Overloaded(ErrorObject),
    /// The client answered with an error.
    #[error("the client answered with an error: {}", .0.message)]
    Client(ErrorObject),
    /// The client did not answer in time.
    #[error("{}", .0.message)]
    Timeout(ErrorObject),
    /// The client's answer did not fit the expected result type.
    #[error("the client's answer is malformed: {0}")]
    Malformed(String),
    /// The connection closed before the client answered.
    #[error("the connection closed before the client answered")]
    Closed,
    /// 2026-07-28: the answer to this key has not arrived yet. The handler should return
    /// (propagate with `?`): the client gets an `input_required` result, answers, and
    /// repeats the call, which runs the handler again with the answer available.
    #[error("input {0:?} is required: the client will answer and repeat the request")]
    Required(String),
}

impl InputError {
    /// The JSON-RPC error that stands for this failure.
    pub fn to_error_object(&self) -> ErrorObject {
        match self {
            InputError::Unsupported(e) | InputError::Overloaded(e) => e.clone(),
            other => ErrorObject::internal(other.to_string()),
        }
    }
}
