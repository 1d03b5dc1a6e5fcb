//! The logs `oxmcp serve` installs (`oxmcp_cli::logging`): a client gets, as
//! `notifications/message`, the events of its own requests only, at the level it chose;
//! JSON lines carry the request span; secrets never reach a line; the filter changes at
//! run time, and SIGHUP re-reads it from the configuration file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oxmcp::model::CallToolResult;
use oxmcp::{Server, Tool};
use oxmcp_cli::config::LogFormat;
use oxmcp_cli::logging;
use oxmcp_testkit::LineClient;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::Notify;

type Client = LineClient<ReadHalf<DuplexStream>, WriteHalf<DuplexStream>>;

/// A bound on waits that should end at once; reaching it fails the test.
const BOUND: Duration = Duration::from_secs(60);

#[derive(Deserialize, JsonSchema)]
struct WorkArgs {
    who: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    nested: Option<Value>,
}

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

/// What the `gated` tool lets a test steer: it says it started, then waits for `open`.
#[derive(Default)]
struct Gate {
    started: Notify,
    open: Notify,
}

fn server(gate: Arc<Gate>) -> Server {
    Server::builder("logs", "0")
        .tool(Tool::new(
            "work",
            "Logs at three levels.",
            |a: WorkArgs, _| async move {
                let _ = (&a.token, &a.nested);
                tracing::info!(target: "app", who = %a.who, "working for {}", a.who);
                tracing::debug!(target: "app", "details for {}", a.who);
                tracing::warn!(target: "app", "careful, {}", a.who);
                Ok(CallToolResult::text("done"))
            },
        ))
        .tool(Tool::new(
            "gated",
            "Logs once the test opens the gate.",
            move |a: WorkArgs, _| {
                let gate = gate.clone();
                async move {
                    gate.started.notify_one();
                    gate.open.notified().await;
                    tracing::info!(target: "app", "gate opened for {}", a.who);
                    Ok(CallToolResult::text("through"))
                }
            },
        ))
        .tool(Tool::new(
            "internal",
            "Logs under oxmcp's own target.",
            |_: NoArgs, _| async {
                tracing::warn!(target: "oxmcp::probe", "the server's own business");
                Ok(CallToolResult::text("quiet"))
            },
        ))
        .build()
}

fn start(server: Server) -> Client {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(oxmcp::connection::serve_lines(server, sr, sw));
    let (cr, cw) = tokio::io::split(client_io);
    LineClient::new(cr, cw)
}

/// `(level, logger, message)` of each `notifications/message` in `notes`.
fn messages(notes: &[Value]) -> Vec<(String, String, String)> {
    notes
        .iter()
        .filter(|n| n["method"] == "notifications/message")
        .map(|n| {
            let p = &n["params"];
            (
                p["level"].as_str().unwrap().to_owned(),
                p["logger"].as_str().unwrap_or("").to_owned(),
                p["data"]["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn m(level: &str, message: &str) -> (String, String, String) {
    (level.into(), "app".into(), message.into())
}

/// Lines written by the subscriber, shared with the test.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Lines {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
    fn json(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

struct LineWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn lines_subscriber(
    filter: &str,
) -> (
    impl tracing::Subscriber + Send + Sync + 'static,
    logging::Logs,
    Lines,
) {
    let lines = Lines::default();
    let shared = lines.0.clone();
    let (sub, logs) = logging::subscriber(
        filter,
        LogFormat::Json,
        move || LineWriter(shared.clone()),
        None,
    )
    .unwrap();
    (sub, logs, lines)
}

#[tokio::test(flavor = "current_thread")]
async fn a_client_gets_the_events_of_its_own_requests_at_the_level_it_chose() {
    // stderr shows nothing: what a client gets does not depend on the stderr filter.
    let (sub, _logs, stderr) = lines_subscriber("off");
    let _default = tracing::subscriber::set_default(sub);
    let gate = Arc::new(Gate::default());
    let server = server(gate.clone());
    let mut a = start(server.clone());
    let mut b = start(server);
    a.initialize("2025-11-25", json!({})).await;
    b.initialize("2025-11-25", json!({})).await;

    // A's request is in flight (its handler waits at the gate) while B's logs.
    a.send(json!({"jsonrpc":"2.0","id":10,"method":"tools/call",
        "params":{"name":"gated","arguments":{"who":"A"}}}))
        .await;
    gate.started.notified().await;
    let (resp, notes) = b
        .request(
            json!(2),
            "tools/call",
            json!({"name":"work","arguments":{"who":"B"}}),
        )
        .await;
    assert_eq!(resp["result"]["content"][0]["text"], "done", "{resp}");
    assert_eq!(
        messages(&notes),
        [
            m("info", "working for B"),
            m("debug", "details for B"),
            m("warning", "careful, B"),
        ],
        "every level before setLevel, and the event's fields: {notes:?}"
    );
    assert_eq!(notes[0]["params"]["data"]["who"], "B");

    // An event outside any request reaches nobody; A gets its own event only.
    tracing::warn!(target: "app", "outside any request");
    gate.open.notify_one();
    let mut seen = Vec::new();
    let resp = loop {
        let msg = tokio::time::timeout(BOUND, a.recv())
            .await
            .unwrap()
            .unwrap();
        if msg.get("id") == Some(&json!(10)) {
            break msg;
        }
        seen.push(msg);
    };
    assert_eq!(resp["result"]["content"][0]["text"], "through");
    assert_eq!(messages(&seen), [m("info", "gate opened for A")]);

    // oxmcp's own events stay in the server, even inside a request.
    let (_, notes) = a
        .request(
            json!(11),
            "tools/call",
            json!({"name":"internal","arguments":{}}),
        )
        .await;
    assert_eq!(messages(&notes), []);

    // B asks for warnings and up: the info and debug events are no longer sent to it.
    let (resp, _) = b
        .request(json!(3), "logging/setLevel", json!({"level":"warning"}))
        .await;
    assert_eq!(resp["result"], json!({}));
    let (_, notes) = b
        .request(
            json!(4),
            "tools/call",
            json!({"name":"work","arguments":{"who":"B"}}),
        )
        .await;
    assert_eq!(messages(&notes), [m("warning", "careful, B")]);
    assert!(stderr.text().is_empty(), "{}", stderr.text());
}

#[tokio::test(flavor = "current_thread")]
async fn json_lines_carry_the_request_span_and_never_a_secret() {
    let (sub, logs, lines) = lines_subscriber("app=info,oxmcp=debug");
    let _default = tracing::subscriber::set_default(sub);
    let mut c = start(server(Arc::default()));
    c.initialize("2025-11-25", json!({})).await;
    let (resp, _) = c
        .request(
            json!(2),
            "tools/call",
            json!({"name":"work","arguments":{"who":"ann","token":"s3cr3t-t0ken",
                "nested":{"Api_Key":"k-123","keep":"visible"}}}),
        )
        .await;
    assert_eq!(resp["result"]["content"][0]["text"], "done", "{resp}");
    let text = lines.text();
    assert!(!text.contains("s3cr3t-t0ken"), "{text}");
    assert!(!text.contains("k-123"), "{text}");
    assert!(
        text.contains("visible") && text.contains("<redacted>"),
        "{text}"
    );

    let all = lines.json();
    let event = all
        .iter()
        .find(|l| l["fields"]["message"] == "working for ann")
        .unwrap_or_else(|| panic!("the handler's event: {text}"));
    assert_eq!(event["level"], "INFO");
    assert_eq!(event["target"], "app");
    assert_eq!(event["span"]["name"], "mcp.request");
    assert_eq!(event["span"]["method"], "tools/call");
    assert_eq!(event["span"]["tool"], "work");
    // The span's close line says how the request ended.
    let close = all
        .iter()
        .find(|l| l["fields"]["message"] == "close" && l["span"]["tool"] == "work")
        .unwrap_or_else(|| panic!("the span's close line: {text}"));
    assert_eq!(close["span"]["outcome"], "ok");
    // No debug line from the handler: `app` is at info.
    assert!(!text.contains("details for ann"), "{text}");

    // Changed at run time: warnings only from now on.
    logs.set("app=warn").unwrap();
    let before = all.len();
    c.request(
        json!(3),
        "tools/call",
        json!({"name":"work","arguments":{"who":"bob"}}),
    )
    .await;
    let after = lines.json();
    let new: Vec<_> = after[before..]
        .iter()
        .map(|l| l["fields"]["message"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(new, ["careful, bob"], "{new:?}");
    assert!(logs.set("app=[").is_err(), "a filter that does not parse");
}

#[tokio::test(flavor = "current_thread")]
async fn http_credentials_are_redacted_from_the_request_log() {
    use http_body_util::BodyExt;
    let (sub, _logs, lines) = lines_subscriber("oxmcp=debug");
    let _default = tracing::subscriber::set_default(sub);
    let svc = oxmcp::transport::http::HttpService::new(
        server(Arc::default()),
        oxmcp::transport::http::HttpOptions::default(),
    );
    let req = http::Request::builder()
        .method("POST")
        .uri("/mcp")
        .header("host", "127.0.0.1:8080")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("authorization", "Bearer tok-abc-123")
        .header("cookie", "sid=cookie-456")
        .header("user-agent", "logs-test")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
                "protocolVersion":"2025-11-25","capabilities":{},
                "clientInfo":{"name":"t","version":"0"}}})
            .to_string(),
        )))
        .unwrap();
    let resp = svc.handle(req).await;
    assert_eq!(resp.status(), 200);
    let _ = resp.into_body().collect().await;
    let text = lines.text();
    assert!(text.contains("logs-test"), "the headers are logged: {text}");
    assert!(!text.contains("tok-abc-123"), "{text}");
    assert!(!text.contains("cookie-456"), "{text}");
}

/// `oxmcp serve --stdio` with a configuration file: JSON lines on stderr, and a SIGHUP
/// after the file changed applies its new `server.log`.
#[tokio::test]
async fn sighup_applies_the_log_filter_the_file_now_holds() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("logs-sighup");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("oxmcp.toml");
    let write = |log: &str| {
        std::fs::write(
            &file,
            format!("[server]\nlog = \"{log}\"\nlog_format = \"json\"\n"),
        )
        .unwrap();
    };
    write("warn");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_oxmcp"));
    cmd.args(["serve", "--stdio", "--config"])
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OXMCP_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut c = LineClient::new(child.stdout.take().unwrap(), child.stdin.take().unwrap());
    c.initialize("2025-11-25", json!({})).await;
    let call = json!({"name":"echo","arguments":{"message":"hi","token":"s3cr3t"}});
    let (resp, _) = c.request(json!(2), "tools/call", call.clone()).await;
    assert_eq!(resp["result"]["content"][0]["text"], "hi", "{resp}");

    write("oxmcp=debug");
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut next_line = async || -> Value {
        let line = tokio::time::timeout(BOUND, stderr.next_line())
            .await
            .expect("a log line in time")
            .unwrap()
            .expect("oxmcp exited");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    };
    // Nothing was logged at warn; the first line is the new filter's confirmation.
    let first = next_line().await;
    assert!(
        first["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("the log filter is now \"oxmcp=debug\""),
        "{first}"
    );
    let (resp, _) = c.request(json!(3), "tools/call", call).await;
    assert_eq!(resp["result"]["content"][0]["text"], "hi");
    // The same call now logs its (redacted) arguments at debug, inside its span.
    let line = loop {
        let l = next_line().await;
        if l["span"]["tool"] == "echo" && l["level"] == "DEBUG" {
            break l;
        }
    };
    let text = line.to_string();
    assert!(
        text.contains("<redacted>") && !text.contains("s3cr3t"),
        "{text}"
    );
    assert_eq!(line["span"]["method"], "tools/call");
    c.close().await;
    let status = tokio::time::timeout(BOUND, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}
