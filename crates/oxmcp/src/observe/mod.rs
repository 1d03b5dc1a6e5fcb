//! What operators watch: health (liveness and readiness), Prometheus metrics, logs and
//! traces.

pub mod health;
pub mod logs;
pub mod metrics;
pub mod trace;

pub use health::{Health, Readiness};
pub use metrics::Metrics;
