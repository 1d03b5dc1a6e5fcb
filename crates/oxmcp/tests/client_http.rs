//! The oxmcp client over Streamable HTTP against the official TypeScript SDK's server
//! (`tests/interop/http-server.mjs`: `McpServer` over `StreamableHTTPServerTransport`, the
//! SDK pinned in tests/interop/package-lock.json, run with the pinned Node 22), in each of
//! its modes: stateful with SSE replies (resumable), stateful with JSON replies, stateless.
//! Tools with progress and logs, resources, templates, prompts, completion, ping, sampling
//! and elicitation answered by the client's handlers; on stateful sessions also a stream
//! the server cuts midway (resumed with Last-Event-ID), cancellation, an expired session
//! (404, then a new session), and the DELETE on close. The 1.x server speaks only the
//! handshake revisions, so these runs also prove the client falls back from its
//! `server/discover` probe to `initialize`. Against the SDK 2.x server
//! (`tests/interop/http-server2.mjs`) the client speaks 2026-07-28.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use oxmcp::client::{CallOptions, Client, ServerNotification};
use oxmcp::model::{CallToolResult, CreateMessageResult, ElicitResult};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::broadcast;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Sse,
    Json,
    Stateless,
}

/// The TypeScript SDK server, killed when dropped.
struct TsServer {
    _child: Child,
    url: String,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl TsServer {
    async fn start(mode: Mode) -> TsServer {
        let mode = match mode {
            Mode::Sse => "sse",
            Mode::Json => "json",
            Mode::Stateless => "stateless",
        };
        TsServer::spawn("http-server.mjs", &[mode]).await
    }

    /// Starts `tests/interop/<script>` with the pinned Node and reads the URL it prints
    /// first (`URL=…`, or `listening on …`).
    async fn spawn(script: &str, args: &[&str]) -> TsServer {
        let root = oxmcp_testkit::project_root();
        let node = root.join("tests/interop/node_modules/.bin/node");
        assert!(
            node.exists(),
            "the interop harness is not installed: run scripts/setup-interop.sh (expected {})",
            node.display()
        );
        let mut child = Command::new(&node)
            .arg(root.join("tests/interop").join(script))
            .args(args)
            .current_dir(root.join("tests/interop"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start tests/interop/{script}: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
            .await
            .unwrap_or_else(|_| panic!("{script} printed no URL within 30 s"))
            .unwrap()
            .unwrap_or_else(|| panic!("{script} exited before printing its URL"));
        let url = first
            .strip_prefix("URL=")
            .or_else(|| first.strip_prefix("listening on "))
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        TsServer {
            _child: child,
            url,
            stdout,
        }
    }

    /// The next stdout line that starts with `prefix`.
    async fn line(&mut self, prefix: &str) -> String {
        loop {
            let line = self
                .stdout
                .next_line()
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("the TS server exited before printing {prefix:?}"));
            if line.starts_with(prefix) {
                return line;
            }
        }
    }
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Notifications of `method` received so far.
fn drain_of(
    rx: &mut broadcast::Receiver<ServerNotification>,
    method: &str,
) -> Vec<ServerNotification> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .filter(|n| n.method == method)
        .collect()
}

async fn exercise(mode: Mode) {
    let mut server = TsServer::start(mode).await;
    let client = Client::builder("oxmcp-http-interop", "1.0.0")
        .request_timeout(Duration::from_secs(30))
        .sampling(|p| async move {
            let asked = serde_json::to_value(&p.messages).unwrap().to_string();
            Ok(serde_json::from_value::<CreateMessageResult>(json!({
                "role": "assistant",
                "content": { "type": "text", "text": format!("hi from oxmcp ({} bytes asked)", asked.len()) },
                "model": "oxmcp-test-model",
                "stopReason": "endTurn"
            }))
            .unwrap())
        })
        .elicitation(|_| async {
            Ok(serde_json::from_value::<ElicitResult>(
                json!({ "action": "accept", "content": { "name": "Ada" } }),
            )
            .unwrap())
        })
        .connect_url(&server.url)
        .await
        .unwrap();
    let stateful = mode != Mode::Stateless;
    let run = async {
        let mut notes = client.notifications();
        assert_eq!(client.server_info().unwrap().name, "ts-sdk-http");
        // The 1.x server does not speak 2026-07-28: the client fell back to initialize.
        assert!(!client.is_modern());
        assert_eq!(
            client.protocol_version(),
            Some(oxmcp::ProtocolVersion::V2025_11_25)
        );
        client.ping().await.unwrap();

        // Tools.
        let names: Vec<String> = client
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        for want in [
            "echo", "progress", "ask", "sample", "slow", "poll", "whoami",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
        let r = client
            .call_tool("echo", json!({ "message": "hi" }))
            .await
            .unwrap();
        assert_eq!(text(&r), "Echo: hi");
        let bad = client.call_tool("echo", json!({})).await;
        // The SDK reports invalid arguments as a tool error or a JSON-RPC error.
        match bad {
            Ok(r) => assert_eq!(r.is_error, Some(true), "{r:?}"),
            Err(e) => assert!(e.rpc().is_some(), "{e}"),
        }

        // Progress and logs: related notifications ride the POST's SSE stream; a JSON
        // reply has no room for them (the SDK drops them).
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        let opts = CallOptions::default().on_progress(move |p| {
            counter.fetch_add(1, Ordering::SeqCst);
            assert!(p.progress > 0.0);
        });
        let r = client
            .call_tool_with("progress", json!({ "steps": 3 }), opts)
            .await
            .unwrap();
        assert_eq!(text(&r), "done 3");
        let logs = drain_of(&mut notes, "notifications/message");
        if mode == Mode::Json {
            assert_eq!(seen.load(Ordering::SeqCst), 0);
        } else {
            assert_eq!(seen.load(Ordering::SeqCst), 3);
            let data: Vec<_> = logs.iter().map(|n| n.params["data"].clone()).collect();
            assert_eq!(
                data,
                vec![json!("step 1"), json!("step 2"), json!("step 3")]
            );
        }

        // Resources, templates, completion.
        let resources = client.list_all_resources().await.unwrap();
        assert!(
            resources.iter().any(|r| r.uri == "test://greeting"),
            "{resources:?}"
        );
        let doc = client.read_resource("test://greeting").await.unwrap();
        assert!(
            serde_json::to_value(&doc)
                .unwrap()
                .to_string()
                .contains("Hello from the TS SDK")
        );
        let templates = client.list_all_resource_templates().await.unwrap();
        assert_eq!(templates.len(), 1, "{templates:?}");
        let item = client.read_resource("test://items/beta").await.unwrap();
        assert!(
            serde_json::to_value(&item)
                .unwrap()
                .to_string()
                .contains("item beta")
        );
        let done = client
            .complete(
                json!({ "type": "ref/resource", "uri": "test://items/{id}" }),
                "id",
                "b",
            )
            .await
            .unwrap();
        assert_eq!(done.completion.values, vec!["beta"]);

        // Prompts and completion.
        let prompts: Vec<String> = client
            .list_all_prompts()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(prompts, vec!["greet"]);
        let p = client
            .get_prompt(
                "greet",
                HashMap::from([("name".to_owned(), "Ada".to_owned())]),
            )
            .await
            .unwrap();
        assert!(
            serde_json::to_value(&p)
                .unwrap()
                .to_string()
                .contains("Hello Ada")
        );
        let done = client
            .complete(
                json!({ "type": "ref/prompt", "name": "greet" }),
                "name",
                "A",
            )
            .await
            .unwrap();
        assert_eq!(done.completion.values, vec!["Ada", "Alan"]);

        if !stateful {
            // Without a session the server cannot route the client's answers back.
            return String::new();
        }

        // The server's requests, answered by the client's handlers (in JSON mode they
        // arrive on the GET stream).
        let elicited = client.call_tool("ask", json!({})).await.unwrap();
        assert_eq!(text(&elicited), r#"accept: {"name":"Ada"}"#);
        let sampled = client.call_tool("sample", json!({})).await.unwrap();
        assert!(
            text(&sampled).starts_with("sampled: hi from oxmcp")
                && text(&sampled).contains("oxmcp-test-model"),
            "{sampled:?}"
        );

        if mode == Mode::Sse {
            // The server cuts the stream after one event; the client resumes it with
            // Last-Event-ID after the server's 200 ms retry and gets the rest.
            let r = client.call_tool("poll", json!({})).await.unwrap();
            assert_eq!(text(&r), "polled");
            let logs: Vec<_> = drain_of(&mut notes, "notifications/message")
                .into_iter()
                .map(|n| n.params["data"].clone())
                .collect();
            assert_eq!(
                logs,
                vec![json!("before the break"), json!("after the break")]
            );

            // Cancellation: dropping the call after its first progress notification.
            let (first_tx, first) = tokio::sync::oneshot::channel();
            let first_tx = std::sync::Mutex::new(Some(first_tx));
            let opts = CallOptions::default().on_progress(move |_| {
                if let Some(tx) = first_tx.lock().unwrap().take() {
                    let _ = tx.send(());
                }
            });
            let long = {
                let c = client.clone();
                tokio::spawn(async move { c.call_tool_with("slow", json!({}), opts).await })
            };
            first.await.unwrap();
            long.abort();
            assert!(long.await.unwrap_err().is_cancelled());
            server.line("cancelled ").await;
            client.ping().await.unwrap();
            assert_eq!(client.pending(), 0);
        }

        // The server forgets the session: the next request gets 404, the client starts
        // a new session and retries it.
        let first_session = text(&client.call_tool("whoami", json!({})).await.unwrap());
        let r = client.call_tool("expire-session", json!({})).await.unwrap();
        assert_eq!(text(&r), format!("forgetting {first_session}"));
        server.line(&format!("forgot {first_session}")).await;
        let second_session = text(&client.call_tool("whoami", json!({})).await.unwrap());
        assert_ne!(second_session, first_session);
        assert!(!second_session.is_empty() && second_session != "none");
        // The new session works for server requests too.
        let elicited = client.call_tool("ask", json!({})).await.unwrap();
        assert_eq!(text(&elicited), r#"accept: {"name":"Ada"}"#);
        client.ping().await.unwrap();
        second_session
    };
    let second_session = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .unwrap_or_else(|_| panic!("the {mode:?} scenario took over 120 s"));
    client.close().await;
    if stateful {
        // The DELETE ended the session on the server.
        let closed = tokio::time::timeout(
            Duration::from_secs(30),
            server.line(&format!("closed {second_session}")),
        )
        .await
        .expect("no DELETE reached the server");
        assert_eq!(closed, format!("closed {second_session}"));
    }
}

#[tokio::test]
async fn stateful_sse() {
    exercise(Mode::Sse).await;
}

#[tokio::test]
async fn stateful_json() {
    exercise(Mode::Json).await;
}

#[tokio::test]
async fn stateless() {
    exercise(Mode::Stateless).await;
}

/// The TypeScript SDK 2.x server: the oxmcp client (era `Auto`) speaks 2026-07-28 with it,
/// and answers its `input_required` call through the same elicitation handler; pinned to
/// the handshake revisions it is served too (the SDK's stateless fallback).
#[tokio::test]
async fn speaks_2026_07_28_with_the_typescript_sdk_2_server() {
    let server = TsServer::spawn("http-server2.mjs", &[]).await;
    let url = server.url.clone();
    let elicited = Arc::new(AtomicUsize::new(0));
    let seen = elicited.clone();
    let client = Client::builder("oxmcp-http-interop-2", "1.0.0")
        .request_timeout(Duration::from_secs(30))
        .elicitation(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
            async {
                Ok(serde_json::from_value::<ElicitResult>(
                    json!({ "action": "accept", "content": { "name": "Ada" } }),
                )
                .unwrap())
            }
        })
        .connect_url(&url)
        .await
        .unwrap();
    assert!(client.is_modern());
    assert_eq!(
        client.protocol_version(),
        Some(oxmcp::ProtocolVersion::V2026_07_28)
    );
    assert_eq!(client.server_info().unwrap().name, "ts-sdk-2-server");
    let names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["echo", "ask_name"]);
    let r = client
        .call_tool("echo", json!({ "text": "hi" }))
        .await
        .unwrap();
    assert_eq!(text(&r), "hi");
    let r = client.call_tool("ask_name", json!({})).await.unwrap();
    assert_eq!(text(&r), "Hello, Ada!");
    assert_eq!(elicited.load(Ordering::SeqCst), 1);
    let doc = client.read_resource("test://doc").await.unwrap();
    assert_eq!(
        serde_json::to_value(&doc.contents[0]).unwrap()["text"],
        "the doc"
    );
    let p = client.get_prompt("hello", HashMap::new()).await.unwrap();
    assert_eq!(p.messages.len(), 1);
    client.close().await;

    let legacy = Client::builder("oxmcp-http-interop-2", "1.0.0")
        .era(oxmcp::client::Era::Legacy)
        .connect_url(&url)
        .await
        .unwrap();
    assert!(!legacy.is_modern());
    let r = legacy
        .call_tool("echo", json!({ "text": "old" }))
        .await
        .unwrap();
    assert_eq!(text(&r), "old");
    legacy.close().await;
}
