//! `oxmcp bench` against real servers (in this process, over loopback): counts only, never
//! timings. Every request sent is answered or counted as an error by kind; a server whose
//! replies are wrong shows up as errors, not as throughput.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use oxmcp::server::{Server, ServerOptions};
use oxmcp::transport::http::{self, HttpOptions, HttpService};
use serde_json::Value;

async fn serve(server: Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let svc = HttpService::new(server, HttpOptions::default().loopback());
    tokio::spawn(http::serve(
        listener,
        svc,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    url
}

async fn bench(url: &str, extra: &[&str]) -> Value {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_oxmcp"))
        .args([
            "bench",
            "--url",
            url,
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
