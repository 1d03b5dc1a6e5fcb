//! The official TypeScript SDK client drives the conformance fixture server over stdio:
//! every tool, resource and prompt; progress; cancellation of `test_slow`; sampling,
//! elicitation and roots requests answered by the client; tasks (create, poll, result,
//! cancel another).

#[test]
fn typescript_sdk_client_drives_the_fixture_server() {
    oxmcp_testkit::run_interop_scenario(
        "fixture",
        &[env!("CARGO_BIN_EXE_oxmcp-conformance-server"), "--stdio"],
    );
}
