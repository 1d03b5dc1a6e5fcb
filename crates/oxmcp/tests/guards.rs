//! Every guard at its limit: the refusal (status or JSON-RPC error, naming the limit), the
//! metric that counts it, and another client served while the abusive one holds its slot.
//! Orderings only: no wall-time threshold is asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use oxmcp::guard::{BreakerPolicy, Principal, Rate};
use oxmcp::model::CallToolResult;
use oxmcp::server::ServerOptions;
use oxmcp::transport::http::{ClientAddr, HttpBody, HttpOptions, HttpService};
use oxmcp::{Error, Server, Tool};
use oxmcp_testkit::until;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

/// What the tools of [`server`] let a test see and steer.
struct Probe {
    /// `hold` waits for a permit.
    gate: Semaphore,
    /// `hold` calls that started.
    held: AtomicUsize,
    /// `flaky` and `slow` handler runs.
    runs: AtomicUsize,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            gate: Semaphore::new(0),
            held: AtomicUsize::new(0),
            runs: AtomicUsize::new(0),
        }
    }
}

fn server(opts: ServerOptions, probe: Arc<Probe>) -> Server {
    let (p1, p2, p3) = (probe.clone(), probe.clone(), probe);
    Server::builder("guards", "0")
        .options(opts)
        .tool(Tool::new("echo", "Answers ok.", |_: NoArgs, _| async {
            Ok(CallToolResult::text("ok"))
        }))
        .tool(Tool::new(
            "hold",
            "Waits for the test's permit.",
            move |_: NoArgs, _| {
                let p = p1.clone();
                async move {
                    p.held.fetch_add(1, Ordering::SeqCst);
                    let _permit = p.gate.acquire().await;
                    Ok(CallToolResult::text("released"))
                }
            },
        ))
        .tool(Tool::new("flaky", "Always fails.", move |_: NoArgs, _| {
            let p = p2.clone();
            async move {
                p.runs.fetch_add(1, Ordering::SeqCst);
                Err::<CallToolResult, _>(Error::failed("the backend is down"))
            }
        }))
        .tool(
            Tool::new("slow", "Outlives its timeout.", move |_: NoArgs, _| {
                let p = p3.clone();
                async move {
                    p.runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(CallToolResult::text("late"))
                }
            })
            .timeout(Duration::from_secs(1)),
        )
        .build()
}

fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, last], 40_000))
}

fn call(id: u64, tool: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":{}}})
}

fn initialize(id: u64) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},
        "clientInfo":{"name":"guards","version":"0"}}})
}

/// A POST of `body` from the client at `from`, with extra headers.
fn post(body: &Value, from: SocketAddr, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut b = Request::post("/mcp")
        .header("host", "localhost")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut req = b.body(Full::new(Bytes::from(body.to_string()))).unwrap();
    req.extensions_mut().insert(ClientAddr(from));
    req
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

async fn answer(resp: http::Response<HttpBody>) -> Answer {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = if headers
        .get("content-type")
        .is_some_and(|v| v == "text/event-stream")
    {
        // The last `data:` line of the stream: the answer.
        let text = String::from_utf8_lossy(&bytes);
        let last = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .rfind(|d| !d.is_empty())
            .unwrap_or("null")
            .to_owned();
        serde_json::from_str(&last).unwrap()
    } else if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Answer {
        status,
        headers,
        body,
    }
}

async fn send(svc: &HttpService, req: Request<Full<Bytes>>) -> Answer {
    answer(svc.handle(req).await).await
}

/// Asserts a refusal by limit `key`: `status`, `Retry-After`, and -31429 naming the key.
fn assert_limited(a: &Answer, status: StatusCode, key: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert!(a.headers.contains_key("retry-after"), "Retry-After is set");
    assert_eq!(a.body["error"]["code"], -31429, "{}", a.body);
    assert!(
        a.body["error"]["message"].as_str().unwrap().contains(key),
        "the message names {key}: {}",
        a.body
    );
    assert!(a.body["error"]["data"]["retryAfterMs"].is_u64());
}

fn is_echo(a: &Answer) -> bool {
    a.status == StatusCode::OK && a.body["result"]["content"][0]["text"] == "ok"
}

/// The value of sample `name` with `labels` in a `/metrics` scrape (parsed as the
/// Prometheus text format).
async fn metric(svc: &HttpService, name: &str, labels: &[(&str, &str)]) -> f64 {
    let (status, _, text) = common::scrape::scrape(svc, "localhost").await;
    assert_eq!(status, StatusCode::OK);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        .unwrap_or_else(|| panic!("no sample {name}{labels:?} in the scrape:\n{text}"));
    match sample.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => v,
        ref other => panic!("{name} is not a number: {other:?}"),
    }
}

async fn rejections(svc: &HttpService, reason: &str) -> f64 {
    metric(svc, "oxmcp_rejections_total", &[("reason", reason)]).await
}

fn stateless() -> HttpOptions {
    let mut o = HttpOptions::default().loopback();
    o.stateless = true;
    o.json_response = true;
    o
}

fn setup(opts: ServerOptions, http: HttpOptions) -> (HttpService, Arc<Probe>) {
    let probe = Arc::new(Probe::default());
    let svc = HttpService::new(server(opts, probe.clone()), http);
    (svc, probe)
}

#[tokio::test]
async fn at_max_in_flight_total_the_server_sheds_with_503_and_serves_again_after() {
    let mut opts = ServerOptions::default();
    opts.max_in_flight_total = 1;
    let (svc, probe) = setup(opts, stateless());
    let held = tokio::spawn({
        let svc = svc.clone();
        async move { send(&svc, post(&call(1, "hold"), addr(2), &[])).await }
    });
    until(|| probe.held.load(Ordering::SeqCst) == 1).await;

    // Another client, while the first holds the only place.
    let shed = send(&svc, post(&call(2, "echo"), addr(3), &[])).await;
    assert_limited(
        &shed,
        StatusCode::SERVICE_UNAVAILABLE,
        "max_in_flight_total",
    );
    assert_eq!(shed.body["id"], 2, "the shed request is answered by its id");
    assert_eq!(rejections(&svc, "max_in_flight_total").await, 1.0);
    assert_eq!(metric(&svc, "oxmcp_in_flight_requests", &[]).await, 1.0);

    probe.gate.add_permits(1);
    let a = held.await.unwrap();
    assert_eq!(a.body["result"]["content"][0]["text"], "released");
    assert!(is_echo(
        &send(&svc, post(&call(3, "echo"), addr(3), &[])).await
    ));
    assert_eq!(metric(&svc, "oxmcp_in_flight_requests", &[]).await, 0.0);
}

#[tokio::test]
async fn rate_per_ip_refuses_the_busy_address_and_serves_another() {
    let mut http = stateless();
    http.rate_per_ip = Some(Rate::new(2, Duration::from_secs(3600)));
    let (svc, _) = setup(ServerOptions::default(), http);
    for id in 1..=2 {
        assert!(is_echo(
            &send(&svc, post(&call(id, "echo"), addr(2), &[])).await
        ));
    }
    let limited = send(&svc, post(&call(3, "echo"), addr(2), &[])).await;
    assert_limited(&limited, StatusCode::TOO_MANY_REQUESTS, "rate_per_ip");
    // Another address, while the first is over its rate.
    assert!(is_echo(
        &send(&svc, post(&call(4, "echo"), addr(3), &[])).await
    ));
    assert_eq!(rejections(&svc, "rate_per_ip").await, 1.0);
}

#[tokio::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let mut http = stateless();
    http.rate_per_ip = Some(Rate::new(1, Duration::from_secs(3600)));
    http.trusted_proxies = vec![addr(9).ip()];
    let (svc, _) = setup(ServerOptions::default(), http);
    let via_proxy = |id, client: &str| {
        post(
            &call(id, "echo"),
            addr(9),
            &[("x-forwarded-for", &format!("{client}, 127.0.0.9"))],
        )
    };
    assert!(is_echo(&send(&svc, via_proxy(1, "10.0.0.1")).await));
    // Two clients behind one proxy have a budget each.
    assert!(is_echo(&send(&svc, via_proxy(2, "10.0.0.2")).await));
    let limited = send(&svc, via_proxy(3, "10.0.0.1")).await;
    assert_limited(&limited, StatusCode::TOO_MANY_REQUESTS, "rate_per_ip");
    // An untrusted peer cannot pick its address with the header.
    let spoof = post(
        &call(4, "echo"),
        addr(5),
        &[("x-forwarded-for", "10.0.0.3")],
    );
    assert!(is_echo(&send(&svc, spoof).await));
    let spoof = post(
        &call(5, "echo"),
        addr(5),
        &[("x-forwarded-for", "10.0.0.4")],
    );
    assert_eq!(
        send(&svc, spoof).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn rate_per_principal_keys_on_the_principal_extension() {
    let mut http = stateless();
    http.rate_per_principal = Some(Rate::new(1, Duration::from_secs(3600)));
    let (svc, _) = setup(ServerOptions::default(), http);
    // What an authentication layer in front would set.
    let as_user = |id, user: &str| {
        let mut r = post(&call(id, "echo"), addr(2), &[]);
        r.extensions_mut().insert(Principal::new(user));
        r
    };
    assert!(is_echo(&send(&svc, as_user(1, "alice")).await));
    let limited = send(&svc, as_user(2, "alice")).await;
    assert_limited(
        &limited,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_per_principal",
    );
    // Same address, another principal.
    assert!(is_echo(&send(&svc, as_user(3, "bob")).await));
    assert_eq!(rejections(&svc, "rate_per_principal").await, 1.0);
}

/// Opens a session from `from`: its id, or the refusal.
async fn open(svc: &HttpService, from: SocketAddr) -> Result<String, Answer> {
    let a = answer(svc.handle(post(&initialize(0), from, &[])).await).await;
    let Some(id) = a.headers.get("mcp-session-id") else {
        return Err(a);
    };
    let id = id.to_str().unwrap().to_owned();
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    let headers = [
        ("mcp-session-id", id.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    assert_eq!(
        send(svc, post(&note, from, &headers)).await.status,
        StatusCode::ACCEPTED
    );
    Ok(id)
}

async fn call_in(svc: &HttpService, session: &str, id: u64, tool: &str) -> Answer {
    let headers = [
        ("mcp-session-id", session),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    send(svc, post(&call(id, tool), addr(2), &headers)).await
}

#[tokio::test]
async fn rate_per_session_refuses_that_session_and_serves_another() {
    let mut opts = ServerOptions::default();
    opts.rate_per_session = Some(Rate::new(2, Duration::from_secs(3600)));
    let (svc, _) = setup(opts, HttpOptions::default().loopback());
    let a = open(&svc, addr(2)).await.unwrap();
    let b = open(&svc, addr(2)).await.unwrap();
    for id in 1..=2 {
        assert!(is_echo(&call_in(&svc, &a, id, "echo").await));
    }
    let limited = call_in(&svc, &a, 3, "echo").await;
    assert_limited(&limited, StatusCode::TOO_MANY_REQUESTS, "rate_per_session");
    assert!(is_echo(&call_in(&svc, &b, 1, "echo").await));
    assert_eq!(rejections(&svc, "rate_per_session").await, 1.0);
}

#[tokio::test]
async fn sessions_per_ip_are_bounded_and_come_back_after_delete() {
    let mut http = HttpOptions::default().loopback();
    http.max_sessions_per_ip = Some(1);
    let (svc, _) = setup(ServerOptions::default(), http);
    let first = open(&svc, addr(2)).await.unwrap();
    let refused = open(&svc, addr(2)).await.err().unwrap();
    assert_limited(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "max_sessions_per_ip",
    );
    // Another address opens one while the first holds its only session.
    let other = open(&svc, addr(3)).await.unwrap();
    assert!(is_echo(&call_in(&svc, &other, 1, "echo").await));
    assert_eq!(rejections(&svc, "max_sessions_per_ip").await, 1.0);

    let mut del = Request::delete("/mcp")
        .header("host", "localhost")
        .header("mcp-session-id", &first)
        .body(Full::new(Bytes::new()))
        .unwrap();
    del.extensions_mut().insert(ClientAddr(addr(2)));
    assert_eq!(svc.handle(del).await.status(), StatusCode::OK);
    assert!(open(&svc, addr(2)).await.is_ok(), "the slot came back");
    assert_eq!(metric(&svc, "oxmcp_sessions", &[]).await, 2.0);
}

#[tokio::test]
async fn initialize_rate_per_ip_refuses_a_flood_of_sessions() {
    let mut http = HttpOptions::default().loopback();
    http.initialize_rate_per_ip = Some(Rate::new(1, Duration::from_secs(3600)));
    let (svc, _) = setup(ServerOptions::default(), http);
    let first = open(&svc, addr(2)).await.unwrap();
    let refused = open(&svc, addr(2)).await.err().unwrap();
    assert_limited(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "initialize_rate_per_ip",
    );
    // The session it has goes on; another address opens one.
    assert!(is_echo(&call_in(&svc, &first, 1, "echo").await));
    assert!(open(&svc, addr(3)).await.is_ok());
    assert_eq!(rejections(&svc, "initialize_rate_per_ip").await, 1.0);
    assert_eq!(metric(&svc, "oxmcp_sessions_opened_total", &[]).await, 2.0);
}

#[tokio::test]
async fn max_sessions_refuses_with_503_and_retry_after() {
    let mut http = HttpOptions::default().loopback();
    http.max_sessions = 1;
    let (svc, _) = setup(ServerOptions::default(), http);
    let held = open(&svc, addr(2)).await.unwrap();
    let refused = open(&svc, addr(3)).await.err().unwrap();
    assert_limited(&refused, StatusCode::SERVICE_UNAVAILABLE, "max_sessions");
    assert!(is_echo(&call_in(&svc, &held, 1, "echo").await));
    assert_eq!(rejections(&svc, "max_sessions").await, 1.0);
}

#[tokio::test]
async fn an_oversize_body_is_413_and_counted() {
    let mut http = stateless();
    http.max_body = 1024;
    let (svc, _) = setup(ServerOptions::default(), http);
    let big = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"echo","arguments":{"pad":"x".repeat(2048)}}});
    let a = send(&svc, post(&big, addr(2), &[])).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(is_echo(
        &send(&svc, post(&call(2, "echo"), addr(3), &[])).await
    ));
    assert_eq!(rejections(&svc, "max_body").await, 1.0);
    assert!(metric(&svc, "oxmcp_http_request_bytes_total", &[]).await > 0.0);
    assert!(metric(&svc, "oxmcp_http_response_bytes_total", &[]).await > 0.0);
}

#[tokio::test(start_paused = true)]
async fn a_tool_past_its_timeout_answers_is_error_and_others_run_on() {
    let (svc, probe) = setup(ServerOptions::default(), stateless());
    let slow = tokio::spawn({
        let svc = svc.clone();
        async move { send(&svc, post(&call(1, "slow"), addr(2), &[])).await }
    });
    until(|| probe.runs.load(Ordering::SeqCst) == 1).await;
    // The slow call still runs: another is served meanwhile.
    assert!(is_echo(
        &send(&svc, post(&call(2, "echo"), addr(3), &[])).await
    ));
    let a = slow.await.unwrap();
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["result"]["isError"], true);
    let text = a.body["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("timed out after 1s"), "{text}");
    assert_eq!(rejections(&svc, "timeout").await, 1.0);
    assert_eq!(
        metric(
            &svc,
            "oxmcp_tool_calls_total",
            &[("tool", "slow"), ("outcome", "timeout")]
        )
        .await,
        1.0
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_tool_opens_its_breaker_then_half_opens_after_the_cool_down() {
    let mut opts = ServerOptions::default();
    opts.breaker = Some(BreakerPolicy::new(2, Duration::from_secs(30)));
    let (svc, probe) = setup(opts, stateless());
    for id in 1..=2 {
        let a = send(&svc, post(&call(id, "flaky"), addr(2), &[])).await;
        assert_eq!(a.body["result"]["isError"], true, "{}", a.body);
    }
    assert_eq!(probe.runs.load(Ordering::SeqCst), 2);
    // Open: the call fails fast, its handler does not run.
    let a = send(&svc, post(&call(3, "flaky"), addr(2), &[])).await;
    let text = a.body["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("circuit breaker is open"), "{text}");
    assert_eq!(probe.runs.load(Ordering::SeqCst), 2);
    // Other tools are not affected.
    assert!(is_echo(
        &send(&svc, post(&call(4, "echo"), addr(2), &[])).await
    ));
    assert_eq!(rejections(&svc, "breaker_open").await, 1.0);
    let state = |svc: HttpService| async move {
        metric(&svc, "oxmcp_tool_breaker_state", &[("tool", "flaky")]).await
    };
    assert_eq!(state(svc.clone()).await, 1.0);
    // Readiness reports it without failing.
    svc.health().set_ready();
    let ready = Request::get("/health/ready")
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let r = answer(svc.handle(ready).await).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["breakers"]["flaky"], "open");

    // After the cool-down one call tries again; it fails, so the breaker opens again.
    tokio::time::advance(Duration::from_secs(30)).await;
    let a = send(&svc, post(&call(5, "flaky"), addr(2), &[])).await;
    assert_eq!(a.body["result"]["isError"], true);
    assert_eq!(probe.runs.load(Ordering::SeqCst), 3, "the probe call ran");
    assert_eq!(state(svc.clone()).await, 1.0);
    let a = send(&svc, post(&call(6, "flaky"), addr(2), &[])).await;
    let text = a.body["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("circuit breaker is open"), "{text}");
}

#[tokio::test]
async fn the_stdio_session_has_its_rate_and_the_server_its_load_bound() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut opts = ServerOptions::default();
    opts.rate_per_session = Some(Rate::new(1, Duration::from_secs(3600)));
    opts.max_in_flight_total = 1;
    let probe = Arc::new(Probe::default());
    let server = server(opts, probe.clone());
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    let (sr, sw) = tokio::io::split(server_end);
    let serving = tokio::spawn(oxmcp::connection::serve_lines(server.clone(), sr, sw));
    let (cr, mut w) = tokio::io::split(client);
    let mut lines = BufReader::new(cr).lines();
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    w.write_all(format!("{}\n{note}\n", initialize(0)).as_bytes())
        .await
        .unwrap();
    lines.next_line().await.unwrap().unwrap();
    // The first call holds the only place in flight.
    w.write_all(format!("{}\n", call(1, "hold")).as_bytes())
        .await
        .unwrap();
    until(|| probe.held.load(Ordering::SeqCst) == 1).await;
    w.write_all(format!("{}\n", call(2, "echo")).as_bytes())
        .await
        .unwrap();
    let shed: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(shed["id"], 2);
    assert_eq!(shed["error"]["code"], -31429);
    assert_eq!(shed["error"]["data"]["limit"], "max_in_flight_total");
    probe.gate.add_permits(1);
    let held: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(held["id"], 1);
    // The session's rate: one request per hour, spent by the first call.
    w.write_all(format!("{}\n", call(3, "echo")).as_bytes())
        .await
        .unwrap();
    let limited: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(limited["error"]["code"], -31429, "{limited}");
    assert_eq!(limited["error"]["data"]["limit"], "rate_per_session");
    drop(w);
    drop(lines);
    serving.await.unwrap().unwrap();
    let text = server.metrics().render(Default::default());
    assert!(text.contains(r#"oxmcp_rejections_total{reason="rate_per_session"} 1"#));
    assert!(text.contains(r#"oxmcp_rejections_total{reason="max_in_flight_total"} 1"#));
}

#[tokio::test]
async fn max_in_flight_refuses_the_busy_session_and_serves_another() {
    let mut opts = ServerOptions::default();
    opts.limits.max_in_flight = 1;
    let (svc, probe) = setup(opts, HttpOptions::default().loopback());
    let busy = open(&svc, addr(2)).await.unwrap();
    let calm = open(&svc, addr(3)).await.unwrap();
    let held = tokio::spawn({
        let (svc, busy) = (svc.clone(), busy.clone());
        async move { call_in(&svc, &busy, 1, "hold").await }
    });
    until(|| probe.held.load(Ordering::SeqCst) == 1).await;
    let refused = call_in(&svc, &busy, 2, "echo").await;
    assert_eq!(refused.body["error"]["code"], -31429, "{}", refused.body);
    assert_eq!(refused.body["error"]["data"]["limit"], "max_in_flight");
    // Another session is served while the busy one holds its only place.
    assert!(is_echo(&call_in(&svc, &calm, 1, "echo").await));
    assert_eq!(rejections(&svc, "max_in_flight").await, 1.0);
    probe.gate.add_permits(1);
    assert_eq!(
        held.await.unwrap().body["result"]["content"][0]["text"],
        "released"
    );
}

#[tokio::test(start_paused = true)]
async fn the_request_timeout_ends_a_handler_and_is_counted() {
    let mut opts = ServerOptions::default();
    opts.limits.request_timeout = Some(Duration::from_secs(5));
    let (svc, probe) = setup(opts, stateless());
    let held = tokio::spawn({
        let svc = svc.clone();
        async move { send(&svc, post(&call(1, "hold"), addr(2), &[])).await }
    });
    until(|| probe.held.load(Ordering::SeqCst) == 1).await;
    assert!(is_echo(
        &send(&svc, post(&call(2, "echo"), addr(3), &[])).await
    ));
    let a = held.await.unwrap();
    assert_eq!(a.body["result"]["isError"], true, "{a:?}");
    assert_eq!(rejections(&svc, "timeout").await, 1.0);
    assert_eq!(metric(&svc, "oxmcp_in_flight_requests", &[]).await, 0.0);
}
