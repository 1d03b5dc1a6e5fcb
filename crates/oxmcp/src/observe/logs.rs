//! Logs: a `tracing` span per request, redaction of secrets, and the layer that sends a
//! request's own log events to its client as `notifications/message`.
//!
//! Every request the dispatcher runs is inside a span `mcp.request` with the fields
//! `method`, `session`, `tool` (for `tools/call`) and `outcome` (`ok` or `error`, recorded
//! when it ends); events a handler emits with `tracing` are inside it.
//!
//! [`ClientLogLayer`] forwards an event to a client only when the event happened inside
//! that client's own request span, and only at or above the level the client chose with
//! `logging/setLevel` (every level until it chooses one). Events outside any request span
//! (the server's own start-up, other sessions' work) never reach a client, and neither
//! do the events of oxmcp itself (targets `oxmcp::…`): a client sees what its handlers
//! log, not the server's internals.

use std::cell::Cell;
use std::fmt;
use std::sync::Weak;

use oxmcp_proto::RequestId;
use oxmcp_proto::model::LoggingLevel;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::connection::Connection;

/// The target of the request spans (`mcp.request`, at info level): a stderr filter such as
/// `warn,oxmcp::request=info` puts the span's fields on every line logged inside it.
pub const SPAN_TARGET: &str = "oxmcp::request";

/// What replaces a redacted value.
pub const REDACTED: &str = "<redacted>";

/// The argument names redacted by default (compared case-insensitively).
pub const DEFAULT_REDACT: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
    "client_secret",
    "authorization",
    "cookie",
    "private_key",
];

/// Headers whose values are never logged.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "mcp-session-id",
];

/// `value` with the value of every object member named in `names` (at any depth,
/// case-insensitively) replaced by [`REDACTED`].
pub fn redact_json(value: &Value, names: &[String]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let secret = names.iter().any(|n| n.eq_ignore_ascii_case(k));
                    let v = if secret {
                        Value::String(REDACTED.into())
                    } else {
                        redact_json(v, names)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact_json(v, names)).collect()),
        other => other.clone(),
    }
}

/// Request headers as `name: value` lines for a debug log, with credentials and session
/// ids redacted.
pub fn redact_headers(headers: &http::HeaderMap) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        let shown = if SECRET_HEADERS.contains(&name.as_str()) {
            REDACTED
        } else {
            value.to_str().unwrap_or("<not visible ASCII>")
        };
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(name.as_str());
        out.push_str(": ");
        out.push_str(shown);
    }
    out
}

/// The span of one request (`mcp.request`), with what [`ClientLogLayer`] needs to reach
/// its client attached when a registry records spans. When it is enabled, the caller's
/// trace context in `params._meta` becomes its parent (see [`super::trace`]) and it gets
/// the attributes of the OpenTelemetry conventions for MCP.
pub(crate) fn request_span(
    conn: &std::sync::Arc<Connection>,
    id: Option<&RequestId>,
    method: &str,
    params: Option<&serde_json::value::RawValue>,
) -> tracing::Span {
    let session = conn.session_id.as_deref().unwrap_or("");
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        "mcp.request",
        method,
        session,
        tool = tracing::field::Empty,
        outcome = tracing::field::Empty,
        otel.kind = "server",
        otel.name = method,
    );
    if span.is_disabled() {
        return span;
    }
    super::trace::start_server_span(&span, method, session, id, params);
    if let Some(id) = id {
        span.with_subscriber(|(span_id, dispatch)| {
            if let Some(registry) = dispatch.downcast_ref::<tracing_subscriber::Registry>()
                && let Some(data) = registry.span(span_id)
            {
                data.extensions_mut().insert(ClientSink {
                    conn: std::sync::Arc::downgrade(conn),
                    id: id.clone(),
                });
            }
        });
    }
    span
}

/// The client a request span belongs to.
struct ClientSink {
    conn: Weak<Connection>,
    id: RequestId,
}

/// A `tracing_subscriber` layer that sends the events of a request's span to that
/// request's client as `notifications/message` (the logger is the event's target; `data`
/// holds the message and the event's fields). Add it to the subscriber the process
/// installs; `oxmcp serve` does.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClientLogLayer;

impl ClientLogLayer {
    /// The layer.
    pub fn new() -> Self {
        ClientLogLayer
    }

    /// The filter to put on this layer: the request spans (target [`SPAN_TARGET`]) and
    /// handlers' events at every level but trace (the client's own level is applied per
    /// client), nothing from oxmcp or the libraries under the server. Without it every
    /// `debug!` in the process would be built for this layer to drop.
    pub fn filter() -> FilterFn<fn(&tracing::Metadata<'_>) -> bool> {
        FilterFn::new(wanted as fn(&tracing::Metadata<'_>) -> bool)
            .with_max_level_hint(tracing_subscriber::filter::LevelFilter::DEBUG)
    }
}

/// What [`ClientLogLayer::filter`] lets through.
fn wanted(meta: &tracing::Metadata<'_>) -> bool {
    if meta.is_span() {
        return meta.target() == SPAN_TARGET;
    }
    let target = meta.target();
    *meta.level() <= Level::DEBUG
        && !is_internal(target)
        && !INTERNAL.iter().any(|lib| {
            target
                .strip_prefix(lib)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

/// Libraries whose events are never a client's business.
const INTERNAL: &[&str] = &["hyper", "h2", "tokio", "tower", "mio", "rustls", "reqwest"];

/// Whether `target` is oxmcp's own (its events never reach a client).
fn is_internal(target: &str) -> bool {
    target == "oxmcp" || target.starts_with("oxmcp::")
}

thread_local! {
    /// Set while an event is being forwarded: what forwarding logs is not forwarded.
    static FORWARDING: Cell<bool> = const { Cell::new(false) };
}

fn level_of(level: &Level) -> LoggingLevel {
    match *level {
        Level::ERROR => LoggingLevel::Error,
        Level::WARN => LoggingLevel::Warning,
        Level::INFO => LoggingLevel::Info,
        _ => LoggingLevel::Debug,
    }
}

impl<S> tracing_subscriber::Layer<S> for ClientLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {}

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if FORWARDING.with(Cell::get) || is_internal(event.metadata().target()) {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let target = scope.into_iter().find_map(|span| {
            let ext = span.extensions();
            let sink = ext.get::<ClientSink>()?;
            Some((sink.conn.upgrade()?, sink.id.clone()))
        });
        let Some((conn, id)) = target else { return };
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let meta = event.metadata();
        let bytes = conn.session.lock().log(
            level_of(meta.level()),
            Some(meta.target()),
            &Value::Object(fields.0),
        );
        if let Some(bytes) = bytes {
            FORWARDING.with(|f| f.set(true));
            conn.send_later(Some(&id), bytes);
            FORWARDING.with(|f| f.set(false));
        }
    }
}

/// An event's fields as JSON members (`message` for the message).
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth_and_headers_too() {
        let names: Vec<String> = DEFAULT_REDACT.iter().map(|s| (*s).to_owned()).collect();
        let v = json!({"user":"ann","Password":"hunter2","nested":[{"api_key":"k","q":1}]});
        let r = redact_json(&v, &names);
        assert_eq!(
            r,
            json!({"user":"ann","Password":REDACTED,"nested":[{"api_key":REDACTED,"q":1}]})
        );
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "Bearer abc".parse().unwrap());
        h.insert("accept", "application/json".parse().unwrap());
        let text = redact_headers(&h);
        assert!(
            !text.contains("abc") && text.contains("application/json"),
            "{text}"
        );
    }
}
