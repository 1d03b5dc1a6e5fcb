//! oxmcp: a Model Context Protocol SDK and runtime.
//!
//! - [`server`]: build a server from tools, resources and prompts, and serve it.
//! - [`transport`]: stdio (more to come).
//! - [`model`]: the wire model (re-exported from `oxmcp-proto`).
//!
//! The protocol itself (codec, session rules, bounds) lives in the I/O-free `oxmcp-proto`
//! crate; this crate drives it with tokio.

pub mod client;
pub mod connection;
pub mod error;
pub mod guard;
mod inline;
pub mod observe;
mod outbox;
pub mod server;
mod time;
pub mod transport;

pub use error::{Error, InputError};
/// Attributes that turn an `async fn` into a tool, prompt or resource (see `oxmcp-macros`).
pub use oxmcp_macros::{prompt, resource, tool};
pub use oxmcp_proto as proto;
pub use oxmcp_proto::model;
pub use oxmcp_proto::{ErrorObject, ProtocolVersion, RequestId};
pub use server::{Context, Prompt, Resource, ResourceTemplate, Server, ServerOptions, Tool};

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
