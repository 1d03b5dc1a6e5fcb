//! TLS on the HTTP listener, over real connections from a rustls client that trusts a
//! test CA made here with rcgen: a reload is seen by the next connection while an open
//! one keeps working, client certificates (required, optional) and their principal, and
//! plain HTTP sent to the TLS port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::scrape::{call_request, echo_service, scrape};
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use oxmcp::guard::Rate;
use oxmcp::transport::http::{ClientAuth, HttpOptions, HttpService, Tls, TlsOptions, serve_tls};
use oxmcp_testkit::pki::{self, Ca, Leaf};
use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A directory of its own for one test's PEM files.
fn dir(test: &str) -> PathBuf {
    pki::dir(Path::new(env!("CARGO_TARGET_TMPDIR")), test)
}

/// One test's server files: a CA, a directory, and the first certificate (common name
/// "server v1", valid until 2030) installed there as `server.crt` and `server.key`.
struct Files {
    ca: Ca,
    d: PathBuf,
    v1: Leaf,
}

impl Files {
    fn new(test: &str) -> Files {
        let ca = Ca::new("oxmcp test CA");
        let d = dir(test);
        let v1 = ca.leaf("server v1", None, 2030);
        v1.install(&d);
        Files { ca, d, v1 }
    }

    /// The listener's options: the installed certificate and key.
    fn opts(&self) -> TlsOptions {
        TlsOptions::new(self.d.join("server.crt"), self.d.join("server.key"))
    }
}

/// Writes the CA's certificate as `clients.crt` in `d`: the `client_ca` file.
fn client_ca(d: &Path, ca: &Ca) -> PathBuf {
    let path = d.join("clients.crt");
    std::fs::write(&path, &ca.pem).unwrap();
    path
}

fn stateless() -> HttpOptions {
    let mut opts = HttpOptions::default().loopback();
    opts.stateless = true;
    opts.json_response = true;
    opts
}

/// Serves `svc` over `tls` on a loopback port until the test ends.
async fn start(svc: &HttpService, tls: Arc<Tls>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_tls(
        listener,
        svc.clone(),
        tls,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    addr
}

/// A rustls client trusting `ca`, presenting `client` (certificate PEM, key PEM) if given.
fn connector(ca: &Ca, client: Option<&Leaf>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(ca.der.clone())).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(leaf) => {
            use rustls_pki_types::pem::PemObject;
            let chain = vec![CertificateDer::from(leaf.der.clone())];
            let key = PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    TlsConnector::from(Arc::new(config))
}

/// A TLS connection to `to`, or the handshake's error.
async fn handshake(
    connector: &TlsConnector,
    to: SocketAddr,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(to).await?;
    let name = ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await
}

/// The DER of the certificate the server presented on `stream`.
fn served_cert(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// An HTTP/1 client over an established TLS connection.
async fn http1(stream: TlsStream<TcpStream>) -> SendRequest<Full<Bytes>> {
    let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    send
}

/// A `tools/call` of `echo` over `send`: the status and, on 200, the tool's text.
async fn echo(
    send: &mut SendRequest<Full<Bytes>>,
    id: u64,
) -> Result<(StatusCode, String), hyper::Error> {
    let resp = send.send_request(call_request(id, "echo")).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Asserts a whole, successful echo call.
async fn echo_ok(send: &mut SendRequest<Full<Bytes>>, id: u64) {
    let (status, body) = echo(send, id).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["result"]["content"][0]["text"], "ok", "{body}");
}

/// The value of `sample` (name and labels) in a scrape of `svc`.
async fn metric(svc: &HttpService, sample: &str) -> f64 {
    let (_, _, text) = scrape(svc, "localhost").await;
    let key = format!("{sample} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&key))
        .unwrap_or_else(|| panic!("no {sample} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Waits (bounded: yields, no sleeps) until `sample` reads `want`: the server counts a
/// failed handshake in its own task, possibly after the client saw the failure.
async fn settles(svc: &HttpService, sample: &str, want: f64) {
    for _ in 0..10_000 {
        if metric(svc, sample).await == want {
            return;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(metric(svc, sample).await, want, "{sample}");
}

/// Seconds since the Unix epoch of 1 January of `year`, as a sample reads.
fn new_year(year: i32) -> f64 {
    pki::new_year(year) as f64
}

#[tokio::test]
async fn a_reload_reaches_the_next_connection_and_open_ones_keep_working() {
    let files = Files::new("reload");
    let (ca, d, v1) = (&files.ca, &files.d, &files.v1);
    let tls = Tls::load(files.opts()).unwrap();
    let svc = echo_service("tls");
    let addr = start(&svc, tls.clone()).await;
    let client = connector(ca, None);

    // A keep-alive connection made before the reload.
    let before = handshake(&client, addr).await.unwrap();
    assert_eq!(served_cert(&before), v1.der);
    let mut before = http1(before).await;
    echo_ok(&mut before, 1).await;
    assert_eq!(
        metric(&svc, "oxmcp_tls_certificate_expiry_timestamp_seconds").await,
        new_year(2030)
    );

    // Unchanged files: nothing to swap.
    assert!(!tls.reload().unwrap());
    let v2 = ca.leaf("server v2", None, 2031);
    v2.install(d);
    assert!(tls.reload().unwrap());

    // The next connection sees the new certificate; the open one goes on, on the old.
    let after = handshake(&client, addr).await.unwrap();
    assert_eq!(served_cert(&after), v2.der);
    let mut after = http1(after).await;
    echo_ok(&mut after, 2).await;
    echo_ok(&mut before, 3).await;
    assert_eq!(
        metric(&svc, "oxmcp_tls_reloads_total{outcome=\"ok\"}").await,
        1.0
    );
    assert_eq!(
        metric(&svc, "oxmcp_tls_certificate_expiry_timestamp_seconds").await,
        new_year(2031)
    );

    // A key that does not match the certificate: refused, named, and v2 stays served.
    let other = ca.leaf("server v3", None, 2032);
    std::fs::write(d.join("server.key"), &other.key).unwrap();
    let err = tls.reload().unwrap_err().to_string();
    assert!(
        err.contains("tls.key") && err.contains("server.key"),
        "{err}"
    );
    let again = handshake(&client, addr).await.unwrap();
    assert_eq!(served_cert(&again), v2.der);
    echo_ok(&mut http1(again).await, 4).await;
    echo_ok(&mut before, 5).await;
    assert_eq!(
        metric(&svc, "oxmcp_tls_reloads_total{outcome=\"error\"}").await,
        1.0
    );
    settles(
        &svc,
        "oxmcp_rejections_total{reason=\"tls_handshake\"}",
        0.0,
    )
    .await;
}

#[tokio::test]
async fn the_watcher_swaps_in_changed_files_while_connections_come_and_go() {
    let files = Files::new("watch");
    let (ca, d, v1) = (&files.ca, &files.d, &files.v1);
    let tls = Tls::load(files.opts()).unwrap();
    let svc = echo_service("tls");
    let addr = start(&svc, tls.clone()).await;
    let client = connector(ca, None);
    let mut open = http1(handshake(&client, addr).await.unwrap()).await;
    echo_ok(&mut open, 1).await;
    let watcher = tokio::spawn(tls.clone().watch(Duration::from_millis(20)));

    let v2 = ca.leaf("server v2", None, 2031);
    v2.install(d);
    // Every connection made while the watcher picks the change up is served, on v1 until
    // the swap and on v2 from then on; none fails. Bounded: 2,000 connections at most.
    let mut swapped = false;
    for id in 0..2_000u64 {
        let stream = handshake(&client, addr).await.unwrap();
        let cert = served_cert(&stream);
        echo_ok(&mut http1(stream).await, 10 + id).await;
        if cert == v2.der {
            swapped = true;
            break;
        }
        assert_eq!(cert, v1.der);
    }
    assert!(swapped, "the watcher never swapped in the new files");
    echo_ok(&mut open, 2).await;
    assert_eq!(
        metric(&svc, "oxmcp_tls_reloads_total{outcome=\"ok\"}").await,
        1.0
    );
    watcher.abort();
}

#[tokio::test]
async fn mtls_refuses_a_client_without_a_certificate_and_keys_rates_on_the_subject() {
    let files = Files::new("mtls");
    let (ca, d) = (&files.ca, &files.d);
    let clients = Ca::new("oxmcp client CA");
    let opts = files
        .opts()
        .client_ca(client_ca(d, &clients), ClientAuth::Required);
    let tls = Tls::load(opts).unwrap();
    let mut http = stateless();
    http.rate_per_principal = Some(Rate::new(1, Duration::from_secs(3600)));
    let svc = HttpService::new(common::scrape::echo_server("mtls"), http);
    let addr = start(&svc, tls).await;

    // No certificate: the handshake fails, or (TLS 1.3: the client finishes first) the
    // server's alert ends the first request. Either way nothing is served.
    let refused = match handshake(&connector(ca, None), addr).await {
        Err(_) => true,
        Ok(stream) => {
            let (mut send, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            echo(&mut send, 1).await.is_err()
        }
    };
    assert!(refused, "a client without a certificate was served");
    settles(
        &svc,
        "oxmcp_rejections_total{reason=\"tls_handshake\"}",
        1.0,
    )
    .await;

    // A certificate from another CA: refused the same way.
    let stranger = ca.leaf("mallory", None, 2030);
    let refused = match handshake(&connector(ca, Some(&stranger)), addr).await {
        Err(_) => true,
        Ok(stream) => echo(&mut http1(stream).await, 2).await.is_err(),
    };
    assert!(
        refused,
        "a client with a certificate from an unknown CA was served"
    );
    settles(
        &svc,
        "oxmcp_rejections_total{reason=\"tls_handshake\"}",
        2.0,
    )
    .await;

    // alice and bob each have one request per hour: the subject is the principal.
    let alice = clients.leaf("alice", Some("Example"), 2030);
    let bob = clients.leaf("bob", Some("Example"), 2030);
    let mut as_alice = http1(handshake(&connector(ca, Some(&alice)), addr).await.unwrap()).await;
    echo_ok(&mut as_alice, 3).await;
    let (status, body) = echo(&mut as_alice, 4).await.unwrap();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // A new connection is the same principal.
    let mut alice_again = http1(handshake(&connector(ca, Some(&alice)), addr).await.unwrap()).await;
    assert_eq!(
        echo(&mut alice_again, 5).await.unwrap().0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let mut as_bob = http1(handshake(&connector(ca, Some(&bob)), addr).await.unwrap()).await;
    echo_ok(&mut as_bob, 6).await;
    assert_eq!(
        metric(
            &svc,
            "oxmcp_rejections_total{reason=\"rate_per_principal\"}"
        )
        .await,
        2.0
    );
}

#[tokio::test]
async fn optional_client_certificates_serve_clients_without_one() {
    let files = Files::new("optional");
    let (ca, d) = (&files.ca, &files.d);
    let clients = Ca::new("oxmcp client CA");
    let opts = files
        .opts()
        .client_ca(client_ca(d, &clients), ClientAuth::Optional);
    let svc = echo_service("optional");
    let addr = start(&svc, Tls::load(opts).unwrap()).await;
    echo_ok(
        &mut http1(handshake(&connector(ca, None), addr).await.unwrap()).await,
        1,
    )
    .await;
    let alice = clients.leaf("alice", None, 2030);
    let with_cert = handshake(&connector(ca, Some(&alice)), addr).await.unwrap();
    echo_ok(&mut http1(with_cert).await, 2).await;
}

#[tokio::test]
async fn plain_http_to_the_tls_port_gets_a_400_naming_the_problem() {
    let files = Files::new("plain");
    let ca = &files.ca;
    let tls = Tls::load(files.opts()).unwrap();
    let svc = echo_service("plain");
    let addr = start(&svc, tls).await;

    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let body = json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string();
    let req = format!(
        "POST /mcp HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(
        answer.ends_with("this port speaks TLS; use an https:// URL\n"),
        "{answer}"
    );
    settles(
        &svc,
        "oxmcp_rejections_total{reason=\"tls_handshake\"}",
        1.0,
    )
    .await;

    // The listener goes on serving TLS clients.
    echo_ok(
        &mut http1(handshake(&connector(ca, None), addr).await.unwrap()).await,
        2,
    )
    .await;
}

#[test]
fn load_names_the_file_and_the_problem() {
    let ca = Ca::new("oxmcp test CA");
    let d = dir("load");
    let missing = Tls::load(TlsOptions::new(d.join("nope.crt"), d.join("nope.key")))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("tls.cert") && missing.contains("nope.crt"),
        "{missing}"
    );

    let leaf = ca.leaf("server", None, 2030);
    std::fs::write(d.join("server.crt"), &leaf.key).unwrap();
    std::fs::write(d.join("server.key"), &leaf.key).unwrap();
    let not_a_cert = Tls::load(TlsOptions::new(d.join("server.crt"), d.join("server.key")))
        .unwrap_err()
        .to_string();
    assert!(not_a_cert.contains("no PEM certificate"), "{not_a_cert}");

    std::fs::write(d.join("server.crt"), &leaf.pem).unwrap();
    std::fs::write(d.join("server.key"), &leaf.pem).unwrap();
    let not_a_key = Tls::load(TlsOptions::new(d.join("server.crt"), d.join("server.key")))
        .unwrap_err()
        .to_string();
    assert!(not_a_key.contains("no usable private key"), "{not_a_key}");
}
