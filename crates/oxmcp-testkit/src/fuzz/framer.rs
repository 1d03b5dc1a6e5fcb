//! The stdio/TCP line framer.

use bytes::Bytes;
use oxmcp_proto::framing::{Frame, LineFramer};

/// Feeds a byte stream to a [`LineFramer`] and checks its frames.
///
/// Input: one byte for the line limit (0..=255), one byte that seeds the chunking (0: one
/// push), then the stream. The frames must be those of a plain split of the stream at
/// `\n` (a line over the limit as [`Frame::Oversize`] with its length, a trailing `\r`
/// dropped, blank lines skipped, an unterminated last line counted at the end), whatever
/// the chunking; no line is empty or over the limit; the framer never holds more than the
/// limit.
pub fn line_framer(data: &[u8]) {
    let [limit, seed, stream @ ..] = data else {
        return;
    };
    let max_line = usize::from(*limit);
    let expected = split(stream, max_line);
    let chunked = run(stream, max_line, *seed);
    assert_eq!(
        chunked, expected,
        "chunked (seed {seed}) frames differ from a plain split, limit {max_line}"
    );
    if *seed != 0 {
        assert_eq!(
            run(stream, max_line, 0),
            expected,
            "one push, limit {max_line}"
        );
    }
    for f in &chunked {
        if let Frame::Line(l) = f {
            assert!(!l.is_empty(), "an empty line frame");
            assert!(
                l.len() <= max_line,
                "a line of {} over the limit {max_line}",
                l.len()
            );
            assert!(!l.contains(&b'\n'), "a line frame holds a newline");
        }
    }
}

/// The framer, pushed chunks whose sizes come from `seed` (0: the whole stream at once).
fn run(stream: &[u8], max_line: usize, seed: u8) -> Vec<Frame> {
    let mut f = LineFramer::new(max_line);
    assert_eq!(f.max_line(), max_line);
    let mut frames = Vec::new();
    let mut rest = stream;
    let mut state = u32::from(seed);
    while !rest.is_empty() {
        let n = if seed == 0 {
            rest.len()
        } else {
            // A small LCG: chunk sizes of 1..=32 bytes, now and then a larger one.
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let r = (state >> 16) as usize;
            if r.is_multiple_of(8) {
                1 + r % 300
            } else {
                1 + r % 32
            }
        };
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        f.push(chunk);
        assert!(
            f.buffered() <= max_line,
            "the framer holds {} bytes, over the limit {max_line}",
            f.buffered()
        );
        frames.extend(std::iter::from_fn(|| f.next_frame()));
        rest = tail;
    }
    frames.extend(f.finish());
    frames.extend(std::iter::from_fn(|| f.next_frame()));
    assert_eq!(f.finish(), None, "a second finish finds nothing");
    frames
}

/// The frames of a plain split: what the framer must find.
fn split(stream: &[u8], max_line: usize) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut lines: Vec<&[u8]> = stream.split(|b| *b == b'\n').collect();
    // The part after the last newline: unterminated, counted at the end when not empty.
    let last = lines.pop().filter(|l| !l.is_empty());
    for line in lines.into_iter().chain(last) {
        if line.len() > max_line {
            out.push(Frame::Oversize { len: line.len() });
            continue;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.iter().all(u8::is_ascii_whitespace) {
            out.push(Frame::Line(Bytes::copy_from_slice(line)));
        }
    }
    out
}
