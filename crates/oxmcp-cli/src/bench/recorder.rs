//! What a load run measured: latencies in two HdrHistograms, counts, errors by kind; and
//! the loop one connection runs, written against a [`Clock`] and a [`Service`] so tests
//! drive it on virtual time.
//!
//! **Coordinated omission.** In an open loop each request has an *intended* start, on a
//! fixed schedule. When the server stalls, the connection falls behind and later requests
//! go out late; timing them from when they were actually sent hides the stall (the
//! requests that waited behind it look fast). The *corrected* histogram times each request
//! from its intended start, as a user arriving on schedule would have seen it; the
//! *uncorrected* one from its actual start. In a closed loop both are the same.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Time since the run began, as the loop sees it.
pub trait Clock {
    /// Now.
    fn now(&self) -> Duration;
    /// Waits until `t` (at once if it has passed).
    fn sleep_until(&self, t: Duration) -> impl Future<Output = ()>;
}

/// One request–reply exchange with the server under test.
pub trait Service {
    /// Sends one request and checks its reply: `Err(kind)` names what went wrong (a wrong
    /// reply is an error, counted by kind).
    fn call(&mut self) -> impl Future<Output = Result<(), String>>;
}

/// Latencies are recorded in microseconds, from 1 µs to one hour, 3 significant digits.
const MAX_MICROS: u64 = 3_600_000_000;

/// Counts and latencies of one connection, or of a whole run once merged.
#[derive(Debug, Clone)]
pub struct Recorder {
    corrected: Histogram<u64>,
    uncorrected: Histogram<u64>,
    /// Requests sent.
    pub sent: u64,
    /// Requests answered correctly.
    pub answered: u64,
    /// Failed requests by kind.
    pub errors: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

// Bounds and precision are constants hdrhistogram accepts (low ≥ 1, high ≥ 2·low,
// 3 significant digits): nothing input-derived can make this fail.
#[allow(clippy::expect_used)]
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant histogram bounds")
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, MAX_MICROS)
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Recorder {
            corrected: histogram(),
            uncorrected: histogram(),
            sent: 0,
            answered: 0,
            errors: BTreeMap::new(),
        }
    }

    /// A correct answer to a request meant to start at `intended`, sent at `started`,
    /// answered at `ended`.
    pub fn answered(&mut self, intended: Duration, started: Duration, ended: Duration) {
        self.answered += 1;
        let _ = self
            .corrected
            .record(micros(ended.saturating_sub(intended)));
        let _ = self
            .uncorrected
            .record(micros(ended.saturating_sub(started)));
    }

    /// A failed request.
    pub fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_owned()).or_default() += 1;
    }

    /// Failed requests in all.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Adds another connection's counts and latencies.
    pub fn merge(&mut self, other: &Recorder) {
        let _ = self.corrected.add(&other.corrected);
        let _ = self.uncorrected.add(&other.uncorrected);
        self.sent += other.sent;
        self.answered += other.answered;
        for (k, n) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += n;
        }
    }

    /// The corrected latency at `quantile` (0..=1).
    pub fn corrected_at(&self, quantile: f64) -> Duration {
        Duration::from_micros(self.corrected.value_at_quantile(quantile))
    }

    /// The uncorrected latency at `quantile` (0..=1).
    pub fn uncorrected_at(&self, quantile: f64) -> Duration {
        Duration::from_micros(self.uncorrected.value_at_quantile(quantile))
    }

    /// The summary of a run that lasted `elapsed`.
    pub fn report(&self, elapsed: Duration) -> Report {
        let q = |h: &Histogram<u64>| Latency {
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        };
        Report {
            seconds: elapsed.as_secs_f64(),
            sent: self.sent,
            answered: self.answered,
            errors: self.errors.clone(),
            requests_per_second: self.answered as f64 / elapsed.as_secs_f64().max(1e-9),
            latency: q(&self.corrected),
            uncorrected_latency: q(&self.uncorrected),
        }
    }
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// The slowest.
    pub max_us: u64,
}

/// The summary of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// How long the measured part lasted.
    pub seconds: f64,
    /// Requests sent.
    pub sent: u64,
    /// Requests answered correctly.
    pub answered: u64,
    /// Failed requests by kind.
    pub errors: BTreeMap<String, u64>,
    /// Correct answers per second.
    pub requests_per_second: f64,
    /// Latency from each request's intended start (corrected for coordinated omission).
    pub latency: Latency,
    /// Latency from each request's actual start.
    pub uncorrected_latency: Latency,
}

/// How one connection paces its requests until `end` (time since the run began).
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// When this connection starts.
    pub start: Duration,
    /// When it stops sending.
    pub end: Duration,
    /// `Some(interval)`: an open loop, one request per interval on a fixed schedule;
    /// `None`: a closed loop, the next request as soon as the last is answered.
    pub interval: Option<Duration>,
}

/// Runs one connection's loop: sends, checks, records, until `pace.end`.
pub async fn drive<C: Clock, S: Service>(
    clock: &C,
    service: &mut S,
    pace: Pace,
    rec: &mut Recorder,
) {
    let mut k: u32 = 0;
    loop {
        let intended = match pace.interval {
            Some(iv) => pace.start + iv * k,
            None => clock.now(),
        };
        if intended >= pace.end {
            return;
        }
        if pace.interval.is_some() {
            clock.sleep_until(intended).await;
        }
        let started = clock.now();
        rec.sent += 1;
        match service.call().await {
            Ok(()) => rec.answered(intended, started, clock.now()),
            Err(kind) => rec.error(&kind),
        }
        k = k.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Virtual time: sleeping jumps forward; the fake server advances it by its service
    /// time.
    struct Virtual(Cell<Duration>);

    impl Clock for Virtual {
        fn now(&self) -> Duration {
            self.0.get()
        }
        async fn sleep_until(&self, t: Duration) {
            if t > self.0.get() {
                self.0.set(t);
            }
        }
    }

    /// A server that takes `service` per request, and `stall` once, at request `stall_at`.
    struct Fake<'a> {
        clock: &'a Virtual,
        service: Duration,
        stall: Option<(u64, Duration)>,
        n: u64,
    }

    impl Service for Fake<'_> {
        async fn call(&mut self) -> Result<(), String> {
            let took = match self.stall {
                Some((at, d)) if at == self.n => d,
                _ => self.service,
            };
            self.n += 1;
            self.clock.0.set(self.clock.0.get() + took);
            Ok(())
        }
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_one_millisecond_service_time_gives_a_one_millisecond_median() {
        let clock = Virtual(Cell::new(Duration::ZERO));
        let mut fake = Fake {
            clock: &clock,
            service: MS,
            stall: None,
            n: 0,
        };
        let mut rec = Recorder::new();
        let pace = Pace {
            start: Duration::ZERO,
            end: Duration::from_secs(1),
            interval: None,
        };
        futures::executor::block_on(drive(&clock, &mut fake, pace, &mut rec));
        assert_eq!(rec.sent, 1000);
        assert_eq!(rec.answered, rec.sent);
        // One millisecond, within the histogram's 3 significant digits.
        let p50 = rec.corrected_at(0.5);
        assert!(
            p50 >= Duration::from_micros(999) && p50 <= Duration::from_micros(1001),
            "{p50:?}"
        );
        assert_eq!(
            rec.corrected_at(0.5),
            rec.uncorrected_at(0.5),
            "a closed loop needs no correction"
        );
    }

    #[test]
    fn a_stall_in_an_open_loop_shows_in_the_corrected_p99_only() {
        // 2 s at 1,000 requests/s on one connection; one request stalls the server 100 ms.
        let clock = Virtual(Cell::new(Duration::ZERO));
        let mut fake = Fake {
            clock: &clock,
            service: MS,
            stall: Some((500, 100 * MS)),
            n: 0,
        };
        let mut rec = Recorder::new();
        let pace = Pace {
            start: Duration::ZERO,
            end: Duration::from_secs(2),
            interval: Some(MS),
        };
        futures::executor::block_on(drive(&clock, &mut fake, pace, &mut rec));
        assert_eq!(rec.sent, 2000);
        let corrected = rec.corrected_at(0.99);
        let uncorrected = rec.uncorrected_at(0.99);
        assert!(corrected >= 80 * MS, "corrected p99 {corrected:?}");
        assert!(
            uncorrected <= Duration::from_micros(1001),
            "uncorrected p99 {uncorrected:?}"
        );
        // The one stalled request is the uncorrected maximum.
        assert!(rec.uncorrected_at(1.0) >= 100 * MS);
    }

    #[test]
    fn errors_are_counted_by_kind_and_merge_adds_up() {
        let mut a = Recorder::new();
        a.sent = 3;
        a.answered(Duration::ZERO, Duration::ZERO, MS);
        a.error("http 503");
        a.error("wrong reply");
        let mut b = Recorder::new();
        b.sent = 1;
        b.error("http 503");
        a.merge(&b);
        assert_eq!(a.sent, 4);
        assert_eq!(a.answered + a.error_count(), a.sent);
        assert_eq!(a.errors["http 503"], 2);
    }
}
