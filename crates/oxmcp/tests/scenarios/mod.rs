//! The in-process request scenarios that the instruction-count budget
//! (`tests/instructions.rs`) and the criterion benches (`benches/hot_paths.rs`) both
//! measure. Requests go straight into the transport (the HTTP service as a tower service,
//! without hyper's parsing; stdio through an in-memory pipe); each answer is read whole and
//! checked, so a scenario that stops working fails instead of getting faster.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use oxmcp::model::CallToolResult;
use oxmcp::server::{Server, Tool};
use oxmcp::transport::http::{HttpOptions, HttpService};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::io::{
    AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, ReadHalf, WriteHalf,
};
use tokio::task::JoinHandle;
use tower_service::Service;

/// Every scenario, by name.
pub const SCENARIOS: [&str; 5] = [
    "http_modern_call",
    "http_session_call",
    "http_stateless_json_call",
    "http_session_open_close",
    "stdio_call",
];

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    message: String,
}

/// A server with one tool, `echo`.
pub fn server() -> Server {
    Server::builder("scenarios", "0")
        .tool(Tool::new(
            "echo",
            "Returns its message.",
            |a: EchoArgs, _| async move { Ok(CallToolResult::text(a.message)) },
        ))
        .build()
}

/// The echoed message (64 bytes, as `oxmcp bench` sends by default).
pub const MESSAGE: &str = "0123456789012345678901234567890123456789012345678901234567890123";

/// The revision the handshake scenarios negotiate.
const VERSION: &str = "2025-11-25";

/// A `tools/call` of `echo`; `modern` adds the 2026-07-28 `_meta`.
pub fn call(id: u64, modern: bool) -> String {
    let meta = if modern {
        r#","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
    } else {
        ""
    };
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"{MESSAGE}"}}{meta}}}}}"#
    )
}

fn initialize() -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{VERSION}","capabilities":{{}},"clientInfo":{{"name":"scenarios","version":"0"}}}}}}"#
    )
}

const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// Whether an answer carries the echoed message.
fn echoed(body: &[u8]) -> bool {
    body.windows(MESSAGE.len()).any(|w| w == MESSAGE.as_bytes())
}

/// One POST through the service; returns the status, the session header and the body.
async fn post(
    svc: &mut HttpService,
    body: String,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, Bytes) {
    let mut req = http::Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = svc
        .call(req.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let session = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, session, body)
}

/// A scenario, set up and ready for requests.
pub enum Fixture {
    /// 2026-07-28 `tools/call`s, no session, JSON answers.
    Modern(HttpService),
    /// `tools/call`s in one session (`headers` carry its id), answered on SSE streams; or
    /// stateless with JSON answers.
    Session {
        /// The service.
        svc: HttpService,
        /// Version and session headers.
        headers: Vec<(&'static str, String)>,
    },
    /// A session opened (`initialize`) and ended (`DELETE`) per request.
    OpenClose(HttpService),
    /// `tools/call`s in one stdio session over an in-memory pipe.
    Stdio {
        /// The client's writing end.
        writer: WriteHalf<DuplexStream>,
        /// The client's reading end, by lines.
        lines: Lines<BufReader<ReadHalf<DuplexStream>>>,
        /// The server.
        serving: JoinHandle<std::io::Result<()>>,
    },
}

impl Fixture {
    /// Sets up scenario `name` (one of [`SCENARIOS`]). Needs a tokio runtime.
    pub async fn new(name: &str) -> Fixture {
        match name {
            "http_modern_call" => {
                Fixture::Modern(HttpService::new(server(), HttpOptions::default()))
            }
            "http_session_call" => {
                let mut svc = HttpService::new(server(), HttpOptions::default());
                let (_, s, _) = post(&mut svc, initialize(), &[]).await;
                let headers = vec![
                    ("mcp-protocol-version", VERSION.to_owned()),
                    ("mcp-session-id", s.expect("a session id")),
                ];
                let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (status, _, _) = post(&mut svc, INITIALIZED.to_owned(), &h).await;
                assert_eq!(status, 202);
                Fixture::Session { svc, headers }
            }
            "http_stateless_json_call" => {
                let mut opts = HttpOptions::default();
                opts.stateless = true;
                opts.json_response = true;
                Fixture::Session {
                    svc: HttpService::new(server(), opts),
                    headers: vec![("mcp-protocol-version", VERSION.to_owned())],
                }
            }
            "http_session_open_close" => {
                Fixture::OpenClose(HttpService::new(server(), HttpOptions::default()))
            }
            "stdio_call" => {
                let (client, server_end) = tokio::io::duplex(64 * 1024);
                let (sr, sw) = tokio::io::split(server_end);
                let serving = tokio::spawn(oxmcp::connection::serve_lines(server(), sr, sw));
                let (cr, mut writer) = tokio::io::split(client);
                let mut lines = BufReader::new(cr).lines();
                writer
                    .write_all(format!("{}\n{INITIALIZED}\n", initialize()).as_bytes())
                    .await
                    .unwrap();
                lines
                    .next_line()
                    .await
                    .unwrap()
                    .expect("initialize answered");
                Fixture::Stdio {
                    writer,
                    lines,
                    serving,
                }
            }
            other => panic!("no scenario {other}"),
        }
    }

    /// One request, its answer read and checked.
    pub async fn request(&mut self, id: u64) {
        match self {
            Fixture::Modern(svc) => {
                let headers = [
                    ("mcp-protocol-version", "2026-07-28"),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "echo"),
                ];
                let (status, _, body) = post(svc, call(id, true), &headers).await;
                assert!(status == 200 && echoed(&body), "{status} {body:?}");
            }
            Fixture::Session { svc, headers } => {
                let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (status, _, body) = post(svc, call(id, false), &h).await;
                assert!(status == 200 && echoed(&body), "{status} {body:?}");
            }
            Fixture::OpenClose(svc) => {
                let (status, s, _) = post(svc, initialize(), &[]).await;
                assert_eq!(status, 200);
                let req = http::Request::delete("/mcp")
                    .header("host", "localhost")
                    .header("mcp-session-id", s.expect("a session id"))
                    .header("mcp-protocol-version", VERSION)
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                let resp = svc.call(req).await.unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                assert_eq!(svc.stats().sessions, 0);
            }
            Fixture::Stdio { writer, lines, .. } => {
                writer
                    .write_all(format!("{}\n", call(id, false)).as_bytes())
                    .await
                    .unwrap();
                let line = lines.next_line().await.unwrap().expect("an answer");
                assert!(echoed(line.as_bytes()), "{line}");
            }
        }
    }

    /// Ends the scenario: the stdio server must finish cleanly when its input closes.
    pub async fn finish(self) {
        if let Fixture::Stdio {
            writer,
            lines,
            serving,
        } = self
        {
            drop(writer);
            drop(lines);
            serving.await.unwrap().unwrap();
        }
    }
}

/// Scenario `name`: set up, `n` requests, finished.
pub async fn run(name: &str, n: u64) {
    let mut f = Fixture::new(name).await;
    for id in 1..=n {
        f.request(id).await;
    }
    f.finish().await;
}
