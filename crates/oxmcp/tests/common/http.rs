//! Drives an `HttpService` in process: requests built here, responses read frame by frame
//! (SSE events parsed), no sockets.
#![allow(dead_code)]

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use oxmcp::transport::http::{HttpBody, HttpService};
use serde_json::{Value, json};

pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";

/// A request to `/mcp` from a well-behaved local client.
pub fn request(method: &str, session: Option<&str>) -> http::request::Builder {
    let mut b = Request::builder()
        .method(method)
        .uri("/mcp")
        .header("host", "127.0.0.1:8080")
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json");
    if let Some(s) = session {
        b = b.header("mcp-session-id", s);
    }
    b
}

pub async fn send(
    svc: &HttpService,
    req: http::request::Builder,
    body: &str,
) -> Response<HttpBody> {
    svc.handle(req.body(Full::new(Bytes::from(body.to_owned()))).unwrap())
        .await
}

pub async fn post(svc: &HttpService, session: Option<&str>, body: Value) -> Response<HttpBody> {
    let text = body.to_string();
    send(svc, request("POST", session), &text).await
}

/// The whole body as JSON.
pub async fn json_body(resp: Response<HttpBody>) -> Value {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    })
}

/// Initializes a session on `version`; returns its id.
pub async fn initialize(svc: &HttpService, version: &str) -> String {
    let resp = post(
        svc,
        None,
        json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion": version, "capabilities": {},
            "clientInfo": {"name":"http-test","version":"0"}}}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let id = resp
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .unwrap()
        .to_owned();
    let init = json_body(resp).await;
    assert_eq!(init["result"]["protocolVersion"], version);
    let resp = post(
        svc,
        Some(&id),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    id
}

/// One SSE event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Option<String>,
    pub retry: Option<u64>,
    pub data: String,
}

impl Event {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// Reads SSE events from a response body.
pub struct Sse {
    body: HttpBody,
    buf: String,
}

impl Sse {
    pub fn new(resp: Response<HttpBody>) -> Self {
        assert_eq!(
            resp.headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap()),
            Some("text/event-stream")
        );
        Sse {
            body: resp.into_body(),
            buf: String::new(),
        }
    }

    /// The next event (comments skipped), or `None` at the end of the stream.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut ev = Event {
                    id: None,
                    retry: None,
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        ev.id = Some(v.to_owned());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("retry: ") {
                        ev.retry = v.parse().ok();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        ev.data.push_str(v);
                        any = true;
                    }
                }
                if any {
                    return Some(ev);
                }
                continue;
            }
            let frame = self.body.frame().await?.unwrap();
            if let Ok(data) = frame.into_data() {
                self.buf.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }

    /// The next event that carries a message (the priming event skipped).
    pub async fn message(&mut self) -> Option<Event> {
        loop {
            let ev = self.next().await?;
            if !ev.data.is_empty() {
                return Some(ev);
            }
        }
    }
}
