//! The guards that need real connections: connection caps in the accept loop (clients
//! bound to 127.0.0.2, 127.0.0.3…: all of 127/8 is loopback) and a client that stops
//! reading its stream. Orderings and counts only; no wall-time threshold is asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::tcp::{client, connect, raw_post, start};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use oxmcp::model::CallToolResult;
use oxmcp::transport::http::{HttpOptions, HttpService};
use oxmcp::{Server, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

fn echo_call() -> Request<Full<Bytes>> {
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"echo","arguments":{}}});
    Request::post("/mcp")
        .header("host", "localhost")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

async fn status_and_body(
    send: &mut SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> (StatusCode, http::HeaderMap, Bytes) {
    let resp = send.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

/// The value of `name{labels}` in a scrape over `send`.
async fn metric(send: &mut SendRequest<Full<Bytes>>, name: &str, labels: &str) -> f64 {
    let req = Request::get("/metrics")
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, _, body) = status_and_body(send, req).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body.to_vec()).unwrap();
    let key = format!("{name}{labels} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&key))
        .unwrap_or_else(|| panic!("no {key} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

fn echo_server() -> Server {
    Server::builder("tcp-guards", "0")
        .tool(Tool::new("echo", "Answers ok.", |_: NoArgs, _| async {
            Ok(CallToolResult::text("ok"))
        }))
        .build()
}

#[tokio::test]
async fn connection_caps_refuse_the_extra_connection_and_serve_the_others() {
    let mut opts = HttpOptions::default().loopback();
    opts.stateless = true;
    opts.json_response = true;
    opts.max_connections = 2;
    opts.max_connections_per_ip = Some(1);
    let svc = HttpService::new(echo_server(), opts);
    let addr = start(&svc).await;

    let mut a = client(2, addr).await;
    assert_eq!(status_and_body(&mut a, echo_call()).await.0, StatusCode::OK);
    // A second connection from the same address, while the first is open.
    let mut a2 = client(2, addr).await;
    let (status, headers, body) = status_and_body(&mut a2, echo_call()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(headers["connection"], "close");
    assert!(
        String::from_utf8_lossy(&body).contains("max_connections_per_ip"),
        "{body:?}"
    );
    // Another address is served while the first holds its only connection.
    let mut b = client(3, addr).await;
    assert_eq!(status_and_body(&mut b, echo_call()).await.0, StatusCode::OK);
    // The listener is full now: a third address is refused with 503.
    let mut c = client(4, addr).await;
    let (status, _, body) = status_and_body(&mut c, echo_call()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&body).contains("max_connections"));
    // The connections still open are served.
    assert_eq!(status_and_body(&mut a, echo_call()).await.0, StatusCode::OK);
    assert_eq!(
        metric(
            &mut b,
            "oxmcp_rejections_total",
            r#"{reason="max_connections_per_ip"}"#
        )
        .await,
        1.0
    );
    assert_eq!(
        metric(
            &mut b,
            "oxmcp_rejections_total",
            r#"{reason="max_connections"}"#
        )
        .await,
        1.0
    );
    assert_eq!(metric(&mut b, "oxmcp_connections", "").await, 2.0);

    // Closing a connection gives its place back.
    drop(a);
    let mut open = metric(&mut b, "oxmcp_connections", "").await;
    for _ in 0..10_000 {
        if open < 2.0 {
            break;
        }
        tokio::task::yield_now().await;
        open = metric(&mut b, "oxmcp_connections", "").await;
    }
    assert_eq!(open, 1.0);
    let mut again = client(2, addr).await;
    assert_eq!(
        status_and_body(&mut again, echo_call()).await.0,
        StatusCode::OK
    );
}

/// The bytes of one HTTP/1 request with a JSON body.
#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_and_the_handler_goes_on() {
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let done_tx = std::sync::Mutex::new(Some(done_tx));
    // Far more than the socket buffers hold: 400 progress messages of 64 KiB.
    let server = Server::builder("slow-reader", "0")
        .tool(Tool::new("echo", "Answers ok.", |_: NoArgs, _| async {
            Ok(CallToolResult::text("ok"))
        }))
        .tool(Tool::new(
            "flood",
            "Sends progress faster than anyone reads.",
            move |_: NoArgs, ctx| {
                let done = done_tx.lock().unwrap().take();
                async move {
                    let text = "x".repeat(64 * 1024);
                    for i in 0..400 {
                        ctx.progress(f64::from(i + 1), None, Some(&text)).await?;
                        // As a tool that works between reports would.
                        tokio::task::yield_now().await;
                    }
                    if let Some(d) = done {
                        let _ = d.send(());
                    }
                    Ok(CallToolResult::text("flooded"))
                }
            },
        ))
        .build();
    let mut opts = HttpOptions::default().loopback();
    opts.replay_events = 4;
    opts.slow_reader_timeout = Duration::from_millis(200);
    let svc = HttpService::new(server, opts);
    let addr = start(&svc).await;

    // A session, opened over an ordinary connection.
    let mut admin = client(3, addr).await;
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let req = Request::post("/mcp")
        .header("host", "localhost")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(init.to_string())))
        .unwrap();
    let resp = admin.send_request(req).await.unwrap();
    let session = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    resp.into_body().collect().await.unwrap();

    // The slow client: sends the call, reads the start of the answer, then stops reading.
    let mut slow = connect(2, addr).await;
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
        "name":"flood","arguments":{},"_meta":{"progressToken":"p"}}});
    slow.write_all(&raw_post(
        &call,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-11-25"),
        ],
    ))
    .await
    .unwrap();
    let mut head = [0u8; 512];
    let n = slow.read(&mut head).await.unwrap();
    assert!(
        String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&head[..n])
    );

    // The handler finishes although its client reads nothing more: it was not held up.
    tokio::time::timeout(Duration::from_secs(120), done_rx)
        .await
        .expect("the handler finished")
        .unwrap();
    assert_eq!(
        metric(
            &mut admin,
            "oxmcp_rejections_total",
            r#"{reason="slow_reader"}"#
        )
        .await,
        1.0
    );
    // Meanwhile another client is served.
    let mut other = client(4, addr).await;
    assert_eq!(
        status_and_body(&mut other, echo_call_in(&session)).await.0,
        StatusCode::OK
    );
    // The slow client's connection was closed by the server: what the kernel buffered
    // drains, then the end.
    let mut rest = Vec::new();
    // Ended cleanly or by a reset: either way, closed.
    let _ended = tokio::time::timeout(Duration::from_secs(120), slow.read_to_end(&mut rest))
        .await
        .expect("the server closed the connection");
    assert!(
        rest.len() < 400 * 64 * 1024,
        "the cut-off client did not get the whole flood ({} bytes)",
        rest.len()
    );
    assert_eq!(metric(&mut admin, "oxmcp_streams", "").await, 0.0);
}

fn echo_call_in(session: &str) -> Request<Full<Bytes>> {
    let mut req = echo_call();
    req.headers_mut()
        .insert("mcp-session-id", session.parse().unwrap());
    req.headers_mut()
        .insert("mcp-protocol-version", "2025-11-25".parse().unwrap());
    req
}

/// `metric` once the server has counted up to `want` (a connection's refusal is counted
/// as its task ends, just after the client saw it closed); bounded.
async fn metric_reaches(send: &mut SendRequest<Full<Bytes>>, name: &str, labels: &str, want: f64) {
    let bound = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let v = metric(send, name, labels).await;
        if v == want {
            return;
        }
        assert!(
            v < want && tokio::time::Instant::now() < bound,
            "{name}{labels} is {v}, wanted {want}"
        );
        tokio::task::yield_now().await;
    }
}

/// What the server sent on `tcp` until it closed the connection (bounded).
async fn until_closed(tcp: &mut tokio::net::TcpStream) -> String {
    let mut got = Vec::new();
    let _ended = tokio::time::timeout(Duration::from_secs(120), tcp.read_to_end(&mut got))
        .await
        .expect("the server closed the connection");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn request_heads_too_large_too_many_or_too_slow_are_refused_and_counted() {
    let mut opts = HttpOptions::default().loopback();
    opts.stateless = true;
    opts.json_response = true;
    opts.max_header_bytes = 8 * 1024;
    opts.max_headers = 20;
    opts.header_timeout = Duration::from_secs(1);
    let svc = HttpService::new(echo_server(), opts);
    let addr = start(&svc).await;

    // A client that trickles its head: it holds its connection, sending nothing more.
    let mut slow = connect(2, addr).await;
    slow.write_all(b"POST /mcp HTTP/1.1\r\nhost: localhost\r\n")
        .await
        .unwrap();
    // Another client is served while it holds it.
    let mut good = client(3, addr).await;
    assert_eq!(
        status_and_body(&mut good, echo_call()).await.0,
        StatusCode::OK
    );

    // A head over max_header_bytes, and one with more than max_headers headers.
    let big = format!(
        "GET /health/live HTTP/1.1\r\nhost: localhost\r\nx-big: {}\r\n\r\n",
        "b".repeat(16 * 1024)
    );
    let mut many = String::from("GET /health/live HTTP/1.1\r\nhost: localhost\r\n");
    for i in 0..40 {
        many.push_str(&format!("x-h{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    for head in [big, many] {
        let mut tcp = connect(4, addr).await;
        tcp.write_all(head.as_bytes()).await.unwrap();
        let answer = until_closed(&mut tcp).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
    }
    // The trickling client is cut off once header_timeout has passed.
    let answer = until_closed(&mut slow).await;
    assert!(!answer.contains("200 OK"), "{answer:?}");
    // A fresh connection: an idle one may itself be closed by header_timeout.
    let mut admin = client(5, addr).await;
    metric_reaches(
        &mut admin,
        "oxmcp_rejections_total",
        r#"{reason="max_header_bytes"}"#,
        2.0,
    )
    .await;
    metric_reaches(
        &mut admin,
        "oxmcp_rejections_total",
        r#"{reason="header_timeout"}"#,
        1.0,
    )
    .await;
    assert_eq!(
        status_and_body(&mut admin, echo_call()).await.0,
        StatusCode::OK
    );
}
