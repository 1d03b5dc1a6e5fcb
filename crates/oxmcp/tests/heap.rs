//! While a 64 MiB line is skipped, the peak heap grows by at most twice the line limit.
//! Alone in its test binary: the counting allocator sees every allocation of the process.
#![allow(clippy::unwrap_used, clippy::expect_used, unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(n: usize) {
    let now = CURRENT.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
            grow(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[tokio::test]
async fn skipping_a_64_mib_line_holds_at_most_twice_the_limit() {
    let (server, _) = common::fixture(common::options());
    let limit = server.options().max_line;
    let (mut c, _task) = common::start(server);
    c.initialize("2025-11-25", json!({})).await;
    let chunk = vec![b'x'; 64 * 1024];
    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    c.send_raw(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":""#).await;
    for _ in 0..(64 * 16) {
        c.send_raw(&chunk).await;
    }
    c.send_raw(b"\"}}}\n").await;
    let resp = c.recv().await.unwrap();
    assert_eq!(resp["error"]["code"], -32600);
    let growth = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
    assert!(
        growth <= 2 * limit,
        "peak heap grew by {growth} bytes; the bound is {}",
        2 * limit
    );
    // And the session still serves.
    let (resp, _) = c
        .request(
            json!(2),
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "ok" } }),
        )
        .await;
    assert_eq!(resp["result"]["content"][0]["text"], "ok");
}
