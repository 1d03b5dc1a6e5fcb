//! The requests of the 2026-07-28 tasks extension: `tasks/get`, `tasks/update`,
//! `tasks/cancel`, and `tools/call` of a task-supporting tool from a request that
//! declared the extension (see [`super::task_ext`] for the wire rules).

use std::sync::Arc;

use futures::FutureExt;
use oxmcp_proto::ErrorObject;
use oxmcp_proto::modern::TASKS_EXTENSION;
use oxmcp_proto::session::parse;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use super::context::Context;
use super::dispatch::tool_outcome;
use super::tool::TaskSupport;
use crate::connection::Connection;
use crate::time::now;

/// Whether this request's `_meta` declared the tasks extension.
fn declared(conn: &Connection) -> bool {
    conn.session
        .lock()
        .client_capabilities()
        .extensions
        .as_ref()
        .is_some_and(|e| e.contains_key(TASKS_EXTENSION))
}

fn missing_extension(what: &str) -> ErrorObject {
    ErrorObject::missing_client_capability(
        json!({ "extensions": { TASKS_EXTENSION: {} } }),
        format!(
            "{what} needs the client extension {TASKS_EXTENSION}, which this request's _meta did not declare"
        ),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskParams {
    task_id: String,
    #[serde(default)]
    input_responses: Option<Map<String, Value>>,
}

/// `tasks/get`, `tasks/update`, `tasks/cancel`.
pub(crate) fn route(
    conn: &Connection,
    method: &str,
    params: Option<&RawValue>,
) -> Result<Value, ErrorObject> {
    if !declared(conn) {
        return Err(missing_extension(method));
    }
    let p: TaskParams = parse(params)?;
    let server = conn.server();
    let store = server.ext_tasks();
    match method {
        "tasks/get" => store.get(now(), &p.task_id),
        "tasks/cancel" => store.cancel(now(), &p.task_id),
        _ => store.update(now(), &p.task_id, p.input_responses.unwrap_or_default()),
    }
}

#[derive(Deserialize)]
struct CallParams {
    name: String,
    #[serde(default)]
    arguments: Option<Box<RawValue>>,
}

/// What a task's run ended with, as the task records it: the tool's result (tool errors
/// included) or a protocol error. A panic is a protocol error too.
async fn run(
    ctx: Context,
    handler: Arc<super::tool::ToolFnPub>,
    args: Option<Box<RawValue>>,
) -> Result<Value, ErrorObject> {
    let outcome = std::panic::AssertUnwindSafe(handler(args, ctx))
        .catch_unwind()
        .await
        .map_err(|_| ErrorObject::internal("the tool panicked"))?;
    let result = tool_outcome(outcome)?;
    serde_json::to_value(&result).map_err(|e| ErrorObject::internal(e.to_string()))
}

/// Stops the run unless it became a task (the request went away first).
struct AbortUnlessEscalated(Option<tokio::task::AbortHandle>);
impl Drop for AbortUnlessEscalated {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}

/// A `tools/call` under 2026-07-28 that the tasks extension decides: `None` when the call
/// runs as usual (a sync-only tool, or an optional one for a client without the
/// extension); otherwise the `CreateTaskResult` (or the -32021 of a task-only tool for a
/// client without the extension, or the call's own result if a
/// [`task_after_input`](super::Tool::task_after_input) tool finished without starting one).
/// `name`: the called tool's name, when the caller already read it.
pub(crate) async fn call_as_task(
    conn: &Arc<Connection>,
    ctx: &Context,
    name: Option<&str>,
    params: Option<&RawValue>,
) -> Option<Result<Box<RawValue>, ErrorObject>> {
    // Most tools never run as tasks: known by name, they cost no read of the params.
    if let Some(name) = name
        && conn
            .server()
            .registry()
            .tools
            .get(name)
            .is_none_or(|t| t.task_support == TaskSupport::Forbidden)
    {
        return None;
    }
    let p: CallParams = parse(params).ok()?;
    let tool = conn.server().registry().tools.get(&p.name)?;
    if tool.task_support == TaskSupport::Forbidden {
        return None;
    }
    if !declared(conn) {
        return match tool.task_support {
            TaskSupport::Required => Some(Err(missing_extension(&format!(
                "tool {} (it runs only as a task)",
                p.name
            )))),
            _ => None,
        };
    }
    let server = conn.server();
    let retry = conn.session.lock().limits().retry_after.as_millis() as u64;
    let handler = tool.handler.clone();
    if !tool.task_after_input {
        let (id, created) = match server.ext_tasks().create(now(), retry) {
            Ok(t) => t,
            Err(e) => return Some(Err(e)),
        };
        let task_ctx = ctx.for_ext_task(Some(id.clone()));
        let run_server = server.clone();
        let task_id = id.clone();
        let handle = tokio::spawn(async move {
            let outcome = run(task_ctx, handler, p.arguments).await;
            run_server.ext_tasks().finish(&task_id, outcome);
        });
        server.ext_tasks().set_abort(&id, handle.abort_handle());
        return Some(super::modern::to_raw(created));
    }
    // The handler decides when the task begins: run it, and answer with whichever comes
    // first, its own outcome or the task it started.
    let task_ctx = ctx.for_ext_task(None);
    let (esc_tx, esc_rx) = oneshot::channel::<String>();
    task_ctx.set_escalation(esc_tx);
    let (done_tx, done_rx) = oneshot::channel();
    let run_server = server.clone();
    let run_ctx = task_ctx.clone();
    let handle = tokio::spawn(async move {
        let outcome = run(run_ctx.clone(), handler, p.arguments).await;
        match run_ctx.ext_task() {
            Some(id) => run_server.ext_tasks().finish(&id, outcome),
            None => {
                let _ = done_tx.send(outcome);
            }
        }
    });
    let mut guard = AbortUnlessEscalated(Some(handle.abort_handle()));
    let (mut done_rx, mut esc_rx) = (done_rx, esc_rx);
    enum First {
        Task(String),
        Outcome(Result<Value, ErrorObject>),
        Nothing,
    }
    // The escalation is looked at first: a run that started its task and then ended at
    // once has both announced the task and dropped its outcome channel.
    let first = tokio::select! {
        biased;
        id = &mut esc_rx => id.map_or(First::Nothing, First::Task),
        outcome = &mut done_rx => match outcome {
            Ok(o) => First::Outcome(o),
            Err(_) => esc_rx.try_recv().map_or(First::Nothing, First::Task),
        },
    };
    drop(task_ctx);
    Some(match first {
        First::Task(id) => {
            if let Some(h) = guard.0.take() {
                server.ext_tasks().set_abort(&id, h);
            }
            server
                .ext_tasks()
                .get(now(), &id)
                .map(|mut v| {
                    if let Some(m) = v.as_object_mut() {
                        m.insert("resultType".into(), "task".into());
                        for k in ["result", "error", "inputRequests"] {
                            m.remove(k);
                        }
                    }
                    v
                })
                .and_then(super::modern::to_raw)
        }
        First::Outcome(Ok(v)) => super::modern::to_raw(v),
        First::Outcome(Err(e)) => Err(e),
        First::Nothing => Err(ErrorObject::internal(
            "the tool's run ended without an outcome",
        )),
    })
}
