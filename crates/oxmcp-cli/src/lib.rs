//! The `oxmcp` binary's library side: the built-in demo server (so tests can run it in
//! process) and `oxmcp call`.

pub mod call;
pub mod demo;
pub mod files;
