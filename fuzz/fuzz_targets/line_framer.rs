//! Fuzz target `line_framer`: see `oxmcp_testkit::fuzz::line_framer` for the input format and the checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oxmcp_testkit::fuzz::line_framer(data));
