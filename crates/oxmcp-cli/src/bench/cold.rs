//! `--cold-start COMMAND`: how long a server takes from being started to answering its
//! first request. The command is started, the URL is tried (connect, then one checked
//! `tools/call`) until it answers, and the process is stopped; this repeats, and the
//! fastest and the median are reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::http::{Conn, Target};
use super::process;
use super::recorder::Service;

/// Starts per figure.
const RUNS: usize = 7;
/// A server that has not answered after this long is a failure, not a figure.
const GIVE_UP: Duration = Duration::from_secs(30);

/// What `--cold-start` measured.
#[derive(Debug, Serialize)]
pub struct ColdReport {
    /// Starts measured.
    pub runs: usize,
    /// The fastest, in milliseconds.
    pub min_ms: f64,
    /// The median, in milliseconds.
    pub median_ms: f64,
}

/// Measures `command`'s cold start against `target`.
pub async fn measure(target: Arc<Target>, command: &str) -> anyhow::Result<ColdReport> {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let mut child = process::spawn(command, "--cold-start", false)?;
        let answered = loop {
            if started.elapsed() > GIVE_UP {
                anyhow::bail!("--cold-start: no answer from {command:?} within {GIVE_UP:?}");
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("--cold-start: {command:?} exited ({status}) before answering");
            }
            // Refused while the server is not listening yet: try again at once.
            let Ok(mut conn) = Conn::open(target.clone(), None).await else {
                tokio::task::yield_now().await;
                continue;
            };
            conn.call()
                .await
                .map_err(|e| anyhow::anyhow!("--cold-start: the first request failed: {e}"))?;
            break started.elapsed();
        };
        times.push(answered);
        child.kill().await?;
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(ColdReport {
        runs: RUNS,
        min_ms: ms(times[0]),
        median_ms: ms(times[RUNS / 2]),
    })
}
