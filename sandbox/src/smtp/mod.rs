//! Gmail's SMTP server (docs/google.md, "Gmail SMTP"): an implicit-TLS listener (like port 465)
//! and a plain-then-STARTTLS listener (like port 587), one task per connection.

mod auth;
mod reply;
mod session;
mod stream;
mod transaction;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::state::Shared;

/// How long a connection may stay silent before the server hangs up.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Which of Gmail's two ports a listener plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmtpMode {
    /// TLS from the first byte (465).
    ImplicitTls,
    /// Plain text until STARTTLS (587).
    StartTls,
}

/// Accepts connections until the task is aborted; aborting also ends every session.
pub(crate) async fn listen(listener: TcpListener, mode: SmtpMode, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    loop {
        while sessions.try_join_next().is_some() {}
        let (tcp, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::debug!("smtp accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        shared.counts.bump("smtp.connections");
        let shared = shared.clone();
        sessions.spawn(async move {
            session::run(tcp, peer, mode, shared).await;
        });
    }
}
