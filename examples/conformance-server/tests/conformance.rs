//! The official MCP conformance suite (`@modelcontextprotocol/conformance` 0.1.16, pinned in
//! tests/interop) runs every server scenario (`--suite all`) against the fixture server over
//! Streamable HTTP: no failure and no warning in any scenario's checks.

use std::collections::BTreeSet;

use oxmcp_testkit::{HttpChild, conformance_checks, conformance_cli, interop_node};

#[test]
fn conformance_suite_all_server_scenarios_pass_without_warnings() {
    let node = interop_node();
    let server = HttpChild::spawn(
        env!("CARGO_BIN_EXE_oxmcp-conformance-server"),
        &["--listen", "127.0.0.1:0"],
    );
    let out_dir = std::env::temp_dir().join(format!("oxmcp-conformance-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let run = std::process::Command::new(&node)
        .arg(conformance_cli())
        .args(["server", "--url", &server.url, "--suite", "all", "-o"])
        .arg(&out_dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the conformance suite");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let checks = conformance_checks(&out_dir);
    let scenarios: BTreeSet<&str> = checks.iter().map(|c| c.0.as_str()).collect();
    let bad: Vec<_> = checks
        .iter()
        .filter(|c| c.2 == "FAILURE" || c.2 == "WARNING")
        .collect();
    let status = server.terminate();
    assert!(
        run.status.success(),
        "the suite failed:\n{stdout}\n{stderr}"
    );
    assert!(bad.is_empty(), "failures or warnings: {bad:#?}");
    // 0.1.16's `--suite all` has 32 server scenarios; fewer means some did not run.
    assert!(
        scenarios.len() >= 32,
        "only {} scenarios ran: {scenarios:?}",
        scenarios.len()
    );
    let passed = checks.iter().filter(|c| c.2 == "SUCCESS").count();
    assert!(passed >= 43, "only {passed} checks passed");
    assert!(
        status.success(),
        "the fixture server did not exit cleanly on SIGTERM: {status}"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}
