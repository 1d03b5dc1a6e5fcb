//! Runs an [`HttpService`] on bare hyper: the accept loop, TCP_NODELAY, and graceful
//! shutdown (readiness fails first, then, after the drain delay, stop accepting, end GET
//! streams, let requests in flight finish within the grace, then abort what is left).

use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::HttpService;

/// Serves `service` on `listener` until `shutdown` completes; then drains: no new
/// connections, GET streams end, requests in flight get `grace` to finish, and whatever
/// still runs after that is aborted.
pub async fn serve(
    listener: TcpListener,
    service: HttpService,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let delay = service.drain_delay();
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Header bounds live in hyper: 64 KiB of buffered head, 100 headers, and 30 s to send
    // them (a client that trickles its headers is cut off).
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .max_buf_size(64 * 1024)
        .max_headers(100);
    tokio::pin!(shutdown);
    let health = service.health();
    health.set_ready();
    // Set when the shutdown signal came: the listener closes then.
    let mut stop_at: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: log, wait a little, go on.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let conn = builder.serve_connection(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service.clone()),
                );
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("connection ended with an error: {e}");
                    }
                });
            }
            () = &mut shutdown, if stop_at.is_none() => {
                // Readiness fails first; connections are still taken for the drain delay,
                // so a load balancer stops sending new clients before the listener closes.
                health.set_draining();
                stop_at = Some(tokio::time::Instant::now() + delay);
            }
            () = crate::time::sleep_until(stop_at), if stop_at.is_some() => break,
        }
    }
    drop(listener);
    service.drain();
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the shutdown grace: aborting them");
    }
    service.close_all();
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C (SIGINT): the usual trigger of a graceful shutdown.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
