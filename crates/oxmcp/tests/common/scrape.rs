//! `GET /metrics` from an in-process service, and the calls that give it figures.

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use oxmcp::Tool;
use oxmcp::model::CallToolResult;
use oxmcp::server::Server;
use oxmcp::transport::http::{HttpOptions, HttpService};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

/// A server with one tool, `echo`, which answers `ok`.
pub fn echo_server(name: &str) -> Server {
    Server::builder(name, "0")
        .tool(Tool::new("echo", "Answers ok.", |_: NoArgs, _| async {
            Ok(CallToolResult::text("ok"))
        }))
        .build()
}

/// A stateless JSON service over [`echo_server`].
pub fn echo_service(name: &str) -> HttpService {
    let server = echo_server(name);
    let mut opts = HttpOptions::default().loopback();
    opts.stateless = true;
    opts.json_response = true;
    HttpService::new(server, opts)
}

/// The POST of a 2025-11-25 `tools/call` of `tool` with no arguments.
pub fn call_request(id: u64, tool: &str) -> Request<Full<Bytes>> {
    let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
        "params":{"name":tool,"arguments":{}}});
    Request::post("/mcp")
        .header("host", "localhost")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// A 2025-11-25 `tools/call` of `tool` with no arguments; asserts the HTTP 200.
pub async fn call(svc: &HttpService, id: u64, tool: &str) {
    let resp = svc.handle(call_request(id, tool)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.into_body().collect().await.unwrap();
}

/// `GET /metrics` with `host`: the status, the content type and the text.
pub async fn scrape(svc: &HttpService, host: &str) -> (StatusCode, String, String) {
    let req = Request::get("/metrics")
        .header("host", host)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = svc.handle(req).await;
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8(body.to_vec()).unwrap())
}

/// The metric a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` read as
/// the histogram (`text` is the scrape, which declares the histograms).
pub fn family<'a>(text: &str, sample: &'a str) -> &'a str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| sample.strip_suffix(suffix))
        .filter(|base| text.contains(&format!("# TYPE {base} histogram")))
        .unwrap_or(sample)
}
