//! The outbox: a message is written to the store before it is sent and leaves only when the
//! server accepted it. Transient failures are retried with backoff, a revoked grant makes the
//! message wait for a reauthorization, and after a crash a message left `sending` is queued
//! again (at least once; see docs/outbox.md).

mod accepted;
mod backoff;
mod hooks;
mod lease;
mod owner;
mod queue;
pub(crate) mod retention;
mod service;
mod store;
mod worker;

use serde::Serialize;
use ts_rs::TS;

use crate::error::Explanation;

pub use backoff::Backoff;
pub use hooks::{OutboxHooks, SendTarget};
pub use queue::Outbox;
pub(crate) use service::{target_of, Courier, StatusSource};

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Stored, not yet tried (or due for another try).
    Queued,
    /// A connection is carrying it now.
    Sending,
    /// The server accepted it (250 after DATA).
    Sent,
    /// Refused for good; kept with the reason until the person retries or discards it.
    Failed,
    /// Held until the account is authorized again.
    Waiting,
}

impl OutboxState {
    /// The name stored in the database and shown to programs.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Waiting => "waiting",
        }
    }

    /// The state for a stored name.
    pub fn parse(s: &str) -> Option<OutboxState> {
        Some(match s {
            "queued" => OutboxState::Queued,
            "sending" => OutboxState::Sending,
            "sent" => OutboxState::Sent,
            "failed" => OutboxState::Failed,
            "waiting" => OutboxState::Waiting,
            _ => return None,
        })
    }

    /// Whether the message will not move again without the person (sent, failed, waiting).
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            OutboxState::Sent | OutboxState::Failed | OutboxState::Waiting
        )
    }
}

impl std::fmt::Display for OutboxState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message in the outbox, as the UI and the command line see it (docs/ipc.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    /// The row id.
    pub id: i64,
    /// The sending account.
    pub account: String,
    /// The visible To addresses.
    pub to: Vec<String>,
    /// The subject.
    pub subject: String,
    /// Where it is.
    pub state: OutboxState,
    /// How many times a connection carried it.
    pub attempts: u32,
    /// Why the last try did not deliver it.
    pub last_error: Option<Explanation>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub sent_at: Option<String>,
    /// The Message-ID without angle brackets, the same on every try.
    pub message_id: String,
    /// The message's size in bytes.
    pub size_bytes: u64,
}
