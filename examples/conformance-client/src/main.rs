//! `oxmcp-conformance-client`: the client that the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`) runs against its scenario servers, over Streamable
//! HTTP.
//!
//! Usage: `oxmcp-conformance-client <server url>`, with the scenario's name in the
//! environment variable `MCP_CONFORMANCE_SCENARIO`. `MCP_CONFORMANCE_PROTOCOL_VERSION`
//! picks the era: absent or a handshake revision pins `initialize` (as the 0.1.16 suite
//! expects), 2026-07-28 pins the stateless revision; there the client does what
//! `MCP_CONFORMANCE_CONTEXT` lists (`toolCalls`) or uses every tool, resource and prompt
//! the server offers. It connects, lists the tools (if the
//! server offers any), does what
//! the scenario asks and closes the session; it exits 0 when every step succeeded. An
//! unknown scenario gets the generic run: connect, list tools, close.
//!
//! Elicitation requests are accepted with the schema's defaults filled in, as a user who
//! submits the pre-filled form would (SEP-1034).

use std::time::Duration;

use anyhow::{Context as _, bail};
use oxmcp::client::{Client, Era, HttpClientTransport};
use oxmcp::model::{CreateMessageResult, ElicitRequestParams, ElicitResult};
use serde_json::{Map, Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let url = std::env::args().nth(1).context(
        "usage: oxmcp-conformance-client <server url> (scenario in MCP_CONFORMANCE_SCENARIO)",
    )?;
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    eprintln!("oxmcp-conformance-client: scenario {scenario:?} at {url}");
    tokio::time::timeout(Duration::from_secs(25), run(&url, &scenario))
        .await
        .context("the scenario took over 25 s")?
}

/// The era the suite runs the scenario in: `MCP_CONFORMANCE_PROTOCOL_VERSION` names the
/// revision (the 0.1.16 suite sets none: the handshake revisions, as it expects).
fn era() -> Era {
    match std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION") {
        Ok(v) if oxmcp::proto::modern::is_modern_version(&v) => Era::Modern,
        _ => Era::Legacy,
    }
}

async fn run(url: &str, scenario: &str) -> anyhow::Result<()> {
    let client = Client::builder("oxmcp-conformance-client", env!("CARGO_PKG_VERSION"))
        .era(era())
        .request_timeout(Duration::from_secs(20))
        .elicitation(|params| async move {
            let content = match &params {
                ElicitRequestParams::Form(form) => defaults(&form.requested_schema),
                _ => Map::new(),
            };
            serde_json::from_value::<ElicitResult>(
                json!({ "action": "accept", "content": content }),
            )
            .map_err(|e| oxmcp::ErrorObject::internal(e.to_string()))
        })
        .roots(|| async {
            serde_json::from_value::<oxmcp::model::ListRootsResult>(
                json!({ "roots": [{ "uri": "file:///tmp/oxmcp-conformance", "name": "conformance" }] }),
            )
            .map_err(|e| oxmcp::ErrorObject::internal(e.to_string()))
        })
        .sampling(|_| async {
            serde_json::from_value::<CreateMessageResult>(json!({
                "role": "assistant",
                "content": { "type": "text", "text": "A reply from oxmcp-conformance-client." },
                "model": "oxmcp-conformance-model",
                "stopReason": "endTurn"
            }))
            .map_err(|e| oxmcp::ErrorObject::internal(e.to_string()))
        })
        .connect_http(HttpClientTransport::new(url))
        .await
        .context("connecting")?;
    let outcome = scenario_steps(&client, scenario).await;
    client.close().await;
    outcome
}

async fn scenario_steps(client: &Client, scenario: &str) -> anyhow::Result<()> {
    if client.is_modern() && scenario != "tools_call" {
        return exercise(client).await;
    }
    if client.server_capabilities().tools.is_none() {
        eprintln!("the server offers no tools");
        return Ok(());
    }
    let tools = client.list_all_tools().await.context("tools/list")?;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    eprintln!("tools: {names:?}");
    let call = |name: &'static str, args: Value| async move {
        if !names.contains(&name) {
            bail!("the server offers no tool {name} (it has {names:?})");
        }
        let r = client
            .call_tool(name, args)
            .await
            .with_context(|| format!("tools/call {name}"))?;
        eprintln!("{name}: {}", serde_json::to_string(&r).unwrap_or_default());
        if r.is_error == Some(true) {
            bail!("{name} returned an error result");
        }
        Ok(())
    };
    match scenario {
        "tools_call" => call("add_numbers", json!({ "a": 5, "b": 3 })).await,
        "elicitation-sep1034-client-defaults" => {
            call("test_client_elicitation_defaults", json!({})).await
        }
        "sse-retry" => call("test_reconnection", json!({})).await,
        _ => Ok(()),
    }
}

/// Under 2026-07-28: does what the scenario's context asks (`toolCalls`), else uses
/// everything the server offers: every tool (with arguments that fit its schema), every
/// resource, every prompt. Errors the server returns are reported, not fatal: a scenario
/// judges the client's requests, and its mock servers answer some of them with errors.
async fn exercise(client: &Client) -> anyhow::Result<()> {
    let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(Value::Null);
    let caps = client.server_capabilities();
    let tools = if caps.tools.is_some() {
        client.list_all_tools().await.context("tools/list")?
    } else {
        Vec::new()
    };
    let calls: Vec<(String, Value)> = match context.get("toolCalls").and_then(Value::as_array) {
        Some(calls) => calls
            .iter()
            .filter_map(|c| {
                Some((
                    c.get("name")?.as_str()?.to_owned(),
                    c.get("arguments").cloned().unwrap_or(json!({})),
                ))
            })
            .collect(),
        None => tools
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    Value::Object(sample_arguments(&t.input_schema)),
                )
            })
            .collect(),
    };
    for (name, args) in calls {
        match client.call_tool(&name, args).await {
            Ok(r) => eprintln!("{name}: {}", serde_json::to_string(&r).unwrap_or_default()),
            Err(e) => eprintln!("{name}: error {e}"),
        }
    }
    if caps.resources.is_some() {
        for r in client
            .list_all_resources()
            .await
            .context("resources/list")?
        {
            if let Err(e) = client.read_resource(&r.uri).await {
                eprintln!("{}: error {e}", r.uri);
            }
        }
    }
    if caps.prompts.is_some() {
        for p in client.list_all_prompts().await.context("prompts/list")? {
            let args = p
                .arguments
                .iter()
                .flatten()
                .map(|a| (a.name.clone(), "test".to_owned()))
                .collect();
            if let Err(e) = client.get_prompt(&p.name, args).await {
                eprintln!("{}: error {e}", p.name);
            }
        }
    }
    Ok(())
}

/// Arguments that fit a schema's required properties (strings, numbers, booleans).
fn sample_arguments(schema: &Map<String, Value>) -> Map<String, Value> {
    let props = schema.get("properties").and_then(Value::as_object);
    let required = schema.get("required").and_then(Value::as_array);
    required
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|name| {
            let ty = props
                .and_then(|p| p.get(name))
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str);
            let value = match ty {
                Some("integer" | "number") => json!(1),
                Some("boolean") => json!(true),
                Some("object") => json!({}),
                Some("array") => json!([]),
                _ => json!("test"),
            };
            (name.to_owned(), value)
        })
        .collect()
}

/// The form as the user submits it untouched: every property that has a `default`.
fn defaults(schema: &Map<String, Value>) -> Map<String, Value> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter_map(|(k, p)| Some((k.clone(), p.get("default")?.clone())))
                .collect()
        })
        .unwrap_or_default()
}
