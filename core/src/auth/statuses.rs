//! Each account's token status as the person sees it: its stored facts, its provider's
//! lifetimes, the clock, and whether a refresh is in flight; published on every change.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::accounts::{AccountRecord, Accounts};
use crate::clock::Clock;
use crate::error::Result;
use crate::events::{Event, Events};
use crate::status::{self, Account, TokenStatus};

/// Computes and publishes token statuses.
pub(crate) struct Statuses {
    accounts: Arc<Accounts>,
    events: Events,
    clock: Clock,
    /// Accounts with a refresh in flight (shown as `refreshing`), by lowercased address.
    refreshing: Mutex<HashSet<String>>,
}

impl Statuses {
    pub(crate) fn new(accounts: Arc<Accounts>, events: Events, clock: Clock) -> Statuses {
        Statuses {
            accounts,
            events,
            clock,
            refreshing: Mutex::default(),
        }
    }

    fn refreshing(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.refreshing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks a refresh of the account as started or ended.
    pub(crate) fn set_refreshing(&self, address: &str, on: bool) {
        let key = address.to_ascii_lowercase();
        if on {
            self.refreshing().insert(key);
        } else {
            self.refreshing().remove(&key);
        }
    }

    /// The status of a stored account.
    pub(crate) fn status_of(&self, rec: &AccountRecord) -> TokenStatus {
        let p = self.accounts.provider_or_named(&rec.provider);
        let refreshing = self
            .refreshing()
            .contains(&rec.address.to_ascii_lowercase());
        status::compute(rec, &p, self.clock.now(), refreshing)
    }

    /// A stored account with its status.
    pub(crate) fn account_of(&self, rec: &AccountRecord) -> Account {
        Account {
            address: rec.address.clone(),
            provider: rec.provider.clone(),
            added_at: crate::clock::rfc3339(rec.added_at),
            status: self.status_of(rec),
        }
    }

    /// One account's status.
    pub(crate) fn status(&self, address: &str) -> Result<TokenStatus> {
        Ok(self.status_of(&self.accounts.record(address)?))
    }

    /// Every account with its status.
    pub(crate) fn list(&self) -> Result<Vec<Account>> {
        Ok(self
            .accounts
            .all()?
            .iter()
            .map(|r| self.account_of(r))
            .collect())
    }

    /// Publishes the account's status (and, with `list`, the account list).
    pub(crate) fn publish(&self, address: &str, list: bool) {
        if let Ok(rec) = self.accounts.record(address) {
            self.events
                .publish(Event::Status(Box::new(self.status_of(&rec))));
        }
        if list {
            self.publish_list();
        }
    }

    /// Publishes the account list.
    pub(crate) fn publish_list(&self) {
        if let Ok(all) = self.list() {
            self.events.publish(Event::Accounts(all));
        }
    }

    /// Publishes every account's status, then the list (their provider's profile changed).
    pub(crate) fn publish_all(&self) -> Result<()> {
        for a in self.accounts.all()? {
            self.publish(&a.address, false);
        }
        self.publish_list();
        Ok(())
    }
}
