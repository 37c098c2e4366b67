//! When to tell the person something through a desktop notification, decided from core's own
//! events. The shell only shows what [`Notices::observe`] returns, so the rules live here, next
//! to the states they read, and are tested without a desktop.
//!
//! The rules (docs/notifications.md):
//! - an account's grant turned revoked, by anything but the person's own Revoke: its cause and
//!   what to do;
//! - a revocation the provider did not confirm (it stays pending and is retried);
//! - a grant that will end within 24 hours (Testing mode, or time-based access);
//! - a message failed for good: its subject, why, and what to do;
//! - mail that waited for a reauthorization went out.
//!
//! A status seen for the first time (at start, from the stored accounts) only sets what is
//! known: a grant that was already revoked before this launch is shown by the window and the
//! tray icon, and is not announced again on every start.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::RevokedCause;
use crate::events::Event;
use crate::outbox::{OutboxItem, OutboxState};
use crate::status::{TokenState, TokenStatus};

/// What a notice is about (the shell may pick an icon or an urgency from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The account's grant ended; it cannot send until it is authorized again.
    Revoked,
    /// The provider did not confirm a revocation; the grant may still be live.
    RevocationPending,
    /// The grant has a known end within 24 hours.
    GrantEndingSoon,
    /// A message was refused for good.
    SendFailed,
    /// Mail held while the account was revoked went out after the reauthorization.
    WaitingDelivered,
}

/// One desktop notification, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// What it is about.
    pub kind: NoticeKind,
    /// One short line.
    pub title: String,
    /// What happened and what to do.
    pub body: String,
    /// The account it concerns (clicking it opens that account's status).
    pub address: Option<String>,
}

/// The notice, if any, for an account whose status went from `previous` to `current`.
pub fn for_status(previous: &TokenStatus, current: &TokenStatus) -> Option<Notice> {
    let revoked = |s: &TokenState| matches!(s, TokenState::Revoked { .. });
    let pending = |s: &TokenState| matches!(s, TokenState::RevocationPending { .. });
    if let (TokenState::Revoked { cause }, false) = (&current.state, revoked(&previous.state)) {
        // The person pressed Revoke (or Revoke & reauthorize) themselves: nothing to tell.
        // (That cause's words name no provider.)
        if *cause == RevokedCause::RevokedByYou.describe("") {
            return None;
        }
        let cause = if cause.is_empty() {
            RevokedCause::Unknown.describe(&current.provider)
        } else {
            cause.to_owned()
        };
        let fix = current
            .last_error
            .as_ref()
            .map(|e| e.fix.as_str())
            .filter(|f| !f.is_empty())
            .unwrap_or("Open Postern and choose Revoke & reauthorize for this account.");
        return Some(Notice {
            kind: NoticeKind::Revoked,
            title: format!("{} can no longer send", current.address),
            body: format!("{cause} {fix}"),
            address: Some(current.address.clone()),
        });
    }
    if pending(&current.state) && !pending(&previous.state) {
        let (why, fix) = current
            .last_error
            .as_ref()
            .map(|e| (e.message.as_str(), e.fix.as_str()))
            .unwrap_or(("The provider did not confirm it.", ""));
        return Some(Notice {
            kind: NoticeKind::RevocationPending,
            title: format!("{}: revocation not confirmed yet", current.address),
            body: format!("{why} {fix}").trim().to_owned(),
            address: Some(current.address.clone()),
        });
    }
    if current.grant_ending_soon && !previous.grant_ending_soon {
        let note = current.grant_note.as_deref().unwrap_or_default();
        return Some(Notice {
            kind: NoticeKind::GrantEndingSoon,
            title: format!("{}: the grant ends within a day", current.address),
            body: format!(
                "It ends at {}. {note}",
                current
                    .grant_ends_at
                    .as_deref()
                    .unwrap_or("an hour you can see in Postern")
            )
            .trim()
            .to_owned(),
            address: Some(current.address.clone()),
        });
    }
    None
}

/// The notice, if any, for an outbox message now in `current`; `waited` says whether it was
/// ever held for a reauthorization while Postern watched it.
pub fn for_outbox(
    previous: Option<OutboxState>,
    waited: bool,
    current: &OutboxItem,
) -> Option<Notice> {
    let subject = if current.subject.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        format!("“{}”", current.subject)
    };
    let to = current.to.join(", ");
    match current.state {
        OutboxState::Failed if previous != Some(OutboxState::Failed) => {
            let (why, fix) = current
                .last_error
                .as_ref()
                .map(|e| (e.message.as_str(), e.fix.as_str()))
                .unwrap_or(("The server refused it.", ""));
            let fix = if fix.is_empty() {
                "Open Postern's outbox to retry or discard it."
            } else {
                fix
            };
            Some(Notice {
                kind: NoticeKind::SendFailed,
                title: format!("A message from {} could not be sent", current.account),
                body: format!("{subject} to {to}: {why} {fix}"),
                address: Some(current.account.clone()),
            })
        }
        OutboxState::Sent if waited && previous != Some(OutboxState::Sent) => Some(Notice {
            kind: NoticeKind::WaitingDelivered,
            title: format!("Waiting mail from {} was sent", current.account),
            body: format!("{subject} to {to} went out after the account was authorized again."),
            address: Some(current.account.clone()),
        }),
        _ => None,
    }
}

/// What the notices remember between events: each account's last status, each message's last
/// state and which messages waited.
#[derive(Debug, Default)]
pub struct Notices {
    statuses: BTreeMap<String, TokenStatus>,
    outbox: BTreeMap<i64, OutboxState>,
    waited: BTreeSet<i64>,
}

impl Notices {
    /// Nothing known yet.
    pub fn new() -> Notices {
        Notices::default()
    }

    /// Takes in one of core's events and returns what to tell the person about it.
    pub fn observe(&mut self, event: &Event) -> Vec<Notice> {
        match event {
            Event::Status(s) => self.status(s).into_iter().collect(),
            Event::Accounts(list) => {
                let notices = list.iter().filter_map(|a| self.status(&a.status)).collect();
                let kept: BTreeSet<&str> = list.iter().map(|a| a.address.as_str()).collect();
                self.statuses
                    .retain(|address, _| kept.contains(address.as_str()));
                notices
            }
            Event::Outbox(item) => self.outbox(item).into_iter().collect(),
            Event::Activity(_) | Event::Authorize(_) => Vec::new(),
        }
    }

    fn status(&mut self, current: &TokenStatus) -> Option<Notice> {
        let previous = self
            .statuses
            .insert(current.address.clone(), current.clone());
        for_status(previous.as_ref()?, current)
    }

    fn outbox(&mut self, item: &OutboxItem) -> Option<Notice> {
        if item.state == OutboxState::Waiting {
            self.waited.insert(item.id);
        }
        let previous = self.outbox.insert(item.id, item.state);
        let notice = for_outbox(previous, self.waited.contains(&item.id), item);
        if item.state == OutboxState::Sent {
            self.waited.remove(&item.id);
        }
        notice
    }
}

#[cfg(test)]
#[path = "notices_tests.rs"]
mod tests;
