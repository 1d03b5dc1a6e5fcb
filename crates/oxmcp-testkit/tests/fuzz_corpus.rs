//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and the inputs that once
//! broke something (`fuzz/regressions/<target>/`) through the fuzz entries, on stable and
//! without building the fuzz targets. An empty or missing folder fails: a corpus that is
//! not there must not pass as one that holds no surprises.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use oxmcp_testkit::fuzz::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; fails when there are none.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the committed corpus is missing)", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no input", dir.display());
    files
}

/// Feeds every input of the target's corpus and regressions to its entry; names each one
/// that fails.
fn replay(target: &str) {
    let entry = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no fuzz entry {target}"));
    let mut failed = Vec::new();
    let mut count = 0;
    for kind in ["corpus", "regressions"] {
        for path in inputs(&fuzz_dir().join(kind).join(target)) {
            let data = std::fs::read(&path).unwrap();
            count += 1;
            if catch_unwind(AssertUnwindSafe(|| entry(&data))).is_err() {
                failed.push(path.display().to_string());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {count} inputs fail: {failed:#?}",
        failed.len()
    );
    eprintln!("{target}: {count} inputs replayed");
}

#[test]
fn line_framer_corpus_replays() {
    replay("line_framer");
}

#[test]
fn jsonrpc_corpus_replays() {
    replay("jsonrpc");
}

#[test]
fn era_corpus_replays() {
    replay("era");
}

#[test]
fn http_front_corpus_replays() {
    replay("http_front");
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    for (name, _) in TARGETS {
        let file = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(file.is_file(), "{} is missing", file.display());
    }
}
