//! 2025-11-25 tasks on the server: task-augmented `tools/call` runs in the background;
//! `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` look at it.
//!
//! Tasks belong to their session and end with it. Each session holds at most
//! [`TaskLimits::max_tasks`] tasks; a task is forgotten once its TTL (from creation) has
//! passed, whatever its status.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use oxmcp_proto::ErrorObject;
use parking_lot::Mutex;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// Bounds of tasks. Every field has a documented default ([`Default`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskLimits {
    /// Tasks one session holds at once, finished ones included until they expire
    /// (default 64). One more gets the overload error.
    pub max_tasks: usize,
    /// TTL when the client asks for none (default 1 hour).
    pub default_ttl: Duration,
    /// The longest TTL granted (default 24 hours); a longer request is cut to it.
    pub max_ttl: Duration,
    /// The `pollInterval` suggested to clients (default 500 ms).
    pub poll_interval: Duration,
    /// Tasks of the 2026-07-28 tasks extension the server holds at once, for all clients
    /// together (there are no sessions to share them out; default 10,000). One more gets
    /// the overload error.
    pub max_server_tasks: usize,
}

impl Default for TaskLimits {
    fn default() -> Self {
        TaskLimits {
            max_tasks: 64,
            default_ttl: Duration::from_secs(3600),
            max_ttl: Duration::from_secs(24 * 3600),
            poll_interval: Duration::from_millis(500),
            max_server_tasks: 10_000,
        }
    }
}

/// How a task ended.
pub(crate) type Outcome = Result<Box<RawValue>, ErrorObject>;

struct Entry {
    seq: u64,
    task: Value,
    expires: Instant,
    outcome: Option<Outcome>,
    abort: Option<AbortHandle>,
    done: Arc<Notify>,
}

#[derive(Default)]
struct Map {
    by_id: HashMap<String, Entry>,
    order: BTreeMap<u64, String>,
    next: u64,
}

pub(crate) struct TaskStore {
    limits: Arc<TaskLimits>,
    /// Built on first use: most sessions never create a task, and an idle session should
    /// cost little memory.
    map: Mutex<Option<Box<Map>>>,
}

fn timestamp() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

fn status_of(task: &Value) -> &str {
    task.get("status")
        .and_then(Value::as_str)
        .unwrap_or("working")
}

fn is_terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

fn not_found(id: &str) -> ErrorObject {
    ErrorObject::invalid_params(format!(
        "task not found: {id} (unknown, or expired after its ttl)"
    ))
}

impl TaskStore {
    pub(crate) fn new(limits: Arc<TaskLimits>) -> Self {
        TaskStore {
            limits,
            map: Mutex::new(None),
        }
    }

    /// The task map, built if this is its first use.
    fn map(&self) -> parking_lot::MappedMutexGuard<'_, Map> {
        parking_lot::MutexGuard::map(self.map.lock(), |m| {
            &mut **m.get_or_insert_with(|| {
                Box::new(Map {
                    next: 1,
                    ..Default::default()
                })
            })
        })
    }

    fn purge(map: &mut Map, now: Instant) {
        let expired: Vec<String> = map
            .by_id
            .iter()
            .filter(|(_, e)| e.expires <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for id in expired {
            if let Some(e) = map.by_id.remove(&id) {
                map.order.remove(&e.seq);
                if let Some(a) = e.abort {
                    a.abort();
                }
                e.done.notify_waiters();
            }
        }
    }

    /// Creates a task in `working` status; returns its id and its JSON.
    pub(crate) fn create(
        &self,
        now: Instant,
        requested_ttl: Option<u64>,
        retry_after_ms: u64,
    ) -> Result<(String, Value), ErrorObject> {
        let mut map = self.map();
        Self::purge(&mut map, now);
        if map.by_id.len() >= self.limits.max_tasks {
            return Err(ErrorObject::overloaded(
                format!(
                    "too many tasks: the limit is {} per session",
                    self.limits.max_tasks
                ),
                retry_after_ms,
            ));
        }
        let ttl = requested_ttl
            .map(Duration::from_millis)
            .unwrap_or(self.limits.default_ttl)
            .min(self.limits.max_ttl);
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw)
            .map_err(|e| ErrorObject::internal(format!("no randomness for a task id: {e}")))?;
        let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let stamp = timestamp();
        let task = json!({
            "taskId": id,
            "status": "working",
            "createdAt": stamp,
            "lastUpdatedAt": stamp,
            "ttl": ttl.as_millis() as u64,
            "pollInterval": self.limits.poll_interval.as_millis() as u64,
        });
        let seq = map.next;
        map.next += 1;
        map.order.insert(seq, id.clone());
        map.by_id.insert(
            id.clone(),
            Entry {
                seq,
                task: task.clone(),
                expires: now + ttl,
                outcome: None,
                abort: None,
                done: Arc::new(Notify::new()),
            },
        );
        Ok((id, task))
    }

    pub(crate) fn set_abort(&self, id: &str, handle: AbortHandle) {
        let mut map = self.map();
        match map.by_id.get_mut(id) {
            Some(e) if e.outcome.is_none() => e.abort = Some(handle),
            // Already over (cancelled before the run was registered): stop the run.
            _ => handle.abort(),
        }
    }

    /// Records how the run ended. Returns the task's new JSON (for a status notification),
    /// or `None` if the task was cancelled or expired meanwhile (cancellation is sticky).
    pub(crate) fn finish(&self, id: &str, outcome: Outcome, failed: bool) -> Option<Value> {
        let mut map = self.map();
        let e = map.by_id.get_mut(id)?;
        if e.outcome.is_some() {
            return None;
        }
        let status = if failed || outcome.is_err() {
            "failed"
        } else {
            "completed"
        };
        if let Some(obj) = e.task.as_object_mut() {
            obj.insert("status".into(), status.into());
            obj.insert("lastUpdatedAt".into(), timestamp().into());
            if let Err(err) = &outcome {
                obj.insert("statusMessage".into(), err.message.clone().into());
            }
        }
        e.outcome = Some(outcome);
        e.abort = None;
        e.done.notify_waiters();
        Some(e.task.clone())
    }

    pub(crate) fn get(&self, now: Instant, id: &str) -> Result<Value, ErrorObject> {
        let mut map = self.map();
        Self::purge(&mut map, now);
        map.by_id
            .get(id)
            .map(|e| e.task.clone())
            .ok_or_else(|| not_found(id))
    }

    /// Waits until the task is terminal, then returns what the tool call would have.
    pub(crate) async fn result(&self, now: Instant, id: &str) -> Outcome {
        loop {
            let done = {
                let mut map = self.map();
                Self::purge(&mut map, now);
                let e = map.by_id.get(id).ok_or_else(|| not_found(id))?;
                if let Some(outcome) = &e.outcome {
                    return outcome.clone();
                }
                e.done.clone()
            };
            let notified = done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Re-check after registering, so a finish in between is not missed.
            if self.map().by_id.get(id).is_none_or(|e| e.outcome.is_some()) {
                continue;
            }
            notified.await;
        }
    }

    pub(crate) fn list(&self, now: Instant, after: u64, size: usize) -> (Vec<Value>, Option<u64>) {
        let mut map = self.map();
        Self::purge(&mut map, now);
        let mut items = Vec::new();
        let mut last = after;
        let mut iter = map.order.range(after.saturating_add(1)..);
        for (seq, id) in iter.by_ref().take(size) {
            if let Some(e) = map.by_id.get(id) {
                items.push(e.task.clone());
            }
            last = *seq;
        }
        let more = iter.next().is_some();
        (items, more.then_some(last))
    }

    pub(crate) fn cancel(&self, now: Instant, id: &str) -> Result<Value, ErrorObject> {
        let mut map = self.map();
        Self::purge(&mut map, now);
        let e = map.by_id.get_mut(id).ok_or_else(|| not_found(id))?;
        let status = status_of(&e.task).to_owned();
        if is_terminal(&status) {
            return Err(ErrorObject::invalid_params(format!(
                "task {id} is already {status}: it cannot be cancelled"
            )));
        }
        if let Some(a) = e.abort.take() {
            a.abort();
        }
        if let Some(obj) = e.task.as_object_mut() {
            obj.insert("status".into(), "cancelled".into());
            obj.insert(
                "statusMessage".into(),
                "The task was cancelled by request.".into(),
            );
            obj.insert("lastUpdatedAt".into(), timestamp().into());
        }
        e.outcome = Some(Err(ErrorObject::internal(format!(
            "task {id} was cancelled before it completed"
        ))));
        e.done.notify_waiters();
        Ok(e.task.clone())
    }

    pub(crate) fn has_running(&self) -> bool {
        self.map
            .lock()
            .as_ref()
            .is_some_and(|m| m.by_id.values().any(|e| e.outcome.is_none()))
    }

    pub(crate) fn len(&self) -> usize {
        self.map.lock().as_ref().map_or(0, |m| m.by_id.len())
    }

    pub(crate) fn abort_all(&self) {
        let mut guard = self.map.lock();
        let Some(map) = guard.as_mut() else { return };
        for e in map.by_id.values_mut() {
            if let Some(a) = e.abort.take() {
                a.abort();
            }
            e.done.notify_waiters();
        }
        map.by_id.clear();
        map.order.clear();
    }
}
