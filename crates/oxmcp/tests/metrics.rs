//! `GET /metrics`: parsed as Prometheus text, every name docs/OPERATIONS.md lists is there
//! (and nothing it does not list), and the figures follow what the clients did.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

mod common;

use common::scrape::{call, echo_service, family, scrape};
use http::StatusCode;

const OPERATIONS: &str = include_str!("../../../docs/OPERATIONS.md");

/// The metric names of the table under `## Metrics` in docs/OPERATIONS.md.
fn documented() -> BTreeSet<String> {
    let section = OPERATIONS
        .split("\n## Metrics")
        .nth(1)
        .expect("OPERATIONS.md has a Metrics section");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_scrape_parses_and_has_every_documented_metric() {
    let svc = echo_service("metrics");
    call(&svc, 1, "echo").await;
    call(&svc, 2, "echo").await;
    // An unknown tool: a JSON-RPC error.
    call(&svc, 3, "nope").await;

    let (status, ctype, text) = scrape(&svc, "localhost").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    // Sample names, with a histogram's `_bucket`, `_sum` and `_count` read as its own.
    let present: BTreeSet<String> = parsed
        .samples
        .iter()
        .map(|s| family(&text, &s.metric).to_owned())
        .collect();
    let listed = documented();
    assert!(listed.len() >= 15, "the table was read: {listed:?}");
    let missing: Vec<_> = listed.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "documented but not scraped: {missing:?}\n{text}"
    );
    let undocumented: Vec<_> = present.difference(&listed).collect();
    assert!(
        undocumented.is_empty(),
        "scraped but not documented: {undocumented:?}"
    );

    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let s = parsed
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .unwrap_or_else(|| panic!("no {name}{labels:?}"));
        match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{other:?}"),
        }
    };
    let calls = |outcome| {
        value(
            "oxmcp_requests_total",
            &[("method", "tools/call"), ("outcome", outcome)],
        )
    };
    assert_eq!(calls("ok"), 2.0);
    assert_eq!(calls("error"), 1.0);
    assert_eq!(
        value(
            "oxmcp_tool_calls_total",
            &[("tool", "echo"), ("outcome", "ok")]
        ),
        2.0
    );
    assert_eq!(
        value(
            "oxmcp_request_duration_seconds_count",
            &[("method", "tools/call")]
        ),
        3.0
    );
    assert_eq!(value("oxmcp_in_flight_requests", &[]), 0.0);
    // Every rejection reason is a row's reason in the Limits table.
    let limits = OPERATIONS
        .split("\n## Limits")
        .nth(1)
        .expect("OPERATIONS.md has a Limits section");
    let reasons: BTreeSet<&str> = parsed
        .samples
        .iter()
        .filter(|s| s.metric == "oxmcp_rejections_total")
        .filter_map(|s| s.labels.get("reason"))
        .collect();
    assert!(reasons.len() >= 16, "{reasons:?}");
    for reason in reasons {
        assert!(
            limits.lines().any(|l| l.starts_with('|')
                && l.rsplit('|')
                    .nth(1)
                    .is_some_and(|cell| cell.contains(&format!("`{reason}`")))),
            "reason {reason} has no row in OPERATIONS.md's Limits table"
        );
    }
    assert!(value("process_resident_memory_bytes", &[]) > 0.0);

    // Behind the Host check: a rebinding page cannot read it.
    let (status, _, _) = scrape(&svc, "evil.example").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
