//! Running a request's handler in place when it is done at once: most handlers (a lookup,
//! an echo) finish on their first poll, and a task per request would cost a spawn, a
//! join and an abort handle for nothing.

use std::pin::Pin;
use std::task::Poll;

/// Polls `fut` once, here. `Ok(output)` when it finished; otherwise the future, to be run
/// on a task of its own (its next poll there registers that task's waker).
pub(crate) async fn poll_once<F: Future + ?Sized>(
    mut fut: Pin<Box<F>>,
) -> Result<F::Output, Pin<Box<F>>> {
    match std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(fut),
    }
}
