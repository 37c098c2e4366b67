//! The one object the shell and the command line hold, with the operations of docs/ipc.md.
//! A facade: each method is one call into the service that owns the subject (accounts and
//! providers, grants, revocations, the refresher, the courier of the outbox, retention),
//! which `wiring.rs` builds and connects. Cheap to clone.

mod wiring;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::accounts::Accounts;
use crate::activity::{Activity, ActivityLog};
use crate::auth::grant::Grants;
use crate::auth::refresher::Refresher;
use crate::auth::revocation::Revocations;
use crate::auth::statuses::Statuses;
use crate::auth::Launcher;
use crate::background::Background;
use crate::error::Result;
use crate::events::{Event, Events};
use crate::mail::Draft;
use crate::outbox::{Courier, OutboxItem};
use crate::provider::{Provider, PublishingStatus};
use crate::retention::{Purged, Retention};
use crate::secret::Secret;
use crate::settings::{Mode, Settings};
use crate::status::{Account, TokenStatus};
use crate::vault::{Keychain, Vault};

/// A provider's name and label, for pickers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "Provider")]
pub struct ProviderInfo {
    /// Its stable name.
    pub name: String,
    /// What people see.
    pub label: String,
    /// The client's publishing status, as the person said it.
    pub publishing_status: PublishingStatus,
}

impl From<&Provider> for ProviderInfo {
    fn from(p: &Provider) -> ProviderInfo {
        ProviderInfo {
            name: p.name.clone(),
            label: p.label.clone(),
            publishing_status: p.publishing_status,
        }
    }
}

/// docs/ipc.md `AppInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// Google or sandbox.
    pub mode: Mode,
    /// Postern's version.
    pub version: String,
    /// Where the database lives.
    pub data_dir: String,
    /// Where settings and provider profiles live.
    pub config_dir: String,
    /// Every provider, Google first.
    pub providers: Vec<ProviderInfo>,
    /// Whether a Google client ID is saved.
    pub google_client_configured: bool,
}

/// Postern's engine.
#[derive(Clone)]
pub struct App {
    settings: Arc<Settings>,
    events: Events,
    activity: ActivityLog,
    keychain: Keychain,
    accounts: Arc<Accounts>,
    statuses: Arc<Statuses>,
    refresher: Arc<Refresher>,
    grants: Arc<Grants>,
    revocations: Arc<Revocations>,
    courier: Arc<Courier>,
    retention: Arc<Retention>,
    /// Whether this process runs the background work already.
    background: Arc<AtomicBool>,
    /// The background loops, to stop them cleanly.
    loops: Background,
}

impl App {
    /// Opens the store (migrating it), reads the provider profiles, and returns the app.
    pub async fn open(settings: Settings) -> Result<App> {
        let app = wiring::assemble(settings)?;
        // A failed purge must not keep the person from their mail; it runs again tomorrow.
        if let Err(e) = app.purge_expired() {
            tracing::warn!("retention purge failed: {}", e.code());
        }
        Ok(app)
    }

    /// The settings the app was opened with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The keychain vault (tests read it to find the secrets a run produced).
    pub fn vault(&self) -> &Vault {
        self.keychain.vault()
    }

    /// Mode, version, folders, providers.
    pub fn info(&self) -> AppInfo {
        AppInfo {
            mode: self.settings.mode,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_dir: self.settings.data_dir.display().to_string(),
            config_dir: self.settings.config_dir.display().to_string(),
            providers: self.accounts.providers().iter().map(Into::into).collect(),
            google_client_configured: self.settings.google_client_configured(),
        }
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The largest message any provider takes: the most a message read from a stream may be
    /// before its account is known.
    pub fn largest_message_bytes(&self) -> u64 {
        self.accounts.largest_message_bytes()
    }

    /// Stores a provider's client secret in the keychain.
    pub fn set_client_secret(&self, provider: &str, secret: Secret) -> Result<()> {
        self.accounts.set_client_secret(provider, secret)
    }

    /// Saves the Google client: the ID in the config folder, the secret in the keychain.
    pub async fn save_google_client(
        &self,
        client_id: &str,
        client_secret: Secret,
        status: PublishingStatus,
    ) -> Result<AppInfo> {
        self.accounts
            .save_google_client(client_id, client_secret, status)
            .await?;
        let words = "Google client saved (secret in the keychain)";
        self.activity.record(None, "client_saved", words, true)?;
        Ok(self.info())
    }

    /// Imports the JSON Google's console downloads for a Desktop client.
    pub async fn import_google_client(
        &self,
        json: &str,
        status: PublishingStatus,
    ) -> Result<AppInfo> {
        let c = crate::provider::parse_google_client_json(json)?;
        self.save_google_client(&c.client_id, c.client_secret, status)
            .await
    }

    /// Records a client's publishing status, which decides whether a grant has a 7-day end:
    /// Google's is kept beside its client ID; another profile's holds for this run (set it
    /// in providers.toml to keep it).
    pub async fn set_publishing_status(
        &self,
        provider: &str,
        status: PublishingStatus,
    ) -> Result<AppInfo> {
        let p = self.accounts.set_publishing_status(provider, status)?;
        let words = format!("{}: publishing status set to {}", p.label, status.as_str());
        self.activity
            .record(None, "publishing_status", &words, true)?;
        self.statuses.publish_all()?;
        Ok(self.info())
    }

    /// Every account with its status.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        self.statuses.list()
    }

    /// One account's status.
    pub async fn status(&self, address: &str) -> Result<TokenStatus> {
        self.statuses.status(address)
    }

    /// The newest activity entries.
    pub async fn activity(&self, limit: usize) -> Result<Vec<Activity>> {
        self.activity.list(limit)
    }

    /// Adds an account: the consent flow in the browser `launcher` opens.
    pub async fn authorize(
        &self,
        provider: &str,
        login_hint: Option<&str>,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Account> {
        self.grants.authorize(provider, login_hint, launcher).await
    }

    /// Runs the flow again for the same address (`login_hint`, `prompt=consent`); the new
    /// grant replaces the old one and the account keeps its history.
    pub async fn reauthorize(&self, address: &str, launcher: Arc<dyn Launcher>) -> Result<Account> {
        self.grants.reauthorize(address, launcher).await
    }

    /// Ends the flow in progress ("cancelled"); the port is freed.
    pub fn cancel_authorize(&self) {
        self.grants.cancel();
    }

    /// The paste fallback: the address the browser was sent to after consent.
    pub fn complete_authorize(&self, pasted_redirect_url: &str) -> Result<()> {
        self.grants.complete(pasted_redirect_url)
    }

    /// Revokes the grant at the provider (RFC 7009) and, once the provider confirmed,
    /// deletes its tokens and marks the account "revoked by you". When the provider cannot
    /// be reached or refuses, the account is *revocation pending* and this returns
    /// [`Error::RevocationNotConfirmed`](crate::Error::RevocationNotConfirmed).
    pub async fn revoke(&self, address: &str) -> Result<TokenStatus> {
        self.revocations.revoke(address).await
    }

    /// Revokes (confirmed) and forgets the account. While the provider does not confirm,
    /// the account stays, marked to be removed once it does.
    pub async fn remove_account(&self, address: &str) -> Result<()> {
        self.revocations.remove_account(address).await
    }

    /// Revoke and reauthorize, the one button for "I want a fresh grant": a live grant is
    /// revoked first, then consent runs again for the same address (not while the
    /// revocation is unconfirmed).
    pub async fn revoke_and_reauthorize(
        &self,
        address: &str,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Account> {
        self.grants.revoke_and_reauthorize(address, launcher).await
    }

    /// Tries every pending revocation whose time has come (what the background timer does
    /// every minute).
    pub async fn retry_due_revocations(&self) {
        self.revocations.retry_due().await;
    }

    /// Deletes the account's secrets and row, without the network (the "Forget" action).
    pub async fn forget_account(&self, address: &str) -> Result<()> {
        self.revocations.forget_account(address).await
    }

    /// A fresh access token (refreshed first inside its refresh margin). Refused with
    /// `scope_missing` when the grant lacks the Gmail scope: sending could not work.
    pub async fn access_token(&self, address: &str) -> Result<Secret> {
        self.refresher.access_token(address).await
    }

    /// Refreshes now, even when the token looks fresh.
    pub async fn refresh_now(&self, address: &str) -> Result<TokenStatus> {
        self.refresher.refresh_now(address).await
    }

    /// Starts the background work once (later calls do nothing): the 60 s timer of
    /// [`App::background_pass`], the outbox worker and the daily retention purge.
    pub fn start_background(&self) {
        if self.background.swap(true, Ordering::SeqCst) {
            return;
        }
        let app = self.clone();
        self.loops.every(Duration::from_secs(60), true, move || {
            let app = app.clone();
            async move { app.background_pass().await }
        });
        self.start_outbox_worker();
        self.retention.start(&self.loops);
    }

    /// Stops the background work for a clean quit: every loop ends at its next stopping
    /// point (a refresh or a message under way finishes first, for at most `within`), and
    /// this process gives up the delivery lease so another Postern process delivers at once.
    /// Returns whether everything ended within `within`. Nothing of it starts again.
    pub async fn stop_background(&self, within: Duration) -> bool {
        let ended = self.loops.stop(within).await;
        self.courier.stop_delivering();
        ended
    }

    /// One pass of the background work (the 60 s timer): refreshes that are due, pending
    /// revocations that are due, and waiting mail of accounts that work again.
    pub async fn background_pass(&self) {
        self.refresher.refresh_due().await;
        self.revocations.retry_due().await;
        self.courier.requeue_waiting_if_valid();
    }

    /// Applies the retention settings now.
    pub fn purge_expired(&self) -> Result<Purged> {
        self.retention.purge_expired()
    }

    /// Validates and composes the draft, stores it `queued` and wakes the worker. The
    /// returned item is queued; `Event::Outbox` tells the rest.
    pub async fn send(&self, draft: Draft) -> Result<OutboxItem> {
        self.courier.send(draft).await
    }

    /// Like [`App::send`], then carries the message until it is sent, failed or waiting (the
    /// returned item says which), sending it from this task when no background worker runs.
    /// After `timeout`: `SendTimedOut`, the message staying in the outbox.
    pub async fn send_and_wait(&self, draft: Draft, timeout: Duration) -> Result<OutboxItem> {
        self.courier.send_and_wait(draft, timeout).await
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
        self.courier.send_raw_and_wait(from, rfc5322, timeout).await
    }

    /// Every outbox message, newest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>> {
        self.courier.list()
    }

    /// Puts a failed or waiting message back in the queue now.
    pub async fn retry_outbox(&self, id: i64) -> Result<OutboxItem> {
        self.courier.retry(id)
    }

    /// Puts a failed or waiting message back in the queue and carries it until it settles
    /// (or `timeout`): what `postern outbox retry ID` does without the window.
    pub async fn retry_outbox_now(&self, id: i64, timeout: Duration) -> Result<OutboxItem> {
        self.courier.retry_now(id, timeout).await
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
        self.courier.deliver_now(account, timeout).await
    }

    /// Takes back a message stuck in `sending` (its process may hang): see
    /// [`Outbox::take_back`](crate::outbox::Outbox::take_back). It may then be sent twice.
    pub async fn take_back_outbox(&self, id: i64) -> Result<OutboxItem> {
        self.courier.take_back(id)
    }

    /// Deletes a message that is not being sent right now.
    pub async fn discard_outbox(&self, id: i64) -> Result<()> {
        self.courier.discard(id)
    }

    /// Starts the outbox worker, and requeues an account's waiting mail when a `Status` event
    /// says its grant works again (a reauthorization here); a reauthorization by another
    /// process (e.g. `postern authorize`) is found by [`App::background_pass`] every minute.
    fn start_outbox_worker(&self) {
        if self.courier.start_worker(&self.loops) {
            wiring::requeue_on_status(&self.events, self.courier.clone(), &self.loops);
        }
    }
}
