//! The client SDK against the oxmcp server over an in-memory duplex, on tokio's paused
//! clock: every server method, progress, timeouts reset by progress, cancellation by
//! dropping the call, handlers for the server's requests, tasks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use oxmcp::client::{CallOptions, Client, ClientBuilder, ClientError, Era};
use oxmcp::model::{ElicitResult, ListRootsResult, LoggingLevel};
use serde_json::json;

async fn connect(builder: ClientBuilder, server: oxmcp::Server) -> Client {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(oxmcp::connection::serve_lines(server, sr, sw));
    let (cr, cw) = tokio::io::split(client_io);
    builder.connect(cr, cw).await.expect("connect")
}

fn builder() -> ClientBuilder {
    // These tests are about the handshake revisions (server requests, ping, setLevel).
    Client::builder("test-client", "1.0.0")
        .era(Era::Legacy)
        .elicitation(|p| async move {
            Ok(serde_json::from_value::<ElicitResult>(json!({ "action": "accept", "content": { "name": format!("Ada ({})", p.message()) } }))
                .unwrap())
        })
        .roots(|| async { Ok(serde_json::from_value::<ListRootsResult>(json!({ "roots": [{ "uri": "file:///a", "name": "a" }] })).unwrap()) })
}

fn text(r: &oxmcp::model::CallToolResult) -> String {
    r.content
        .first()
        .and_then(|c| c.as_text())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(start_paused = true)]
async fn every_server_method() {
    let (server, _) = fixture(options());
    let c = connect(builder(), server.clone()).await;
    assert_eq!(
        c.protocol_version(),
        Some(oxmcp::ProtocolVersion::V2025_11_25)
    );
    assert_eq!(c.server_info().unwrap().name, "fixture");
    c.ping().await.unwrap();
    let tools = c.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"));
    assert_eq!(
        text(
            &c.call_tool("echo", json!({ "message": "hi" }))
                .await
                .unwrap()
        ),
        "hi"
    );
    let bad = c.call_tool("echo", json!({})).await.unwrap();
    assert_eq!(bad.is_error, Some(true));
    let unknown = c.call_tool("nope", json!({})).await.unwrap_err();
    assert_eq!(unknown.rpc().map(|e| e.code), Some(-32602));
    // Resources, templates, subscriptions.
    assert_eq!(c.list_all_resources().await.unwrap().len(), 2);
    assert_eq!(c.list_all_resource_templates().await.unwrap().len(), 1);
    let read = c.read_resource("test://item/7").await.unwrap();
    assert_eq!(
        serde_json::to_value(&read.contents[0]).unwrap()["text"],
        "item 7"
    );
    let mut notes = c.notifications();
    c.subscribe("test://watched").await.unwrap();
    server.notify_resource_updated("test://watched");
    let n = notes.recv().await.unwrap();
    assert_eq!(
        (n.method.as_str(), n.params["uri"].as_str()),
        ("notifications/resources/updated", Some("test://watched"))
    );
    c.unsubscribe("test://watched").await.unwrap();
    // Prompts and completion.
    assert_eq!(c.list_all_prompts().await.unwrap()[0].name, "greet");
    let p = c
        .get_prompt(
            "greet",
            HashMap::from([("name".to_owned(), "Ada".to_owned())]),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&p.messages[0]).unwrap()["content"]["text"],
        "Hello, Ada!"
    );
    let done = c
        .complete(
            json!({ "type": "ref/prompt", "name": "greet" }),
            "name",
            "al",
        )
        .await
        .unwrap();
    assert_eq!(done.completion.values, vec!["alice", "albert"]);
    // Logging.
    c.set_log_level(LoggingLevel::Error).await.unwrap();
    c.call_tool("log", json!({})).await.unwrap();
    let n = notes.recv().await.unwrap();
    assert_eq!(
        (n.method.as_str(), n.params["level"].as_str()),
        ("notifications/message", Some("error"))
    );
    // The server's requests, answered by handlers.
    assert!(text(&c.call_tool("ask", json!({})).await.unwrap()).contains("Ada (Your name?)"));
    assert!(text(&c.call_tool("roots", json!({})).await.unwrap()).contains("file:///a"));
    // Tasks.
    let task = c
        .call_tool_as_task("slow", json!({ "seconds": 2 }), Some(60_000))
        .await
        .unwrap();
    let id = task["taskId"].as_str().unwrap().to_owned();
    assert_eq!(c.wait_task(&id).await.unwrap()["status"], "completed");
    assert_eq!(
        text(&c.task_result(&id, Duration::from_secs(5)).await.unwrap()),
        "slept 2"
    );
    let other = c
        .call_tool_as_task("slow", json!({ "seconds": 100 }), None)
        .await
        .unwrap();
    let other_id = other["taskId"].as_str().unwrap();
    assert_eq!(
        c.cancel_task(other_id).await.unwrap()["status"],
        "cancelled"
    );
    assert_eq!(
        c.list_tasks(None).await.unwrap()["tasks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(c.pending(), 0);
}

#[tokio::test(start_paused = true)]
async fn progress_callbacks_and_timeouts_reset_by_progress() {
    let (server, _) = fixture(options());
    let c = connect(builder(), server.clone()).await;
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    // 3 s of work, a 1.5 s timeout, restarted by each progress notification (one per second).
    let opts = CallOptions::default()
        .timeout(Duration::from_millis(1500))
        .on_progress(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .reset_timeout_on_progress(None);
    let r = c
        .call_tool_with("slow", json!({ "seconds": 3 }), opts)
        .await
        .unwrap();
    assert_eq!(text(&r), "slept 3");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    // Without the reset, the same call times out, and the server is told to stop.
    let opts = CallOptions::default()
        .timeout(Duration::from_millis(1500))
        .on_progress(|_| {});
    let err = c
        .call_tool_with("slow", json!({ "seconds": 3 }), opts)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Timeout(ref m) if m.contains("1500 ms")),
        "{err}"
    );
    c.ping().await.unwrap();
    assert_eq!(
        server.stats().1.in_flight,
        0,
        "the server dropped the cancelled call"
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_a_call_cancels_it_on_the_server() {
    let (server, mut started) = fixture(options());
    let c = connect(builder(), server.clone()).await;
    let call = {
        let c = c.clone();
        tokio::spawn(async move { c.call_tool("block", json!({})).await })
    };
    let dropped = started.recv().await.unwrap();
    call.abort();
    assert!(dropped.await.is_err(), "the server's handler was dropped");
    c.ping().await.unwrap();
    assert_eq!(server.stats().1.in_flight, 0);
    assert_eq!(c.pending(), 0);
}

#[tokio::test(start_paused = true)]
async fn requests_the_server_cannot_take_fail_before_they_are_sent() {
    let server = oxmcp::Server::builder("bare", "1").enable_tools().build();
    let c = connect(Client::builder("t", "1").era(Era::Legacy), server).await;
    let err = c.list_prompts(None).await.unwrap_err();
    assert_eq!(err.rpc().map(|e| e.code), Some(-32601));
    // A client without an elicitation handler: the server's tool says elicitation is unavailable.
    let (server, _) = fixture(options());
    let c = connect(Client::builder("t", "1").era(Era::Legacy), server).await;
    let r = c.call_tool("ask", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("elicitation"));
}

#[tokio::test(start_paused = true)]
async fn negotiates_the_servers_older_revision() {
    // A scripted server that answers initialize with 2025-03-26, then an unknown revision.
    for (offered, ok) in [("2025-03-26", true), ("2099-01-01", false)] {
        let (client_io, server_io) = tokio::io::duplex(4096);
        let (cr, cw) = tokio::io::split(client_io);
        let (sr, mut sw) = tokio::io::split(server_io);
        let script = tokio::spawn(async move {
            use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
            let mut lines = tokio::io::BufReader::new(sr).lines();
            let init: serde_json::Value =
                serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
            assert_eq!(init["params"]["protocolVersion"], "2025-11-25");
            let reply = json!({ "jsonrpc": "2.0", "id": init["id"], "result": { "protocolVersion": offered, "capabilities": {}, "serverInfo": { "name": "old", "version": "1" } } });
            sw.write_all(format!("{reply}\n").as_bytes()).await.unwrap();
            lines.next_line().await.unwrap()
        });
        let r = Client::builder("t", "1")
            .era(Era::Legacy)
            .connect(cr, cw)
            .await;
        match r {
            Ok(c) => {
                assert!(ok);
                assert_eq!(
                    c.protocol_version(),
                    Some(oxmcp::ProtocolVersion::V2025_03_26)
                );
                let next = script.await.unwrap().unwrap();
                assert!(next.contains("notifications/initialized"));
            }
            Err(e) => {
                assert!(!ok);
                assert!(e.to_string().contains("2099-01-01"), "{e}");
            }
        }
    }
}
