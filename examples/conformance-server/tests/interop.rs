//! The official TypeScript SDK client drives the conformance fixture server, over stdio and
//! over Streamable HTTP in each server mode: every tool, resource and prompt; progress;
//! cancellation of `test_slow`; sampling, elicitation and roots requests answered by the
//! client; tasks (create, poll, result, cancel another). Where a mode cannot do one of these
//! (JSON replies, no session), the harness's `fixture-*` scenario says what it checks
//! instead and why (tests/interop/README.md).
//!
//! One server process also serves both official clients, one after the other: the SDK 2.x
//! client (`@modelcontextprotocol/client`, which negotiates 2026-07-28) and the 1.x client
//! (the handshake revisions).
//!
//! Each test drives a server for several seconds with many requests; on a 2-core CI runner
//! they run one at a time (`SERIAL`).

use std::sync::Mutex;

use oxmcp_testkit::{
    HttpChild, run_interop_client2, run_interop_scenario, run_interop_scenario_http,
    run_interop_scenario_url,
};

/// Held by each test for its whole run: the wire tests must not run concurrently.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    // A failed test poisons the lock; the others must still run, one at a time.
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const SERVER: &str = env!("CARGO_BIN_EXE_oxmcp-conformance-server");

#[test]
fn typescript_sdk_client_drives_the_fixture_server() {
    let _one = serial();
    run_interop_scenario("fixture", &[SERVER, "--stdio"]);
}

/// Stateful with SSE replies (the default): the whole `fixture` scenario, as over stdio.
#[test]
fn typescript_sdk_client_over_http_stateful_sse() {
    let _one = serial();
    run_interop_scenario_http("fixture", &[SERVER, "--listen", "127.0.0.1:0"]);
}

/// Stateful, JSON-only replies: related notifications and requests to the client travel
/// on the GET stream.
#[test]
fn typescript_sdk_client_over_http_stateful_json() {
    let _one = serial();
    run_interop_scenario_http(
        "fixture-json",
        &[SERVER, "--listen", "127.0.0.1:0", "--json"],
    );
}

/// Stateless, SSE replies: no requests to the client; cancellation by disconnect.
#[test]
fn typescript_sdk_client_over_http_stateless() {
    let _one = serial();
    run_interop_scenario_http(
        "fixture-stateless",
        &[SERVER, "--listen", "127.0.0.1:0", "--stateless"],
    );
}

/// Stateless, JSON-only replies: no stream at all for progress or logs.
#[test]
fn typescript_sdk_client_over_http_stateless_json() {
    let _one = serial();
    run_interop_scenario_http(
        "fixture-stateless-json",
        &[SERVER, "--listen", "127.0.0.1:0", "--stateless", "--json"],
    );
}

/// The TypeScript SDK 2.x client (2026-07-28) and the 1.x client (2025-11-25), against one
/// and the same running server; then the server exits cleanly on SIGTERM.
#[test]
fn typescript_sdk_2_and_1_clients_share_one_running_server() {
    let _one = serial();
    let server = HttpChild::spawn(SERVER, &["--listen", "127.0.0.1:0"]);
    run_interop_client2(&server.url);
    run_interop_scenario_url("fixture", &server.url);
    run_interop_client2(&server.url);
    let status = server.terminate();
    assert!(
        status.success(),
        "the server did not exit cleanly: {status}"
    );
}
