//! Keeping access tokens fresh: proactively (before the refresh margin, and on a 60 s timer
//! while the app runs), one refresh in flight per account across every process however many
//! callers wait, backoff on 5xx and network errors, and `invalid_grant` turned into
//! `revoked` with the cause the evidence supports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::accounts::{self, AccountRecord, Standing};
use crate::app::{blocking, App};
use crate::auth::exchange;
use crate::auth::grant_lock::{self, GrantGuard};
use crate::error::{Error, Result, RevokedCause};
use crate::provider::{Provider, PublishingStatus};
use crate::secret::Secret;
use crate::status::{refresh_margin, TESTING_LIFETIME_SECS};
use crate::vault::SecretKind;

/// Slack for clocks when deciding that a grant died at its known end.
const END_LEEWAY_SECS: i64 = 3_600;
/// Tries per refresh when the provider or the network fails.
const ATTEMPTS: u32 = 3;

/// Per-account single-flight: the lock, and how many refreshes succeeded.
#[derive(Default)]
pub(crate) struct AccountSlot {
    pub(crate) lock: Arc<tokio::sync::Mutex<()>>,
    generation: AtomicU64,
}

/// The cause of an `invalid_grant` at refresh time: a known end that has come (time-based
/// access, or 7 days after consent for a client the person said is in Testing), else what
/// the provider said. Nothing is inferred from age alone.
fn classify(
    given: RevokedCause,
    rec: &AccountRecord,
    status: PublishingStatus,
    now: time::OffsetDateTime,
) -> RevokedCause {
    if given != RevokedCause::Unknown {
        return given;
    }
    let reached = |at: time::OffsetDateTime| (at - now).whole_seconds() <= END_LEEWAY_SECS;
    if rec.grant_expires_at.is_some_and(reached) {
        return RevokedCause::TimeBasedAccessEnded;
    }
    let testing_end = rec
        .refresh_token_issued_at
        .map(|t| t + time::Duration::seconds(TESTING_LIFETIME_SECS));
    if status == PublishingStatus::Testing && testing_end.is_some_and(reached) {
        return RevokedCause::TestingModeExpiry;
    }
    RevokedCause::Unknown
}

impl App {
    pub(crate) fn slot(&self, address: &str) -> Arc<AccountSlot> {
        self.auth
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(address.to_ascii_lowercase())
            .or_default()
            .clone()
    }

    /// The account's grant lock, shared with every other Postern process.
    pub(crate) async fn grant_lock(&self, address: &str) -> Result<GrantGuard> {
        let local = self.slot(address).lock.clone();
        grant_lock::acquire(local, &self.settings.data_dir, address).await
    }

    fn set_refreshing(&self, address: &str, on: bool) {
        let mut set = self
            .auth
            .refreshing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if on {
            set.insert(address.to_ascii_lowercase());
        } else {
            set.remove(&address.to_ascii_lowercase());
        }
    }

    /// The stored access token while it is outside its refresh margin: from memory while the
    /// account's row is unchanged since it was read (core/src/auth/token_cache.rs), else
    /// from the keychain.
    async fn fresh_token(&self, address: &str) -> Result<Option<Secret>> {
        let rec = self.record(address)?;
        let now = self.settings.clock.unix();
        let margin = refresh_margin(rec.access_lifetime_secs);
        let stored = match self.auth.tokens.get(&rec) {
            Some(hit) => Some(hit),
            None => {
                let vault = self.vault.clone();
                let key = address.to_owned();
                let read = blocking(move || vault.get_access(&key)).await?;
                if let Some((tok, exp)) = &read {
                    self.auth.tokens.put(&rec, tok, *exp);
                }
                read
            }
        };
        Ok(stored.and_then(|(tok, exp)| (exp - now > margin).then_some(tok)))
    }

    /// Refuses a grant that is not to be used: revoked, or with a revocation pending.
    fn refuse_if_revoked(&self, address: &str) -> Result<()> {
        let rec = self.record(address)?;
        match rec.standing {
            Standing::Revoked => Err(Error::InvalidGrant {
                cause: rec.revoked_cause.unwrap_or(RevokedCause::Unknown),
                description: "the grant was revoked; authorize the account again".to_owned(),
                provider: self.label_of(&rec.provider),
            }),
            Standing::RevocationPending => Err(Error::RevocationPending {
                address: rec.address,
            }),
            _ => Ok(()),
        }
    }

    /// A provider's label (its name when the profile is not loaded).
    pub(crate) fn label_of(&self, provider: &str) -> String {
        self.provider(provider)
            .map(|p| p.label)
            .unwrap_or_else(|_| provider.to_owned())
    }

    /// A fresh access token (refreshed first inside its refresh margin). Refused with
    /// `scope_missing` when the grant lacks the Gmail scope: sending could not work.
    pub async fn access_token(&self, address: &str) -> Result<Secret> {
        self.refuse_if_revoked(address)?;
        let rec = self.record(address)?;
        if rec.standing == Standing::ScopeMissing {
            let needed = self.provider(&rec.provider)?.scopes;
            return Err(Error::ScopeMissing {
                missing: crate::status::sending_scopes_missing(&needed, &rec.scopes_granted),
            });
        }
        if let Some(tok) = self.fresh_token(address).await? {
            return Ok(tok);
        }
        self.refresh_single_flight(address, None).await
    }

    /// Refreshes now, even when the token looks fresh.
    pub async fn refresh_now(&self, address: &str) -> Result<crate::status::TokenStatus> {
        self.refuse_if_revoked(address)?;
        let seen = self.refresh_mark(address);
        self.refresh_single_flight(address, Some(seen)).await?;
        self.status(address).await
    }

    /// After the server refused the token: one refresh even if it looks fresh (shared with
    /// any caller already refreshing). On `invalid_grant` the account turns revoked.
    pub(crate) async fn refresh_after_rejection(&self, address: &str) -> Result<Secret> {
        self.refuse_if_revoked(address)?;
        let seen = self.refresh_mark(address);
        self.refresh_single_flight(address, Some(seen)).await
    }

    /// What identifies the last refresh: this process's count and the stored refresh time,
    /// which another process moves.
    fn refresh_mark(&self, address: &str) -> (u64, Option<time::OffsetDateTime>) {
        let generation = self.slot(address).generation.load(Ordering::SeqCst);
        let last = self.record(address).ok().and_then(|r| r.last_refresh);
        (generation, last)
    }

    /// `force_after`: refresh unless another refresh (here or in another process) succeeded
    /// since that mark; `None`: refresh unless the stored token is fresh by now.
    async fn refresh_single_flight(
        &self,
        address: &str,
        force_after: Option<(u64, Option<time::OffsetDateTime>)>,
    ) -> Result<Secret> {
        let slot = self.slot(address);
        let _held = self.grant_lock(address).await?;
        let someone_refreshed = match force_after {
            Some(seen) => self.refresh_mark(address) != seen,
            None => true,
        };
        if someone_refreshed {
            if let Some(tok) = self.fresh_token(address).await? {
                return Ok(tok);
            }
        }
        self.refuse_if_revoked(address)?;
        self.set_refreshing(address, true);
        self.publish(address, false).await;
        let result = self.refresh_with_backoff(address).await;
        self.set_refreshing(address, false);
        if result.is_ok() {
            slot.generation.fetch_add(1, Ordering::SeqCst);
        }
        self.publish(address, false).await;
        result
    }

    async fn refresh_with_backoff(&self, address: &str) -> Result<Secret> {
        let provider = self.provider_for(address)?;
        let (client_id, client_secret, refresh_token) =
            match self.credentials(&provider, address).await {
                Ok(c) => c,
                Err(e) => return Err(self.refresh_failed(address, &provider, e).await),
            };
        let mut delay = Duration::from_secs(1);
        let mut attempt = 1;
        let outcome = loop {
            match exchange::refresh(&provider, &client_id, &client_secret, &refresh_token).await {
                Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                    tracing::warn!(attempt, "refresh failed, retrying: {e}");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                other => break other,
            }
        };
        match outcome {
            Ok(resp) => self.refreshed(address, resp).await,
            Err(e) => Err(self.refresh_failed(address, &provider, e).await),
        }
    }

    /// The client ID and secret and the account's refresh token, from the keychain.
    async fn credentials(
        &self,
        provider: &Provider,
        address: &str,
    ) -> Result<(String, Secret, Secret)> {
        let (client_id, client_secret) = self.client_for(provider).await?;
        let vault = self.vault.clone();
        let key = address.to_owned();
        let refresh_token = blocking(move || vault.require(&key, SecretKind::RefreshToken)).await?;
        Ok((client_id, client_secret, refresh_token))
    }

    async fn refreshed(&self, address: &str, resp: exchange::TokenResponse) -> Result<Secret> {
        let now = self.settings.clock.now();
        let expires_at = now + time::Duration::seconds(resp.expires_in);
        let vault = self.vault.clone();
        let key = address.to_owned();
        let token = resp.access_token.clone();
        let rotated = resp.refresh_token.clone();
        // A rotated refresh token first: the old one is dead at the provider already, so
        // losing the new one would lose the grant; an access token can always be had again.
        blocking(move || {
            if let Some(rt) = rotated {
                vault.put(&key, SecretKind::RefreshToken, &rt)?;
            }
            vault.put_access(&key, &token, expires_at.unix_timestamp())
        })
        .await?;
        let mut rec = self.record(address)?;
        if let Some(scope) = &resp.scope {
            rec.scopes_granted = crate::auth::validate::split_scopes(scope);
        }
        rec.last_refresh = Some(now);
        rec.access_expires_at = Some(expires_at);
        rec.access_lifetime_secs = Some(resp.expires_in);
        if let Some(secs) = resp.refresh_token_expires_in {
            rec.grant_expires_at = Some(now + time::Duration::seconds(secs));
        }
        if matches!(rec.standing, Standing::Error | Standing::SecretMissing) {
            rec.standing = Standing::Active;
        }
        rec.last_error = None;
        rec.refresh_failures = 0;
        rec.next_refresh_try = None;
        accounts::save(&self.store, &rec)?;
        self.auth
            .tokens
            .put(&rec, &resp.access_token, expires_at.unix_timestamp());
        let lifetime = if resp.expires_in < 120 {
            format!("{} seconds", resp.expires_in)
        } else {
            format!("{} minutes", (resp.expires_in + 59) / 60)
        };
        self.activity.record(
            Some(address),
            "refreshed",
            &format!("Access token refreshed; valid for {lifetime}"),
            true,
        )?;
        Ok(resp.access_token)
    }

    /// Records a failed refresh; returns the error to give the caller.
    async fn refresh_failed(&self, address: &str, provider: &Provider, e: Error) -> Error {
        self.auth.tokens.forget(address);
        let Ok(mut rec) = self.record(address) else {
            return e;
        };
        let now = self.settings.clock.now();
        let e = match e {
            Error::InvalidGrant {
                cause,
                description,
                provider: label,
            } => {
                let cause = classify(cause, &rec, provider.publishing_status, now);
                rec.standing = Standing::Revoked;
                rec.revoked_cause = Some(cause);
                rec.access_expires_at = None;
                let vault = self.vault.clone();
                let key = address.to_owned();
                if let Err(del) = blocking(move || vault.delete_tokens(&key)).await {
                    tracing::warn!("could not delete dead tokens: {del}");
                }
                Error::InvalidGrant {
                    cause,
                    description,
                    provider: label,
                }
            }
            // A secret gone from the keychain does not come back by itself: the account
            // waits for the person instead of being retried (and its mail requeued) forever.
            e @ (Error::SecretMissing { .. } | Error::GoogleClientMissing) => {
                rec.standing = Standing::SecretMissing;
                e
            }
            other => {
                rec.standing = Standing::Error;
                rec.refresh_failures = rec.refresh_failures.saturating_add(1);
                rec.next_refresh_try = Some(
                    now + time::Duration::seconds(crate::auth::retry_after_secs(
                        rec.refresh_failures,
                    )),
                );
                other
            }
        };
        rec.last_error = Some(e.explain());
        if let Err(s) = accounts::save(&self.store, &rec) {
            tracing::warn!("could not record the failed refresh: {s}");
        }
        let summary = format!("Refresh failed: {}", e.explain().message);
        if let Err(a) = self
            .activity
            .record(Some(address), "refresh_failed", &summary, false)
        {
            tracing::warn!("could not log the failed refresh: {a}");
        }
        e
    }

    /// Starts the 60 s refresh timer (once; later calls do nothing).
    pub fn start_background(&self) {
        if self.auth.background.swap(true, Ordering::SeqCst) {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                app.background_pass().await;
            }
        });
        // mail: the send issue starts the outbox worker here.
        self.start_outbox_worker();
        self.start_retention();
    }

    /// One pass of the background work (the 60 s timer): refreshes that are due, pending
    /// revocations that are due, and waiting mail of accounts that work again.
    pub async fn background_pass(&self) {
        self.refresh_due().await;
        self.retry_due_revocations().await;
        self.requeue_waiting_if_valid().await;
    }

    /// Refreshes every working account whose token ends within the next timer period.
    pub(crate) async fn refresh_due(&self) {
        let Ok(all) = accounts::all(&self.store) else {
            return;
        };
        let now = self.settings.clock.now();
        for rec in all {
            let margin = refresh_margin(rec.access_lifetime_secs);
            let soon = now + time::Duration::seconds(margin + 60);
            let due = rec.access_expires_at.is_none_or(|t| t <= soon)
                && rec.next_refresh_try.is_none_or(|t| t <= now);
            if matches!(rec.standing, Standing::Active | Standing::Error) && due {
                if let Err(e) = self.refresh_single_flight(&rec.address, None).await {
                    tracing::warn!("background refresh failed: {}", e.code());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(now: time::OffsetDateTime, age_days: i64) -> AccountRecord {
        AccountRecord {
            refresh_token_issued_at: Some(now - time::Duration::days(age_days)),
            ..AccountRecord::new("a@b.test", "google", now)
        }
    }

    #[test]
    fn testing_mode_is_named_only_for_a_testing_client_whose_week_is_over() {
        let now = time::OffsetDateTime::now_utc();
        let unknown = RevokedCause::Unknown;
        let testing = PublishingStatus::Testing;
        assert_eq!(
            classify(unknown, &rec(now, 7), testing, now),
            RevokedCause::TestingModeExpiry
        );
        assert_eq!(classify(unknown, &rec(now, 2), testing, now), unknown);
        assert_eq!(
            classify(unknown, &rec(now, 8), PublishingStatus::InProduction, now),
            unknown,
            "a published app's week-old grant that dies was revoked, not Testing"
        );
        assert_eq!(
            classify(unknown, &rec(now, 30), PublishingStatus::Unknown, now),
            unknown
        );
        assert_eq!(
            classify(RevokedCause::AdminPolicy, &rec(now, 7), testing, now),
            RevokedCause::AdminPolicy
        );
        let mut timed = rec(now, 1);
        timed.grant_expires_at = Some(now - time::Duration::minutes(1));
        assert_eq!(
            classify(unknown, &timed, PublishingStatus::InProduction, now),
            RevokedCause::TimeBasedAccessEnded
        );
    }
}
