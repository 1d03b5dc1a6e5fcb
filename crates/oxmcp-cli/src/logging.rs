//! The logs of `oxmcp serve`: lines on stderr (text or JSON) filtered by `server.log`, a
//! filter that can be replaced while the process serves (SIGHUP), and the layer that
//! sends a request's own events to its client as `notifications/message`.

use anyhow::Context as _;
use oxmcp::observe::logs::ClientLogLayer;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{Registry, reload};

use crate::config::LogFormat;

/// The installed logs: replaces the stderr filter at run time.
#[derive(Clone)]
pub struct Logs {
    filter: reload::Handle<EnvFilter, Registry>,
}

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs").finish_non_exhaustive()
    }
}

/// The subscriber of `oxmcp serve`, writing to `writer`: lines filtered by `filter` in
/// `format`, and the client layer (which has its own filter: a client's level does not
/// depend on what stderr shows).
pub fn subscriber<W>(
    filter: &str,
    format: LogFormat,
    writer: W,
) -> anyhow::Result<(impl tracing::Subscriber + Send + Sync + 'static, Logs)>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let parsed = EnvFilter::try_new(filter).context("server.log")?;
    let (filter, handle) = reload::Layer::new(parsed);
    let lines = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            // The close line carries the request's outcome.
            .with_span_events(FmtSpan::CLOSE)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
        _ => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
    };
    let subscriber = Registry::default()
        .with(lines)
        .with(ClientLogLayer::new().with_filter(ClientLogLayer::filter()));
    Ok((subscriber, Logs { filter: handle }))
}

/// Installs the subscriber of `oxmcp serve` for the process, writing to stderr.
pub fn install(filter: &str, format: LogFormat) -> anyhow::Result<Logs> {
    let (subscriber, logs) = subscriber(filter, format, std::io::stderr)?;
    tracing::subscriber::set_global_default(subscriber).context("installing the logger")?;
    Ok(logs)
}

impl Logs {
    /// Replaces the stderr filter with `filter` (tracing's syntax).
    pub fn set(&self, filter: &str) -> anyhow::Result<()> {
        let parsed = EnvFilter::try_new(filter)
            .with_context(|| format!("{filter:?} is not a log filter"))?;
        self.filter.reload(parsed).context("the logger is gone")?;
        Ok(())
    }
}
