//! The soak: hundreds of clients at once against one server over real TCP for a minute
//! (`OXMCP_SOAK_SECS` to change it; `OXMCP_SOAK_SEED` to replay a run). Each client does,
//! again and again, what a seeded random draw picks: well-behaved calls (in a session, or
//! 2026-07-28 without one), or something abusive: disconnecting mid-call, stopping reading
//! its stream, sending an oversize or malformed body, abandoning its session. The
//! well-behaved load stays under every limit.
//!
//! Afterwards every gauge (sessions, streams, requests in flight, handler tasks, pending
//! server requests, streams held for replay) is back to 0, every well-behaved request was
//! answered correctly, every abusive one got its clear refusal, and the counters of the
//! refusals match what the clients did. Alone in its test binary: it loads the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::tcp::{client as http_client, connect, connect_with, raw_post};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use oxmcp::model::CallToolResult;
use oxmcp::transport::http::{HttpOptions, HttpService};
use oxmcp::{Server, Tool};
use parking_lot::Mutex;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// Clients at once.
const CLIENTS: u64 = 200;
/// The largest request body the server takes.
const MAX_BODY: usize = 64 * 1024;
/// A bound on any one wait; reaching it fails the test (it never paces it).
const BOUND: Duration = Duration::from_secs(120);

/// Signals from inside the tools, by the key a call carries.
#[derive(Default)]
struct Probe {
    started: Mutex<HashMap<u64, oneshot::Sender<()>>>,
    dropped: Mutex<HashMap<u64, oneshot::Sender<()>>>,
    finished: Mutex<HashMap<u64, oneshot::Sender<()>>>,
}

impl Probe {
    fn signal(map: &Mutex<HashMap<u64, oneshot::Sender<()>>>, key: u64) {
        if let Some(tx) = map.lock().remove(&key) {
            let _ = tx.send(());
        }
    }
    fn expect(map: &Mutex<HashMap<u64, oneshot::Sender<()>>>, key: u64) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        map.lock().insert(key, tx);
        rx
    }
}

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    message: String,
}

#[derive(Deserialize, JsonSchema)]
struct KeyArgs {
    key: u64,
    #[serde(default)]
    chunks: u32,
}

/// Bytes in one progress message of `flood`.
const CHUNK: usize = 24 * 1024;
/// Events a stream keeps for replay (the server's `replay_events`).
const REPLAY: usize = 64;

/// Chunks `flood` sends: more than the server's socket send buffer can grow to (Linux's
/// `tcp_wmem` maximum), the replay buffer and the client's window together, so the
/// server's writer must wait on the client.
fn flood_chunks() -> u32 {
    let wmem_max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse::<usize>().ok())
        .unwrap_or(4 << 20);
    u32::try_from((wmem_max + (REPLAY + 64) * CHUNK) / CHUNK).unwrap()
}

/// Reports its future dropped (the handler cancelled or aborted).
struct OnDrop(Arc<Probe>, u64);

impl Drop for OnDrop {
    fn drop(&mut self) {
        Probe::signal(&self.0.dropped, self.1);
    }
}

fn server(probe: Arc<Probe>) -> Server {
    let (p1, p2) = (probe.clone(), probe);
    let mut opts = oxmcp::server::ServerOptions::default();
    // What ends a handler whose client went away in a session (the session stays while
    // a handler runs; then its TTL ends it).
    opts.limits.request_timeout = Some(Duration::from_secs(4));
    Server::builder("soak", "0")
        .options(opts)
        .tool(Tool::new(
            "echo",
            "Returns `message`.",
            |a: EchoArgs, _| async move { Ok(CallToolResult::text(a.message)) },
        ))
        .tool(Tool::new(
            "hang",
            "Runs until cancelled.",
            move |a: KeyArgs, _| {
                let p = p1.clone();
                async move {
                    let _guard = OnDrop(p.clone(), a.key);
                    Probe::signal(&p.started, a.key);
                    std::future::pending::<()>().await;
                    Ok(CallToolResult::text("unreachable"))
                }
            },
        ))
        .tool(Tool::new(
            "flood",
            "Sends `chunks` progress messages, faster than a slow client reads.",
            move |a: KeyArgs, ctx| {
                let p = p2.clone();
                async move {
                    let text = "x".repeat(CHUNK);
                    for i in 0..a.chunks {
                        ctx.progress(f64::from(i + 1), None, Some(&text)).await?;
                        tokio::task::yield_now().await;
                    }
                    Probe::signal(&p.finished, a.key);
                    Ok(CallToolResult::text("flooded"))
                }
            },
        ))
        .build()
}

/// What the clients did and saw.
#[derive(Default)]
struct Tally {
    good_sent: AtomicU64,
    good_answered: AtomicU64,
    acts: [AtomicU64; 7],
    failures: Mutex<Vec<String>>,
}

impl Tally {
    fn fail(&self, what: String) {
        let mut f = self.failures.lock();
        if f.len() < 50 {
            f.push(what);
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Act {
    Session = 0,
    Modern,
    Disconnect,
    SlowReader,
    Oversize,
    Malformed,
    Abandon,
}

fn pick(rng: &mut oorandom::Rand32) -> Act {
    match rng.rand_range(0..100) {
        0..60 => Act::Session,
        60..75 => Act::Modern,
        75..80 => Act::Disconnect,
        80..82 => Act::SlowReader,
        82..88 => Act::Oversize,
        88..95 => Act::Malformed,
        _ => Act::Abandon,
    }
}

/// A message of random length and characters, quotes and escapes included.
fn message(rng: &mut oorandom::Rand32) -> String {
    const PARTS: &[&str] = &[
        "a", "Z", "7", " ", "\"", "\\", "\n", "é", "€", "😀", "<", "{",
    ];
    let len = rng.rand_range(1..300);
    (0..len)
        .map(|_| PARTS[rng.rand_range(0..PARTS.len() as u32) as usize])
        .collect()
}

fn post(body: impl Into<Bytes>, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut b = Request::post("/mcp")
        .header("host", "localhost")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::new(body.into())).unwrap()
}

/// The JSON-RPC messages of a response body, JSON or SSE.
fn messages(content_type: &str, body: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(body);
    if content_type.starts_with("text/event-stream") {
        text.replace("\r\n", "\n")
            .split("\n\n")
            .filter_map(oxmcp_testkit::sse_event_json)
            .collect()
    } else if text.trim().is_empty() {
        Vec::new()
    } else {
        vec![serde_json::from_str(&text).unwrap_or(Value::Null)]
    }
}

/// Sends `req`; status, session header and messages, or what went wrong.
async fn exchange(
    send: &mut SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> Result<(StatusCode, Option<String>, Vec<Value>), String> {
    let run = async {
        send.ready().await.map_err(|e| format!("connection: {e}"))?;
        let resp = send
            .send_request(req)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let status = resp.status();
        let session = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok((status, session, messages(&ct, &body)))
    };
    tokio::time::timeout(BOUND, run)
        .await
        .unwrap_or_else(|_| Err("no answer in time".into()))
}

const V: &str = "2025-11-25";

fn session_headers(session: &str) -> [(&'static str, &str); 2] {
    [("mcp-session-id", session), ("mcp-protocol-version", V)]
}

/// `initialize` and `notifications/initialized`: the session id.
async fn open_session(send: &mut SendRequest<Full<Bytes>>) -> Result<String, String> {
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":V,"capabilities":{},"clientInfo":{"name":"soak","version":"0"}}});
    let (status, session, msgs) = exchange(send, post(init.to_string(), &[])).await?;
    let session = session.ok_or(format!("initialize: {status}, no session id"))?;
    if status != 200 || msgs.first().map(|m| &m["result"]["protocolVersion"]) != Some(&json!(V)) {
        return Err(format!("initialize: {status} {msgs:?}"));
    }
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    let (status, _, _) = exchange(send, post(note.to_string(), &session_headers(&session))).await?;
    if status != 202 {
        return Err(format!("notifications/initialized: {status}"));
    }
    Ok(session)
}

fn call(id: u64, tool: &str, args: Value, meta: Option<Value>) -> Value {
    let mut params = json!({"name": tool, "arguments": args});
    if let Some(m) = meta {
        params["_meta"] = m;
    }
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":params})
}

fn text_of(msgs: &[Value], id: u64) -> Option<String> {
    msgs.iter()
        .find(|m| m["id"] == id)
        .and_then(|m| m["result"]["content"][0]["text"].as_str())
        .map(str::to_owned)
}

/// A well-behaved exchange: counted, and checked against `want`.
async fn good(
    tally: &Tally,
    what: &str,
    run: impl std::future::Future<Output = Result<(), String>>,
) {
    tally.good_sent.fetch_add(1, Ordering::Relaxed);
    match run.await {
        Ok(()) => {
            tally.good_answered.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => tally.fail(format!("{what}: {e}")),
    }
}

const MODERN: [(&str, &str); 3] = [
    ("mcp-protocol-version", "2026-07-28"),
    ("mcp-method", "tools/call"),
    ("mcp-name", "echo"),
];

fn modern_meta() -> Value {
    json!({"io.modelcontextprotocol/protocolVersion":"2026-07-28",
        "io.modelcontextprotocol/clientCapabilities":{}})
}

struct Client {
    n: u64,
    from: u8,
    addr: SocketAddr,
    rng: oorandom::Rand32,
    probe: Arc<Probe>,
    tally: Arc<Tally>,
    keys: Arc<AtomicU64>,
    /// The keep-alive connection of the well-behaved exchanges.
    keep: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    async fn keep(&mut self) -> &mut SendRequest<Full<Bytes>> {
        if self.keep.as_ref().is_none_or(|s| s.is_closed()) {
            self.keep = Some(http_client(self.from, self.addr).await);
        }
        self.keep.as_mut().unwrap()
    }

    async fn act(&mut self, act: Act) {
        self.tally.acts[act as usize].fetch_add(1, Ordering::Relaxed);
        let tally = self.tally.clone();
        match act {
            Act::Session => {
                let calls = self.rng.rand_range(1..4);
                let msgs: Vec<String> = (0..calls).map(|_| message(&mut self.rng)).collect();
                let send = self.keep().await;
                let mut session = None;
                good(&tally, "initialize", async {
                    session = Some(open_session(send).await?);
                    Ok(())
                })
                .await;
                let Some(session) = session else { return };
                for (i, m) in msgs.into_iter().enumerate() {
                    let id = i as u64 + 1;
                    let body = call(id, "echo", json!({ "message": m }), None);
                    good(&tally, "tools/call in a session", async {
                        let (status, _, got) =
                            exchange(send, post(body.to_string(), &session_headers(&session)))
                                .await?;
                        match text_of(&got, id) {
                            Some(t) if status == 200 && t == m => Ok(()),
                            _ => Err(format!("{status} {got:?}, wanted {m:?}")),
                        }
                    })
                    .await;
                }
                let del = Request::delete("/mcp")
                    .header("host", "localhost")
                    .header("mcp-session-id", &session)
                    .header("mcp-protocol-version", V)
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                good(&tally, "DELETE", async {
                    match exchange(send, del).await? {
                        (StatusCode::OK, _, _) => Ok(()),
                        (s, _, m) => Err(format!("{s} {m:?}")),
                    }
                })
                .await;
            }
            Act::Modern => {
                let m = message(&mut self.rng);
                let send = self.keep().await;
                let body = call(7, "echo", json!({ "message": m }), Some(modern_meta()));
                good(&tally, "2026-07-28 tools/call", async {
                    let (status, session, got) =
                        exchange(send, post(body.to_string(), &MODERN)).await?;
                    match text_of(&got, 7) {
                        Some(t) if status == 200 && t == m && session.is_none() => Ok(()),
                        _ => Err(format!("{status} {got:?}, wanted {m:?}")),
                    }
                })
                .await;
            }
            Act::Disconnect => {
                // Half in a session (its expiry reclaims the handler), half without one
                // (the disconnect cancels it at once).
                let in_session = self.rng.rand_range(0..2) == 0;
                let key = self.keys.fetch_add(1, Ordering::Relaxed);
                let started = Probe::expect(&self.probe.started, key);
                let dropped = Probe::expect(&self.probe.dropped, key);
                let raw = if in_session {
                    let send = self.keep().await;
                    let Ok(session) = open_session(send).await else {
                        tally.fail("a session for the disconnect".into());
                        return;
                    };
                    raw_post(
                        &call(1, "hang", json!({ "key": key }), None),
                        &session_headers(&session),
                    )
                } else {
                    let headers = [MODERN[0], MODERN[1], ("mcp-name", "hang")];
                    raw_post(
                        &call(1, "hang", json!({ "key": key }), Some(modern_meta())),
                        &headers,
                    )
                };
                let mut tcp = connect(self.from, self.addr).await;
                tcp.write_all(&raw).await.unwrap();
                if tokio::time::timeout(BOUND, started).await.is_err() {
                    tally.fail("the hang handler did not start".into());
                }
                drop(tcp);
                if !in_session && tokio::time::timeout(BOUND, dropped).await.is_err() {
                    tally.fail("a disconnect did not cancel a sessionless handler".into());
                }
                if in_session {
                    self.probe.dropped.lock().remove(&key);
                }
            }
            Act::SlowReader => {
                let key = self.keys.fetch_add(1, Ordering::Relaxed);
                let finished = Probe::expect(&self.probe.finished, key);
                let send = self.keep().await;
                let Ok(session) = open_session(send).await else {
                    tally.fail("a session for the slow reader".into());
                    return;
                };
                let raw = raw_post(
                    &call(
                        1,
                        "flood",
                        json!({ "key": key, "chunks": flood_chunks() }),
                        Some(json!({ "progressToken": key })),
                    ),
                    &session_headers(&session),
                );
                let mut tcp = connect_with(self.from, self.addr, Some(8 * 1024)).await;
                tcp.write_all(&raw).await.unwrap();
                let mut head = [0u8; 64];
                let n = tcp.read(&mut head).await.unwrap_or(0);
                if !head[..n].starts_with(b"HTTP/1.1 200") {
                    tally.fail(format!("flood: {:?}", String::from_utf8_lossy(&head[..n])));
                }
                // Reads nothing more; the handler must finish all the same.
                if tokio::time::timeout(BOUND, finished).await.is_err() {
                    tally.fail("a slow reader held up its handler".into());
                }
                drop(tcp);
                self.delete(&session).await;
            }
            Act::Oversize => {
                let len = MAX_BODY + 1 + self.rng.rand_range(0..4096) as usize;
                let mut send = http_client(self.from, self.addr).await;
                let body = format!(
                    "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}",
                    "p".repeat(len)
                );
                match exchange(&mut send, post(body, &[])).await {
                    Ok((StatusCode::PAYLOAD_TOO_LARGE, _, m)) if is_error(&m) => {}
                    other => tally.fail(format!("oversize: {other:?}")),
                }
            }
            Act::Malformed => {
                const BAD: &[&[u8]] = &[
                    b"{not json",
                    b"\xff\xfe\x00garbage",
                    b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":",
                    b"[]",
                    b"{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}",
                    b"42",
                ];
                let bad = BAD[self.rng.rand_range(0..BAD.len() as u32) as usize];
                let send = self.keep().await;
                match exchange(send, post(Bytes::from_static(bad), &[])).await {
                    Ok((s, _, m)) if s == StatusCode::BAD_REQUEST && is_error(&m) => {}
                    other => tally.fail(format!("malformed {bad:?}: {other:?}")),
                }
            }
            Act::Abandon => {
                let send = self.keep().await;
                if let Err(e) = open_session(send).await {
                    tally.fail(format!("a session to abandon: {e}"));
                }
            }
        }
    }

    async fn delete(&mut self, session: &str) {
        let del = Request::delete("/mcp")
            .header("host", "localhost")
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", V)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let send = self.keep().await;
        if let Err(e) = exchange(send, del).await {
            self.tally.fail(format!("DELETE: {e}"));
        }
    }
}

/// Whether `msgs` is one JSON-RPC error with a message.
fn is_error(msgs: &[Value]) -> bool {
    matches!(msgs, [m] if m["error"]["code"].is_i64() && m["error"]["message"].as_str().is_some_and(|s| !s.is_empty()))
}

/// `name` in a scrape of `/metrics` (summed over its series whose labels contain `labels`).
async fn scrape(addr: SocketAddr) -> HashMap<String, f64> {
    let mut send = http_client(1, addr).await;
    let req = Request::get("/metrics")
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(body.to_vec()).unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let mut out = HashMap::new();
    for s in scrape.samples {
        let key = match s.labels.get("reason") {
            Some(r) => format!("{}{{{r}}}", s.metric),
            None => s.metric.clone(),
        };
        if let prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) = s.value
        {
            *out.entry(key).or_default() += v;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_clients_good_and_abusive_then_everything_back_to_zero() {
    let secs: u64 = std::env::var("OXMCP_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("OXMCP_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_205);
    eprintln!("soak: {CLIENTS} clients for {secs} s, seed {seed} (OXMCP_SOAK_SEED)");

    let probe = Arc::new(Probe::default());
    let mut opts = HttpOptions::default().loopback();
    opts.max_body = MAX_BODY;
    opts.session_ttl = Duration::from_secs(3);
    opts.replay_events = REPLAY;
    opts.slow_reader_timeout = Duration::from_secs(1);
    let svc = HttpService::new(server(probe.clone()), opts);
    let addr = common::tcp::start(&svc).await;

    let tally = Arc::new(Tally::default());
    let keys = Arc::new(AtomicU64::new(0));
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut clients = Vec::new();
    for n in 0..CLIENTS {
        let mut c = Client {
            n,
            from: 2 + (n % 60) as u8,
            addr,
            rng: oorandom::Rand32::new(seed.wrapping_mul(1_000_003).wrapping_add(n)),
            probe: probe.clone(),
            tally: tally.clone(),
            keys: keys.clone(),
            keep: None,
        };
        clients.push(tokio::spawn(async move {
            while tokio::time::Instant::now() < end {
                let act = pick(&mut c.rng);
                c.act(act).await;
                // A client's think time between actions: it paces the load, it
                // synchronises nothing.
                let think = 50 + u64::from(c.rng.rand_range(0..200));
                tokio::time::sleep(Duration::from_millis(think)).await;
            }
            c.n
        }));
    }
    for c in clients {
        c.await.unwrap();
    }

    let failures = tally.failures.lock().clone();
    let acts: Vec<u64> = tally
        .acts
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .collect();
    let sent = tally.good_sent.load(Ordering::Relaxed);
    let answered = tally.good_answered.load(Ordering::Relaxed);
    eprintln!(
        "soak: acts (session, modern, disconnect, slow reader, oversize, malformed, abandon) {acts:?}; well-behaved requests {answered}/{sent}"
    );
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
    assert_eq!(answered, sent);
    assert!(
        acts.iter().all(|&n| n > 0),
        "every kind of client ran: {acts:?}"
    );

    // Abandoned sessions (and those a disconnect left) expire with their TTL; wait for
    // the gauges to say so, bounded.
    const GAUGES: [&str; 5] = [
        "oxmcp_sessions",
        "oxmcp_streams",
        "oxmcp_in_flight_requests",
        "oxmcp_handler_tasks",
        "oxmcp_pending_client_requests",
    ];
    let settle = tokio::time::Instant::now() + BOUND;
    let last = loop {
        let m = scrape(addr).await;
        if GAUGES.iter().all(|g| m.get(*g) == Some(&0.0)) || tokio::time::Instant::now() > settle {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for g in GAUGES {
        assert_eq!(last.get(g), Some(&0.0), "{g} after the soak");
    }
    let stats = svc.stats();
    assert_eq!(
        (
            stats.sessions,
            stats.streams,
            stats.held_streams,
            stats.in_flight,
            stats.handler_tasks
        ),
        (0, 0, 0, 0, 0),
        "{stats:?}"
    );
    // Only the scrape's own connection is left.
    assert_eq!(last.get("oxmcp_connections"), Some(&1.0));
    // Every refusal counted, as the clients saw them.
    assert_eq!(
        last.get("oxmcp_rejections_total{max_body}"),
        Some(&(acts[Act::Oversize as usize] as f64))
    );
    assert_eq!(
        last.get("oxmcp_rejections_total{slow_reader}"),
        Some(&(acts[Act::SlowReader as usize] as f64)),
        "each slow reader was cut off"
    );
    // Nothing was shed or rate-limited: the well-behaved load was under every limit.
    assert_eq!(
        last.get("oxmcp_rejections_total{max_in_flight_total}"),
        Some(&0.0)
    );
    assert!(probe.started.lock().is_empty() && probe.finished.lock().is_empty());
}
