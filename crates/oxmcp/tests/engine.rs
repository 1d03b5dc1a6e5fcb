//! The session engine and server SDK, end to end over an in-memory duplex with tokio's
//! paused clock: no sockets, no sleeps. Every message the server sends is validated against
//! the negotiated revision's schema by the test kit's `WireCheck`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use oxmcp::server::ServerOptions;
use serde_json::{Value, json};

const REVISIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

fn text_of(resp: &Value) -> String {
    resp["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn code(resp: &Value) -> i64 {
    resp["error"]["code"].as_i64().unwrap_or(0)
}

async fn ready(version: &str) -> (Client, Started, oxmcp::Server) {
    ready_with(version, options(), json!({})).await
}

async fn ready_with(
    version: &str,
    opts: ServerOptions,
    caps: Value,
) -> (Client, Started, oxmcp::Server) {
    let (server, started) = fixture(opts);
    let (mut c, _task) = start(server.clone());
    let init = c.initialize(version, caps).await;
    assert_eq!(init["protocolVersion"], version);
    (c, started, server)
}

#[tokio::test(start_paused = true)]
async fn negotiates_each_revision_and_counter_offers_unknown_ones() {
    for v in REVISIONS {
        let (server, _) = fixture(options());
        let (mut c, _) = start(server);
        let result = c.initialize(v, json!({})).await;
        assert_eq!(result["protocolVersion"], v);
        assert_eq!(result["serverInfo"]["name"], "fixture");
        assert!(result["capabilities"]["tools"].is_object());
        // Revision-specific shape: completions and structured tools only where they exist.
        let (list, _) = c.request(json!(1), "tools/list", json!({})).await;
        let add = list["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "add")
            .unwrap()
            .clone();
        assert_eq!(
            add.get("outputSchema").is_some(),
            v >= "2025-06-18",
            "{v}: {add}"
        );
    }
    for asked in ["1999-01-01", "2026-07-28", "latest"] {
        let (server, _) = fixture(options());
        let (mut c, _) = start(server);
        let (resp, _) = c
            .request(json!("i"), "initialize", json!({ "protocolVersion": asked, "capabilities": {}, "clientInfo": { "name": "x", "version": "1" } }))
            .await;
        assert_eq!(
            resp["result"]["protocolVersion"], "2025-11-25",
            "counter-offer to {asked}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn lifecycle_rules() {
    let (server, _) = fixture(options());
    let (mut c, _) = start(server);
    // Before initialize: ping is answered, anything else gets an error carrying its id.
    let (resp, _) = c.request(json!(1), "ping", json!({})).await;
    assert_eq!(resp["result"], json!({}));
    let (resp, _) = c.request(json!("early"), "tools/list", json!({})).await;
    assert_eq!((code(&resp), resp["id"].clone()), (-32600, json!("early")));
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("initialize")
    );
    // Initialize, and be served before notifications/initialized arrives.
    let (resp, _) = c
        .request(json!(2), "initialize", json!({ "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "x", "version": "1" } }))
        .await;
    assert_eq!(resp["result"]["protocolVersion"], "2025-11-25");
    let (resp, _) = c
        .request(
            json!(3),
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "hi" } }),
        )
        .await;
    assert_eq!(text_of(&resp), "hi");
    // A second initialize is refused; the session keeps its revision.
    let (resp, _) = c
        .request(json!(4), "initialize", json!({ "protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": { "name": "x", "version": "1" } }))
        .await;
    assert_eq!(code(&resp), -32600);
    // Unknown methods: -32601 naming the method.
    let (resp, _) = c.request(json!(5), "no/such", json!({})).await;
    assert_eq!(code(&resp), -32601);
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no/such")
    );
}

#[tokio::test(start_paused = true)]
async fn capability_gating_both_ways() {
    // Server side: a server without prompts or tasks refuses those methods.
    let server = oxmcp::Server::builder("bare", "1").enable_tools().build();
    let (mut c, _) = start(server);
    let init = c.initialize("2025-11-25", json!({})).await;
    assert!(init["capabilities"].get("prompts").is_none());
    for (i, m) in [
        "prompts/list",
        "resources/list",
        "resources/subscribe",
        "completion/complete",
        "tasks/list",
    ]
    .iter()
    .enumerate()
    {
        let (resp, _) = c.request(json!(i), m, json!({})).await;
        assert_eq!(code(&resp), -32601, "{m}");
    }
    // Tasks do not exist before 2025-11-25.
    let (mut c, _, _) = ready("2025-06-18").await;
    let (resp, _) = c.request(json!(1), "tasks/list", json!({})).await;
    assert_eq!(code(&resp), -32601);
    // Client side: no elicitation capability → the tool's input call fails, the tool says why.
    let (mut c, _, _) = ready("2025-11-25").await;
    let (resp, _) = c
        .request(
            json!(2),
            "tools/call",
            json!({ "name": "ask", "arguments": {} }),
        )
        .await;
    assert_eq!(resp["result"]["isError"], true);
    assert!(text_of(&resp).contains("elicitation"), "{resp}");
    // Elicitation does not exist on 2025-03-26, whatever the client declares.
    let (mut c, _, _) = ready_with(
        "2025-03-26",
        options(),
        json!({ "elicitation": {}, "roots": {} }),
    )
    .await;
    let (resp, _) = c
        .request(
            json!(3),
            "tools/call",
            json!({ "name": "ask", "arguments": {} }),
        )
        .await;
    assert_eq!(resp["result"]["isError"], true);
    assert!(text_of(&resp).contains("2025-06-18"), "{resp}");
}

#[tokio::test(start_paused = true)]
async fn cancellation_drops_the_handler_and_sends_nothing() {
    let (mut c, mut started, server) = ready("2025-11-25").await;
    c.send(json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": { "name": "block", "arguments": {} } })).await;
    let dropped = started.recv().await.unwrap();
    assert_eq!(server.stats().1.in_flight, 1);
    c.send(json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 7, "reason": "test" } })).await;
    // The handler's future is dropped…
    assert!(dropped.await.is_err(), "the handler future was dropped");
    // …and nothing is written for request 7: the next message is the answer to ping.
    let (resp, before) = c.request(json!(8), "ping", json!({})).await;
    assert_eq!(resp["result"], json!({}));
    assert!(
        before.is_empty(),
        "nothing was sent for the cancelled request: {before:?}"
    );
    let (_, stats) = server.stats();
    assert_eq!((stats.in_flight, stats.handler_tasks), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn progress_arrives_before_the_result() {
    let (mut c, _, _) = ready("2025-11-25").await;
    let (resp, before) = c
        .request(json!(1), "tools/call", json!({ "name": "slow", "arguments": { "seconds": 3 }, "_meta": { "progressToken": "tok" } }))
        .await;
    assert_eq!(text_of(&resp), "slept 3");
    let progress: Vec<f64> = before
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .map(|m| {
            assert_eq!(m["params"]["progressToken"], "tok");
            assert_eq!(m["params"]["total"], 3.0);
            m["params"]["progress"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(progress, vec![1.0, 2.0, 3.0]);
    // Without a token, no progress is sent.
    let (_, before) = c
        .request(
            json!(2),
            "tools/call",
            json!({ "name": "slow", "arguments": { "seconds": 2 } }),
        )
        .await;
    assert!(before.is_empty());
}

#[tokio::test(start_paused = true)]
async fn deadlines_abort_the_handler_and_answer() {
    let mut opts = options();
    opts.limits.request_timeout = Some(Duration::from_secs(10));
    let (mut c, mut started, server) = ready_with("2025-11-25", opts, json!({})).await;
    c.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "block", "arguments": {} } })).await;
    let dropped = started.recv().await.unwrap();
    let resp = c.recv().await.unwrap();
    assert_eq!(resp["id"], 1);
    assert_eq!(resp["result"]["isError"], true);
    assert!(
        text_of(&resp).contains("10000 ms"),
        "names the limit: {resp}"
    );
    assert!(dropped.await.is_err());
    assert_eq!(server.stats().1.in_flight, 0);
    // A tool that finishes in time is unaffected.
    let (resp, _) = c
        .request(
            json!(2),
            "tools/call",
            json!({ "name": "slow", "arguments": { "seconds": 5 } }),
        )
        .await;
    assert_eq!(text_of(&resp), "slept 5");
}

#[tokio::test(start_paused = true)]
async fn a_handler_that_panics_fails_its_request_and_the_session_goes_on() {
    let (mut c, _started, server) = ready("2025-11-25").await;
    let (resp, _) = c
        .request(
            json!(1),
            "tools/call",
            json!({ "name": "panic", "arguments": {} }),
        )
        .await;
    assert_eq!(code(&resp), -32603, "{resp}");
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tools/call"),
        "names what failed: {resp}"
    );
    assert_eq!(server.stats().1.in_flight, 0);
    // The same id is free again, and the session serves on.
    let (resp, _) = c
        .request(
            json!(1),
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "still here" } }),
        )
        .await;
    assert_eq!(text_of(&resp), "still here");
}

#[tokio::test(start_paused = true)]
async fn batches_on_2025_03_26_only() {
    let (mut c, _, _) = ready("2025-03-26").await;
    c.send(json!([
        { "jsonrpc": "2.0", "id": 1, "method": "ping" },
        { "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "echo", "arguments": { "message": "b" } } },
        { "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 99 } },
        { "jsonrpc": "2.0", "id": 3, "method": "no/such" },
        5
    ]))
    .await;
    let reply = c.recv().await.unwrap();
    let items = reply.as_array().expect("a batch is answered with an array");
    assert_eq!(items.len(), 4, "{reply}");
    let by_id = |id: i64| items.iter().find(|m| m["id"] == id).unwrap().clone();
    assert_eq!(by_id(1)["result"], json!({}));
    assert_eq!(text_of(&by_id(2)), "b");
    assert_eq!(code(&by_id(3)), -32601);
    assert!(
        items
            .iter()
            .any(|m| m.get("id").is_none() && code(m) == -32600)
    );
    // Only notifications: no reply at all (the next message answers the ping).
    c.send(json!([{ "jsonrpc": "2.0", "method": "notifications/initialized" }]))
        .await;
    let (resp, before) = c.request(json!(4), "ping", json!({})).await;
    assert!(before.is_empty() && resp["result"] == json!({}));
    // An empty batch: one -32600 object.
    c.send_raw(b"[]\n").await;
    let resp = c.recv().await.unwrap();
    assert!(resp.is_object() && code(&resp) == -32600 && resp.get("id").is_none());
    // Later revisions: a batch is one -32600.
    for v in ["2025-06-18", "2025-11-25"] {
        let (mut c, _, _) = ready(v).await;
        c.send(json!([{ "jsonrpc": "2.0", "id": 1, "method": "ping" }]))
            .await;
        let resp = c.recv().await.unwrap();
        assert_eq!(code(&resp), -32600, "{v}");
        assert!(resp["error"]["message"].as_str().unwrap().contains(v));
    }
}

#[tokio::test(start_paused = true)]
async fn in_flight_bound_sheds_and_recovers() {
    let mut opts = options();
    opts.limits.max_in_flight = 3;
    let (mut c, mut started, server) = ready_with("2025-11-25", opts, json!({})).await;
    for id in 1..=3 {
        c.send(json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "block", "arguments": {} } })).await;
    }
    let mut drops = Vec::new();
    for _ in 0..3 {
        drops.push(started.recv().await.unwrap());
    }
    let (resp, _) = c
        .request(
            json!(4),
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "x" } }),
        )
        .await;
    assert_eq!(code(&resp), -31429);
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit is 3")
    );
    assert_eq!(resp["error"]["data"]["retryAfterMs"], 1000);
    // ping is answered by the core itself, even at the limit.
    let (resp, _) = c.request(json!(5), "ping", json!({})).await;
    assert_eq!(resp["result"], json!({}));
    for id in 1..=3 {
        c.send(json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": id } })).await;
    }
    for d in drops {
        assert!(d.await.is_err());
    }
    let (resp, _) = c
        .request(
            json!(6),
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "again" } }),
        )
        .await;
    assert_eq!(text_of(&resp), "again");
    let (_, stats) = server.stats();
    assert_eq!((stats.in_flight, stats.handler_tasks), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn pending_outgoing_bound_and_timeout() {
    let mut opts = options();
    opts.limits.max_pending_outgoing = 2;
    opts.limits.outgoing_timeout = Duration::from_secs(30);
    let (mut c, _, server) = ready_with("2025-11-25", opts, json!({ "elicitation": {} })).await;
    for id in 1..=3 {
        c.send(json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "ask", "arguments": {} } })).await;
    }
    // Two elicitations reach the client; the third call is refused with the overload text.
    let mut asks = Vec::new();
    let mut third = None;
    while asks.len() < 2 || third.is_none() {
        let m = c.recv().await.unwrap();
        if m["method"] == "elicitation/create" {
            asks.push(m);
        } else {
            third = Some(m);
        }
    }
    let third = third.unwrap();
    assert_eq!(third["result"]["isError"], true);
    assert!(text_of(&third).contains("limit is 2"), "{third}");
    assert_eq!(server.stats().1.pending_outgoing, 2);
    // Answer one; let the other time out: the client is told, the tool says why.
    c.send(json!({ "jsonrpc": "2.0", "id": asks[0]["id"], "result": { "action": "accept", "content": { "name": "Ada" } } })).await;
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(c.recv().await.unwrap());
    }
    let answered = got
        .iter()
        .find(|m| m.get("result").is_some() && text_of(m).contains("Ada"))
        .expect("answered call");
    assert_eq!(answered["result"].get("isError"), None);
    let cancelled = got
        .iter()
        .find(|m| m["method"] == "notifications/cancelled")
        .expect("timeout cancels");
    assert_eq!(cancelled["params"]["requestId"], asks[1]["id"]);
    let timed_out = got
        .iter()
        .find(|m| m.get("result").is_some() && text_of(m).contains("30000 ms"))
        .expect("timed out call");
    assert_eq!(timed_out["result"]["isError"], true);
    let (_, stats) = server.stats();
    assert_eq!(
        (stats.pending_outgoing, stats.waiters, stats.in_flight),
        (0, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn outbound_queue_is_bounded_by_backpressure() {
    let mut opts = options();
    opts.outbound_queue = 4;
    let (server, _) = fixture(opts);
    let (mut c, _) = start_with_buffer(server.clone(), 4096);
    c.initialize("2025-11-25", json!({})).await;
    // Write requests without reading: the server must stop reading rather than buffer
    // every answer, so our writes stall. Each request has an id of its own: a finished
    // request must not free its in-flight place before its answer has a place to go.
    let mut sent = 0;
    let stalled = loop {
        let line = format!(
            "{}\n",
            json!({ "jsonrpc": "2.0", "id": sent, "method": "tools/call", "params": { "name": "echo", "arguments": { "message": "x".repeat(200) } } })
        );
        let write = c.send_raw(line.as_bytes());
        match tokio::time::timeout(Duration::from_secs(60), write).await {
            Ok(()) => sent += 1,
            Err(_) => break true,
        }
        if sent > 10_000 {
            break false;
        }
    };
    assert!(
        stalled,
        "the server kept reading with nobody reading its answers: {:?}",
        server.stats()
    );
    // Held answers stay within the in-flight limit.
    assert!(server.stats().1.handler_tasks <= 64, "{:?}", server.stats());
    assert!(sent < 200, "stalled only after {sent} requests");
}

#[tokio::test(start_paused = true)]
async fn lists_1000_tools_at_page_size_50_each_exactly_once() {
    let mut opts = options();
    opts.page_size = 50;
    let mut b = oxmcp::Server::builder("many", "1").options(opts);
    for i in 0..1000 {
        b = b.tool(oxmcp::Tool::new(
            format!("tool_{i:04}"),
            "n",
            |_a: Empty, _ctx| async move { Ok(oxmcp::model::CallToolResult::text("ok")) },
        ));
    }
    let (mut c, _) = start(b.build());
    c.initialize("2025-11-25", json!({})).await;
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = match &cursor {
            Some(cur) => json!({ "cursor": cur }),
            None => json!({}),
        };
        let (resp, _) = c.request(json!(pages + 1), "tools/list", params).await;
        let tools = resp["result"]["tools"].as_array().unwrap();
        assert!(tools.len() <= 50);
        for t in tools {
            assert!(
                seen.insert(t["name"].as_str().unwrap().to_owned()),
                "seen twice: {}",
                t["name"]
            );
        }
        pages += 1;
        match resp["result"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (1000, 20));
    // A forged cursor: -32602.
    let mut forged = cursor.unwrap_or_else(|| "AAAAAAAAAAAAAAAAAAAAAAAAAAAA".into());
    forged.replace_range(0..1, if forged.starts_with('A') { "B" } else { "A" });
    let (resp, _) = c
        .request(json!("f"), "tools/list", json!({ "cursor": forged }))
        .await;
    assert_eq!(code(&resp), -32602);
    let (resp, _) = c
        .request(json!("g"), "tools/list", json!({ "cursor": "garbage!" }))
        .await;
    assert_eq!(code(&resp), -32602);
}

#[tokio::test(start_paused = true)]
async fn tool_arguments_are_checked_before_the_handler() {
    let (mut c, _, _) = ready("2025-11-25").await;
    let (resp, _) = c
        .request(
            json!(1),
            "tools/call",
            json!({ "name": "echo", "arguments": {} }),
        )
        .await;
    assert_eq!(resp["result"]["isError"], true);
    assert!(
        text_of(&resp).contains("message"),
        "names the field: {resp}"
    );
    let (resp, _) = c
        .request(json!(2), "tools/call", json!({ "name": "nested", "arguments": { "items": [{ "name": "a", "count": 1 }, { "name": "b", "count": "x" }] } }))
        .await;
    assert!(
        text_of(&resp).contains("items[1].count"),
        "names the path: {resp}"
    );
    let (resp, _) = c
        .request(
            json!(3),
            "tools/call",
            json!({ "name": "nope", "arguments": {} }),
        )
        .await;
    assert_eq!(code(&resp), -32602);
    assert!(resp["error"]["message"].as_str().unwrap().contains("nope"));
    let (resp, _) = c
        .request(json!(4), "tools/call", json!({ "arguments": {} }))
        .await;
    assert_eq!(code(&resp), -32602);
    let (resp, _) = c
        .request(json!(5), "tools/call", json!({ "name": "fail" }))
        .await;
    assert_eq!(resp["result"]["isError"], true);
    assert!(text_of(&resp).contains("on purpose"));
}

#[tokio::test(start_paused = true)]
async fn structured_output_and_its_downgrade() {
    let (mut c, _, _) = ready("2025-11-25").await;
    let (resp, _) = c
        .request(
            json!(1),
            "tools/call",
            json!({ "name": "add", "arguments": { "a": 2, "b": 3 } }),
        )
        .await;
    assert_eq!(resp["result"]["structuredContent"], json!({ "sum": 5 }));
    let text: Value = serde_json::from_str(&text_of(&resp)).unwrap();
    assert_eq!(
        text,
        json!({ "sum": 5 }),
        "the same JSON as text for older clients"
    );
    let (mut c, _, _) = ready("2025-03-26").await;
    let (resp, _) = c
        .request(
            json!(1),
            "tools/call",
            json!({ "name": "add", "arguments": { "a": 2, "b": 3 } }),
        )
        .await;
    assert!(resp["result"].get("structuredContent").is_none());
    assert_eq!(
        serde_json::from_str::<Value>(&text_of(&resp)).unwrap(),
        json!({ "sum": 5 })
    );
}

#[tokio::test(start_paused = true)]
async fn resources_templates_and_subscriptions() {
    let (mut c, _, server) = ready("2025-11-25").await;
    let (resp, _) = c.request(json!(1), "resources/list", json!({})).await;
    assert_eq!(resp["result"]["resources"].as_array().unwrap().len(), 2);
    let (resp, _) = c
        .request(json!(2), "resources/templates/list", json!({}))
        .await;
    assert_eq!(
        resp["result"]["resourceTemplates"][0]["uriTemplate"],
        "test://item/{id}"
    );
    let (resp, _) = c
        .request(
            json!(3),
            "resources/read",
            json!({ "uri": "test://static" }),
        )
        .await;
    assert_eq!(resp["result"]["contents"][0]["text"], "hello");
    let (resp, _) = c
        .request(
            json!(4),
            "resources/read",
            json!({ "uri": "test://item/42" }),
        )
        .await;
    assert_eq!(resp["result"]["contents"][0]["text"], "item 42");
    for (id, uri) in [(5, "test://nothing"), (6, "test://item/missing")] {
        let (resp, _) = c
            .request(json!(id), "resources/read", json!({ "uri": uri }))
            .await;
        assert_eq!(code(&resp), -32002, "{uri}");
        assert_eq!(resp["error"]["data"]["uri"], uri);
    }
    let (resp, _) = c
        .request(
            json!(7),
            "resources/subscribe",
            json!({ "uri": "test://watched" }),
        )
        .await;
    assert_eq!(resp["result"], json!({}));
    server.notify_resource_updated("test://static");
    server.notify_resource_updated("test://watched");
    let m = c.recv().await.unwrap();
    assert_eq!(
        (m["method"].as_str(), m["params"]["uri"].as_str()),
        (
            Some("notifications/resources/updated"),
            Some("test://watched")
        )
    );
    let (resp, _) = c
        .request(
            json!(8),
            "resources/unsubscribe",
            json!({ "uri": "test://watched" }),
        )
        .await;
    assert_eq!(resp["result"], json!({}));
    server.notify_resource_updated("test://watched");
    let (_, before) = c.request(json!(9), "ping", json!({})).await;
    assert!(before.is_empty(), "no update after unsubscribe: {before:?}");
    let (resp, _) = c
        .request(
            json!(10),
            "resources/subscribe",
            json!({ "uri": "test://nothing" }),
        )
        .await;
    assert_eq!(code(&resp), -32002);
}

#[tokio::test(start_paused = true)]
async fn prompts_and_completion() {
    let (mut c, _, _) = ready("2025-11-25").await;
    let (resp, _) = c.request(json!(1), "prompts/list", json!({})).await;
    assert_eq!(
        resp["result"]["prompts"][0]["arguments"][0]["required"],
        true
    );
    let (resp, _) = c
        .request(
            json!(2),
            "prompts/get",
            json!({ "name": "greet", "arguments": { "name": "Ada" } }),
        )
        .await;
    assert_eq!(
        resp["result"]["messages"][0]["content"]["text"],
        "Hello, Ada!"
    );
    let (resp, _) = c
        .request(
            json!(3),
            "prompts/get",
            json!({ "name": "greet", "arguments": {} }),
        )
        .await;
    assert_eq!(code(&resp), -32602);
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`name`")
    );
    let (resp, _) = c
        .request(json!(4), "prompts/get", json!({ "name": "nope" }))
        .await;
    assert_eq!(code(&resp), -32602);
    let (resp, _) = c
        .request(json!(5), "completion/complete", json!({ "ref": { "type": "ref/prompt", "name": "greet" }, "argument": { "name": "name", "value": "al" } }))
        .await;
    assert_eq!(
        resp["result"]["completion"]["values"],
        json!(["alice", "albert"])
    );
    let (resp, _) = c
        .request(json!(6), "completion/complete", json!({ "ref": { "type": "ref/resource", "uri": "test://item/{id}" }, "argument": { "name": "id", "value": "1" } }))
        .await;
    assert_eq!(resp["result"]["completion"]["values"], json!(["1", "10"]));
    let (resp, _) = c
        .request(json!(7), "completion/complete", json!({ "ref": { "type": "ref/prompt", "name": "nope" }, "argument": { "name": "x", "value": "" } }))
        .await;
    assert_eq!(code(&resp), -32602);
}

#[tokio::test(start_paused = true)]
async fn logging_follows_the_level_the_client_set() {
    let (mut c, _, _) = ready("2025-11-25").await;
    let (_, before) = c
        .request(
            json!(1),
            "tools/call",
            json!({ "name": "log", "arguments": {} }),
        )
        .await;
    assert_eq!(before.len(), 4, "every level before setLevel");
    let (resp, _) = c
        .request(json!(2), "logging/setLevel", json!({ "level": "warning" }))
        .await;
    assert_eq!(resp["result"], json!({}));
    let (_, before) = c
        .request(
            json!(3),
            "tools/call",
            json!({ "name": "log", "arguments": {} }),
        )
        .await;
    let levels: Vec<_> = before
        .iter()
        .map(|m| m["params"]["level"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(levels, vec!["warning", "error"]);
    let (resp, _) = c
        .request(json!(4), "logging/setLevel", json!({ "level": "loud" }))
        .await;
    assert_eq!(code(&resp), -32602);
}

#[tokio::test(start_paused = true)]
async fn elicitation_and_roots_round_trip() {
    let (mut c, _, _) = ready_with(
        "2025-11-25",
        options(),
        json!({ "elicitation": {}, "roots": {} }),
    )
    .await;
    c.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "ask", "arguments": {} } })).await;
    let ask = c.recv().await.unwrap();
    assert_eq!(ask["method"], "elicitation/create");
    c.send(json!({ "jsonrpc": "2.0", "id": ask["id"], "result": { "action": "accept", "content": { "name": "Ada" } } })).await;
    let resp = c.recv().await.unwrap();
    assert!(text_of(&resp).contains("Ada"));
    c.send(json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "roots", "arguments": {} } })).await;
    let ask = c.recv().await.unwrap();
    assert_eq!(ask["method"], "roots/list");
    c.send(json!({ "jsonrpc": "2.0", "id": ask["id"], "error": { "code": -32601, "message": "no roots here" } })).await;
    let resp = c.recv().await.unwrap();
    assert_eq!(resp["result"]["isError"], true);
    assert!(text_of(&resp).contains("no roots here"));
}

#[tokio::test(start_paused = true)]
async fn tasks_create_poll_result_list_cancel() {
    let (mut c, _, server) = ready("2025-11-25").await;
    let (resp, _) = c
        .request(
            json!(1),
            "tools/call",
            json!({ "name": "slow", "arguments": { "seconds": 2 }, "task": { "ttl": 60000 } }),
        )
        .await;
    let task = resp["result"]["task"].clone();
    assert_eq!(task["status"], "working");
    let id = task["taskId"].as_str().unwrap().to_owned();
    let (resp, _) = c
        .request(json!(2), "tasks/get", json!({ "taskId": id }))
        .await;
    assert_eq!(resp["result"]["status"], "working");
    let (resp, before) = c
        .request(json!(3), "tasks/result", json!({ "taskId": id }))
        .await;
    assert_eq!(text_of(&resp), "slept 2");
    assert_eq!(
        resp["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id.as_str()
    );
    assert!(before.iter().any(
        |m| m["method"] == "notifications/tasks/status" && m["params"]["status"] == "completed"
    ));
    let (resp, _) = c
        .request(json!(4), "tasks/cancel", json!({ "taskId": id }))
        .await;
    assert_eq!(code(&resp), -32602, "a terminal task cannot be cancelled");
    // A second task, cancelled while it works.
    let (resp, _) = c
        .request(
            json!(5),
            "tools/call",
            json!({ "name": "slow", "arguments": { "seconds": 100 }, "task": {} }),
        )
        .await;
    let id2 = resp["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (resp, _) = c
        .request(json!(6), "tasks/cancel", json!({ "taskId": id2 }))
        .await;
    assert_eq!(resp["result"]["status"], "cancelled");
    let (resp, _) = c.request(json!(7), "tasks/list", json!({})).await;
    let statuses: Vec<_> = resp["result"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, vec!["completed", "cancelled"]);
    let (resp, _) = c
        .request(json!(8), "tasks/get", json!({ "taskId": "nope" }))
        .await;
    assert_eq!(code(&resp), -32602);
    // Task support rules: echo forbids tasks.
    let (resp, _) = c
        .request(
            json!(9),
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "x" }, "task": {} }),
        )
        .await;
    assert_eq!(code(&resp), -32601);
    assert_eq!(server.stats().1.in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn tools_added_and_removed_while_serving() {
    let (mut c, _, server) = ready("2025-11-25").await;
    server.add_tool(oxmcp::Tool::new(
        "late",
        "Added later.",
        |_a: Empty, _ctx| async move { Ok(oxmcp::model::CallToolResult::text("late")) },
    ));
    let m = c.recv().await.unwrap();
    assert_eq!(m["method"], "notifications/tools/list_changed");
    let (resp, _) = c
        .request(
            json!(1),
            "tools/call",
            json!({ "name": "late", "arguments": {} }),
        )
        .await;
    assert_eq!(text_of(&resp), "late");
    assert!(server.remove_tool("late"));
    let m = c.recv().await.unwrap();
    assert_eq!(m["method"], "notifications/tools/list_changed");
    let (resp, _) = c
        .request(
            json!(2),
            "tools/call",
            json!({ "name": "late", "arguments": {} }),
        )
        .await;
    assert_eq!(code(&resp), -32602);
}

#[tokio::test(start_paused = true)]
async fn eof_lets_requests_finish_then_ends_the_session() {
    let (server, _) = fixture(options());
    let (mut c, task) = start(server.clone());
    c.initialize("2025-11-25", json!({})).await;
    c.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "slow", "arguments": { "seconds": 2 } } })).await;
    c.close().await;
    let resp = c.recv().await.unwrap();
    assert_eq!(text_of(&resp), "slept 2");
    assert!(
        c.recv().await.is_none(),
        "output ends after the last answer"
    );
    task.await.unwrap().unwrap();
    assert_eq!(server.stats().0, 0, "no session left");
}

#[tokio::test(start_paused = true)]
async fn batch_subscription_and_task_bounds() {
    let mut opts = options();
    opts.limits.max_batch = 2;
    opts.limits.max_subscriptions = 1;
    opts.tasks.max_tasks = 1;
    let (mut c, _, server) = ready_with("2025-03-26", opts.clone(), json!({})).await;
    c.send(json!([
        { "jsonrpc": "2.0", "id": 1, "method": "ping" },
        { "jsonrpc": "2.0", "id": 2, "method": "ping" },
        { "jsonrpc": "2.0", "id": 3, "method": "ping" }
    ]))
    .await;
    let resp = c.recv().await.unwrap();
    assert_eq!(code(&resp), -32600);
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 2"),
        "{resp}"
    );
    drop(server);
    let (mut c, _, server) = ready_with("2025-11-25", opts, json!({})).await;
    let (resp, _) = c
        .request(
            json!(1),
            "resources/subscribe",
            json!({ "uri": "test://watched" }),
        )
        .await;
    assert_eq!(resp["result"], json!({}));
    let (resp, _) = c
        .request(
            json!(2),
            "resources/subscribe",
            json!({ "uri": "test://static" }),
        )
        .await;
    assert_eq!(code(&resp), -31429);
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit is 1")
    );
    let (resp, _) = c
        .request(
            json!(3),
            "tools/call",
            json!({ "name": "slow", "arguments": { "seconds": 50 }, "task": {} }),
        )
        .await;
    assert_eq!(resp["result"]["task"]["status"], "working");
    let (resp, _) = c
        .request(
            json!(4),
            "tools/call",
            json!({ "name": "slow", "arguments": { "seconds": 50 }, "task": {} }),
        )
        .await;
    assert_eq!(code(&resp), -31429);
    assert_eq!(server.stats().1.tasks, 1);
}

#[tokio::test(start_paused = true)]
async fn a_task_reports_progress_on_the_original_token() {
    let (mut c, _, _) = ready("2025-11-25").await;
    let (resp, _) = c
        .request(json!(1), "tools/call", json!({ "name": "slow", "arguments": { "seconds": 2 }, "task": {}, "_meta": { "progressToken": 77 } }))
        .await;
    let id = resp["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (resp, before) = c
        .request(json!(2), "tasks/result", json!({ "taskId": id }))
        .await;
    assert_eq!(text_of(&resp), "slept 2");
    let progress: Vec<_> = before
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 2, "{before:?}");
    for p in progress {
        assert_eq!(p["params"]["progressToken"], 77);
        assert_eq!(
            p["params"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
            id.as_str()
        );
    }
}
