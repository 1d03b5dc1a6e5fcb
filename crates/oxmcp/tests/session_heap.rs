//! What an idle initialised HTTP session costs in live heap, counted by a counting
//! allocator: the issue-7 budget is 2 KiB of resident memory per idle session (measured as
//! RSS by `oxmcp bench --idle-sessions`); the heap a session holds must stay well inside it,
//! and all of it must be given back when the sessions end.
//! Alone in its test binary: the counting allocator sees every allocation of the process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::http::{initialize, request, send};
use oxmcp::transport::http::{HttpOptions, HttpService};
use oxmcp_testkit::alloc::{self, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Live heap per idle session, at most. The RSS budget is 2,048 bytes; the allocator's
/// own overhead per allocation and the session table's spare capacity come on top.
const HEAP_PER_SESSION: usize = 1_536;

#[tokio::test(flavor = "current_thread")]
async fn an_idle_session_holds_little_heap_and_gives_it_all_back() {
    const N: usize = 2_000;
    let (server, _) = common::fixture(common::options());
    let mut opts = HttpOptions::default();
    opts.max_sessions = N + 1;
    let svc = HttpService::new(server, opts);
    // One session first: lazily built shared state is not a session's cost.
    let first = initialize(&svc, "2025-11-25").await;
    let before = alloc::current();
    let mut ids = Vec::with_capacity(N);
    let ids_heap = alloc::current();
    for _ in 0..N {
        ids.push(initialize(&svc, "2025-11-25").await);
    }
    // The ids this test keeps are not the server's.
    let kept: usize = ids.iter().map(|s| s.capacity()).sum::<usize>() + (ids_heap - before);
    let per_session = (alloc::current() - before - kept) / N;
    assert_eq!(svc.stats().sessions, N + 1);
    assert!(
        per_session <= HEAP_PER_SESSION,
        "an idle session holds {per_session} bytes of heap; the bound is {HEAP_PER_SESSION}"
    );
    for id in ids.iter().chain([&first]) {
        let resp = send(&svc, request("DELETE", Some(id)), "").await;
        assert_eq!(resp.status(), http::StatusCode::OK);
    }
    assert_eq!(svc.stats().sessions, 0);
    drop(ids);
    let left = alloc::current().saturating_sub(before);
    // The session table keeps its grown capacity; nothing per session stays.
    assert!(
        left < N * 64,
        "{left} bytes were still held after every session ended"
    );
    eprintln!("idle session heap: {per_session} bytes; left after all ended: {left}");
}
