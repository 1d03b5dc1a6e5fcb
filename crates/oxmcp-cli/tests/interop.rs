//! The official TypeScript SDK client drives `oxmcp serve --stdio`: lists and calls every
//! demo tool, checks argument errors, progress, and cancels a slow call.

#[test]
fn typescript_sdk_client_drives_the_demo_server() {
    oxmcp_testkit::run_interop_scenario("demo", &[env!("CARGO_BIN_EXE_oxmcp"), "serve", "--stdio"]);
}
