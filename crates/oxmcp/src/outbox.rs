//! Queueing a message from a place that cannot wait (a destructor).

use tokio::sync::mpsc;

/// Queues `bytes` now if there is room, else from a spawned task once there is; drops it
/// only if the connection is gone.
pub(crate) fn send_now_or_later(out: &mpsc::Sender<Vec<u8>>, bytes: Vec<u8>) {
    if let Err(mpsc::error::TrySendError::Full(bytes)) = out.try_send(bytes)
        && let Ok(handle) = tokio::runtime::Handle::try_current()
    {
        let out = out.clone();
        handle.spawn(async move {
            let _ = out.send(bytes).await;
        });
    }
}
