//! What operators watch: health (liveness and readiness), Prometheus metrics, and logs.

pub mod health;
pub mod logs;
pub mod metrics;

pub use health::{Health, Readiness};
pub use metrics::Metrics;
