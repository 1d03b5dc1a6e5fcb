//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
//! tests/interop) against the fixture server over Streamable HTTP: the stable line 0.1.16
//! runs every server scenario (`--suite all`); the preview line 0.2.0-alpha.12 runs, against
//! one and the same fixture process, every scenario of revision 2026-07-28
//! (`--requirements 2026-07-28`: the scored ones, the pending ones and the tasks extension's)
//! and then every scenario revision 2025-11-25 requires (`--requirements 2025-11-25`, which
//! adds the session lifecycle): one endpoint serves both eras. No failure and no warning in
//! any scenario's checks.
//!
//! The runs share the machine's two cores with nothing else: a lock keeps them one at a time.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use oxmcp_testkit::{
    HttpChild, conformance_checks, conformance_cli, conformance_next_cli, interop_node,
};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// One run of the suite: its selection, and the fewest scenarios and passed checks it has.
type Run<'a> = (&'a [&'a str], usize, usize);

/// Runs `cli server --url … <selection>` for each run, in order, against one fresh fixture,
/// asserting that no check failed or warned and that the server exited cleanly on SIGTERM.
fn run_suite(cli: &Path, runs: &[Run<'_>]) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = HttpChild::spawn(
        env!("CARGO_BIN_EXE_oxmcp-conformance-server"),
        &["--listen", "127.0.0.1:0"],
    );
    for &(selection, min_scenarios, min_passed) in runs {
        run_once(cli, &server.url, selection, min_scenarios, min_passed);
    }
    let status = server.terminate();
    assert!(
        status.success(),
        "the fixture server did not exit cleanly on SIGTERM: {status}"
    );
}

fn run_once(cli: &Path, url: &str, selection: &[&str], min_scenarios: usize, min_passed: usize) {
    let node = interop_node();
    let out_dir = std::env::temp_dir().join(format!(
        "oxmcp-conformance-{}-{}",
        std::process::id(),
        selection.join("-")
    ));
    let _ = std::fs::remove_dir_all(&out_dir);
    let run = std::process::Command::new(&node)
        .arg(cli)
        .args(["server", "--url", url])
        .args(selection)
        .arg("-o")
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
    assert!(
        run.status.success(),
        "the suite failed:\n{stdout}\n{stderr}"
    );
    assert!(bad.is_empty(), "failures or warnings: {bad:#?}");
    // Fewer scenarios or passed checks than the pinned suite has means some did not run.
    assert!(
        scenarios.len() >= min_scenarios,
        "only {} scenarios ran: {scenarios:?}",
        scenarios.len()
    );
    let passed = checks.iter().filter(|c| c.2 == "SUCCESS").count();
    assert!(
        passed >= min_passed,
        "{selection:?}: only {passed} checks passed"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn conformance_0_1_16_all_server_scenarios_pass_without_warnings() {
    run_suite(&conformance_cli(), &[(&["--suite", "all"], 32, 43)]);
}

#[test]
fn conformance_0_2_both_eras_on_one_endpoint_pass_without_warnings() {
    run_suite(
        &conformance_next_cli(),
        &[
            (&["--requirements", "2026-07-28"], 50, 190),
            (&["--requirements", "2025-11-25"], 33, 80),
        ],
    );
}
