//! The mail side of [`App`]: one-line calls into the [`Outbox`], and [`OutboxHooks`] for the
//! App (provider profiles, the refresher's tokens, events and the activity log).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast::error::RecvError;

use crate::app::App;
use crate::error::Result;
use crate::events::Event;
use crate::mail::{self, Draft, Security, SmtpEndpoint};
use crate::outbox::{OutboxHooks, OutboxItem, SendTarget};
use crate::provider::{Provider, SmtpSecurity};
use crate::secret::Secret;

/// Where a provider's SMTP server is, for the mailer.
pub(crate) fn target_of(p: &Provider) -> SendTarget {
    SendTarget {
        endpoint: SmtpEndpoint {
            host: p.smtp.host.clone(),
            port: p.smtp.port,
            security: match p.smtp.security {
                SmtpSecurity::ImplicitTls => Security::ImplicitTls,
                SmtpSecurity::StartTls => Security::StartTls,
            },
            extra_ca_pem: p.extra_ca_pem.clone(),
        },
        max_message_bytes: p.max_message_bytes,
        custom_profile: (p.name != "google").then(|| p.name.clone()),
    }
}

#[async_trait]
impl OutboxHooks for App {
    async fn target(&self, account: &str) -> Result<SendTarget> {
        Ok(target_of(&self.provider_for(account)?))
    }

    async fn access_token(&self, account: &str) -> Result<Secret> {
        App::access_token(self, account).await
    }

    async fn refresh_after_rejection(&self, account: &str) -> Result<Secret> {
        App::refresh_after_rejection(self, account).await
    }

    fn changed(&self, item: &OutboxItem) {
        self.events().publish(Event::Outbox(item.clone()));
    }

    fn activity(&self, account: &str, kind: &str, summary: &str, ok: bool) {
        if let Err(e) = self.activity_log().record(Some(account), kind, summary, ok) {
            tracing::warn!("could not log a send: {}", e.code());
        }
    }
}

impl App {
    /// The size limit of the account that `from` names (its provider's `max_message_bytes`).
    async fn limit_for(&self, from: &str) -> Result<u64> {
        let account = mail::compose::parse_one("From", from)?;
        Ok(
            OutboxHooks::target(self, &account.email.to_string().to_ascii_lowercase())
                .await?
                .max_message_bytes,
        )
    }

    /// Validates and composes the draft, stores it `queued` and wakes the worker. The
    /// returned item is queued; `Event::Outbox` tells the rest.
    pub async fn send(&self, draft: Draft) -> Result<OutboxItem> {
        let limit = self.limit_for(&draft.from).await?;
        let message = mail::compose_owned(draft, limit)?;
        self.outbox.submit(self, &message).await
    }

    /// Like [`App::send`], then carries the message until it is sent, failed or waiting (the
    /// returned item says which), sending it from this task when no background worker runs.
    /// After `timeout`: `SendTimedOut`, the message staying in the outbox.
    pub async fn send_and_wait(&self, draft: Draft, timeout: Duration) -> Result<OutboxItem> {
        let limit = self.limit_for(&draft.from).await?;
        let message = mail::compose_owned(draft, limit)?;
        self.outbox
            .send_owned_and_wait(self, message, timeout)
            .await
    }

    /// Queues a whole RFC 5322 message from `from` (empty: the message's From address;
    /// recipients from its To/Cc/Bcc headers, its Message-ID kept) and carries it like
    /// [`App::send_and_wait`] for up to 2 minutes.
    pub async fn send_raw(&self, from: &str, rfc5322: Vec<u8>) -> Result<OutboxItem> {
        self.send_raw_and_wait(from, rfc5322, Duration::from_secs(120))
            .await
    }

    /// [`App::send_raw`] with a chosen timeout.
    pub async fn send_raw_and_wait(
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
            .send_owned_and_wait(self, message, timeout)
            .await
    }

    /// Every outbox message, newest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>> {
        self.outbox.list()
    }

    /// Puts a failed or waiting message back in the queue now.
    pub async fn retry_outbox(&self, id: i64) -> Result<OutboxItem> {
        self.outbox.retry(self, id)
    }

    /// Puts a failed or waiting message back in the queue and carries it until it settles
    /// (or `timeout`): what `postern outbox retry ID` does without the window.
    pub async fn retry_outbox_now(&self, id: i64, timeout: Duration) -> Result<OutboxItem> {
        let mut changes = self.outbox.subscribe();
        self.outbox.retry(self, id)?;
        let mut done = self
            .outbox
            .carry(self, &[id], timeout, &mut changes)
            .await?;
        done.pop().ok_or(crate::error::Error::OutboxNotFound { id })
    }

    /// Delivers now what can go: the waiting mail of `account` (or of every account) whose
    /// grant works again is queued, then every due message of it is carried until it settles
    /// (or `timeout`). Without the window or the daemon this is how waiting mail leaves:
    /// `postern authorize` ends with it, and `postern outbox flush` runs it.
    pub async fn deliver_now(
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
            if let Ok(status) = self.status(address).await {
                if status.state.can_send() {
                    self.requeue_waiting(address);
                }
            }
        }
        let ids = self.outbox.due_now(account)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.outbox.carry(self, &ids, timeout, &mut changes).await
    }

    /// Gives up this process's part in delivery (the lease), so another Postern process
    /// takes over at once; for a clean quit.
    pub fn stop_delivering(&self) {
        self.outbox.release_lease();
    }

    /// Takes back a message stuck in `sending` (its process may hang): see
    /// [`Outbox::take_back`](crate::outbox::Outbox::take_back). It may then be sent twice.
    pub async fn take_back_outbox(&self, id: i64) -> Result<OutboxItem> {
        self.outbox.take_back(self, id)
    }

    /// Deletes a message that is not being sent right now.
    pub async fn discard_outbox(&self, id: i64) -> Result<()> {
        self.outbox.discard(id)
    }

    /// Starts the outbox worker, and requeues an account's waiting mail when its grant works
    /// again: on a `Status` event saying so (a reauthorization here), and every minute from the
    /// store (a reauthorization by another process, e.g. `postern authorize`). Called by
    /// [`App::start_background`].
    pub fn start_outbox_worker(&self) {
        if self.outbox.worker_running() {
            return;
        }
        self.outbox
            .start_worker(Arc::new(self.clone()) as Arc<dyn OutboxHooks>);
        let app = self.clone();
        let mut events = self.subscribe();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    event = events.recv() => match event {
                        Ok(Event::Status(s)) if s.state.can_send() => {
                            app.requeue_waiting(&s.address);
                        }
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return,
                    },
                    _ = tick.tick() => app.requeue_waiting_if_valid().await,
                }
            }
        });
    }

    fn requeue_waiting(&self, address: &str) {
        match self.outbox.account_authorized(self, address) {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "waiting messages queued again"),
            Err(e) => tracing::warn!("could not requeue waiting mail: {}", e.code()),
        }
    }

    pub(crate) async fn requeue_waiting_if_valid(&self) {
        let Ok(accounts) = self.outbox.waiting_accounts() else {
            return;
        };
        for address in accounts {
            if let Ok(status) = self.status(&address).await {
                if status.state.can_send() {
                    self.requeue_waiting(&address);
                }
            }
        }
    }
}
