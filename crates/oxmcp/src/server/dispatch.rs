//! The one place a client request becomes a handler run: method routing, pagination,
//! argument checks, task augmentation, and shaping the result for the negotiated revision.

use std::collections::HashMap;
use std::sync::Arc;

use oxmcp_proto::cursor::ListKind;
use oxmcp_proto::model::{CallToolResult, ContentBlock, downgrade};
use oxmcp_proto::session::parse;
use oxmcp_proto::{ErrorObject, ProtocolVersion};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::context::Context;
use super::tool::TaskSupport;
use crate::connection::Connection;
use crate::error::Error;
use crate::time::now;

const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";
/// At most this many completion values in one answer (the spec's limit).
const MAX_COMPLETIONS: usize = 100;

/// Serialises a result, shaped for the negotiated revision.
fn finish<T: Serialize + ?Sized>(
    version: ProtocolVersion,
    method: &str,
    result: &T,
) -> Result<Box<RawValue>, ErrorObject> {
    let encode_err = |e: serde_json::Error| {
        ErrorObject::internal(format!("cannot encode the {method} result: {e}"))
    };
    if version >= ProtocolVersion::LATEST_LEGACY {
        return serde_json::value::to_raw_value(result).map_err(encode_err);
    }
    let mut value = serde_json::to_value(result).map_err(encode_err)?;
    downgrade::downgrade_result(method, version, &mut value);
    serde_json::value::to_raw_value(&value).map_err(encode_err)
}

#[derive(Deserialize, Default)]
struct Paginated {
    #[serde(default)]
    cursor: Option<String>,
}

/// Runs the handler for `method` and returns its result JSON or the error to send (shaped
/// for the request's revision: a 2026-07-28 request goes through [`super::modern`]).
pub(crate) async fn route(
    conn: &Arc<Connection>,
    ctx: Context,
    method: &str,
    params: Option<Box<RawValue>>,
) -> Result<Box<RawValue>, ErrorObject> {
    use crate::observe::metrics::{Outcome, Reject};
    use futures::FutureExt;
    let server = &conn.server;
    let metrics = server.metrics();
    let retry_ms = || server.options().limits.retry_after.as_millis() as u64;
    // Load shedding: a place among the server's requests in flight, or -31429 now.
    let Some(_slot) = server.load().try_enter() else {
        metrics.reject(Reject::InFlightTotal);
        return Err(shed(server.options().max_in_flight_total, retry_ms()));
    };
    // Over HTTP the session's rate is checked before the body is read (429).
    if conn.is_lines()
        && let Some(rate) = &conn.rate
        && let Err(wait) = rate.check()
    {
        metrics.reject(Reject::RateSession);
        return Err(ErrorObject::overloaded(
            "too many requests on this session (rate_per_session); retry later",
            wait.as_millis() as u64 + 1,
        )
        .with_limit("rate_per_session"));
    }
    let started = ctx.started();
    let span =
        crate::observe::logs::request_span(conn, ctx.request_id(), method, params.as_deref());
    let run = async {
        if conn.is_modern() {
            return super::modern::route(conn, ctx, method, params).await;
        }
        route_legacy(conn, ctx, method, params).await
    };
    // No subscriber wants the span: no span to enter at every poll.
    let run = if span.is_disabled() {
        futures::future::Either::Left(run)
    } else {
        futures::future::Either::Right(tracing::Instrument::instrument(run, span.clone()))
    };
    // A handler that panics fails its request; the connection and the server go on.
    let outcome = match std::panic::AssertUnwindSafe(run).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(_) => {
            tracing::error!(method, "a request handler panicked");
            Err(ErrorObject::internal(format!(
                "the server failed while handling {method} (its handler panicked)"
            )))
        }
    };
    let kind = if outcome.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Error
    };
    metrics.request(method, kind, started.elapsed());
    if !span.is_disabled() {
        span.record("outcome", kind.label());
        if let Err(e) = &outcome {
            crate::observe::trace::error_status(&span, &e.message);
        }
    }
    outcome
}

/// The error of a request shed because the server is at `max` requests in flight.
pub(crate) fn shed(max: usize, retry_ms: u64) -> ErrorObject {
    ErrorObject::overloaded(
        format!(
            "the server is handling its limit of {max} requests (max_in_flight_total); retry later"
        ),
        retry_ms,
    )
    .with_limit("max_in_flight_total")
}

/// The handlers, with results shaped for the legacy revisions (2026-07-28 adds its own
/// shaping on top).
pub(crate) async fn route_legacy(
    conn: &Arc<Connection>,
    ctx: Context,
    method: &str,
    params: Option<Box<RawValue>>,
) -> Result<Box<RawValue>, ErrorObject> {
    let version = conn.version();
    let params = params.as_deref();
    match method {
        "tools/list" | "resources/list" | "resources/templates/list" | "prompts/list" => {
            list(conn, version, method, params)
        }
        "tools/call" => call_tool(conn, ctx, version, params).await,
        "resources/read" => read_resource(conn, ctx, version, params).await,
        "resources/subscribe" | "resources/unsubscribe" => subscription(conn, method, params),
        "prompts/get" => get_prompt(conn, ctx, version, params).await,
        "completion/complete" => complete(conn, version, params),
        "tasks/get" | "tasks/result" | "tasks/cancel" => task_op(conn, method, params).await,
        "tasks/list" => {
            let p: Paginated = parse(params)?;
            let after = after_cursor(conn, ListKind::Tasks, p.cursor.as_deref())?;
            let (tasks, next) =
                conn.tasks
                    .list(now(), after, conn.server().options().page_size.max(1));
            let mut out = json!({ "tasks": tasks });
            if let Some(next) = next {
                out["nextCursor"] = conn.server().cursors().encode(ListKind::Tasks, next).into();
            }
            finish(version, method, &out)
        }
        _ => Err(ErrorObject::method_not_found(method)),
    }
}

fn after_cursor(
    conn: &Connection,
    kind: ListKind,
    cursor: Option<&str>,
) -> Result<u64, ErrorObject> {
    match cursor {
        None => Ok(0),
        Some(c) => conn.server().cursors().decode(kind, c),
    }
}

fn list(
    conn: &Arc<Connection>,
    version: ProtocolVersion,
    method: &str,
    params: Option<&RawValue>,
) -> Result<Box<RawValue>, ErrorObject> {
    let p: Paginated = parse(params)?;
    let server = conn.server();
    let size = server.options().page_size.max(1);
    let reg = server.registry();
    let (kind, key) = match method {
        "tools/list" => (ListKind::Tools, "tools"),
        "resources/list" => (ListKind::Resources, "resources"),
        "resources/templates/list" => (ListKind::ResourceTemplates, "resourceTemplates"),
        _ => (ListKind::Prompts, "prompts"),
    };
    let after = after_cursor(conn, kind, p.cursor.as_deref())?;
    let (items, next) = match kind {
        ListKind::Tools => page_of(&reg.tools, after, size),
        ListKind::Resources => page_of(&reg.resources, after, size),
        ListKind::ResourceTemplates => page_of(&reg.templates, after, size),
        _ => page_of(&reg.prompts, after, size),
    }?;
    drop(reg);
    let mut out = serde_json::Map::new();
    out.insert(key.into(), items);
    if let Some(next) = next {
        out.insert(
            "nextCursor".into(),
            server.cursors().encode(kind, next).into(),
        );
    }
    finish(version, method, &out)
}

/// One page of a catalog's definitions, as JSON, and where the next page starts.
fn page_of<T: super::Listed>(
    catalog: &super::catalog::Catalog<T>,
    after: u64,
    size: usize,
) -> Result<(Value, Option<u64>), ErrorObject> {
    let (page, next) = catalog.page(after, size);
    let defs: Vec<&T::Def> = page.iter().map(|entry| entry.def()).collect();
    let items = serde_json::to_value(defs).map_err(|e| ErrorObject::internal(e.to_string()))?;
    Ok((items, next))
}

#[derive(Deserialize)]
struct CallParams {
    name: String,
    #[serde(default)]
    arguments: Option<Box<RawValue>>,
    #[serde(default)]
    task: Option<TaskParams>,
}

#[derive(Deserialize)]
struct TaskParams {
    #[serde(default)]
    ttl: Option<u64>,
}

/// A tool's outcome as a result: handler failures become `isError: true` results, except
/// JSON-RPC errors the handler chose on purpose.
pub(crate) fn tool_outcome(
    r: Result<CallToolResult, Error>,
) -> Result<CallToolResult, ErrorObject> {
    match r {
        Ok(result) => Ok(result),
        Err(Error::Rpc(e)) => Err(e),
        Err(e) => Ok(CallToolResult::error_text(e.to_string())),
    }
}

async fn call_tool(
    conn: &Arc<Connection>,
    ctx: Context,
    version: ProtocolVersion,
    params: Option<&RawValue>,
) -> Result<Box<RawValue>, ErrorObject> {
    let p: CallParams = parse(params)?;
    let tool = conn.server().registry().tools.get(&p.name);
    let Some(tool) = tool else {
        return Err(
            ErrorObject::invalid_params(format!("unknown tool: {}", p.name))
                .with_data(json!({ "name": p.name })),
        );
    };
    let tasks_on = version >= ProtocolVersion::V2025_11_25
        && conn.session.lock().setup().capabilities.tasks.is_some();
    match (p.task.is_some() && tasks_on, tool.task_support) {
        (true, TaskSupport::Forbidden) => {
            return Err(ErrorObject::method_not_found("tools/call").with_data(
                json!({ "reason": format!("tool {} does not support task execution", p.name) }),
            ));
        }
        (false, TaskSupport::Required) if tasks_on => {
            return Err(ErrorObject::method_not_found("tools/call").with_data(
                json!({ "reason": format!("tool {} must be called as a task", p.name) }),
            ));
        }
        (true, _) => {
            let ttl = p.task.and_then(|t| t.ttl);
            let retry = conn.session.lock().limits().retry_after.as_millis() as u64;
            let (task_id, task) = conn.tasks.create(now(), ttl, retry)?;
            let run_ctx = ctx.for_task(task_id.clone());
            let run_conn = conn.clone();
            let id = task_id.clone();
            let handler = tool.handler.clone();
            let args = p.arguments;
            let handle = tokio::spawn(async move {
                let outcome = tool_outcome(handler(args, run_ctx).await);
                let failed = outcome.as_ref().map_or(true, |r| r.is_error == Some(true));
                let outcome = outcome.and_then(|r| {
                    let mut v = serde_json::to_value(&r)
                        .map_err(|e| ErrorObject::internal(e.to_string()))?;
                    // Structured content that is not an object is for 2026-07-28 only.
                    downgrade::downgrade_result("tools/call", version, &mut v);
                    if let Some(obj) = v.as_object_mut() {
                        let meta = obj.entry("_meta").or_insert_with(|| json!({}));
                        meta[RELATED_TASK] = json!({ "taskId": id });
                    }
                    serde_json::value::to_raw_value(&v)
                        .map_err(|e| ErrorObject::internal(e.to_string()))
                });
                if let Some(task) = run_conn.tasks.finish(&id, outcome, failed) {
                    let msg = run_conn
                        .session
                        .lock()
                        .notification("notifications/tasks/status", &task);
                    if let Some(msg) = msg {
                        run_conn.send(None, msg).await;
                    }
                }
            });
            conn.tasks.set_abort(&task_id, handle.abort_handle());
            return finish(version, "tools/call", &json!({ "task": task }));
        }
        _ => {}
    }
    let mut result = run_tool(conn, &tool, p.arguments, ctx).await?;
    // Only 2026-07-28 takes structured content that is not an object: for the handshake
    // revisions it goes, and its JSON stays as text (the downgrade rule, without
    // serialising every result twice).
    if !conn.is_modern()
        && let Some(structured) = result.structured_content.take_if(|v| !v.is_object())
        && !result.content.iter().any(|b| b.as_text().is_some())
    {
        result
            .content
            .push(ContentBlock::text(structured.to_string()));
    }
    finish(version, "tools/call", &result)
}

/// Runs a tool's handler under its guards: the circuit breaker, the tool's timeout, and a
/// panic catch; counts the call in the tool's series.
async fn run_tool(
    conn: &Connection,
    tool: &super::Tool,
    args: Option<Box<RawValue>>,
    ctx: Context,
) -> Result<CallToolResult, ErrorObject> {
    use crate::observe::metrics::{Reject, ToolOutcome};
    use futures::FutureExt;
    let name = &tool.def.name;
    if tracing::level_enabled!(tracing::Level::INFO) {
        tracing::Span::current().record("tool", name.as_str());
    }
    if tracing::enabled!(tracing::Level::DEBUG)
        && let Some(args) = args.as_deref()
        && let Ok(value) = serde_json::from_str::<Value>(args.get())
    {
        let shown = crate::observe::logs::redact_json(&value, &conn.server.options().redact);
        tracing::debug!(arguments = %shown, "tools/call {name}");
    }
    let metrics = conn.server.metrics();
    let policy = conn.server.options().breaker;
    let watch = tool.watch.as_deref();
    let breaker = watch.filter(|_| policy.is_some()).map(|w| &w.breaker);
    if let Some(b) = breaker
        && let Err(wait) = b.admit(tokio::time::Instant::now)
    {
        metrics.reject(Reject::BreakerOpen);
        if let Some(w) = watch {
            w.series.call(ToolOutcome::BreakerOpen, Default::default());
        }
        return Ok(CallToolResult::error_text(format!(
            "tool {name} is failing: its circuit breaker is open (breaker); retry in {} s",
            wait.as_secs().max(1)
        )));
    }
    let started = ctx.started();
    let run = (tool.handler)(args, ctx);
    // The handler runs in its own span (`mcp.tool`) when a subscriber wants it.
    let span = crate::observe::trace::tool_span(name);
    let run = if span.is_disabled() {
        futures::future::Either::Left(run)
    } else {
        futures::future::Either::Right(tracing::Instrument::instrument(run, span.clone()))
    };
    let run = std::panic::AssertUnwindSafe(run).catch_unwind();
    let ran = match tool.timeout {
        Some(limit) => tokio::time::timeout(limit, run).await.ok(),
        None => Some(run.await),
    };
    let (outcome, kind) = match ran {
        None => {
            metrics.reject(Reject::Timeout);
            let limit = humantime::format_duration(tool.timeout.unwrap_or_default());
            let text = format!("tool {name} timed out after {limit} (its timeout)");
            (Ok(CallToolResult::error_text(text)), ToolOutcome::Timeout)
        }
        Some(Err(_)) => {
            tracing::error!(tool = %name, "a tool handler panicked");
            let e = ErrorObject::internal(format!(
                "tools/call of {name} failed (its handler panicked)"
            ));
            (Err(e), ToolOutcome::Failed)
        }
        Some(Ok(Ok(r))) if r.is_error == Some(true) => (Ok(r), ToolOutcome::ToolError),
        Some(Ok(Ok(r))) => (Ok(r), ToolOutcome::Ok),
        Some(Ok(Err(Error::Rpc(e)))) => (Err(e), ToolOutcome::ToolError),
        Some(Ok(Err(e))) => (
            Ok(CallToolResult::error_text(e.to_string())),
            ToolOutcome::Failed,
        ),
    };
    if !span.is_disabled() {
        let failure = match kind {
            ToolOutcome::Ok => None,
            ToolOutcome::ToolError => Some("the tool reported an error (isError)"),
            ToolOutcome::Timeout => Some("the tool timed out"),
            _ => Some("the tool's handler failed"),
        };
        if let Some(why) = failure {
            crate::observe::trace::error_status(&span, why);
        }
    }
    if let Some(w) = watch {
        if let (Some(b), Some(policy)) = (breaker, &policy) {
            let failed = matches!(kind, ToolOutcome::Failed | ToolOutcome::Timeout);
            let state = b.record(failed, policy, tokio::time::Instant::now);
            w.series.breaker_state.set(state.value());
        }
        w.series.call(kind, started.elapsed());
    }
    outcome
}

#[derive(Deserialize)]
struct UriParams {
    uri: String,
}

async fn read_resource(
    conn: &Arc<Connection>,
    ctx: Context,
    version: ProtocolVersion,
    params: Option<&RawValue>,
) -> Result<Box<RawValue>, ErrorObject> {
    let p: UriParams = parse(params)?;
    let (fixed, template) = {
        let server = conn.server();
        let reg = server.registry();
        let fixed = reg.resources.get(&p.uri);
        let template = if fixed.is_none() {
            reg.templates
                .values()
                .find_map(|t| t.pattern.matches(&p.uri).map(|vars| (t.clone(), vars)))
        } else {
            None
        };
        (fixed, template)
    };
    if let Some(hint) = fixed
        .as_ref()
        .and_then(|r| r.cache)
        .or_else(|| template.as_ref().and_then(|(t, _)| t.cache))
    {
        ctx.set_cache_hint(hint);
    }
    let contents = match (fixed, template) {
        (Some(r), _) => (r.read)(p.uri, ctx).await,
        (None, Some((t, vars))) => (t.read)(p.uri, vars, ctx).await,
        (None, None) => return Err(Error::resource_not_found(&p.uri).to_error_object()),
    }
    .map_err(|e| e.to_error_object())?;
    finish(version, "resources/read", &json!({ "contents": contents }))
}

fn resource_exists(conn: &Connection, uri: &str) -> bool {
    let server = conn.server();
    let reg = server.registry();
    reg.resources.get(uri).is_some()
        || reg
            .templates
            .values()
            .any(|t| t.pattern.matches(uri).is_some())
}

fn subscription(
    conn: &Arc<Connection>,
    method: &str,
    params: Option<&RawValue>,
) -> Result<Box<RawValue>, ErrorObject> {
    let p: UriParams = parse(params)?;
    if method == "resources/subscribe" {
        if !resource_exists(conn, &p.uri) {
            return Err(Error::resource_not_found(&p.uri).to_error_object());
        }
        conn.session.lock().subscribe(&p.uri)?;
    } else {
        conn.session.lock().unsubscribe(&p.uri);
    }
    finish(ProtocolVersion::LATEST_LEGACY, method, &json!({}))
}

#[derive(Deserialize)]
struct GetPromptParams {
    name: String,
    #[serde(default)]
    arguments: Option<HashMap<String, String>>,
}

async fn get_prompt(
    conn: &Arc<Connection>,
    ctx: Context,
    version: ProtocolVersion,
    params: Option<&RawValue>,
) -> Result<Box<RawValue>, ErrorObject> {
    let p: GetPromptParams = parse(params)?;
    let prompt = conn.server().registry().prompts.get(&p.name);
    let Some(prompt) = prompt else {
        return Err(
            ErrorObject::invalid_params(format!("unknown prompt: {}", p.name))
                .with_data(json!({ "name": p.name })),
        );
    };
    let args = p.arguments.unwrap_or_default();
    for a in prompt.def.arguments.iter().flatten() {
        if a.required == Some(true) && !args.contains_key(&a.name) {
            return Err(ErrorObject::invalid_params(format!(
                "missing required argument `{}` for prompt `{}`",
                a.name, p.name
            )));
        }
    }
    let result = (prompt.get)(args, ctx)
        .await
        .map_err(|e| e.to_error_object())?;
    finish(version, "prompts/get", &result)
}

#[derive(Deserialize)]
struct CompleteParams {
    #[serde(rename = "ref")]
    reference: CompleteRef,
    argument: CompleteArgument,
    #[serde(default)]
    context: Option<CompleteContext>,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum CompleteRef {
    #[serde(rename = "ref/prompt")]
    Prompt { name: String },
    #[serde(rename = "ref/resource")]
    Resource { uri: String },
}

#[derive(Deserialize)]
struct CompleteArgument {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct CompleteContext {
    #[serde(default)]
    arguments: Option<HashMap<String, String>>,
}

fn complete(
    conn: &Arc<Connection>,
    version: ProtocolVersion,
    params: Option<&RawValue>,
) -> Result<Box<RawValue>, ErrorObject> {
    let p: CompleteParams = parse(params)?;
    let server = conn.server();
    let completer = {
        let reg = server.registry();
        match &p.reference {
            CompleteRef::Prompt { name } => {
                let prompt = reg.prompts.get(name).ok_or_else(|| {
                    ErrorObject::invalid_params(format!("unknown prompt: {name}"))
                })?;
                prompt.completions.get(&p.argument.name).cloned()
            }
            CompleteRef::Resource { uri } => {
                let t = reg.templates.get(uri).ok_or_else(|| {
                    ErrorObject::invalid_params(format!("unknown resource template: {uri}"))
                })?;
                t.completions.get(&p.argument.name).cloned()
            }
        }
    };
    let others = p.context.and_then(|c| c.arguments).unwrap_or_default();
    let mut values = completer
        .map(|f| f(&p.argument.value, &others))
        .unwrap_or_default();
    let total = values.len();
    values.truncate(MAX_COMPLETIONS);
    let out = json!({ "completion": { "values": values, "total": total, "hasMore": total > MAX_COMPLETIONS } });
    finish(version, "completion/complete", &out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskIdParams {
    task_id: String,
}

async fn task_op(
    conn: &Arc<Connection>,
    method: &str,
    params: Option<&RawValue>,
) -> Result<Box<RawValue>, ErrorObject> {
    let p: TaskIdParams = parse(params)?;
    let version = ProtocolVersion::LATEST_LEGACY;
    match method {
        "tasks/get" => finish(version, method, &conn.tasks.get(now(), &p.task_id)?),
        "tasks/cancel" => finish(version, method, &conn.tasks.cancel(now(), &p.task_id)?),
        _ => conn.tasks.result(now(), &p.task_id).await,
    }
}
