//! The logs of `oxmcp serve`: lines on stderr (text or JSON) filtered by `server.log`, a
//! filter that can be replaced while the process serves (SIGHUP), and the layer that
//! sends a request's own events to its client as `notifications/message`; with
//! `telemetry.otlp_endpoint` set, the layer that exports spans over OTLP too.

use anyhow::Context as _;
use oxmcp::observe::logs::ClientLogLayer;
use tracing_subscriber::filter::{EnvFilter, FilterExt, FilterFn};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{Registry, reload};

use crate::config::LogFormat;
use crate::telemetry::Traces;

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
/// `format`, the client layer (which has its own filter: a client's level does not
/// depend on what stderr shows), and the span exporter of `traces` when there is one
/// (with its own filter too: what is exported does not depend on what stderr shows).
pub fn subscriber<W>(
    filter: &str,
    format: LogFormat,
    writer: W,
    traces: Option<&Traces>,
) -> anyhow::Result<(impl tracing::Subscriber + Send + Sync + 'static, Logs)>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let parsed = EnvFilter::try_new(filter).context("server.log")?;
    let (filter, handle) = reload::Layer::new(parsed);
    // A tool's own span (for traces) stays out of the lines: they show the request span.
    let filter = filter.and(FilterFn::new(|meta: &tracing::Metadata<'_>| {
        !(meta.is_span() && meta.target() == oxmcp::observe::trace::TOOL_SPAN_TARGET)
    }));
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
        .with(ClientLogLayer::new().with_filter(ClientLogLayer::filter()))
        .with(traces.map(|t| t.layer()));
    Ok((subscriber, Logs { filter: handle }))
}

/// Installs the subscriber of `oxmcp serve` for the process, writing to stderr (and
/// exporting spans to `traces`, if given).
pub fn install(filter: &str, format: LogFormat, traces: Option<&Traces>) -> anyhow::Result<Logs> {
    let (subscriber, logs) = subscriber(filter, format, std::io::stderr, traces)?;
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
