//! A certificate authority made for one test (rcgen), and the leaf certificates it signs:
//! servers for `localhost`, clients with a chosen subject.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, date_time_ymd};

/// A test CA: its certificate (PEM and DER) and what signs with it.
pub struct Ca {
    /// The CA certificate, PEM.
    pub pem: String,
    /// The CA certificate, DER.
    pub der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate the CA signed, with its key.
pub struct Leaf {
    /// The certificate, PEM.
    pub pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key: String,
    /// The certificate, DER (what a peer sees).
    pub der: Vec<u8>,
}

impl Ca {
    /// A new CA with common name `name`.
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `localhost` and 127.0.0.1 with common name `cn` (and organisation `org`),
    /// valid until 1 January of `until`.
    pub fn leaf(&self, cn: &str, org: Option<&str>, until: i32) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        if let Some(org) = org {
            params
                .distinguished_name
                .push(DnType::OrganizationName, org);
        }
        params.not_after = date_time_ymd(until, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            pem: cert.pem(),
            key: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

impl Leaf {
    /// Writes the certificate and key as `server.crt` and `server.key` in `dir`, each by
    /// renaming a finished file into place (as an operator should), so a watcher never
    /// reads half a file.
    pub fn install(&self, dir: &Path) {
        for (name, text) in [("server.crt", &self.pem), ("server.key", &self.key)] {
            let tmp = dir.join(format!(".{name}.new"));
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, dir.join(name)).unwrap();
        }
    }
}

/// Seconds since the Unix epoch of 1 January of `year` (a leaf's notAfter).
pub fn new_year(year: i32) -> i64 {
    date_time_ymd(year, 1, 1).unix_timestamp()
}

/// A fresh, empty directory for one test's files under `base`.
pub fn dir(base: &Path, test: &str) -> PathBuf {
    let d = base.join(format!("tls-{test}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
