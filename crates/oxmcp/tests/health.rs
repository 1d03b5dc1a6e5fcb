//! `/health/live` and `/health/ready`: what an orchestrator's probes see while the server
//! starts, serves, loses a dependency and drains.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use oxmcp::transport::http::{HttpOptions, HttpService, serve};
use serde_json::Value;

async fn probe(svc: &HttpService, path: &str, host: &str) -> (StatusCode, Value) {
    let req = Request::get(path)
        .header("host", host)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = svc.handle(req).await;
    let status = resp.status();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn probes_say_starting_ready_unavailable_and_draining_and_why() {
    let (server, _) = common::fixture(common::options());
    let svc = HttpService::new(server, HttpOptions::default().loopback());
    // A probe names the pod's address, not a loopback name: no Host check applies.
    let pod = "10.1.2.3:8080";
    let (status, body) = probe(&svc, "/health/live", pod).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("live"))
    );

    let (status, body) = probe(&svc, "/health/ready", pod).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "starting");
    assert!(body["reason"].as_str().unwrap().contains("starting"));

    let health = svc.health();
    health.set_ready();
    let (status, body) = probe(&svc, "/health/ready", pod).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );

    health.add_check("store", || {
        Err("redis at 127.0.0.1:6379: connection refused".into())
    });
    let (status, body) = probe(&svc, "/health/ready", pod).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(
        body["checks"]["store"]["reason"],
        "redis at 127.0.0.1:6379: connection refused"
    );
    health.add_check("store", || Ok(()));
    assert_eq!(probe(&svc, "/health/ready", pod).await.0, StatusCode::OK);

    svc.drain();
    let (status, body) = probe(&svc, "/health/ready", pod).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "draining");
    // Still alive while it drains.
    assert_eq!(probe(&svc, "/health/live", pod).await.0, StatusCode::OK);
}

/// One GET over a fresh connection; the status, or `None` when the connection is refused.
async fn get(addr: std::net::SocketAddr, path: &str) -> Option<StatusCode> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .ok()?;
    tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap();
    Some(send.send_request(req).await.ok()?.status())
}

#[tokio::test]
async fn on_shutdown_readiness_fails_first_while_new_connections_are_still_taken() {
    let (server, _) = common::fixture(common::options());
    let mut opts = HttpOptions::default();
    // Long enough that the listener is certainly still open when the test looks.
    opts.drain_delay = std::time::Duration::from_secs(300);
    let svc = HttpService::new(server, opts);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(
        listener,
        svc.clone(),
        async move {
            let _ = stopped.await;
        },
        std::time::Duration::from_secs(1),
    ));
    assert_eq!(get(addr, "/health/ready").await, Some(StatusCode::OK));
    stop.send(()).unwrap();
    // The serve loop takes the signal on its next turn; each probe is a real round trip.
    let mut status = get(addr, "/health/ready").await;
    for _ in 0..1000 {
        if status != Some(StatusCode::OK) {
            break;
        }
        tokio::task::yield_now().await;
        status = get(addr, "/health/ready").await;
    }
    assert_eq!(status, Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(svc.health().is_draining());
    // Readiness failed, and a new connection is still accepted and served.
    assert_eq!(get(addr, "/health/live").await, Some(StatusCode::OK));
}
