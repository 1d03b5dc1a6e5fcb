//! 10,000 Streamable HTTP sessions created and abandoned (each with a tool call whose SSE
//! reply the client dropped before reading its end): once the idle TTL passes on the
//! injected clock, every gauge reads 0 and the live heap is back where the first round
//! left it. Alone in its test binary: the counting allocator sees the whole process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::http::{initialize, post};
use http::StatusCode;
use oxmcp::model::CallToolResult;
use oxmcp::server::{Server, Tool};
use oxmcp::transport::http::{HttpOptions, HttpService, HttpStats};
use oxmcp_testkit::alloc::{self, Counting};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[global_allocator]
static ALLOC: Counting = Counting;

const SESSIONS: usize = 10_000;
const TTL: Duration = Duration::from_secs(60);

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

async fn round(svc: &HttpService) {
    for i in 0..SESSIONS {
        let sid = initialize(svc, "2025-11-25").await;
        let call = json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{
            "name":"chatty","arguments":{},"_meta":{"progressToken":i}}});
        let resp = post(svc, Some(&sid), call).await;
        assert_eq!(resp.status(), StatusCode::OK);
        // The client goes away without reading the reply.
        drop(resp);
    }
    assert_eq!(svc.stats().sessions, SESSIONS);
    tokio::time::advance(TTL).await;
    for _ in 0..1_000 {
        if svc.stats().sessions == 0 {
            break;
        }
        tokio::time::sleep(TTL / 8).await;
    }
    let st = svc.stats();
    assert_eq!(
        (
            st.sessions,
            st.streams,
            st.held_streams,
            st.in_flight,
            st.pending_outgoing,
            st.handler_tasks
        ),
        (0, 0, 0, 0, 0, 0),
        "{st:?}"
    );
    assert_eq!(st, HttpStats::default());
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_abandoned_sessions_leave_nothing_behind() {
    let server = Server::builder("http-sessions", "0")
        .tool(Tool::new(
            "chatty",
            "One progress message, then the answer.",
            |_: NoArgs, ctx| async move {
                ctx.progress(1.0, None, None).await?;
                Ok(CallToolResult::text("done"))
            },
        ))
        .build();
    let mut opts = HttpOptions::default();
    opts.session_ttl = TTL;
    opts.max_sessions = SESSIONS;
    let svc = HttpService::new(server, opts);

    round(&svc).await;
    let warm = alloc::current();
    round(&svc).await;
    let second = alloc::current();
    round(&svc).await;
    let third = alloc::current();
    println!("live heap after rounds: {warm} / {second} / {third} bytes");
    assert!(
        second <= warm + 64 * 1024,
        "the second round left {} bytes more than the first",
        second.saturating_sub(warm)
    );
    assert!(
        third <= second,
        "the third round raised the heap by {} bytes",
        third - second
    );
}
