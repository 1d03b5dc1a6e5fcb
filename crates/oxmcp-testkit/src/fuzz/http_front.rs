//! The HTTP front: arbitrary requests into `HttpService::handle`, in process.

use std::cell::{Cell, RefCell};
use std::sync::Once;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use oxmcp::model::{self, CallToolResult};
use oxmcp::transport::http::{HttpBody, HttpOptions, HttpService, SESSION_HEADER};
use oxmcp::{Prompt, Resource, Server, Tool};
use serde_json::{Value, json};

/// Every status the service may answer client input with: the table of HTTP statuses in
/// docs/ARCHITECTURE.md ("HTTP statuses") and the 2026-07-28 ladder (400, 404). Never 500.
pub const STATUSES: [u16; 12] = [200, 202, 400, 403, 404, 405, 406, 409, 413, 415, 429, 503];

/// Requests read from one input, at most.
const MAX_REQUESTS: usize = 4;
/// Between two requests of one input.
const SEPARATOR: &[u8] = b"\n%%\n";
/// Stands for the id of a live session in a header value.
const SID: &[u8] = b"$SID";
/// The body limit of both services (small, so that 413 is within a fuzzer's reach).
const MAX_BODY: usize = 1024;
/// The longest a response (head or JSON body) may take.
const PATIENCE: Duration = Duration::from_secs(10);

struct Front {
    rt: tokio::runtime::Runtime,
    services: Services,
}

struct Services {
    /// Sessions, SSE, `Host` limited to loopback names.
    stateful: HttpService,
    /// No sessions, JSON only, any `Host`.
    stateless: HttpService,
    /// A live, initialized session of `stateful`.
    sid: String,
}

thread_local! {
    static FRONT: RefCell<Option<Front>> = const { RefCell::new(None) };
    /// Panics on this thread (the runtime's tasks run on it): a panic inside a spawned
    /// handler would otherwise vanish into its `JoinHandle`.
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

/// Feeds up to four HTTP requests to an in-process [`HttpService`] (one with sessions and
/// SSE, one stateless answering JSON) and checks every answer.
///
/// Input: requests separated by `\n%%\n`, each
/// `[~]METHOD TARGET\nname: value\n…\n\nbody` (`~`: the stateless service; an empty or
/// invalid method is POST, an invalid target `/mcp`; invalid header lines are skipped;
/// `$SID` in a value stands for a live session's id).
///
/// Checks: a response within 10 s; its status is one of [`STATUSES`] (never 500); a JSON
/// body parses, and a refusal's is a JSON-RPC error (429 and 503 with `Retry-After`); no
/// `"id": null`; no panic anywhere, spawned handlers included; then both services still
/// answer a well-formed request (`ping` on the session, re-initialized if the input ended
/// it; a stateless `tools/call`), and the sessions the input opened are deleted.
pub fn http_front(data: &[u8]) {
    count_panics();
    FRONT.with(|cell| {
        let mut slot = cell.borrow_mut();
        let front = slot.get_or_insert_with(Front::new);
        let panics = PANICS.get();
        let Front { rt, services } = front;
        let mut opened = Vec::new();
        for chunk in split(data).take(MAX_REQUESTS) {
            let (stateless, req) = parse(chunk, &services.sid);
            let svc = if stateless {
                &services.stateless
            } else {
                &services.stateful
            };
            let resp = rt.block_on(send(svc, req));
            if let Some(id) = resp.session
                && !stateless
                && id != services.sid
            {
                opened.push(id);
            }
        }
        rt.block_on(services.after(opened));
        assert_eq!(
            PANICS.get(),
            panics,
            "something panicked while serving the input"
        );
    });
}

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.set(PANICS.get() + 1);
            previous(info);
        }));
    });
}

fn split(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(i) => {
                rest = Some(&r[i + SEPARATOR.len()..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// One request of the input: which service, and the request.
fn parse(chunk: &[u8], sid: &str) -> (bool, Request<Full<Bytes>>) {
    let (head, body) = match chunk.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&chunk[..i], &chunk[i + 2..]),
        None => (chunk, &chunk[chunk.len()..]),
    };
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let (stateless, first) = match first.strip_prefix(b"~") {
        Some(rest) => (true, rest),
        None => (false, first),
    };
    let (method, target) = match first.iter().position(|b| *b == b' ') {
        Some(i) => (&first[..i], &first[i + 1..]),
        None => (first, &first[first.len()..]),
    };
    let method = Method::from_bytes(method).unwrap_or(Method::POST);
    let uri = Uri::try_from(target).unwrap_or_else(|_| Uri::from_static("/mcp"));
    let mut req = Request::new(Full::new(Bytes::copy_from_slice(body)));
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    for line in lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = HeaderName::from_bytes(&line[..colon]);
        let value = with_sid(line[colon + 1..].trim_ascii_start(), sid);
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_bytes(&value)) {
            req.headers_mut().append(name, value);
        }
    }
    (stateless, req)
}

fn with_sid(value: &[u8], sid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    while !rest.is_empty() {
        if rest.starts_with(SID) {
            out.extend_from_slice(sid.as_bytes());
            rest = &rest[SID.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// What a response told the harness.
struct Answer {
    status: StatusCode,
    /// The `Mcp-Session-Id` it set.
    session: Option<String>,
    /// The body, when JSON.
    json: Option<Value>,
}

/// Sends one request and checks the answer.
async fn send(svc: &HttpService, req: Request<Full<Bytes>>) -> Answer {
    let what = format!("{} {}", req.method(), req.uri());
    let Ok(resp) = tokio::time::timeout(PATIENCE, svc.handle(req)).await else {
        panic!("{what}: no response within {PATIENCE:?}");
    };
    check(resp, &what).await
}

async fn check(resp: Response<HttpBody>, what: &str) -> Answer {
    let status = resp.status();
    assert!(
        STATUSES.contains(&status.as_u16()),
        "{what}: status {status} is not in the table"
    );
    let session = resp
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let json_body = resp
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let retry_after = resp.headers().contains_key(RETRY_AFTER);
    if !json_body {
        // SSE streams (and the metrics text) are not read: a GET stream never ends.
        return Answer {
            status,
            session,
            json: None,
        };
    }
    let Ok(Ok(collected)) = tokio::time::timeout(PATIENCE, resp.into_body().collect()).await else {
        panic!("{what}: a JSON body not complete within {PATIENCE:?}");
    };
    let bytes = collected.to_bytes();
    let v: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => panic!("{what}: {status} with a JSON body that is not JSON ({e}): {bytes:?}"),
    };
    let messages: Vec<&Value> = match &v {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    for m in &messages {
        assert!(
            m.get("id") != Some(&Value::Null),
            "{what}: \"id\": null in {m}"
        );
    }
    if status.is_client_error() || status.is_server_error() {
        let code = v
            .get("error")
            .and_then(|e| e.get("code"))
            .and_then(Value::as_i64);
        // The health probe answers its own JSON; every other refusal is a JSON-RPC error.
        if v.get("status").is_none() {
            assert!(
                code.is_some(),
                "{what}: a {status} without a JSON-RPC error: {v}"
            );
        }
        if matches!(status.as_u16(), 429 | 503) && code.is_some() {
            assert!(retry_after, "{what}: {status} without Retry-After: {v}");
        }
    }
    Answer {
        status,
        session,
        json: Some(v),
    }
}

/// A well-formed request from a local client.
fn good(method: Method, sid: Option<&str>, body: &Value) -> Request<Full<Bytes>> {
    let mut req = Request::new(Full::new(Bytes::from(body.to_string())));
    *req.method_mut() = method;
    *req.uri_mut() = Uri::from_static("/mcp");
    let h = req.headers_mut();
    h.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    h.insert(
        "accept",
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert(
        "mcp-protocol-version",
        HeaderValue::from_static("2025-11-25"),
    );
    if let Some(s) = sid.and_then(|s| HeaderValue::from_str(s).ok()) {
        h.insert(SESSION_HEADER, s);
    }
    req
}

fn server() -> Server {
    let schema = json!({
        "type": "object",
        "properties": {
            "text": { "type": "string" },
            "region": { "type": "string", "x-mcp-header": "Region" }
        }
    });
    let def = model::Tool {
        name: "echo".into(),
        description: Some("Echoes its text.".into()),
        input_schema: serde_json::from_value(schema).unwrap_or_default(),
        ..Default::default()
    };
    let echo = Tool::dynamic(def, |args, _| async move {
        let text = args.get("text").and_then(Value::as_str).unwrap_or_default();
        Ok(CallToolResult::text(text))
    })
    .unwrap_or_else(|e| panic!("the echo tool: {e}"));
    Server::builder("fuzz", "0")
        .tool(echo)
        .resource(Resource::text("test://doc", "doc", "text/plain", "the doc"))
        .prompt(Prompt::new("plain", "A prompt.", |_, _| async {
            Ok(serde_json::from_value(json!({ "messages": [
                { "role": "user", "content": { "type": "text", "text": "hello" } }] }))?)
        }))
        .build()
}

impl Front {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("a runtime: {e}"));
        let (stateful, stateless) = rt.block_on(async {
            let mut opts = HttpOptions::default().loopback();
            opts.max_body = MAX_BODY;
            opts.max_sessions = 64;
            opts.keep_alive = None;
            let stateful = HttpService::new(server(), opts);
            let mut opts = HttpOptions::default();
            opts.max_body = MAX_BODY;
            opts.stateless = true;
            opts.json_response = true;
            let stateless = HttpService::new(server(), opts);
            stateful.health().set_ready();
            stateless.health().set_ready();
            (stateful, stateless)
        });
        let sid = rt.block_on(initialize(&stateful));
        Front {
            rt,
            services: Services {
                stateful,
                stateless,
                sid,
            },
        }
    }
}

impl Services {
    /// Ends the sessions the input opened, then checks that both services still serve.
    async fn after(&mut self, opened: Vec<String>) {
        for id in opened {
            let a = send(&self.stateful, good(Method::DELETE, Some(&id), &json!({}))).await;
            assert!(
                matches!(a.status.as_u16(), 200 | 404),
                "DELETE of a session the input opened: {}",
                a.status
            );
        }
        let ping = json!({"jsonrpc": "2.0", "id": "good", "method": "ping"});
        let mut a = send(&self.stateful, good(Method::POST, Some(&self.sid), &ping)).await;
        if a.status == StatusCode::NOT_FOUND {
            // The input ended the session (DELETE): a new one must be possible.
            self.sid = initialize(&self.stateful).await;
            a = send(&self.stateful, good(Method::POST, Some(&self.sid), &ping)).await;
        }
        assert_eq!(
            a.status,
            StatusCode::OK,
            "ping on a live session after the input"
        );
        assert_eq!(a.json.as_ref().map(|v| &v["id"]), Some(&json!("good")));
        let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "still here"}}});
        let a = send(&self.stateless, good(Method::POST, None, &call)).await;
        assert_eq!(a.status, StatusCode::OK, "a stateless call after the input");
        let text = a.json.as_ref().map(|v| &v["result"]["content"][0]["text"]);
        assert_eq!(text, Some(&json!("still here")), "{:?}", a.json);
    }
}

/// Opens an initialized session; returns its id.
async fn initialize(svc: &HttpService) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "fuzz", "version": "0"}}});
    let mut req = good(Method::POST, None, &init);
    req.headers_mut().remove("mcp-protocol-version");
    let a = send(svc, req).await;
    assert_eq!(a.status, StatusCode::OK, "initialize: {:?}", a.json);
    let Some(sid) = a.session else {
        panic!("initialize without a session id: {:?}", a.json);
    };
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let a = send(svc, good(Method::POST, Some(&sid), &note)).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "notifications/initialized");
    sid
}
