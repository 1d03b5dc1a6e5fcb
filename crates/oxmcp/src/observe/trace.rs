//! Traces: W3C trace context carried in `params._meta`, so one trace crosses the client,
//! the server and the tool.
//!
//! The keys are the ones the 2026-07-28 revision standardises (SEP-414): `traceparent`,
//! `tracestate` and `baggage`, members of a request's `params._meta`, with the values of
//! the W3C headers of the same names. oxmcp uses them on every revision: for the older
//! ones they are plain `_meta` keys, which peers that do not know them ignore.
//!
//! - The server reads them ([`extract`]) and makes its request span (`mcp.request`) a child
//!   of the caller's span; a tool's handler runs inside a child span of that (`mcp.tool`).
//! - The client writes them ([`inject`]) from its own span of each request (`mcp.client`,
//!   target [`CLIENT_SPAN_TARGET`]), itself a child of whatever span the caller is in.
//!
//! All of it goes through `tracing`: the spans become OpenTelemetry spans when the process
//! installs a `tracing_opentelemetry` layer (the `oxmcp` binary does when
//! `telemetry.otlp_endpoint` is set). When no subscriber wants a span, nothing here runs:
//! no `_meta` is read or written.

use std::sync::OnceLock;

use opentelemetry::Context;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The `_meta` key of the W3C `traceparent` (version, trace id, parent span id, flags).
pub const TRACEPARENT: &str = "traceparent";
/// The `_meta` key of the W3C `tracestate` (vendor data that travels with the trace).
pub const TRACESTATE: &str = "tracestate";
/// The `_meta` key of the W3C `baggage` (application key-value pairs).
pub const BAGGAGE: &str = "baggage";

/// The target of the client's request spans (`mcp.client`, at info level).
pub const CLIENT_SPAN_TARGET: &str = "oxmcp::client";

/// The target of the span a tool's handler runs in (`mcp.tool`, at info level), a child
/// of the request span. Its own target, so a log filter of `oxmcp::request=info` keeps
/// log lines showing the request span.
pub const TOOL_SPAN_TARGET: &str = "oxmcp::tool";

/// The propagator of the three keys: W3C trace context and W3C baggage.
fn propagator() -> &'static TextMapCompositePropagator {
    static P: OnceLock<TextMapCompositePropagator> = OnceLock::new();
    P.get_or_init(|| {
        TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ])
    })
}

/// Reads string members of a `_meta` object.
struct MetaReader<'a>(&'a Map<String, Value>);

impl Extractor for MetaReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Writes members of a `_meta` object, never replacing one that is there.
struct MetaWriter<'a>(&'a mut Map<String, Value>);

impl Injector for MetaWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        if !self.0.contains_key(key) {
            self.0.insert(key.to_owned(), Value::String(value));
        }
    }
}

/// The trace context (and baggage) in a `_meta` object. A missing or malformed
/// `traceparent` gives a context without a remote span: what the caller sent is ignored,
/// never an error.
pub fn extract(meta: &Map<String, Value>) -> Context {
    propagator().extract(&MetaReader(meta))
}

/// Writes the trace context of `cx` (its span and baggage) into a `_meta` object. Keys the
/// caller set are kept: when `meta` already has a `traceparent`, nothing is written (the
/// caller's context wins whole). A context without a valid span writes no `traceparent`.
pub fn inject(cx: &Context, meta: &mut Map<String, Value>) {
    if meta.contains_key(TRACEPARENT) {
        return;
    }
    propagator().inject_context(cx, &mut MetaWriter(meta));
}

/// The three keys, read from `params._meta` without building the whole params.
#[derive(Deserialize, Default)]
struct Carrier {
    #[serde(default)]
    traceparent: Option<String>,
    #[serde(default)]
    tracestate: Option<String>,
    #[serde(default)]
    baggage: Option<String>,
}

/// What a server span needs from a request's params: the target's name and the carrier.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "_meta", default)]
    meta: Option<Carrier>,
}

/// The trace context in a request's raw `params._meta`, if it carries a `traceparent`
/// (what [`start_server_span`] reads). Params that do not mention one are not parsed.
#[cfg(test)]
fn extract_params(params: Option<&RawValue>) -> Option<Context> {
    carrier_context(peek(params, false)?.meta?)
}

/// The name and carrier of `params`, parsed only when the name is wanted (`named`) or
/// the raw text mentions a `traceparent`.
fn peek(params: Option<&RawValue>, named: bool) -> Option<Peek<'_>> {
    params
        .map(RawValue::get)
        .filter(|raw| named || raw.contains(TRACEPARENT))
        .and_then(|raw| serde_json::from_str::<Peek<'_>>(raw).ok())
}

/// The context of the three keys.
fn carrier_context(carrier: Carrier) -> Option<Context> {
    let mut meta = Map::new();
    let fields = [
        (TRACEPARENT, carrier.traceparent),
        (TRACESTATE, carrier.tracestate),
        (BAGGAGE, carrier.baggage),
    ];
    for (key, value) in fields {
        if let Some(v) = value {
            meta.insert(key.to_owned(), Value::String(v));
        }
    }
    Some(extract(&meta))
}

/// Prepares an enabled server request span before it starts: names it after the method
/// and its target (`tools/call get_weather`, `prompts/get greet`), makes it a child of the
/// caller's span named in `params._meta` (when there is one), and sets the attributes of
/// the OpenTelemetry conventions for MCP (`mcp.method.name`, `mcp.session.id`,
/// `jsonrpc.request.id`, `gen_ai.tool.name`). The params are parsed only when the method
/// has a target or they mention a `traceparent`; the OpenTelemetry parts do nothing
/// without an OpenTelemetry layer.
pub(crate) fn start_server_span(
    span: &tracing::Span,
    method: &str,
    session: &str,
    id: Option<&oxmcp_proto::RequestId>,
    params: Option<&RawValue>,
) {
    let named = matches!(method, "tools/call" | "prompts/get");
    if let Some(peek) = peek(params, named) {
        if let Some(name) = peek.name.as_deref().filter(|_| named) {
            span.record("otel.name", format!("{method} {name}"));
            let key = match method {
                "tools/call" => "gen_ai.tool.name",
                _ => "gen_ai.prompt.name",
            };
            span.set_attribute(key, name.to_owned());
        }
        if let Some(cx) = peek.meta.and_then(carrier_context) {
            // Without an OpenTelemetry layer there is nothing to attach it to.
            let _ = span.set_parent(cx);
        }
    }
    span.set_attribute("mcp.method.name", method.to_owned());
    if !session.is_empty() {
        span.set_attribute("mcp.session.id", session.to_owned());
    }
    if let Some(id) = id {
        span.set_attribute("jsonrpc.request.id", id.to_string());
    }
}

/// `params` with the trace context of `span` written into its `_meta` (created when
/// missing; keys the caller set are kept). `None` when there is nothing to write: `span`
/// has no OpenTelemetry span, or `params` is not an object.
pub(crate) fn inject_params<P: serde::Serialize>(
    span: &tracing::Span,
    params: Option<&P>,
) -> Option<Value> {
    use opentelemetry::trace::TraceContextExt;
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut value = match params {
        Some(p) => serde_json::to_value(p).ok()?,
        None => Value::Object(Map::new()),
    };
    let obj = value.as_object_mut()?;
    let meta = obj
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    inject(&cx, meta.as_object_mut()?);
    Some(value)
}

/// Marks an enabled span as failed, with `why` as the status description.
pub(crate) fn error_status(span: &tracing::Span, why: &str) {
    span.set_status(opentelemetry::trace::Status::error(why.to_owned()));
}

/// The client's span of one request (`mcp.client`, kind client, named after the method).
pub(crate) fn client_span(method: &str) -> tracing::Span {
    tracing::info_span!(
        target: CLIENT_SPAN_TARGET,
        "mcp.client",
        otel.kind = "client",
        otel.name = method,
        mcp.method.name = method,
        outcome = tracing::field::Empty,
    )
}

/// The span a tool's handler runs in (`mcp.tool`, named `execute_tool <name>` as the
/// OpenTelemetry conventions for generative AI name it).
pub(crate) fn tool_span(name: &str) -> tracing::Span {
    let span = tracing::info_span!(
        target: TOOL_SPAN_TARGET,
        "mcp.tool",
        tool = name,
        gen_ai.tool.name = name,
        gen_ai.operation.name = "execute_tool",
        otel.name = tracing::field::Empty,
    );
    if !span.is_disabled() {
        span.record("otel.name", format!("execute_tool {name}"));
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use serde_json::json;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("an object"),
        }
    }

    #[test]
    fn a_context_goes_out_and_comes_back_the_same() {
        let sc = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::from_key_value([("vendor", "v1")]).unwrap(),
        );
        let cx = Context::new().with_remote_span_context(sc.clone());
        let mut meta = Map::new();
        inject(&cx, &mut meta);
        assert_eq!(meta[TRACEPARENT], PARENT);
        assert_eq!(meta[TRACESTATE], "vendor=v1");
        let back = extract(&meta);
        let got = back.span().span_context().clone();
        assert_eq!(got.trace_id(), sc.trace_id());
        assert_eq!(got.span_id(), sc.span_id());
        assert!(got.is_sampled() && got.is_remote());
        assert_eq!(got.trace_state().header(), "vendor=v1");
    }

    #[test]
    fn a_malformed_traceparent_is_ignored() {
        for bad in [
            json!("not a traceparent"),
            json!("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            json!("00-4bf92f3577b34da6a3ce929d0e0e4736-zzzzzzzzzzzzzzzz-01"),
            json!(42),
        ] {
            let meta = obj(json!({ TRACEPARENT: bad }));
            assert!(!extract(&meta).span().span_context().is_valid(), "{bad}");
        }
        let raw = RawValue::from_string(r#"{"_meta":{"traceparent":7},"name":"x"}"#.into());
        assert!(extract_params(Some(&raw.unwrap())).is_none());
    }

    #[test]
    fn params_meta_is_read_without_the_rest() {
        let text = format!(
            r#"{{"name":"echo","arguments":{{"a":[1,2]}},"_meta":{{"progressToken":3,"traceparent":"{PARENT}","baggage":"user=ann"}}}}"#
        );
        let raw = RawValue::from_string(text).unwrap();
        let cx = extract_params(Some(&raw)).unwrap();
        assert_eq!(
            cx.span().span_context().span_id(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap()
        );
        use opentelemetry::baggage::BaggageExt;
        assert_eq!(
            cx.baggage().get("user").map(|v| v.as_str().to_owned()),
            Some("ann".to_owned())
        );
        let none = RawValue::from_string(r#"{"name":"echo"}"#.into()).unwrap();
        assert!(extract_params(Some(&none)).is_none());
        assert!(extract_params(None).is_none());
    }

    #[test]
    fn keys_the_caller_set_are_kept() {
        let sc = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::from_key_value([("vendor", "ours")]).unwrap(),
        );
        let cx = Context::new().with_remote_span_context(sc);
        // The caller's own traceparent wins whole.
        let theirs = "00-11111111111111111111111111111111-2222222222222222-00";
        let mut meta = obj(json!({ TRACEPARENT: theirs, "progressToken": 1 }));
        inject(&cx, &mut meta);
        assert_eq!(
            meta,
            obj(json!({ TRACEPARENT: theirs, "progressToken": 1 }))
        );
        // Without one, the context is written and the caller's tracestate stays.
        let mut meta = obj(json!({ TRACESTATE: "mine=1" }));
        inject(&cx, &mut meta);
        assert_eq!(meta[TRACEPARENT], PARENT);
        assert_eq!(meta[TRACESTATE], "mine=1");
    }
}
