//! Revoking a grant so that it is really gone: the local tokens are deleted only once the
//! provider confirmed (200, or "already dead"). Until then the account is *revocation
//! pending*: its tokens stay in the keychain, unused, and the revocation is retried with
//! backoff by whichever Postern process runs the background work, or now by the person.
//! Removing an account and revoke-and-reauthorize follow the same rule.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::accounts::{AccountRecord, Accounts, Standing};
use crate::activity::ActivityLog;
use crate::auth::refresher::Refresher;
use crate::auth::revoke::{self, Client};
use crate::auth::statuses::Statuses;
use crate::clock::Clock;
use crate::error::{Error, Result, RevokedCause};
use crate::provider::{ClientAuth, Provider};
use crate::secret::Secret;
use crate::status::TokenStatus;
use crate::vault::Keychain;

/// Ends grants: revocation at the provider, pending revocations, removal of accounts.
pub(crate) struct Revocations {
    accounts: Arc<Accounts>,
    keychain: Keychain,
    statuses: Arc<Statuses>,
    refresher: Arc<Refresher>,
    activity: ActivityLog,
    clock: Clock,
}

impl Revocations {
    pub(crate) fn new(
        accounts: Arc<Accounts>,
        keychain: Keychain,
        statuses: Arc<Statuses>,
        refresher: Arc<Refresher>,
        activity: ActivityLog,
        clock: Clock,
    ) -> Revocations {
        Revocations {
            accounts,
            keychain,
            statuses,
            refresher,
            activity,
            clock,
        }
    }

    /// Revokes the grant at the provider (RFC 7009) and, once the provider confirmed,
    /// deletes its tokens and marks the account "revoked by you". When the provider cannot
    /// be reached or refuses, the account is *revocation pending* and this returns
    /// [`Error::RevocationNotConfirmed`].
    pub(crate) async fn revoke(&self, address: &str) -> Result<TokenStatus> {
        // The record as settled: an account removed once confirmed still reports "revoked".
        let rec = self.revoke_and_settle(address).await?;
        Ok(self.statuses.status_of(&rec))
    }

    /// Revokes (confirmed) and forgets the account. While the provider does not confirm,
    /// the account stays, marked to be removed once it does.
    pub(crate) async fn remove_account(&self, address: &str) -> Result<()> {
        let mut rec = self.accounts.record(address)?;
        if rec.standing == Standing::Revoked {
            return self.forget_account(address).await;
        }
        rec.remove_after_revoke = true;
        self.accounts.save(&rec)?;
        self.revoke_and_settle(address).await.map(drop)
    }

    /// Revokes the account's grant unless it is revoked already (before a new consent, so
    /// the old grant does not live on beside the new one).
    pub(crate) async fn end_live_grant(&self, address: &str) -> Result<()> {
        if self.accounts.record(address)?.standing != Standing::Revoked {
            self.revoke_and_settle(address).await?;
        }
        Ok(())
    }

    /// Tries every pending revocation whose time has come (what the background timer does
    /// every minute).
    pub(crate) async fn retry_due(&self) {
        let Ok(all) = self.accounts.all() else {
            return;
        };
        let now = self.clock.now();
        for rec in all {
            let due = rec.revocation_next_try.is_none_or(|t| t <= now);
            if rec.standing == Standing::RevocationPending && due {
                if let Err(e) = self.revoke_and_settle(&rec.address).await {
                    tracing::info!("pending revocation not confirmed yet: {}", e.code());
                }
            }
        }
    }

    /// Deletes the account's secrets and row, without the network (the "Forget" action).
    pub(crate) async fn forget_account(&self, address: &str) -> Result<()> {
        self.keychain.delete_tokens(address).await?;
        self.refresher.forget_token(address);
        self.accounts.delete(address)?;
        self.activity.record(
            Some(address),
            "removed",
            "Account removed from Postern",
            true,
        )?;
        self.statuses.publish_list();
        Ok(())
    }

    /// One revocation attempt under the grant lock, and what follows from its outcome;
    /// returns the account as it was settled.
    async fn revoke_and_settle(&self, address: &str) -> Result<AccountRecord> {
        let guard = self.refresher.grant_lock(address).await?;
        let mut rec = self.accounts.record(address)?;
        if rec.standing == Standing::Revoked {
            drop(guard);
            self.finish_removal(&rec).await?;
            return Ok(rec);
        }
        let p = self.accounts.provider(&rec.provider)?;
        let outcome = self.revoke_remote(&p, &rec.address).await;
        let result = match outcome {
            Ok(told) => self.revoked_here(&mut rec, &p, told).await,
            Err(e) => Err(self.revocation_pending(&mut rec, e)),
        };
        drop(guard);
        self.statuses.publish(&rec.address, true);
        result?;
        self.finish_removal(&rec).await?;
        Ok(rec)
    }

    async fn finish_removal(&self, rec: &AccountRecord) -> Result<()> {
        if rec.remove_after_revoke {
            self.forget_account(&rec.address).await?;
        }
        Ok(())
    }

    /// Asks the provider; `Ok(true)` when it confirmed, `Ok(false)` when Postern holds no
    /// token to revoke with (deleted from the keychain), so the provider cannot be told.
    async fn revoke_remote(&self, p: &Provider, address: &str) -> Result<bool> {
        let token = self.keychain.revocation_token(address).await?;
        let Some((token, hint)) = token else {
            return Ok(false);
        };
        let (id, secret) = self.revocation_client(p).await?;
        let client = Client {
            id: &id,
            secret: &secret,
        };
        revoke::revoke(p, &client, &token, hint).await?;
        Ok(true)
    }

    /// The client credentials revocation needs: the secret only when the profile
    /// authenticates there (a missing one is a reason the revocation cannot be confirmed).
    async fn revocation_client(&self, p: &Provider) -> Result<(String, Secret)> {
        if p.revocation_auth == ClientAuth::None {
            return Ok((p.client_id.clone().unwrap_or_default(), Secret::new("")));
        }
        self.accounts
            .client_for(p)
            .await
            .map_err(|e| Error::RevocationNotConfirmed {
                provider: p.label.clone(),
                why: format!(
                    "Postern cannot authenticate there: {}",
                    e.explain().message.trim_end_matches('.')
                ),
                access_page: p.access_page.clone(),
            })
    }

    async fn revoked_here(
        &self,
        rec: &mut AccountRecord,
        p: &Provider,
        provider_told: bool,
    ) -> Result<()> {
        self.keychain.delete_tokens(&rec.address).await?;
        self.refresher.forget_token(&rec.address);
        rec.standing = Standing::Revoked;
        rec.revoked_cause = Some(RevokedCause::RevokedByYou);
        rec.access_expires_at = None;
        rec.revocation_attempts = 0;
        rec.revocation_next_try = None;
        rec.last_error = (!provider_told).then(|| {
            Error::RevocationNotConfirmed {
                provider: p.label.clone(),
                why: "Postern holds no token of this grant any more (it was removed from the keychain), so it could not ask".to_owned(),
                access_page: p.access_page.clone(),
            }
            .explain()
        });
        self.accounts.save(rec)?;
        let summary = if provider_told {
            format!("Revoked at {}; tokens deleted from the keychain", p.label)
        } else {
            format!(
                "Marked revoked; {} could not be asked (no token left in the keychain)",
                p.label
            )
        };
        self.activity
            .record(Some(&rec.address), "revoked", &summary, provider_told)?;
        Ok(())
    }

    /// Records an unconfirmed revocation: tokens kept, retried later.
    fn revocation_pending(&self, rec: &mut AccountRecord, e: Error) -> Error {
        let now: OffsetDateTime = self.clock.now();
        rec.standing = Standing::RevocationPending;
        rec.revocation_attempts = rec.revocation_attempts.saturating_add(1);
        rec.revocation_next_try = Some(
            now + time::Duration::seconds(crate::auth::retry_after_secs(rec.revocation_attempts)),
        );
        rec.last_error = Some(e.explain());
        if let Err(s) = self.accounts.save(rec) {
            tracing::warn!("could not record the pending revocation: {s}");
        }
        let summary = format!(
            "Revocation not confirmed (try {}); tokens kept and not used: {}",
            rec.revocation_attempts,
            e.explain().message
        );
        if let Err(a) =
            self.activity
                .record(Some(&rec.address), "revocation_pending", &summary, false)
        {
            tracing::warn!("could not log the pending revocation: {a}");
        }
        e
    }
}
