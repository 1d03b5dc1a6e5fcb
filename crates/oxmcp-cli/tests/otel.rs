//! OpenTelemetry: one trace crosses an oxmcp client, the `oxmcp serve` process and the
//! tool it runs. Both processes export their spans over OTLP/HTTP to a collector in this
//! test, which decodes them with `opentelemetry-proto`; the trace context travels in
//! `params._meta` (`traceparent`), on the 2026-07-28 revision and on a handshake one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use oxmcp::client::{Client, Era, HttpClientTransport};
use oxmcp_cli::telemetry::Traces;
use prost::Message;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tracing::Instrument;
use tracing_subscriber::prelude::*;

/// A bound on waits that should end at once; reaching it fails the test (it never paces it).
const BOUND: Duration = Duration::from_secs(60);

/// One span as the collector received it.
#[derive(Debug, Clone)]
struct Got {
    service: String,
    name: String,
    kind: i32,
    trace: Vec<u8>,
    id: Vec<u8>,
    parent: Vec<u8>,
    attributes: Vec<(String, String)>,
}

impl Got {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

type Spans = Arc<Mutex<Vec<Got>>>;

fn text(v: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// Decodes one OTLP/HTTP export and records its spans; 400 for anything else.
async fn collect(
    spans: Spans,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let answer = |status: u16, body: Vec<u8>| {
        Ok(Response::builder()
            .status(status)
            .header("content-type", "application/x-protobuf")
            .body(Full::new(Bytes::from(body)))
            .unwrap())
    };
    let protobuf = req
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "application/x-protobuf");
    if req.method() != hyper::Method::POST || req.uri().path() != "/v1/traces" || !protobuf {
        return answer(400, Vec::new());
    }
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let Ok(export) = ExportTraceServiceRequest::decode(body) else {
        return answer(400, Vec::new());
    };
    let mut got = spans.lock().unwrap();
    for rs in export.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .map(|a| text(a.value.as_ref()))
            .unwrap_or_default();
        for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
            got.push(Got {
                service: service.clone(),
                name: span.name,
                kind: span.kind,
                trace: span.trace_id,
                id: span.span_id,
                parent: span.parent_span_id,
                attributes: span
                    .attributes
                    .iter()
                    .map(|a| (a.key.clone(), text(a.value.as_ref())))
                    .collect(),
            });
        }
    }
    answer(200, ExportTraceServiceResponse::default().encode_to_vec())
}

/// Starts the collector; returns its traces URL and what it received.
async fn collector() -> (String, Spans) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    let spans = Spans::default();
    let kept = spans.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let spans = kept.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| collect(spans.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, spans)
}

/// `oxmcp serve` on a free port, exporting to `endpoint`; the child and its MCP URL.
async fn serve(endpoint: &str, stderr: Stdio) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxmcp"));
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--shutdown-grace-ms",
        "2000",
    ])
    .current_dir(env!("CARGO_TARGET_TMPDIR"))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(stderr)
    .kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("OXMCP_") || k.starts_with("OTEL_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("OXMCP_TELEMETRY_OTLP_ENDPOINT", endpoint)
        .env("OXMCP_TELEMETRY_SERVICE_NAME", "oxmcp-under-test");
    let mut child = cmd.spawn().expect("spawn oxmcp");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(BOUND, lines.next_line())
        .await
        .expect("the URL line in time")
        .unwrap()
        .expect("oxmcp exited before printing its URL");
    let url = line
        .strip_prefix("oxmcp: serving MCP at ")
        .unwrap_or_else(|| panic!("the first line is the URL: {line:?}"))
        .to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("the server is running");
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}

/// Calls the demo's `echo` tool inside a root span named `root`, on `era`.
async fn call_in_root(url: &str, era: Era, root: &'static str) {
    let span = tracing::info_span!("root", otel.name = root);
    async {
        let client = Client::builder("otel-test", "1")
            .era(era)
            .connect_http(HttpClientTransport::new(url.to_owned()))
            .await
            .unwrap();
        let result: serde_json::Value = client
            .call_tool("echo", json!({ "message": "traced" }))
            .await
            .map(|r| serde_json::to_value(r).unwrap())
            .unwrap();
        assert!(result.to_string().contains("traced"), "{result}");
    }
    .instrument(span)
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_crosses_client_server_and_tool() {
    let (endpoint, spans) = collector().await;
    let traces = Traces::new(&endpoint, "oxmcp-test-client").unwrap();
    tracing_subscriber::registry()
        .with(traces.layer())
        .try_init()
        .unwrap();
    let (mut server, url) = serve(&endpoint, Stdio::inherit()).await;

    call_in_root(&url, Era::Auto, "root modern").await;
    call_in_root(&url, Era::Legacy, "root legacy").await;

    // The client's spans: flushed here (off the runtime's workers, which run the exporter).
    let flushing = traces.clone();
    tokio::task::spawn_blocking(move || flushing.shutdown())
        .await
        .unwrap()
        .unwrap();
    // The server's: flushed when it drains on SIGTERM, before it exits.
    sigterm(&server);
    let status = tokio::time::timeout(BOUND, server.wait())
        .await
        .expect("the server exits")
        .unwrap();
    assert!(status.success(), "{status}");

    let got = spans.lock().unwrap().clone();
    let names: Vec<(&str, &str)> = got
        .iter()
        .map(|s| (s.service.as_str(), s.name.as_str()))
        .collect();
    for root_name in ["root modern", "root legacy"] {
        let one = |what: &str, pick: &dyn Fn(&Got) -> bool| -> Got {
            let found: Vec<&Got> = got.iter().filter(|s| pick(s)).collect();
            assert_eq!(found.len(), 1, "{root_name}: one {what} among {names:?}");
            found[0].clone()
        };
        let root = one("root span", &|s| {
            s.name == root_name && s.service == "oxmcp-test-client"
        });
        assert!(root.parent.is_empty(), "the root has no parent");
        let client = one("client tools/call span", &|s| {
            s.trace == root.trace && s.name == "tools/call" && s.service == "oxmcp-test-client"
        });
        assert_eq!(
            client.parent, root.id,
            "{root_name}: the client span is the root's child"
        );
        assert_eq!(client.kind, SpanKind::Client as i32);
        assert_eq!(client.attribute("mcp.method.name"), Some("tools/call"));

        let server_span = one("server tools/call span", &|s| {
            s.trace == root.trace && s.service == "oxmcp-under-test" && s.name == "tools/call echo"
        });
        assert_eq!(
            server_span.parent, client.id,
            "{root_name}: the server span is the client span's child"
        );
        assert_eq!(server_span.kind, SpanKind::Server as i32);
        assert_eq!(server_span.attribute("mcp.method.name"), Some("tools/call"));
        assert_eq!(server_span.attribute("gen_ai.tool.name"), Some("echo"));
        assert!(server_span.attribute("jsonrpc.request.id").is_some());

        let tool = one("tool span", &|s| {
            s.trace == root.trace && s.name == "execute_tool echo"
        });
        assert_eq!(tool.service, "oxmcp-under-test");
        assert_eq!(
            tool.parent, server_span.id,
            "{root_name}: the tool span is the server span's child"
        );
        assert_eq!(tool.attribute("gen_ai.tool.name"), Some("echo"));
    }
    // A session of the handshake revisions is named on its spans.
    let legacy_root = got.iter().find(|s| s.name == "root legacy").unwrap();
    let legacy_server = got
        .iter()
        .find(|s| s.trace == legacy_root.trace && s.name == "tools/call echo")
        .unwrap();
    assert!(
        legacy_server.attribute("mcp.session.id").is_some(),
        "{legacy_server:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_costs_the_spans_not_the_requests() {
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/v1/traces", closed.local_addr().unwrap());
    drop(closed);
    let (mut server, url) = serve(&endpoint, Stdio::piped()).await;
    let mut stderr = server.stderr.take().unwrap();
    let reading = tokio::spawn(async move {
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text)
            .await
            .unwrap();
        text
    });
    let client = Client::builder("otel-test", "1")
        .connect_http(HttpClientTransport::new(url))
        .await
        .unwrap();
    let result = client
        .call_tool("echo", json!({ "message": "still served" }))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true));
    drop(client);
    sigterm(&server);
    let status = tokio::time::timeout(BOUND, server.wait())
        .await
        .expect("the server exits")
        .unwrap();
    assert!(
        status.success(),
        "a failed export does not fail the exit: {status}"
    );
    let text = tokio::time::timeout(BOUND, reading).await.unwrap().unwrap();
    assert!(
        text.contains("could not export") && text.contains("telemetry.otlp_endpoint"),
        "the lost spans are reported on stderr: {text}"
    );
}
