//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
//! tests/interop/package-lock.json) runs its client scenarios against
//! `oxmcp-conformance-client` through `scripts/conformance-client.sh`, which fails unless
//! every scenario ends with no failure and no warning: with the stable line 0.1.16
//! `initialize`, `tools_call`, `elicitation-sep1034-client-defaults` and `sse-retry` (the
//! client pinned to the handshake revisions), with the preview line 0.2.0-alpha.12 at
//! `--spec-version 2026-07-28` `tools_call`, `request-metadata`,
//! `sep-2322-client-request-state`, `http-standard-headers`, `http-custom-headers`,
//! `http-invalid-tool-headers` and `json-schema-ref-no-deref` (pinned to 2026-07-28).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn the_conformance_suite_passes_the_client_scenarios() {
    let root = oxmcp_testkit::project_root();
    let node = root.join("tests/interop/node_modules/.bin/node");
    assert!(
        node.exists(),
        "the interop harness is not installed: run scripts/setup-interop.sh (expected {})",
        node.display()
    );
    let out = std::process::Command::new(root.join("scripts/conformance-client.sh"))
        .arg(env!("CARGO_BIN_EXE_oxmcp-conformance-client"))
        .arg(&node)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run scripts/conformance-client.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the conformance suite's client scenarios did not all pass:\n{stdout}\n{stderr}"
    );
}
