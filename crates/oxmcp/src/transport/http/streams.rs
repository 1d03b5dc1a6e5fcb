//! A session's SSE streams: one per POST that produced related messages, plus the
//! general (GET) stream, each with a bounded replay buffer keyed by event id.
//!
//! Events live in the stream's buffer, not in a channel: the SSE body that reads a stream
//! keeps a cursor (the last sequence number it wrote) and takes what follows, so a reader
//! that drops and comes back with `Last-Event-ID` gets exactly the events it missed, once,
//! in order. While a reader is attached the buffer does not overwrite what it has not read
//! (writers wait: backpressure); with no reader, the oldest events go first.
//!
//! Stream ids come from one process-wide counter, so an event id names one stream of one
//! session: an id from another session or stream replays nothing here.

use std::collections::VecDeque;

use crate::connection::FastMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context as TaskCx, Poll, Waker};

use bytes::Bytes;
use futures::future::BoxFuture;
use oxmcp_proto::RequestId;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::connection::Route;

static NEXT_STREAM: AtomicU64 = AtomicU64::new(1);

/// The bounds of a session's streams.
#[derive(Debug)]
pub(super) struct StreamLimits {
    /// Events kept per stream for replay.
    pub(super) replay: usize,
    /// Finished streams whose end no reader saw, kept for resumption.
    pub(super) keep_done: usize,
    /// Related messages go to the general stream (JSON-only replies).
    pub(super) json_only: bool,
    /// How long a writer waits for a reader a full buffer behind before cutting it off.
    pub(super) slow_reader: std::time::Duration,
    /// Counts slow readers cut off.
    pub(super) metrics: crate::observe::Metrics,
}

/// One message on a stream.
#[derive(Debug, Clone)]
pub(super) struct Event {
    /// Position in the stream (from 1; 0 is the priming event).
    pub(super) seq: u64,
    /// The JSON-RPC message.
    pub(super) json: Bytes,
    /// The stream ends after this event (the final answer of its POST).
    pub(super) last: bool,
}

#[derive(Default)]
struct Stream {
    next_seq: u64,
    events: VecDeque<Event>,
    /// Requests whose answers are still due on this stream.
    pending: usize,
    ended: bool,
    /// A reader is attached, and the last sequence number it took.
    reader: Option<u64>,
    /// The last sequence number any reader took.
    taken: u64,
    waker: Option<Waker>,
    /// Set to end the reader's connection while the stream goes on (SEP-1699 polling).
    close_reader: bool,
    /// The stream of a JSON-RPC batch: one answer (an array) ends it.
    batch: bool,
    /// Closes the attached reader's connection (a reader that stopped reading is cut off).
    disconnect: Option<CancellationToken>,
}

impl Stream {
    fn new() -> Self {
        Stream {
            next_seq: 1,
            ..Default::default()
        }
    }

    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// Whether everything up to the end has been taken by a reader.
    fn drained(&self) -> bool {
        self.ended
            && self
                .reader
                .is_some_and(|r| self.events.back().is_none_or(|e| e.seq <= r))
    }
}

#[derive(Default)]
struct Table {
    streams: FastMap<u64, Stream>,
    by_request: FastMap<RequestId, u64>,
    general: Option<u64>,
    /// Ended streams kept for a reader to resume, oldest first.
    done: VecDeque<u64>,
    closed: bool,
}

/// What a reader gets from [`Streams::poll_read`].
pub(super) enum Read {
    /// Events after the cursor.
    Events(Vec<Event>),
    /// The stream ended and the reader has everything.
    End,
    /// The server closes this connection; the stream goes on (resume with `Last-Event-ID`).
    Closed,
}

/// What a POST waits for before it answers.
pub(super) enum First {
    /// The first message (the final answer when `last`).
    Event(Event),
    /// The handler asked to close the connection before sending anything: answer SSE
    /// (priming event, then the close).
    Sse,
    /// The stream ended without a message (the request was cancelled).
    End,
}

/// A session's streams.
pub(super) struct Streams {
    table: Mutex<Table>,
    /// Writers waiting for a slow reader to make room.
    room: Arc<Notify>,
    /// The service's limits, shared by every session.
    limits: Arc<StreamLimits>,
}

impl Streams {
    pub(super) fn new(limits: Arc<StreamLimits>) -> Self {
        Streams {
            table: Mutex::new(Table::default()),
            room: Arc::new(Notify::new()),
            limits,
        }
    }

    /// Opens a stream for a POST; its requests are bound with [`Streams::bind`]. `batch`:
    /// the POST carries a JSON-RPC batch, answered by one array.
    pub(super) fn open(&self, batch: bool) -> u64 {
        let id = NEXT_STREAM.fetch_add(1, Ordering::Relaxed);
        let mut s = Stream::new();
        s.batch = batch;
        self.table.lock().streams.insert(id, s);
        id
    }

    /// Routes the messages of request `req` to `stream` until it is answered.
    pub(super) fn bind(&self, stream: u64, req: RequestId) {
        let mut t = self.table.lock();
        if let Some(s) = t.streams.get_mut(&stream) {
            s.pending += 1;
            t.by_request.insert(req, stream);
        }
    }

    /// Opens the general stream for a GET: its id and the cursor to read from. `Err` if a
    /// reader is already attached to it.
    pub(super) fn open_general(
        &self,
        disconnect: Option<CancellationToken>,
    ) -> Result<(u64, u64), ()> {
        let mut t = self.table.lock();
        if let Some(id) = t.general
            && let Some(s) = t.streams.get_mut(&id)
        {
            if s.reader.is_some() {
                return Err(());
            }
            // A fresh GET (no Last-Event-ID) gets what no reader has taken yet.
            s.reader = Some(s.taken);
            s.disconnect = disconnect;
            return Ok((id, s.taken));
        }
        let id = NEXT_STREAM.fetch_add(1, Ordering::Relaxed);
        let mut s = Stream::new();
        s.reader = Some(0);
        s.disconnect = disconnect;
        t.streams.insert(id, s);
        t.general = Some(id);
        Ok((id, 0))
    }

    /// Attaches a reader to `stream` from `after` (a `Last-Event-ID`). `None` if this
    /// session has no such stream; `Some(Err)` if a reader is attached already.
    pub(super) fn resume(
        &self,
        stream: u64,
        after: u64,
        disconnect: Option<CancellationToken>,
    ) -> Option<Result<(), ()>> {
        let mut t = self.table.lock();
        let s = t.streams.get_mut(&stream)?;
        if s.reader.is_some() {
            return Some(Err(()));
        }
        s.reader = Some(after);
        s.close_reader = false;
        s.disconnect = disconnect;
        Some(Ok(()))
    }

    /// Marks a reader attached from the start (a POST that answers with SSE).
    pub(super) fn attach(&self, stream: u64, disconnect: Option<CancellationToken>) {
        if let Some(s) = self.table.lock().streams.get_mut(&stream) {
            s.reader = Some(0);
            s.disconnect = disconnect;
        }
    }

    /// Takes the events after `cursor`, or registers the reader's waker.
    pub(super) fn poll_read(&self, stream: u64, cursor: u64, cx: &mut TaskCx<'_>) -> Poll<Read> {
        let mut t = self.table.lock();
        let closed = t.closed;
        let Some(s) = t.streams.get_mut(&stream) else {
            return Poll::Ready(Read::End);
        };
        let events: Vec<Event> = s
            .events
            .iter()
            .filter(|e| e.seq > cursor)
            .cloned()
            .collect();
        if let Some(last) = events.last() {
            s.reader = Some(last.seq);
            s.taken = s.taken.max(last.seq);
            self.room.notify_waiters();
            return Poll::Ready(Read::Events(events));
        }
        if s.ended || closed {
            return Poll::Ready(Read::End);
        }
        if s.close_reader {
            s.close_reader = false;
            return Poll::Ready(Read::Closed);
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Waits for the first event of a POST's stream without taking it, to choose between a
    /// JSON and an SSE reply.
    pub(super) fn poll_first(&self, stream: u64, cx: &mut TaskCx<'_>) -> Poll<First> {
        let mut t = self.table.lock();
        let closed = t.closed;
        let Some(s) = t.streams.get_mut(&stream) else {
            return Poll::Ready(First::End);
        };
        if let Some(e) = s.events.front() {
            return Poll::Ready(First::Event(e.clone()));
        }
        if s.ended || closed {
            return Poll::Ready(First::End);
        }
        if s.close_reader {
            return Poll::Ready(First::Sse);
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// The reader of `stream` went away (its connection closed or it read the end).
    pub(super) fn detach(&self, stream: u64) {
        let mut t = self.table.lock();
        let Some(s) = t.streams.get_mut(&stream) else {
            return;
        };
        let drained = s.drained();
        s.reader = None;
        s.waker = None;
        s.disconnect = None;
        if drained {
            t.streams.remove(&stream);
            t.done.retain(|d| *d != stream);
        }
        drop(t);
        self.room.notify_waiters();
    }

    /// Removes a stream whose only event was given as a JSON reply.
    pub(super) fn forget(&self, stream: u64) {
        let mut t = self.table.lock();
        t.streams.remove(&stream);
        t.done.retain(|d| *d != stream);
    }

    /// Ends the reader's connection of request `req`'s stream while the request goes on
    /// (SEP-1699): the client resumes with `Last-Event-ID`. A POST still deciding how to
    /// answer answers SSE and closes after the priming event. False if there is no stream.
    pub(super) fn close_reader(&self, req: &RequestId) -> bool {
        let mut t = self.table.lock();
        let Some(id) = t.by_request.get(req).copied() else {
            return false;
        };
        match t.streams.get_mut(&id) {
            Some(s) if !s.ended => {
                s.close_reader = true;
                s.wake();
                true
            }
            _ => false,
        }
    }

    /// The final answer of request `req`: the last event of its stream once every request
    /// bound to it is answered.
    pub(super) fn respond(&self, req: &RequestId, json: Vec<u8>) {
        let mut t = self.table.lock();
        let target = t.by_request.remove(req).or(t.general);
        let Some(id) = target else { return };
        let general = Some(id) == t.general;
        let mut batch = false;
        let finished = match t.streams.get_mut(&id) {
            Some(s) => {
                if !general {
                    s.pending = s.pending.saturating_sub(1);
                }
                // A batch's one answer settles every member.
                batch = s.batch;
                if batch {
                    s.pending = 0;
                }
                let last = !general && s.pending == 0;
                push(s, json.into(), last, self.limits.replay);
                if last {
                    s.ended = true;
                }
                last && s.reader.is_none()
            }
            None => false,
        };
        if batch {
            t.by_request.retain(|_, stream| *stream != id);
        }
        if finished {
            keep_done(&mut t, id, self.limits.keep_done);
        }
    }

    /// Request `req` will not be answered (cancelled): its stream ends without an answer.
    pub(super) fn abandon(&self, req: &RequestId) {
        let mut t = self.table.lock();
        let Some(id) = t.by_request.remove(req) else {
            return;
        };
        let mut unread = false;
        if let Some(s) = t.streams.get_mut(&id) {
            s.pending = s.pending.saturating_sub(1);
            if s.pending == 0 {
                s.ended = true;
                s.wake();
                unread = s.reader.is_none();
            }
        }
        if unread {
            keep_done(&mut t, id, self.limits.keep_done);
        }
    }

    /// Ends every stream (the session is closing).
    pub(super) fn close(&self) {
        let mut t = self.table.lock();
        t.closed = true;
        for s in t.streams.values_mut() {
            s.ended = true;
            s.wake();
        }
        t.streams.clear();
        t.by_request.clear();
        t.done.clear();
        t.general = None;
        drop(t);
        self.room.notify_waiters();
    }

    /// Streams with a reader attached.
    pub(super) fn readers(&self) -> usize {
        self.table
            .lock()
            .streams
            .values()
            .filter(|s| s.reader.is_some())
            .count()
    }

    /// Streams held (live, awaiting answers, or kept for resumption).
    pub(super) fn len(&self) -> usize {
        self.table.lock().streams.len()
    }

    /// Appends a related (non-final) message, waiting while an attached reader lags a
    /// full buffer behind.
    async fn write(&self, related: Option<&RequestId>, json: Bytes) -> bool {
        // Waiting past this, the reader is cut off: its connection closes, and the stream
        // goes on in the replay buffer for a `Last-Event-ID` resumption.
        let mut give_up: Option<tokio::time::Instant> = None;
        loop {
            let room = self.room.clone();
            let notified = room.notified();
            tokio::pin!(notified);
            {
                let mut t = self.table.lock();
                if t.closed {
                    return false;
                }
                let target = self.target(&mut t, related);
                let Some(id) = target else { return false };
                let Some(s) = t.streams.get_mut(&id) else {
                    return false;
                };
                let full = s
                    .reader
                    .is_some_and(|r| s.next_seq.saturating_sub(r + 1) >= self.limits.replay as u64);
                let now = tokio::time::Instant::now();
                let deadline = *give_up.get_or_insert(now + self.limits.slow_reader);
                if full && now >= deadline {
                    s.reader = None;
                    s.waker = None;
                    s.close_reader = true;
                    if let Some(cut) = s.disconnect.take() {
                        cut.cancel();
                    }
                    self.limits
                        .metrics
                        .reject(crate::observe::metrics::Reject::SlowReader);
                    tracing::info!("cut off a client that stopped reading its stream");
                    push(s, json, false, self.limits.replay);
                    return true;
                }
                if !full {
                    push(s, json, false, self.limits.replay);
                    return true;
                }
                notified.as_mut().enable();
            }
            let _ = tokio::time::timeout_at(
                give_up.unwrap_or_else(tokio::time::Instant::now),
                notified,
            )
            .await;
        }
    }

    /// The stream for a message related to `related`. With JSON-only replies, messages of
    /// a request in flight go to the general stream, opened for them if the client has
    /// not opened it yet (its GET then receives them).
    fn target(&self, t: &mut Table, related: Option<&RequestId>) -> Option<u64> {
        if self.limits.json_only {
            if t.general.is_none() && related.is_some_and(|r| t.by_request.contains_key(r)) {
                let id = NEXT_STREAM.fetch_add(1, Ordering::Relaxed);
                t.streams.insert(id, Stream::new());
                t.general = Some(id);
            }
            return t.general;
        }
        related
            .and_then(|r| t.by_request.get(r).copied())
            .or(t.general)
    }

    fn write_now(&self, related: Option<&RequestId>, json: Bytes) {
        let mut t = self.table.lock();
        if t.closed {
            return;
        }
        if let Some(id) = self.target(&mut t, related)
            && let Some(s) = t.streams.get_mut(&id)
        {
            push(s, json, false, self.limits.replay);
        }
    }
}

fn push(s: &mut Stream, json: Bytes, last: bool, cap: usize) {
    let seq = s.next_seq;
    s.next_seq += 1;
    s.events.push_back(Event { seq, json, last });
    while s.events.len() > cap.max(1) {
        s.events.pop_front();
    }
    s.wake();
}

fn keep_done(t: &mut Table, id: u64, cap: usize) {
    t.done.push_back(id);
    while t.done.len() > cap {
        if let Some(old) = t.done.pop_front() {
            t.streams.remove(&old);
        }
    }
}

impl Route for Streams {
    fn send<'a>(&'a self, related: Option<&'a RequestId>, bytes: Vec<u8>) -> BoxFuture<'a, bool> {
        Box::pin(self.write(related, bytes.into()))
    }

    fn send_later(&self, related: Option<&RequestId>, bytes: Vec<u8>) {
        self.write_now(related, bytes.into());
    }

    fn close_stream(&self, related: &RequestId) -> bool {
        self.close_reader(related)
    }
}

/// The SSE id of event `seq` of `stream`.
pub(super) fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}-{seq}")
}

/// Reads a `Last-Event-ID` written by [`event_id`].
pub(super) fn parse_event_id(text: &str) -> Option<(u64, u64)> {
    let (stream, seq) = text.trim().split_once('-')?;
    Some((stream.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Arc<StreamLimits> {
        Arc::new(StreamLimits {
            replay: 4,
            keep_done: 2,
            json_only: false,
            slow_reader: std::time::Duration::from_secs(30),
            metrics: crate::observe::Metrics::new(),
        })
    }

    fn read_all(s: &Streams, stream: u64, cursor: u64) -> Vec<u64> {
        let waker = futures::task::noop_waker();
        let mut cx = TaskCx::from_waker(&waker);
        match s.poll_read(stream, cursor, &mut cx) {
            Poll::Ready(Read::Events(e)) => e.iter().map(|e| e.seq).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn resume_replays_exactly_the_missed_events() {
        let s = Streams::new(limits());
        let id = s.open(false);
        let req = RequestId::Number(1);
        s.bind(id, req.clone());
        s.send_later(Some(&req), b"{}".to_vec());
        s.send_later(Some(&req), b"{}".to_vec());
        s.respond(&req, b"{}".to_vec());
        assert_eq!(read_all(&s, id, 1), vec![2, 3]);
        assert_eq!(read_all(&s, id + 1000, 0), Vec::<u64>::new());
        assert_eq!(parse_event_id(&event_id(id, 2)), Some((id, 2)));
    }

    #[test]
    fn unread_finished_streams_are_bounded() {
        let s = Streams::new(limits());
        for n in 0..5 {
            let id = s.open(false);
            let req = RequestId::Number(n);
            s.bind(id, req.clone());
            s.respond(&req, b"{}".to_vec());
        }
        assert_eq!(s.len(), 2);
    }
}
