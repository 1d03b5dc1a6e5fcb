//! `oxmcp serve` over Streamable HTTP as a process: it prints its URL (with the real port
//! when asked for port 0), answers MCP over HTTP, and on SIGTERM lets a call in flight
//! finish before it exits with status 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A bound on waits that should end at once; reaching it fails the test (it never paces it).
const BOUND: Duration = Duration::from_secs(60);

const PREFIX: &str = "oxmcp: serving MCP at ";

/// Spawns `oxmcp ARGS` in `cwd` with exactly `env` as its `OXMCP_*` variables; returns the
/// child and the URL it printed as its first line.
async fn spawn(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxmcp"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OXMCP_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn oxmcp");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(BOUND, lines.next_line())
        .await
        .expect("the URL line in time")
        .unwrap()
        .expect("oxmcp exited before printing its URL");
    let url = line
        .strip_prefix(PREFIX)
        .unwrap_or_else(|| panic!("the first line is the URL: {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with("/mcp"), "{url}");
    assert!(!url.contains(":0/"), "the real port is printed: {url}");
    // Keep the pipe drained so the server never blocks on it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

fn client() -> reqwest::Client {
    // Plain http needs no TLS, but reqwest wants a provider to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn post(
    c: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut req = c
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-11-25");
    }
    tokio::time::timeout(BOUND, req.send())
        .await
        .expect("an answer in time")
        .unwrap()
}

/// Reads JSON-RPC messages from a response, whether it is one JSON body or an SSE stream.
struct Messages {
    resp: reqwest::Response,
    sse: bool,
    buf: String,
    done: bool,
}

impl Messages {
    fn new(resp: reqwest::Response) -> Self {
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Messages {
            sse: ct.starts_with("text/event-stream"),
            resp,
            buf: String::new(),
            done: false,
        }
    }

    /// The next message; `None` at the end of the body.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if self.sse {
                while let Some(end) = self.buf.find("\n\n") {
                    let event: String = self.buf.drain(..end + 2).collect();
                    if let Some(msg) = oxmcp_testkit::sse_event_json(&event) {
                        return Some(msg);
                    }
                }
            }
            if self.done {
                if !self.sse && !self.buf.trim().is_empty() {
                    let body = std::mem::take(&mut self.buf);
                    return Some(serde_json::from_str(&body).unwrap());
                }
                return None;
            }
            match tokio::time::timeout(BOUND, self.resp.chunk())
                .await
                .expect("the stream moves")
                .unwrap()
            {
                Some(bytes) => self
                    .buf
                    .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
                None => self.done = true,
            }
        }
    }
}

/// Initializes a 2025-11-25 session; its id.
async fn initialize(c: &reqwest::Client, url: &str) -> String {
    let resp = post(
        c,
        url,
        None,
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
            "protocolVersion":"2025-11-25","capabilities":{},
            "clientInfo":{"name":"serve-http-test","version":"0"}}}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let session = resp
        .headers()
        .get("mcp-session-id")
        .expect("Mcp-Session-Id")
        .to_str()
        .unwrap()
        .to_owned();
    let init = Messages::new(resp).next().await.unwrap();
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25", "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "oxmcp-demo");
    let resp = post(
        c,
        url,
        Some(&session),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    )
    .await;
    assert_eq!(resp.status(), 202);
    session
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("the server is running");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

async fn exit_status(child: &mut Child) -> std::process::ExitStatus {
    tokio::time::timeout(BOUND, child.wait())
        .await
        .expect("the server exits")
        .unwrap()
}

#[tokio::test]
async fn sigterm_lets_the_call_in_flight_finish_then_exits_zero() {
    let cwd = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let (mut child, url) = spawn(&["serve", "--listen", "127.0.0.1:0"], &[], &cwd).await;
    let c = client();
    let session = initialize(&c, &url).await;

    let resp = post(
        &c,
        &url,
        Some(&session),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{
            "name":"slow","arguments":{"seconds":2},"_meta":{"progressToken":"p"}}}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let mut stream = Messages::new(resp);
    assert!(
        stream.sse,
        "progress comes first, so the reply is an SSE stream"
    );

    // The handler is running once its first progress notification arrives: shut down now.
    let first = stream.next().await.expect("a first message");
    assert_eq!(first["method"], "notifications/progress", "{first}");
    assert_eq!(first["params"]["progress"].as_f64(), Some(1.0), "{first}");
    sigterm(&child);

    // The call completes anyway: the second progress, then the result.
    let mut progress = 1;
    let result = loop {
        let msg = stream
            .next()
            .await
            .expect("the call's result before the end");
        if msg["method"] == "notifications/progress" {
            progress += 1;
            continue;
        }
        break msg;
    };
    assert_eq!(progress, 2);
    assert_eq!(result["id"], 2, "{result}");
    assert_eq!(
        result["result"]["content"][0]["text"], "worked for 2 seconds",
        "{result}"
    );
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the result"
    );

    let status = exit_status(&mut child).await;
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[tokio::test]
async fn serve_without_configuration_serves_http_and_answers_ping() {
    // An empty working directory: nothing to read but the defaults and the environment.
    let cwd = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-no-config");
    let _ = std::fs::remove_dir_all(&cwd);
    std::fs::create_dir_all(&cwd).unwrap();
    let (mut child, url) = spawn(&["serve"], &[("OXMCP_SERVER_LISTEN", "127.0.0.1:0")], &cwd).await;
    let c = client();
    let session = initialize(&c, &url).await;
    let resp = post(
        &c,
        &url,
        Some(&session),
        json!({"jsonrpc":"2.0","id":"ping-1","method":"ping"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let pong = Messages::new(resp).next().await.unwrap();
    assert_eq!(pong, json!({"jsonrpc":"2.0","id":"ping-1","result":{}}));

    // The default path only, and the loopback Host allow list is on.
    let other = c
        .post(url.replace("/mcp", "/other"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let rebinding = c
        .post(&url)
        .header("host", "evil.example")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(json!({"jsonrpc":"2.0","id":3,"method":"ping"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(rebinding.status(), 403);

    sigterm(&child);
    let status = exit_status(&mut child).await;
    assert_eq!(status.code(), Some(0), "{status:?}");
}
