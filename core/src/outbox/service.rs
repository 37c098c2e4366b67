//! Sending mail through the [`Outbox`]: compose and queue, carry until settled, retry,
//! flush, and bring waiting mail back once its account's grant works again. What it needs
//! of the rest of core (tokens, profiles, notifications) comes through [`OutboxHooks`] and
//! a [`StatusSource`].

use std::sync::Arc;
use std::time::Duration;

use crate::background::Background;
use crate::error::Result;
use crate::mail::{self, Draft, SmtpEndpoint};
use crate::outbox::{Outbox, OutboxHooks, OutboxItem, SendTarget};
use crate::provider::Provider;
use crate::status::TokenStatus;

/// Where a provider's SMTP server is, for the mailer.
pub(crate) fn target_of(p: &Provider) -> SendTarget {
    SendTarget {
        endpoint: SmtpEndpoint {
            host: p.smtp.host.clone(),
            port: p.smtp.port,
            security: p.smtp.security,
            extra_ca_pem: p.extra_ca_pem.clone(),
        },
        max_message_bytes: p.max_message_bytes,
        custom_profile: (p.name != "google").then(|| p.name.clone()),
    }
}

/// An account's token status, asked when deciding whether its waiting mail may go.
pub(crate) type StatusSource = Arc<dyn Fn(&str) -> Result<TokenStatus> + Send + Sync>;

/// The outbox with what it needs to send: the hooks into accounts and tokens.
pub(crate) struct Courier {
    outbox: Arc<Outbox>,
    hooks: Arc<dyn OutboxHooks>,
    status: StatusSource,
}

impl Courier {
    pub(crate) fn new(
        outbox: Arc<Outbox>,
        hooks: Arc<dyn OutboxHooks>,
        status: StatusSource,
    ) -> Courier {
        Courier {
            outbox,
            hooks,
            status,
        }
    }

    /// The size limit of the account that `from` names (its provider's `max_message_bytes`).
    async fn limit_for(&self, from: &str) -> Result<u64> {
        let account = mail::compose::parse_one("From", from)?;
        let address = account.email.to_string().to_ascii_lowercase();
        Ok(self.hooks.target(&address).await?.max_message_bytes)
    }

    /// Validates and composes the draft, stores it `queued` and wakes the worker. The
    /// returned item is queued; `Event::Outbox` tells the rest.
    pub(crate) async fn send(&self, draft: Draft) -> Result<OutboxItem> {
        let limit = self.limit_for(&draft.from).await?;
        let message = mail::compose_owned(draft, limit)?;
        self.outbox.submit(&*self.hooks, &message).await
    }

    /// Like [`Courier::send`], then carries the message until it is sent, failed or waiting (the
    /// returned item says which), sending it from this task when no background worker runs.
    /// After `timeout`: `SendTimedOut`, the message staying in the outbox.
    pub(crate) async fn send_and_wait(
        &self,
        draft: Draft,
        timeout: Duration,
    ) -> Result<OutboxItem> {
        let limit = self.limit_for(&draft.from).await?;
        let message = mail::compose_owned(draft, limit)?;
        self.outbox
            .send_owned_and_wait(&*self.hooks, message, timeout)
            .await
    }

    /// Queues a whole RFC 5322 message from `from` (empty: the message's From address;
    /// recipients from its To/Cc/Bcc headers, its Message-ID kept) and carries it like
    /// [`Courier::send_and_wait`].
    pub(crate) async fn send_raw_and_wait(
        &self,
        from: &str,
        rfc5322: Vec<u8>,
        timeout: Duration,
    ) -> Result<OutboxItem> {
        let from = match from.trim() {
            "" => mail::raw::sender_of(&rfc5322)?,
            named => named.to_string(),
        };
        let limit = self.limit_for(&from).await?;
        let message = mail::parse_raw(&from, &rfc5322, limit)?;
        drop(rfc5322);
        self.outbox
            .send_owned_and_wait(&*self.hooks, message, timeout)
            .await
    }

    /// Every outbox message, newest first.
    pub(crate) fn list(&self) -> Result<Vec<OutboxItem>> {
        self.outbox.list()
    }

    /// Puts a failed or waiting message back in the queue now.
    pub(crate) fn retry(&self, id: i64) -> Result<OutboxItem> {
        self.outbox.retry(&*self.hooks, id)
    }

    /// Puts a failed or waiting message back in the queue and carries it until it settles
    /// (or `timeout`): what `postern outbox retry ID` does without the window.
    pub(crate) async fn retry_now(&self, id: i64, timeout: Duration) -> Result<OutboxItem> {
        let mut changes = self.outbox.subscribe();
        self.outbox.retry(&*self.hooks, id)?;
        let mut done = self
            .outbox
            .carry(&*self.hooks, &[id], timeout, &mut changes)
            .await?;
        done.pop().ok_or(crate::error::Error::OutboxNotFound { id })
    }

    /// Delivers now what can go: the waiting mail of `account` (or of every account) whose
    /// grant works again is queued, then every due message of it is carried until it settles
    /// (or `timeout`). Without the window or the daemon this is how waiting mail leaves:
    /// `postern authorize` ends with it, and `postern outbox flush` runs it.
    pub(crate) async fn deliver_now(
        &self,
        account: Option<&str>,
        timeout: Duration,
    ) -> Result<Vec<OutboxItem>> {
        let mut changes = self.outbox.subscribe();
        let waiting = self.outbox.waiting_accounts()?;
        for address in waiting
            .iter()
            .filter(|a| account.is_none_or(|want| a.eq_ignore_ascii_case(want)))
        {
            if let Ok(status) = (self.status)(address) {
                if status.state.can_send() {
                    self.requeue_waiting(address);
                }
            }
        }
        let ids = self.outbox.due_now(account)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.outbox
            .carry(&*self.hooks, &ids, timeout, &mut changes)
            .await
    }

    /// Gives up this process's part in delivery (the lease), so another Postern process
    /// takes over at once; for a clean quit.
    pub(crate) fn stop_delivering(&self) {
        self.outbox.release_lease();
    }

    /// Takes back a message stuck in `sending` (its process may hang): see
    /// [`Outbox::take_back`]. It may then be sent twice.
    pub(crate) fn take_back(&self, id: i64) -> Result<OutboxItem> {
        self.outbox.take_back(&*self.hooks, id)
    }

    /// Deletes a message that is not being sent right now.
    pub(crate) fn discard(&self, id: i64) -> Result<()> {
        self.outbox.discard(id)
    }

    /// Starts the outbox worker among `loops`. Returns false when it runs already. (The
    /// minute's look for waiting mail whose grant works again, after a reauthorization by
    /// another process, is part of the app's background pass.)
    pub(crate) fn start_worker(self: &Arc<Self>, loops: &Background) -> bool {
        if self.outbox.worker_running() {
            return false;
        }
        self.outbox.start_worker_in(self.hooks.clone(), loops);
        true
    }

    /// An account's status changed (a reauthorization here): its waiting mail goes back in
    /// the queue when the grant works.
    pub(crate) fn status_changed(&self, status: &TokenStatus) {
        if status.state.can_send() {
            self.requeue_waiting(&status.address);
        }
    }

    fn requeue_waiting(&self, address: &str) {
        match self.outbox.account_authorized(&*self.hooks, address) {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "waiting messages queued again"),
            Err(e) => tracing::warn!("could not requeue waiting mail: {}", e.code()),
        }
    }

    /// Requeues the waiting mail of every account whose grant works.
    pub(crate) fn requeue_waiting_if_valid(&self) {
        let Ok(accounts) = self.outbox.waiting_accounts() else {
            return;
        };
        for address in accounts {
            if let Ok(status) = (self.status)(&address) {
                if status.state.can_send() {
                    self.requeue_waiting(&address);
                }
            }
        }
    }
}
