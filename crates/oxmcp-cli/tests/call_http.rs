//! `oxmcp call --url` against the demo server over Streamable HTTP (served in this test's
//! process so its counters can be read): a tool call with typed `--arg`s, progress on
//! stderr, both eras on one endpoint, and a handshake-era session ended (DELETE) when the
//! command exits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use oxmcp::server::ServerOptions;
use oxmcp::transport::http::{self, HttpOptions, HttpService};
use serde_json::Value;

async fn oxmcp_call(args: &[&str]) -> (i32, Value, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_oxmcp"))
        .arg("call")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (out.status.code().unwrap(), json, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oxmcp_call_url_calls_tools_and_ends_its_session() {
    let server = oxmcp_cli::demo::server(None, ServerOptions::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let svc = HttpService::new(server, HttpOptions::default().loopback());
    let serving = tokio::spawn(http::serve(
        listener,
        svc.clone(),
        std::future::pending(),
        Duration::from_secs(1),
    ));

    let (code, result, _) = oxmcp_call(&[
        "--url",
        &url,
        "tool",
        "calculate",
        "--arg",
        "a=2",
        "--arg",
        "b=3",
        "--arg",
        "op=add",
    ])
    .await;
    assert_eq!(code, 0);
    assert_eq!(result["content"][0]["text"], "5");

    let (code, result, stderr) =
        oxmcp_call(&["--url", &url, "tool", "slow", "--arg", "seconds=1"]).await;
    assert_eq!(code, 0);
    assert_eq!(result["content"][0]["text"], "worked for 1 seconds");
    assert!(
        stderr.contains("1 of 1 seconds"),
        "progress on stderr: {stderr}"
    );

    let (code, result, _) = oxmcp_call(&["--url", &url, "tool", "no_such_tool"]).await;
    assert_eq!(code, 1);
    assert_eq!(result["error"]["code"], -32602);

    // The same endpoint serves both eras: pinned to either, the call works.
    for era in ["legacy", "modern"] {
        let (code, result, stderr) = oxmcp_call(&[
            "--era",
            era,
            "--url",
            &url,
            "tool",
            "calculate",
            "--json",
            r#"{"a":4,"b":5,"op":"multiply"}"#,
        ])
        .await;
        assert_eq!(code, 0, "{era}: {stderr}");
        assert_eq!(result["content"][0]["text"], "20", "{era}");
    }
    let (code, _, stderr) = oxmcp_call(&["--era", "legacy", "--url", &url, "ping"]).await;
    assert_eq!(code, 0, "{stderr}");

    // Each handshake-era `oxmcp call` deleted its session on exit (2026-07-28 makes none).
    assert_eq!(svc.stats().sessions, 0);
    serving.abort();
}
