//! The client under 2026-07-28, against an oxmcp server in process with a tap on the wire:
//! every request it sends validates against the 2026-07-28 schema, the response cache
//! serves within `ttlMs` and refetches after it (and after a list change), and the era
//! choice holds (pinned modern refuses an older server, auto falls back to it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use oxmcp::client::{Client, ClientBuilder, Era, SubscriptionFilter};
use oxmcp::model::{CallToolResult, ElicitResult};
use oxmcp::proto::modern::model::{CacheHint, CacheScope};
use oxmcp::server::{Prompt, Resource, Server, ServerOptions, Tool};
use oxmcp_testkit::schemas;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

#[derive(Deserialize, JsonSchema)]
struct Echo {
    text: String,
}

fn server(tools_ttl: Duration) -> Server {
    let mut opts = ServerOptions::default();
    opts.modern.cache.tools = CacheHint::new(tools_ttl.as_millis() as u64, CacheScope::Public);
    Server::builder("client-modern-test", "1")
        .options(opts)
        .tool(Tool::new("echo", "Echoes.", |a: Echo, _| async move {
            Ok(CallToolResult::text(a.text))
        }))
        .tool(Tool::new("greet", "Asks a name.", |_: NoArgs, ctx| async move {
            let a = ctx
                .elicit(
                    "user_name",
                    serde_json::from_value(json!({ "message": "Name?",
                        "requestedSchema": { "type": "object", "properties": { "name": { "type": "string" } } } }))?,
                )
                .await?;
            Ok(CallToolResult::text(format!("Hello, {}!", a.content.unwrap_or_default()["name"].as_str().unwrap_or("?"))))
        }))
        .resource(Resource::text("test://doc", "doc", "text/plain", "the doc"))
        .prompt(Prompt::new("plain", "A prompt.", |_, _| async {
            Ok(serde_json::from_value(json!({ "messages": [
                { "role": "user", "content": { "type": "text", "text": "hello" } }] }))?)
        }))
        .build()
}

/// What the client wrote, one JSON message per line, in order.
type Wire = Arc<Mutex<Vec<Value>>>;

/// Connects `builder` to `server` through a tap that records what the client writes.
async fn connect(
    server: Server,
    builder: ClientBuilder,
) -> (Result<Client, oxmcp::client::ClientError>, Wire) {
    let (client_io, tap_io) = tokio::io::duplex(64 * 1024);
    let (tap_server_io, server_io) = tokio::io::duplex(64 * 1024);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(oxmcp::connection::serve_lines(server, sr, sw));
    let wire: Wire = Arc::default();
    let (tap_r, mut tap_w) = tokio::io::split(tap_io);
    let (ts_r, mut ts_w) = tokio::io::split(tap_server_io);
    let w = wire.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(tap_r).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            w.lock().unwrap().push(serde_json::from_str(&line).unwrap());
            if ts_w
                .write_all(format!("{line}\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    });
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut tokio::io::BufReader::new(ts_r), &mut tap_w).await;
    });
    let (cr, cw) = tokio::io::split(client_io);
    (builder.connect(cr, cw).await, wire)
}

fn builder() -> ClientBuilder {
    Client::builder("client-modern-test", "1").elicitation(|_| async {
        Ok(serde_json::from_value::<ElicitResult>(
            json!({ "action": "accept", "content": { "name": "Ada" } }),
        )
        .unwrap())
    })
}

fn count(wire: &Wire, method: &str) -> usize {
    wire.lock()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == method)
        .count()
}

#[tokio::test]
async fn every_request_sent_under_2026_07_28_validates_against_the_schema() {
    let (client, wire) = connect(server(Duration::ZERO), builder()).await;
    let client = client.unwrap();
    assert!(client.is_modern());
    client.list_all_tools().await.unwrap();
    client
        .call_tool("echo", json!({ "text": "hi" }))
        .await
        .unwrap();
    let r = client.call_tool("greet", json!({})).await.unwrap();
    assert_eq!(r.content[0].as_text(), Some("Hello, Ada!"));
    client.list_all_prompts().await.unwrap();
    client
        .get_prompt("plain", Default::default())
        .await
        .unwrap();
    client.list_all_resources().await.unwrap();
    client.read_resource("test://doc").await.unwrap();
    client.list_all_resource_templates().await.unwrap();
    let sub = client
        .listen(SubscriptionFilter {
            tools_list_changed: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(sub.acknowledged.tools_list_changed, Some(true));
    drop(sub);
    let sent = wire.lock().unwrap().clone();
    let def = |m: &str| match m {
        "server/discover" => "DiscoverRequest",
        "tools/list" => "ListToolsRequest",
        "tools/call" => "CallToolRequest",
        "prompts/list" => "ListPromptsRequest",
        "prompts/get" => "GetPromptRequest",
        "resources/list" => "ListResourcesRequest",
        "resources/read" => "ReadResourceRequest",
        "resources/templates/list" => "ListResourceTemplatesRequest",
        "subscriptions/listen" => "SubscriptionsListenRequest",
        other => panic!("the client sent {other}"),
    };
    for m in &sent {
        let method = m["method"].as_str().unwrap();
        if let Err(e) = schemas().check_message("2026-07-28", def(method), m) {
            panic!("{method} does not validate: {e}\n{m:#}");
        }
    }
    // The retry of greet carried the answer and the server's state, under a fresh id.
    let greets: Vec<&Value> = sent
        .iter()
        .filter(|m| m["params"]["name"] == "greet")
        .collect();
    assert_eq!(greets.len(), 2);
    assert_ne!(greets[0]["id"], greets[1]["id"]);
    assert!(greets[0]["params"].get("inputResponses").is_none());
    assert_eq!(
        greets[1]["params"]["inputResponses"]["user_name"]["action"],
        "accept"
    );
    assert!(greets[1]["params"]["requestState"].is_string());
    // Nothing from the MRTR round leaked into the requests that followed.
    let after = sent
        .iter()
        .skip_while(|m| m["params"]["name"] != "greet")
        .skip(2);
    for m in after {
        assert!(
            m["params"].get("inputResponses").is_none()
                && m["params"].get("requestState").is_none(),
            "{m}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_cache_serves_within_ttl_and_refetches_after_it_or_a_list_change() {
    let server = server(Duration::from_secs(10));
    let (client, wire) = connect(server.clone(), builder()).await;
    let client = client.unwrap();
    client.list_tools(None).await.unwrap();
    client.list_tools(None).await.unwrap();
    assert_eq!(
        count(&wire, "tools/list"),
        1,
        "served from the cache within ttlMs"
    );
    // Prompts carry ttlMs 0 (the default): never cached.
    client.list_prompts(None).await.unwrap();
    client.list_prompts(None).await.unwrap();
    assert_eq!(count(&wire, "prompts/list"), 2);
    tokio::time::advance(Duration::from_millis(10_001)).await;
    client.list_tools(None).await.unwrap();
    assert_eq!(count(&wire, "tools/list"), 2, "refetched after ttlMs");
    client.list_tools(None).await.unwrap();
    assert_eq!(count(&wire, "tools/list"), 2);
    // A list change on a listen stream drops the cached list at once.
    let _sub = client
        .listen(SubscriptionFilter {
            tools_list_changed: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut notes = client.notifications();
    server.add_tool(Tool::new("late", "Added late.", |_: NoArgs, _| async {
        Ok(CallToolResult::text("late"))
    }));
    loop {
        if notes.recv().await.unwrap().method == "notifications/tools/list_changed" {
            break;
        }
    }
    let tools = client.list_tools(None).await.unwrap();
    assert_eq!(count(&wire, "tools/list"), 3, "refetched after the change");
    assert!(tools.tools.iter().any(|t| t.name == "late"));
}

#[tokio::test(start_paused = true)]
async fn pinned_modern_refuses_an_older_server_and_auto_falls_back_to_it() {
    // A handshake-only server: answers anything before initialize with an error.
    async fn legacy_server(era: Era, silent: bool) -> Result<Client, oxmcp::client::ClientError> {
        let (client_io, server_io) = tokio::io::duplex(4096);
        let (sr, mut sw) = tokio::io::split(server_io);
        tokio::spawn(async move {
            let mut lines = BufReader::new(sr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let m: Value = serde_json::from_str(&line).unwrap();
                let reply = match m["method"].as_str() {
                    Some("initialize") => json!({ "jsonrpc": "2.0", "id": m["id"], "result": {
                        "protocolVersion": "2025-11-25", "capabilities": { "tools": {} },
                        "serverInfo": { "name": "old", "version": "1" } } }),
                    Some("server/discover") if silent => continue,
                    _ if m.get("id").is_some() => json!({ "jsonrpc": "2.0", "id": m["id"],
                        "error": { "code": -32600, "message": "not initialized" } }),
                    _ => continue,
                };
                sw.write_all(format!("{reply}\n").as_bytes()).await.unwrap();
            }
        });
        let (cr, cw) = tokio::io::split(client_io);
        Client::builder("t", "1")
            .era(era)
            .discover_timeout(Duration::from_secs(2))
            .connect(cr, cw)
            .await
    }
    let auto = legacy_server(Era::Auto, false).await.unwrap();
    assert!(!auto.is_modern());
    assert_eq!(
        auto.protocol_version(),
        Some(oxmcp::ProtocolVersion::V2025_11_25)
    );
    let pinned = legacy_server(Era::Modern, false).await.unwrap_err();
    assert!(pinned.to_string().contains("2026-07-28"), "{pinned}");
    // A server that stays silent on the probe (stdio): after discover_timeout, initialize.
    let silent = legacy_server(Era::Auto, true).await.unwrap();
    assert!(!silent.is_modern());
}
