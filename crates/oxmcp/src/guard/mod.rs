//! Guards: the limits that keep one client from starving the others.
//!
//! HTTP-edge guards (connections, per-IP and per-principal rates, body and header sizes)
//! act in the HTTP transport before a request is read; MCP guards (in-flight requests in
//! total, per-session rate, per-tool timeout, circuit breaker) are try-acquire checks in
//! the dispatcher, so every transport has them. Every refusal is counted in
//! `oxmcp_rejections_total{reason}` ([`crate::observe::metrics::Reject`]).

pub mod breaker;
pub(crate) mod load;
pub(crate) mod per_ip;
pub mod rate;

pub use breaker::BreakerPolicy;
pub use rate::{Principal, Rate};
