//! Changes core publishes (status, accounts, outbox, activity, authorization progress); the
//! shell forwards each to the windows under [`Event::name`], with [`Event::payload`].

use serde::Serialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::activity::Activity;
use crate::error::Explanation;
use crate::outbox::OutboxItem;
use crate::status::{Account, TokenStatus};

/// Where an authorization in progress is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeProgress {
    /// Where the flow is.
    pub phase: AuthorizePhase,
    /// The consent URL (holds no secret: state and the PKCE challenge only).
    pub url: Option<String>,
    /// Why it failed.
    pub error: Option<Explanation>,
}

/// Declares the events from one list: each variant, the name the UI listens to, and its
/// payload. [`Event`], [`Event::name`], [`Event::payload`] and [`visit_events`] (from which the
/// UI's `bindings/events.ts` is generated) all come from it, so a name is written once.
macro_rules! events {
    ($($(#[$doc:meta])* $variant:ident($payload:ty) = $name:literal;)*) => {
        /// One change.
        #[derive(Debug, Clone, Serialize)]
        #[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
        pub enum Event {
            $($(#[$doc])* $variant($payload),)*
        }

        impl Event {
            /// The event name the UI listens to (docs/ipc.md).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Event::$variant(_) => $name,)*
                }
            }

            /// The payload alone, as JSON.
            pub fn payload(&self) -> serde_json::Value {
                let v = match self {
                    $(Event::$variant(p) => serde_json::to_value(p),)*
                };
                v.unwrap_or(serde_json::Value::Null)
            }
        }

        /// Tells `visitor` every event: its variant's name, its event name and its payload type.
        pub fn visit_events(visitor: &mut impl EventVisitor) {
            $(visitor.event::<$payload>(stringify!($variant), $name);)*
        }
    };
}

/// Receives the list of events (see [`visit_events`]); the UI's bindings are written by one.
pub trait EventVisitor {
    /// One event: `variant` as in [`Event`], `name` as the UI listens to it, its payload `P`.
    fn event<P: TS + 'static>(&mut self, variant: &'static str, name: &'static str);
}

events! {
    /// An account's token status changed.
    Status(Box<TokenStatus>) = "postern://status";
    /// The list of accounts changed.
    Accounts(Vec<Account>) = "postern://accounts";
    /// An outbox item changed.
    Outbox(OutboxItem) = "postern://outbox";
    /// A new activity entry.
    Activity(Activity) = "postern://activity";
    /// Authorization progress.
    Authorize(AuthorizeProgress) = "postern://authorize";
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

    #[test]
    fn every_event_is_listed_once_with_its_name() {
        struct Names(Vec<(&'static str, &'static str)>);
        impl EventVisitor for Names {
            fn event<P: TS + 'static>(&mut self, variant: &'static str, name: &'static str) {
                self.0.push((variant, name));
            }
        }
        let mut names = Names(Vec::new());
        visit_events(&mut names);
        assert_eq!(names.0.len(), 5);
        assert!(names.0.contains(&("Outbox", "postern://outbox")));
        let mut unique: Vec<_> = names.0.iter().map(|(_, n)| n).collect();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.0.len(), "one name per event");
    }
}
