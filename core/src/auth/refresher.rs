//! Keeping access tokens fresh: proactively (before the refresh margin, and on a 60 s timer
//! while the app runs), one refresh in flight per account across every process however many
//! callers wait, backoff on 5xx and network errors, and `invalid_grant` turned into
//! `revoked` with the cause the evidence supports.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::accounts::{Accounts, Standing};
use crate::activity::ActivityLog;
use crate::auth::exchange;
use crate::auth::grant_lock::{self, GrantGuard};
use crate::auth::revoked_cause::classify;
use crate::auth::statuses::Statuses;
use crate::auth::token_cache::TokenCache;
use crate::clock::Clock;
use crate::error::{Error, Result, RevokedCause};
use crate::provider::Provider;
use crate::secret::Secret;
use crate::status::{refresh_margin, TokenStatus};
use crate::vault::Keychain;

/// Tries per refresh when the provider or the network fails.
const ATTEMPTS: u32 = 3;

/// Per-account single-flight: the lock, and how many refreshes succeeded.
#[derive(Default)]
struct AccountSlot {
    lock: Arc<tokio::sync::Mutex<()>>,
    generation: AtomicU64,
}

/// What a refresh needs and what it keeps: one slot per account, and the access tokens read.
pub(crate) struct Refresher {
    accounts: Arc<Accounts>,
    keychain: Keychain,
    statuses: Arc<Statuses>,
    activity: ActivityLog,
    clock: Clock,
    /// Where the cross-process grant locks live.
    data_dir: PathBuf,
    /// One refresh in flight per account.
    slots: Mutex<HashMap<String, Arc<AccountSlot>>>,
    /// Access tokens read from the keychain, valid while the account's row is unchanged.
    tokens: TokenCache,
}

impl Refresher {
    pub(crate) fn new(
        accounts: Arc<Accounts>,
        keychain: Keychain,
        statuses: Arc<Statuses>,
        activity: ActivityLog,
        clock: Clock,
        data_dir: PathBuf,
    ) -> Refresher {
        Refresher {
            accounts,
            keychain,
            statuses,
            activity,
            clock,
            data_dir,
            slots: Mutex::default(),
            tokens: TokenCache::default(),
        }
    }

    fn slot(&self, address: &str) -> Arc<AccountSlot> {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(address.to_ascii_lowercase())
            .or_default()
            .clone()
    }

    /// The account's grant lock, shared with every other Postern process.
    pub(crate) async fn grant_lock(&self, address: &str) -> Result<GrantGuard> {
        let local = self.slot(address).lock.clone();
        grant_lock::acquire(local, &self.data_dir, address).await
    }

    /// Drops the access token kept in memory (the account's tokens were deleted).
    pub(crate) fn forget_token(&self, address: &str) {
        self.tokens.forget(address);
    }

    /// The stored access token while it is outside its refresh margin: from memory while the
    /// account's row is unchanged since it was read (core/src/auth/token_cache.rs), else
    /// from the keychain.
    async fn fresh_token(&self, address: &str) -> Result<Option<Secret>> {
        let rec = self.accounts.record(address)?;
        let now = self.clock.unix();
        let margin = refresh_margin(rec.access_lifetime_secs);
        let stored = match self.tokens.get(&rec) {
            Some(hit) => Some(hit),
            None => {
                let read = self.keychain.access_token(address).await?;
                if let Some((tok, exp)) = &read {
                    self.tokens.put(&rec, tok, *exp);
                }
                read
            }
        };
        Ok(stored.and_then(|(tok, exp)| (exp - now > margin).then_some(tok)))
    }

    /// Refuses a grant that is not to be used: revoked, or with a revocation pending.
    fn refuse_if_revoked(&self, address: &str) -> Result<()> {
        let rec = self.accounts.record(address)?;
        match rec.standing {
            Standing::Revoked => Err(Error::InvalidGrant {
                cause: rec.revoked_cause.unwrap_or(RevokedCause::Unknown),
                description: "the grant was revoked; authorize the account again".to_owned(),
                provider: self.accounts.label_of(&rec.provider),
            }),
            Standing::RevocationPending => Err(Error::RevocationPending {
                address: rec.address,
            }),
            _ => Ok(()),
        }
    }

    /// A fresh access token (refreshed first inside its refresh margin). Refused with
    /// `scope_missing` when the grant lacks the Gmail scope: sending could not work.
    pub(crate) async fn access_token(&self, address: &str) -> Result<Secret> {
        self.refuse_if_revoked(address)?;
        let rec = self.accounts.record(address)?;
        if rec.standing == Standing::ScopeMissing {
            let needed = self.accounts.provider(&rec.provider)?.scopes;
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
    pub(crate) async fn refresh_now(&self, address: &str) -> Result<TokenStatus> {
        self.refuse_if_revoked(address)?;
        let seen = self.refresh_mark(address);
        self.refresh_single_flight(address, Some(seen)).await?;
        self.statuses.status(address)
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
        let last = self
            .accounts
            .record(address)
            .ok()
            .and_then(|r| r.last_refresh);
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
        self.statuses.set_refreshing(address, true);
        self.statuses.publish(address, false);
        let result = self.refresh_with_backoff(address).await;
        self.statuses.set_refreshing(address, false);
        if result.is_ok() {
            slot.generation.fetch_add(1, Ordering::SeqCst);
        }
        self.statuses.publish(address, false);
        result
    }

    async fn refresh_with_backoff(&self, address: &str) -> Result<Secret> {
        let provider = self.accounts.provider_for(address)?;
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
        let (client_id, client_secret) = self.accounts.client_for(provider).await?;
        let refresh_token = self.keychain.require_refresh_token(address).await?;
        Ok((client_id, client_secret, refresh_token))
    }

    async fn refreshed(&self, address: &str, resp: exchange::TokenResponse) -> Result<Secret> {
        let now = self.clock.now();
        let expires_at = now + time::Duration::seconds(resp.expires_in);
        self.keychain
            .put_refreshed(
                address,
                resp.refresh_token.clone(),
                resp.access_token.clone(),
                expires_at.unix_timestamp(),
            )
            .await?;
        let mut rec = self.accounts.record(address)?;
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
        self.accounts.save(&rec)?;
        self.tokens
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
        self.tokens.forget(address);
        let Ok(mut rec) = self.accounts.record(address) else {
            return e;
        };
        let now = self.clock.now();
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
                if let Err(del) = self.keychain.delete_tokens(address).await {
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
        if let Err(s) = self.accounts.save(&rec) {
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

    /// Refreshes every working account whose token ends within the next timer period.
    pub(crate) async fn refresh_due(&self) {
        let Ok(all) = self.accounts.all() else {
            return;
        };
        let now = self.clock.now();
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
