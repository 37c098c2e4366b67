//! Carrying messages: claim a due row, fetch a token, send through the account's pooled
//! transport, and record the outcome. On a refused token: one refresh and one retry. On a
//! dead grant: the message waits. On trouble that passes: try again later, with backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::error::{Error, ErrorClass, Result};
use crate::mail::Accepted;
use crate::outbox::hooks::OutboxHooks;
use crate::outbox::queue::Outbox;
use crate::outbox::store::{self, now_unix, Envelope};
use crate::outbox::{OutboxItem, OutboxState};
use crate::secret::Secret;

/// How many messages are carried at once (and the size of each account's connection pool).
pub(crate) const PARALLEL: usize = 4;
/// The longest the worker sleeps without looking at the queue.
/// How long the loop sleeps at most: new rows from other processes (a `postern send` while
/// the window or the daemon delivers) are seen within this time.
const IDLE: Duration = Duration::from_secs(5);

/// Tries to deliver message `id` once, if it is queued and nobody else holds it.
/// Returns the row after the try, or None when it was not ours to carry.
pub(crate) async fn attempt(
    outbox: &Outbox,
    hooks: &dyn OutboxHooks,
    id: i64,
) -> Result<Option<OutboxItem>> {
    let Some(env) = store::claim(&outbox.store, id, &outbox.owner)? else {
        return Ok(None);
    };
    // From here on the row is ours: whatever happens, settle it before returning.
    if let Ok(item) = store::get(&outbox.store, id) {
        outbox.publish(hooks, item);
    }
    let result = deliver(outbox, hooks, &env).await;
    let size = env.raw.len();
    let rcpts = env.recipients.len();
    let item = match result {
        Ok(accepted) => {
            let item = super::accepted::settle_sent(&outbox.store, id).await?;
            let summary = format!(
                "Sent “{}” to {rcpts} recipient(s), {size} bytes: {} {}",
                item.subject, accepted.code, accepted.text
            );
            hooks.activity(&env.account, "send", &summary, true);
            item
        }
        Err(e) => settle_failure(outbox, hooks, id, &env, &e)?,
    };
    outbox.publish(hooks, item.clone());
    Ok(Some(item))
}

fn settle_failure(
    outbox: &Outbox,
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
    } else if class.passes_by_itself() && env.attempts < outbox.backoff.max_attempts {
        let delay = outbox.backoff.delay(env.attempts);
        let next = now_unix() + delay.as_secs().max(1) as i64;
        (OutboxState::Queued, Some(next), "will be retried")
    } else {
        (OutboxState::Failed, None, "failed")
    };
    let item = store::settle(&outbox.store, id, state, Some(&why), next)?;
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
async fn deliver(outbox: &Outbox, hooks: &dyn OutboxHooks, env: &Envelope) -> Result<Accepted> {
    let target = hooks.target(&env.account).await?;
    try_deliver(outbox, hooks, env, &target)
        .await
        .map_err(|e| e.in_named_profile(target.custom_profile.as_deref()))
}

async fn try_deliver(
    outbox: &Outbox,
    hooks: &dyn OutboxHooks,
    env: &Envelope,
    target: &super::SendTarget,
) -> Result<Accepted> {
    let token = hooks.access_token(&env.account).await?;
    match send(outbox, &target.endpoint, env, &token).await {
        Err(Error::SmtpAuthRejected { .. }) => {
            tracing::info!("SMTP refused the access token; refreshing once and retrying");
            let fresh = hooks.refresh_after_rejection(&env.account).await?;
            send(outbox, &target.endpoint, env, &fresh).await
        }
        other => other,
    }
}

async fn send(
    outbox: &Outbox,
    endpoint: &crate::mail::SmtpEndpoint,
    env: &Envelope,
    token: &Secret,
) -> Result<Accepted> {
    outbox
        .mailer
        .send(endpoint, &env.account, token, &env.recipients, &env.raw)
        .await
}

/// The background loop: recover abandoned rows, carry due ones (a few at a time), sleep until
/// the next is due or something is queued.
pub(crate) async fn run(outbox: Arc<Outbox>, hooks: Arc<dyn OutboxHooks>) {
    loop {
        // Another process delivers while it holds the lease; look again after a while.
        match outbox.hold_lease() {
            Ok(true) => {}
            Ok(false) => {
                tokio::time::sleep(IDLE).await;
                continue;
            }
            Err(e) => {
                tracing::warn!("the delivery lease could not be read: {e}");
                tokio::time::sleep(IDLE).await;
                continue;
            }
        }
        if let Err(e) = outbox.recover(&*hooks) {
            tracing::warn!("outbox recovery failed: {e}");
        }
        let due = store::due(&outbox.store, 64).unwrap_or_else(|e| {
            tracing::warn!("outbox read failed: {e}");
            Vec::new()
        });
        if !due.is_empty() {
            let mut set = JoinSet::new();
            for id in due {
                while set.len() >= PARALLEL {
                    set.join_next().await;
                }
                let (o, h) = (outbox.clone(), hooks.clone());
                set.spawn(async move {
                    if let Err(e) = attempt(&o, &*h, id).await {
                        tracing::warn!("outbox message {id}: {e}");
                    }
                });
            }
            while set.join_next().await.is_some() {}
            continue;
        }
        let wait = match store::next_due(&outbox.store) {
            Ok(Some(at)) => {
                Duration::from_secs((at - now_unix()).clamp(0, IDLE.as_secs() as i64) as u64)
            }
            _ => IDLE,
        };
        tokio::select! {
            _ = outbox.wake.notified() => {}
            _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => {}
        }
    }
}
