//! The runtime's clock: tokio's, so tests can pause and advance it.

/// Now, as the protocol core takes it.
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Sleeps until `deadline`, or forever when there is none (a `select!` arm that never fires).
pub(crate) async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// A timer for a loop that waits on a deadline which moves: one timer entry, reset in
/// place. A fresh `sleep_until` per turn of the loop registers a new entry each time,
/// and one earlier than the driver's next wake-up makes tokio wake its I/O driver (a
/// write to an eventfd) — under load, a system call per request for nothing. Moving an
/// armed entry later costs no more than a store.
pub(crate) struct Alarm {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    armed: bool,
}

impl Alarm {
    /// An alarm that is not armed.
    pub(crate) fn new() -> Self {
        // Never polled before `arm` sets a real deadline.
        let far = tokio::time::Instant::now() + std::time::Duration::from_secs(86_400 * 365);
        Alarm {
            sleep: Box::pin(tokio::time::sleep_until(far)),
            armed: false,
        }
    }

    /// Arms the alarm for `deadline`, or disarms it when there is none.
    fn arm(&mut self, deadline: Option<tokio::time::Instant>) {
        match deadline {
            Some(d) => {
                if !self.armed || self.sleep.deadline() != d {
                    self.sleep.as_mut().reset(d);
                }
                self.armed = true;
            }
            None => self.armed = false,
        }
    }

    /// Arms the alarm for `deadline` and waits for it: forever when there is none (a
    /// `select!` arm that never fires).
    pub(crate) async fn at(&mut self, deadline: Option<tokio::time::Instant>) {
        self.arm(deadline);
        if !self.armed {
            return std::future::pending().await;
        }
        self.sleep.as_mut().await;
        self.armed = false;
    }
}
