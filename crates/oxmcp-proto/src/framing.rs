//! Newline-delimited framing for stdio (and later TCP), without I/O.
//!
//! Push the bytes you read; pop frames. A line longer than the limit is never buffered
//! whole: once it crosses the limit the framer drops what it holds and discards the rest of
//! the line as it arrives, then reports [`Frame::Oversize`] with the line's length. So the
//! framer holds at most `max_line` bytes, whatever the peer sends.

use std::collections::VecDeque;

use bytes::Bytes;

/// The default maximum line length: 4 MiB.
pub const DEFAULT_MAX_LINE: usize = 4 * 1024 * 1024;

/// What the framer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete line, without its `\n` (and without a trailing `\r`). Never empty.
    Line(Bytes),
    /// A line longer than the limit was skipped; `len` is its length in bytes.
    Oversize {
        /// The skipped line's length.
        len: usize,
    },
}

/// Splits a byte stream into lines of at most `max_line` bytes.
#[derive(Debug)]
pub struct LineFramer {
    max_line: usize,
    partial: Vec<u8>,
    discarding: Option<usize>,
    frames: VecDeque<Frame>,
}

impl LineFramer {
    /// A framer with a line limit (bytes, without the newline).
    pub fn new(max_line: usize) -> Self {
        LineFramer {
            max_line,
            partial: Vec::new(),
            discarding: None,
            frames: VecDeque::new(),
        }
    }

    /// The line limit.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Feeds bytes read from the peer.
    pub fn push(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let newline = memchr::memchr(b'\n', data);
            let (part, rest) = match newline {
                Some(i) => (&data[..i], &data[i + 1..]),
                None => (data, &data[data.len()..]),
            };
            if let Some(skipped) = self.discarding.as_mut() {
                *skipped += part.len();
            } else if self.partial.len() + part.len() > self.max_line {
                self.discarding = Some(self.partial.len() + part.len());
                // Give the memory back: an attacker's line must not pin a buffer.
                self.partial = Vec::new();
            } else if newline.is_some() && self.partial.is_empty() {
                self.emit_line(Bytes::copy_from_slice(part));
            } else {
                self.reserve(part.len());
                self.partial.extend_from_slice(part);
            }
            if newline.is_some() {
                if let Some(len) = self.discarding.take() {
                    self.frames.push_back(Frame::Oversize { len });
                } else if !self.partial.is_empty() {
                    let line = Bytes::from(std::mem::take(&mut self.partial));
                    self.emit_line(line);
                }
            }
            data = rest;
        }
    }

    /// Grows the partial line's buffer geometrically, but never past the limit.
    fn reserve(&mut self, additional: usize) {
        let needed = self.partial.len() + additional;
        if needed > self.partial.capacity() {
            let target = needed
                .max(self.partial.capacity() * 2)
                .max(256)
                .min(self.max_line);
            self.partial.reserve_exact(target - self.partial.len());
        }
    }

    fn emit_line(&mut self, mut line: Bytes) {
        if line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        if !line.iter().all(|b| b.is_ascii_whitespace()) {
            self.frames.push_back(Frame::Line(line));
        }
    }

    /// The next complete frame, if any.
    pub fn next_frame(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }

    /// At end of input: an unterminated last line counts as a line (or as oversize).
    pub fn finish(&mut self) -> Option<Frame> {
        if let Some(len) = self.discarding.take() {
            self.frames.push_back(Frame::Oversize { len });
        } else if !self.partial.is_empty() {
            let line = Bytes::from(std::mem::take(&mut self.partial));
            self.emit_line(line);
        }
        self.frames.pop_front()
    }

    /// Bytes held for an incomplete line (for bounds tests and metrics).
    pub fn buffered(&self) -> usize {
        self.partial.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(f: &mut LineFramer) -> Vec<Frame> {
        std::iter::from_fn(|| f.next_frame()).collect()
    }

    #[test]
    fn splits_lines_across_pushes() {
        let mut f = LineFramer::new(16);
        f.push(b"ab");
        f.push(b"c\r\nde\n\n  \nf");
        assert_eq!(
            frames(&mut f),
            vec![Frame::Line("abc".into()), Frame::Line("de".into())]
        );
        assert_eq!(f.finish(), Some(Frame::Line("f".into())));
    }

    #[test]
    fn skips_oversize_lines_without_holding_them() {
        let mut f = LineFramer::new(8);
        f.push(b"ok\n0123");
        f.push(b"456789");
        assert_eq!(f.buffered(), 0, "the oversize line is not buffered");
        f.push(&[b'x'; 1000]);
        f.push(b"\nnext\n");
        assert_eq!(
            frames(&mut f),
            vec![
                Frame::Line("ok".into()),
                Frame::Oversize { len: 1010 },
                Frame::Line("next".into())
            ]
        );
        f.push(b"12345678\n123456789\n");
        assert_eq!(
            frames(&mut f),
            vec![Frame::Line("12345678".into()), Frame::Oversize { len: 9 }]
        );
    }

    #[test]
    fn never_buffers_more_than_the_limit() {
        let mut f = LineFramer::new(1000);
        for _ in 0..999 {
            f.push(b"a");
            assert!(f.buffered() <= 1000);
        }
        f.push(b"\n");
        assert_eq!(frames(&mut f).len(), 1);
    }
}
