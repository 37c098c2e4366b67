//! Keeping access tokens fresh: proactively (in the last 5 minutes, and on a 60 s timer
//! while the app runs), one refresh in flight per account however many callers wait,
//! backoff on 5xx and network errors, and `invalid_grant` turned into `revoked` with the
//! likely cause.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::accounts::{self, Standing};
use crate::app::{blocking, App};
use crate::auth::exchange;
use crate::error::{Error, Result, RevokedCause};
use crate::secret::Secret;
use crate::status::EXPIRING_SECS;
use crate::vault::SecretKind;

/// A refresh token at least this old that dies is taken for Google's Testing-mode expiry.
const TESTING_EXPIRY_MIN_AGE_SECS: i64 = 6 * 86_400 + 12 * 3_600;
/// Tries per refresh when the provider or the network fails.
const ATTEMPTS: u32 = 3;

/// Per-account single-flight: the lock, and how many refreshes succeeded.
#[derive(Default)]
pub(crate) struct AccountSlot {
    pub(crate) lock: tokio::sync::Mutex<()>,
    generation: AtomicU64,
}

/// The likely cause of an `invalid_grant` at refresh time.
fn classify(given: RevokedCause, refresh_token_age_secs: Option<i64>) -> RevokedCause {
    if given != RevokedCause::Unknown {
        return given;
    }
    match refresh_token_age_secs {
        Some(age) if age >= TESTING_EXPIRY_MIN_AGE_SECS => RevokedCause::TestingModeExpiry,
        _ => RevokedCause::Unknown,
    }
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

    /// The stored access token when it has more than 5 minutes left.
    async fn fresh_token(&self, address: &str) -> Result<Option<Secret>> {
        let vault = self.vault.clone();
        let key = address.to_owned();
        let now = self.settings.clock.unix();
        let stored = blocking(move || vault.get_access(&key)).await?;
        Ok(stored.and_then(|(tok, exp)| (exp - now > EXPIRING_SECS).then_some(tok)))
    }

    fn refuse_if_revoked(&self, address: &str) -> Result<()> {
        let rec = self.record(address)?;
        if rec.standing == Standing::Revoked {
            return Err(Error::InvalidGrant {
                cause: rec.revoked_cause.unwrap_or(RevokedCause::Unknown),
                description: "the grant was revoked; authorize the account again".to_owned(),
            });
        }
        Ok(())
    }

    /// A fresh access token (refreshed first when less than 5 minutes are left). Refused
    /// with `scope_missing` when the grant lacks the Gmail scope: sending could not work.
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
        let seen = self.slot(address).generation.load(Ordering::SeqCst);
        self.refresh_single_flight(address, Some(seen)).await?;
        self.status(address).await
    }

    /// After the server refused the token: one refresh even if it looks fresh (shared with
    /// any caller already refreshing). On `invalid_grant` the account turns revoked.
    pub(crate) async fn refresh_after_rejection(&self, address: &str) -> Result<Secret> {
        self.refuse_if_revoked(address)?;
        let seen = self.slot(address).generation.load(Ordering::SeqCst);
        self.refresh_single_flight(address, Some(seen)).await
    }

    /// `force_after`: refresh unless another refresh succeeded since that generation;
    /// `None`: refresh unless the stored token is fresh by now.
    async fn refresh_single_flight(
        &self,
        address: &str,
        force_after: Option<u64>,
    ) -> Result<Secret> {
        let slot = self.slot(address);
        let _held = slot.lock.lock().await;
        let someone_refreshed = match force_after {
            Some(seen) => slot.generation.load(Ordering::SeqCst) != seen,
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
        let (client_id, client_secret) = self.client_for(&provider).await?;
        let vault = self.vault.clone();
        let key = address.to_owned();
        let refresh_token = blocking(move || vault.require(&key, SecretKind::RefreshToken)).await?;
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
            Err(e) => Err(self.refresh_failed(address, e).await),
        }
    }

    async fn refreshed(&self, address: &str, resp: exchange::TokenResponse) -> Result<Secret> {
        let now = self.settings.clock.now();
        let expires_at = now + time::Duration::seconds(resp.expires_in);
        let vault = self.vault.clone();
        let key = address.to_owned();
        let token = resp.access_token.clone();
        let rotated = resp.refresh_token.clone();
        blocking(move || {
            vault.put_access(&key, &token, expires_at.unix_timestamp())?;
            match rotated {
                Some(rt) => vault.put(&key, SecretKind::RefreshToken, &rt),
                None => Ok(()),
            }
        })
        .await?;
        let mut rec = self.record(address)?;
        if let Some(scope) = &resp.scope {
            rec.scopes_granted = crate::auth::validate::split_scopes(scope);
        }
        rec.last_refresh = Some(now);
        rec.access_expires_at = Some(expires_at);
        if rec.standing == Standing::Error {
            rec.standing = Standing::Active;
        }
        rec.last_error = None;
        accounts::save(&self.store, &rec)?;
        let mins = (resp.expires_in + 59) / 60;
        self.activity.record(
            Some(address),
            "refreshed",
            &format!("Access token refreshed; valid for {mins} minutes"),
            true,
        )?;
        Ok(resp.access_token)
    }

    /// Records a failed refresh; returns the error to give the caller.
    async fn refresh_failed(&self, address: &str, e: Error) -> Error {
        let Ok(mut rec) = self.record(address) else {
            return e;
        };
        let now = self.settings.clock.now();
        let e = match e {
            Error::InvalidGrant { cause, description } => {
                let age = rec
                    .refresh_token_issued_at
                    .map(|t| (now - t).whole_seconds());
                let cause = classify(cause, age);
                rec.standing = Standing::Revoked;
                rec.revoked_cause = Some(cause);
                rec.access_expires_at = None;
                rec.testing_seen |= cause == RevokedCause::TestingModeExpiry;
                let vault = self.vault.clone();
                let key = address.to_owned();
                if let Err(del) = blocking(move || vault.delete_tokens(&key)).await {
                    tracing::warn!("could not delete dead tokens: {del}");
                }
                Error::InvalidGrant { cause, description }
            }
            other => {
                rec.standing = Standing::Error;
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
                app.refresh_due().await;
            }
        });
        // mail: the send issue starts the outbox worker here.
        self.start_outbox_worker();
        self.start_retention();
    }

    /// Refreshes every working account whose token ends within the next timer period.
    pub(crate) async fn refresh_due(&self) {
        let Ok(all) = accounts::all(&self.store) else {
            return;
        };
        let soon = self.settings.clock.now() + time::Duration::seconds(EXPIRING_SECS + 60);
        for rec in all {
            let due = rec.access_expires_at.is_none_or(|t| t <= soon);
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

    #[test]
    fn a_week_old_token_that_dies_is_testing_mode() {
        let day = 86_400;
        assert_eq!(
            classify(RevokedCause::Unknown, Some(7 * day)),
            RevokedCause::TestingModeExpiry
        );
        assert_eq!(
            classify(RevokedCause::Unknown, Some(2 * day)),
            RevokedCause::Unknown
        );
        assert_eq!(
            classify(RevokedCause::AdminPolicy, Some(7 * day)),
            RevokedCause::AdminPolicy
        );
    }
}
