//! The outbound side of a line transport: the writer task that drains a connection's
//! bounded queue, and queueing from a place that cannot wait (a destructor).

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

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

/// Buffered bytes that are written at once, queue empty or not: enough to carry a batch
/// of answers in one write, little enough that a reader who stops reading makes the
/// writer wait soon (the queue behind it is what bounds the rest).
const FLUSH_AT: usize = 8 * 1024;

/// Writes queued messages, one per line, flushing whenever the queue runs dry (after letting
/// ready tasks add theirs), until every
/// sender is gone or `stop` fires (then what is queued is drained first). Ends with a flush
/// and a shutdown of the writer.
pub(crate) async fn write_lines<W: AsyncWrite + Unpin>(
    writer: W,
    mut rx: mpsc::Receiver<Vec<u8>>,
    mut stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let mut w = tokio::io::BufWriter::with_capacity(64 * 1024, writer);
    loop {
        let msg = tokio::select! {
            biased;
            m = rx.recv() => m,
            Ok(()) = &mut stop => {
                while let Ok(m) = rx.try_recv() {
                    w.write_all(&m).await?;
                    w.write_all(b"\n").await?;
                }
                break;
            }
        };
        let Some(msg) = msg else { break };
        w.write_all(&msg).await?;
        w.write_all(b"\n").await?;
        if w.buffer().len() >= FLUSH_AT {
            w.flush().await?;
        } else if rx.is_empty() {
            // Handlers that are ready to answer run first; then one write carries them all
            // (under pipelined load, one write per batch instead of one per message).
            tokio::task::yield_now().await;
            if rx.is_empty() {
                w.flush().await?;
            }
        }
    }
    w.flush().await?;
    w.shutdown().await.or(Ok(()))
}
