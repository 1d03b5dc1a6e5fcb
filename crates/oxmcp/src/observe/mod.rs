//! What operators watch: health (liveness and readiness) now; metrics and traces join it.

pub mod health;

pub use health::{Health, Readiness};
