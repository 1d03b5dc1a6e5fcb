//! The `oxmcp call` examples in the README run as written: each line of the marked block is
//! run by `sh` from the repository's root with the built `oxmcp` first on `PATH`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn readme_call_examples_run_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme
        .find("<!-- oxmcp-call-examples")
        .expect("the README marks its oxmcp call examples");
    let block = &readme[start..];
    let body = &block[block.find("```sh\n").unwrap() + 6..];
    let body = &body[..body.find("```").unwrap()];
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_oxmcp")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for line in body.lines().filter(|l| l.starts_with("oxmcp call ")) {
        let expect_failure = line.contains("# exits 1");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(&root)
            .env("PATH", &path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert_eq!(
            code,
            Some(if expect_failure { 1 } else { 0 }),
            "{line}\nstdout: {stdout}\nstderr: {stderr}"
        );
        let value: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{line}: not JSON ({e}): {stdout}"));
        assert!(value.is_object(), "{line}: {value}");
        if line.contains("tool slow") {
            assert!(
                stderr.contains("progress 1/2"),
                "progress goes to stderr: {stderr}"
            );
        }
        if line.contains("op=add") {
            assert_eq!(value["content"][0]["text"], "5");
        }
        if line.contains("README.md") {
            assert!(
                value["contents"][0]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("# oxmcp")
            );
        }
        ran += 1;
    }
    assert_eq!(ran, 7, "every example ran");
}
