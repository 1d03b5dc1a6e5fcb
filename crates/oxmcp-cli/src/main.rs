//! `oxmcp`: serve MCP servers.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use oxmcp::server::ServerOptions;

#[derive(Parser)]
#[command(name = "oxmcp", version, about = "Model Context Protocol runtime")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the built-in demo server.
    Serve(ServeArgs),
    /// Call one method of an MCP server and print the result as JSON.
    Call(oxmcp_cli::call::CallArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Serve one session on stdin/stdout (newline-delimited JSON).
    #[arg(long)]
    stdio: bool,
    /// Serve the files under DIR as read-only resources.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The longest message line accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = oxmcp::proto::framing::DEFAULT_MAX_LINE)]
    max_line_bytes: usize,
    /// How long requests in flight may finish after stdin ends, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    shutdown_grace_ms: u64,
    /// Log filter for stderr (tracing's syntax, e.g. `info` or `oxmcp=debug`).
    #[arg(long, env = "OXMCP_LOG", default_value = "warn")]
    log: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Call(args) => call(args),
    }
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

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&args.log).context("--log")?)
        .init();
    if !args.stdio {
        anyhow::bail!(
            "only the stdio transport is available in this build: run `oxmcp serve --stdio`"
        );
    }
    if args.max_line_bytes < 1024 {
        anyhow::bail!(
            "--max-line-bytes must be at least 1024, got {}",
            args.max_line_bytes
        );
    }
    let mut options = ServerOptions::default();
    options.max_line = args.max_line_bytes;
    options.shutdown_grace = Duration::from_millis(args.shutdown_grace_ms);
    let server = oxmcp_cli::demo::server(args.root, options).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(server.serve_stdio()).context("serving stdio")?;
    Ok(())
}
