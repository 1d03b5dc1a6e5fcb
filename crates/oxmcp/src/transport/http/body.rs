//! Response bodies: a JSON text, nothing, or an SSE stream read from a session's stream
//! table (with an optional priming event, keep-alive comments and an end on shutdown).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskCx, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures::FutureExt;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

use super::streams::{Read, Streams, event_id};

/// The body of every response the HTTP transport writes.
pub type HttpBody = UnsyncBoxBody<Bytes, Infallible>;

/// A complete body.
pub(super) fn full(bytes: impl Into<Bytes>) -> HttpBody {
    http_body_util::Full::new(bytes.into()).boxed_unsync()
}

/// An empty body.
pub(super) fn empty() -> HttpBody {
    http_body_util::Empty::new().boxed_unsync()
}

/// A future that ends a stream when it completes (shutdown).
pub(super) type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An SSE stream of one session stream, from a cursor on.
pub(super) struct SseBody {
    streams: Arc<Streams>,
    stream: u64,
    cursor: u64,
    prelude: Option<Bytes>,
    keep_alive: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
    shutdown: Signal,
    on_drop: Option<Box<dyn FnOnce() + Send>>,
    done: bool,
    /// Whether events carry `id:` lines (not under 2026-07-28, which has no resumption).
    ids: bool,
    /// Counts the bytes written (`oxmcp_http_response_bytes_total`).
    metrics: Option<crate::observe::Metrics>,
}

impl SseBody {
    /// Reads `stream` from after `cursor`. `priming`: the `retry` to announce in a priming
    /// event (sessions on 2025-11-25 or later only).
    pub(super) fn new(
        streams: Arc<Streams>,
        stream: u64,
        cursor: u64,
        priming: Option<Duration>,
        keep_alive: Option<Duration>,
        shutdown: Signal,
    ) -> Self {
        let prelude = priming.map(|retry| {
            Bytes::from(format!(
                "id: {}\nretry: {}\ndata: \n\n",
                event_id(stream, 0),
                retry.as_millis()
            ))
        });
        SseBody {
            streams,
            stream,
            cursor,
            prelude,
            keep_alive: keep_alive.map(|d| (d, Box::pin(tokio::time::sleep(d)))),
            shutdown,
            on_drop: None,
            done: false,
            ids: true,
            metrics: None,
        }
    }

    /// Counts the bytes this body writes in `metrics`.
    pub(super) fn counting(mut self, metrics: &crate::observe::Metrics) -> Self {
        self.metrics = Some(metrics.clone());
        self
    }

    /// Writes events without `id:` lines (2026-07-28 streams cannot be resumed).
    pub(super) fn without_ids(mut self) -> Self {
        self.ids = false;
        self
    }

    /// Runs `f` if the body is dropped before the stream ended (the client went away).
    pub(super) fn on_disconnect(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.on_drop = Some(Box::new(f));
        self
    }

    pub(super) fn boxed(self) -> HttpBody {
        BodyExt::boxed_unsync(self)
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let polled = self.as_mut().poll_data(cx);
        if let (Poll::Ready(Some(Ok(frame))), Some(m)) = (&polled, &self.metrics)
            && let Some(data) = frame.data_ref()
        {
            m.bytes_out(data.len());
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

impl SseBody {
    /// The next frame: the priming event, events, a keep-alive comment, or the end.
    fn poll_data(
        mut self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(p) = this.prelude.take() {
            return Poll::Ready(Some(Ok(Frame::data(p))));
        }
        match this.streams.poll_read(this.stream, this.cursor, cx) {
            Poll::Ready(Read::Events(events)) => {
                let mut buf = BytesMut::new();
                for e in &events {
                    if this.ids {
                        buf.put_slice(b"id: ");
                        buf.put_slice(event_id(this.stream, e.seq).as_bytes());
                        buf.put_slice(b"\n");
                    }
                    buf.put_slice(b"data: ");
                    buf.put_slice(&e.json);
                    buf.put_slice(b"\n\n");
                    this.cursor = e.seq;
                }
                if let Some((d, sleep)) = &mut this.keep_alive {
                    sleep.as_mut().reset(tokio::time::Instant::now() + *d);
                }
                return Poll::Ready(Some(Ok(Frame::data(buf.freeze()))));
            }
            Poll::Ready(Read::End) => {
                this.finish(true);
                return Poll::Ready(None);
            }
            Poll::Ready(Read::Closed) => {
                this.finish(false);
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.shutdown.poll_unpin(cx).is_ready() {
            this.finish(false);
            return Poll::Ready(None);
        }
        if let Some((d, sleep)) = &mut this.keep_alive
            && sleep.as_mut().poll(cx).is_ready()
        {
            sleep.as_mut().reset(tokio::time::Instant::now() + *d);
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                b": keep-alive\n\n",
            )))));
        }
        Poll::Pending
    }

    /// Detaches from the stream; `ended`: the stream ended (no disconnect to report).
    fn finish(&mut self, ended: bool) {
        self.done = true;
        self.streams.detach(self.stream);
        if ended {
            self.on_drop = None;
        }
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        if !self.done {
            self.streams.detach(self.stream);
        }
        if let Some(f) = self.on_drop.take() {
            f();
        }
    }
}
