//! The oxmcp client drives the official `@modelcontextprotocol/server-everything` (npm,
//! pinned in tests/interop/package-lock.json, run with the pinned Node 22) over stdio through
//! every operation it offers: tools (with progress, and a long call cancelled), resources
//! (templates, subscribe and updates), prompts, completion, logging, and the sampling,
//! elicitation and roots requests it sends, answered by the client's handlers; and a task.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use oxmcp::client::{CallOptions, Client, ServerNotification, StdioCommand};
use oxmcp::model::{
    CallToolResult, CreateMessageResult, ElicitResult, ListRootsResult, LoggingLevel,
};
use serde_json::json;
use tokio::sync::broadcast;

fn everything() -> StdioCommand {
    let root = oxmcp_testkit::project_root();
    let node = root.join("tests/interop/node_modules/.bin/node");
    let server = root
        .join("tests/interop/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(
        node.exists() && server.exists(),
        "the interop harness is not installed: run scripts/setup-interop.sh (expected {} and {})",
        node.display(),
        server.display()
    );
    StdioCommand::new(node).arg_path(server).args(["stdio"])
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The next notification of `method` (others are skipped); bounded by the caller's timeout.
async fn next_of(
    rx: &mut broadcast::Receiver<ServerNotification>,
    method: &str,
) -> ServerNotification {
    loop {
        let n = rx.recv().await.unwrap();
        if n.method == method {
            return n;
        }
    }
}

#[tokio::test]
async fn the_oxmcp_client_drives_server_everything() {
    let client = Client::builder("oxmcp-interop", "1.0.0")
        .request_timeout(Duration::from_secs(30))
        .sampling(|p| async move {
            let asked = serde_json::to_value(&p.messages).unwrap().to_string();
            Ok(serde_json::from_value::<CreateMessageResult>(json!({
                "role": "assistant",
                "content": { "type": "text", "text": format!("sampled by oxmcp for {}", asked.len()) },
                "model": "oxmcp-test-model",
                "stopReason": "endTurn"
            }))
            .unwrap())
        })
        .elicitation(|_| async { Ok(serde_json::from_value::<ElicitResult>(json!({ "action": "accept", "content": { "name": "Ada" } })).unwrap()) })
        .roots(|| async { Ok(serde_json::from_value::<ListRootsResult>(json!({ "roots": [{ "uri": "file:///oxmcp-root", "name": "oxmcp" }] })).unwrap()) })
        .connect_stdio(everything())
        .await
        .unwrap();
    let run = async {
        let mut notes = client.notifications();
        assert_eq!(client.server_info().unwrap().name, "mcp-servers/everything");
        client.ping().await.unwrap();

        // Tools: the capability-gated ones are registered right after `initialized`.
        let mut names: Vec<String> = client
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        for _ in 0..10 {
            if names.iter().any(|n| n == "trigger-sampling-request") {
                break;
            }
            next_of(&mut notes, "notifications/tools/list_changed").await;
            names = client
                .list_all_tools()
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
        }
        for want in [
            "echo",
            "get-sum",
            "trigger-long-running-operation",
            "trigger-sampling-request",
            "trigger-elicitation-request",
            "get-roots-list",
            "simulate-research-query",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
        assert_eq!(
            text(
                &client
                    .call_tool("echo", json!({ "message": "hi" }))
                    .await
                    .unwrap()
            ),
            "Echo: hi"
        );
        assert!(
            text(
                &client
                    .call_tool("get-sum", json!({ "a": 2, "b": 3 }))
                    .await
                    .unwrap()
            )
            .contains('5')
        );
        let image = client.call_tool("get-tiny-image", json!({})).await.unwrap();
        assert!(
            serde_json::to_value(&image).unwrap()["content"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["type"] == "image")
        );
        let structured = client
            .call_tool("get-structured-content", json!({ "location": "Chicago" }))
            .await
            .unwrap();
        assert!(structured.structured_content.is_some());

        // Progress.
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        let opts = CallOptions::default().on_progress(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let r = client
            .call_tool_with(
                "trigger-long-running-operation",
                json!({ "duration": 1, "steps": 2 }),
                opts,
            )
            .await
            .unwrap();
        assert!(text(&r).contains("completed"), "{r:?}");
        assert_eq!(seen.load(Ordering::SeqCst), 2);

        // A long call, cancelled by dropping it after its first progress notification.
        let (first_tx, first) = tokio::sync::oneshot::channel();
        let first_tx = std::sync::Mutex::new(Some(first_tx));
        let opts = CallOptions::default().on_progress(move |_| {
            if let Some(tx) = first_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
        });
        let long = {
            let c = client.clone();
            tokio::spawn(async move {
                c.call_tool_with(
                    "trigger-long-running-operation",
                    json!({ "duration": 60, "steps": 60 }),
                    opts,
                )
                .await
            })
        };
        first.await.unwrap();
        long.abort();
        assert!(long.await.unwrap_err().is_cancelled());
        client.ping().await.unwrap();
        assert_eq!(client.pending(), 0);

        // Resources.
        let resources = client.list_all_resources().await.unwrap();
        assert!(resources.len() >= 7, "{resources:?}");
        assert_eq!(client.list_all_resource_templates().await.unwrap().len(), 2);
        let doc = client.read_resource(&resources[0].uri).await.unwrap();
        assert!(!doc.contents.is_empty());
        let dynamic = client
            .read_resource("demo://resource/dynamic/text/1")
            .await
            .unwrap();
        assert!(
            serde_json::to_value(&dynamic)
                .unwrap()
                .to_string()
                .contains("Resource 1")
        );
        client.set_log_level(LoggingLevel::Debug).await.unwrap();
        let uri = resources[0].uri.clone();
        client.subscribe(&uri).await.unwrap();
        // Its acknowledgement arrives as a log message (after any earlier ones).
        while !next_of(&mut notes, "notifications/message")
            .await
            .params
            .to_string()
            .contains("Subscribe")
        {}
        client
            .call_tool("toggle-subscriber-updates", json!({}))
            .await
            .unwrap();
        let updated = next_of(&mut notes, "notifications/resources/updated").await;
        assert_eq!(updated.params["uri"], uri.as_str());
        client
            .call_tool("toggle-subscriber-updates", json!({}))
            .await
            .unwrap();
        client.unsubscribe(&uri).await.unwrap();

        // Prompts and completion.
        let prompts: Vec<String> = client
            .list_all_prompts()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert!(prompts.contains(&"args-prompt".to_owned()), "{prompts:?}");
        let p = client
            .get_prompt(
                "args-prompt",
                HashMap::from([("city".to_owned(), "Paris".to_owned())]),
            )
            .await
            .unwrap();
        assert!(
            serde_json::to_value(&p)
                .unwrap()
                .to_string()
                .contains("Paris")
        );
        let done = client
            .complete(
                json!({ "type": "ref/prompt", "name": "completable-prompt" }),
                "department",
                "E",
            )
            .await
            .unwrap();
        assert_eq!(done.completion.values, vec!["Engineering"]);

        // The server's requests, answered by the client's handlers.
        let sampled = client
            .call_tool("trigger-sampling-request", json!({ "prompt": "hello" }))
            .await
            .unwrap();
        assert!(text(&sampled).contains("sampled by oxmcp"), "{sampled:?}");
        let elicited = client
            .call_tool("trigger-elicitation-request", json!({}))
            .await
            .unwrap();
        assert!(text(&elicited).contains("Ada"), "{elicited:?}");
        let roots = client.call_tool("get-roots-list", json!({})).await.unwrap();
        assert!(text(&roots).contains("file:///oxmcp-root"), "{roots:?}");

        // A task (its tool requires task augmentation).
        let task = client
            .call_tool_as_task(
                "simulate-research-query",
                json!({ "topic": "rust" }),
                Some(60_000),
            )
            .await
            .unwrap();
        let id = task["taskId"].as_str().unwrap().to_owned();
        let result = client
            .task_result(&id, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(!result.content.is_empty());
        assert_eq!(client.get_task(&id).await.unwrap()["status"], "completed");
    };
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("server-everything scenario took over 120 s");
}
