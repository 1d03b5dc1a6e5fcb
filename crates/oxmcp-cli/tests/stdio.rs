//! `oxmcp serve --stdio` as a process: bad input gets the right codes and the process keeps
//! serving; EOF ends it cleanly. Every message it sends is schema-checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use oxmcp_testkit::{LineClient, WireCheck};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_oxmcp"))
        .args(["serve", "--stdio"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn oxmcp")
}

fn client(child: &mut Child) -> LineClient<ChildStdout, ChildStdin> {
    LineClient::new(child.stdout.take().unwrap(), child.stdin.take().unwrap())
}

fn code(v: &Value) -> i64 {
    v["error"]["code"].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_the_process_keeps_serving() {
    let mut child = spawn(&[]);
    let mut c = client(&mut child);
    c.initialize("2025-11-25", json!({})).await;
    let cases: Vec<(&[u8], i64, Option<Value>)> = vec![
        (b"this is not json\n", -32700, None),
        (b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"\n", -32700, None),
        (b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"\xff\xfe\"}}\n", -32700, None),
        (b"[{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}]\n", -32600, None),
        (b"{\"jsonrpc\":\"1.0\",\"id\":4,\"method\":\"ping\"}\n", -32600, Some(json!(4))),
        (b"{\"id\":5,\"method\":\"ping\"}\n", -32600, Some(json!(5))),
        (b"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}\n", -32600, None),
        (b"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}\n", -32600, None),
        (b"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}\n", -32600, None),
        (b"{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}\n", -32600, None),
        (b"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"no/such/method\"}\n", -32601, Some(json!(6))),
        (b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":5}}\n", -32602, Some(json!(7))),
        (b"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}\n", -32602, Some(json!(8))),
        (b"42\n", -32600, None),
    ];
    for (input, want, id) in cases {
        c.send_raw(input).await;
        let resp = c.recv().await.expect("an answer");
        assert_eq!(
            code(&resp),
            want,
            "{}: {resp}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(resp.get("id").cloned(), id, "{resp}");
        assert!(!resp["error"]["message"].as_str().unwrap().is_empty());
        let (pong, _) = c.request(json!("alive"), "ping", json!({})).await;
        assert_eq!(pong["result"], json!({}));
    }
    // A 64 MiB line: skipped without buffering, answered with -32600 naming the limit.
    let chunk = vec![b'x'; 1024 * 1024];
    c.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"").await;
    for _ in 0..64 {
        c.send_raw(&chunk).await;
    }
    c.send_raw(b"\"}}}\n").await;
    let resp = c.recv().await.unwrap();
    assert_eq!(code(&resp), -32600);
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("4194304"),
        "names the limit: {resp}"
    );
    let (resp, _) = c
        .request(
            json!(10),
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "still here" } }),
        )
        .await;
    assert_eq!(resp["result"]["content"][0]["text"], "still here");
    c.close().await;
    assert!(c.recv().await.is_none());
    assert!(child.wait().await.unwrap().success());
}

#[tokio::test]
async fn ten_thousand_pipelined_requests_are_all_answered() {
    let mut child = spawn(&[]);
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let check = Arc::new(Mutex::new(WireCheck::default()));
    let mut lines = BufReader::new(stdout).lines();
    let mut stdin = stdin;
    let init = json!({ "jsonrpc": "2.0", "id": "init", "method": "initialize", "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    check.lock().unwrap().sent(&init);
    stdin
        .write_all(format!("{init}\n").as_bytes())
        .await
        .unwrap();
    let first: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    check.lock().unwrap().received(&first);
    const N: usize = 10_000;
    let writer_check = check.clone();
    let writer = tokio::spawn(async move {
        let mut buf = Vec::new();
        for i in 0..N {
            let msg = if i % 2 == 0 {
                json!({ "jsonrpc": "2.0", "id": i, "method": "ping" })
            } else {
                json!({ "jsonrpc": "2.0", "id": i, "method": "tools/call", "params": { "name": "echo", "arguments": { "message": format!("m{i}") } } })
            };
            writer_check.lock().unwrap().sent(&msg);
            buf.extend_from_slice(msg.to_string().as_bytes());
            buf.push(b'\n');
            if buf.len() > 32 * 1024 {
                stdin.write_all(&buf).await.unwrap();
                buf.clear();
            }
        }
        stdin.write_all(&buf).await.unwrap();
        stdin
    });
    let mut seen = vec![false; N];
    let mut overloaded = 0;
    for _ in 0..N {
        let msg: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
        check.lock().unwrap().received(&msg);
        let id = msg["id"].as_u64().unwrap() as usize;
        assert!(!seen[id], "answered twice: {id}");
        seen[id] = true;
        if code(&msg) == -31429 {
            overloaded += 1;
        } else if id % 2 == 1 {
            assert_eq!(msg["result"]["content"][0]["text"], format!("m{id}"));
        }
    }
    assert!(seen.iter().all(|s| *s));
    // Shedding is allowed (the in-flight bound), silence is not: every request got an answer.
    eprintln!("{overloaded} of {N} pipelined requests were shed with -31429");
    let mut stdin = writer.await.unwrap();
    stdin.shutdown().await.unwrap();
    drop(stdin);
    assert!(lines.next_line().await.unwrap().is_none());
    assert!(child.wait().await.unwrap().success());
}

#[test]
fn echo_a_request_into_the_server_prints_its_answer() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oxmcp"))
        .args(["serve", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = concat!(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}"#,
        "\n"
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["result"]["content"][0]["text"], "hello");
}

#[tokio::test]
async fn root_serves_files_and_refuses_escapes() {
    let dir = std::env::temp_dir().join(format!("oxmcp-root-{}", std::process::id()));
    let outside = std::env::temp_dir().join(format!("oxmcp-outside-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(dir.join("a.txt"), "alpha").unwrap();
    std::fs::write(dir.join("sub/b.md"), "# beta").unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), dir.join("link.txt")).unwrap();
    let root = dir.canonicalize().unwrap();
    let mut child = spawn(&["--root", dir.to_str().unwrap()]);
    let mut c = client(&mut child);
    c.initialize("2025-11-25", json!({})).await;
    let (resp, _) = c.request(json!(1), "resources/list", json!({})).await;
    let uris: Vec<String> = resp["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        uris.len(),
        2,
        "the symlink out of the root is not listed: {uris:?}"
    );
    let (resp, _) = c
        .request(
            json!(2),
            "resources/read",
            json!({ "uri": format!("file://{}/sub/b.md", root.display()) }),
        )
        .await;
    assert_eq!(resp["result"]["contents"][0]["text"], "# beta");
    let missing = c
        .request(
            json!(3),
            "resources/read",
            json!({ "uri": format!("file://{}/none.txt", root.display()) }),
        )
        .await
        .0;
    let escapes = [
        format!(
            "file://{}/../oxmcp-outside-{}/secret.txt",
            root.display(),
            std::process::id()
        ),
        format!("file://{}/link.txt", root.display()),
        "file:///etc/passwd".to_owned(),
    ];
    for (i, uri) in escapes.iter().enumerate() {
        let (resp, _) = c
            .request(json!(10 + i), "resources/read", json!({ "uri": uri }))
            .await;
        assert_eq!(code(&resp), code(&missing), "{uri}: {resp}");
        assert_eq!(code(&resp), -32002);
        assert!(!resp.to_string().contains("secret\""), "no content leaks");
    }
    c.close().await;
    assert!(child.wait().await.unwrap().success());
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&outside).ok();
}
