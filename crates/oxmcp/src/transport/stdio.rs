//! stdio: one session on stdin/stdout, newline-delimited JSON. Only protocol goes to stdout;
//! logs go to stderr.
//!
//! MCP clients launch a stdio server with a pipe on each side. On Linux those pipes are
//! driven by tokio's reactor (non-blocking, epoll), not by its blocking thread pool: the
//! pool hands every read and write to another thread and back, which cost more CPU than
//! the whole request (measured in docs/BENCHMARKS.md). Anything else (a terminal, a file,
//! another platform) uses tokio's ordinary stdin and stdout.

use crate::server::Server;

/// Serves `server` on stdin/stdout until stdin ends, then lets requests in flight finish
/// within the shutdown grace, flushes stdout and returns.
pub async fn serve(server: Server) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Some((reader, writer)) = pipes::open() {
        tracing::debug!("stdio: non-blocking pipes");
        return crate::connection::serve_lines(server, reader, writer).await;
    }
    crate::connection::serve_lines(server, tokio::io::stdin(), tokio::io::stdout()).await
}

#[cfg(target_os = "linux")]
mod pipes {
    use std::fs::{File, OpenOptions};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

    use tokio::net::unix::pipe;

    /// stdin and stdout as reactor-driven pipes, if both are pipes.
    ///
    /// Each is reopened through `/proc/self/fd`, which gives this process an open file
    /// description of its own: `O_NONBLOCK` set on it does not reach the descriptors the
    /// process (or a child it spawns) inherited, which stay blocking. `O_NONBLOCK` is also
    /// given to `open` itself, which otherwise waits for the other end of a FIFO.
    pub(super) fn open() -> Option<(pipe::Receiver, pipe::Sender)> {
        let input = reopen(std::io::stdin().as_raw_fd(), false)?;
        let output = reopen(std::io::stdout().as_raw_fd(), true)?;
        let reader = pipe::Receiver::from_file(input).ok()?;
        let writer = pipe::Sender::from_file(output).ok()?;
        Some((reader, writer))
    }

    fn reopen(fd: i32, write: bool) -> Option<File> {
        let path = format!("/proc/self/fd/{fd}");
        // Only a FIFO: a terminal or a file keeps tokio's blocking handles.
        if !std::fs::metadata(&path).ok()?.file_type().is_fifo() {
            return None;
        }
        OpenOptions::new()
            .read(!write)
            .write(write)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&path)
            .ok()
    }
}
