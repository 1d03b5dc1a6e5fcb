//! Fuzz target `jsonrpc`: see `oxmcp_testkit::fuzz::jsonrpc` for the input format and the checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oxmcp_testkit::fuzz::jsonrpc(data));
