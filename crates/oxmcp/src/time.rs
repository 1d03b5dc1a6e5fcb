//! The runtime's clock: tokio's, so tests can pause and advance it.

/// Now, as the protocol core takes it.
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}
