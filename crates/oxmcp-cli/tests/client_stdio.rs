//! The client SDK's stdio transport against the real `oxmcp serve --stdio` process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use oxmcp::client::{CallOptions, Client, ClientError, StdioCommand};
use serde_json::json;

fn demo() -> StdioCommand {
    StdioCommand::new(env!("CARGO_BIN_EXE_oxmcp")).args(["serve", "--stdio"])
}

#[tokio::test]
async fn drives_the_demo_server_over_stdio() {
    let c = Client::builder("t", "1")
        .connect_stdio(demo())
        .await
        .unwrap();
    assert_eq!(c.server_info().unwrap().name, "oxmcp-demo");
    // oxmcp serves 2026-07-28, which the client tries first.
    assert_eq!(
        c.protocol_version(),
        Some(oxmcp::ProtocolVersion::V2026_07_28)
    );
    let names: Vec<String> = c
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, vec!["echo", "calculate", "slow"]);
    let r = c
        .call_tool("calculate", json!({ "a": 2, "b": 3, "op": "add" }))
        .await
        .unwrap();
    assert_eq!(r.content[0].as_text(), Some("5"));
    let parsed =
        StdioCommand::parse(&format!("'{}' serve --stdio", env!("CARGO_BIN_EXE_oxmcp"))).unwrap();
    // Pinned to the handshake revisions, the same server answers initialize and ping.
    let c2 = Client::builder("t", "1")
        .era(oxmcp::client::Era::Legacy)
        .connect_stdio(parsed)
        .await
        .unwrap();
    assert_eq!(
        c2.protocol_version(),
        Some(oxmcp::ProtocolVersion::V2025_11_25)
    );
    c2.ping().await.unwrap();
}

#[tokio::test]
async fn a_child_that_dies_mid_call_fails_the_call_with_its_exit() {
    let c = Client::builder("t", "1")
        .connect_stdio(demo())
        .await
        .unwrap();
    let pid = c.server_pid().expect("a spawned server has a pid");
    let (first_progress_tx, first_progress) = tokio::sync::oneshot::channel();
    let first_progress_tx = std::sync::Mutex::new(Some(first_progress_tx));
    let opts = CallOptions::default()
        .timeout(Duration::from_secs(120))
        .on_progress(move |_| {
            if let Some(tx) = first_progress_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
        });
    let call = {
        let c = c.clone();
        tokio::spawn(async move {
            c.call_tool_with("slow", json!({ "seconds": 60 }), opts)
                .await
        })
    };
    // The call is running (it reported progress); now the server dies.
    first_progress.await.unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let err = call.await.unwrap().unwrap_err();
    match &err {
        ClientError::Closed(reason) => {
            assert!(reason.contains("exited"), "{reason}");
            assert!(
                reason.contains("signal: 9") || reason.contains("SIGKILL"),
                "{reason}"
            );
        }
        other => panic!("expected Closed, got {other:?}"),
    }
    // The exit status was read by waiting for the child: it is reaped, nothing is left.
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} is left behind"
    );
    // Later calls fail at once with the same reason.
    let again = c.ping().await.unwrap_err();
    assert!(again.to_string().contains("exited"), "{again}");
}

#[tokio::test]
async fn a_missing_program_is_a_clear_error() {
    let err = Client::builder("t", "1")
        .connect_stdio(StdioCommand::new("/nonexistent/oxmcp-server"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/oxmcp-server"),
        "{err}"
    );
}

/// A handshake-era server that exits on any request before `initialize` (as servers on
/// some SDKs do): the client's `server/discover` probe ends the process, so the client
/// starts it again and initialises.
#[tokio::test]
async fn a_server_that_exits_on_the_probe_is_started_again_for_initialize() {
    let script = format!(
        r#"read -r line; case "$line" in *server/discover*) exit 3;; esac; {{ printf '%s\n' "$line"; cat; }} | exec '{}' serve --stdio"#,
        env!("CARGO_BIN_EXE_oxmcp")
    );
    let c = Client::builder("t", "1")
        .connect_stdio(StdioCommand::new("sh").args(["-c", &script]))
        .await
        .unwrap();
    assert!(!c.is_modern());
    assert_eq!(
        c.protocol_version(),
        Some(oxmcp::ProtocolVersion::V2025_11_25)
    );
    let r = c
        .call_tool("echo", json!({ "message": "again" }))
        .await
        .unwrap();
    assert_eq!(r.content[0].as_text(), Some("again"));
}
