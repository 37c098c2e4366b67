//! Everything the servers share: clock, grant store, faults, counters, mailbox, limits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio_rustls::TlsAcceptor;

use crate::clock::Clock;
use crate::counts::Counts;
use crate::faults::Faults;
use crate::mailbox::StoredMessage;
use crate::store::grants::Store;
use crate::store::id_token::Signer;
use crate::Profile;

/// Gmail's advertised SIZE.
pub(crate) const DEFAULT_MAX_MESSAGE_SIZE: usize = 35_882_577;
/// Consumer Gmail's reported daily recipient limit through SMTP clients.
pub(crate) const DEFAULT_DAILY_RECIPIENTS: usize = 500;

pub(crate) struct Shared {
    pub(crate) clock: Clock,
    pub(crate) counts: Counts,
    pub(crate) faults: Faults,
    pub(crate) signer: Signer,
    pub(crate) tls: TlsAcceptor,
    /// Which provider the sandbox plays; fixed at start.
    pub(crate) profile: Profile,
    /// `https://127.0.0.1:<https_port>`
    pub(crate) issuer: String,
    /// `http://127.0.0.1:<http_port>`
    pub(crate) http_base: String,
    /// What `/admin` requests must carry as `Authorization: Bearer …`.
    pub(crate) admin_token: String,
    pub(crate) smtp_idle_timeout: Duration,
    pub(crate) max_message_size: AtomicUsize,
    pub(crate) daily_recipient_limit: AtomicUsize,
    /// Whether EHLO advertises OAUTHBEARER and `AUTH OAUTHBEARER` is accepted (default true).
    pub(crate) oauthbearer_offered: AtomicBool,
    store: Mutex<Store>,
    mailbox: Mutex<Vec<StoredMessage>>,
    /// Per account: (sandbox time, recipients) of each accepted message.
    sent: Mutex<HashMap<String, Vec<(i64, usize)>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) struct SharedParts {
    pub(crate) profile: Profile,
    pub(crate) signer: Signer,
    pub(crate) tls: TlsAcceptor,
    pub(crate) issuer: String,
    pub(crate) http_base: String,
    pub(crate) admin_token: String,
    pub(crate) smtp_idle_timeout: Duration,
    pub(crate) store: Store,
}

impl Shared {
    pub(crate) fn new(p: SharedParts) -> Self {
        Self {
            clock: Clock::default(),
            counts: Counts::default(),
            faults: Faults::default(),
            signer: p.signer,
            profile: p.profile,
            tls: p.tls,
            issuer: p.issuer,
            http_base: p.http_base,
            admin_token: p.admin_token,
            smtp_idle_timeout: p.smtp_idle_timeout,
            max_message_size: AtomicUsize::new(DEFAULT_MAX_MESSAGE_SIZE),
            daily_recipient_limit: AtomicUsize::new(DEFAULT_DAILY_RECIPIENTS),
            oauthbearer_offered: AtomicBool::new(true),
            store: Mutex::new(p.store),
            mailbox: Mutex::new(Vec::new()),
            sent: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub(crate) fn mailbox(&self) -> MutexGuard<'_, Vec<StoredMessage>> {
        lock(&self.mailbox)
    }

    pub(crate) fn max_message_size(&self) -> usize {
        self.max_message_size.load(Ordering::SeqCst)
    }

    pub(crate) fn oauthbearer_offered(&self) -> bool {
        self.oauthbearer_offered.load(Ordering::SeqCst)
    }

    /// Recipients the account sent to in the last 24 h of sandbox time.
    pub(crate) fn recipients_last_day(&self, account: &str) -> usize {
        let now = self.clock.now();
        let mut sent = lock(&self.sent);
        let log = sent.entry(account.to_ascii_lowercase()).or_default();
        log.retain(|(t, _)| now - t < 86_400);
        log.iter().map(|(_, n)| n).sum()
    }

    /// True when `pending` more recipients would exceed the rolling daily quota.
    pub(crate) fn over_daily_quota(&self, account: &str, pending: usize) -> bool {
        let limit = self.daily_recipient_limit.load(Ordering::SeqCst);
        self.recipients_last_day(account) + pending > limit
    }

    pub(crate) fn deliver(&self, message: StoredMessage) {
        let now = self.clock.now();
        lock(&self.sent)
            .entry(message.account.to_ascii_lowercase())
            .or_default()
            .push((now, message.recipients.len()));
        self.counts.bump("smtp.messages");
        lock(&self.mailbox).push(message);
    }
}
