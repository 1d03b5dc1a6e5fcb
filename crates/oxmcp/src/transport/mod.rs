//! Transports: thin drivers that move frames and map their failures onto the core.

pub mod http;
pub mod stdio;
