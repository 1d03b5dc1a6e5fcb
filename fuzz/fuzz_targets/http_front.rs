//! Fuzz target `http_front`: see `oxmcp_testkit::fuzz::http_front` for the input format and the checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oxmcp_testkit::fuzz::http_front(data));
