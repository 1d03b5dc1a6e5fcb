//! Rate limits (GCRA, from `governor`): per session, per client address, per principal.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

/// Who a request acts for, as authentication established it: an HTTP request extension.
/// Rate limits per principal key on it. Set by an authentication layer (a token's subject,
/// an mTLS client's certificate subject) in front of the service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal(pub Arc<str>);

impl Principal {
    /// The principal named `name`.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Principal(name.into())
    }
}

/// A rate: `count` requests per `per`, in bursts of up to `count`. Written `"100/s"`,
/// `"600/min"` or `"5000/h"` in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (and the largest burst).
    pub count: NonZeroU32,
    /// The period.
    pub per: Duration,
}

impl Rate {
    /// `count` per `per` (a `count` of 0 reads as 1; a zero period as one second).
    pub fn new(count: u32, per: Duration) -> Self {
        Rate {
            count: NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN),
            per: if per.is_zero() {
                Duration::from_secs(1)
            } else {
                per
            },
        }
    }

    /// Parses `"N/s"`, `"N/min"` or `"N/h"`.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad =
            || format!("{text:?} is not a rate: write it as \"100/s\", \"600/min\" or \"5000/h\"");
        let (n, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(format!("{text:?}: the count must be at least 1"));
        }
        Ok(Rate::new(count, per))
    }

    fn quota(self) -> Quota {
        let period = self.per / self.count.get();
        Quota::with_period(period.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(self.count))
            .allow_burst(self.count)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            3600 => "h",
            60 => "min",
            _ => "s",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// One limiter (a session's).
#[derive(Debug)]
pub(crate) struct Limit(DefaultDirectRateLimiter);

impl Limit {
    pub(crate) fn new(rate: Rate) -> Self {
        Limit(DefaultDirectRateLimiter::direct(rate.quota()))
    }

    /// `Err(wait)` when over the rate.
    pub(crate) fn check(&self) -> Result<(), Duration> {
        self.0
            .check()
            .map_err(|n| n.wait_time_from(DefaultClock::default().now()))
    }
}

/// A limiter per key (client address, principal), swept of idle keys now and then.
pub(crate) struct KeyedLimit<K: Hash + Eq + Clone>(DefaultKeyedRateLimiter<K>);

impl<K: Hash + Eq + Clone> std::fmt::Debug for KeyedLimit<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLimit")
            .field("keys", &self.0.len())
            .finish()
    }
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    pub(crate) fn new(rate: Rate) -> Self {
        KeyedLimit(DefaultKeyedRateLimiter::keyed(rate.quota()))
    }

    /// `Err(wait)` when `key` is over the rate.
    pub(crate) fn check(&self, key: &K) -> Result<(), Duration> {
        self.0
            .check_key(key)
            .map_err(|n| n.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets keys whose limiter is back to full: the map holds only recent clients.
    pub(crate) fn sweep(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print() {
        let r = Rate::parse("600/min").unwrap();
        assert_eq!(r.count.get(), 600);
        assert_eq!(r.per, Duration::from_secs(60));
        assert_eq!(r.to_string(), "600/min");
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("ten/s").unwrap_err().contains("100/s"));
        assert!(Rate::parse("5/day").is_err());
    }

    #[test]
    fn a_burst_passes_then_the_next_waits() {
        let l = Limit::new(Rate::new(3, Duration::from_secs(60)));
        for _ in 0..3 {
            assert!(l.check().is_ok());
        }
        let wait = l.check().unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(20));
        let k = KeyedLimit::new(Rate::new(1, Duration::from_secs(60)));
        assert!(k.check(&"a").is_ok());
        assert!(k.check(&"a").is_err());
        assert!(k.check(&"b").is_ok(), "each key has its own budget");
    }
}
