//! The tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`, SEP-2663).
//!
//! The server decides: a `tools/call` of a task-supporting tool from a request that
//! declared the extension returns a `CreateTaskResult` (`resultType: "task"`, the task's
//! fields flat at the top), and the tool runs on in the background. The client polls
//! `tasks/get` (a `DetailedTask`: the result inlined when completed, the error when
//! failed, the pending `inputRequests` when the tool waits for input), answers with
//! `tasks/update` and stops it with `tasks/cancel`; both acknowledge with an empty
//! complete result. A tool error is `completed` with `result.isError`; `failed` is for
//! protocol errors (a JSON-RPC error from the handler, or a panic).
//!
//! Tasks live in one store per server, not per connection (2026-07-28 has none): a task
//! id is 128 random bits, an unguessable handle. The store is bounded
//! ([`TaskLimits::max_server_tasks`]) and forgets a task once its `ttlMs` passed.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use oxmcp_proto::ErrorObject;
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use super::tasks::TaskLimits;

struct Entry {
    created: String,
    updated: String,
    ttl: Duration,
    expires: Instant,
    status: &'static str,
    message: Option<String>,
    result: Option<Value>,
    error: Option<ErrorObject>,
    /// Input requests waiting for `tasks/update`, by key.
    pending: Map<String, Value>,
    /// Who waits for each pending key's answer.
    waiters: HashMap<String, oneshot::Sender<Value>>,
    abort: Option<AbortHandle>,
}

/// The server's tasks of the 2026-07-28 extension.
pub(crate) struct ExtTasks {
    limits: TaskLimits,
    map: Mutex<HashMap<String, Entry>>,
}

fn timestamp() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

fn not_found(id: &str) -> ErrorObject {
    ErrorObject::invalid_params(format!(
        "task not found: {id} (unknown, or expired after its ttlMs)"
    ))
    .with_data(json!({ "taskId": id }))
}

fn is_terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

/// An empty complete result: the acknowledgement of `tasks/update` and `tasks/cancel`.
pub(crate) fn ack() -> Value {
    json!({ "resultType": "complete" })
}

impl ExtTasks {
    pub(crate) fn new(limits: TaskLimits) -> Self {
        ExtTasks {
            limits,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn purge(map: &mut HashMap<String, Entry>, now: Instant) {
        map.retain(|_, e| {
            let keep = e.expires > now;
            if !keep && let Some(a) = e.abort.take() {
                a.abort();
            }
            keep
        });
    }

    /// The task's common fields, flat.
    fn envelope(&self, id: &str, e: &Entry) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("taskId".into(), id.into());
        m.insert("status".into(), e.status.into());
        if let Some(msg) = &e.message {
            m.insert("statusMessage".into(), msg.clone().into());
        }
        m.insert("createdAt".into(), e.created.clone().into());
        m.insert("lastUpdatedAt".into(), e.updated.clone().into());
        m.insert("ttlMs".into(), (e.ttl.as_millis() as u64).into());
        m.insert(
            "pollIntervalMs".into(),
            (self.limits.poll_interval.as_millis() as u64).into(),
        );
        m
    }

    /// Creates a `working` task; returns its id and its `CreateTaskResult`.
    pub(crate) fn create(
        &self,
        now: Instant,
        retry_after_ms: u64,
    ) -> Result<(String, Value), ErrorObject> {
        let mut map = self.map.lock();
        Self::purge(&mut map, now);
        if map.len() >= self.limits.max_server_tasks {
            return Err(ErrorObject::overloaded(
                format!(
                    "too many tasks: the limit is {} (tasks.max_server_tasks)",
                    self.limits.max_server_tasks
                ),
                retry_after_ms,
            ));
        }
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw)
            .map_err(|e| ErrorObject::internal(format!("no randomness for a task id: {e}")))?;
        let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let stamp = timestamp();
        let ttl = self.limits.default_ttl.min(self.limits.max_ttl);
        let entry = Entry {
            created: stamp.clone(),
            updated: stamp,
            ttl,
            expires: now + ttl,
            status: "working",
            message: None,
            result: None,
            error: None,
            pending: Map::new(),
            waiters: HashMap::new(),
            abort: None,
        };
        let mut out = self.envelope(&id, &entry);
        out.insert("resultType".into(), "task".into());
        map.insert(id.clone(), entry);
        Ok((id, Value::Object(out)))
    }

    /// Ties the background run to the task, so cancellation and expiry stop it.
    pub(crate) fn set_abort(&self, id: &str, handle: AbortHandle) {
        let mut map = self.map.lock();
        match map.get_mut(id) {
            Some(e) if !is_terminal(e.status) => e.abort = Some(handle),
            _ => handle.abort(),
        }
    }

    /// Records how the run ended: a result (`completed`, tool errors included) or a
    /// protocol error (`failed`). Nothing changes once the task is terminal.
    pub(crate) fn finish(&self, id: &str, outcome: Result<Value, ErrorObject>) {
        let mut map = self.map.lock();
        let Some(e) = map.get_mut(id) else { return };
        if is_terminal(e.status) {
            return;
        }
        match outcome {
            Ok(result) => {
                e.status = "completed";
                e.result = Some(result);
            }
            Err(err) => {
                e.status = "failed";
                e.message = Some(err.message.clone());
                e.error = Some(err);
            }
        }
        e.pending.clear();
        e.waiters.clear();
        e.abort = None;
        e.updated = timestamp();
    }

    /// `tasks/get`: the `DetailedTask`.
    pub(crate) fn get(&self, now: Instant, id: &str) -> Result<Value, ErrorObject> {
        let mut map = self.map.lock();
        Self::purge(&mut map, now);
        let e = map.get(id).ok_or_else(|| not_found(id))?;
        let mut out = self.envelope(id, e);
        out.insert("resultType".into(), "complete".into());
        if let Some(r) = &e.result {
            out.insert("result".into(), r.clone());
        }
        if let Some(err) = &e.error {
            out.insert(
                "error".into(),
                serde_json::to_value(err).unwrap_or(Value::Null),
            );
        }
        if e.status == "input_required" {
            out.insert("inputRequests".into(), Value::Object(e.pending.clone()));
        }
        Ok(Value::Object(out))
    }

    /// `tasks/cancel`: stops a running task (it reads `cancelled` from now on);
    /// acknowledges a terminal one alike.
    pub(crate) fn cancel(&self, now: Instant, id: &str) -> Result<Value, ErrorObject> {
        let mut map = self.map.lock();
        Self::purge(&mut map, now);
        let e = map.get_mut(id).ok_or_else(|| not_found(id))?;
        if !is_terminal(e.status) {
            if let Some(a) = e.abort.take() {
                a.abort();
            }
            e.status = "cancelled";
            e.message = Some("The task was cancelled by request.".into());
            e.pending.clear();
            e.waiters.clear();
            e.updated = timestamp();
        }
        Ok(ack())
    }

    /// `tasks/update`: hands the answers to the run that waits for them; answered keys
    /// leave `inputRequests`, and the task works again once none is left. Answers to keys
    /// nobody waits for are ignored.
    pub(crate) fn update(
        &self,
        now: Instant,
        id: &str,
        responses: Map<String, Value>,
    ) -> Result<Value, ErrorObject> {
        let mut map = self.map.lock();
        Self::purge(&mut map, now);
        let e = map.get_mut(id).ok_or_else(|| not_found(id))?;
        for (key, answer) in responses {
            if let Some(tx) = e.waiters.remove(&key) {
                e.pending.remove(&key);
                let _ = tx.send(answer);
            }
        }
        if e.status == "input_required" && e.pending.is_empty() {
            e.status = "working";
            e.updated = timestamp();
        }
        Ok(ack())
    }

    /// The run of task `id` needs input `key`: the task shows it in `inputRequests` (status
    /// `input_required`) until `tasks/update` answers it. `None` if the task is gone or over.
    pub(crate) fn ask(
        &self,
        id: &str,
        key: &str,
        request: Value,
    ) -> Option<oneshot::Receiver<Value>> {
        let mut map = self.map.lock();
        let e = map.get_mut(id)?;
        if is_terminal(e.status) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        e.pending.insert(key.to_owned(), request);
        e.waiters.insert(key.to_owned(), tx);
        e.status = "input_required";
        e.updated = timestamp();
        Some(rx)
    }

    /// Tasks held (running or kept until their TTL).
    pub(crate) fn len(&self) -> usize {
        self.map.lock().len()
    }
}
