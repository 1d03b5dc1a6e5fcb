//! `oxmcp bench`: a load generator for MCP over Streamable HTTP.
//!
//! N keep-alive connections each send 2026-07-28 `tools/call`s of `echo` and check every
//! reply (a wrong reply is an error, counted by kind). A closed loop sends the next
//! request as soon as the last is answered; `--rate` makes it an open loop at that total
//! rate, each connection on a fixed schedule, and the latencies are then corrected for
//! coordinated omission (see [`recorder`]). A warm-up runs first and is not counted. The
//! result is a table or JSON: requests per second, latency percentiles (corrected and
//! not), errors by kind; `sent = answered + errors` always holds.
//!
//! With `--server-pid` (Linux) it also reports the server's CPU time per answered request
//! over the measured window and its resident memory after it.
//!
//! Not here yet (issue 7): stdio, sessions of the handshake revisions, `--idle-sessions`,
//! a progress bar, and the peers' comparison script.

pub mod http;
pub mod process;
pub mod recorder;

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use recorder::{Clock, Pace, Recorder, Report, drive};

/// `oxmcp bench` arguments.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The Streamable HTTP endpoint of a running server with an `echo` tool (argument
    /// `message`), e.g. `oxmcp serve`'s http://127.0.0.1:8080/mcp.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Connections, each a task with its own keep-alive connection.
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
    let target = Arc::new(http::Target::new(&args.url, args.payload)?);
    let mut conns = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        conns.push(
            http::Conn::open(target.clone())
                .await
                .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", target.authority))?,
        );
    }
    let start = tokio::time::Instant::now();
    let (warmup, end) = (args.warmup, args.warmup + args.duration);
    // The server's CPU counter is read when the measured window opens and closes.
    let cpu_window = args.server_pid.map(|pid| {
        tokio::spawn(async move {
            tokio::time::sleep_until(start + warmup).await;
            let before = process::cpu_time(pid)?;
            tokio::time::sleep_until(start + end).await;
            Ok::<_, anyhow::Error>(process::cpu_time(pid)?.saturating_sub(before))
        })
    });
    let n = args.connections as u32;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
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
                rec
            })
        })
        .collect();
    let mut total = Recorder::new();
    for t in tasks {
        total.merge(&t.await?);
    }
    let measured = start.elapsed().saturating_sub(warmup);
    let report = total.report(measured);
    let mut outcome = Outcome {
        server_cpu_us_per_request: None,
        server_rss_bytes: None,
        report,
    };
    if let (Some(pid), Some(window)) = (args.server_pid, cpu_window) {
        let cpu = window.await??;
        outcome.server_cpu_us_per_request =
            Some(cpu.as_secs_f64() * 1e6 / outcome.report.answered.max(1) as f64);
        outcome.server_rss_bytes = Some(process::rss_bytes(pid)?);
    }
    Ok(outcome)
}

/// Runs `oxmcp bench`; returns the exit status.
pub async fn run(args: BenchArgs) -> anyhow::Result<i32> {
    let outcome = measure(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print!("{}", table(&args, &outcome));
    }
    Ok(0)
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
    let mut out = format!(
        "oxmcp bench: {} connections, {mode}, {:.1} s measured after {:?} warm-up, {}-byte echo\n\n",
        args.connections, r.seconds, args.warmup, args.payload
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
            rss as f64 / (1024.0 * 1024.0)
        ));
    }
    out
}
