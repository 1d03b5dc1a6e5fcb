//! Runs an [`HttpService`] on bare hyper, over TCP or TLS: the accept loop, TCP_NODELAY, and graceful
//! shutdown (readiness fails first, then, after the drain delay, stop accepting, end GET
//! streams, let requests in flight finish within the grace, then abort what is left).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use http::{HeaderValue, Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::edge::{ClientAddr, retry_later};
use super::tls::{self, Tls};
use super::{Disconnect, HttpService};
use crate::guard::Principal;
use crate::guard::per_ip::IpSlot;
use crate::observe::metrics::{Metrics, Reject};

/// Refused connections answered at once (503 or 429, then closed); past this many, a
/// refused connection is closed without an answer.
const MAX_REFUSING: usize = 64;

/// A connection's place in the counts; given back when it closes.
struct ConnSlot {
    total: Arc<AtomicUsize>,
    _per_ip: Option<IpSlot>,
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.total.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A place for a connection from `ip`, or the limit it would cross.
fn admit(service: &HttpService, ip: std::net::IpAddr) -> Result<ConnSlot, Reject> {
    let opts = &service.shared.opts;
    let edge = &service.shared.edge;
    let per_ip = match opts.max_connections_per_ip {
        Some(max) => Some(
            edge.connections_per_ip
                .try_acquire(ip, max)
                .ok_or(Reject::ConnectionsPerIp)?,
        ),
        None => None,
    };
    let total = edge.connections.clone();
    if total.fetch_add(1, Ordering::AcqRel) >= opts.max_connections {
        total.fetch_sub(1, Ordering::AcqRel);
        return Err(Reject::Connections);
    }
    Ok(ConnSlot {
        total,
        _per_ip: per_ip,
    })
}

/// Answers a refused connection's first request (503 or 429 naming the limit), then
/// closes it.
fn refuse_connection(
    builder: &hyper::server::conn::http1::Builder,
    stream: tokio::net::TcpStream,
    reason: Reject,
    retry: Duration,
    refusing: &Arc<AtomicUsize>,
) {
    if refusing.fetch_add(1, Ordering::AcqRel) >= MAX_REFUSING {
        refusing.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    let (status, text) = match reason {
        Reject::ConnectionsPerIp => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests: this address holds its limit of connections (max_connections_per_ip)",
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: the server holds its limit of connections (max_connections)",
        ),
    };
    let svc = hyper::service::service_fn(move |_req: Request<hyper::body::Incoming>| async move {
        let mut r = retry_later(status, text, reason, retry);
        r.headers_mut()
            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, Infallible>(r)
    });
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    let refusing = refusing.clone();
    tokio::spawn(async move {
        let _ = conn.await;
        refusing.fetch_sub(1, Ordering::AcqRel);
    });
}

/// Serves `service` on `listener` until `shutdown` completes; then drains: no new
/// connections, GET streams end, requests in flight get `grace` to finish, and whatever
/// still runs after that is aborted.
pub async fn serve(
    listener: TcpListener,
    service: HttpService,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    serve_with(listener, service, None, shutdown, grace).await
}

/// [`serve`] over TLS: every connection's handshake uses the configuration `tls` holds
/// when it arrives (so [`Tls::reload`] takes effect for the next connection), and a
/// client certificate's subject becomes its requests' [`Principal`]. Plain HTTP sent to
/// this listener is answered 400 naming the problem, then closed.
pub async fn serve_tls(
    listener: TcpListener,
    service: HttpService,
    tls: Arc<Tls>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    tls.attach(service.shared.server.metrics());
    serve_with(listener, service, Some(tls), shutdown, grace).await
}

/// What every connection of one listener shares.
struct Listener {
    service: HttpService,
    builder: hyper::server::conn::http1::Builder,
    tls: Option<Arc<Tls>>,
    metrics: Metrics,
    header_timeout: Duration,
}

async fn serve_with(
    listener: TcpListener,
    service: HttpService,
    tls: Option<Arc<Tls>>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let delay = service.drain_delay();
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Header bounds live in hyper: the buffered head, the header count, and the time to
    // send them (a client that trickles its headers is cut off).
    let opts = &service.shared.opts;
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_timeout)
        .max_buf_size(opts.max_header_bytes.max(8192))
        .max_headers(opts.max_headers);
    let retry = opts.retry_after;
    let metrics = service.shared.server.metrics().clone();
    let refusing = Arc::new(AtomicUsize::new(0));
    tokio::pin!(shutdown);
    let health = service.health();
    let shared = Arc::new(Listener {
        header_timeout: opts.header_timeout,
        service: service.clone(),
        builder,
        tls,
        metrics: metrics.clone(),
    });
    health.set_ready();
    // Set when the shutdown signal came: the listener closes then.
    let mut stop_at: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: log, wait a little, go on.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let slot = match admit(&service, peer.ip()) {
                    Ok(slot) => slot,
                    Err(reason) => {
                        metrics.reject(reason);
                        refuse_connection(&shared.builder, stream, reason, retry, &refusing);
                        continue;
                    }
                };
                let watcher = graceful.watcher();
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _slot = slot;
                    match &shared.tls {
                        None => connection(&shared, stream, peer, None, watcher).await,
                        Some(tls) => {
                            if let Some((stream, principal)) = handshake(&shared, tls, stream).await {
                                connection(&shared, stream, peer, principal, watcher).await;
                            }
                        }
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

/// The text that answers plain HTTP on the TLS port (400, then the connection closes).
const PLAIN_HTTP: &str = "Bad Request: this port speaks TLS; use an https:// URL\n";

/// At most this many bytes of a plain-HTTP client's request are read and dropped before
/// its connection closes.
const PLAIN_DRAIN: usize = 64 * 1024;

/// The TLS handshake of a new connection, within `http.header_timeout`; `None` when it
/// failed (counted, and plain HTTP answered 400).
async fn handshake(
    shared: &Listener,
    tls: &Tls,
    stream: tokio::net::TcpStream,
) -> Option<(
    tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    Option<Principal>,
)> {
    let within = shared.header_timeout;
    // A TLS connection opens with a handshake record (content type 22); anything else is
    // most likely plain HTTP, which deserves an answer it can read.
    let mut first = [0u8; 1];
    match tokio::time::timeout(within, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] != 0x16 => {
            shared.metrics.reject(Reject::TlsHandshake);
            let mut stream = stream;
            let _ = tokio::time::timeout(within, async {
                // Read what the client sent first (bounded): closing a socket with unread
                // bytes resets it, and the client would see the reset, not the answer.
                let mut sink = [0u8; 4096];
                let _ = stream.read(&mut sink).await?;
                let answer = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{PLAIN_HTTP}",
                    PLAIN_HTTP.len()
                );
                stream.write_all(answer.as_bytes()).await?;
                stream.shutdown().await?;
                // Then wait for the client to close (at most PLAIN_DRAIN bytes more).
                let mut left = PLAIN_DRAIN;
                while left > 0 {
                    match stream.read(&mut sink).await? {
                        0 => break,
                        n => left = left.saturating_sub(n),
                    }
                }
                Ok::<_, std::io::Error>(())
            })
            .await;
            return None;
        }
        Ok(Ok(1)) => {}
        Ok(_) => return None,
        Err(_) => {
            shared.metrics.reject(Reject::HeaderTimeout);
            return None;
        }
    }
    match tokio::time::timeout(within, tls.acceptor().accept(stream)).await {
        Ok(Ok(stream)) => {
            let principal = tls::principal(stream.get_ref().1);
            Some((stream, principal))
        }
        Ok(Err(e)) => {
            shared.metrics.reject(Reject::TlsHandshake);
            tracing::debug!("TLS handshake failed: {e}");
            None
        }
        Err(_) => {
            shared.metrics.reject(Reject::HeaderTimeout);
            None
        }
    }
}

/// Serves one connection until it ends, the client stops reading, or the drain ends it.
async fn connection<S>(
    shared: &Listener,
    stream: S,
    peer: std::net::SocketAddr,
    principal: Option<Principal>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // Every request learns its peer (and principal), and can close its own connection
    // (a stream whose client stopped reading).
    let kill = tokio_util::sync::CancellationToken::new();
    let svc = TowerToHyperService::new(shared.service.clone());
    let disconnect = kill.clone();
    // Whether a whole request head arrived: hyper's header timeout also closes an idle
    // keep-alive connection, which is no refusal.
    let served = Arc::new(AtomicBool::new(false));
    let saw = served.clone();
    let svc = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
        saw.store(true, Ordering::Relaxed);
        let ext = req.extensions_mut();
        ext.insert(ClientAddr(peer));
        ext.insert(Disconnect(disconnect.clone()));
        if let Some(p) = &principal {
            ext.insert(p.clone());
        }
        hyper::service::Service::call(&svc, req)
    });
    let conn = shared.builder.serve_connection(TokioIo::new(stream), svc);
    let conn = watcher.watch(conn);
    tokio::select! {
        r = conn => if let Err(e) = r {
            // The head bounds are hyper's; count what they refused.
            if e.is_parse_too_large() {
                shared.metrics.reject(Reject::HeaderBytes);
            } else if e.is_timeout() && !served.load(Ordering::Relaxed) {
                shared.metrics.reject(Reject::HeaderTimeout);
            }
            tracing::debug!("connection ended with an error: {e}");
        },
        () = kill.cancelled() => {
            tracing::debug!("closed the connection of a client that stopped reading");
        }
    }
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
