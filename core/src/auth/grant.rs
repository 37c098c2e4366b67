//! Getting and replacing a grant: run the browser flow, exchange the code, validate what
//! came back, then secrets to the vault and facts to the store.

use std::sync::Arc;
use std::time::Duration;

use crate::accounts::{AccountRecord, Accounts, Standing};
use crate::activity::ActivityLog;
use crate::auth::exchange::{self, TokenResponse};
use crate::auth::flow::{self, FlowOutcome, FlowRequest, FlowSlot, Launcher};
use crate::auth::grant_check::{self, Validated};
use crate::auth::loopback::PageResult;
use crate::auth::refresher::Refresher;
use crate::auth::revocation::Revocations;
use crate::auth::revoke;
use crate::auth::statuses::Statuses;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::events::{AuthorizePhase, AuthorizeProgress, Event, Events};
use crate::provider::Provider;
use crate::secret::Secret;
use crate::settings::Settings;
use crate::status::{sending_scopes_missing, Account};
use crate::vault::Keychain;

/// What a new grant needs: the flow's settings and the services that keep its outcome.
pub(crate) struct GrantParts {
    pub(crate) accounts: Arc<Accounts>,
    pub(crate) keychain: Keychain,
    pub(crate) statuses: Arc<Statuses>,
    pub(crate) refresher: Arc<Refresher>,
    pub(crate) revocations: Arc<Revocations>,
    pub(crate) activity: ActivityLog,
    pub(crate) events: Events,
}

/// Obtains grants: the consent flow (one at a time), validation, storage.
pub(crate) struct Grants {
    accounts: Arc<Accounts>,
    keychain: Keychain,
    statuses: Arc<Statuses>,
    refresher: Arc<Refresher>,
    revocations: Arc<Revocations>,
    activity: ActivityLog,
    events: Events,
    clock: Clock,
    flow: FlowSlot,
    loopback_port: Option<u16>,
    authorize_timeout: Duration,
}

impl Grants {
    pub(crate) fn new(parts: GrantParts, settings: &Settings) -> Grants {
        Grants {
            accounts: parts.accounts,
            keychain: parts.keychain,
            statuses: parts.statuses,
            refresher: parts.refresher,
            revocations: parts.revocations,
            activity: parts.activity,
            events: parts.events,
            clock: settings.clock.clone(),
            flow: FlowSlot::default(),
            loopback_port: settings.loopback_port,
            authorize_timeout: settings.authorize_timeout,
        }
    }

    /// Adds an account: the consent flow in the browser `launcher` opens.
    pub(crate) async fn authorize(
        &self,
        provider: &str,
        login_hint: Option<&str>,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Account> {
        let p = self.accounts.provider(provider)?;
        self.run_grant(&p, login_hint, None, launcher).await
    }

    /// Runs the flow again for the same address (`login_hint`, `prompt=consent`); the new
    /// grant replaces the old one and the account keeps its history.
    pub(crate) async fn reauthorize(
        &self,
        address: &str,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Account> {
        let rec = self.accounts.record(address)?;
        if rec.standing == Standing::RevocationPending {
            // A new grant now would overwrite the tokens the pending revocation needs.
            return Err(Error::RevocationPending {
                address: rec.address,
            });
        }
        let p = self.accounts.provider(&rec.provider)?;
        self.run_grant(&p, Some(&rec.address), Some(&rec.address), launcher)
            .await
    }

    /// Revoke and reauthorize, the one button for "I want a fresh grant": a live grant is
    /// revoked at the provider first (so that a leaked token dies now), then consent runs
    /// again for the same address. Consent does not start while the revocation is
    /// unconfirmed: the old grant would live on beside the new one.
    pub(crate) async fn revoke_and_reauthorize(
        &self,
        address: &str,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Account> {
        self.revocations.end_live_grant(address).await?;
        self.reauthorize(address, launcher).await
    }

    /// Ends the flow in progress ("cancelled"); the port is freed.
    pub(crate) fn cancel(&self) {
        self.flow.cancel();
    }

    /// The paste fallback: the address the browser was sent to after consent.
    pub(crate) fn complete(&self, pasted_redirect_url: &str) -> Result<()> {
        self.flow.complete(pasted_redirect_url)
    }

    async fn run_grant(
        &self,
        p: &Provider,
        login_hint: Option<&str>,
        expected: Option<&str>,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Account> {
        let (client_id, client_secret) = self.accounts.client_for(p).await?;
        // Fail before the browser opens when the keychain cannot take the result.
        self.keychain.check().await?;
        // Without a refresh token of ours for the address, a provider that still holds a
        // live grant would answer with none; forced consent makes it issue one.
        let force_consent = expected.is_some() || !self.holds_refresh_token(login_hint).await;
        let req = FlowRequest {
            provider: p,
            client_id: &client_id,
            login_hint,
            again: force_consent,
            port: self.loopback_port,
            timeout: self.authorize_timeout,
        };
        let mut outcome = flow::run(&self.flow, &self.events, req, launcher).await?;
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

    /// Whether Postern holds a refresh token for the address (`None`: an unknown address).
    async fn holds_refresh_token(&self, address: Option<&str>) -> bool {
        let Some(address) = address else {
            return false;
        };
        self.keychain
            .refresh_token(address)
            .await
            .is_ok_and(|t| t.is_some())
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
        let mut address = None;
        let result = self
            .accept_grant(p, client_id, &tokens, outcome.scope, expected, &mut address)
            .await;
        if let Err(e) = &result {
            tracing::warn!("a new grant cannot be used ({}); revoking it", e.code());
            let client = revoke::Client {
                id: client_id,
                secret: client_secret,
            };
            self.revoke_unusable(p, &client, &tokens, address.as_deref())
                .await;
        }
        result
    }

    /// Validation and storage of a grant just obtained; `address` learns who it is for.
    async fn accept_grant(
        &self,
        p: &Provider,
        client_id: &str,
        tokens: &TokenResponse,
        redirect_scope: Option<String>,
        expected: Option<&str>,
        address: &mut Option<String>,
    ) -> Result<Account> {
        let now = self.clock.unix();
        let v = grant_check::validate(p, client_id, tokens, redirect_scope, now).await?;
        *address = Some(v.address.clone());
        if let Some(expected) = expected {
            if !v.address.eq_ignore_ascii_case(expected) {
                return Err(Error::AddressMismatch {
                    expected: expected.to_owned(),
                    got: v.address,
                });
            }
        }
        if let Some(other) = self
            .accounts
            .find(&v.address)?
            .filter(|r| r.provider != p.name)
        {
            return Err(Error::AddressOtherProvider {
                address: other.address,
                provider: self.accounts.label_of(&other.provider),
            });
        }
        let _held = self.refresher.grant_lock(&v.address).await?;
        self.store_grant(p, v, tokens, expected.is_some()).await
    }

    /// Revokes a grant Postern obtained and cannot use, so no live grant is left behind;
    /// except where the address is a working account of ours at this provider, whose grant
    /// revoking would end too (Google ends every token of a client and account at once).
    async fn revoke_unusable(
        &self,
        p: &Provider,
        client: &revoke::Client<'_>,
        tokens: &TokenResponse,
        address: Option<&str>,
    ) {
        let ours = address
            .and_then(|a| self.accounts.find(a).ok().flatten())
            .is_some_and(|r| r.provider == p.name && r.standing != Standing::Revoked);
        if ours {
            return;
        }
        let (token, hint) = match &tokens.refresh_token {
            Some(rt) => (rt, "refresh_token"),
            None => (&tokens.access_token, "access_token"),
        };
        let words = match revoke::revoke(p, client, token, hint).await {
            Ok(_) => format!("The grant just obtained could not be used, so it was revoked at {}", p.label),
            Err(e) => format!(
                "The grant just obtained could not be used and {} did not confirm its revocation: {}",
                p.label,
                e.explain().fix
            ),
        };
        if let Err(e) = self
            .activity
            .record(address, "unusable_grant_revoked", &words, false)
        {
            tracing::warn!("could not log the unusable grant: {e}");
        }
    }

    async fn store_grant(
        &self,
        p: &Provider,
        v: Validated,
        tokens: &TokenResponse,
        again: bool,
    ) -> Result<Account> {
        let now = self.clock.now();
        let previous = self.accounts.find(&v.address)?;
        let address = v.address.clone();
        let expires_at = now + time::Duration::seconds(tokens.expires_in);
        self.keychain
            .put_grant(
                &address,
                tokens.refresh_token.clone(),
                tokens.access_token.clone(),
                expires_at.unix_timestamp(),
            )
            .await?;
        let missing = sending_scopes_missing(&p.scopes, &v.scopes);
        let rec = AccountRecord {
            added_at: previous.as_ref().map_or(now, |r| r.added_at),
            scopes_granted: v.scopes.clone(),
            refresh_token_issued_at: Some(now),
            access_expires_at: Some(expires_at),
            access_lifetime_secs: Some(tokens.expires_in),
            grant_expires_at: tokens
                .refresh_token_expires_in
                .map(|s| now + time::Duration::seconds(s)),
            standing: if missing.is_empty() {
                Standing::Active
            } else {
                Standing::ScopeMissing
            },
            last_error: (!missing.is_empty()).then(|| {
                Error::ScopeMissing {
                    missing: missing.clone(),
                }
                .explain()
            }),
            audience_ok: v.audience_ok,
            ..AccountRecord::new(&address, &p.name, now)
        };
        self.accounts.save(&rec)?;
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
            &format!("Identity from {}; {audience}; {scopes}", v.identity_source),
            missing.is_empty(),
        )?;
        self.statuses.publish(&address, true);
        Ok(self.statuses.account_of(&rec))
    }
}
