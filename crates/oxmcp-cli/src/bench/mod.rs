//! `oxmcp bench`: a load generator for MCP over Streamable HTTP and stdio.
//!
//! N connections (HTTP keep-alive connections, or request slots pipelined on one child
//! process's stdio) each send `tools/call`s of `echo` and check every reply (a wrong reply
//! is an error, counted by kind). The 2026-07-28 era needs no session; the revisions with a
//! handshake open one per connection, one shared, or none (`--sessions`). A closed loop
//! sends the next request as soon as the last is answered; `--rate` makes it an open loop
//! at that total rate, each connection on a fixed schedule, and the latencies are then
//! corrected for coordinated omission (see [`recorder`]). A warm-up runs first and is not
//! counted. The result is a table or JSON: requests per second, latency percentiles
//! (corrected and not), errors by kind; `sent = answered + errors` always holds.
//!
//! With `--server-pid` (Linux; implied for `--stdio`) it also reports the server's CPU
//! time per answered request over the measured window and its resident memory after it.
//! `--idle-sessions N` instead measures the server's resident bytes per idle session;
//! `--cold-start COMMAND` the time from starting a server to its first answer.

pub mod cold;
pub mod http;
pub mod idle;
pub mod mcp;
pub mod process;
pub mod recorder;
pub mod stdio;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;

use http::SessionMode;
use recorder::{Clock, Pace, Recorder, Report, Service, drive};

/// `oxmcp bench` arguments.
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("server").required(true).args(["url", "stdio"]))]
pub struct BenchArgs {
    /// The Streamable HTTP endpoint of a running server with an `echo` tool (argument
    /// `message`), e.g. `oxmcp serve`'s http://127.0.0.1:8080/mcp.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// A server to start and talk to over its stdin and stdout, as a command line (e.g.
    /// "oxmcp serve --stdio"); its CPU time and memory are reported.
    #[arg(long, value_name = "COMMAND")]
    pub stdio: Option<String>,
    /// The protocol revision: 2026-07-28 (no session) or one with a handshake
    /// (2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05), which the server may lower.
    #[arg(long, default_value = mcp::MODERN, value_name = "VERSION")]
    pub protocol: String,
    /// Sessions, for the revisions with a handshake: one per connection, one shared, or
    /// none (a stateless server).
    #[arg(long, value_enum, default_value_t = SessionMode::PerConnection)]
    pub sessions: SessionMode,
    /// Connections (HTTP), or requests kept in flight on the pipe (stdio).
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// How long to measure.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// How long to run before measuring (not counted).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// Requests per second in all: an open loop (latencies corrected for coordinated
    /// omission). Not set: a closed loop.
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
    /// Bytes of the echoed message.
    #[arg(long, default_value_t = 64)]
    pub payload: usize,
    /// The server's process id (Linux): report its CPU time per answered request and its
    /// resident memory after the run.
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Instead of a load: open this many sessions, leave them idle, and report the
    /// server's resident bytes per session (needs --url, --server-pid and a revision with
    /// sessions).
    #[arg(
        long,
        value_name = "N",
        requires = "server_pid",
        conflicts_with = "stdio"
    )]
    pub idle_sessions: Option<usize>,
    /// Instead of a load: start this command (a server that will listen at --url) a few
    /// times and report how long it takes to answer its first request.
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["stdio", "idle_sessions"])]
    pub cold_start: Option<String>,
    /// Print the result as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A run's report with what the server spent, when its pid was given.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    /// What the load generator measured.
    #[serde(flatten)]
    pub report: Report,
    /// Server CPU time per answered request, in microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_us_per_request: Option<f64>,
    /// The server's resident memory after the run, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_rss_bytes: Option<u64>,
}

/// Real time since `start`.
struct RealClock(tokio::time::Instant);

/// tokio's timer fires on millisecond ticks: the last stretch of a wait yields instead, so
/// an open loop sends on time rather than up to a tick late (which would count as latency).
const TIMER_TICK: Duration = Duration::from_millis(1);

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
    async fn sleep_until(&self, t: Duration) {
        let at = self.0 + t;
        if let Some(early) = at.checked_sub(TIMER_TICK)
            && early > tokio::time::Instant::now()
        {
            tokio::time::sleep_until(early).await;
        }
        while tokio::time::Instant::now() < at {
            tokio::task::yield_now().await;
        }
    }
}

/// One connection of a run, whatever carries it, counting what it finished for the
/// progress bar.
struct Loaded {
    conn: Carrier,
    done: Arc<AtomicU64>,
}

enum Carrier {
    Http(http::Conn),
    Stdio(stdio::Slot),
}

impl Service for Loaded {
    async fn call(&mut self) -> Result<(), String> {
        let r = match &mut self.conn {
            Carrier::Http(c) => c.call().await,
            Carrier::Stdio(s) => s.call().await,
        };
        self.done.fetch_add(1, Ordering::Relaxed);
        r
    }
}

/// Runs the load, returning what was measured (warm-up excluded).
pub async fn measure(args: &BenchArgs) -> anyhow::Result<Outcome> {
    if args.connections == 0 {
        anyhow::bail!("--connections must be at least 1");
    }
    let interval = match args.rate {
        None => None,
        Some(r) if r > 0.0 && r.is_finite() => {
            Some(Duration::from_secs_f64(args.connections as f64 / r))
        }
        Some(r) => {
            anyhow::bail!("--rate must be a positive number of requests per second, got {r}")
        }
    };
    let done = Arc::new(AtomicU64::new(0));
    let mut conns = Vec::with_capacity(args.connections);
    let mut pipe = None;
    let mut server_pid = args.server_pid;
    if let Some(command) = &args.stdio {
        let framing = mcp::Framing::new(&args.protocol, args.payload);
        let p = stdio::Pipe::spawn(command, framing, args.connections).await?;
        server_pid = server_pid.or(p.pid());
        let n = args.connections as u64;
        for k in 0..n {
            conns.push(Carrier::Stdio(p.slot(k, n)));
        }
        pipe = Some(p);
    } else if let Some(url) = &args.url {
        let target = http_target(args, url, args.sessions)?;
        let shared = if !target.framing.is_modern() && args.sessions == SessionMode::Shared {
            let mut first = http::Conn::connect(target.clone()).await?;
            let s = first.initialize().await?;
            conns.push(Carrier::Http(
                http::Conn::open(target.clone(), Some(&s)).await?,
            ));
            Some((first, s))
        } else {
            None
        };
        while conns.len() < args.connections {
            let conn = http::Conn::open(target.clone(), shared.as_ref().map(|(_, s)| s)).await?;
            conns.push(Carrier::Http(conn));
        }
        if let Some((mut first, s)) = shared {
            // The shared session ends when the run does.
            let ended = async move {
                let _ = first.delete(&s).await;
            };
            let outcome = load(args, conns, interval, server_pid, done).await;
            ended.await;
            return outcome;
        }
    }
    let outcome = load(args, conns, interval, server_pid, done).await;
    if let Some(p) = pipe {
        p.close().await;
    }
    outcome
}

/// Drives `conns` through the warm-up and the measured window.
async fn load(
    args: &BenchArgs,
    conns: Vec<Carrier>,
    interval: Option<Duration>,
    server_pid: Option<u32>,
    done: Arc<AtomicU64>,
) -> anyhow::Result<Outcome> {
    let start = tokio::time::Instant::now();
    let (warmup, end) = (args.warmup, args.warmup + args.duration);
    let bar = progress(args, start, done.clone());
    // The server's CPU counter is read when the measured window opens and closes.
    let cpu_window = server_pid.map(|pid| {
        tokio::spawn(async move {
            tokio::time::sleep_until(start + warmup).await;
            let before = process::cpu_time(pid)?;
            tokio::time::sleep_until(start + end).await;
            Ok::<_, anyhow::Error>(process::cpu_time(pid)?.saturating_sub(before))
        })
    });
    let n = conns.len() as u32;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| {
            let mut conn = Loaded {
                conn,
                done: done.clone(),
            };
            tokio::spawn(async move {
                let clock = RealClock(start);
                // Warm-up, uncounted, in a closed loop.
                let mut discard = Recorder::new();
                let pace = Pace {
                    start: Duration::ZERO,
                    end: warmup,
                    interval: None,
                };
                drive(&clock, &mut conn, pace, &mut discard).await;
                // Open-loop connections start staggered across one interval.
                let offset = interval.map_or(Duration::ZERO, |iv| iv * i as u32 / n);
                let pace = Pace {
                    start: warmup.max(clock.now()) + offset,
                    end,
                    interval,
                };
                let mut rec = Recorder::new();
                drive(&clock, &mut conn, pace, &mut rec).await;
                (rec, conn.conn)
            })
        })
        .collect();
    let mut total = Recorder::new();
    let mut finished = Vec::with_capacity(tasks.len());
    for t in tasks {
        let (rec, conn) = t.await?;
        total.merge(&rec);
        finished.push(conn);
    }
    let measured = start.elapsed().saturating_sub(warmup);
    bar.abort();
    let report = total.report(measured);
    let mut outcome = Outcome {
        server_cpu_us_per_request: None,
        server_rss_bytes: None,
        report,
    };
    if let (Some(pid), Some(window)) = (server_pid, cpu_window) {
        let cpu = window.await??;
        outcome.server_cpu_us_per_request =
            Some(cpu.as_secs_f64() * 1e6 / outcome.report.answered.max(1) as f64);
        outcome.server_rss_bytes = Some(process::rss_bytes(pid)?);
    }
    for conn in finished {
        if let Carrier::Http(c) = conn {
            c.close().await;
        }
    }
    Ok(outcome)
}

/// A progress bar on standard error (hidden when that is not a terminal, or with
/// `--json`): time through the run and requests finished.
fn progress(
    args: &BenchArgs,
    start: tokio::time::Instant,
    done: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    let total = args.warmup + args.duration;
    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(total.as_millis() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {elapsed}/{duration} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let warmup = args.warmup;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tick.tick().await;
            let at = start.elapsed();
            bar.set_position(at.as_millis() as u64);
            let phase = if at < warmup {
                "warming up"
            } else {
                "measuring"
            };
            bar.set_message(format!(
                "{phase}, {} requests",
                done.load(Ordering::Relaxed)
            ));
            if at >= total {
                bar.finish_and_clear();
                return;
            }
        }
    })
}

/// Runs `oxmcp bench`; returns the exit status.
pub async fn run(args: BenchArgs) -> anyhow::Result<i32> {
    if let Some(n) = args.idle_sessions {
        let (Some(url), Some(pid)) = (&args.url, args.server_pid) else {
            anyhow::bail!("--idle-sessions needs --url and --server-pid");
        };
        let target = http_target(&args, url, SessionMode::PerConnection)?;
        let report = idle::measure(target, n, pid).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "{} idle sessions ({}): {:.0} bytes resident per session ({:.1} MiB before, {:.1} MiB after)",
                report.sessions,
                report.protocol_version,
                report.bytes_per_session,
                report.rss_before_bytes as f64 / MIB,
                report.rss_after_bytes as f64 / MIB,
            );
        }
        return Ok(0);
    }
    if let Some(command) = &args.cold_start {
        let Some(url) = &args.url else {
            anyhow::bail!("--cold-start needs --url: where the started server will answer");
        };
        let target = http_target(&args, url, args.sessions)?;
        let report = cold::measure(target, command).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "cold start to the first answer: {:.1} ms fastest, {:.1} ms median of {}",
                report.min_ms, report.median_ms, report.runs
            );
        }
        return Ok(0);
    }
    let outcome = measure(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print!("{}", table(&args, &outcome));
    }
    Ok(0)
}

const MIB: f64 = 1024.0 * 1024.0;

/// The HTTP target of a run: `url`, spoken in the run's revision and payload.
fn http_target(
    args: &BenchArgs,
    url: &str,
    sessions: SessionMode,
) -> anyhow::Result<Arc<http::Target>> {
    let framing = mcp::Framing::new(&args.protocol, args.payload);
    Ok(Arc::new(http::Target::new(url, framing, sessions)?))
}

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

fn table(args: &BenchArgs, o: &Outcome) -> String {
    let r = &o.report;
    let mode = match args.rate {
        Some(rate) => format!("open loop at {rate} req/s"),
        None => "closed loop".to_owned(),
    };
    let over = match (&args.stdio, &args.url) {
        (Some(cmd), _) => format!("stdio ({cmd})"),
        (None, Some(url)) => url.clone(),
        (None, None) => String::new(),
    };
    let mut out = format!(
        "oxmcp bench: {over}, {}, {} connections, {mode}, {:.1} s measured after {:?} warm-up, {}-byte echo\n\n",
        args.protocol, args.connections, r.seconds, args.warmup, args.payload
    );
    out.push_str(&format!(
        "sent {}  answered {}  errors {}  {:.0} req/s\n\n",
        r.sent,
        r.answered,
        r.errors.values().sum::<u64>(),
        r.requests_per_second
    ));
    out.push_str("latency (ms)   p50      p90      p99      p99.9    max\n");
    for (name, l) in [
        ("corrected", &r.latency),
        ("uncorrected", &r.uncorrected_latency),
    ] {
        out.push_str(&format!(
            "{name:<12} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
            ms(l.p50_us),
            ms(l.p90_us),
            ms(l.p99_us),
            ms(l.p999_us),
            ms(l.max_us)
        ));
    }
    for (kind, n) in &r.errors {
        out.push_str(&format!("error {kind}: {n}\n"));
    }
    if let (Some(cpu), Some(rss)) = (o.server_cpu_us_per_request, o.server_rss_bytes) {
        out.push_str(&format!(
            "\nserver: {cpu:.1} µs CPU per request, {:.1} MiB resident\n",
            rss as f64 / MIB
        ));
    }
    out
}
