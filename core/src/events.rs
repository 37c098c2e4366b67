//! Changes core publishes (status, accounts, outbox, activity, authorization progress); the
//! shell forwards each to the windows under [`Event::name`].

use serde::Serialize;
use tokio::sync::broadcast;

use crate::activity::Activity;
use crate::error::Explanation;
use crate::outbox::OutboxItem;
use crate::status::{Account, TokenStatus};

/// Where an authorization in progress is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizePhase {
    /// The loopback listener is bound.
    Listening,
    /// The browser was asked to open the consent page.
    BrowserOpened,
    /// No browser could be opened: the URL is shown; the flow waits (paste is possible).
    Waiting,
    /// The grant is stored.
    Done,
    /// The flow ended with an error.
    Failed,
    /// The person cancelled.
    Cancelled,
}

/// The `postern://authorize` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeProgress {
    /// Where the flow is.
    pub phase: AuthorizePhase,
    /// The consent URL (holds no secret: state and the PKCE challenge only).
    pub url: Option<String>,
    /// Why it failed.
    pub error: Option<Explanation>,
}

/// One change.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Event {
    /// An account's token status changed.
    Status(Box<TokenStatus>),
    /// The list of accounts changed.
    Accounts(Vec<Account>),
    /// An outbox item changed.
    Outbox(OutboxItem),
    /// A new activity entry.
    Activity(Activity),
    /// Authorization progress.
    Authorize(AuthorizeProgress),
}

impl Event {
    /// The event name the UI listens to (docs/ipc.md).
    pub fn name(&self) -> &'static str {
        match self {
            Event::Status(_) => "postern://status",
            Event::Accounts(_) => "postern://accounts",
            Event::Outbox(_) => "postern://outbox",
            Event::Activity(_) => "postern://activity",
            Event::Authorize(_) => "postern://authorize",
        }
    }

    /// The payload alone, as JSON.
    pub fn payload(&self) -> serde_json::Value {
        let v = match self {
            Event::Status(s) => serde_json::to_value(s),
            Event::Accounts(a) => serde_json::to_value(a),
            Event::Outbox(o) => serde_json::to_value(o),
            Event::Activity(a) => serde_json::to_value(a),
            Event::Authorize(p) => serde_json::to_value(p),
        };
        v.unwrap_or(serde_json::Value::Null)
    }
}

/// The channel events go out on. Clones share it.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            tx: broadcast::channel(256).0,
        }
    }
}

impl Events {
    /// Publishes to every current subscriber (none is fine).
    pub fn publish(&self, e: Event) {
        let _ = self.tx.send(e);
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_progress_serialises_per_ipc() {
        let e = Event::Authorize(AuthorizeProgress {
            phase: AuthorizePhase::BrowserOpened,
            url: Some("http://x".into()),
            error: None,
        });
        assert_eq!(e.name(), "postern://authorize");
        assert_eq!(
            e.payload(),
            serde_json::json!({"phase": "browser_opened", "url": "http://x", "error": null})
        );
    }
}
