//! The outbox: a message is written to the store before it is sent and leaves only when the
//! server accepted it. (Owned by the send issue; this is its public shape.)

use serde::Serialize;

use crate::error::Explanation;

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// One message in the outbox, as the UI and the command line see it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    pub id: i64,
    pub account: String,
    pub to: Vec<String>,
    pub subject: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub last_error: Option<Explanation>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub sent_at: Option<String>,
    pub message_id: String,
    pub size_bytes: u64,
}
