//! What the server process spent, read from Linux's `/proc`: CPU time (the sum of its
//! threads' `schedstat`, in nanoseconds, so no clock-tick rounding) and resident memory.

use std::time::Duration;

/// CPU time the process `pid` has used so far, all threads together.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let dir = format!("/proc/{pid}/task");
    let mut total: u64 = 0;
    for entry in std::fs::read_dir(&dir).map_err(|e| anyhow::anyhow!("{dir}: {e}"))? {
        let path = entry?.path().join("schedstat");
        // A thread that ended between listing and reading has nothing left to count.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let ns = text
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u64>().ok())
            .ok_or_else(|| anyhow::anyhow!("{}: unexpected contents {text:?}", path.display()))?;
        total = total.saturating_add(ns);
    }
    Ok(Duration::from_nanos(total))
}

/// The resident set size of process `pid`, in bytes.
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| anyhow::anyhow!("{path}: no VmRSS line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_spent_cpu_and_holds_memory() {
        let me = std::process::id();
        let before = cpu_time(me).unwrap();
        // Some work, so the counter moves.
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_time(me).unwrap() > before);
        assert!(rss_bytes(me).unwrap() > 1024 * 1024);
        assert!(cpu_time(u32::MAX).is_err());
    }
}
