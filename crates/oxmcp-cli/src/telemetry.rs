//! OpenTelemetry traces of `oxmcp serve`: spans exported over OTLP/HTTP (protobuf) when
//! `telemetry.otlp_endpoint` is set.
//!
//! The spans are `tracing` spans turned into OpenTelemetry spans by a
//! `tracing_opentelemetry` layer ([`layer`]); the library makes them (`mcp.request` per
//! request, `mcp.tool` around a tool's handler, `mcp.client` per client request) and carries
//! W3C trace context in `params._meta` (`oxmcp::observe::trace`).
//!
//! Export is a batch span processor on the tokio runtime: ended spans wait in a queue of at
//! most [`MAX_QUEUE`] spans (a span that finds it full is dropped, never waited for) and go
//! out in batches of up to 512 every 5 seconds, each POST bounded by [`EXPORT_TIMEOUT`]. A
//! collector that is down or slow costs the spans of the failed batches and a warning on
//! stderr per batch; serving never waits for it.

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracerProvider};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tracing::{Level, Metadata};
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::registry::LookupSpan;

/// The most ended spans waiting for export; more are dropped.
pub const MAX_QUEUE: usize = 2048;

/// How long one export (one POST of a batch) may take.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The installed exporter: flush it with [`Traces::shutdown`] before the process exits.
#[derive(Debug, Clone)]
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// An exporter of spans to `endpoint` (the full traces URL), with `service_name` as
    /// the `service.name` resource attribute. Must be called inside a tokio runtime: the
    /// batch processor runs there.
    pub fn new(endpoint: &str, service_name: &str) -> anyhow::Result<Self> {
        // Plain http needs no TLS, but reqwest wants a provider to build a client.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Another thread may install one first; either provider is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = reqwest::Client::builder()
            .timeout(EXPORT_TIMEOUT)
            .build()
            .context("telemetry: building the HTTP client")?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .context("telemetry.otlp_endpoint")?;
        let exporter = Warning { inner: exporter };
        let batch = BatchConfigBuilder::default()
            .with_max_queue_size(MAX_QUEUE)
            .build();
        let processor = BatchSpanProcessor::builder(exporter, Tokio)
            .with_batch_config(batch)
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_resource(
                Resource::builder_empty()
                    .with_service_name(service_name.to_owned())
                    .build(),
            )
            .build();
        Ok(Traces { provider })
    }

    /// The `tracing` layer that turns the spans [`span_filter`] lets through into
    /// OpenTelemetry spans of this exporter.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
    {
        use tracing_subscriber::Layer as _;
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("oxmcp"))
            .with_filter(span_filter())
    }

    /// Exports the spans still queued and stops the exporter (bounded by
    /// [`EXPORT_TIMEOUT`] per batch). Call it from outside the runtime's workers, while the
    /// runtime still runs: it blocks until the batch task answers.
    pub fn shutdown(&self) -> anyhow::Result<()> {
        self.provider
            .shutdown()
            .map_err(|e| anyhow::anyhow!("telemetry: flushing the spans: {e}"))
    }

    /// Exports the spans ended so far (same rules as [`Traces::shutdown`]).
    pub fn flush(&self) -> anyhow::Result<()> {
        self.provider
            .force_flush()
            .map_err(|e| anyhow::anyhow!("telemetry: flushing the spans: {e}"))
    }
}

/// The OTLP exporter, with a warning on stderr (target `oxmcp::telemetry`, never sent to a
/// client) for each batch it fails to export: at most one per batch.
#[derive(Debug)]
struct Warning {
    inner: opentelemetry_otlp::SpanExporter,
}

impl SpanExporter for Warning {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let outcome = self.inner.export(batch).await;
        if let Err(e) = &outcome {
            tracing::warn!(
                target: "oxmcp::telemetry",
                spans,
                "could not export {spans} spans (telemetry.otlp_endpoint): {e}"
            );
        }
        outcome
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// What becomes an OpenTelemetry span: oxmcp's request, tool and client spans, and the
/// spans of handlers (any other target but the libraries under the server), at info level
/// or above; events at warn or above inside them become span events.
pub fn span_filter() -> FilterFn<fn(&Metadata<'_>) -> bool> {
    FilterFn::new(exported as fn(&Metadata<'_>) -> bool)
        .with_max_level_hint(tracing_subscriber::filter::LevelFilter::INFO)
}

/// Libraries whose spans and events are never exported (nor the exporter's own).
const INTERNAL: &[&str] = &[
    "hyper",
    "hyper_util",
    "h2",
    "tokio",
    "tower",
    "mio",
    "rustls",
    "reqwest",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
];

fn exported(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    if target == "oxmcp" || target.starts_with("oxmcp::") {
        return match meta.is_span() {
            true => [
                oxmcp::observe::logs::SPAN_TARGET,
                oxmcp::observe::trace::TOOL_SPAN_TARGET,
                oxmcp::observe::trace::CLIENT_SPAN_TARGET,
            ]
            .contains(&target),
            false => *meta.level() <= Level::WARN,
        };
    }
    let internal = INTERNAL.iter().any(|lib| {
        target
            .strip_prefix(lib)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    });
    if internal {
        return false;
    }
    match meta.is_span() {
        true => *meta.level() <= Level::INFO,
        false => *meta.level() <= Level::WARN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_keeps_oxmcp_spans_and_handlers_not_the_libraries() {
        for (target, want) in [
            ("oxmcp::request", true),
            ("oxmcp::tool", true),
            ("oxmcp::client", true),
            ("oxmcp::transport::http", false),
            ("my_tools", true),
            ("hyper::proto", false),
            ("opentelemetry_sdk", false),
        ] {
            assert_eq!(exported_span(target), want, "{target}");
        }
    }

    fn exported_span(target: &'static str) -> bool {
        use tracing::callsite::DefaultCallsite;
        use tracing::field::FieldSet;
        use tracing::metadata::Kind;
        static CALLSITE: DefaultCallsite = DefaultCallsite::new(&META);
        static META: Metadata<'static> = Metadata::new(
            "s",
            "t",
            Level::INFO,
            None,
            None,
            None,
            FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            Kind::SPAN,
        );
        let meta = Metadata::new(
            "s",
            target,
            Level::INFO,
            None,
            None,
            None,
            FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            Kind::SPAN,
        );
        exported(&meta)
    }
}
