//! MCP over a child process's stdin and stdout, pipelined: every slot (one per
//! `--connections`) keeps one request in flight on the same pipe, so the server always has
//! work queued, as a busy client would give it.
//!
//! One task writes (flushing when no more lines are queued); one reads, and hands each
//! answer to the slot waiting for its id. What the server sends besides answers (logs,
//! requests of its own) is read and ignored.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot};

use super::mcp::{Framing, check_echo, negotiated};
use super::recorder::Service;

type Waiters = Arc<Mutex<HashMap<u64, oneshot::Sender<Vec<u8>>>>>;

/// The child process and the two tasks that carry its messages.
pub struct Pipe {
    child: Child,
    lines: mpsc::Sender<String>,
    waiters: Waiters,
    framing: Arc<Framing>,
}

impl Pipe {
    /// Starts `command` (split like a shell would) and, in the revisions that have one,
    /// runs the handshake. `slots` bounds the lines queued for writing.
    pub async fn spawn(command: &str, framing: Framing, slots: usize) -> anyhow::Result<Pipe> {
        let mut child = super::process::spawn(command, "--stdio", true)?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            anyhow::bail!("--stdio: the child's pipes were not opened");
        };
        let (lines, mut queue) = mpsc::channel::<String>(slots.max(1) + 2);
        tokio::spawn(async move {
            let mut w = BufWriter::new(stdin);
            while let Some(line) = queue.recv().await {
                if w.write_all(line.as_bytes()).await.is_err() || w.write_all(b"\n").await.is_err()
                {
                    return;
                }
                if queue.is_empty() && w.flush().await.is_err() {
                    return;
                }
            }
        });
        let waiters: Waiters = Arc::default();
        let map = waiters.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                match r.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if let Some(id) = answer_id(&line)
                    && let Some(tx) = map.lock().remove(&id)
                {
                    let _ = tx.send(std::mem::take(&mut line));
                }
            }
            // The child is gone: every waiting slot gets its error.
            map.lock().clear();
        });
        let pipe = Pipe {
            child,
            lines,
            waiters,
            framing: Arc::new(framing),
        };
        if !pipe.framing.is_modern() {
            let reply = pipe
                .exchange(0, pipe.framing.initialize(0))
                .await
                .map_err(|e| anyhow::anyhow!("initialize over stdio: {e}"))?;
            negotiated(&reply)?;
            let note = pipe.framing.initialized().to_owned();
            pipe.lines
                .send(note)
                .await
                .map_err(|_| anyhow::anyhow!("--stdio: the child closed its input"))?;
        }
        Ok(pipe)
    }

    /// The child's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// A slot that keeps one request at a time in flight; slot `k` of `n` uses the ids
    /// `k+1`, `k+1+n`, … so no two slots share one.
    pub fn slot(&self, k: u64, n: u64) -> Slot {
        Slot {
            lines: self.lines.clone(),
            waiters: self.waiters.clone(),
            framing: self.framing.clone(),
            next_id: k + 1,
            step: n,
        }
    }

    async fn exchange(&self, id: u64, line: String) -> Result<Vec<u8>, String> {
        exchange(&self.lines, &self.waiters, id, line).await
    }

    /// Closes the child's input and waits for it to exit.
    pub async fn close(mut self) {
        drop(self.lines);
        let _ = self.child.wait().await;
    }
}

async fn exchange(
    lines: &mpsc::Sender<String>,
    waiters: &Waiters,
    id: u64,
    line: String,
) -> Result<Vec<u8>, String> {
    let (tx, rx) = oneshot::channel();
    waiters.lock().insert(id, tx);
    if lines.send(line).await.is_err() {
        waiters.lock().remove(&id);
        return Err("child closed its input".to_owned());
    }
    rx.await.map_err(|_| "child exited".to_owned())
}

/// The id of a JSON-RPC answer (a message with `result` or `error`); `None` for anything
/// else.
fn answer_id(line: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Head {
        id: Option<serde_json::Value>,
        result: Option<serde::de::IgnoredAny>,
        error: Option<serde::de::IgnoredAny>,
    }
    let h: Head = serde_json::from_slice(line).ok()?;
    if h.result.is_none() && h.error.is_none() {
        return None;
    }
    h.id?.as_u64()
}

/// One in-flight request at a time on the shared pipe.
pub struct Slot {
    lines: mpsc::Sender<String>,
    waiters: Waiters,
    framing: Arc<Framing>,
    next_id: u64,
    step: u64,
}

impl Service for Slot {
    async fn call(&mut self) -> Result<(), String> {
        let id = self.next_id;
        self.next_id += self.step;
        let reply = exchange(&self.lines, &self.waiters, id, self.framing.call(id)).await?;
        check_echo(&reply, &self.framing.expect)
    }
}

#[cfg(test)]
mod tests {
    use super::answer_id;

    #[test]
    fn only_answers_are_matched_to_a_waiting_request() {
        assert_eq!(
            answer_id(br#"{"jsonrpc":"2.0","id":5,"result":{}}"#),
            Some(5)
        );
        assert_eq!(
            answer_id(br#"{"jsonrpc":"2.0","id":6,"error":{}}"#),
            Some(6)
        );
        assert_eq!(
            answer_id(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#),
            None
        );
        assert_eq!(
            answer_id(br#"{"jsonrpc":"2.0","method":"notifications/message"}"#),
            None
        );
        assert_eq!(answer_id(b"not json"), None);
    }
}
