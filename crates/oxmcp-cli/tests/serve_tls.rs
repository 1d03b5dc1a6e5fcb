//! `oxmcp serve` with `[tls]` as a process: it prints an `https://` URL, serves clients
//! that trust its CA, swaps in a new certificate on SIGHUP for new connections while a
//! kept-alive one goes on, and refuses to start on files that do not load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use oxmcp_testkit::pki::{self, Ca};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};

/// A bound on waits that should end at once; reaching it fails the test (it never paces it).
const BOUND: Duration = Duration::from_secs(60);

const PREFIX: &str = "oxmcp: serving MCP at ";

fn dir(test: &str) -> PathBuf {
    pki::dir(Path::new(env!("CARGO_TARGET_TMPDIR")), test)
}

/// `oxmcp` with no `OXMCP_*` variable from the test's environment.
fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxmcp"));
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OXMCP_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Writes a configuration serving HTTPS on a free loopback port with the files in `d`.
fn config(d: &Path) -> PathBuf {
    let file = d.join("oxmcp.toml");
    std::fs::write(
        &file,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[tls]\ncert = \"{}\"\nkey = \"{}\"\nwatch_interval = \"off\"\n",
            d.join("server.crt").display(),
            d.join("server.key").display()
        ),
    )
    .unwrap();
    file
}

/// A client trusting only `ca`, reporting the certificate each response came over.
fn client(ca: &Ca) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap()])
        .tls_info(true)
        .build()
        .unwrap()
}

/// POSTs `initialize` to `url`: the certificate the answer came over.
async fn initialize(client: &reqwest::Client, url: &str) -> Vec<u8> {
    let body = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},
        "clientInfo":{"name":"tls-test","version":"0"}}});
    let resp = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cert = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("the response came over TLS")
        .to_vec();
    let text = resp.text().await.unwrap();
    assert!(text.contains("\"serverInfo\""), "{text}");
    cert
}

/// The next stderr line that contains `needle` (bounded).
async fn wait_for(stderr: &mut Lines<BufReader<ChildStderr>>, needle: &str) -> String {
    loop {
        let line = tokio::time::timeout(BOUND, stderr.next_line())
            .await
            .unwrap_or_else(|_| panic!("no line with {needle:?} in time"))
            .unwrap()
            .unwrap_or_else(|| panic!("oxmcp exited before logging {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    }
}

fn hangup(child: &Child) {
    let pid = child.id().unwrap().to_string();
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[tokio::test]
async fn sighup_swaps_the_certificate_for_new_connections_only() {
    let d = dir("serve-sighup");
    let ca = Ca::new("oxmcp serve test CA");
    let v1 = ca.leaf("serve v1", None, 2030);
    v1.install(&d);
    let file = config(&d);
    let mut child = command(&["serve", "--config", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = tokio::time::timeout(BOUND, stdout.next_line())
        .await
        .unwrap()
        .unwrap()
        .expect("the URL line");
    let url = line.strip_prefix(PREFIX).unwrap().to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    // A client whose pooled connection was made on v1.
    let kept = client(&ca);
    assert_eq!(initialize(&kept, &url).await, v1.der);

    let v2 = ca.leaf("serve v2", None, 2031);
    v2.install(&d);
    hangup(&child);
    wait_for(&mut stderr, "SIGHUP: reloaded the TLS certificate").await;
    // A new connection sees v2; the kept one is still open, still on v1, and served.
    assert_eq!(initialize(&client(&ca), &url).await, v2.der);
    assert_eq!(initialize(&kept, &url).await, v1.der);

    // Files that do not load: the old certificate stays, and the log says why.
    std::fs::write(d.join("server.key"), "not a key").unwrap();
    hangup(&child);
    let line = wait_for(&mut stderr, "TLS reload failed").await;
    assert!(line.contains("tls.key"), "{line}");
    assert_eq!(initialize(&client(&ca), &url).await, v2.der);

    child.start_kill().unwrap();
    child.wait().await.unwrap();
}

#[tokio::test]
async fn tls_files_that_do_not_load_stop_the_start_with_exit_2() {
    let d = dir("serve-bad-files");
    let file = config(&d);
    let out = command(&["serve", "--config", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let crt = d.join("server.crt");
    assert!(
        stderr.contains(&format!("oxmcp: tls.cert {}", crt.display())),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing was served");
}
