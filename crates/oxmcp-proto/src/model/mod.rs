//! The wire model of the legacy revisions (2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25).
//!
//! One set of types, shaped after the newest legacy revision (2025-11-25), which is a
//! superset of the older ones: every field an older revision lacks is optional here. What
//! goes out to a peer that negotiated an older revision is serialised from these types and
//! then passed through [`downgrade`], which removes or rewrites what that revision's schema
//! does not know (see the module for the rules). The stateless 2026-07-28 revision has its
//! own model.
//!
//! Conventions, the same for every type:
//!
//! - field names are the wire names in `camelCase`; `_meta` is the field `meta`;
//! - optional fields are `Option`s and are left out of the JSON when `None`;
//! - unknown fields are ignored when decoding (peers may speak a newer revision);
//! - every struct has public fields, so it can be built with `..Default::default()` where
//!   it implements [`Default`]; convenience constructors exist where a server author needs
//!   them ([`ContentBlock::text`], [`CallToolResult::structured`], [`Tool::new`], …).
//!
//! The method names of every revision are in [`methods`].

pub mod completion;
pub mod content;
pub mod downgrade;
pub mod elicitation;
pub mod initialize;
pub mod logging;
pub mod methods;
pub mod notifications;
pub mod pagination;
pub mod prompts;
pub mod resources;
pub mod roots;
pub mod sampling;
pub mod tasks;
pub mod tools;

pub use completion::*;
pub use content::*;
pub use elicitation::*;
pub use initialize::*;
pub use logging::*;
pub use notifications::*;
pub use pagination::*;
pub use prompts::*;
pub use resources::*;
pub use roots::*;
pub use sampling::*;
pub use tasks::*;
pub use tools::*;

/// The `_meta` object that most requests, results, notifications and model types carry:
/// free-form metadata passed through as is.
pub type Meta = serde_json::Map<String, serde_json::Value>;

/// A JSON object kept as is: JSON Schemas (`inputSchema`, `requestedSchema`), structured
/// tool output, and the empty `{}` objects that mark a capability as present.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;
