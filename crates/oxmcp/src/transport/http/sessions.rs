//! The session map: sharded (a lock per shard, never held across `.await`), bounded, and
//! swept by one reaper for the whole service. An idle session is a record here and nothing
//! else: no task, no channel, no buffer.

use crate::connection::FastMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use oxmcp_proto::RequestId;
use parking_lot::Mutex;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::streams::Streams;
use crate::connection::Connection;

const SHARDS: usize = 32;

/// One Streamable HTTP session (or one stateless request's throwaway session).
pub(super) struct HttpSession {
    pub(super) conn: Arc<Connection>,
    pub(super) streams: Arc<Streams>,
    /// The last request seen (for the idle TTL).
    pub(super) last_seen: Mutex<Instant>,
    /// Abort handles of the handlers running for this session.
    pub(super) handlers: Mutex<FastMap<RequestId, AbortHandle>>,
    /// For a throwaway session: the service's count of sessionless handlers.
    pub(super) sessionless: Option<Arc<AtomicUsize>>,
    /// The session's place in its client address's count (`max_sessions_per_ip`).
    /// Boxed: most servers set no per-IP session limit, and an idle session stays small.
    #[allow(dead_code)] // held for its drop, which gives the slot back
    pub(super) ip_slot: Option<Box<crate::guard::per_ip::IpSlot>>,
}

impl HttpSession {
    /// The session's id (`None`: a throwaway session for one stateless request).
    pub(super) fn id(&self) -> Option<&Arc<str>> {
        self.conn.session_id.as_ref()
    }

    /// Counts a handler started or finished (on the connection, and on the service for a
    /// throwaway session, which no map holds).
    pub(super) fn count_handler(&self, started: bool) {
        self.conn.count_handler(started);
        if let Some(n) = &self.sessionless {
            if started {
                n.fetch_add(1, Ordering::Relaxed);
            } else {
                n.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    pub(super) fn touch(&self) {
        *self.last_seen.lock() = Instant::now();
    }

    /// Whether the session is doing nothing: no handler, no reader, no task still working
    /// (a task outlives its request; it is bounded by its own TTL).
    fn idle(&self) -> bool {
        self.handlers.lock().is_empty()
            && self.streams.readers() == 0
            && !self.conn.tasks.has_running()
    }

    /// Ends the session: aborts its handlers and tasks, fails its waiters, ends its streams.
    pub(super) fn close(&self) {
        for (_, h) in self.handlers.lock().drain() {
            h.abort();
        }
        self.conn.tasks.abort_all();
        self.conn.waiters.lock().clear();
        self.streams.close();
    }
}

/// One shard of the map.
type Shard = Mutex<FastMap<Arc<str>, Arc<HttpSession>>>;

/// Sessions by id.
pub(super) struct Sessions {
    shards: Box<[Shard]>,
    hasher: foldhash::fast::RandomState,
    count: AtomicUsize,
    max: usize,
}

impl Sessions {
    pub(super) fn new(max: usize) -> Self {
        Sessions {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(FastMap::default()))
                .collect(),
            hasher: foldhash::fast::RandomState::default(),
            count: AtomicUsize::new(0),
            max,
        }
    }

    fn shard(&self, id: &str) -> &Shard {
        let i = self.hasher.hash_one(id) as usize % SHARDS;
        &self.shards[i]
    }

    pub(super) fn get(&self, id: &str) -> Option<Arc<HttpSession>> {
        self.shard(id).lock().get(id).cloned()
    }

    /// Whether one more session fits.
    pub(super) fn has_room(&self) -> bool {
        self.count.load(Ordering::Relaxed) < self.max
    }

    /// Adds a session; false when the map is full.
    pub(super) fn insert(&self, id: Arc<str>, session: Arc<HttpSession>) -> bool {
        if self.count.fetch_add(1, Ordering::AcqRel) >= self.max {
            self.count.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        self.shard(&id).lock().insert(id, session);
        true
    }

    pub(super) fn remove(&self, id: &str) -> Option<Arc<HttpSession>> {
        let removed = self.shard(id).lock().remove(id);
        if removed.is_some() {
            self.count.fetch_sub(1, Ordering::AcqRel);
        }
        removed
    }

    pub(super) fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Removes and returns the sessions idle since before `cutoff`.
    pub(super) fn sweep(&self, cutoff: Instant) -> Vec<Arc<HttpSession>> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut map = shard.lock();
            map.retain(|_, s| {
                let expired = *s.last_seen.lock() <= cutoff && s.idle();
                if expired {
                    out.push(s.clone());
                }
                !expired
            });
        }
        self.count.fetch_sub(out.len(), Ordering::AcqRel);
        out
    }

    /// Every session (for broadcasts and counters).
    pub(super) fn all(&self) -> Vec<Arc<HttpSession>> {
        self.shards
            .iter()
            .flat_map(|s| s.lock().values().cloned().collect::<Vec<_>>())
            .collect()
    }

    /// Removes every session.
    pub(super) fn drain(&self) -> Vec<Arc<HttpSession>> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            out.extend(shard.lock().drain().map(|(_, s)| s));
        }
        self.count.fetch_sub(out.len(), Ordering::AcqRel);
        out
    }
}

/// A new session id: 128 bits from the OS CSPRNG, as 32 hex digits.
pub(super) fn new_session_id() -> Result<Arc<str>, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    let mut s = String::with_capacity(32);
    for byte in b {
        use std::fmt::Write;
        let _ = write!(s, "{byte:02x}");
    }
    Ok(s.into())
}
