//! TLS for the HTTP listener, with rustls: the certificate chain and key from PEM files,
//! reloaded in place (on a call, a signal or a change of the files) without touching the
//! connections already open, TLS 1.2 and 1.3 only, and optional client certificates whose
//! subject becomes the request's [`Principal`].
//!
//! A reload builds a whole new rustls configuration from the files and swaps it in; each
//! new connection takes the configuration current when it arrived. A reload that fails
//! (a missing file, a key that does not match the certificate) keeps the old one and says
//! why, so a half-written file never takes the listener down.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use rustls::RootCertStore;
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::guard::Principal;
use crate::observe::metrics::Metrics;

/// Whether a client must present a certificate (when [`TlsOptions::client_ca`] is set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A client without a certificate signed by the CA is refused in the handshake.
    #[default]
    Required,
    /// A client may connect without one; one that presents a certificate must present a
    /// valid one, and only then has a principal.
    Optional,
}

/// Where the listener's certificate, key and (for mTLS) client CA are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsOptions {
    /// PEM file with the certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// PEM file with the CA certificates that sign client certificates; `None`: no client
    /// certificates are asked for.
    pub client_ca: Option<PathBuf>,
    /// Whether a client certificate is required when `client_ca` is set.
    pub client_auth: ClientAuth,
}

impl TlsOptions {
    /// Server TLS from `cert` and `key`, without client certificates.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsOptions {
            cert: cert.into(),
            key: key.into(),
            client_ca: None,
            client_auth: ClientAuth::Required,
        }
    }

    /// Asks for client certificates signed by the CAs in `ca` (mTLS).
    pub fn client_ca(mut self, ca: impl Into<PathBuf>, auth: ClientAuth) -> Self {
        self.client_ca = Some(ca.into());
        self.client_auth = auth;
        self
    }
}

/// Why the TLS configuration could not be (re)loaded: names the file and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

/// The files' bytes, to tell whether a reload has anything new.
type Files = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

/// The listener's TLS state: the current configuration and how to reload it. Shared by
/// the accept loop and whoever triggers reloads.
pub struct Tls {
    opts: TlsOptions,
    current: RwLock<Arc<ServerConfig>>,
    /// What the current configuration was built from.
    files: Mutex<Files>,
    /// Reload counts and the certificate's expiry, once a listener serves this.
    metrics: OnceLock<Metrics>,
    /// The leaf certificate's notAfter, in seconds since the Unix epoch.
    not_after: Mutex<Option<i64>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Loads the files named by `opts` and builds the first configuration.
    pub fn load(opts: TlsOptions) -> Result<Arc<Tls>, TlsError> {
        let files = read_files(&opts)?;
        let (config, not_after) = build(&opts, &files)?;
        Ok(Arc::new(Tls {
            opts,
            current: RwLock::new(Arc::new(config)),
            files: Mutex::new(files),
            metrics: OnceLock::new(),
            not_after: Mutex::new(not_after),
        }))
    }

    /// Reads the files again; when they changed, builds and swaps in a new configuration
    /// for the connections that arrive from now on (those open keep theirs). `Ok(true)`:
    /// swapped; `Ok(false)`: the files are unchanged. On error the old configuration stays.
    pub fn reload(&self) -> Result<bool, TlsError> {
        let files = read_files(&self.opts);
        self.apply(files)
    }

    /// Swaps in the configuration built from `files` if they differ from the current
    /// one's; counts what happened.
    fn apply(&self, files: Result<Files, TlsError>) -> Result<bool, TlsError> {
        let outcome = files.and_then(|files| {
            if *self.files.lock() == files {
                return Ok(false);
            }
            let (config, not_after) = build(&self.opts, &files)?;
            *self.current.write() = Arc::new(config);
            *self.files.lock() = files;
            *self.not_after.lock() = not_after;
            Ok(true)
        });
        if let Some(m) = self.metrics.get() {
            match &outcome {
                Ok(true) => {
                    m.tls_reload(true);
                    if let Some(t) = self.not_after() {
                        m.tls_expiry(t);
                    }
                }
                Ok(false) => {}
                Err(_) => m.tls_reload(false),
            }
        }
        outcome
    }

    /// Reloads whenever the files change, reading them every `every`; a reload that
    /// fails is logged once, and tried again when the files change again. Runs until
    /// dropped; spawn it.
    pub async fn watch(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        // What the last look found (good or not): only a change is acted on.
        let mut seen: Option<Result<Files, TlsError>> = None;
        loop {
            tick.tick().await;
            let opts = self.opts.clone();
            let Ok(files) = tokio::task::spawn_blocking(move || read_files(&opts)).await else {
                continue;
            };
            if seen.as_ref() == Some(&files) {
                continue;
            }
            seen = Some(files.clone());
            match self.apply(files) {
                Ok(true) => tracing::info!("TLS: reloaded the certificate"),
                Ok(false) => {}
                Err(e) => tracing::error!("TLS: reload failed, the old certificate stays: {e}"),
            }
        }
    }

    /// The leaf certificate's notAfter, in seconds since the Unix epoch.
    pub fn not_after(&self) -> Option<i64> {
        *self.not_after.lock()
    }

    /// Reports reloads and the expiry to `metrics` (the listener's server's).
    pub(crate) fn attach(&self, metrics: &Metrics) {
        if self.metrics.set(metrics.clone()).is_ok()
            && let Some(t) = self.not_after()
        {
            metrics.tls_expiry(t);
        }
    }

    /// An acceptor with the configuration current now.
    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.current.read().clone())
    }
}

/// The principal of a connection whose client presented a certificate: its subject, as
/// an RFC 4514 string (`CN=alice,O=Example`).
pub(crate) fn principal(conn: &rustls::ServerConnection) -> Option<Principal> {
    let leaf = conn.peer_certificates()?.first()?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
    Some(Principal::new(cert.subject().to_string()))
}

fn read(what: &str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError(format!("{what} {}: {e}", path.display())))
}

fn read_files(opts: &TlsOptions) -> Result<Files, TlsError> {
    Ok((
        read("tls.cert", &opts.cert)?,
        read("tls.key", &opts.key)?,
        match &opts.client_ca {
            Some(ca) => Some(read("tls.client_ca", ca)?),
            None => None,
        },
    ))
}

fn certs(what: &str, path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError(format!("{what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "{what} {}: no PEM certificate (\"-----BEGIN CERTIFICATE-----\") in the file",
            path.display()
        )));
    }
    Ok(certs)
}

fn build(opts: &TlsOptions, files: &Files) -> Result<(ServerConfig, Option<i64>), TlsError> {
    let chain = certs("tls.cert", &opts.cert, &files.0)?;
    let key = PrivateKeyDer::from_pem_slice(&files.1).map_err(|e| {
        TlsError(format!(
            "tls.key {}: no usable private key ({e})",
            opts.key.display()
        ))
    })?;
    let not_after = x509_parser::parse_x509_certificate(chain[0].as_ref())
        .ok()
        .map(|(_, c)| c.validity().not_after.timestamp());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError(format!("TLS versions: {e}")))?;
    let builder = match (&opts.client_ca, &files.2) {
        (Some(path), Some(pem)) => {
            let mut roots = RootCertStore::empty();
            for ca in certs("tls.client_ca", path, pem)? {
                roots
                    .add(ca)
                    .map_err(|e| TlsError(format!("tls.client_ca {}: {e}", path.display())))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = match opts.client_auth {
                ClientAuth::Required => verifier,
                ClientAuth::Optional => verifier.allow_unauthenticated(),
            };
            let verifier = verifier
                .build()
                .map_err(|e| TlsError(format!("tls.client_ca {}: {e}", path.display())))?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        TlsError(format!(
            "tls.cert {} and tls.key {}: {e}",
            opts.cert.display(),
            opts.key.display()
        ))
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, not_after))
}
