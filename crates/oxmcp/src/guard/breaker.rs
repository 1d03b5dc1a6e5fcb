//! A circuit breaker per tool: a tool that keeps failing or timing out fails fast for a
//! cool-down, then lets one call through (half-open); that call's outcome closes the
//! breaker or opens it again.
//!
//! A failure is a handler that returns an error other than a JSON-RPC one, panics, or
//! runs past its timeout. An `isError: true` result the tool chose to return (bad input,
//! say) is not one: that is the tool working.

use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// When a tool's breaker opens, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BreakerPolicy {
    /// Consecutive failures that open the breaker (default 5).
    pub failures: u32,
    /// How long it stays open before one call may try again (default 30 s).
    pub cool_down: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            failures: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

impl BreakerPolicy {
    /// Opens after `failures` consecutive failures, for `cool_down`.
    pub fn new(failures: u32, cool_down: Duration) -> Self {
        BreakerPolicy {
            failures: failures.max(1),
            cool_down,
        }
    }
}

/// A breaker's state, as `oxmcp_tool_breaker_state` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakerState {
    /// Calls run (0).
    Closed,
    /// Calls fail fast (1).
    Open,
    /// One call runs to test the tool (2).
    HalfOpen,
}

impl BreakerState {
    /// The gauge's value.
    pub fn value(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }

    /// The state's name in health bodies.
    pub fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

#[derive(Debug)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// The probe call is out.
    HalfOpen,
}

/// One tool's breaker.
impl State {
    fn public(&self) -> BreakerState {
        match self {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen => BreakerState::HalfOpen,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Breaker {
    state: Mutex<State>,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }
}

impl Breaker {
    /// Whether a call may run now; `Err` carries how long until one may.
    pub(crate) fn admit(&self, now: impl FnOnce() -> Instant) -> Result<(), Duration> {
        let mut s = self.state.lock();
        match *s {
            State::Closed { .. } => Ok(()),
            State::Open { until } => {
                let now = now();
                if now < until {
                    return Err(until - now);
                }
                *s = State::HalfOpen;
                Ok(())
            }
            // The probe decides; until then, wait about as long as a call takes.
            State::HalfOpen => Err(Duration::from_secs(1)),
        }
    }

    /// Records a call's outcome (`failed`: it counts toward opening).
    pub(crate) fn record(
        &self,
        failed: bool,
        policy: &BreakerPolicy,
        now: impl FnOnce() -> Instant,
    ) -> BreakerState {
        let mut s = self.state.lock();
        *s = match (&*s, failed) {
            (_, false) => State::Closed { failures: 0 },
            (State::Closed { failures }, true) if failures + 1 < policy.failures => State::Closed {
                failures: failures + 1,
            },
            (State::Open { until }, true) => State::Open { until: *until },
            (_, true) => State::Open {
                until: now() + policy.cool_down,
            },
        };
        s.public()
    }

    /// The state now.
    pub(crate) fn state(&self) -> BreakerState {
        self.state.lock().public()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_failures_then_half_opens_after_the_cool_down() {
        let policy = BreakerPolicy::new(3, Duration::from_secs(10));
        let b = Breaker::default();
        let t0 = Instant::now();
        for _ in 0..2 {
            assert!(b.admit(|| t0).is_ok());
            b.record(true, &policy, || t0);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        // A success in between resets the count.
        b.record(false, &policy, || t0);
        for _ in 0..3 {
            b.record(true, &policy, || t0);
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.admit(|| t0), Err(Duration::from_secs(10)));
        let later = t0 + Duration::from_secs(10);
        assert!(b.admit(|| later).is_ok(), "one probe after the cool-down");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.admit(|| later).is_err(), "only one probe at a time");
        b.record(true, &policy, || later);
        assert_eq!(
            b.state(),
            BreakerState::Open,
            "a failed probe opens it again"
        );
        let later = later + Duration::from_secs(10);
        assert!(b.admit(|| later).is_ok());
        b.record(false, &policy, || later);
        assert_eq!(b.state(), BreakerState::Closed, "a good probe closes it");
    }
}
