//! stdio: one session on stdin/stdout, newline-delimited JSON. Only protocol goes to stdout;
//! logs go to stderr.

use crate::server::Server;

/// Serves `server` on stdin/stdout until stdin ends, then lets requests in flight finish
/// within the shutdown grace, flushes stdout and returns.
pub async fn serve(server: Server) -> std::io::Result<()> {
    crate::connection::serve_lines(server, tokio::io::stdin(), tokio::io::stdout()).await
}
