//! While a 64 MiB line is skipped, the peak heap grows by at most twice the line limit.
//! Alone in its test binary: the counting allocator sees every allocation of the process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use oxmcp_testkit::alloc::{self, Counting};
use serde_json::json;

#[global_allocator]
static ALLOC: Counting = Counting;

#[tokio::test]
async fn skipping_a_64_mib_line_holds_at_most_twice_the_limit() {
    let (server, _) = common::fixture(common::options());
    let limit = server.options().max_line;
    let (mut c, _task) = common::start(server);
    c.initialize("2025-11-25", json!({})).await;
    let chunk = vec![b'x'; 64 * 1024];
    let baseline = alloc::current();
    alloc::reset_peak();
    c.send_raw(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":""#).await;
    for _ in 0..(64 * 16) {
        c.send_raw(&chunk).await;
    }
    c.send_raw(b"\"}}}\n").await;
    let resp = c.recv().await.unwrap();
    assert_eq!(resp["error"]["code"], -32600);
    let growth = alloc::peak().saturating_sub(baseline);
    assert!(
        growth <= 2 * limit,
        "peak heap grew by {growth} bytes; the bound is {}",
        2 * limit
    );
    // And the session still serves.
    let (resp, _) = c
        .request(
            json!(2),
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "ok" } }),
        )
        .await;
    assert_eq!(resp["result"]["content"][0]["text"], "ok");
}
