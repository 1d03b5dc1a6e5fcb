//! `oxmcp`: serve MCP servers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use oxmcp::transport::http::{HttpService, Tls, serve as serve_http, serve_tls, shutdown_signal};
use oxmcp_cli::config::{CONFIG_ENV, Config, ConfigError, Flag, Loaded, Transport};
use oxmcp_cli::telemetry::Traces;

/// The exit status of a configuration that does not pass its checks.
const EXIT_CONFIG: i32 = 2;

#[derive(Parser)]
#[command(name = "oxmcp", version, about = "Model Context Protocol runtime")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the built-in demo server (Streamable HTTP on 127.0.0.1:8080/mcp by default).
    Serve(Overrides),
    /// Call one method of an MCP server and print the result as JSON.
    Call(oxmcp_cli::call::CallArgs),
    /// Load a running server with tools/call echo over Streamable HTTP and report
    /// throughput and latency.
    Bench(oxmcp_cli::bench::BenchArgs),
    /// Check or print the configuration of `oxmcp serve`.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Load the file, `OXMCP_*` variables and flags, check them, and print the effective
    /// configuration as TOML (exit status 2 and the problems when it does not pass).
    Check(Overrides),
    /// Print the default configuration as a commented TOML file.
    Default,
}

/// The configuration file and the flags that override it (the same for `serve` and
/// `config check`, so `config check` shows what `serve` would run).
#[derive(Args, Clone)]
struct Overrides {
    /// The TOML configuration file (also `OXMCP_CONFIG`); see docs/CONFIGURATION.md.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve one session on stdin/stdout (newline-delimited JSON) instead of HTTP.
    #[arg(long, conflicts_with_all = ["listen", "path", "stateless", "json_response"])]
    stdio: bool,
    /// Listen for HTTP on ADDR:PORT (server.listen; port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// The HTTP endpoint's path (server.path).
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Serve the files under DIR as read-only resources (server.root).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Log filter for stderr, tracing's syntax, e.g. `info` or `oxmcp=debug` (server.log).
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
    /// The longest stdio message line, in bytes (limits.max_line).
    #[arg(long, value_name = "BYTES")]
    max_line_bytes: Option<u64>,
    /// How long requests in flight may finish once shutdown begins, in milliseconds
    /// (server.shutdown_grace).
    #[arg(long, value_name = "MS")]
    shutdown_grace_ms: Option<u64>,
    /// No HTTP sessions: every POST is served on its own (http.stateless).
    #[arg(long)]
    stateless: bool,
    /// Answer every HTTP request with application/json (http.json_response).
    #[arg(long)]
    json_response: bool,
}

impl Overrides {
    fn flags(&self) -> Vec<Flag> {
        let mut f = Vec::new();
        if self.stdio {
            f.push(Flag::new("server.transport", "stdio", "--stdio"));
        }
        if let Some(v) = &self.listen {
            f.push(Flag::new("server.listen", v.as_str(), "--listen"));
        }
        if let Some(v) = &self.path {
            f.push(Flag::new("server.path", v.as_str(), "--path"));
        }
        if let Some(v) = &self.root {
            f.push(Flag::new(
                "server.root",
                v.to_string_lossy().into_owned(),
                "--root",
            ));
        }
        if let Some(v) = &self.log {
            f.push(Flag::new("server.log", v.as_str(), "--log"));
        }
        if let Some(v) = self.max_line_bytes {
            f.push(Flag::new(
                "limits.max_line",
                i64::try_from(v).unwrap_or(i64::MAX),
                "--max-line-bytes",
            ));
        }
        if let Some(v) = self.shutdown_grace_ms {
            f.push(Flag::new(
                "server.shutdown_grace",
                format!("{v}ms"),
                "--shutdown-grace-ms",
            ));
        }
        if self.stateless {
            f.push(Flag::new("http.stateless", true, "--stateless"));
        }
        if self.json_response {
            f.push(Flag::new("http.json_response", true, "--json-response"));
        }
        f
    }

    /// The file (flag, then `OXMCP_CONFIG`), the environment and the flags, merged and
    /// checked.
    fn load(&self) -> Result<Loaded, ConfigError> {
        let env = oxmcp_cli::config::process_env()?;
        let file = self.config.clone().or_else(|| {
            env.iter()
                .find(|(k, v)| k == CONFIG_ENV && !v.is_empty())
                .map(|(_, v)| PathBuf::from(v))
        });
        Config::load(file.as_deref(), &env, &self.flags())
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Call(args) => call(args),
        Command::Bench(args) => bench(args),
        Command::Config(ConfigCommand::Check(args)) => match args.load() {
            Ok(loaded) => {
                print!("{}", loaded.to_toml());
                Ok(())
            }
            Err(e) => config_failed(&e),
        },
        Command::Config(ConfigCommand::Default) => {
            print!("{}", Config::default_toml());
            Ok(())
        }
    }
}

/// On every SIGHUP, reloads the TLS files (if any: changed ones are swapped in for new
/// connections), loads the configuration again (file, environment, flags) and applies its
/// `server.log`; a configuration that does not pass is logged and the filter kept.
/// The handler is installed before this returns (so a SIGHUP after the URL is printed
/// never finds the default action, which ends the process); the loop is the future.
#[cfg(unix)]
fn reload_on_hangup(
    args: Overrides,
    logs: oxmcp_cli::logging::Logs,
    tls: Option<Arc<Tls>>,
) -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let hup = signal(SignalKind::hangup());
    async move {
        let Ok(mut hup) = hup else {
            tracing::warn!(
                "cannot watch SIGHUP: the log filter and the TLS files stay as they are"
            );
            return;
        };
        hangups(&mut hup, args, logs, tls).await;
    }
}

#[cfg(unix)]
async fn hangups(
    hup: &mut tokio::signal::unix::Signal,
    args: Overrides,
    logs: oxmcp_cli::logging::Logs,
    tls: Option<Arc<Tls>>,
) {
    while hup.recv().await.is_some() {
        if let Some(tls) = tls.clone() {
            match tokio::task::spawn_blocking(move || tls.reload()).await {
                Ok(Ok(true)) => tracing::warn!("SIGHUP: reloaded the TLS certificate"),
                Ok(Ok(false)) => tracing::info!("SIGHUP: the TLS files are unchanged"),
                Ok(Err(e)) => {
                    tracing::error!("SIGHUP: TLS reload failed, the old certificate stays: {e}")
                }
                Err(e) => tracing::error!("SIGHUP: the TLS reload task failed: {e}"),
            }
        }
        match args.load() {
            Ok(loaded) => match logs.set(&loaded.config.server.log) {
                Ok(()) => tracing::warn!(
                    filter = %loaded.config.server.log,
                    "SIGHUP: the log filter is now {:?}",
                    loaded.config.server.log
                ),
                Err(e) => tracing::error!("SIGHUP: the log filter stays as it was: {e:#}"),
            },
            Err(e) => {
                for p in e.problems() {
                    tracing::error!(
                        "SIGHUP: the configuration does not pass, nothing changed: {p}"
                    );
                }
            }
        }
    }
}

/// Reports a configuration that did not pass, one problem a line, and exits with 2.
fn config_failed(e: &ConfigError) -> ! {
    for p in e.problems() {
        eprintln!("oxmcp: {p}");
    }
    std::process::exit(EXIT_CONFIG);
}

fn call(args: oxmcp_cli::call::CallArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(
            std::env::var("OXMCP_LOG").unwrap_or_else(|_| "warn".into()),
        )?)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let code = rt.block_on(oxmcp_cli::call::run(args))?;
    drop(rt);
    std::process::exit(code);
}

fn bench(args: oxmcp_cli::bench::BenchArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let code = rt.block_on(oxmcp_cli::bench::run(args))?;
    drop(rt);
    std::process::exit(code);
}

fn serve(args: Overrides) -> anyhow::Result<()> {
    let config = match args.load() {
        Ok(loaded) => loaded.config,
        Err(e) => config_failed(&e),
    };
    // Files that do not load are a configuration problem: named, and exit 2.
    let tls = match config.tls_options().map(Tls::load).transpose() {
        Ok(tls) => tls,
        Err(e) => config_failed(&ConfigError::from_problems(vec![e.to_string()])),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The span exporter's batch task runs on the runtime.
    let traces = match &config.telemetry.otlp_endpoint {
        Some(endpoint) => {
            let _in_runtime = rt.enter();
            Some(Traces::new(endpoint, &config.telemetry.service_name)?)
        }
        None => None,
    };
    let logs = oxmcp_cli::logging::install(
        &config.server.log,
        config.server.log_format,
        traces.as_ref(),
    )?;
    let (server_options, http_options) = config.runtime_options();
    let grace = server_options.shutdown_grace;
    let server = oxmcp_cli::demo::server(config.server.root.clone(), server_options)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    #[cfg(unix)]
    rt.spawn({
        let _in = rt.enter();
        reload_on_hangup(args, logs, tls.clone())
    });
    #[cfg(not(unix))]
    drop((args, logs));
    let served = serve_on(&rt, config, server, http_options, tls, grace);
    // The spans of the drained requests go out before the process ends (each export is
    // bounded by its timeout); a collector that is down costs them, not the exit status.
    if let Some(traces) = &traces
        && let Err(e) = traces.shutdown()
    {
        eprintln!("oxmcp: {e:#}");
    }
    // Handlers still running past the grace were aborted; do not wait on them.
    rt.shutdown_timeout(Duration::from_millis(100));
    served
}

/// Serves on the configured transport until the end of stdin (stdio) or a shutdown
/// signal and the drain (HTTP).
fn serve_on(
    rt: &tokio::runtime::Runtime,
    config: oxmcp_cli::config::Config,
    server: oxmcp::server::Server,
    http_options: oxmcp::transport::http::HttpOptions,
    tls: Option<Arc<Tls>>,
    grace: Duration,
) -> anyhow::Result<()> {
    match config.server.transport {
        // Nothing but protocol goes to stdout here.
        // On a worker, not on this thread: a driver here would hand every request to a
        // worker and back (a futex wake each way).
        Transport::Stdio => rt
            .block_on(rt.spawn(server.serve_stdio()))
            .context("the stdio driver failed")?
            .context("serving stdio")?,
        Transport::Http => rt.block_on(async move {
            let listen = config.server.listen;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("server.listen: cannot listen on {listen}"))?;
            let local = listener.local_addr().context("the listening address")?;
            let service = HttpService::new(server, http_options);
            let Some(tls) = tls else {
                println!("oxmcp: serving MCP at http://{local}{}", config.server.path);
                return serve_http(listener, service, shutdown_signal(), grace)
                    .await
                    .context("serving HTTP");
            };
            if let Some(every) = config.tls.watch_interval {
                tokio::spawn(tls.clone().watch(every));
            }
            println!(
                "oxmcp: serving MCP at https://{local}{}",
                config.server.path
            );
            serve_tls(listener, service, tls, shutdown_signal(), grace)
                .await
                .context("serving HTTPS")
        })?,
        _ => anyhow::bail!("this build of oxmcp does not serve that transport"),
    }
    Ok(())
}
