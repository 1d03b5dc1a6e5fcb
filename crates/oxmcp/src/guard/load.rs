//! Requests in flight, all sessions together: the bound behind load shedding.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The server's count of requests being handled, against its limit.
#[derive(Debug)]
pub(crate) struct Load {
    count: Arc<AtomicUsize>,
    max: usize,
}

/// One request's place in the count; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Load {
    pub(crate) fn new(max: usize) -> Self {
        Load {
            count: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// A place for one more request, or `None` when `max` are running.
    pub(crate) fn try_enter(&self) -> Option<Slot> {
        let mut n = self.count.load(Ordering::Acquire);
        loop {
            if n >= self.max {
                return None;
            }
            match self
                .count
                .compare_exchange_weak(n, n + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(Slot(self.count.clone())),
                Err(now) => n = now,
            }
        }
    }

    /// Whether the count is at its limit (a cheap check before work is started).
    pub(crate) fn is_full(&self) -> bool {
        self.count.load(Ordering::Acquire) >= self.max
    }

    /// Requests in flight now.
    pub(crate) fn current(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_bounded_and_comes_back() {
        let load = Load::new(2);
        let a = load.try_enter();
        let b = load.try_enter();
        assert!(a.is_some() && b.is_some());
        assert!(load.try_enter().is_none());
        assert!(load.is_full());
        drop(a);
        assert_eq!(load.current(), 1);
        assert!(load.try_enter().is_some());
        drop(b);
        assert_eq!(load.current(), 0);
    }
}
