//! The HTTP-edge guards: who the client is (its address, its principal) and the limits
//! keyed on it, checked before a body is read: requests per address and per principal,
//! `initialize` per address, sessions per address, and connections (in [`super::serve`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode};

use super::HttpOptions;
use super::body::HttpBody;
use super::guard::refuse_with;
use crate::guard::Principal;
use crate::guard::per_ip::{IpSlot, PerIp};
use crate::guard::rate::KeyedLimit;
use crate::observe::Metrics;
use crate::observe::metrics::Reject;

/// The address of the peer that sent a request: an HTTP request extension. [`super::serve`]
/// sets it; a service mounted elsewhere gets it from the embedder (axum's `ConnectInfo`
/// mapped into this), or has no per-address limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// The limits keyed on who the client is, and the counts behind them.
pub(super) struct Edge {
    ip_rate: Option<KeyedLimit<IpAddr>>,
    principal_rate: Option<KeyedLimit<Principal>>,
    init_rate: Option<KeyedLimit<IpAddr>>,
    max_sessions_per_ip: Option<usize>,
    sessions: PerIp,
    trusted_proxies: Vec<IpAddr>,
    /// Open connections (counted by [`super::serve`]), in total and per address.
    pub(super) connections: std::sync::Arc<AtomicUsize>,
    pub(super) connections_per_ip: PerIp,
}

/// A refusal by an edge limit: the status, the reason, and when to retry.
pub(super) struct Limited {
    status: StatusCode,
    reason: Reject,
    wait: Duration,
    message: String,
}

impl Limited {
    fn rate(reason: Reject, wait: Duration, what: &str) -> Limited {
        Limited {
            status: StatusCode::TOO_MANY_REQUESTS,
            reason,
            wait,
            message: format!(
                "Too Many Requests: {what} ({}); retry later",
                reason.label()
            ),
        }
    }

    /// The response, counted under its reason.
    pub(super) fn response(self, metrics: &Metrics) -> Response<HttpBody> {
        metrics.reject(self.reason);
        retry_later(self.status, self.message, self.reason, self.wait)
    }
}

/// `status` with `Retry-After` in whole seconds (at least 1), and the overload error
/// (-31429) naming the limit, with `data.retryAfterMs` and `data.limit`.
pub(super) fn retry_later(
    status: StatusCode,
    message: impl Into<String>,
    reason: Reject,
    wait: Duration,
) -> Response<HttpBody> {
    let e = oxmcp_proto::ErrorObject::overloaded(message, wait.as_millis() as u64)
        .with_limit(reason.label());
    let mut r = refuse_with(status, &e);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        r.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    r
}

impl Edge {
    pub(super) fn new(opts: &HttpOptions) -> Self {
        Edge {
            ip_rate: opts.rate_per_ip.map(KeyedLimit::new),
            principal_rate: opts.rate_per_principal.map(KeyedLimit::new),
            init_rate: opts.initialize_rate_per_ip.map(KeyedLimit::new),
            max_sessions_per_ip: opts.max_sessions_per_ip,
            sessions: PerIp::default(),
            trusted_proxies: opts.trusted_proxies.clone(),
            connections: Default::default(),
            connections_per_ip: PerIp::default(),
        }
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the last
    /// address of `X-Forwarded-For` that is not one.
    pub(super) fn client_ip<B>(&self, req: &Request<B>) -> Option<IpAddr> {
        let peer = req.extensions().get::<ClientAddr>()?.0.ip();
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|a| !self.trusted_proxies.contains(a))
                .unwrap_or(peer),
        )
    }

    /// The rates of every POST: per address and per principal.
    pub(super) fn check_request(
        &self,
        ip: Option<IpAddr>,
        principal: Option<&Principal>,
    ) -> Result<(), Limited> {
        if let (Some(limit), Some(ip)) = (&self.ip_rate, ip) {
            limit.check(&ip).map_err(|w| {
                Limited::rate(Reject::RateIp, w, "too many requests from this address")
            })?;
        }
        if let (Some(limit), Some(p)) = (&self.principal_rate, principal) {
            limit.check(p).map_err(|w| {
                Limited::rate(
                    Reject::RatePrincipal,
                    w,
                    "too many requests for this principal",
                )
            })?;
        }
        Ok(())
    }

    /// An `initialize` that would open a session: the address's budget of `initialize`
    /// and of sessions. The slot counts the session until it is dropped.
    pub(super) fn check_initialize(
        &self,
        ip: Option<IpAddr>,
        retry: Duration,
    ) -> Result<Option<IpSlot>, Limited> {
        let Some(ip) = ip else { return Ok(None) };
        if let Some(limit) = &self.init_rate {
            limit.check(&ip).map_err(|w| {
                Limited::rate(
                    Reject::InitializeRate,
                    w,
                    "too many sessions opened from this address",
                )
            })?;
        }
        let Some(max) = self.max_sessions_per_ip else {
            return Ok(None);
        };
        match self.sessions.try_acquire(ip, max) {
            Some(slot) => Ok(Some(slot)),
            None => Err(Limited {
                status: StatusCode::TOO_MANY_REQUESTS,
                reason: Reject::SessionsPerIp,
                wait: retry,
                message: format!(
                    "Too Many Requests: this address holds its limit of {max} sessions (max_sessions_per_ip); end one with DELETE first"
                ),
            }),
        }
    }

    /// Forgets addresses whose rate budget is full again (called now and then).
    pub(super) fn sweep(&self) {
        for l in [&self.ip_rate, &self.init_rate].into_iter().flatten() {
            l.sweep();
        }
        if let Some(l) = &self.principal_rate {
            l.sweep();
        }
    }

    /// Open connections.
    pub(super) fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}
