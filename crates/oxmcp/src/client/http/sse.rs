//! A bounded Server-Sent Events parser (the WHATWG "event stream interpretation"), without
//! I/O: push the bytes of a response body, pop events.
//!
//! Written here rather than taken from a crate because the client must bound what one event
//! may hold (a server streaming an endless line must not grow memory) and must keep the last
//! event id and `retry` across reconnections of one logical stream; the crates we looked at
//! do neither.

use std::collections::VecDeque;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The event type (`message` when the server named none).
    pub(crate) event: String,
    /// The data lines joined with `\n`.
    pub(crate) data: String,
}

/// Why a stream cannot be read further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Oversize {
    /// The limit that was crossed, in bytes.
    pub(crate) limit: usize,
}

/// Parses one logical event stream; [`SseParser::reconnected`] starts a new connection of it
/// (the last event id and the retry time survive, half-read events do not).
#[derive(Debug)]
pub(crate) struct SseParser {
    max_event: usize,
    line: Vec<u8>,
    /// A `\r` ended the previous chunk: a `\n` starting the next one belongs to it.
    after_cr: bool,
    /// The connection has not yet passed its first bytes (a BOM is skipped there).
    at_start: bool,
    data: String,
    has_data: bool,
    event: String,
    id_buffer: Option<String>,
    last_event_id: Option<String>,
    retry_ms: Option<u64>,
    events: VecDeque<SseEvent>,
    dispatched: usize,
    failed: bool,
}

impl SseParser {
    /// A parser whose line and event data may each hold at most `max_event` bytes.
    pub(crate) fn new(max_event: usize) -> Self {
        SseParser {
            max_event,
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            data: String::new(),
            has_data: false,
            event: String::new(),
            id_buffer: None,
            last_event_id: None,
            retry_ms: None,
            events: VecDeque::new(),
            dispatched: 0,
            failed: false,
        }
    }

    /// A new connection of the same stream begins: drops what a broken connection left
    /// half-read; keeps the last event id and the reconnection time.
    pub(crate) fn reconnected(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.at_start = true;
        self.data.clear();
        self.has_data = false;
        self.event.clear();
        self.id_buffer = self.last_event_id.clone();
        self.events.clear();
        self.dispatched = 0;
        self.failed = false;
    }

    /// The id of the last dispatched event, to send as `Last-Event-ID`.
    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref().filter(|id| !id.is_empty())
    }

    /// The last `retry` the server sent, in milliseconds.
    pub(crate) fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Events dispatched on this connection (empty ones included, e.g. a priming event).
    pub(crate) fn dispatched(&self) -> usize {
        self.dispatched
    }

    /// Feeds bytes of the body. After an error the parser takes nothing more.
    pub(crate) fn push(&mut self, mut bytes: &[u8]) -> Result<(), Oversize> {
        if self.failed {
            return Err(Oversize {
                limit: self.max_event,
            });
        }
        if self.at_start && !bytes.is_empty() {
            // A UTF-8 BOM may open the stream; it may also arrive split across chunks,
            // which a server never does in practice: only a whole one is skipped.
            if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
                bytes = rest;
            }
            self.at_start = false;
        }
        for &b in bytes {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line);
                    self.line = line;
                    self.line.clear();
                }
                _ => {
                    self.after_cr = false;
                    if self.line.len() >= self.max_event {
                        self.failed = true;
                        return Err(Oversize {
                            limit: self.max_event,
                        });
                    }
                    self.line.push(b);
                }
            }
            if self.data.len() > self.max_event {
                self.failed = true;
                return Err(Oversize {
                    limit: self.max_event,
                });
            }
        }
        Ok(())
    }

    /// The next complete event, if any.
    pub(crate) fn next_event(&mut self) -> Option<SseEvent> {
        self.events.pop_front()
    }

    fn line_done(&mut self, line: &[u8]) {
        if line.is_empty() {
            self.dispatch();
            return;
        }
        if line[0] == b':' {
            return; // a comment (keep-alive)
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = value.into_owned(),
            b"id" if !value.contains('\0') => self.id_buffer = Some(value.into_owned()),
            // Digits only; absurdly long values saturate.
            b"retry" if !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit()) => {
                self.retry_ms = Some(value.parse().unwrap_or(u64::MAX));
            }
            _ => {}
        }
    }

    fn dispatch(&mut self) {
        self.last_event_id = self.id_buffer.clone();
        let event = std::mem::take(&mut self.event);
        if !self.has_data {
            return;
        }
        self.has_data = false;
        self.dispatched += 1;
        let data = std::mem::take(&mut self.data);
        self.events.push_back(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn all(p: &mut SseParser) -> Vec<SseEvent> {
        std::iter::from_fn(|| p.next_event()).collect()
    }

    #[test]
    fn parses_fields_ids_and_retry_across_chunks() {
        let mut p = SseParser::new(1024);
        let body = "\u{feff}: keep-alive\r\nid: 1\r\nretry: 500\r\ndata: \r\n\r\nevent: message\nid: 2\ndata: {\"a\":\ndata: 1}\n\nid: 3\ndata:x\r\r";
        for chunk in body.as_bytes().chunks(3) {
            p.push(chunk).unwrap();
        }
        let events = all(&mut p);
        assert_eq!(
            events.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
            ["", "{\"a\":\n1}", "x"]
        );
        assert_eq!(events[1].event, "message");
        assert_eq!(p.last_event_id(), Some("3"));
        assert_eq!(p.retry_ms(), Some(500));
        assert_eq!(p.dispatched(), 3);
    }

    #[test]
    fn an_unfinished_event_is_dropped_on_reconnect_but_the_cursor_stays() {
        let mut p = SseParser::new(1024);
        p.push(b"id: a\nretry: 20\ndata: 1\n\nid: b\ndata: half")
            .unwrap();
        assert_eq!(all(&mut p).len(), 1);
        p.reconnected();
        assert_eq!(p.last_event_id(), Some("a"));
        p.push(b"data: 2\n\n").unwrap();
        assert_eq!(all(&mut p)[0].data, "2");
        assert_eq!(p.retry_ms(), Some(20));
        // An empty id resets the cursor; an id with NUL is ignored; bad retry is ignored.
        p.push(b"id\nretry: 1x\ndata: 3\n\n").unwrap();
        assert_eq!(p.last_event_id(), None);
        assert_eq!(p.retry_ms(), Some(20));
    }

    #[test]
    fn lines_and_events_are_bounded() {
        let mut p = SseParser::new(8);
        assert!(p.push(b"data: 0123456789").is_err());
        assert!(p.push(b"\n\n").is_err());
        let mut p = SseParser::new(8);
        let r = p.push(b"data: 1234\ndata: 1234\ndata: 1234\n");
        assert_eq!(r, Err(Oversize { limit: 8 }));
    }
}
