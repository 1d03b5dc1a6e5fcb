//! The Streamable HTTP client against a scripted hyper server on loopback: resumption with
//! `Last-Event-ID` after exactly the server's `retry` (tokio's paused clock), backoff only
//! after a failed reconnection, re-initialisation on 404, DELETE on close, the headers of
//! every request, and HTTP failures turned into errors that name the status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use oxmcp::client::{Client, ClientError, HttpClientTransport, ReconnectPolicy};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// One request the server saw.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    headers: HeaderMap,
    body: Value,
    at: Instant,
}

impl Seen {
    fn rpc(&self) -> &str {
        self.body["method"].as_str().unwrap_or("")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

type Reply = Response<Full<Bytes>>;
type Script = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

fn json_reply(body: Value, session: Option<&str>) -> Reply {
    let mut r = Response::builder()
        .status(200)
        .header("content-type", "application/json");
    if let Some(s) = session {
        r = r.header("mcp-session-id", s);
    }
    r.body(Full::new(Bytes::from(body.to_string()))).unwrap()
}

fn sse_reply(events: &str) -> Reply {
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .body(Full::new(Bytes::from(events.to_owned())))
        .unwrap()
}

fn status(code: u16, body: &str) -> Reply {
    Response::builder()
        .status(code)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

fn init_result(id: &Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": {
        "protocolVersion": "2025-11-25",
        "capabilities": { "tools": {}, "logging": {} },
        "serverInfo": { "name": "scripted", "version": "1.0.0" }
    }})
}

/// Serves `script` on 127.0.0.1; returns the URL and every request seen, in order.
async fn serve(script: Script) -> (String, mpsc::UnboundedReceiver<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let script = script.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let script = script.clone();
                    let tx = tx.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let bytes = body.collect().await.unwrap().to_bytes();
                        let seen = Seen {
                            method: parts.method,
                            headers: parts.headers,
                            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                            at: Instant::now(),
                        };
                        let reply = script(&seen);
                        let _ = tx.send(seen);
                        Ok::<_, Infallible>(reply)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (url, rx)
}

/// The usual opening: initialize (session `s1`), initialized, and no GET stream.
fn opening(seen: &Seen, session: &str) -> Option<Reply> {
    match (seen.method.clone(), seen.rpc()) {
        (Method::POST, "initialize") => {
            Some(json_reply(init_result(&seen.body["id"]), Some(session)))
        }
        (Method::POST, "notifications/initialized") => Some(status(202, "")),
        (Method::GET, _) if seen.header("last-event-id").is_none() => Some(status(405, "")),
        (Method::DELETE, _) => Some(status(200, "")),
        _ => None,
    }
}

fn client() -> oxmcp::client::ClientBuilder {
    // The scripted server speaks the handshake revisions only.
    Client::builder("script-test", "1.0.0")
        .era(oxmcp::client::Era::Legacy)
        .request_timeout(Duration::from_secs(600))
}

/// Every request the server has seen so far (the client's requests are done, so every one
/// it sent has been recorded).
fn drain(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Vec<Seen> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

#[tokio::test(start_paused = true)]
async fn resumes_with_last_event_id_after_exactly_retry_then_backs_off() {
    let gets = Arc::new(Mutex::new(0));
    let script: Script = Arc::new(move |seen| {
        if let Some(r) = opening(seen, "s1") {
            return r;
        }
        match (seen.method.clone(), seen.rpc()) {
            (Method::POST, "tools/call") => sse_reply(&format!(
                "id: e1\nretry: 500\ndata: \n\nid: e2\ndata: {}\n\n",
                json!({ "jsonrpc": "2.0", "method": "notifications/message",
                        "params": { "level": "info", "data": "working" } })
            )),
            (Method::GET, _) => {
                let mut n = gets.lock();
                *n += 1;
                if *n == 1 {
                    status(503, "busy")
                } else {
                    // The id of the call is the one the POST carried.
                    sse_reply(&format!(
                        "id: e3\ndata: {}\n\n",
                        json!({ "jsonrpc": "2.0", "id": 2, "result": {
                            "content": [{ "type": "text", "text": "resumed" }] } })
                    ))
                }
            }
            _ => status(500, "unexpected"),
        }
    });
    let (url, mut seen) = serve(script).await;
    let c = client()
        .connect_http(HttpClientTransport::new(&url).header("x-test", "yes"))
        .await
        .unwrap();
    let mut notes = c.notifications();
    let r = c.call_tool("slow", json!({})).await.unwrap();
    assert_eq!(r.content[0].as_text(), Some("resumed"));
    assert_eq!(notes.recv().await.unwrap().method, "notifications/message");

    let all = drain(&mut seen);
    let call = all.iter().find(|s| s.rpc() == "tools/call").unwrap();
    assert_eq!(call.body["id"], 2, "the script answers id 2");
    // `initialized`, then the GET stream is answered, before anything else goes out: a
    // server may send its requests on that stream as soon as a call arrives.
    let order: Vec<String> = all
        .iter()
        .map(|s| format!("{} {}", s.method, s.rpc()))
        .take(4)
        .collect();
    assert_eq!(
        order,
        [
            "POST initialize",
            "POST notifications/initialized",
            "GET ",
            "POST tools/call"
        ]
    );
    let resumes: Vec<&Seen> = all
        .iter()
        .filter(|s| s.header("last-event-id").is_some())
        .collect();
    assert_eq!(resumes.len(), 2);
    for r in &resumes {
        assert_eq!(r.method, Method::GET);
        assert_eq!(r.header("last-event-id"), Some("e2"));
        assert_eq!(r.header("accept"), Some("text/event-stream"));
    }
    // The stream ended as the POST was answered: the first reconnection comes exactly the
    // `retry` later, the second (after a 503) twice that.
    assert_eq!(resumes[0].at - call.at, Duration::from_millis(500));
    assert_eq!(resumes[1].at - resumes[0].at, Duration::from_millis(1000));

    // Headers: after initialize, every request carries the session, the revision and the
    // user's header; POSTs accept both reply types.
    for s in &all {
        assert_eq!(s.header("x-test"), Some("yes"), "{s:?}");
        if s.method == Method::POST {
            assert_eq!(s.header("content-type"), Some("application/json"));
            assert_eq!(
                s.header("accept"),
                Some("application/json, text/event-stream")
            );
        }
        if s.rpc() == "initialize" {
            assert_eq!(s.header("mcp-session-id"), None);
            assert_eq!(s.header("mcp-protocol-version"), None);
        } else {
            assert_eq!(s.header("mcp-session-id"), Some("s1"), "{s:?}");
            assert_eq!(
                s.header("mcp-protocol-version"),
                Some("2025-11-25"),
                "{s:?}"
            );
        }
    }
    c.close().await;
}

#[tokio::test(start_paused = true)]
async fn without_retry_the_first_reconnection_waits_the_initial_delay_and_gives_up_bounded() {
    let script: Script = Arc::new(move |seen| {
        if let Some(r) = opening(seen, "s1") {
            return r;
        }
        match (seen.method.clone(), seen.rpc()) {
            (Method::POST, "tools/call") => sse_reply("id: a\ndata: \n\n"),
            (Method::GET, _) => status(502, "bad gateway"),
            _ => status(500, "unexpected"),
        }
    });
    let (url, mut seen) = serve(script).await;
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(300))
        .max_attempts(3);
    let c = client()
        .connect_http(HttpClientTransport::new(&url).reconnect(policy))
        .await
        .unwrap();
    let err = c.call_tool("slow", json!({})).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("could not be resumed after 4 attempts"),
        "{msg}"
    );
    assert!(msg.contains("502"), "{msg}");
    let all = drain(&mut seen);
    let call = all.iter().find(|s| s.rpc() == "tools/call").unwrap();
    let times: Vec<Duration> = all
        .iter()
        .filter(|s| s.header("last-event-id") == Some("a"))
        .map(|s| s.at - call.at)
        .collect();
    let ms = |v: &[u64]| {
        v.iter()
            .map(|m| Duration::from_millis(*m))
            .collect::<Vec<_>>()
    };
    // 100, then doubling from there, capped at 300.
    assert_eq!(times, ms(&[100, 300, 600, 900]));
}

/// A server with real sessions: `initialize` opens `s1`, `s2`…; `forget` drops the current
/// one so requests carrying it get 404.
struct Sessions {
    opened: u32,
    live: Option<String>,
}

fn session_script(sessions: Arc<Mutex<Sessions>>) -> Script {
    Arc::new(move |seen| {
        let mut st = sessions.lock();
        if seen.rpc() == "initialize" {
            st.opened += 1;
            let id = format!("s{}", st.opened);
            st.live = Some(id.clone());
            return json_reply(init_result(&seen.body["id"]), Some(&id));
        }
        if seen.header("mcp-session-id") != st.live.as_deref() {
            return status(404, "no such session");
        }
        match (seen.method.clone(), seen.rpc()) {
            (Method::POST, "notifications/initialized") => status(202, ""),
            (Method::GET, _) => status(405, ""),
            (Method::DELETE, _) => {
                st.live = None;
                status(200, "")
            }
            (Method::POST, "ping") => json_reply(
                json!({ "jsonrpc": "2.0", "id": seen.body["id"], "result": {} }),
                None,
            ),
            _ => status(500, "unexpected"),
        }
    })
}

#[tokio::test]
async fn a_404_starts_a_new_session_and_retries_the_request_once() {
    let sessions = Arc::new(Mutex::new(Sessions {
        opened: 0,
        live: None,
    }));
    let (url, mut seen) = serve(session_script(sessions.clone())).await;
    let c = client().connect_url(&url).await.unwrap();
    c.ping().await.unwrap();
    drain(&mut seen);

    sessions.lock().live = None; // the server forgets s1
    c.ping().await.unwrap();
    let after: Vec<(Method, String, Option<String>)> = drain(&mut seen)
        .into_iter()
        .map(|s| {
            (
                s.method.clone(),
                s.rpc().to_owned(),
                s.header("mcp-session-id").map(str::to_owned),
            )
        })
        .collect();
    let s = |v: &str| Some(v.to_owned());
    // The GET stream is reopened on the new session (this server has none) while the ping
    // is retried: their order is not fixed, so POSTs and GETs are checked apart.
    let posts: Vec<_> = after
        .iter()
        .filter(|a| a.0 == Method::POST)
        .cloned()
        .collect();
    assert_eq!(
        posts,
        vec![
            (Method::POST, "ping".into(), s("s1")),
            (Method::POST, "initialize".into(), None),
            (Method::POST, "notifications/initialized".into(), s("s2")),
            (Method::POST, "ping".into(), s("s2")),
        ]
    );
    assert!(
        after
            .iter()
            .filter(|a| a.0 == Method::GET)
            .all(|a| a.2 == s("s2"))
    );

    // Closing deletes the live session.
    c.close().await;
    let delete = drain(&mut seen)
        .into_iter()
        .find(|s| s.method == Method::DELETE)
        .expect("DELETE on close");
    assert_eq!(delete.header("mcp-session-id"), Some("s2"));
    assert_eq!(delete.header("mcp-protocol-version"), Some("2025-11-25"));
    assert_eq!(sessions.lock().live, None);
}

#[tokio::test]
async fn dropping_the_last_handle_deletes_the_session() {
    let sessions = Arc::new(Mutex::new(Sessions {
        opened: 0,
        live: None,
    }));
    let (url, mut seen) = serve(session_script(sessions.clone())).await;
    let c = client().connect_url(&url).await.unwrap();
    let c2 = c.clone();
    c.ping().await.unwrap();
    drop(c);
    c2.ping().await.unwrap();
    drop(c2);
    let delete = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let s = seen.recv().await.unwrap();
            if s.method == Method::DELETE {
                return s;
            }
        }
    })
    .await
    .expect("a DELETE after the last handle went");
    assert_eq!(delete.header("mcp-session-id"), Some("s1"));
}

#[tokio::test]
async fn http_failures_fail_the_call_with_the_status() {
    let script: Script = Arc::new(move |seen| {
        if let Some(r) = opening(seen, "s1") {
            return r;
        }
        let id = seen.body["id"].clone();
        match seen.body["params"]["name"].as_str().unwrap_or("") {
            "plain500" => status(500, "boom"),
            "rpc400" => Response::builder()
                .status(400)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(
                    json!({ "jsonrpc": "2.0", "id": null, "error": { "code": -32602, "message": "bad params" } })
                        .to_string(),
                )))
                .unwrap(),
            "huge" => json_reply(
                json!({ "jsonrpc": "2.0", "id": id, "result": { "content": [{ "type": "text", "text": "x".repeat(10_000) }] } }),
                None,
            ),
            "no-cursor" => sse_reply("data: \n\n"),
            "html" => Response::builder()
                .status(200)
                .header("content-type", "text/html")
                .body(Full::new(Bytes::from("<p>hi</p>")))
                .unwrap(),
            "pretty" => json_reply(json!({}), None).map(|_| {
                Full::new(Bytes::from(
                    serde_json::to_string_pretty(&json!({ "jsonrpc": "2.0", "id": id,
                        "result": { "content": [{ "type": "text", "text": "line\nbreak" }] } }))
                    .unwrap(),
                ))
            }),
            _ => status(500, "unexpected"),
        }
    });
    let (url, _seen) = serve(script).await;
    let c = client()
        .connect_http(HttpClientTransport::new(&url).max_body(4096))
        .await
        .unwrap();
    let err = |name: &'static str| {
        let c = c.clone();
        async move { c.call_tool(name, json!({})).await.unwrap_err() }
    };
    let e = err("plain500").await;
    assert!(matches!(e, ClientError::Rpc(_)));
    let rpc = e.rpc().unwrap();
    assert!(
        rpc.message.contains("HTTP 500 Internal Server Error"),
        "{rpc:?}"
    );
    assert!(rpc.message.contains("boom"), "{rpc:?}");
    assert_eq!(rpc.data.as_ref().unwrap()["httpStatus"], 500);

    let e = err("rpc400").await;
    let rpc = e.rpc().unwrap();
    assert_eq!(rpc.code, -32602);
    assert!(
        rpc.message.contains("HTTP 400 Bad Request") && rpc.message.contains("bad params"),
        "{rpc:?}"
    );

    let e = err("huge").await.to_string();
    assert!(e.contains("over the 4096-byte limit"), "{e}");
    let e = err("no-cursor").await.to_string();
    assert!(e.contains("no event id to resume from"), "{e}");
    let e = err("html").await.to_string();
    assert!(e.contains("text/html"), "{e}");

    // A pretty-printed JSON reply is still one message.
    let r = c.call_tool("pretty", json!({})).await.unwrap();
    assert_eq!(r.content[0].as_text(), Some("line\nbreak"));
    // Each failure stayed with its call: the connection still works (this script answers
    // ping with a 500, which is reported as such).
    let e = c.ping().await.unwrap_err().to_string();
    assert!(e.contains("HTTP 500"), "{e}");
    c.close().await;
}

#[tokio::test]
async fn an_unreachable_server_fails_connect_with_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    let e = client().connect_url(&url).await.unwrap_err().to_string();
    assert!(e.contains("HTTP"), "{e}");
    let e = client()
        .connect_url("ftp://example.invalid/")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not http or https"), "{e}");
    let e = client()
        .connect_http(HttpClientTransport::new("http://127.0.0.1:1/").header("bad header", "x"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid header name"), "{e}");
}

/// Era detection over HTTP, with `Era::Auto`: what each answer to the `server/discover`
/// probe makes of the server.
#[tokio::test]
async fn the_discover_probe_falls_back_only_on_evidence_of_an_older_server() {
    let auto = || Client::builder("probe-test", "1.0.0").request_timeout(Duration::from_secs(600));
    // An HTTP+SSE (2024-11-05) server: 405 to every POST, discover and initialize alike.
    let (url, _seen) = serve(Arc::new(|_: &Seen| status(405, ""))).await;
    let e = auto().connect_url(&url).await.unwrap_err().to_string();
    assert!(
        e.contains("HTTP+SSE (2024-11-05) server: not supported yet"),
        "{e}"
    );
    // A handshake-era server answers the probe with 400 and no modern error: initialize.
    let (url, mut seen) = serve(Arc::new(|s: &Seen| {
        opening(s, "s1").unwrap_or_else(|| status(400, "Bad Request: no session"))
    }))
    .await;
    let c = auto().connect_url(&url).await.unwrap();
    assert!(!c.is_modern());
    let methods: Vec<String> = drain(&mut seen)
        .iter()
        .map(|s| s.rpc().to_owned())
        .collect();
    assert_eq!(methods[..2], ["server/discover", "initialize"]);
    c.close().await;
    // A result that is not a discover result (some servers answer `{}` to anything) is an
    // older server too.
    let (url, _seen) = serve(Arc::new(|s: &Seen| {
        opening(s, "s1").unwrap_or_else(|| {
            json_reply(
                json!({ "jsonrpc": "2.0", "id": s.body["id"], "result": {} }),
                None,
            )
        })
    }))
    .await;
    let c = auto().connect_url(&url).await.unwrap();
    assert!(!c.is_modern());
    c.close().await;
    // 401, 403, 429 and 5xx are never evidence of an era: the connection fails, no
    // initialize follows.
    for code in [401u16, 403, 429, 503] {
        let (url, mut seen) = serve(Arc::new(move |_: &Seen| status(code, "no"))).await;
        let e = auto().connect_url(&url).await.unwrap_err().to_string();
        assert!(e.contains(&code.to_string()), "{code}: {e}");
        let methods: Vec<String> = drain(&mut seen)
            .iter()
            .map(|s| s.rpc().to_owned())
            .collect();
        assert_eq!(methods, ["server/discover"], "{code}");
    }
}
