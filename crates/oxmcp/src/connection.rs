//! One session over a line transport (stdio, in-memory duplex, later TCP): the driver that
//! feeds the protocol core and runs what it asks for.
//!
//! The driver task reads frames, hands them to the session core, spawns handlers (one task
//! each, with an abort handle per request id), fires deadlines and forwards server-wide
//! changes (`list_changed`, resource updates). A writer task drains the bounded outbound
//! queue. When the queue is full, whoever sends waits: the driver then stops reading, so a
//! client that does not read its answers cannot make the server buffer without bound.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use oxmcp_proto::ErrorObject;
use oxmcp_proto::ProtocolVersion;
use oxmcp_proto::RequestId;
use oxmcp_proto::framing::{Frame, LineFramer};
use oxmcp_proto::session::{Action, Dispatch, ListChanged, Session};
use parking_lot::Mutex;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::server::context::Context;
use crate::server::tasks::TaskStore;
use crate::server::{Change, Server, dispatch};
use crate::time::{Alarm, now, sleep_until};

/// What a handler task ends with: its request's id, and whether the handler panicked.
type Handled = (RequestId, bool);

/// A map keyed by ids: hashed fast (the keys a client picks are bounded by limits, and the
/// hasher is seeded per process).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

type Waiter = oneshot::Sender<Result<Box<RawValue>, ErrorObject>>;

/// The state one session shares between its driver, its handlers and its tasks.
pub(crate) struct Connection {
    pub(crate) server: Server,
    pub(crate) session: Mutex<Session>,
    out: Outlet,
    pub(crate) waiters: Mutex<HashMap<i64, Waiter>>,
    /// Woken when a deadline may have moved earlier (a handler started a request).
    pub(crate) timer: Notify,
    pub(crate) tasks: TaskStore,
    /// Handler tasks spawned and not yet reaped (kept by the driver).
    handler_tasks: std::sync::atomic::AtomicUsize,
    /// The session's rate limit (`limits.rate_per_session`), shared with the throwaway
    /// sessions of 2026-07-28 requests on the same line transport.
    pub(crate) rate: Option<Arc<crate::guard::rate::Limit>>,
    /// The HTTP session's id, for log spans (`None`: stdio, or no session).
    pub(crate) session_id: Option<Arc<str>>,
}

impl Connection {
    /// This connection's counters.
    pub(crate) fn stats(&self) -> ConnectionStats {
        let session = self.session.lock();
        ConnectionStats {
            in_flight: session.in_flight(),
            pending_outgoing: session.pending_outgoing(),
            handler_tasks: self
                .handler_tasks
                .load(std::sync::atomic::Ordering::Relaxed),
            tasks: self.tasks.len(),
            waiters: self.waiters.lock().len(),
        }
    }

    pub(crate) fn server(&self) -> Server {
        self.server.clone()
    }

    /// The negotiated revision (the latest legacy one before `initialize`).
    pub(crate) fn version(&self) -> ProtocolVersion {
        self.session
            .lock()
            .version()
            .unwrap_or(ProtocolVersion::LATEST_LEGACY)
    }

    /// When the session core next has timeout work (as a tokio instant).
    pub(crate) fn deadline(&self) -> Option<tokio::time::Instant> {
        self.session
            .lock()
            .poll_timeout()
            .map(tokio::time::Instant::from_std)
    }

    /// Whether this writes to one ordered line queue (stdio and the like), not HTTP.
    pub(crate) fn is_lines(&self) -> bool {
        matches!(self.out, Outlet::Lines(_))
    }

    /// Whether this serves one 2026-07-28 request.
    pub(crate) fn is_modern(&self) -> bool {
        self.session.lock().is_modern()
    }

    /// A session record for a transport with its own routing (Streamable HTTP).
    pub(crate) fn new(server: Server, session: Session, out: Outlet) -> Self {
        let tasks = TaskStore::new(server.task_limits());
        Connection {
            server,
            session: Mutex::new(session),
            out,
            waiters: Mutex::new(HashMap::new()),
            timer: Notify::new(),
            tasks,
            handler_tasks: std::sync::atomic::AtomicUsize::new(0),
            rate: None,
            session_id: None,
        }
    }

    /// This connection, named `id` in logs.
    pub(crate) fn with_session_id(mut self, id: Option<Arc<str>>) -> Self {
        self.session_id = id;
        self
    }

    /// This connection, limited to `rate`.
    pub(crate) fn with_rate(mut self, rate: Option<Arc<crate::guard::rate::Limit>>) -> Self {
        self.rate = rate;
        self
    }

    /// The server's own session rate limiter, when it has one.
    pub(crate) fn session_rate(server: &Server) -> Option<Arc<crate::guard::rate::Limit>> {
        server
            .options()
            .rate_per_session
            .map(|r| Arc::new(crate::guard::rate::Limit::new(r)))
    }

    /// Queues a message related to request `related` (`None`: to no request), waiting
    /// for room. False if the connection is gone.
    pub(crate) async fn send(&self, related: Option<&RequestId>, bytes: Vec<u8>) -> bool {
        match &self.out {
            Outlet::Lines(tx) => tx.send(bytes).await.is_ok(),
            Outlet::Routed(r) => r.send(related, bytes).await,
        }
    }

    /// A place in a line transport's queue, waited for (`None` for other transports, or
    /// when the connection is gone).
    pub(crate) async fn reserve(&self) -> Option<mpsc::Permit<'_, Vec<u8>>> {
        match &self.out {
            Outlet::Lines(tx) => tx.reserve().await.ok(),
            Outlet::Routed(_) => None,
        }
    }

    /// Queues a message from a place that cannot wait (a destructor).
    pub(crate) fn send_later(&self, related: Option<&RequestId>, bytes: Vec<u8>) {
        match &self.out {
            Outlet::Lines(tx) => crate::outbox::send_now_or_later(tx, bytes),
            Outlet::Routed(r) => r.send_later(related, bytes),
        }
    }

    /// Ends the client's connection to request `id`'s stream, if the transport can.
    pub(crate) fn close_stream(&self, id: &RequestId) -> bool {
        match &self.out {
            Outlet::Lines(_) => false,
            Outlet::Routed(r) => r.close_stream(id),
        }
    }

    /// Hands the client's answer (or its failure) to the handler waiting for request `id`.
    pub(crate) fn deliver(&self, id: i64, outcome: Result<Box<RawValue>, ErrorObject>) {
        if let Some(waiter) = self.waiters.lock().remove(&id) {
            let _ = waiter.send(outcome);
        }
    }

    /// Passes a client notification to the application's hook.
    pub(crate) fn notify_app(&self, method: &str, params: Option<Box<RawValue>>) {
        self.server.client_notification(method, params.as_deref());
    }

    /// Counts a handler task started (`+1`) or reaped (`-1`).
    pub(crate) fn count_handler(&self, started: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        if started {
            self.handler_tasks.fetch_add(1, Relaxed);
        } else {
            self.handler_tasks.fetch_sub(1, Relaxed);
        }
    }
}

/// What a session must be told about a server-wide change: `list_changed` for a list it
/// may list, `resources/updated` if it subscribed; after missed changes, that every list
/// may have changed (rather than lose one).
pub(crate) fn change_messages(
    session: &Session,
    change: &Result<Change, broadcast::error::RecvError>,
) -> Vec<Vec<u8>> {
    match change {
        Ok(Change::List(which)) => session.list_changed(*which).into_iter().collect(),
        Ok(Change::ResourceUpdated(uri)) => session.resource_updated(uri).into_iter().collect(),
        Err(broadcast::error::RecvError::Lagged(_)) => [
            ListChanged::Tools,
            ListChanged::Resources,
            ListChanged::Prompts,
        ]
        .into_iter()
        .filter_map(|w| session.list_changed(w))
        .collect(),
        Err(broadcast::error::RecvError::Closed) => Vec::new(),
    }
}

/// Where a session's outgoing messages go.
pub(crate) enum Outlet {
    /// One ordered queue (stdio, TCP, in-memory duplex): relations do not matter.
    Lines(mpsc::Sender<Vec<u8>>),
    /// A transport that picks a stream per message (Streamable HTTP).
    Routed(Arc<dyn Route>),
}

/// Picks the stream for each outgoing message by the request it relates to.
pub(crate) trait Route: Send + Sync {
    /// Writes `bytes` on the stream of request `related` (or the session's general stream),
    /// waiting for room. False if nobody can ever read it.
    fn send<'a>(
        &'a self,
        related: Option<&'a RequestId>,
        bytes: Vec<u8>,
    ) -> futures::future::BoxFuture<'a, bool>;
    /// The same, from a place that cannot wait.
    fn send_later(&self, related: Option<&RequestId>, bytes: Vec<u8>);
    /// Ends the client's connection to request `related`'s stream while the request goes
    /// on (the client resumes later). False if the transport cannot.
    fn close_stream(&self, _related: &RequestId) -> bool {
        false
    }
}

/// Counters a test or a metrics endpoint can read while a connection runs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Requests being handled.
    pub in_flight: usize,
    /// Server-to-client requests awaiting an answer.
    pub pending_outgoing: usize,
    /// Handler tasks not yet reaped.
    pub handler_tasks: usize,
    /// Tasks held: 2025-11-25 tasks of the sessions, and (in [`Server::stats`](crate::server::Server::stats)) the server's 2026-07-28 extension tasks.
    pub tasks: usize,
    /// Handlers waiting for a client's answer.
    pub waiters: usize,
}

impl std::ops::Add for ConnectionStats {
    type Output = ConnectionStats;
    fn add(self, o: ConnectionStats) -> ConnectionStats {
        ConnectionStats {
            in_flight: self.in_flight + o.in_flight,
            pending_outgoing: self.pending_outgoing + o.pending_outgoing,
            handler_tasks: self.handler_tasks + o.handler_tasks,
            tasks: self.tasks + o.tasks,
            waiters: self.waiters + o.waiters,
        }
    }
}

/// Serves one session over a newline-delimited JSON transport until the reader ends (EOF or
/// error); then lets handlers in flight finish within the shutdown grace, flushes, and
/// returns.
pub async fn serve_lines<R, W>(server: Server, reader: R, writer: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let opts = server.options().clone();
    let (tx, rx) = mpsc::channel(opts.outbound_queue.max(1));
    let (stop_writer, stop_rx) = oneshot::channel();
    let writer_task = tokio::spawn(crate::outbox::write_lines(writer, rx, stop_rx));
    let conn = Arc::new(
        Connection::new(
            server.clone(),
            Session::new(server.setup(), server.session_limits()),
            Outlet::Lines(tx),
        )
        .with_rate(Connection::session_rate(&server)),
    );
    server.register(&conn);
    let mut driver = Driver {
        conn: conn.clone(),
        handlers: JoinSet::new(),
        aborts: FastMap::default(),
        modern: FastMap::default(),
    };
    let mut changes = server.subscribe_changes();
    let mut framer = LineFramer::new(opts.max_line);
    let mut buf = vec![0u8; 64 * 1024];
    let mut reader = reader;
    let mut reading = true;
    let mut grace: Option<tokio::time::Instant> = None;
    let mut result = Ok(());
    let mut alarm = Alarm::new();
    loop {
        if !reading {
            if driver.handlers.is_empty() && !conn.tasks.has_running() {
                break;
            }
            let g = *grace.get_or_insert_with(|| tokio::time::Instant::now() + opts.shutdown_grace);
            if tokio::time::Instant::now() >= g {
                break;
            }
        }
        let deadline = conn.deadline();
        tokio::select! {
            r = reader.read(&mut buf), if reading => match r {
                Ok(0) => {
                    reading = false;
                    while let Some(frame) = framer.finish() {
                        driver.frame(frame, framer.max_line()).await;
                    }
                    // Nobody reads listen streams any more: end them now.
                    driver.end_listens();
                }
                Ok(n) => {
                    framer.push(&buf[..n]);
                    while let Some(frame) = framer.next_frame() {
                        driver.frame(frame, framer.max_line()).await;
                    }
                }
                Err(e) => {
                    reading = false;
                    result = Err(e);
                }
            },
            () = alarm.at(deadline) => {
                let mut actions = Vec::new();
                conn.session.lock().handle_timeout(now(), &mut actions);
                count_timeouts(&conn, &actions);
                driver.run(actions).await;
            }
            () = conn.timer.notified() => {}
            Some(joined) = driver.handlers.join_next_with_id() => driver.reap(joined),
            change = changes.recv() => driver.change(change).await,
            () = sleep_until(grace), if !reading => {}
        }
    }
    driver.handlers.shutdown().await;
    conn.handler_tasks
        .store(0, std::sync::atomic::Ordering::Relaxed);
    conn.tasks.abort_all();
    // Fail whatever still waits on the client.
    conn.waiters.lock().clear();
    drop(driver);
    let _ = stop_writer.send(());
    let written = writer_task.await.unwrap_or(Ok(()));
    result.and(written)
}

struct Driver {
    conn: Arc<Connection>,
    /// One task per request; each ends with its request's id and whether it panicked.
    handlers: JoinSet<Handled>,
    aborts: FastMap<RequestId, AbortHandle>,
    /// 2026-07-28 requests running, by id, and whether each is a listen stream.
    modern: FastMap<RequestId, bool>,
}

impl Driver {
    async fn frame(&mut self, frame: Frame, limit: usize) {
        if let Frame::Line(line) = &frame {
            if oxmcp_proto::modern::era_of(line, None) == oxmcp_proto::modern::Era::Modern {
                return self.modern_frame(line).await;
            }
            if !self.modern.is_empty() && self.cancel_modern(line) {
                return;
            }
        }
        let mut actions = Vec::new();
        {
            let mut session = self.conn.session.lock();
            match frame {
                Frame::Line(line) => session.handle_frame(now(), &line, &mut actions),
                Frame::Oversize { len } => session.oversize(len, limit, &mut actions),
            }
            let refused = session.take_refused();
            self.conn
                .server
                .metrics()
                .reject_n(crate::observe::metrics::Reject::InFlight, refused);
        }
        self.run(actions).await;
    }

    async fn run(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send(bytes) | Action::Respond { bytes, .. } => {
                    self.conn.send(None, bytes).await;
                }
                Action::Dispatch(d) => self.spawn(d).await,
                Action::Abort(id) => {
                    if let Some(handle) = self.aborts.remove(&id) {
                        handle.abort();
                    }
                }
                Action::Deliver { id, outcome } => self.conn.deliver(id, outcome),
                Action::Notify { method, params } => self.conn.notify_app(&method, params),
            }
        }
    }

    /// One 2026-07-28 request: validated, then run on its own throwaway session that
    /// writes to this connection's queue.
    async fn modern_frame(&mut self, line: &[u8]) {
        use oxmcp_proto::jsonrpc::{Decoded, Message};
        use oxmcp_proto::modern::meta::{self, Carrier};
        let req = match oxmcp_proto::jsonrpc::decode(line) {
            Decoded::Single(Ok(Message::Request(r))) => r,
            Decoded::Single(Err(e)) => {
                if e.reply {
                    let bytes = oxmcp_proto::jsonrpc::encode_error(e.id.as_ref(), &e.error);
                    self.conn.send(None, bytes).await;
                }
                return;
            }
            // A modern notification needs nothing (cancellations carry no _meta version).
            _ => return,
        };
        let server = self.conn.server();
        let setup = server.modern_setup();
        let meta_obj = meta::meta_of(req.params.as_deref());
        let checked = meta::validate(meta_obj.as_ref(), Carrier::Plain)
            .map_err(|r| r.error)
            .and_then(|m| {
                if meta::method_known(&req.method, &setup.capabilities) {
                    Ok(m)
                } else {
                    Err(ErrorObject::method_not_found(&req.method))
                }
            });
        let m = match checked {
            Ok(m) => m,
            Err(e) => {
                let bytes = oxmcp_proto::jsonrpc::encode_error(Some(&req.id), &e);
                self.conn.send(None, bytes).await;
                return;
            }
        };
        if self.modern.contains_key(&req.id) {
            let e = ErrorObject::invalid_request(format!(
                "request id {} is already in use by a request in flight",
                req.id
            ));
            let bytes = oxmcp_proto::jsonrpc::encode_error(Some(&req.id), &e);
            self.conn.send(None, bytes).await;
            return;
        }
        let Outlet::Lines(tx) = &self.conn.out else {
            return;
        };
        let mut session = Session::new(setup, server.session_limits());
        session.assume_modern(m);
        let conn = Arc::new(
            Connection::new(server, session, Outlet::Lines(tx.clone()))
                .with_rate(self.conn.rate.clone()),
        );
        let mut actions = Vec::new();
        conn.session.lock().handle_frame(now(), line, &mut actions);
        for a in actions {
            match a {
                Action::Dispatch(d) => {
                    let id = d.id.clone();
                    let listen = d.method == "subscriptions/listen";
                    self.modern.insert(id.clone(), listen);
                    self.start(run_modern(conn.clone(), d), id.clone()).await;
                    if !self.aborts.contains_key(&id) {
                        // Done at once.
                        self.modern.remove(&id);
                    }
                }
                Action::Send(bytes) | Action::Respond { bytes, .. } => {
                    self.conn.send(None, bytes).await;
                }
                _ => {}
            }
        }
    }

    /// A `notifications/cancelled` for a 2026-07-28 request: aborts it. True if it was one.
    fn cancel_modern(&mut self, line: &[u8]) -> bool {
        #[derive(serde::Deserialize)]
        struct Cancel {
            method: String,
            #[serde(default)]
            params: Option<CancelParams>,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct CancelParams {
            request_id: RequestId,
        }
        let Ok(c) = serde_json::from_slice::<Cancel>(line) else {
            return false;
        };
        let Some(p) = c.params.filter(|_| c.method == "notifications/cancelled") else {
            return false;
        };
        if self.modern.remove(&p.request_id).is_none() {
            return false;
        }
        if let Some(handle) = self.aborts.remove(&p.request_id) {
            handle.abort();
        }
        true
    }

    /// Aborts every 2026-07-28 listen stream (the input ended).
    fn end_listens(&mut self) {
        let listens: Vec<RequestId> = self
            .modern
            .iter()
            .filter(|(_, listen)| **listen)
            .map(|(id, _)| id.clone())
            .collect();
        for id in listens {
            self.modern.remove(&id);
            if let Some(handle) = self.aborts.remove(&id) {
                handle.abort();
            }
        }
    }

    async fn spawn(&mut self, d: Dispatch) {
        let id = d.id.clone();
        self.start(run_request(self.conn.clone(), d), id).await;
    }

    /// Runs `handler` for request `id`, in place first ([`crate::inline::poll_once`]); one
    /// that waits moves to a task of its own, abortable by the id.
    async fn start(&mut self, handler: impl Future<Output = ()> + Send + 'static, id: RequestId) {
        use futures::FutureExt;
        let handler = Box::pin(std::panic::AssertUnwindSafe(handler).catch_unwind());
        let handler = match crate::inline::poll_once(handler).await {
            Ok(r) => {
                if r.is_err() {
                    tracing::error!("a request handler panicked");
                }
                return;
            }
            Err(waiting) => waiting,
        };
        let ended = id.clone();
        let handle = self
            .handlers
            .spawn(handler.map(move |r| (ended, r.is_err())));
        self.conn.count_handler(true);
        self.aborts.insert(id, handle);
    }

    /// A handler task ended: forgets its request, unless a newer one reuses the id.
    fn reap(&mut self, joined: Result<(tokio::task::Id, Handled), tokio::task::JoinError>) {
        self.conn.count_handler(false);
        // Aborted tasks were forgotten when they were aborted.
        let Ok((task, (id, panicked))) = joined else {
            return;
        };
        if self.aborts.get(&id).is_some_and(|h| h.id() == task) {
            self.aborts.remove(&id);
            self.modern.remove(&id);
        }
        if panicked {
            tracing::error!("a request handler panicked");
        }
    }

    async fn change(&mut self, change: Result<Change, broadcast::error::RecvError>) {
        let messages = change_messages(&self.conn.session.lock(), &change);
        for m in messages {
            self.conn.send(None, m).await;
        }
    }
}

/// Counts the requests a deadline of the core aborted (`limits.request_timeout`).
pub(crate) fn count_timeouts(conn: &Connection, actions: &[Action]) {
    let n = actions
        .iter()
        .filter(|a| matches!(a, Action::Abort(_)))
        .count();
    conn.server.metrics().reject_n(
        crate::observe::metrics::Reject::Timeout,
        u32::try_from(n).unwrap_or(u32::MAX),
    );
}

/// Runs one request's handler and reports its outcome to the session core.
async fn run_request(conn: Arc<Connection>, mut d: Dispatch) {
    let cancel = CancellationToken::new();
    let _cancel_on_drop = cancel.clone().drop_guard();
    let ctx = Context::new(
        conn.clone(),
        Some(d.id.clone()),
        d.progress_token.clone(),
        d.meta.take(),
        cancel,
    );
    let outcome = dispatch::route(&conn, ctx, &d.method, d.params).await;
    // A place in the outbound queue first, while the request still counts as in flight:
    // when the client does not read, finished answers wait within the in-flight limit
    // instead of piling up past it.
    let mut permit = conn.reserve().await;
    let mut actions = Vec::new();
    conn.session
        .lock()
        .complete(&d.id, outcome.as_deref(), &mut actions);
    for action in actions {
        if let Action::Send(bytes) | Action::Respond { bytes, .. } = action {
            match permit.take() {
                Some(p) => p.send(bytes),
                None => {
                    conn.send(Some(&d.id), bytes).await;
                }
            }
        }
    }
}

/// Runs one 2026-07-28 request on its throwaway session, firing its deadline.
async fn run_modern(conn: Arc<Connection>, d: Dispatch) {
    let run = run_request(conn.clone(), d);
    tokio::pin!(run);
    let mut alarm = Alarm::new();
    loop {
        let deadline = conn.deadline();
        tokio::select! {
            // The handler first: one that is done needs no timer.
            biased;
            () = &mut run => return,
            () = alarm.at(deadline) => {
                let mut actions = Vec::new();
                conn.session.lock().handle_timeout(now(), &mut actions);
                count_timeouts(&conn, &actions);
                let mut aborted = false;
                for a in actions {
                    match a {
                        Action::Send(bytes) | Action::Respond { bytes, .. } => {
                            conn.send(None, bytes).await;
                        }
                        Action::Abort(_) => aborted = true,
                        _ => {}
                    }
                }
                if aborted {
                    return;
                }
            }
        }
    }
}

/// How long to wait for handlers after the input ends, by default.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
