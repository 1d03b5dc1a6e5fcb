//! Real TCP for the tests that need it: a service on a loopback port, clients from chosen
//! loopback addresses (all of 127/8 is loopback, so each address has its own ports and
//! its own per-address limits), raw requests for clients that misbehave.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use oxmcp::transport::http::{HttpService, serve};
use tokio::net::{TcpSocket, TcpStream};

/// Serves `svc` on a loopback port until the test ends.
pub async fn start(svc: &HttpService) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(
        listener,
        svc.clone(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    addr
}

/// A TCP connection to `to` from the loopback address `127.0.0.<from>`; `recv_buffer`
/// shrinks its receive window (a client that reads slowly).
pub async fn connect_with(from: u8, to: SocketAddr, recv_buffer: Option<u32>) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(n) = recv_buffer {
        socket.set_recv_buffer_size(n).unwrap();
    }
    socket
        .bind(SocketAddr::new(IpAddr::from([127, 0, 0, from]), 0))
        .unwrap();
    socket.connect(to).await.unwrap()
}

/// A TCP connection to `to` from `127.0.0.<from>`.
pub async fn connect(from: u8, to: SocketAddr) -> TcpStream {
    connect_with(from, to, None).await
}

/// An HTTP/1 connection from `127.0.0.<from>`.
pub async fn client(from: u8, to: SocketAddr) -> SendRequest<Full<Bytes>> {
    let io = hyper_util::rt::TokioIo::new(connect(from, to).await);
    let (send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    send
}

/// The bytes of a POST of `body` to `/mcp` with `headers`, as a client that writes its
/// own requests sends them.
pub fn raw_post(body: &serde_json::Value, headers: &[(&str, &str)]) -> Vec<u8> {
    let body = body.to_string();
    let mut out = String::from(
        "POST /mcp HTTP/1.1\r\nhost: localhost\r\naccept: application/json, text/event-stream\r\n\
         content-type: application/json\r\n",
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}
