//! `oxmcp bench` against real servers (in this process, over loopback): counts only, never
//! timings. Every request sent is answered or counted as an error by kind; a server whose
//! replies are wrong shows up as errors, not as throughput.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use oxmcp::server::{Server, ServerOptions};
use oxmcp::transport::http::{self, HttpOptions, HttpService};
use serde_json::Value;

async fn serve(server: Server) -> String {
    serve_with(server, HttpOptions::default()).await.0
}

async fn serve_with(server: Server, opts: HttpOptions) -> (String, HttpService) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let svc = HttpService::new(server, opts.loopback());
    tokio::spawn(http::serve(
        listener,
        svc.clone(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    (url, svc)
}

async fn bench(url: &str, extra: &[&str]) -> Value {
    bench_on(&["--url", url], extra).await
}

/// `oxmcp bench` on `server` (`--url …` or `--stdio …`) with a short run and `extra`.
async fn bench_on(server: &[&str], extra: &[&str]) -> Value {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_oxmcp"))
        .arg("bench")
        .args(server)
        .args([
            "--connections",
            "4",
            "--duration",
            "300ms",
            "--warmup",
            "100ms",
            "--json",
        ])
        .args(extra)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `oxmcp bench ARGS`, which must fail: its standard error.
async fn bench_fails(args: &[&str]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_oxmcp"))
        .arg("bench")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn errors(r: &Value) -> u64 {
    r["errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_answered_or_counted_as_an_error() {
    let demo = oxmcp_cli::demo::server(None, ServerOptions::default()).unwrap();
    let url = serve(demo).await;
    let pid = std::process::id().to_string();
    for extra in [&[][..], &["--rate", "2000"][..]] {
        let r = bench(&url, extra).await;
        let sent = r["sent"].as_u64().unwrap();
        assert!(sent > 0, "{r}");
        assert_eq!(r["answered"].as_u64().unwrap() + errors(&r), sent, "{r}");
        assert_eq!(errors(&r), 0, "{r}");
    }
    // With the server's pid (this test process serves it), what the server spent.
    let r = bench(&url, &["--server-pid", &pid]).await;
    assert!(
        r["server_cpu_us_per_request"].as_f64().unwrap() > 0.0,
        "{r}"
    );
    assert!(r["server_rss_bytes"].as_u64().unwrap() > 0, "{r}");
    // A server without the echo tool: every reply is an error, counted by its kind.
    let bare = Server::builder("bare", "1").enable_tools().build();
    let url = serve(bare).await;
    let r = bench(&url, &[]).await;
    let sent = r["sent"].as_u64().unwrap();
    assert!(sent > 0);
    assert_eq!(r["answered"], 0, "{r}");
    assert_eq!(r["errors"]["rpc -32602"].as_u64(), Some(sent), "{r}");
}

fn all_answered(r: &Value) {
    let sent = r["sent"].as_u64().unwrap();
    assert!(sent > 0, "{r}");
    assert_eq!(r["answered"].as_u64().unwrap(), sent, "{r}");
    assert_eq!(errors(r), 0, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_of_the_handshake_revisions_are_opened_used_and_ended() {
    let demo = oxmcp_cli::demo::server(None, ServerOptions::default()).unwrap();
    let (url, svc) = serve_with(demo, HttpOptions::default()).await;
    for mode in ["per-connection", "shared"] {
        let r = bench(&url, &["--protocol", "2025-11-25", "--sessions", mode]).await;
        all_answered(&r);
        // Every session the run opened was ended (DELETE) before it exited.
        assert_eq!(svc.stats().sessions, 0, "{mode}");
    }
    // A stateless server: no initialize, no session.
    let demo = oxmcp_cli::demo::server(None, ServerOptions::default()).unwrap();
    let mut opts = HttpOptions::default();
    opts.stateless = true;
    opts.json_response = true;
    let (url, _) = serve_with(demo, opts).await;
    let r = bench(&url, &["--protocol", "2025-06-18", "--sessions", "none"]).await;
    all_answered(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_counted_and_ended() {
    let demo = oxmcp_cli::demo::server(None, ServerOptions::default()).unwrap();
    let (url, svc) = serve_with(demo, HttpOptions::default()).await;
    let pid = std::process::id().to_string();
    let r = bench(
        &url,
        &[
            "--protocol",
            "2025-11-25",
            "--idle-sessions",
            "40",
            "--server-pid",
            &pid,
        ],
    )
    .await;
    assert_eq!(r["sessions"], 40, "{r}");
    assert_eq!(r["protocol_version"], "2025-11-25", "{r}");
    assert!(r["rss_after_bytes"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(svc.stats().sessions, 0);
    // The 2026-07-28 era has no sessions to measure: a clear refusal.
    let err = bench_fails(&["--url", &url, "--idle-sessions", "5", "--server-pid", &pid]).await;
    assert!(err.contains("needs a revision with sessions"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_is_pipelined_through_a_child_and_its_cpu_is_reported() {
    let command = format!("{} serve --stdio", env!("CARGO_BIN_EXE_oxmcp"));
    for protocol in ["2026-07-28", "2025-11-25"] {
        let r = bench_on(&["--stdio", &command], &["--protocol", protocol]).await;
        all_answered(&r);
        assert!(
            r["server_cpu_us_per_request"].as_f64().unwrap() > 0.0,
            "{r}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_is_timed_to_the_first_checked_answer() {
    // A free port for the started server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let command = format!(
        "{} serve --listen 127.0.0.1:{port}",
        env!("CARGO_BIN_EXE_oxmcp")
    );
    let r = bench_on(&["--url", &url], &["--cold-start", &command]).await;
    assert_eq!(r["runs"], 7, "{r}");
    assert!(r["min_ms"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["median_ms"].as_f64() >= r["min_ms"].as_f64(), "{r}");
    // A command that never serves fails with a clear error rather than a figure.
    let err = bench_fails(&["--url", &url, "--cold-start", "true"]).await;
    assert!(err.contains("exited"), "{err}");
}
