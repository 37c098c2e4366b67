//! Carrying messages: claim a due row, fetch a token, send through the account's pooled
//! transport, and record the outcome. On a refused token: one refresh and one retry. On a
//! dead grant: the message waits. On trouble that passes: try again later, with backoff.
//! The loop that picks due rows is [`Outbox`](crate::outbox::Outbox)'s.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::error::{Error, ErrorClass, Result};
use crate::mail::{Accepted, Mailer, SmtpEndpoint};
use crate::outbox::backoff::Backoff;
use crate::outbox::hooks::{OutboxHooks, SendTarget};
use crate::outbox::store::{self, now_unix, Envelope};
use crate::outbox::{OutboxItem, OutboxState};
use crate::secret::Secret;
use crate::store::Store;

/// How many messages are carried at once (and the size of each account's connection pool).
pub(crate) const PARALLEL: usize = 4;

/// Carries one message at a time through an account's pooled connection, and tells whoever
/// listens of every change.
pub(crate) struct Carrier {
    store: Arc<Store>,
    mailer: Mailer,
    backoff: Backoff,
    /// `pid:<pid>:<random>`: marks rows this process is carrying.
    owner: String,
    changes: broadcast::Sender<OutboxItem>,
}

impl Carrier {
    pub(crate) fn new(store: Arc<Store>, backoff: Backoff, owner: String) -> Carrier {
        Carrier {
            store,
            mailer: Mailer::new(PARALLEL as u32),
            backoff,
            owner,
            changes: broadcast::channel(256).0,
        }
    }

    /// The tag of the rows this process carries.
    pub(crate) fn owner(&self) -> &str {
        &self.owner
    }

    /// Tells the hooks and every waiting caller that a message changed.
    pub(crate) fn publish(&self, hooks: &dyn OutboxHooks, item: OutboxItem) {
        hooks.changed(&item);
        let _ = self.changes.send(item);
    }

    /// Every change to any message, for waiting callers.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<OutboxItem> {
        self.changes.subscribe()
    }

    /// Tries to deliver message `id` once, if it is queued and nobody else holds it.
    /// Returns the row after the try, or None when it was not ours to carry.
    pub(crate) async fn attempt(
        &self,
        hooks: &dyn OutboxHooks,
        id: i64,
    ) -> Result<Option<OutboxItem>> {
        let Some(env) = store::claim(&self.store, id, &self.owner)? else {
            return Ok(None);
        };
        // From here on the row is ours: whatever happens, settle it before returning.
        if let Ok(item) = store::get(&self.store, id) {
            self.publish(hooks, item);
        }
        let result = self.deliver(hooks, &env).await;
        let size = env.raw.len();
        let rcpts = env.recipients.len();
        let item = match result {
            Ok(accepted) => {
                let item = super::accepted::settle_sent(&self.store, id).await?;
                let summary = format!(
                    "Sent “{}” to {rcpts} recipient(s), {size} bytes: {} {}",
                    item.subject, accepted.code, accepted.text
                );
                hooks.activity(&env.account, "send", &summary, true);
                item
            }
            Err(e) => self.settle_failure(hooks, id, &env, &e)?,
        };
        self.publish(hooks, item.clone());
        Ok(Some(item))
    }

    fn settle_failure(
        &self,
        hooks: &dyn OutboxHooks,
        id: i64,
        env: &Envelope,
        e: &Error,
    ) -> Result<OutboxItem> {
        let why = e.explain();
        // The error's class decides: the person must act (the message waits for them), it may
        // pass (tried again with backoff), or it is final.
        let class = e.class();
        let (state, next, words) = if class == ErrorClass::NeedsPerson {
            (OutboxState::Waiting, None, "waits for authorization")
        } else if class.passes_by_itself() && env.attempts < self.backoff.max_attempts {
            let delay = self.backoff.delay(env.attempts);
            let next = now_unix() + delay.as_secs().max(1) as i64;
            (OutboxState::Queued, Some(next), "will be retried")
        } else {
            (OutboxState::Failed, None, "failed")
        };
        let item = store::settle(&self.store, id, state, Some(&why), next)?;
        let summary = format!(
            "Message “{}” to {} recipient(s), {} bytes, {words} (try {}): {}",
            item.subject,
            env.recipients.len(),
            env.raw.len(),
            env.attempts,
            why.message
        );
        hooks.activity(&env.account, "send", &summary, false);
        Ok(item)
    }

    /// One delivery: token, send; on a refused token one refresh and one more send.
    async fn deliver(&self, hooks: &dyn OutboxHooks, env: &Envelope) -> Result<Accepted> {
        let target = hooks.target(&env.account).await?;
        self.try_deliver(hooks, env, &target)
            .await
            .map_err(|e| e.in_named_profile(target.custom_profile.as_deref()))
    }

    async fn try_deliver(
        &self,
        hooks: &dyn OutboxHooks,
        env: &Envelope,
        target: &SendTarget,
    ) -> Result<Accepted> {
        let token = hooks.access_token(&env.account).await?;
        match self.send(&target.endpoint, env, &token).await {
            Err(Error::SmtpAuthRejected { .. }) => {
                tracing::info!("SMTP refused the access token; refreshing once and retrying");
                let fresh = hooks.refresh_after_rejection(&env.account).await?;
                self.send(&target.endpoint, env, &fresh).await
            }
            other => other,
        }
    }

    async fn send(
        &self,
        endpoint: &SmtpEndpoint,
        env: &Envelope,
        token: &Secret,
    ) -> Result<Accepted> {
        self.mailer
            .send(endpoint, &env.account, token, &env.recipients, &env.raw)
            .await
    }
}
