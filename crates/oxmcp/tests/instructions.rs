//! The instruction-count budget: what one request costs the server, counted by valgrind's
//! callgrind (instructions, not seconds, so the figure does not depend on the machine's
//! load), per scenario, against the committed baseline in `instructions.baseline.json`.
//! A scenario more than 3% above its baseline fails; a new baseline needs its reason in
//! docs/BENCHMARKS.md.
//!
//! Each scenario (`tests/scenarios/`) runs in process on a single-threaded runtime, each
//! answer read whole and checked. This test runs itself under
//! valgrind twice per scenario, with `N` and `2N` requests; the difference over `N` is the
//! cost of one request, free of start-up and warm-up.
//!
//! The counts hold for the `ci` profile (release code with debug assertions) that
//! `scripts/test.sh` builds; in another profile the counts are printed, not judged.
//! `OXMCP_ICOUNT_BLESS=1` writes the measured counts as the new baseline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod scenarios;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use scenarios::SCENARIOS;

/// Requests in the shorter run; the longer has twice as many.
const N: u64 = 400;
/// How far above its baseline a scenario may go.
const TOLERANCE: f64 = 0.03;
const CHILD_ENV: &str = "OXMCP_ICOUNT_CHILD";

/// Runs under valgrind, started by [`instruction_budget`]: one scenario, `n` requests.
#[test]
#[ignore = "run by instruction_budget under valgrind"]
fn icount_child() {
    let spec = std::env::var(CHILD_ENV).expect("started by instruction_budget");
    let (name, n) = spec.split_once(':').expect("scenario:n");
    let n: u64 = n.parse().expect("a count");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(scenarios::run(name, n));
}

/// Every scenario once, natively: a wrong answer fails here before valgrind is involved.
#[tokio::test(flavor = "current_thread")]
async fn every_scenario_answers_correctly() {
    for name in SCENARIOS {
        scenarios::run(name, 3).await;
    }
}

/// Instructions `scenario` takes for `n` requests, all included.
fn count(scenario: &str, n: u64, out: &Path) -> u64 {
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .args(["--exact", "icount_child", "--ignored", "--test-threads=1"])
        .env(CHILD_ENV, format!("{scenario}:{n}"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "valgrind is needed for the instruction budget (scripts/setup-interop.sh installs it): {e}"
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{scenario}:{n} under valgrind failed:\n{stderr}"
    );
    // Callgrind's closing summary: "==pid== Collected : 123456".
    stderr
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().to_owned())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no instruction count in valgrind's output:\n{stderr}"))
}

fn baseline_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/instructions.baseline.json")
}

/// The build profile this test binary comes from (`target/<profile>/deps/…`).
fn profile() -> String {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn instruction_budget() {
    let dir = std::env::temp_dir().join(format!("oxmcp-icount-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut measured = BTreeMap::new();
    for name in SCENARIOS {
        let short = count(name, N, &dir.join(format!("{name}.short")));
        let long = count(name, 2 * N, &dir.join(format!("{name}.long")));
        assert!(long > short, "{name}: {long} ≤ {short}");
        measured.insert(name.to_owned(), (long - short) / N);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let report: String = measured
        .iter()
        .map(|(k, v)| format!("  {k}: {v} instructions per request\n"))
        .collect();
    let profile = profile();
    eprintln!("instruction counts ({profile} profile):\n{report}");
    if std::env::var_os("OXMCP_ICOUNT_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&measured).unwrap();
        std::fs::write(baseline_path(), text + "\n").unwrap();
        return;
    }
    if profile != "ci" {
        eprintln!(
            "the budget is judged in the ci profile only (scripts/test.sh); this is {profile:?}"
        );
        return;
    }
    let baseline: BTreeMap<String, u64> =
        serde_json::from_str(&std::fs::read_to_string(baseline_path()).unwrap()).unwrap();
    let mut over = Vec::new();
    for (name, &now) in &measured {
        let Some(&base) = baseline.get(name) else {
            over.push(format!("{name}: no baseline (measured {now})"));
            continue;
        };
        let limit = base as f64 * (1.0 + TOLERANCE);
        if now as f64 > limit {
            over.push(format!(
                "{name}: {now} instructions per request, {:+.1}% over the baseline {base}",
                (now as f64 / base as f64 - 1.0) * 100.0
            ));
        }
    }
    assert!(
        over.is_empty(),
        "over the instruction budget (+{}% allowed):\n{}\nmeasured:\n{report}",
        TOLERANCE * 100.0,
        over.join("\n")
    );
}
