//! The Streamable HTTP transport, driven in process through its tower service: every
//! refusal status with its JSON-RPC body, the JSON-or-SSE choice, resumption with
//! `Last-Event-ID`, both disconnect cases, DELETE and the protocol-version header.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::http::{Sse, initialize, json_body, post, request, send};
use http::StatusCode;
use oxmcp::model::CallToolResult;
use oxmcp::server::{Server, Tool};
use oxmcp::transport::http::{HttpOptions, HttpService};
use oxmcp_testkit::until;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

#[derive(Deserialize, JsonSchema)]
struct Count {
    n: u32,
}

/// What the gated tool reports to the test.
struct Probe {
    /// Permits the gated tool waits for between its first and second half.
    gate: Arc<Semaphore>,
    finished: AtomicUsize,
    cancelled: AtomicUsize,
}

fn server(probe: Arc<Probe>) -> Server {
    let p = probe.clone();
    Server::builder("http-test", "0")
        .tool(Tool::new(
            "quick",
            "Answers at once.",
            |_: NoArgs, _| async { Ok(CallToolResult::text("quick")) },
        ))
        .tool(Tool::new(
            "chatty",
            "Sends n progress notifications, then answers.",
            |a: Count, ctx| async move {
                for i in 1..=a.n {
                    ctx.progress(f64::from(i), Some(f64::from(a.n)), None)
                        .await?;
                }
                Ok(CallToolResult::text(format!("sent {}", a.n)))
            },
        ))
        .tool(Tool::new(
            "gated",
            "Progress 1, waits for the test's permit, progress 2 and 3, answers.",
            move |_: NoArgs, ctx| {
                let p = p.clone();
                async move {
                    struct OnDrop(Arc<Probe>, bool);
                    impl Drop for OnDrop {
                        fn drop(&mut self) {
                            if !self.1 {
                                self.0.cancelled.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                    let mut guard = OnDrop(p.clone(), false);
                    ctx.progress(1.0, Some(3.0), None).await?;
                    p.gate.acquire().await.unwrap().forget();
                    ctx.progress(2.0, Some(3.0), None).await?;
                    ctx.progress(3.0, Some(3.0), None).await?;
                    guard.1 = true;
                    p.finished.fetch_add(1, Ordering::SeqCst);
                    Ok(CallToolResult::text("gated done"))
                }
            },
        ))
        .tool(
            Tool::new(
                "silent",
                "Waits for the test's permit, then answers; sends nothing before.",
                {
                    let p = probe.clone();
                    move |_: NoArgs, _| {
                        let p = p.clone();
                        async move {
                            p.gate.acquire().await.unwrap().forget();
                            Ok(CallToolResult::text("silent done"))
                        }
                    }
                },
            )
            .task_support(oxmcp::server::TaskSupport::Optional),
        )
        .tool(Tool::new(
            "roots",
            "Asks the client for its roots.",
            |_: NoArgs, ctx| async move {
                let roots = ctx.roots("roots").await?;
                Ok(CallToolResult::text(format!("{} roots", roots.roots.len())))
            },
        ))
        .enable_tasks()
        .build()
}

fn service(opts: HttpOptions) -> (HttpService, Arc<Probe>) {
    let (svc, probe, _) = service_and_server(opts);
    (svc, probe)
}

fn service_and_server(opts: HttpOptions) -> (HttpService, Arc<Probe>, Server) {
    let probe = Arc::new(Probe {
        gate: Arc::new(Semaphore::new(0)),
        finished: AtomicUsize::new(0),
        cancelled: AtomicUsize::new(0),
    });
    let server = server(probe.clone());
    (HttpService::new(server.clone(), opts), probe, server)
}

fn call(id: u64, name: &str, args: Value, progress: bool) -> Value {
    let mut params = json!({ "name": name, "arguments": args });
    if progress {
        params["_meta"] = json!({ "progressToken": format!("p{id}") });
    }
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":params})
}

/// The request with header `name` set to `value` (replacing the default).
fn with(mut r: http::request::Builder, name: &'static str, value: &str) -> http::request::Builder {
    r.headers_mut()
        .unwrap()
        .insert(name, http::HeaderValue::from_str(value).unwrap());
    r
}

/// Asserts a refusal: the status, and a JSON-RPC error body without id whose message
/// contains `names`.
async fn assert_refused(
    resp: http::Response<oxmcp::transport::http::HttpBody>,
    status: StatusCode,
    names: &str,
) {
    assert_eq!(resp.status(), status);
    let body = json_body(resp).await;
    assert_eq!(body["jsonrpc"], "2.0");
    assert!(body.get("id").is_none(), "{body}");
    assert_eq!(body["error"]["code"], -32600, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(names),
        "message {message:?} should name {names:?}"
    );
}

#[tokio::test]
async fn every_refusal_has_its_status_and_names_the_problem() {
    let mut opts = HttpOptions::default().loopback();
    opts.max_body = 2048;
    let (svc, _) = service(opts);
    let sid = initialize(&svc, "2025-11-25").await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

    // 400: no session id on a request other than initialize.
    assert_refused(
        send(&svc, request("POST", None), ping).await,
        StatusCode::BAD_REQUEST,
        "Mcp-Session-Id",
    )
    .await;
    // 400: an unsupported protocol revision in the header.
    let r = request("POST", Some(&sid)).header("mcp-protocol-version", "1999-01-01");
    assert_refused(
        send(&svc, r, ping).await,
        StatusCode::BAD_REQUEST,
        "1999-01-01",
    )
    .await;
    // 403: a Host that is not loopback (DNS rebinding), and a foreign Origin.
    let r = with(request("POST", Some(&sid)), "host", "evil.example.com");
    assert_refused(
        send(&svc, r, ping).await,
        StatusCode::FORBIDDEN,
        "evil.example.com",
    )
    .await;
    let r = request("POST", Some(&sid)).header("origin", "http://evil.example.com");
    assert_refused(
        send(&svc, r, ping).await,
        StatusCode::FORBIDDEN,
        "evil.example.com",
    )
    .await;
    // The server's own origin passes.
    let r = request("POST", Some(&sid)).header("origin", "http://127.0.0.1:8080");
    assert_eq!(send(&svc, r, ping).await.status(), StatusCode::OK);
    // 404: an unknown session, and another path.
    assert_refused(
        send(&svc, request("POST", Some("feedface")), ping).await,
        StatusCode::NOT_FOUND,
        "feedface",
    )
    .await;
    let r = request("POST", Some(&sid)).uri("/other");
    assert_refused(send(&svc, r, ping).await, StatusCode::NOT_FOUND, "/other").await;
    // 405: a method the endpoint does not take.
    let resp = send(&svc, request("PUT", Some(&sid)), ping).await;
    assert_eq!(resp.headers()["allow"], "GET, POST, DELETE");
    assert_refused(resp, StatusCode::METHOD_NOT_ALLOWED, "GET, POST, DELETE").await;
    // 406: a client that does not take SSE.
    let r = with(request("POST", Some(&sid)), "accept", "application/json");
    assert_refused(
        send(&svc, r, ping).await,
        StatusCode::NOT_ACCEPTABLE,
        "text/event-stream",
    )
    .await;
    // 413: a body over the limit.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(4096)
    );
    assert_refused(
        send(&svc, request("POST", Some(&sid)), &big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "2048",
    )
    .await;
    // 415: a body that is not JSON by its Content-Type.
    let r = with(request("POST", Some(&sid)), "content-type", "text/plain");
    assert_refused(
        send(&svc, r, ping).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "text/plain",
    )
    .await;
    // 400 with the parse error's code for a body that is not JSON at all.
    let resp = send(&svc, request("POST", Some(&sid)), "{not json").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(resp).await["error"]["code"], -32700);
    // And the session still serves.
    let resp = send(&svc, request("POST", Some(&sid)), ping).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json_body(resp).await["result"], json!({}));
}

#[tokio::test]
async fn a_stateless_endpoint_refuses_get_and_delete() {
    let mut opts = HttpOptions::default();
    opts.stateless = true;
    let (svc, _) = service(opts);
    for method in ["GET", "DELETE"] {
        let resp = send(&svc, request(method, None), "").await;
        assert_eq!(resp.headers()["allow"], "POST");
        assert_refused(resp, StatusCode::METHOD_NOT_ALLOWED, "POST").await;
    }
    // Without a header, a stateless request is served under 2025-03-26.
    let resp = post(&svc, None, call(1, "quick", json!({}), false)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        json_body(resp).await["result"]["content"][0]["text"],
        "quick"
    );
}

#[tokio::test]
async fn json_when_nothing_precedes_the_result_sse_when_something_does() {
    let (svc, _) = service(HttpOptions::default());
    let sid = initialize(&svc, "2025-11-25").await;
    let resp = post(&svc, Some(&sid), call(1, "quick", json!({}), true)).await;
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(
        json_body(resp).await["result"]["content"][0]["text"],
        "quick"
    );

    let resp = post(&svc, Some(&sid), call(2, "chatty", json!({"n": 3}), true)).await;
    let mut sse = Sse::new(resp);
    // 2025-11-25: the priming event first (an id, the retry, no data).
    let priming = sse.next().await.unwrap();
    assert!(priming.id.is_some() && priming.data.is_empty());
    assert_eq!(priming.retry, Some(1000));
    for i in 1..=3 {
        let ev = sse.message().await.unwrap().json();
        assert_eq!(ev["method"], "notifications/progress");
        assert_eq!(ev["params"]["progress"], json!(f64::from(i)));
    }
    let result = sse.message().await.unwrap().json();
    assert_eq!(result["id"], 2);
    assert_eq!(result["result"]["content"][0]["text"], "sent 3");
    assert!(
        sse.next().await.is_none(),
        "the stream ends after the result"
    );
    assert_eq!(svc.stats().held_streams, 0);
}

#[tokio::test]
async fn older_sessions_get_no_priming_event() {
    let (svc, _) = service(HttpOptions::default());
    let sid = initialize(&svc, "2025-06-18").await;
    let mut sse = Sse::new(post(&svc, Some(&sid), call(1, "chatty", json!({"n": 1}), true)).await);
    let first = sse.next().await.unwrap();
    assert_eq!(first.json()["method"], "notifications/progress");
    assert_eq!(first.retry, None);
}

#[tokio::test]
async fn a_dropped_stream_resumes_with_exactly_the_missed_events() {
    let (svc, probe, server) = service_and_server(HttpOptions::default());
    let sid = initialize(&svc, "2025-11-25").await;
    let other = initialize(&svc, "2025-11-25").await;
    let mut sse = Sse::new(post(&svc, Some(&sid), call(7, "gated", json!({}), true)).await);
    let first = sse.message().await.unwrap();
    assert_eq!(first.json()["params"]["progress"], json!(1.0));
    let last_seen = first.id.clone().unwrap();
    drop(sse); // the client's connection drops

    probe.gate.add_permits(1);
    // A GET on the other session with this id replays nothing of this session's stream.
    let r = request("GET", Some(&other)).header("last-event-id", &last_seen);
    let mut foreign = Sse::new(send(&svc, r, "").await);
    // A GET with this session's id gets the rest, once, in order.
    let r = request("GET", Some(&sid)).header("last-event-id", &last_seen);
    let mut resumed = Sse::new(send(&svc, r, "").await);
    let mut got = Vec::new();
    while let Some(ev) = resumed.next().await {
        got.push(ev.json());
    }
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0]["params"]["progress"], json!(2.0));
    assert_eq!(got[1]["params"]["progress"], json!(3.0));
    assert_eq!(got[2]["result"]["content"][0]["text"], "gated done");
    assert_eq!(probe.finished.load(Ordering::SeqCst), 1);
    // The same id again: the stream is gone once its end was read; nothing is replayed
    // twice (the request is answered: the GET opens the general stream instead).
    let r = request("GET", Some(&sid)).header("last-event-id", &last_seen);
    let resp = send(&svc, r, "").await;
    assert_eq!(resp.status(), StatusCode::OK);
    // The foreign GET opened that session's general stream: an unrelated message
    // arrives there, and it is the first thing it reads (nothing was replayed).
    server.add_tool(Tool::new(
        "late",
        "Added while serving.",
        |_: NoArgs, _| async { Ok(CallToolResult::text("late")) },
    ));
    let ev = foreign.message().await.unwrap().json();
    assert_eq!(ev["method"], "notifications/tools/list_changed");
}

#[tokio::test]
async fn a_disconnect_does_not_cancel_a_session_request() {
    let (svc, probe) = service(HttpOptions::default());
    let sid = initialize(&svc, "2025-11-25").await;
    let mut sse = Sse::new(post(&svc, Some(&sid), call(1, "gated", json!({}), true)).await);
    assert_eq!(
        sse.message().await.unwrap().json()["params"]["progress"],
        json!(1.0)
    );
    drop(sse);
    assert_eq!(svc.stats().streams, 0);
    assert_eq!(svc.stats().handler_tasks, 1, "the handler runs on");
    probe.gate.add_permits(1);
    until(|| svc.stats().handler_tasks == 0).await;
    assert_eq!(probe.finished.load(Ordering::SeqCst), 1);
    assert_eq!(probe.cancelled.load(Ordering::SeqCst), 0);
    // The answer waits for a resuming client.
    assert_eq!(svc.stats().held_streams, 1);
}

#[tokio::test]
async fn a_disconnect_cancels_a_request_without_a_session() {
    let mut opts = HttpOptions::default();
    opts.stateless = true;
    let (svc, probe) = service(opts);
    let mut sse = Sse::new(post(&svc, None, call(1, "gated", json!({}), true)).await);
    assert_eq!(
        sse.message().await.unwrap().json()["params"]["progress"],
        json!(1.0)
    );
    assert_eq!(svc.stats().handler_tasks, 1);
    drop(sse);
    until(|| svc.stats().handler_tasks == 0).await;
    assert_eq!(probe.cancelled.load(Ordering::SeqCst), 1);
    probe.gate.add_permits(1);
    assert_eq!(probe.finished.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn delete_ends_the_session_and_its_handlers() {
    let (svc, probe) = service(HttpOptions::default());
    let sid = initialize(&svc, "2025-11-25").await;
    let mut sse = Sse::new(post(&svc, Some(&sid), call(1, "gated", json!({}), true)).await);
    assert_eq!(
        sse.message().await.unwrap().json()["params"]["progress"],
        json!(1.0)
    );
    let resp = send(&svc, request("DELETE", Some(&sid)), "").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        sse.next().await.is_none(),
        "the stream ends with the session"
    );
    until(|| probe.cancelled.load(Ordering::SeqCst) == 1).await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    assert_refused(
        send(&svc, request("POST", Some(&sid)), ping).await,
        StatusCode::NOT_FOUND,
        &sid,
    )
    .await;
    assert_eq!(svc.stats().sessions, 0);
}

#[tokio::test]
async fn a_session_keeps_its_negotiated_revision_whatever_the_header_says() {
    let (svc, _) = service(HttpOptions::default());
    let sid = initialize(&svc, "2025-06-18").await;
    // A supported but different revision in the header: served under 2025-06-18, so the
    // progress message (added in 2025-03-26) is kept but no priming event is sent.
    let body = call(1, "chatty", json!({"n": 1}), true).to_string();
    let r = request("POST", Some(&sid)).header("mcp-protocol-version", "2025-11-25");
    let mut sse = Sse::new(send(&svc, r, &body).await);
    let first = sse.next().await.unwrap();
    assert!(
        !first.data.is_empty(),
        "no priming event on a 2025-06-18 session"
    );
}

#[tokio::test]
async fn a_second_reader_of_the_general_stream_gets_409() {
    let (svc, _) = service(HttpOptions::default());
    let sid = initialize(&svc, "2025-11-25").await;
    let first = send(&svc, request("GET", Some(&sid)), "").await;
    assert_eq!(first.status(), StatusCode::OK);
    let second = send(&svc, request("GET", Some(&sid)), "").await;
    assert_refused(second, StatusCode::CONFLICT, "already").await;
    drop(first);
    let third = send(&svc, request("GET", Some(&sid)), "").await;
    assert_eq!(third.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_batch_on_2025_03_26_is_answered_with_one_array_that_ends_its_stream() {
    let (svc, _) = service(HttpOptions::default());
    let sid = initialize(&svc, "2025-03-26").await;
    let batch = json!([
        call(1, "quick", json!({}), false),
        call(2, "chatty", json!({"n": 2}), true)
    ]);
    let mut sse = Sse::new(post(&svc, Some(&sid), batch).await);
    for i in 1..=2 {
        let ev = sse.next().await.unwrap().json();
        assert_eq!(ev["params"]["progress"], json!(f64::from(i)));
    }
    let answer = sse.next().await.unwrap().json();
    let mut ids: Vec<i64> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2]);
    assert!(sse.next().await.is_none());
    assert_eq!(svc.stats().held_streams, 0);
    assert_eq!(svc.stats().in_flight, 0);
}

#[tokio::test]
async fn stateless_requests_offer_nothing_that_needs_a_session() {
    let mut opts = HttpOptions::default();
    opts.stateless = true;
    let (svc, _) = service(opts);
    let resp = post(
        &svc,
        None,
        json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion":"2025-11-25","capabilities":{"roots":{}},
            "clientInfo":{"name":"t","version":"0"}}}),
    )
    .await;
    assert!(resp.headers().get("mcp-session-id").is_none());
    let caps = json_body(resp).await["result"]["capabilities"].clone();
    assert!(caps.get("tasks").is_none(), "{caps}");
    assert!(caps["tools"].get("listChanged").is_none(), "{caps}");
    // A request to the client cannot be delivered: the tool says why.
    let body = call(1, "roots", json!({}), false).to_string();
    let r = with(request("POST", None), "mcp-protocol-version", "2025-11-25");
    let result = json_body(send(&svc, r, &body).await).await;
    assert_eq!(result["result"]["isError"], true);
    let text = result["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("without a session"), "{text}");
}

#[tokio::test]
async fn json_only_messages_before_the_first_get_are_delivered_to_it() {
    let mut opts = HttpOptions::default();
    opts.json_response = true;
    let (svc, _) = service(opts);
    let sid = initialize(&svc, "2025-11-25").await;
    let resp = post(&svc, Some(&sid), call(1, "chatty", json!({"n": 2}), true)).await;
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(
        json_body(resp).await["result"]["content"][0]["text"],
        "sent 2"
    );
    let mut get = Sse::new(send(&svc, request("GET", Some(&sid)), "").await);
    for i in 1..=2 {
        let ev = get.message().await.unwrap().json();
        assert_eq!(ev["params"]["progress"], json!(f64::from(i)));
    }
}

#[tokio::test]
async fn a_request_cancelled_before_it_sent_anything_gets_a_stream_with_nothing_to_resume() {
    let (svc, probe) = service(HttpOptions::default());
    let sid = initialize(&svc, "2025-11-25").await;
    let pending = tokio::spawn({
        let (svc, sid) = (svc.clone(), sid.clone());
        async move { post(&svc, Some(&sid), call(9, "silent", json!({}), false)).await }
    });
    until(|| svc.stats().handler_tasks == 1).await;
    let cancel =
        json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}});
    assert_eq!(
        post(&svc, Some(&sid), cancel).await.status(),
        StatusCode::ACCEPTED
    );
    let mut sse = Sse::new(pending.await.unwrap());
    assert_eq!(sse.next().await, None, "no event, not even a priming one");
    until(|| svc.stats().handler_tasks == 0).await;
    probe.gate.add_permits(1);
    assert_eq!(svc.stats().held_streams, 0);
}

#[tokio::test(start_paused = true)]
async fn idle_streams_get_a_keep_alive_comment_at_the_configured_interval() {
    use http_body_util::BodyExt;
    let mut opts = HttpOptions::default();
    opts.keep_alive = Some(std::time::Duration::from_secs(5));
    let (svc, _) = service(opts);
    let sid = initialize(&svc, "2025-06-18").await;
    let mut body = send(&svc, request("GET", Some(&sid)), "").await.into_body();
    let started = tokio::time::Instant::now();
    let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(&frame[..], b": keep-alive\n\n");
    assert_eq!(started.elapsed(), std::time::Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_session_with_a_working_task_outlives_its_idle_ttl() {
    let mut opts = HttpOptions::default();
    opts.session_ttl = std::time::Duration::from_secs(60);
    let (svc, probe) = service(opts);
    let sid = initialize(&svc, "2025-11-25").await;
    let mut create = call(1, "silent", json!({}), false);
    create["params"]["task"] = json!({ "ttl": 3_600_000 });
    let created = json_body(post(&svc, Some(&sid), create).await).await;
    assert_eq!(created["result"]["task"]["status"], "working", "{created}");
    tokio::time::sleep(std::time::Duration::from_secs(180)).await;
    assert_eq!(svc.stats().sessions, 1, "the task keeps its session");
    probe.gate.add_permits(1);
    tokio::time::sleep(std::time::Duration::from_secs(180)).await;
    assert_eq!(svc.stats().sessions, 0, "idle once the task is done");
}
