//! The `oxmcp` binary's library side: the built-in demo server (so tests can run it in
//! process), `oxmcp call`, `oxmcp bench`, and the configuration and logs of `oxmcp serve`.

pub mod bench;
pub mod call;
pub mod config;
pub mod demo;
pub mod files;
pub mod logging;
pub mod telemetry;
