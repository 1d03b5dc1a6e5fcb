//! Liveness and readiness, as an orchestrator probes them.
//!
//! - **live**: the process answers. Always true while it serves at all.
//! - **ready**: it should be sent traffic. Not while *starting* (before the listener
//!   accepts), not while *draining* (a shutdown began: the load balancer must stop sending
//!   new clients before the listener closes), and not while a registered dependency check
//!   fails. The JSON body says which, and why.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use parking_lot::RwLock;
use serde_json::{Map, Value, json};

const STARTING: u8 = 0;
const READY: u8 = 1;
const DRAINING: u8 = 2;

/// A dependency readiness waits on: `Ok` when usable, else why not.
pub type Check = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// The service's lifecycle state and its dependency checks. Cheap to clone (a handle).
#[derive(Clone, Default)]
pub struct Health {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: AtomicU8,
    checks: RwLock<Vec<(String, Check)>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("state", &self.state_name())
            .field("checks", &self.inner.checks.read().len())
            .finish()
    }
}

/// What `/health/ready` answers: whether to send traffic, and the JSON body saying why.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Readiness {
    /// Whether the service should get traffic.
    pub ready: bool,
    /// `{"status": "ready" | "starting" | "draining" | "unavailable", "checks": {…}}`.
    pub body: Value,
}

impl Health {
    /// A service that is starting: not ready until [`Health::set_ready`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The service accepts traffic (its listener is open).
    pub fn set_ready(&self) {
        // A draining service stays draining.
        let _ =
            self.inner
                .state
                .compare_exchange(STARTING, READY, Ordering::AcqRel, Ordering::Acquire);
    }

    /// A shutdown began: readiness fails from now on.
    pub fn set_draining(&self) {
        self.inner.state.store(DRAINING, Ordering::Release);
    }

    /// Whether a shutdown began.
    pub fn is_draining(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) == DRAINING
    }

    /// Adds a dependency readiness waits on, under `name` (a name used again replaces the
    /// earlier check).
    pub fn add_check(
        &self,
        name: impl Into<String>,
        check: impl Fn() -> Result<(), String> + Send + Sync + 'static,
    ) {
        let name = name.into();
        let mut checks = self.inner.checks.write();
        checks.retain(|(n, _)| *n != name);
        checks.push((name, Arc::new(check)));
    }

    fn state_name(&self) -> &'static str {
        match self.inner.state.load(Ordering::Acquire) {
            STARTING => "starting",
            READY => "ready",
            _ => "draining",
        }
    }

    /// The readiness verdict, running every dependency check.
    pub fn readiness(&self) -> Readiness {
        let checks: Vec<(String, Check)> = self.inner.checks.read().clone();
        let mut report = Map::new();
        let mut failed = false;
        for (name, check) in checks {
            let entry = match check() {
                Ok(()) => json!({ "ok": true }),
                Err(reason) => {
                    failed = true;
                    json!({ "ok": false, "reason": reason })
                }
            };
            report.insert(name, entry);
        }
        let state = self.state_name();
        let status = match state {
            "ready" if failed => "unavailable",
            other => other,
        };
        let reason = match status {
            "starting" => Some("the server is starting: its listener is not accepting yet"),
            "draining" => Some("the server is shutting down: new traffic should go elsewhere"),
            "unavailable" => Some("a dependency is not usable (see checks)"),
            _ => None,
        };
        let mut body = json!({ "status": status, "checks": report });
        if let Some(r) = reason {
            body["reason"] = r.into();
        }
        Readiness {
            ready: status == "ready",
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_then_ready_then_draining_and_a_failing_dependency_says_why() {
        let h = Health::new();
        let r = h.readiness();
        assert!(!r.ready);
        assert_eq!(r.body["status"], "starting");
        h.set_ready();
        assert!(h.readiness().ready);
        let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = up.clone();
        h.add_check("store", move || {
            if flag.load(Ordering::Relaxed) {
                Ok(())
            } else {
                Err("connection refused".into())
            }
        });
        let r = h.readiness();
        assert!(!r.ready);
        assert_eq!(r.body["status"], "unavailable");
        assert_eq!(r.body["checks"]["store"]["reason"], "connection refused");
        up.store(true, Ordering::Relaxed);
        let r = h.readiness();
        assert!(r.ready, "{}", r.body);
        assert_eq!(r.body["checks"]["store"]["ok"], true);
        h.set_draining();
        h.set_ready();
        let r = h.readiness();
        assert!(!r.ready);
        assert_eq!(r.body["status"], "draining");
    }
}
