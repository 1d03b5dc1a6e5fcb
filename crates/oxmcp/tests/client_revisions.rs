//! The oxmcp client against the oxmcp server on every legacy revision, over an in-memory
//! pair with a tap in the middle that validates every message the client sends against the
//! negotiated revision's schema (strictly: no property the revision lacks).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use oxmcp::ProtocolVersion;
use oxmcp::client::{CallOptions, Client};
use oxmcp::model::{
    CallToolResult, CreateMessageResult, ElicitResult, ListRootsResult, LoggingLevel,
};
use oxmcp_testkit::ClientWireCheck;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// Copies lines from `from` to `to`, showing each to `look`.
async fn tap<R, W>(from: R, mut to: W, look: impl Fn(&Value)) -> usize
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut lines = BufReader::new(from).lines();
    let mut n = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        look(&serde_json::from_str(&line).unwrap());
        n += 1;
        if to.write_all(format!("{line}\n").as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
    n
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SampleArgs {
    prompt: String,
}

fn server() -> oxmcp::Server {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    fixture_builder(tx)
        .tool(oxmcp::Tool::new("sample", "Asks the client's model.", |a: SampleArgs, ctx| async move {
            let params = serde_json::from_value(json!({
                "messages": [{ "role": "user", "content": { "type": "text", "text": a.prompt } }],
                "maxTokens": 10
            }))?;
            let r = ctx.sample("s", params).await?;
            Ok(CallToolResult::text(serde_json::to_string(&r)?))
        }))
        .build()
}

#[tokio::test(start_paused = true)]
async fn every_method_on_every_revision_with_checked_client_messages() {
    for version in ProtocolVersion::LEGACY {
        let check = Arc::new(Mutex::new(ClientWireCheck::default()));
        let (client_io, tap_client_side) = tokio::io::duplex(64 * 1024);
        let (tap_server_side, server_io) = tokio::io::duplex(64 * 1024);
        let (tcr, tcw) = tokio::io::split(tap_client_side);
        let (tsr, tsw) = tokio::io::split(tap_server_side);
        let (c1, c2) = (check.clone(), check.clone());
        let up =
            tokio::spawn(
                async move { tap(tcr, tsw, move |m| c1.lock().unwrap().from_client(m)).await },
            );
        let down =
            tokio::spawn(
                async move { tap(tsr, tcw, move |m| c2.lock().unwrap().from_server(m)).await },
            );
        let (sr, sw) = tokio::io::split(server_io);
        let served = tokio::spawn(oxmcp::connection::serve_lines(server(), sr, sw));
        let (cr, cw) = tokio::io::split(client_io);
        let c = Client::builder("rev-client", "1")
            .protocol_version(version)
            .sampling(|p| async move {
                let said = serde_json::to_value(&p.messages).unwrap().to_string();
                Ok(serde_json::from_value::<CreateMessageResult>(json!({
                    "role": "assistant", "content": { "type": "text", "text": format!("echo {said}") }, "model": "m"
                }))
                .unwrap())
            })
            .elicitation(|_| async { Ok(serde_json::from_value::<ElicitResult>(json!({ "action": "decline" })).unwrap()) })
            .roots(|| async { Ok(serde_json::from_value::<ListRootsResult>(json!({ "roots": [{ "uri": "file:///r" }] })).unwrap()) })
            .connect(cr, cw)
            .await
            .unwrap();
        assert_eq!(c.protocol_version(), Some(version));
        c.ping().await.unwrap();
        assert!(!c.list_all_tools().await.unwrap().is_empty());
        let r = c
            .call_tool_with(
                "slow",
                json!({ "seconds": 2 }),
                CallOptions::default().on_progress(|_| {}),
            )
            .await
            .unwrap();
        assert_eq!(r.content[0].as_text(), Some("slept 2"));
        c.list_all_resources().await.unwrap();
        c.list_all_resource_templates().await.unwrap();
        c.read_resource("test://static").await.unwrap();
        c.subscribe("test://watched").await.unwrap();
        c.unsubscribe("test://watched").await.unwrap();
        c.list_all_prompts().await.unwrap();
        c.get_prompt("greet", HashMap::from([("name".into(), "x".into())]))
            .await
            .unwrap();
        c.complete(
            json!({ "type": "ref/prompt", "name": "greet" }),
            "name",
            "a",
        )
        .await
        .unwrap();
        c.set_log_level(LoggingLevel::Info).await.unwrap();
        let r = c
            .call_tool("sample", json!({ "prompt": "hi" }))
            .await
            .unwrap();
        assert!(
            r.content[0].as_text().unwrap().contains("echo"),
            "{version}: {r:?}"
        );
        let r = c.call_tool("roots", json!({})).await.unwrap();
        assert!(
            r.content[0].as_text().unwrap().contains("file:///r"),
            "{version}"
        );
        let r = c.call_tool("ask", json!({})).await.unwrap();
        assert_eq!(
            r.is_error == Some(true),
            version < ProtocolVersion::V2025_06_18,
            "{version}: {r:?}"
        );
        c.notify_roots_changed().await.unwrap();
        // A call dropped while it runs: the client cancels it.
        let slow = {
            let c = c.clone();
            tokio::spawn(async move { c.call_tool("slow", json!({ "seconds": 30 })).await })
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        slow.abort();
        if version >= ProtocolVersion::V2025_11_25 {
            let task = c
                .call_tool_as_task("slow", json!({ "seconds": 1 }), None)
                .await
                .unwrap();
            let id = task["taskId"].as_str().unwrap().to_owned();
            c.wait_task(&id).await.unwrap();
            c.task_result(&id, Duration::from_secs(5)).await.unwrap();
            c.list_tasks(None).await.unwrap();
            let other = c
                .call_tool_as_task("slow", json!({ "seconds": 50 }), None)
                .await
                .unwrap();
            c.cancel_task(other["taskId"].as_str().unwrap())
                .await
                .unwrap();
        }
        c.ping().await.unwrap();
        drop(c);
        let sent = up.await.expect("every client message is valid");
        down.await.unwrap();
        served.await.unwrap().unwrap();
        let checked = check.lock().unwrap().checked.clone();
        for method in [
            "initialize",
            "notifications/initialized",
            "ping",
            "tools/list",
            "tools/call",
            "resources/read",
            "completion/complete",
            "logging/setLevel",
            "notifications/cancelled",
            "notifications/roots/list_changed",
            "sampling/createMessage (response)",
            "roots/list (response)",
        ] {
            assert!(
                checked.contains_key(method),
                "{version}: no {method} was checked: {checked:?}"
            );
        }
        if version >= ProtocolVersion::V2025_06_18 {
            assert!(
                checked.contains_key("elicitation/create (response)"),
                "{version}"
            );
        }
        if version >= ProtocolVersion::V2025_11_25 {
            for m in ["tasks/get", "tasks/result", "tasks/list", "tasks/cancel"] {
                assert!(checked.contains_key(m), "{version}: {m}");
            }
        }
        assert_eq!(
            checked.values().sum::<usize>(),
            sent,
            "{version}: every client message was checked"
        );
    }
}
