//! Criterion benches of the request path's parts: decoding a `tools/call`, encoding its
//! result, and whole requests through each transport in process (the scenarios of the
//! instruction-count budget, `tests/scenarios/`): dispatch without a session, a session
//! lookup per request, a session opened and closed, stdio.
//!
//! `cargo bench -p oxmcp --bench hot_paths` measures; the test run builds and runs each
//! once (criterion's test mode), so they always compile and work.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/scenarios/mod.rs"]
mod scenarios;

use criterion::{Criterion, criterion_group, criterion_main};
use oxmcp::model::CallToolResult;
use oxmcp::proto::RequestId;
use oxmcp::proto::jsonrpc::{decode_one, encode_result};

fn codec(c: &mut Criterion) {
    let frame = scenarios::call(7, false);
    c.bench_function("decode tools/call", |b| {
        b.iter(|| decode_one(std::hint::black_box(frame.as_bytes())).unwrap())
    });
    let result = CallToolResult::text(scenarios::MESSAGE);
    let id = RequestId::Number(7);
    c.bench_function("encode tools/call result", |b| {
        b.iter(|| encode_result(&id, std::hint::black_box(&result)))
    });
}

fn requests(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for name in scenarios::SCENARIOS {
        let mut fixture = Some(rt.block_on(scenarios::Fixture::new(name)));
        let mut id = 0;
        c.bench_function(name, |b| {
            b.iter(|| {
                id += 1;
                let f = fixture.as_mut().unwrap();
                rt.block_on(f.request(id));
            })
        });
        if let Some(f) = fixture.take() {
            rt.block_on(f.finish());
        }
    }
}

criterion_group!(benches, codec, requests);
criterion_main!(benches);
