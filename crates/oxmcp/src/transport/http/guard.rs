//! The checks every request passes before it reaches a session: Host (DNS rebinding),
//! Origin, Accept and Content-Type. Each refusal is a status with a JSON-RPC error body
//! (no id) whose message names the problem.

use http::header::{ACCEPT, CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, Response, StatusCode};
use oxmcp_proto::ErrorObject;
use oxmcp_proto::jsonrpc;

use super::body::{HttpBody, full};

/// A refused request: the status and the message that names the problem.
#[derive(Debug)]
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    pub(super) message: String,
}

impl Refusal {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
        }
    }

    /// The response: the status with a JSON-RPC error body.
    pub(super) fn response(self) -> Response<HttpBody> {
        refuse(self.status, self.message)
    }
}

/// A refusal: the status and the message.
pub(super) fn refuse(status: StatusCode, message: impl Into<String>) -> Response<HttpBody> {
    refuse_with(status, &ErrorObject::invalid_request(message.into()))
}

/// `status` with `error` as a JSON-RPC error body without id.
pub(super) fn refuse_with(status: StatusCode, error: &ErrorObject) -> Response<HttpBody> {
    let body = jsonrpc::encode_error(None, error);
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// Which hosts and origins may reach the server.
#[derive(Debug, Clone, Default)]
pub(super) struct Allow {
    /// `None`: any Host. Entries are `host` (any port) or `host:port`, lower case.
    pub(super) hosts: Option<Vec<String>>,
    /// Origins allowed besides the request's own (`scheme://host[:port]`, lower case).
    pub(super) origins: Vec<String>,
}

fn header(headers: &HeaderMap, name: http::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Splits `host[:port]` (with `[v6]` literals) into the host and the port.
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (authority, None),
    }
}

/// Whether `authority` (a Host, or an Origin's authority) is on the allow list: an entry
/// names the host (any port) or the host and port; IPv6 brackets do not count, and the
/// request's side is compared case-insensitively. Compared in place: a request costs no
/// copies.
fn host_allowed(allowed: &[String], authority: &str) -> bool {
    fn unbracketed(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes().filter(|b| *b != b'[' && *b != b']')
    }
    // The entry as written (without brackets) against the request's text, lower-cased.
    let matches = |entry: &str, text: &str| {
        unbracketed(entry).eq(unbracketed(text).map(|b| b.to_ascii_lowercase()))
    };
    let (host, _) = split_authority(authority);
    allowed
        .iter()
        .any(|a| matches(a, authority) || matches(a, host))
}

/// Host and Origin: 403 for a Host not on the allow list (DNS rebinding) or an Origin that
/// is neither the request's own nor allowed. A request without Origin (not from a browser)
/// passes.
pub(super) fn check_origin(allow: &Allow, headers: &HeaderMap) -> Result<(), Refusal> {
    let host = header(headers, HOST);
    if let Some(hosts) = &allow.hosts {
        match host {
            Some(h) if host_allowed(hosts, h) => {}
            Some(h) => {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "Host {h:?} is not allowed (allowed_hosts protects against DNS rebinding)"
                    ),
                ));
            }
            None => {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    "the Host header is missing",
                ));
            }
        }
    }
    let Some(origin) = header(headers, ORIGIN) else {
        return Ok(());
    };
    let lower = origin.to_ascii_lowercase();
    if allow.origins.iter().any(|o| *o == lower || o == "*") {
        return Ok(());
    }
    // Same origin: the Origin's authority is the Host the request was sent to.
    let authority = lower
        .split_once("://")
        .map(|(_, a)| a.trim_end_matches('/'));
    let same = match (authority, host) {
        (Some(a), Some(h)) => a == h.to_ascii_lowercase(),
        _ => false,
    };
    let host_ok = authority.is_some_and(|a| {
        allow
            .hosts
            .as_ref()
            .is_some_and(|hosts| host_allowed(hosts, a))
    });
    if same || host_ok {
        return Ok(());
    }
    Err(Refusal::new(
        StatusCode::FORBIDDEN,
        format!("Origin {origin:?} is not allowed (add it to allowed_origins)"),
    ))
}

/// Whether an Accept header admits `mime` (`type/sub`), wildcards included.
fn accepts(headers: &HeaderMap, mime: &str) -> bool {
    let (ty, _) = mime.split_once('/').unwrap_or((mime, ""));
    headers.get_all(ACCEPT).iter().any(|v| {
        v.to_str().unwrap_or("").split(',').any(|item| {
            // Compared in place, case-insensitively: no copy per request.
            let item = item.split(';').next().unwrap_or("").trim();
            item.eq_ignore_ascii_case(mime)
                || item == "*/*"
                || item
                    .split_once('/')
                    .is_some_and(|(t, sub)| sub == "*" && t.eq_ignore_ascii_case(ty))
        })
    })
}

/// POST: the client must take JSON, and SSE too unless the server only answers JSON (406);
/// the body must be JSON (415).
pub(super) fn check_post(headers: &HeaderMap, json_only: bool) -> Result<(), Refusal> {
    let json = accepts(headers, "application/json");
    let sse = accepts(headers, "text/event-stream");
    if !json || !(sse || json_only) {
        return Err(Refusal::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: the client must accept both application/json and text/event-stream",
        ));
    }
    let ct = header(headers, CONTENT_TYPE).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Unsupported Media Type: the body must be application/json, not {ct:?}"),
        ));
    }
    Ok(())
}

/// GET: the client must take SSE (406).
pub(super) fn check_get(headers: &HeaderMap) -> Result<(), Refusal> {
    if accepts(headers, "text/event-stream") {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: a GET stream needs Accept: text/event-stream",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn loopback_host_and_origin() {
        let allow = Allow {
            hosts: Some(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]),
            origins: Vec::new(),
        };
        assert!(check_origin(&allow, &headers(&[("host", "127.0.0.1:8080")])).is_ok());
        assert!(check_origin(&allow, &headers(&[("host", "[::1]:8080")])).is_ok());
        assert!(check_origin(&allow, &headers(&[("host", "evil.example.com")])).is_err());
        assert!(check_origin(&allow, &headers(&[("host", "LocalHost:8080")])).is_ok());
        assert!(check_origin(&allow, &headers(&[("host", "localhost.evil:80")])).is_err());
        let with_port = Allow {
            hosts: Some(vec!["[::1]:8080".into()]),
            ..allow.clone()
        };
        assert!(check_origin(&with_port, &headers(&[("host", "[::1]:8080")])).is_ok());
        assert!(check_origin(&with_port, &headers(&[("host", "[::1]:9090")])).is_err());
        assert!(
            check_origin(
                &allow,
                &headers(&[
                    ("host", "localhost:8080"),
                    ("origin", "http://localhost:8080")
                ])
            )
            .is_ok()
        );
        assert!(
            check_origin(
                &allow,
                &headers(&[
                    ("host", "localhost:8080"),
                    ("origin", "http://evil.example.com")
                ])
            )
            .is_err()
        );
    }

    #[test]
    fn accept_wildcards() {
        assert!(
            check_post(
                &headers(&[
                    ("accept", "*/*"),
                    ("content-type", "application/json; charset=utf-8")
                ]),
                false
            )
            .is_ok()
        );
        assert!(
            check_post(
                &headers(&[
                    ("accept", "application/json"),
                    ("content-type", "application/json")
                ]),
                false
            )
            .is_err()
        );
    }
}
