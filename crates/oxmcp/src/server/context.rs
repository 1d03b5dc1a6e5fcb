//! The handler's view of its request: progress, logs, cancellation, input from the client.
//!
//! # The re-run contract
//!
//! Input calls ([`Context::elicit`], [`Context::sample`], [`Context::roots`]) are *keyed*
//! and return a `Result` the handler propagates with `?`. Under the revisions oxmcp
//! negotiates through `initialize` (2024-11-05 … 2025-11-25) such a call sends a real
//! server-to-client request, gated on the client's declared capabilities, and waits for the
//! answer (bounded by the session's `outgoing_timeout`). Under the stateless revision
//! 2026-07-28 the same call will instead end the handler with an "input required" result;
//! the client answers and repeats the call, and the handler runs again *from the top* with
//! the answers available under their keys. So:
//!
//! - a handler must be safe to re-run up to its last input call: do side effects after
//!   the input calls, or make them idempotent;
//! - keys must be unique within one handler run;
//! - data that must survive a round goes through [`Context::set_state`] /
//!   [`Context::state`], never through captured variables;
//! - inputs needed together are asked together with [`Context::inputs`] (one round under
//!   2026-07-28, concurrent requests under the older revisions).
//!
//! Under 2026-07-28 an input call whose answer has not arrived yet fails with
//! [`InputError::Required`]; whatever the handler then returns, the client gets the
//! `input_required` result, and the answers of every round reach the handler's next run.

use std::collections::HashMap;
use std::sync::Arc;

use oxmcp_proto::ProtocolVersion;
use oxmcp_proto::RequestId;
use oxmcp_proto::error::OVERLOADED;
use oxmcp_proto::model::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, Implementation, ListRootsResult, LoggingLevel, Meta, ProgressToken,
};
use oxmcp_proto::modern::model::CacheHint;
use oxmcp_proto::session::{ClientNeed, Session, progress_notification};
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::connection::Connection;
use crate::error::{Error, InputError};
use crate::server::Server;
use crate::server::modern::Round;
use crate::time::now;

/// What a handler knows about its request and can do with the client.
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Arc<Connection>,
    request_id: Option<RequestId>,
    progress_token: Option<ProgressToken>,
    meta: Option<Meta>,
    cancel: CancellationToken,
    state: Mutex<HashMap<String, Value>>,
    /// For a task's background run: the task id and the last progress sent.
    task: Option<(String, Mutex<Option<f64>>)>,
    /// Under 2026-07-28, for methods that may need input: this round's answers and asks.
    round: std::sync::OnceLock<Arc<Round>>,
    /// Under the 2026-07-28 tasks extension: the task this run belongs to (input calls then
    /// wait for `tasks/update`).
    ext_task: Mutex<Option<String>>,
    /// Where [`Context::start_task`] announces the task it created.
    escalate: Mutex<Option<oneshot::Sender<String>>>,
    /// The caching hint of the resource being read (2026-07-28).
    cache: Mutex<Option<CacheHint>>,
    /// When the run started (request and tool durations are measured from here).
    started: std::time::Instant,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.inner.request_id)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new(
        conn: Arc<Connection>,
        request_id: Option<RequestId>,
        progress_token: Option<ProgressToken>,
        meta: Option<Meta>,
        cancel: CancellationToken,
    ) -> Self {
        Context {
            inner: Arc::new(Inner {
                conn,
                request_id,
                progress_token,
                meta,
                cancel,
                state: Mutex::new(HashMap::new()),
                task: None,
                round: Default::default(),
                ext_task: Mutex::new(None),
                escalate: Mutex::new(None),
                cache: Mutex::new(None),
                started: std::time::Instant::now(),
            }),
        }
    }

    /// The context of a task's background run: no request id; progress goes to the
    /// original request's token, tagged with the task (the token stays valid for the
    /// task's lifetime).
    pub(crate) fn for_task(&self, task_id: String) -> Self {
        let inner = &self.inner;
        Context {
            inner: Arc::new(Inner {
                conn: inner.conn.clone(),
                request_id: None,
                progress_token: inner.progress_token.clone(),
                meta: inner.meta.clone(),
                cancel: CancellationToken::new(),
                state: Mutex::new(HashMap::new()),
                task: Some((task_id, Mutex::new(None))),
                round: Default::default(),
                ext_task: Mutex::new(None),
                escalate: Mutex::new(None),
                cache: Mutex::new(None),
                started: std::time::Instant::now(),
            }),
        }
    }

    /// Begins a 2026-07-28 round: the answers so far and the values stored by earlier rounds.
    pub(crate) fn start_round(&self, round: Round, values: serde_json::Map<String, Value>) {
        self.inner.state.lock().extend(values);
        let _ = self.inner.round.set(Arc::new(round));
    }

    /// The 2026-07-28 round this request runs in, if any.
    pub(crate) fn round(&self) -> Option<&Round> {
        self.inner.round.get().map(|r| &**r)
    }

    /// The context of a 2026-07-28 task's run: the request's round and values, a
    /// cancellation of its own (the request ending does not stop the task), and `task`
    /// (or none yet, when the handler will call [`Context::start_task`]).
    pub(crate) fn for_ext_task(&self, task: Option<String>) -> Context {
        let inner = &self.inner;
        let round = std::sync::OnceLock::new();
        if let Some(r) = inner.round.get() {
            let _ = round.set(r.clone());
        }
        Context {
            inner: Arc::new(Inner {
                conn: inner.conn.clone(),
                request_id: inner.request_id.clone(),
                progress_token: None,
                meta: inner.meta.clone(),
                cancel: CancellationToken::new(),
                state: Mutex::new(inner.state.lock().clone()),
                task: None,
                round,
                ext_task: Mutex::new(task),
                escalate: Mutex::new(None),
                cache: Mutex::new(None),
                started: std::time::Instant::now(),
            }),
        }
    }

    /// The 2026-07-28 task this run belongs to, if any.
    pub(crate) fn ext_task(&self) -> Option<String> {
        self.inner.ext_task.lock().clone()
    }

    pub(crate) fn set_escalation(&self, tx: oneshot::Sender<String>) {
        *self.inner.escalate.lock() = Some(tx);
    }

    /// For a tool built with [`Tool::task_after_input`](super::Tool::task_after_input)
    /// under the 2026-07-28 tasks extension: creates the task now; the client gets it as
    /// the call's result while this handler runs on in the background. Elsewhere it does
    /// nothing.
    pub async fn start_task(&self) -> Result<(), Error> {
        let Some(tx) = self.inner.escalate.lock().take() else {
            return Ok(());
        };
        let server = self.inner.conn.server();
        let retry = self
            .inner
            .conn
            .session
            .lock()
            .limits()
            .retry_after
            .as_millis() as u64;
        let (id, _) = server.ext_tasks().create(now(), retry)?;
        *self.inner.ext_task.lock() = Some(id.clone());
        let _ = tx.send(id);
        Ok(())
    }

    /// The values stored with [`Context::set_state`], to carry to the next round.
    pub(crate) fn state_snapshot(&self) -> serde_json::Map<String, Value> {
        self.inner
            .state
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub(crate) fn set_cache_hint(&self, hint: CacheHint) {
        *self.inner.cache.lock() = Some(hint);
    }

    pub(crate) fn cache_hint(&self) -> Option<CacheHint> {
        *self.inner.cache.lock()
    }

    /// When this run started.
    pub(crate) fn started(&self) -> std::time::Instant {
        self.inner.started
    }

    /// The client's request id (`None` for a task's background run).
    pub fn request_id(&self) -> Option<&RequestId> {
        self.inner.request_id.as_ref()
    }

    /// The request's `_meta`, as the client sent it.
    pub fn meta(&self) -> Option<&Meta> {
        self.inner.meta.as_ref()
    }

    /// The negotiated protocol revision.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.conn.version()
    }

    /// The client's declared capabilities.
    pub fn client_capabilities(&self) -> ClientCapabilities {
        self.inner.conn.session.lock().client_capabilities().clone()
    }

    /// The client's `clientInfo`.
    pub fn client_info(&self) -> Option<Implementation> {
        self.inner.conn.session.lock().client_info().cloned()
    }

    /// The server this request runs on (to add or remove tools, or announce resource updates).
    pub fn server(&self) -> Server {
        self.inner.conn.server()
    }

    /// A token cancelled when the request is cancelled, times out or its connection ends.
    /// The handler's future is dropped then anyway; the token is for work it spawned.
    pub fn cancellation(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// Ends the client's SSE connection for this request while the handler goes on
    /// (Streamable HTTP polling, SEP-1699): the client reconnects after the announced
    /// `retry` with `Last-Event-ID` and receives what was sent meanwhile. Only on HTTP
    /// sessions that negotiated 2025-11-25 or later (older clients would take the close
    /// as a lost request); false when nothing was closed.
    pub fn close_sse_stream(&self) -> bool {
        let Some(id) = &self.inner.request_id else {
            return false;
        };
        if self.protocol_version() < ProtocolVersion::V2025_11_25 {
            return false;
        }
        self.inner.conn.close_stream(id)
    }

    /// Whether the client asked for progress (sent a `progressToken`).
    pub fn wants_progress(&self) -> bool {
        self.inner.progress_token.is_some()
    }

    /// Reports progress. Sent only if the client asked for progress; `progress` must
    /// increase from one call to the next (a value that does not is an error).
    pub async fn progress(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> Result<(), Error> {
        let inner = &self.inner;
        let bytes = match (&inner.request_id, &inner.task, &inner.progress_token) {
            (Some(id), _, _) => inner
                .conn
                .session
                .lock()
                .progress(id, progress, total, message)?,
            (None, Some((task_id, last)), Some(token)) => {
                let meta = serde_json::json!({ "io.modelcontextprotocol/related-task": { "taskId": task_id } });
                Some(progress_notification(
                    &mut last.lock(),
                    token,
                    progress,
                    total,
                    message,
                    Some(&meta),
                )?)
            }
            _ => None,
        };
        if let Some(bytes) = bytes {
            self.inner
                .conn
                .send(self.inner.request_id.as_ref(), bytes)
                .await;
        }
        Ok(())
    }

    /// Sends a log message (`notifications/message`) if the client's level lets it through.
    pub async fn log(&self, level: LoggingLevel, data: impl Into<Value>) {
        let data = data.into();
        let bytes = self.inner.conn.session.lock().log(level, None, &data);
        if let Some(bytes) = bytes {
            self.inner
                .conn
                .send(self.inner.request_id.as_ref(), bytes)
                .await;
        }
    }

    /// A value a previous round stored under `key` (see the module docs).
    pub fn state<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let state = self.inner.state.lock();
        state
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Stores a value that must survive a re-run (see the module docs).
    pub fn set_state<T: Serialize>(&self, key: &str, value: &T) -> Result<(), Error> {
        let value = serde_json::to_value(value)?;
        self.inner.state.lock().insert(key.to_owned(), value);
        Ok(())
    }

    /// Asks the user for input (`elicitation/create`, form or URL mode). `key` names this
    /// input within the handler (see the module docs).
    pub async fn elicit(
        &self,
        key: &str,
        params: ElicitRequestParams,
    ) -> Result<ElicitResult, InputError> {
        self.input(key, elicit_need(&params), &params).await
    }

    /// Asks the client's model for a completion (`sampling/createMessage`).
    pub async fn sample(
        &self,
        key: &str,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, InputError> {
        self.input(key, sample_need(&params), &params).await
    }

    /// Asks the client for its roots (`roots/list`).
    pub async fn roots(&self, key: &str) -> Result<ListRootsResult, InputError> {
        self.input(key, ClientNeed::Roots, &serde_json::json!({}))
            .await
    }

    /// Asks for several inputs at once: under 2026-07-28 in one `input_required` round,
    /// under the older revisions as concurrent requests. The answers come back by key.
    pub async fn inputs(
        &self,
        requests: Vec<(String, Input)>,
    ) -> Result<HashMap<String, Answer>, InputError> {
        if let Some(round) = self.round().filter(|_| self.ext_task().is_none()) {
            let mut answers = HashMap::new();
            let mut missing = None;
            for (key, input) in requests {
                match self.modern_any(round, &key, input) {
                    Ok(a) => {
                        answers.insert(key, a);
                    }
                    Err(InputError::Required(k)) => {
                        missing.get_or_insert(k);
                    }
                    Err(e) => return Err(e),
                }
            }
            return match missing {
                Some(k) => Err(InputError::Required(k)),
                None => Ok(answers),
            };
        }
        let calls = requests.into_iter().map(|(key, input)| async move {
            let answer = match input {
                Input::Elicit(p) => self.elicit(&key, p).await.map(Answer::Elicit),
                Input::Sample(p) => self.sample(&key, p).await.map(Answer::Sample),
                Input::Roots => self.roots(&key).await.map(Answer::Roots),
            }?;
            Ok::<_, InputError>((key, answer))
        });
        futures::future::try_join_all(calls)
            .await
            .map(|v| v.into_iter().collect())
    }

    fn modern_any(&self, round: &Round, key: &str, input: Input) -> Result<Answer, InputError> {
        match input {
            Input::Elicit(p) => {
                let need = elicit_need(&p);
                self.modern_input(round, key, need, &p).map(Answer::Elicit)
            }
            Input::Sample(p) => {
                let need = sample_need(&p);
                self.modern_input(round, key, need, &p).map(Answer::Sample)
            }
            Input::Roots => self
                .modern_input(round, key, ClientNeed::Roots, &serde_json::json!({}))
                .map(Answer::Roots),
        }
    }

    /// The method an input of kind `need` is asked with, once this request's capabilities
    /// are known to cover it.
    fn checked_need(&self, need: ClientNeed) -> Result<&'static str, oxmcp_proto::ErrorObject> {
        self.inner.conn.session.lock().check_client_need(need)?;
        Ok(Session::need_method(need))
    }

    /// 2026-07-28: the answer to `key` if the client sent it (in this request or an
    /// earlier round), else an input request recorded for the `input_required` result.
    fn modern_input<P: Serialize, R: DeserializeOwned>(
        &self,
        round: &Round,
        key: &str,
        need: ClientNeed,
        params: &P,
    ) -> Result<R, InputError> {
        let method = match self.checked_need(need) {
            Ok(m) => m,
            Err(e) => {
                round.refuse(e.clone());
                return Err(InputError::Unsupported(e));
            }
        };
        if let Some(answer) = round.responses.get(key) {
            return serde_json::from_value(answer.clone()).map_err(|e| {
                let text =
                    format!("inputResponses[{key:?}] is not a valid answer to {method}: {e}");
                round.refuse(oxmcp_proto::ErrorObject::invalid_params(text.clone()));
                InputError::Malformed(text)
            });
        }
        let params =
            serde_json::to_value(params).map_err(|e| InputError::Malformed(e.to_string()))?;
        round.ask(
            key,
            oxmcp_proto::modern::shape::input_request(method, params),
        );
        Err(InputError::Required(key.to_owned()))
    }

    /// A 2026-07-28 task's input: an answer gathered before the task began, or an input
    /// request the task shows until `tasks/update` answers it.
    async fn task_input<P: Serialize, R: DeserializeOwned>(
        &self,
        task: &str,
        key: &str,
        need: ClientNeed,
        params: &P,
    ) -> Result<R, InputError> {
        let method = self.checked_need(need).map_err(InputError::Unsupported)?;
        let known = self.round().and_then(|r| r.responses.get(key).cloned());
        let answer = match known {
            Some(a) => a,
            None => {
                let params = serde_json::to_value(params)
                    .map_err(|e| InputError::Malformed(e.to_string()))?;
                let request = oxmcp_proto::modern::shape::input_request(method, params);
                let rx = self
                    .inner
                    .conn
                    .server()
                    .ext_tasks()
                    .ask(task, key, request)
                    .ok_or(InputError::Closed)?;
                rx.await.map_err(|_| InputError::Closed)?
            }
        };
        serde_json::from_value(answer).map_err(|e| {
            InputError::Malformed(format!(
                "the answer to {key:?} is not a valid {method} result: {e}"
            ))
        })
    }

    async fn input<P: Serialize, R: DeserializeOwned>(
        &self,
        key: &str,
        need: ClientNeed,
        params: &P,
    ) -> Result<R, InputError> {
        if let Some(task) = self.ext_task() {
            return self.task_input(&task, key, need, params).await;
        }
        if let Some(round) = self.round() {
            return self.modern_input(round, key, need, params);
        }
        let conn = &self.inner.conn;
        let started = conn.session.lock().start_request(now(), need, params);
        let (id, bytes) = started.map_err(|e| {
            if e.code == OVERLOADED {
                InputError::Overloaded(e)
            } else {
                InputError::Unsupported(e)
            }
        })?;
        let (tx, rx) = oneshot::channel();
        conn.waiters.lock().insert(id, tx);
        conn.timer.notify_one();
        let related = self.inner.request_id.as_ref();
        let mut guard = PendingGuard {
            conn: conn.clone(),
            related: related.cloned(),
            id,
            armed: true,
        };
        if !conn.send(related, bytes).await {
            return Err(InputError::Closed);
        }
        let outcome = rx.await.map_err(|_| InputError::Closed)?;
        guard.armed = false;
        match outcome {
            Ok(raw) => {
                serde_json::from_str(raw.get()).map_err(|e| InputError::Malformed(e.to_string()))
            }
            Err(e) if e.is_timed_out() => Err(InputError::Timeout(e)),
            Err(e) => Err(InputError::Client(e)),
        }
    }
}

fn elicit_need(params: &ElicitRequestParams) -> ClientNeed {
    match params {
        ElicitRequestParams::Url(_) => ClientNeed::ElicitationUrl,
        _ => ClientNeed::ElicitationForm,
    }
}

fn sample_need(params: &CreateMessageRequestParams) -> ClientNeed {
    if params.tools.as_ref().is_some_and(|t| !t.is_empty()) {
        ClientNeed::SamplingTools
    } else {
        ClientNeed::Sampling
    }
}

/// One input a handler asks for with [`Context::inputs`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Input {
    /// `elicitation/create`.
    Elicit(ElicitRequestParams),
    /// `sampling/createMessage`.
    Sample(CreateMessageRequestParams),
    /// `roots/list`.
    Roots,
}

/// The client's answer to one [`Input`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Answer {
    /// The user's answer to an elicitation.
    Elicit(ElicitResult),
    /// The model's completion.
    Sample(CreateMessageResult),
    /// The client's roots.
    Roots(ListRootsResult),
}

/// Withdraws a server-to-client request whose caller went away (the handler was aborted):
/// forgets the waiter and tells the client with `notifications/cancelled`.
struct PendingGuard {
    conn: Arc<Connection>,
    related: Option<RequestId>,
    id: i64,
    armed: bool,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.conn.waiters.lock().remove(&self.id);
        let bytes = self
            .conn
            .session
            .lock()
            .cancel_request(self.id, "the handler that sent this request was cancelled");
        if let Some(bytes) = bytes {
            self.conn.send_later(self.related.as_ref(), bytes);
        }
    }
}
