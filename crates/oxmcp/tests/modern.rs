//! MCP 2026-07-28 served beside the legacy revisions, driven in process: every reply
//! validates strictly against the 2026-07-28 schema, the validation ladder answers with the
//! spec's statuses and codes, an eliciting tool gives the same outcome under both eras, a
//! tampered `requestState` is refused, and stdio routes each message by its own era.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::http::{Sse, json_body, request, send};
use http::{Response, StatusCode};
use oxmcp::model::{CallToolResult, LoggingLevel};
use oxmcp::server::{Prompt, Resource, Server, Tool};
use oxmcp::transport::http::{HttpBody, HttpOptions, HttpService};
use oxmcp_testkit::schemas;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

const V: &str = "2026-07-28";

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

#[derive(Deserialize, JsonSchema)]
struct Echo {
    text: String,
}

/// The tool both eras run: asks the user's name, greets them.
fn greeter() -> Tool {
    Tool::new(
        "greet",
        "Asks the user's name, then greets them.",
        |_: NoArgs, ctx| async move {
            let answer = ctx
                .elicit(
                    "user_name",
                    serde_json::from_value(json!({
                        "message": "What is your name?",
                        "requestedSchema": { "type": "object",
                            "properties": { "name": { "type": "string" } }, "required": ["name"] }
                    }))?,
                )
                .await?;
            let name = answer
                .content
                .as_ref()
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("nobody")
                .to_owned();
            Ok(CallToolResult::text(format!("Hello, {name}!")))
        },
    )
}

fn server() -> Server {
    Server::builder("modern-test", "1.2.3")
        .tool(Tool::new("echo", "Echoes its text.", |a: Echo, _| async move {
            Ok(CallToolResult::text(a.text))
        }))
        .tool(greeter())
        .tool(Tool::new(
            "chatty",
            "Logs and reports progress, then answers.",
            |_: NoArgs, ctx| async move {
                ctx.log(LoggingLevel::Debug, "below any sensible level").await;
                ctx.log(LoggingLevel::Warning, "a warning").await;
                ctx.progress(1.0, Some(1.0), None).await?;
                Ok(CallToolResult::text("chatted"))
            },
        ))
        .tool(Tool::new(
            "sampler",
            "Needs the client's sampling capability.",
            |_: NoArgs, ctx| async move {
                let r = ctx
                    .sample(
                        "q",
                        serde_json::from_value(json!({
                            "messages": [{ "role": "user", "content": { "type": "text", "text": "hi" } }],
                            "maxTokens": 5
                        }))?,
                    )
                    .await?;
                Ok(CallToolResult::text(format!("{:?}", r.model)))
            },
        ))
        .resource(
            Resource::text("test://doc", "doc", "text/plain", "the doc")
                .cache(Duration::from_secs(30), oxmcp::proto::modern::model::CacheScope::Public),
        )
        .prompt(Prompt::new("plain", "A prompt.", |_, _| async {
            Ok(serde_json::from_value(json!({ "messages": [
                { "role": "user", "content": { "type": "text", "text": "hello" } }] }))?)
        }))
        .build()
}

fn meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": { "name": "modern-test", "version": "0" }
    })
}

/// A modern POST with the routing headers a conforming client sends.
async fn call(svc: &HttpService, id: u64, method: &str, mut params: Value) -> Response<HttpBody> {
    if params.get("_meta").is_none() {
        params["_meta"] = meta(json!({}));
    }
    let mut req = request("POST", None)
        .header("mcp-protocol-version", V)
        .header("mcp-method", method);
    let name = match method {
        "tools/call" | "prompts/get" => params["name"].as_str(),
        "resources/read" => params["uri"].as_str(),
        _ => None,
    };
    if let Some(n) = name {
        req = req.header("mcp-name", n);
    }
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    send(svc, req, &body.to_string()).await
}

/// The response message of a reply (JSON, or the last event of an SSE stream), with the
/// messages that came before it.
async fn reply(resp: Response<HttpBody>) -> (StatusCode, Value, Vec<Value>) {
    let status = resp.status();
    let sse = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
    if !sse {
        return (status, json_body(resp).await, Vec::new());
    }
    let mut events = Vec::new();
    let mut s = Sse::new(resp);
    while let Some(ev) = s.next().await {
        assert!(ev.id.is_none(), "2026-07-28 SSE events carry no id: {ev:?}");
        events.push(ev.json());
        if events.last().unwrap().get("id").is_some() {
            break;
        }
    }
    let last = events.pop().expect("a response");
    (status, last, events)
}

/// Checks a message against `def`. The generic error definitions describe the error
/// object; the 2026-07-28 ones (-32020 … -32022) the whole response.
fn check(def: &str, msg: &Value) {
    let (def, value) = match def {
        "InvalidParamsError" | "MethodNotFoundError" | "InternalError" | "ParseError" => {
            check("JSONRPCErrorResponse", msg);
            (def, &msg["error"])
        }
        _ => (def, msg),
    };
    if let Err(e) = schemas().check(V, def, true, value) {
        panic!("{def} does not validate: {e}\n{msg:#}");
    }
}

fn svc() -> HttpService {
    HttpService::new(server(), HttpOptions::default())
}

#[tokio::test]
async fn every_reply_validates_strictly_against_the_2026_07_28_schema() {
    let svc = svc();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("server/discover", json!({}), "DiscoverResultResponse"),
        ("tools/list", json!({}), "ListToolsResultResponse"),
        ("prompts/list", json!({}), "ListPromptsResultResponse"),
        ("resources/list", json!({}), "ListResourcesResultResponse"),
        (
            "resources/templates/list",
            json!({}),
            "ListResourceTemplatesResultResponse",
        ),
        (
            "resources/read",
            json!({ "uri": "test://doc" }),
            "ReadResourceResultResponse",
        ),
        (
            "prompts/get",
            json!({ "name": "plain" }),
            "GetPromptResultResponse",
        ),
        (
            "tools/call",
            json!({ "name": "echo", "arguments": { "text": "hi" } }),
            "CallToolResultResponse",
        ),
        (
            "tools/call",
            json!({ "name": "greet", "_meta": meta(json!({ "elicitation": {} })) }),
            "CallToolResultResponse",
        ),
        (
            "resources/read",
            json!({ "uri": "test://missing" }),
            "InvalidParamsError",
        ),
        (
            "tools/call",
            json!({ "name": "sampler" }),
            "MissingRequiredClientCapabilityError",
        ),
        ("ping", json!({}), "MethodNotFoundError"),
        ("initialize", json!({}), "MethodNotFoundError"),
    ];
    for (i, (method, params, def)) in cases.into_iter().enumerate() {
        let (status, msg, before) =
            reply(call(&svc, i as u64 + 1, method, params.clone()).await).await;
        assert!(
            before.is_empty(),
            "{method}: unexpected messages {before:?}"
        );
        assert_eq!(msg["id"], json!(i as u64 + 1), "{method} {params}: {msg}");
        check(def, &msg);
        let expected = match def {
            "MissingRequiredClientCapabilityError" => StatusCode::BAD_REQUEST,
            "MethodNotFoundError" => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        };
        assert_eq!(status, expected, "{method} {params}: {msg}");
        if let Some(result) = msg.get("result") {
            assert_eq!(
                result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "modern-test",
                "{method}: {msg}"
            );
        }
    }
    // The resource's own hint beats the server default (0, private).
    let (_, read, _) =
        reply(call(&svc, 50, "resources/read", json!({ "uri": "test://doc" })).await).await;
    assert_eq!(
        (
            read["result"]["ttlMs"].clone(),
            read["result"]["cacheScope"].clone()
        ),
        (json!(30000), json!("public"))
    );
    let (_, list, _) = reply(call(&svc, 51, "tools/list", json!({})).await).await;
    assert_eq!(
        (
            list["result"]["ttlMs"].clone(),
            list["result"]["cacheScope"].clone()
        ),
        (json!(0), json!("private"))
    );
}

#[tokio::test]
async fn progress_and_logs_ride_the_request_stream_and_logs_only_at_the_requested_level() {
    let svc = svc();
    let mut m = meta(json!({}));
    m["io.modelcontextprotocol/logLevel"] = json!("info");
    m["progressToken"] = json!("p1");
    let (status, last, before) = reply(
        call(
            &svc,
            1,
            "tools/call",
            json!({ "name": "chatty", "_meta": m }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    check("CallToolResultResponse", &last);
    let methods: Vec<&str> = before
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["notifications/message", "notifications/progress"]);
    assert_eq!(
        before[0]["params"]["level"], "warning",
        "debug is below info"
    );
    check("LoggingMessageNotification", &before[0]);
    check("ProgressNotification", &before[1]);
    // Without a level: no log messages at all, so a plain JSON reply.
    let (_, last, before) =
        reply(call(&svc, 2, "tools/call", json!({ "name": "chatty" })).await).await;
    assert!(before.is_empty(), "{before:?}");
    assert_eq!(last["result"]["content"][0]["text"], "chatted");
}

#[tokio::test]
async fn the_ladder_answers_in_the_spec_order_with_the_request_id() {
    let svc = svc();
    let body = |meta: Value| {
        json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": { "_meta": meta } })
            .to_string()
    };
    let cases = [
        // (version header, _meta, status, code)
        (None, meta(json!({})), 400, -32020),
        (
            Some(V),
            json!({ "io.modelcontextprotocol/protocolVersion": V }),
            400,
            -32602,
        ),
        (
            Some(V),
            meta(json!({}))
                .as_object()
                .map(|m| {
                    let mut m = m.clone();
                    m["io.modelcontextprotocol/protocolVersion"] = json!("2030-01-01");
                    Value::Object(m)
                })
                .unwrap(),
            400,
            -32020,
        ),
        (
            Some("2030-01-01"),
            meta(json!({}))
                .as_object()
                .map(|m| {
                    let mut m = m.clone();
                    m["io.modelcontextprotocol/protocolVersion"] = json!("2030-01-01");
                    Value::Object(m)
                })
                .unwrap(),
            400,
            -32022,
        ),
    ];
    for (header, m, status, code) in cases {
        let mut req = request("POST", None).header("mcp-method", "tools/list");
        if let Some(h) = header {
            req = req.header("mcp-protocol-version", h);
        }
        let resp = send(&svc, req, &body(m.clone())).await;
        assert_eq!(resp.status().as_u16(), status, "{header:?} {m}");
        let msg = json_body(resp).await;
        assert_eq!(msg["id"], 7, "{msg}");
        assert_eq!(msg["error"]["code"], code, "{header:?} {m}: {msg}");
    }
    // The routing headers: Mcp-Method missing, Mcp-Name disagreeing.
    let req = request("POST", None).header("mcp-protocol-version", V);
    let msg = json_body(send(&svc, req, &body(meta(json!({})))).await).await;
    assert_eq!(msg["error"]["code"], -32020);
    let req = request("POST", None)
        .header("mcp-protocol-version", V)
        .header("mcp-method", "tools/call")
        .header("mcp-name", "not-echo");
    let call = json!({ "jsonrpc": "2.0", "id": 8, "method": "tools/call",
        "params": { "name": "echo", "arguments": { "text": "x" }, "_meta": meta(json!({})) } });
    let resp = send(&svc, req, &call.to_string()).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let msg = json_body(resp).await;
    assert_eq!(
        (msg["id"].clone(), msg["error"]["code"].clone()),
        (json!(8), json!(-32020))
    );
    check("HeaderMismatchError", &msg);
}

/// Runs `greet` under 2026-07-28: input_required, then the retry with the answer.
async fn greet_modern(svc: &HttpService, name: &str) -> String {
    let caps = json!({ "elicitation": {} });
    let (_, first, _) = reply(
        call(
            svc,
            1,
            "tools/call",
            json!({ "name": "greet", "_meta": meta(caps.clone()) }),
        )
        .await,
    )
    .await;
    let r = &first["result"];
    assert_eq!(r["resultType"], "input_required", "{first}");
    assert_eq!(
        r["inputRequests"]["user_name"]["method"],
        "elicitation/create"
    );
    let state = r["requestState"]
        .as_str()
        .expect("a requestState")
        .to_owned();
    let answer = json!({ "user_name": { "action": "accept", "content": { "name": name } } });
    let (_, done, _) = reply(
        call(
            svc,
            2,
            "tools/call",
            json!({ "name": "greet", "_meta": meta(caps),
            "inputResponses": answer, "requestState": state }),
        )
        .await,
    )
    .await;
    check("CallToolResultResponse", &done);
    assert_eq!(done["result"]["resultType"], "complete");
    done["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_eliciting_tool_gives_the_same_outcome_under_both_eras() {
    use oxmcp::client::{Client, Era};
    use oxmcp::model::ElicitResult;
    // Over raw HTTP: input_required, then the retry with the answer.
    let modern_http = greet_modern(&svc(), "Ada").await;
    // The same handler, driven by the same client code: on a legacy session through a
    // real elicitation/create, under 2026-07-28 through input_required and a retry.
    let mut outcomes = Vec::new();
    for era in [Era::Legacy, Era::Auto] {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let (sr, sw) = tokio::io::split(server_io);
        tokio::spawn(oxmcp::connection::serve_lines(server(), sr, sw));
        let (cr, cw) = tokio::io::split(client_io);
        let client = Client::builder("both-eras", "0")
            .era(era)
            .elicitation(|_params| async move {
                Ok(serde_json::from_value::<ElicitResult>(
                    json!({ "action": "accept", "content": { "name": "Ada" } }),
                )
                .unwrap())
            })
            .connect(cr, cw)
            .await
            .unwrap();
        let version = client.protocol_version().map(|v| v.as_str());
        let r = client.call_tool("greet", json!({})).await.unwrap();
        outcomes.push((version, r.content[0].as_text().map(str::to_owned)));
    }
    assert_eq!(
        outcomes,
        [
            (Some("2025-11-25"), Some(modern_http.clone())),
            (Some("2026-07-28"), Some(modern_http.clone())),
        ]
    );
    assert_eq!(modern_http, "Hello, Ada!");
}

#[tokio::test]
async fn a_tampered_or_misapplied_request_state_is_refused() {
    let svc = svc();
    let caps = json!({ "elicitation": {} });
    let (_, first, _) = reply(
        call(
            &svc,
            1,
            "tools/call",
            json!({ "name": "greet", "_meta": meta(caps.clone()) }),
        )
        .await,
    )
    .await;
    let state = first["result"]["requestState"].as_str().unwrap().to_owned();
    let mut bytes = state.clone().into_bytes();
    bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(bytes).unwrap();
    let answer = json!({ "user_name": { "action": "accept", "content": { "name": "Eve" } } });
    for (name, s) in [("greet", forged.as_str()), ("echo", state.as_str())] {
        let (status, msg, _) = reply(
            call(
                &svc,
                2,
                "tools/call",
                json!({ "name": name, "arguments": { "text": "x" }, "_meta": meta(caps.clone()),
                "inputResponses": answer, "requestState": s }),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(msg["error"]["code"], -32602, "{name}: {msg}");
        assert!(
            msg["error"]["message"]
                .as_str()
                .unwrap()
                .contains("requestState"),
            "{msg}"
        );
        check("InvalidParamsError", &msg);
    }
    // A broken answer is refused, not re-asked.
    let (_, msg, _) = reply(
        call(
            &svc,
            3,
            "tools/call",
            json!({ "name": "greet", "_meta": meta(caps),
            "inputResponses": { "user_name": { "action": 42 } }, "requestState": state }),
        )
        .await,
    )
    .await;
    assert_eq!(msg["error"]["code"], -32602, "{msg}");
}

#[tokio::test]
async fn a_listen_stream_acknowledges_then_forwards_only_what_was_asked_tagged() {
    let server = server();
    let svc = HttpService::new(server.clone(), HttpOptions::default());
    let resp = call(&svc, 9, "subscriptions/listen",
        json!({ "notifications": { "toolsListChanged": true, "promptsListChanged": true, "resourceSubscriptions": ["test://doc"] } })).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut sse = Sse::new(resp);
    let ack = sse.message().await.unwrap().json();
    check("SubscriptionsAcknowledgedNotification", &ack);
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        9
    );
    // The server declared listChanged for tools and prompts and subscribe for resources.
    assert_eq!(
        ack["params"]["notifications"],
        json!({ "toolsListChanged": true, "promptsListChanged": true, "resourceSubscriptions": ["test://doc"] })
    );
    server.notify_resource_updated("test://other");
    server.add_tool(Tool::new("late", "Added late.", |_: NoArgs, _| async {
        Ok(CallToolResult::text("late"))
    }));
    let ev = sse.message().await.unwrap().json();
    check("ToolListChangedNotification", &ev);
    assert_eq!(
        ev["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        9
    );
    server.notify_resource_updated("test://doc");
    let ev = sse.message().await.unwrap().json();
    assert_eq!(ev["method"], "notifications/resources/updated");
    assert_eq!(ev["params"]["uri"], "test://doc");
    check("ResourceUpdatedNotification", &ev);
    // Dropping the stream ends the listen handler.
    drop(sse);
    // The abort lands when the runtime next polls the handler's task.
    for _ in 0..100 {
        if svc.stats().handler_tasks == 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(svc.stats().handler_tasks, 0);
}

#[tokio::test]
async fn stdio_routes_each_message_by_its_own_era() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(oxmcp::connection::serve_lines(server(), sr, sw));
    let (cr, mut cw) = tokio::io::split(client_io);
    let mut lines = BufReader::new(cr).lines();
    let mut ask = async |msg: Value| {
        cw.write_all(format!("{msg}\n").as_bytes()).await.unwrap();
        let line = lines.next_line().await.unwrap().unwrap();
        serde_json::from_str::<Value>(&line).unwrap()
    };
    let d = ask(json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": { "_meta": meta(json!({})) } })).await;
    check("DiscoverResultResponse", &d);
    assert_eq!(d["result"]["supportedVersions"], json!([V]));
    // A legacy request on the same connection before initialize is refused by the legacy
    // engine; a modern one is served.
    let l = ask(json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" })).await;
    assert_eq!(l["error"]["code"], -32600, "{l}");
    let e = ask(json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": { "name": "echo", "arguments": { "text": "modern" }, "_meta": meta(json!({})) } })).await;
    assert_eq!(e["result"]["content"][0]["text"], "modern");
    check("CallToolResultResponse", &e);
    // No header checks on stdio, but the _meta ladder holds.
    let bad = ask(json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/list",
        "params": { "_meta": { "io.modelcontextprotocol/protocolVersion": V } } }))
    .await;
    assert_eq!(bad["error"]["code"], -32602);
}

#[tokio::test]
async fn shutdown_ends_listen_streams_with_a_tagged_final_result() {
    // HTTP: draining the service ends the stream with the complete result.
    let server = server();
    let svc = HttpService::new(server.clone(), HttpOptions::default());
    let resp = call(
        &svc,
        4,
        "subscriptions/listen",
        json!({ "notifications": { "toolsListChanged": true } }),
    )
    .await;
    let mut sse = Sse::new(resp);
    let ack = sse.message().await.unwrap().json();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    svc.drain();
    let end = sse.message().await.unwrap().json();
    check("SubscriptionsListenResultResponse", &end);
    assert_eq!(end["id"], 4);
    assert_eq!(
        end["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        4
    );
    assert!(sse.next().await.is_none(), "the stream ended");

    // stdio: a cancelled notification for the stream's id, then the result.
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let server = self::server();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(oxmcp::connection::serve_lines(server.clone(), sr, sw));
    let (cr, mut cw) = tokio::io::split(client_io);
    let mut lines = BufReader::new(cr).lines();
    let listen = json!({ "jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen",
        "params": { "notifications": { "promptsListChanged": true }, "_meta": meta(json!({})) } });
    cw.write_all(format!("{listen}\n").as_bytes())
        .await
        .unwrap();
    let mut next =
        async || serde_json::from_str::<Value>(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(
        next().await["method"],
        "notifications/subscriptions/acknowledged"
    );
    server.end_listens();
    let cancelled = next().await;
    assert_eq!(
        (
            cancelled["method"].clone(),
            cancelled["params"]["requestId"].clone()
        ),
        (json!("notifications/cancelled"), json!("L"))
    );
    let end = next().await;
    check("SubscriptionsListenResultResponse", &end);
}

#[tokio::test]
async fn extension_tasks_are_bounded_server_wide_and_cancel_to_a_terminal_status() {
    let mut opts = oxmcp::server::ServerOptions::default();
    opts.tasks.max_server_tasks = 1;
    let server = Server::builder("tasks-bound", "1")
        .options(opts)
        .tool(
            Tool::new("wait", "Waits until cancelled.", |_: NoArgs, _| async {
                std::future::pending::<()>().await;
                Ok(CallToolResult::text("never"))
            })
            .task_support(oxmcp::server::TaskSupport::Optional),
        )
        .build();
    let svc = HttpService::new(server.clone(), HttpOptions::default());
    let ext = json!({ "extensions": { "io.modelcontextprotocol/tasks": {} } });
    let (_, first, _) = reply(
        call(
            &svc,
            1,
            "tools/call",
            json!({ "name": "wait", "_meta": meta(ext.clone()) }),
        )
        .await,
    )
    .await;
    assert_eq!(first["result"]["resultType"], "task", "{first}");
    let task = first["result"]["taskId"].as_str().unwrap().to_owned();
    assert_eq!(server.stats().1.tasks, 1);
    // The store is full: the next task-creating call is refused, saying which bound.
    let (_, second, _) = reply(
        call(
            &svc,
            2,
            "tools/call",
            json!({ "name": "wait", "_meta": meta(ext.clone()) }),
        )
        .await,
    )
    .await;
    assert_eq!(
        second["error"]["code"],
        oxmcp::proto::error::OVERLOADED,
        "{second}"
    );
    assert!(
        second["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_server_tasks")
    );
    // Cancel the task: acknowledged with an empty complete result; it reads cancelled.
    let mut req = request("POST", None)
        .header("mcp-protocol-version", V)
        .header("mcp-method", "tasks/cancel")
        .header("mcp-name", task.as_str());
    let body = json!({ "jsonrpc": "2.0", "id": 3, "method": "tasks/cancel",
        "params": { "taskId": task, "_meta": meta(ext.clone()) } });
    let ack = json_body(send(&svc, req, &body.to_string()).await).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    req = request("POST", None)
        .header("mcp-protocol-version", V)
        .header("mcp-method", "tasks/get")
        .header("mcp-name", task.as_str());
    let body = json!({ "jsonrpc": "2.0", "id": 4, "method": "tasks/get",
        "params": { "taskId": task, "_meta": meta(ext) } });
    let got = json_body(send(&svc, req, &body.to_string()).await).await;
    assert_eq!(got["result"]["status"], "cancelled", "{got}");
}
