//! The `oxmcp` binary's library side: the built-in demo server, so tests can run it in
//! process.

pub mod demo;
pub mod files;
