//! The client connection's driver: reads the server's lines, feeds the client session core,
//! runs handlers for the server's requests, fires timeouts, and fails every pending call
//! with the reason when the connection ends.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use oxmcp_proto::client::{ClientAction, ClientSession, RequestOptions};
use oxmcp_proto::framing::{Frame, LineFramer};
use oxmcp_proto::{ErrorObject, RequestId};
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::stdio::ExitWatch;
use super::{CallOptions, ClientError, Handlers, ProgressFn, ServerNotification};
use crate::time::{Alarm, now};

struct Waiter {
    tx: oneshot::Sender<Result<Box<RawValue>, ClientError>>,
    progress: Option<ProgressFn>,
}

/// What the client's handles share with the driver.
pub(crate) struct Shared {
    pub(crate) session: Mutex<ClientSession>,
    out: mpsc::Sender<Vec<u8>>,
    waiters: Mutex<HashMap<i64, Waiter>>,
    timer: Arc<Notify>,
    pub(crate) notifications: broadcast::Sender<ServerNotification>,
    closed: Mutex<Option<String>>,
    /// The spawned server's process id, if the transport spawned one.
    pub(crate) pid: Option<u32>,
    /// The response cache (2026-07-28): server notifications invalidate it before anyone
    /// hears of them, so a caller who saw a list change never gets the old list.
    pub(crate) cache: Arc<super::modern::Cache>,
    /// Stops the driver (and so kills a spawned server) when the last handle goes.
    _stop: DropGuard,
}

impl Shared {
    pub(crate) async fn send(&self, bytes: Vec<u8>) -> Result<(), ClientError> {
        match self.out.send(bytes).await {
            Ok(()) => Ok(()),
            Err(_) => Err(ClientError::Closed(self.closed_reason())),
        }
    }

    fn closed_reason(&self) -> String {
        self.closed
            .lock()
            .clone()
            .unwrap_or_else(|| "the connection is closed".into())
    }

    /// Sends a request and waits for its answer. When a subscriber wants the client span
    /// (`mcp.client`), the request runs in it and its trace context goes into
    /// `params._meta` (see [`crate::observe::trace`]).
    pub(crate) async fn request<P: Serialize>(
        self: &Arc<Self>,
        method: &str,
        params: Option<&P>,
        opts: CallOptions,
    ) -> Result<Box<RawValue>, ClientError> {
        use crate::observe::trace;
        use tracing::Instrument;
        let span = trace::client_span(method);
        if span.is_disabled() {
            return self.send_request(method, params, opts).await;
        }
        let outcome = match trace::inject_params(&span, params) {
            Some(traced) => {
                self.send_request(method, Some(&traced), opts)
                    .instrument(span.clone())
                    .await
            }
            None => {
                self.send_request(method, params, opts)
                    .instrument(span.clone())
                    .await
            }
        };
        span.record("outcome", if outcome.is_ok() { "ok" } else { "error" });
        if let Err(e) = &outcome {
            trace::error_status(&span, &e.to_string());
        }
        outcome
    }

    async fn send_request<P: Serialize>(
        self: &Arc<Self>,
        method: &str,
        params: Option<&P>,
        opts: CallOptions,
    ) -> Result<Box<RawValue>, ClientError> {
        if let Some(reason) = self.closed.lock().clone() {
            return Err(ClientError::Closed(reason));
        }
        let mut ropts = RequestOptions::default();
        ropts.timeout = opts.timeout;
        ropts.progress = opts.on_progress.is_some();
        ropts.reset_timeout_on_progress = opts.reset_timeout_on_progress;
        ropts.max_total_timeout = opts.max_total_timeout;
        let (id, bytes) = self
            .session
            .lock()
            .start_request(now(), method, params, &ropts)
            .map_err(ClientError::Rpc)?;
        let (tx, rx) = oneshot::channel();
        self.waiters.lock().insert(
            id,
            Waiter {
                tx,
                progress: opts.on_progress,
            },
        );
        // The driver fails waiters after marking the connection closed: look again, so a
        // waiter added after that cannot wait forever.
        if let Some(reason) = self.closed.lock().clone() {
            self.waiters.lock().remove(&id);
            return Err(ClientError::Closed(reason));
        }
        self.timer.notify_one();
        let mut guard = CancelOnDrop {
            shared: Arc::downgrade(self),
            id,
            armed: true,
        };
        self.send(bytes).await?;
        let outcome = rx
            .await
            .map_err(|_| ClientError::Closed(self.closed_reason()))?;
        guard.armed = false;
        outcome
    }
}

/// Withdraws a request whose caller went away: the server gets `notifications/cancelled`.
struct CancelOnDrop {
    shared: Weak<Shared>,
    id: i64,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        shared.waiters.lock().remove(&self.id);
        let note = shared
            .session
            .lock()
            .cancel(self.id, "the caller dropped the request");
        if let Some(bytes) = note {
            crate::outbox::send_now_or_later(&shared.out, bytes);
        }
    }
}

/// Starts the driver and the writer; returns the shared state.
pub(crate) fn start<R, W>(
    session: ClientSession,
    handlers: Handlers,
    reader: R,
    writer: W,
    exit: Option<ExitWatch>,
    max_line: usize,
) -> Arc<Shared>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel(1024);
    let stop = CancellationToken::new();
    let shared = Arc::new(Shared {
        session: Mutex::new(session),
        out: tx,
        waiters: Mutex::new(HashMap::new()),
        timer: Arc::new(Notify::new()),
        notifications: broadcast::channel(1024).0,
        closed: Mutex::new(None),
        pid: exit.as_ref().and_then(|e| e.pid),
        cache: Arc::default(),
        _stop: stop.clone().drop_guard(),
    });
    // The client's writer ends when the last handle (the only sender) goes.
    let (keep_open, stop_writer) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _keep_open = keep_open;
        let _ = crate::outbox::write_lines(writer, rx, stop_writer).await;
    });
    tokio::spawn(drive(
        Arc::downgrade(&shared),
        handlers,
        reader,
        exit,
        max_line,
        stop,
    ));
    shared
}

async fn drive<R: AsyncRead + Unpin>(
    shared: Weak<Shared>,
    handlers: Handlers,
    mut reader: R,
    mut exit: Option<ExitWatch>,
    max_line: usize,
    stop: CancellationToken,
) {
    let mut framer = LineFramer::new(max_line);
    let mut buf = vec![0u8; 64 * 1024];
    let mut alarm = Alarm::new();
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut aborts: HashMap<RequestId, AbortHandle> = HashMap::new();
    // Only a weak reference is held while waiting: the last `Client` handle going away
    // must drop the shared state, which fires `stop`.
    let reason = loop {
        let (deadline, timer) = {
            let Some(s) = shared.upgrade() else {
                break "the client was dropped".to_owned();
            };
            (
                s.session
                    .lock()
                    .poll_timeout()
                    .map(tokio::time::Instant::from_std),
                s.timer.clone(),
            )
        };
        enum Woke {
            Frames,
            Timeout,
            Other,
        }
        let woke = tokio::select! {
            () = stop.cancelled() => break "the client was dropped".to_owned(),
            r = reader.read(&mut buf) => match r {
                Ok(0) | Err(_) => break ended(&mut exit, r.err()).await,
                Ok(n) => {
                    framer.push(&buf[..n]);
                    Woke::Frames
                }
            },
            () = alarm.at(deadline) => Woke::Timeout,
            () = timer.notified() => Woke::Other,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => Woke::Other,
        };
        let Some(s) = shared.upgrade() else {
            break "the client was dropped".to_owned();
        };
        let mut actions = Vec::new();
        match woke {
            Woke::Frames => {
                while let Some(frame) = framer.next_frame() {
                    match frame {
                        Frame::Line(line) => {
                            s.session.lock().handle_frame(now(), &line, &mut actions)
                        }
                        Frame::Oversize { len } => {
                            tracing::warn!(
                                len,
                                limit = max_line,
                                "skipped an oversize message from the server"
                            );
                        }
                    }
                }
            }
            Woke::Timeout => s.session.lock().handle_timeout(now(), &mut actions),
            Woke::Other => {}
        }
        for action in actions {
            run(&s, &handlers, &mut tasks, &mut aborts, action).await;
        }
    };
    tasks.shutdown().await;
    if let Some(s) = shared.upgrade() {
        *s.closed.lock() = Some(reason.clone());
        let ids = s.session.lock().close();
        let mut waiters = s.waiters.lock();
        for id in ids {
            if let Some(w) = waiters.remove(&id) {
                let _ = w.tx.send(Err(ClientError::Closed(reason.clone())));
            }
        }
        waiters.clear();
    }
    // Dropping `exit` kills and reaps a spawned server that is still running.
    drop(exit);
}

/// Why the input ended: the server process's exit status when there is one.
async fn ended(exit: &mut Option<ExitWatch>, err: Option<std::io::Error>) -> String {
    if let Some(e) = err {
        return format!("reading from the server failed: {e}");
    }
    match exit {
        Some(watch) => match tokio::time::timeout(Duration::from_secs(2), watch.status()).await {
            Ok(status) => status,
            Err(_) => "the server closed its output (the process is still running)".to_owned(),
        },
        None => "the server closed the connection".to_owned(),
    }
}

fn parse<T: DeserializeOwned>(params: Option<&RawValue>) -> Result<T, ErrorObject> {
    oxmcp_proto::session::parse(params)
}

async fn run(
    s: &Arc<Shared>,
    handlers: &Handlers,
    tasks: &mut JoinSet<()>,
    aborts: &mut HashMap<RequestId, AbortHandle>,
    action: ClientAction,
) {
    match action {
        ClientAction::Send(bytes) => {
            let _ = s.send(bytes).await;
        }
        ClientAction::Deliver { id, outcome } => {
            if let Some(w) = s.waiters.lock().remove(&id) {
                let outcome = outcome.map_err(|e| {
                    if e.is_timed_out() {
                        ClientError::Timeout(e.message)
                    } else {
                        ClientError::Rpc(e)
                    }
                });
                let _ = w.tx.send(outcome);
            }
        }
        ClientAction::Progress { id, params } => {
            let callback = s.waiters.lock().get(&id).and_then(|w| w.progress.clone());
            if let (Some(cb), Ok(p)) = (callback, serde_json::from_str(params.get())) {
                cb(p);
            }
        }
        ClientAction::Handle { id, method, params } => {
            let weak = Arc::downgrade(s);
            let handlers = handlers.clone();
            let rid = id.clone();
            let handle = tasks.spawn(async move {
                let outcome = answer(&handlers, &method, params.as_deref()).await;
                let Some(s) = weak.upgrade() else { return };
                let reply = s
                    .session
                    .lock()
                    .respond(&rid, &method, outcome.as_ref().cloned());
                if let Some(bytes) = reply {
                    let _ = s.send(bytes).await;
                }
            });
            aborts.retain(|_, h| !h.is_finished());
            aborts.insert(id, handle);
        }
        ClientAction::Abort(id) => {
            if let Some(h) = aborts.remove(&id) {
                h.abort();
            }
        }
        ClientAction::Notify { method, params } => {
            let params = params
                .and_then(|p| serde_json::from_str(p.get()).ok())
                .unwrap_or(serde_json::Value::Null);
            s.cache.invalidate(&method, &params);
            let _ = s.notifications.send(ServerNotification { method, params });
        }
    }
}

async fn answer(
    handlers: &Handlers,
    method: &str,
    params: Option<&RawValue>,
) -> Result<serde_json::Value, ErrorObject> {
    fn raw<T: Serialize>(v: &T) -> Result<serde_json::Value, ErrorObject> {
        serde_json::to_value(v).map_err(|e| ErrorObject::internal(e.to_string()))
    }
    match method {
        "sampling/createMessage" => match &handlers.sampling {
            Some(h) => raw(&h(parse(params)?).await?),
            None => Err(ErrorObject::method_not_found(method)),
        },
        "elicitation/create" => match &handlers.elicitation {
            Some(h) => raw(&h(parse(params)?).await?),
            None => Err(ErrorObject::method_not_found(method)),
        },
        "roots/list" => match &handlers.roots {
            Some(h) => raw(&h(()).await?),
            None => Err(ErrorObject::method_not_found(method)),
        },
        _ => Err(ErrorObject::method_not_found(method)),
    }
}
