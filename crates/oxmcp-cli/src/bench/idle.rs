//! `--idle-sessions N`: what an initialised session that does nothing costs the server.
//!
//! The server's resident memory is read, N sessions are opened (`initialize` and
//! `notifications/initialized`, over a few keep-alive connections) and left idle, and the
//! memory is read again: the difference over N is the figure. The sessions are ended
//! (`DELETE`) afterwards.

use std::sync::Arc;

use serde::Serialize;

use super::http::{Conn, Target};
use super::process;

/// Connections the sessions are opened over.
const CONNECTIONS: usize = 4;

/// What `--idle-sessions` measured.
#[derive(Debug, Serialize)]
pub struct IdleReport {
    /// Sessions opened.
    pub sessions: usize,
    /// The revision they settled on.
    pub protocol_version: String,
    /// The server's resident memory before, in bytes.
    pub rss_before_bytes: u64,
    /// The same, with every session open.
    pub rss_after_bytes: u64,
    /// The difference per session.
    pub bytes_per_session: f64,
}

/// Opens `n` idle sessions on `target`'s server (process `pid`) and reports the memory
/// they hold.
pub async fn measure(target: Arc<Target>, n: usize, pid: u32) -> anyhow::Result<IdleReport> {
    if target.framing.is_modern() {
        anyhow::bail!(
            "--idle-sessions needs a revision with sessions: pass --protocol 2025-11-25 (or older)"
        );
    }
    let mut conns = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS.min(n.max(1)) {
        conns.push(Conn::connect(target.clone()).await?);
    }
    let before = process::rss_bytes(pid)?;
    let per = n.div_ceil(conns.len());
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
            let count = per.min(n.saturating_sub(i * per));
            let target = target.clone();
            tokio::spawn(async move {
                let mut sessions = Vec::with_capacity(count);
                for _ in 0..count {
                    // A server may close a keep-alive connection now and then: reconnect
                    // once and go on (a second failure is the answer).
                    let s = match conn.initialize().await {
                        Ok(s) => s,
                        Err(_) => {
                            conn = Conn::connect(target.clone()).await?;
                            conn.initialize().await?
                        }
                    };
                    sessions.push(s);
                }
                Ok::<_, anyhow::Error>((conn, sessions))
            })
        })
        .collect();
    let mut opened = Vec::with_capacity(tasks.len());
    for t in tasks {
        opened.push(t.await??);
    }
    let after = process::rss_bytes(pid)?;
    let version = opened
        .iter()
        .find_map(|(_, s)| s.first().map(|s| s.version.to_string()))
        .unwrap_or_default();
    if opened.iter().any(|(_, s)| s.iter().any(|s| s.id.is_none())) {
        anyhow::bail!("the server gave no Mcp-Session-Id: it keeps no sessions to measure");
    }
    for (mut conn, sessions) in opened {
        for s in &sessions {
            if conn.delete(s).await.is_err() {
                conn = Conn::connect(target.clone()).await?;
                conn.delete(s).await?;
            }
        }
    }
    Ok(IdleReport {
        sessions: n,
        protocol_version: version,
        rss_before_bytes: before,
        rss_after_bytes: after,
        bytes_per_session: after.saturating_sub(before) as f64 / n.max(1) as f64,
    })
}
