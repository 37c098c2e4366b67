//! Getting and replacing a grant: run the browser flow, exchange the code, validate what
//! came back, then secrets to the vault and facts to the store.

use std::sync::Arc;

use crate::accounts::{self, AccountRecord, Standing};
use crate::app::{blocking, App};
use crate::auth::exchange::{self, TokenResponse};
use crate::auth::flow::{self, FlowOutcome, FlowRequest, Launcher};
use crate::auth::loopback::PageResult;
use crate::auth::validate;
use crate::error::{Error, Result};
use crate::events::{AuthorizePhase, AuthorizeProgress, Event};
use crate::provider::Provider;
use crate::secret::Secret;
use crate::status::{sending_scopes_missing, Account};
use crate::vault::SecretKind;

/// What the exchange and validation established.
struct Validated {
    address: String,
    scopes: Vec<String>,
    audience_ok: Option<bool>,
    tokens: TokenResponse,
}

impl App {
    /// Adds an account: the consent flow in the browser `launcher` opens.
    pub async fn authorize(
        &self,
        provider: &str,
        login_hint: Option<&str>,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Account> {
        let p = self.provider(provider)?;
        self.run_grant(&p, login_hint, None, launcher).await
    }

    /// Runs the flow again for the same address (`login_hint`, `prompt=consent`); the new
    /// grant replaces the old one and the account keeps its history.
    pub async fn reauthorize(&self, address: &str, launcher: Arc<dyn Launcher>) -> Result<Account> {
        let rec = self.record(address)?;
        let p = self.provider(&rec.provider)?;
        self.run_grant(&p, Some(&rec.address), Some(&rec.address), launcher)
            .await
    }

    /// Revoke and reauthorize, the one button for "I want a fresh grant": a live grant is
    /// revoked at the provider first (so that a leaked token dies now), then consent runs
    /// again for the same address. An account already revoked goes straight to consent.
    pub async fn revoke_and_reauthorize(
        &self,
        address: &str,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Account> {
        if self.record(address)?.standing != Standing::Revoked {
            self.revoke(address).await?;
        }
        self.reauthorize(address, launcher).await
    }

    /// Ends the flow in progress ("cancelled"); the port is freed.
    pub fn cancel_authorize(&self) {
        self.auth.flow.cancel();
    }

    /// The paste fallback: the address the browser was sent to after consent.
    pub fn complete_authorize(&self, pasted_redirect_url: &str) -> Result<()> {
        self.auth.flow.complete(pasted_redirect_url)
    }

    async fn run_grant(
        &self,
        p: &Provider,
        login_hint: Option<&str>,
        expected: Option<&str>,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Account> {
        let (client_id, client_secret) = self.client_for(p).await?;
        // Fail before the browser opens when the keychain cannot take the result.
        let vault = self.vault.clone();
        blocking(move || vault.check()).await?;
        let req = FlowRequest {
            provider: p,
            client_id: &client_id,
            login_hint,
            again: expected.is_some(),
            port: self.settings.loopback_port,
            timeout: self.settings.authorize_timeout,
        };
        let mut outcome = flow::run(&self.auth.flow, &self.events, req, launcher).await?;
        let reply = outcome.reply.take();
        let result = self
            .finish_grant(p, &client_id, &client_secret, outcome, expected)
            .await;
        let page: PageResult = match &result {
            Ok(a) if a.status.scopes_missing.is_empty() => Ok(a.address.clone()),
            Ok(a) => Err(Error::ScopeMissing {
                missing: a.status.scopes_missing.clone(),
            }
            .explain()),
            Err(e) => Err(e.explain()),
        };
        if let Some(r) = reply {
            let _ = r.send(page);
        }
        let (phase, error) = match &result {
            Ok(_) => (AuthorizePhase::Done, None),
            Err(e) => (AuthorizePhase::Failed, Some(e.explain())),
        };
        self.events.publish(Event::Authorize(AuthorizeProgress {
            phase,
            url: None,
            error,
        }));
        result
    }

    async fn validate_grant(
        &self,
        p: &Provider,
        client_id: &str,
        tokens: TokenResponse,
        redirect_scope: Option<String>,
    ) -> Result<Validated> {
        let now = self.settings.clock.unix();
        let identity = match &tokens.id_token {
            Some(t) => Some(validate::id_token_claims(t, p, client_id, now)?.email),
            None => None,
        };
        let info = match validate::tokeninfo(p, client_id, &tokens.access_token).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!("tokeninfo could not be asked: {}", e.code());
                None
            }
        };
        if let Some(i) = &info {
            if !i.audience_ok {
                return Err(Error::AudienceMismatch {
                    expected: client_id.to_owned(),
                    got: "another client".to_owned(),
                });
            }
        }
        let address = identity
            .or_else(|| info.as_ref().and_then(|i| i.email.clone()))
            .ok_or_else(|| Error::IdTokenInvalid {
                why: "neither the id_token nor tokeninfo names an email address".to_owned(),
            })?;
        let scope = tokens
            .scope
            .clone()
            .or(redirect_scope)
            .or_else(|| info.as_ref().and_then(|i| i.scope.clone()))
            .unwrap_or_default();
        Ok(Validated {
            address,
            scopes: validate::split_scopes(&scope),
            audience_ok: info.map(|i| i.audience_ok),
            tokens,
        })
    }

    async fn finish_grant(
        &self,
        p: &Provider,
        client_id: &str,
        client_secret: &Secret,
        outcome: FlowOutcome,
        expected: Option<&str>,
    ) -> Result<Account> {
        let tokens = exchange::exchange_code(
            p,
            client_id,
            client_secret,
            &outcome.code,
            &outcome.verifier,
            &outcome.redirect_uri,
        )
        .await?;
        let v = self
            .validate_grant(p, client_id, tokens, outcome.scope)
            .await?;
        if let Some(expected) = expected {
            if !v.address.eq_ignore_ascii_case(expected) {
                self.discard_stray_grant(p, &v).await;
                return Err(Error::AddressMismatch {
                    expected: expected.to_owned(),
                    got: v.address,
                });
            }
        }
        self.store_grant(p, v, expected.is_some()).await
    }

    /// A grant for an address the person did not ask for: revoke it unless it is one of
    /// ours (revoking would end that account's grant too).
    async fn discard_stray_grant(&self, p: &Provider, v: &Validated) {
        if accounts::get(&self.store, &v.address)
            .ok()
            .flatten()
            .is_some()
        {
            return;
        }
        let token = v.tokens.access_token.clone();
        if let Err(e) = crate::auth::revoke::revoke(p, &token, "access_token").await {
            tracing::warn!("could not revoke the unwanted grant: {}", e.code());
        }
    }

    async fn store_grant(&self, p: &Provider, v: Validated, again: bool) -> Result<Account> {
        let now = self.settings.clock.now();
        let previous = accounts::get(&self.store, &v.address)?;
        let address = v.address.clone();
        let expires_at = now + time::Duration::seconds(v.tokens.expires_in);
        let vault = self.vault.clone();
        let key = address.clone();
        let access = v.tokens.access_token.clone();
        let refresh = v.tokens.refresh_token.clone();
        blocking(move || {
            match refresh {
                Some(rt) => vault.put(&key, SecretKind::RefreshToken, &rt)?,
                // No new refresh token: a previous one must still be there.
                None => {
                    vault.require(&key, SecretKind::RefreshToken)?;
                }
            }
            vault.put_access(&key, &access, expires_at.unix_timestamp())
        })
        .await?;
        let missing = sending_scopes_missing(&p.scopes, &v.scopes);
        let rec = AccountRecord {
            address: address.clone(),
            provider: p.name.clone(),
            added_at: previous.as_ref().map_or(now, |r| r.added_at),
            scopes_granted: v.scopes.clone(),
            refresh_token_issued_at: Some(now),
            last_refresh: None,
            access_expires_at: Some(expires_at),
            standing: if missing.is_empty() {
                Standing::Active
            } else {
                Standing::ScopeMissing
            },
            revoked_cause: None,
            last_error: (!missing.is_empty()).then(|| {
                Error::ScopeMissing {
                    missing: missing.clone(),
                }
                .explain()
            }),
            audience_ok: v.audience_ok,
            testing_seen: previous.as_ref().is_some_and(|r| r.testing_seen),
        };
        accounts::save(&self.store, &rec)?;
        let (kind, words) = if again || previous.is_some() {
            ("reauthorized", "Authorized again")
        } else {
            ("authorized", "Authorized")
        };
        self.activity.record(
            Some(&address),
            kind,
            &format!("{words} with {}", p.label),
            true,
        )?;
        let audience = match v.audience_ok {
            Some(true) => "tokeninfo confirms the token is for this app",
            Some(false) => "tokeninfo names another app",
            None => "tokeninfo not available",
        };
        let scopes = if missing.is_empty() {
            "all needed scopes granted".to_owned()
        } else {
            format!("missing {}", missing.join(", "))
        };
        self.activity.record(
            Some(&address),
            "validated",
            &format!("Identity from the id_token; {audience}; {scopes}"),
            missing.is_empty(),
        )?;
        self.publish(&address, true).await;
        let status = self.status_of(&rec);
        Ok(Account {
            address,
            provider: p.name.clone(),
            added_at: crate::clock::rfc3339(rec.added_at),
            status,
        })
    }

    /// Revokes the grant at the provider (RFC 7009), deletes its secrets, and marks the
    /// account "revoked by you". The local secrets go even when the provider cannot be reached.
    pub async fn revoke(&self, address: &str) -> Result<crate::status::TokenStatus> {
        // Waits out a refresh in flight: finishing after us, it would store new tokens after
        // the deletion, or record its invalid_grant over "revoked by you".
        let slot = self.slot(address);
        let _held = slot.lock.lock().await;
        let mut rec = self.record(address)?;
        let p = self.provider(&rec.provider)?;
        let vault = self.vault.clone();
        let key = rec.address.clone();
        let token = blocking(move || {
            Ok(match vault.get(&key, SecretKind::RefreshToken)? {
                Some(rt) => Some((rt, "refresh_token")),
                None => vault.get_access(&key)?.map(|(t, _)| (t, "access_token")),
            })
        })
        .await?;
        let remote = match &token {
            Some((t, hint)) => crate::auth::revoke::revoke(&p, t, hint).await.map(|_| ()),
            None => Ok(()),
        };
        let vault = self.vault.clone();
        let key = rec.address.clone();
        blocking(move || vault.delete_tokens(&key)).await?;
        rec.standing = Standing::Revoked;
        rec.revoked_cause = Some(crate::error::RevokedCause::RevokedByYou);
        rec.access_expires_at = None;
        rec.last_error = remote.as_ref().err().map(Error::explain);
        accounts::save(&self.store, &rec)?;
        let summary = match &remote {
            Ok(()) => "Revoked at the provider; secrets deleted from the keychain".to_owned(),
            Err(e) => format!(
                "Secrets deleted; the provider could not be told: {}",
                e.explain().message
            ),
        };
        self.activity
            .record(Some(&rec.address), "revoked", &summary, remote.is_ok())?;
        self.publish(&rec.address, true).await;
        remote?;
        self.status(&rec.address).await
    }

    /// Revokes (best-effort, 5 s) and forgets the account.
    pub async fn remove_account(&self, address: &str) -> Result<()> {
        let rec = self.record(address)?;
        if rec.standing != Standing::Revoked {
            let limit = std::time::Duration::from_secs(5);
            if let Ok(Err(e)) = tokio::time::timeout(limit, self.revoke(address)).await {
                tracing::warn!("revoke before removal failed: {}", e.code());
            }
        }
        self.forget_account(address).await
    }

    /// Deletes the account's secrets and row, without the network.
    pub async fn forget_account(&self, address: &str) -> Result<()> {
        let vault = self.vault.clone();
        let key = address.to_owned();
        blocking(move || vault.delete_tokens(&key)).await?;
        accounts::delete(&self.store, address)?;
        self.activity.record(
            Some(address),
            "removed",
            "Account removed from Postern",
            true,
        )?;
        if let Ok(all) = self.accounts().await {
            self.events.publish(Event::Accounts(all));
        }
        Ok(())
    }
}
