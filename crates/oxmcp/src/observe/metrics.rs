//! Prometheus metrics of one [`Server`](crate::Server) and the transports serving it.
//!
//! The registry belongs to the server (nothing is global), so two servers in one process
//! keep separate figures, and tests read their own. Every series a request touches is
//! created once and kept as a handle: on the hot path a metric is an atomic add (a
//! histogram, one uncontended lock). [`Metrics::render`] produces the OpenMetrics text
//! that `GET /metrics` answers (Prometheus reads it natively). docs/OPERATIONS.md lists
//! every name.
//!
//! Built on `prometheus-client` rather than `metrics` + `metrics-exporter-prometheus`: the
//! latter's clock (`quanta`) calibrates the TSC for 0.5 to 200 ms when the first recorder
//! is built, which costs every process's cold start and makes instruction counts vary.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Latency buckets, in seconds: 100 µs to 60 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

/// The methods counted under their own name; any other is counted as `other`.
const METHODS: &[&str] = &[
    "tools/call",
    "tools/list",
    "resources/read",
    "resources/list",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/get",
    "prompts/list",
    "completion/complete",
    "tasks/get",
    "tasks/result",
    "tasks/cancel",
    "tasks/list",
    "server/discover",
    "subscriptions/listen",
    "other",
];

type Labels = Vec<(&'static str, String)>;

fn histogram() -> Histogram {
    Histogram::new(BUCKETS.iter().copied())
}

/// How a request handled by the dispatcher ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A result was sent.
    Ok,
    /// A JSON-RPC error was sent.
    Error,
}

impl Outcome {
    /// The `outcome` label (and log field).
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
        }
    }
}

/// How a tool call ended (`oxmcp_tool_calls_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolOutcome {
    /// A result without `isError`.
    Ok,
    /// A result with `isError: true` (the tool reported a failure, or its input was bad).
    ToolError,
    /// The handler failed (or panicked): a breaker counts it.
    Failed,
    /// The tool's timeout ended it.
    Timeout,
    /// Its circuit breaker was open: the handler did not run.
    BreakerOpen,
}

impl ToolOutcome {
    const ALL: [ToolOutcome; 5] = [
        ToolOutcome::Ok,
        ToolOutcome::ToolError,
        ToolOutcome::Failed,
        ToolOutcome::Timeout,
        ToolOutcome::BreakerOpen,
    ];

    fn label(self) -> &'static str {
        match self {
            ToolOutcome::Ok => "ok",
            ToolOutcome::ToolError => "tool_error",
            ToolOutcome::Failed => "failed",
            ToolOutcome::Timeout => "timeout",
            ToolOutcome::BreakerOpen => "breaker_open",
        }
    }
}

/// Why a limit refused something (`oxmcp_rejections_total{reason}`): each is named for the
/// configuration key that sets the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reject {
    /// `http.max_connections`: the listener holds its most connections.
    Connections,
    /// `http.max_connections_per_ip`.
    ConnectionsPerIp,
    /// `http.max_sessions`.
    Sessions,
    /// `http.max_sessions_per_ip`.
    SessionsPerIp,
    /// `http.initialize_rate_per_ip`: too many `initialize` from one address.
    InitializeRate,
    /// `limits.max_in_flight`: one session's requests at once.
    InFlight,
    /// `limits.max_in_flight_total`: the server sheds load.
    InFlightTotal,
    /// `limits.rate_per_session`.
    RateSession,
    /// `http.rate_per_ip`.
    RateIp,
    /// `http.rate_per_principal`.
    RatePrincipal,
    /// `http.max_body`.
    Body,
    /// A tool's own timeout, or `limits.request_timeout`.
    Timeout,
    /// A tool's circuit breaker is open.
    BreakerOpen,
    /// `http.slow_reader_timeout`: a client stopped reading its stream.
    SlowReader,
    /// `http.max_header_bytes` or `http.max_headers`: a request head too large (hyper
    /// reports both as one error; the client got 431).
    HeaderBytes,
    /// `http.header_timeout`: a client took too long to send its first request head (an
    /// idle keep-alive connection closed by the same timeout is not counted).
    HeaderTimeout,
    /// A TLS handshake failed: plain HTTP on the TLS port, no or a bad client
    /// certificate, no shared protocol version or cipher.
    TlsHandshake,
}

impl Reject {
    const ALL: [Reject; 17] = [
        Reject::Connections,
        Reject::ConnectionsPerIp,
        Reject::Sessions,
        Reject::SessionsPerIp,
        Reject::InitializeRate,
        Reject::InFlight,
        Reject::InFlightTotal,
        Reject::RateSession,
        Reject::RateIp,
        Reject::RatePrincipal,
        Reject::Body,
        Reject::Timeout,
        Reject::BreakerOpen,
        Reject::SlowReader,
        Reject::HeaderBytes,
        Reject::HeaderTimeout,
        Reject::TlsHandshake,
    ];

    /// The `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            Reject::Connections => "max_connections",
            Reject::ConnectionsPerIp => "max_connections_per_ip",
            Reject::Sessions => "max_sessions",
            Reject::SessionsPerIp => "max_sessions_per_ip",
            Reject::InitializeRate => "initialize_rate_per_ip",
            Reject::InFlight => "max_in_flight",
            Reject::InFlightTotal => "max_in_flight_total",
            Reject::RateSession => "rate_per_session",
            Reject::RateIp => "rate_per_ip",
            Reject::RatePrincipal => "rate_per_principal",
            Reject::Body => "max_body",
            Reject::Timeout => "timeout",
            Reject::BreakerOpen => "breaker_open",
            Reject::SlowReader => "slow_reader",
            Reject::HeaderBytes => "max_header_bytes",
            Reject::HeaderTimeout => "header_timeout",
            Reject::TlsHandshake => "tls_handshake",
        }
    }
}

/// The gauges a transport sets right before a scrape.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Levels {
    /// Live sessions.
    pub sessions: usize,
    /// SSE streams with a reader attached.
    pub streams: usize,
    /// Requests being handled.
    pub in_flight: usize,
    /// Server-to-client requests awaiting an answer.
    pub pending_outgoing: usize,
    /// Handler tasks not yet finished.
    pub handler_tasks: usize,
    /// Open client connections.
    pub connections: usize,
}

/// One tool's series, created when the tool is added.
pub(crate) struct ToolSeries {
    calls: [Counter; 5],
    duration: Histogram,
    /// 0 closed, 1 open, 2 half-open.
    pub(crate) breaker_state: Gauge,
}

impl ToolSeries {
    pub(crate) fn call(&self, outcome: ToolOutcome, took: Duration) {
        self.calls[outcome as usize].inc();
        if outcome != ToolOutcome::BreakerOpen {
            self.duration.observe(took.as_secs_f64());
        }
    }
}

/// The metrics of a server: cheap to clone (a handle).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

struct Inner {
    registry: Registry,
    /// `[method][outcome]`.
    requests: Vec<[Counter; 2]>,
    durations: Vec<Histogram>,
    rejections: Vec<Counter>,
    bytes_in: Counter,
    bytes_out: Counter,
    sessions_opened: Counter,
    levels: [Gauge; 6],
    tool_calls: Family<Labels, Counter>,
    tool_durations: Family<Labels, Histogram>,
    breaker_states: Family<Labels, Gauge>,
    /// `[ok, error]`.
    tls_reloads: [Counter; 2],
    tls_not_after: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set of metrics with every fixed series at 0.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests_family = Family::<Labels, Counter>::default();
        registry.register(
            "oxmcp_requests",
            "Requests handled by the dispatcher, by method and outcome (ok: a result; error: a JSON-RPC error).",
            requests_family.clone(),
        );
        let durations_family =
            Family::<Labels, Histogram>::new_with_constructor(histogram as fn() -> Histogram);
        registry.register(
            "oxmcp_request_duration_seconds",
            "Time from dispatch to the result or error, by method.",
            durations_family.clone(),
        );
        let rejections_family = Family::<Labels, Counter>::default();
        registry.register(
            "oxmcp_rejections",
            "Requests, connections, sessions and streams refused or cut off by a limit, by reason (the configuration key of the limit).",
            rejections_family.clone(),
        );
        let tool_calls = Family::<Labels, Counter>::default();
        registry.register(
            "oxmcp_tool_calls",
            "tools/call by tool and outcome (ok, tool_error, failed, timeout, breaker_open).",
            tool_calls.clone(),
        );
        let tool_durations =
            Family::<Labels, Histogram>::new_with_constructor(histogram as fn() -> Histogram);
        registry.register(
            "oxmcp_tool_call_duration_seconds",
            "Time a tool's handler ran, by tool.",
            tool_durations.clone(),
        );
        let breaker_states = Family::<Labels, Gauge>::default();
        registry.register(
            "oxmcp_tool_breaker_state",
            "A tool's circuit breaker: 0 closed, 1 open, 2 half-open.",
            breaker_states.clone(),
        );
        let tls_reloads_family = Family::<Labels, Counter>::default();
        registry.register(
            "oxmcp_tls_reloads",
            "Reloads of the TLS certificate that found changed files, by outcome (ok: swapped in; error: the old one stays).",
            tls_reloads_family.clone(),
        );
        let tls_reloads = ["ok", "error"].map(|o| {
            tls_reloads_family
                .get_or_create(&vec![("outcome", o.to_owned())])
                .clone()
        });
        let mut counter = |name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let bytes_in = counter(
            "oxmcp_http_request_bytes",
            "Bytes of HTTP request bodies read.",
        );
        let bytes_out = counter(
            "oxmcp_http_response_bytes",
            "Bytes of HTTP response bodies written (JSON bodies and SSE events).",
        );
        let sessions_opened = counter("oxmcp_sessions_opened", "Sessions initialised.");
        let mut gauge = |name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let levels = [
            gauge("oxmcp_sessions", "Live sessions."),
            gauge("oxmcp_streams", "SSE streams with a client reading."),
            gauge(
                "oxmcp_in_flight_requests",
                "Requests being handled, all sessions together.",
            ),
            gauge(
                "oxmcp_pending_client_requests",
                "Server-to-client requests (sampling, elicitation, roots) awaiting an answer.",
            ),
            gauge("oxmcp_handler_tasks", "Handler tasks not yet finished."),
            gauge("oxmcp_connections", "Open client connections."),
        ];
        let tls_not_after = gauge(
            "oxmcp_tls_certificate_expiry_timestamp_seconds",
            "When the served TLS certificate expires (its notAfter), in seconds since the Unix epoch; 0 without TLS.",
        );
        registry.register_collector(Box::new(Process));
        let requests = METHODS
            .iter()
            .map(|&m| {
                ["ok", "error"].map(|o| {
                    requests_family
                        .get_or_create(&vec![("method", m.to_owned()), ("outcome", o.to_owned())])
                        .clone()
                })
            })
            .collect();
        let durations = METHODS
            .iter()
            .map(|&m| {
                durations_family
                    .get_or_create(&vec![("method", m.to_owned())])
                    .clone()
            })
            .collect();
        let rejections = Reject::ALL
            .iter()
            .map(|r| {
                rejections_family
                    .get_or_create(&vec![("reason", r.label().to_owned())])
                    .clone()
            })
            .collect();
        Metrics {
            inner: Arc::new(Inner {
                registry,
                requests,
                durations,
                rejections,
                bytes_in,
                bytes_out,
                sessions_opened,
                levels,
                tool_calls,
                tool_durations,
                breaker_states,
                tls_reloads,
                tls_not_after,
            }),
        }
    }

    /// Counts a request the dispatcher handled, and its latency.
    pub(crate) fn request(&self, method: &str, outcome: Outcome, took: Duration) {
        let i = method_index(method);
        let inner = &*self.inner;
        inner.requests[i][outcome as usize].inc();
        inner.durations[i].observe(took.as_secs_f64());
    }

    /// Counts a refusal by a limit.
    pub fn reject(&self, reason: Reject) {
        self.inner.rejections[reason as usize].inc();
    }

    /// Counts `n` refusals by a limit.
    pub(crate) fn reject_n(&self, reason: Reject, n: u32) {
        if n > 0 {
            self.inner.rejections[reason as usize].inc_by(u64::from(n));
        }
    }

    /// Counts a TLS reload that found changed files.
    pub(crate) fn tls_reload(&self, ok: bool) {
        self.inner.tls_reloads[usize::from(!ok)].inc();
    }

    /// Sets the served certificate's expiry (seconds since the Unix epoch).
    pub(crate) fn tls_expiry(&self, not_after: i64) {
        self.inner.tls_not_after.set(not_after);
    }

    /// Counts bytes of HTTP request bodies read.
    pub(crate) fn bytes_in(&self, n: usize) {
        self.inner.bytes_in.inc_by(n as u64);
    }

    /// Counts bytes of HTTP response bodies written.
    pub(crate) fn bytes_out(&self, n: usize) {
        self.inner.bytes_out.inc_by(n as u64);
    }

    /// Counts a session opened.
    pub(crate) fn session_opened(&self) {
        self.inner.sessions_opened.inc();
    }

    /// The series of the tool `name`.
    pub(crate) fn tool(&self, name: &str) -> Arc<ToolSeries> {
        let inner = &*self.inner;
        let calls = ToolOutcome::ALL.map(|o| {
            inner
                .tool_calls
                .get_or_create(&vec![
                    ("tool", name.to_owned()),
                    ("outcome", o.label().to_owned()),
                ])
                .clone()
        });
        let tool = vec![("tool", name.to_owned())];
        Arc::new(ToolSeries {
            calls,
            duration: inner.tool_durations.get_or_create(&tool).clone(),
            breaker_state: inner.breaker_states.get_or_create(&tool).clone(),
        })
    }

    /// The OpenMetrics text exposition, with the gauges set to `levels` and the process's
    /// memory and CPU read now.
    pub fn render(&self, levels: Levels) -> String {
        let inner = &*self.inner;
        let values = [
            levels.sessions,
            levels.streams,
            levels.in_flight,
            levels.pending_outgoing,
            levels.handler_tasks,
            levels.connections,
        ];
        for (g, v) in inner.levels.iter().zip(values) {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &inner.registry) {
            tracing::warn!("cannot encode the metrics: {e}");
        }
        out
    }
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn method_index(method: &str) -> usize {
    METHODS
        .iter()
        .position(|&m| m == method)
        .unwrap_or(METHODS.len() - 1)
}

/// The process's CPU, memory, descriptors and threads, read from `/proc` at each scrape
/// (the standard `process_*` names). Elsewhere than Linux: none.
#[derive(Debug)]
struct Process;

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        #[cfg(target_os = "linux")]
        {
            let Ok(me) = procfs::process::Process::myself() else {
                return Ok(());
            };
            if let Ok(stat) = me.stat() {
                let ticks = procfs::ticks_per_second().max(1) as f64;
                let cpu = ConstCounter::new((stat.utime + stat.stime) as f64 / ticks);
                cpu.encode(encoder.encode_descriptor(
                    "process_cpu_seconds",
                    "User and system CPU time spent, in seconds.",
                    None,
                    cpu.metric_type(),
                )?)?;
                let gauges = [
                    (
                        "process_resident_memory_bytes",
                        "Resident memory size, in bytes.",
                        stat.rss as i64 * procfs::page_size() as i64,
                    ),
                    (
                        "process_virtual_memory_bytes",
                        "Virtual memory size, in bytes.",
                        stat.vsize as i64,
                    ),
                    ("process_threads", "OS threads.", stat.num_threads),
                ];
                for (name, help, v) in gauges {
                    let g = ConstGauge::new(v);
                    g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
                }
            }
            if let Ok(n) = me.fd_count() {
                let g = ConstGauge::new(n as i64);
                g.encode(encoder.encode_descriptor(
                    "process_open_fds",
                    "Open file descriptors.",
                    None,
                    g.metric_type(),
                )?)?;
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = &mut encoder;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Reject;

    /// The counters are indexed by discriminant: `ALL` must list the reasons in order.
    #[test]
    fn every_reason_is_listed_at_its_own_index() {
        for (i, r) in Reject::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{}", r.label());
        }
    }
}
