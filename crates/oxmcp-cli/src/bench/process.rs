//! What the server process spent, read from Linux's `/proc`: CPU time (user and system,
//! from `/proc/<pid>/stat`, which keeps the time of threads that have ended; its unit is
//! the kernel's USER_HZ tick of 10 ms, which over a run of seconds is well under 1%) and
//! resident memory.

use std::process::Stdio;
use std::time::Duration;

/// The unit of `/proc/<pid>/stat`'s times: USER_HZ, 100 on every Linux architecture.
const TICK: Duration = Duration::from_millis(10);

/// CPU time the process `pid` has used so far, user and system, all threads together
/// (ended ones included).
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after
    // its closing one. utime and stime are fields 14 and 15, so the 12th and 13th after.
    let rest = text
        .rfind(')')
        .map(|i| &text[i + 1..])
        .ok_or_else(|| anyhow::anyhow!("{path}: unexpected contents"))?;
    let mut fields = rest.split_whitespace().skip(11);
    let mut next = || -> anyhow::Result<u64> {
        fields
            .next()
            .and_then(|f| f.parse::<u64>().ok())
            .ok_or_else(|| anyhow::anyhow!("{path}: no utime/stime fields"))
    };
    let ticks = next()?.saturating_add(next()?);
    Ok(TICK * u32::try_from(ticks).unwrap_or(u32::MAX))
}

/// Starts `line` (split like a shell would) with its stdin and stdout piped or not and
/// its stderr discarded; killed when dropped. `flag` names the option it came from, for
/// errors.
pub fn spawn(line: &str, flag: &str, piped: bool) -> anyhow::Result<tokio::process::Child> {
    let argv = shlex::split(line)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{flag} {line:?}: not a command line"))?;
    let io = || if piped { Stdio::piped() } else { Stdio::null() };
    tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(io())
        .stdout(io())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| anyhow::anyhow!("{flag}: cannot start {:?}: {e}", argv[0]))
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
        for i in 0..200_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_time(me).unwrap() > before);
        assert!(rss_bytes(me).unwrap() > 1024 * 1024);
        assert!(cpu_time(u32::MAX).is_err());
    }
}
