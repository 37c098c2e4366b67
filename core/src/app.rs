//! The one object the shell and the command line hold: settings, store, vault, events and
//! the authorization state, with the operations of docs/ipc.md. Cheap to clone.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::accounts::{self, AccountRecord};
use crate::activity::{Activity, ActivityLog};
use crate::auth::flow::FlowSlot;
use crate::auth::refresher::AccountSlot;
use crate::error::{Error, Result};
use crate::events::{Event, Events};
use crate::provider::{self, Provider, PublishingStatus};
use crate::secret::Secret;
use crate::settings::{self, Mode, Settings};
use crate::status::{self, Account, TokenStatus};
use crate::store::Store;
use crate::vault::{SecretKind, Vault};

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

/// Authorization state shared by every clone.
#[derive(Default)]
pub(crate) struct AuthState {
    pub(crate) flow: FlowSlot,
    /// One refresh in flight per account.
    pub(crate) slots: Mutex<HashMap<String, Arc<AccountSlot>>>,
    /// Accounts with a refresh in flight (shown as `refreshing`).
    pub(crate) refreshing: Mutex<HashSet<String>>,
    pub(crate) background: AtomicBool,
    /// Access tokens read from the keychain, valid while the account's row is unchanged.
    pub(crate) tokens: crate::auth::token_cache::TokenCache,
}

/// Postern's engine.
#[derive(Clone)]
pub struct App {
    pub(crate) settings: Arc<Settings>,
    pub(crate) store: Arc<Store>,
    pub(crate) events: Events,
    pub(crate) activity: ActivityLog,
    pub(crate) vault: Vault,
    pub(crate) providers: Arc<RwLock<Vec<Provider>>>,
    pub(crate) auth: Arc<AuthState>,
    // mail: added by the send issue
    pub(crate) outbox: Arc<crate::outbox::Outbox>,
}

/// The keychain "account" under which a provider's client secret lives.
pub(crate) fn client_key(provider: &str) -> String {
    format!("client:{provider}")
}

/// Runs a blocking (keychain) call off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal {
            why: format!("a keychain call failed to run: {e}"),
        })?
}

fn build_providers(settings: &Settings) -> Result<Vec<Provider>> {
    let mut google = provider::google();
    google.client_id = settings::read_google_client_id(&settings.config_dir)?;
    google.publishing_status = settings::read_google_publishing_status(&settings.config_dir);
    let mut all = vec![google];
    for p in provider::load_custom(&settings.config_dir)?
        .into_iter()
        .chain(settings.extra_providers.iter().cloned())
    {
        p.validate()?;
        all.retain(|q| q.name != p.name);
        all.push(p);
    }
    Ok(all)
}

impl App {
    /// Opens the store (migrating it), reads the provider profiles, and returns the app.
    pub async fn open(settings: Settings) -> Result<App> {
        let providers = build_providers(&settings)?;
        let store = Arc::new(Store::open(&settings.db_path())?);
        accounts::migrate(&store)?;
        let events = Events::default();
        let activity = ActivityLog::new(store.clone(), events.clone(), settings.clock.clone())?;
        let vault = Vault::new(settings.keyring_service.clone());
        // mail: added by the send issue
        let outbox = crate::outbox::Outbox::open(store.clone())?;
        let app = App {
            settings: Arc::new(settings),
            store,
            events,
            activity,
            vault,
            providers: Arc::new(RwLock::new(providers)),
            auth: Arc::new(AuthState::default()),
            outbox,
        };
        // A failed purge must not keep the person from their mail; it runs again tomorrow.
        if let Err(e) = app.purge_expired() {
            tracing::warn!("retention purge failed: {}", e.code());
        }
        Ok(app)
    }

    /// The store (other modules add their tables through [`Store::migrate`]).
    #[allow(dead_code)] // the send issue's outbox uses it
    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The event channel.
    pub(crate) fn events(&self) -> &Events {
        &self.events
    }

    /// The activity log.
    pub(crate) fn activity_log(&self) -> &ActivityLog {
        &self.activity
    }

    /// The settings the app was opened with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The keychain vault (tests read it to find the secrets a run produced).
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Mode, version, folders, providers.
    pub fn info(&self) -> AppInfo {
        let providers = self
            .providers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|p| ProviderInfo {
                name: p.name.clone(),
                label: p.label.clone(),
                publishing_status: p.publishing_status,
            })
            .collect();
        AppInfo {
            mode: self.settings.mode,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_dir: self.settings.data_dir.display().to_string(),
            config_dir: self.settings.config_dir.display().to_string(),
            providers,
            google_client_configured: self.settings.google_client_configured(),
        }
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// A provider by name.
    pub(crate) fn provider(&self, name: &str) -> Result<Provider> {
        self.providers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .ok_or_else(|| Error::UnknownProvider {
                name: name.to_owned(),
            })
    }

    /// The provider of an account.
    pub(crate) fn provider_for(&self, address: &str) -> Result<Provider> {
        let rec = self.record(address)?;
        self.provider(&rec.provider)
    }

    /// The stored facts of an account.
    pub(crate) fn record(&self, address: &str) -> Result<AccountRecord> {
        accounts::get(&self.store, address)?.ok_or_else(|| Error::UnknownAccount {
            address: address.to_owned(),
        })
    }

    /// The largest message any provider takes: the most a message read from a stream may be
    /// before its account is known.
    pub fn largest_message_bytes(&self) -> u64 {
        self.providers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|p| p.max_message_bytes)
            .max()
            .unwrap_or(0)
    }

    /// The client ID and secret for a provider.
    pub(crate) async fn client_for(&self, p: &Provider) -> Result<(String, Secret)> {
        let missing = || {
            if p.name == "google" {
                Error::GoogleClientMissing
            } else {
                Error::ProviderConfig {
                    why: format!("provider {:?} has no client_id", p.name),
                }
            }
        };
        let id = p.client_id.clone().ok_or_else(missing)?;
        let vault = self.vault.clone();
        let key = client_key(&p.name);
        let secret = blocking(move || vault.get(&key, SecretKind::ClientSecret)).await?;
        let secret = secret.ok_or_else(|| {
            if p.name == "google" {
                Error::GoogleClientMissing
            } else {
                Error::SecretMissing {
                    what: "client secret".to_owned(),
                    account: p.name.clone(),
                }
            }
        })?;
        Ok((id, secret))
    }

    /// Stores a provider's client secret in the keychain.
    pub fn set_client_secret(&self, provider: &str, secret: Secret) -> Result<()> {
        self.provider(provider)?;
        self.vault
            .put(&client_key(provider), SecretKind::ClientSecret, &secret)?;
        self.secret_restored(provider)
    }

    /// Accounts that stopped because the client secret was missing may work again: the
    /// next use or background pass finds out (once; a refresh token still missing puts
    /// them back).
    fn secret_restored(&self, provider: &str) -> Result<()> {
        for mut rec in accounts::all(&self.store)? {
            if rec.provider == provider && rec.standing == accounts::Standing::SecretMissing {
                rec.standing = accounts::Standing::Active;
                rec.last_error = None;
                accounts::save(&self.store, &rec)?;
            }
        }
        Ok(())
    }

    /// Saves the Google client: the ID in the config folder, the secret in the keychain.
    pub async fn save_google_client(
        &self,
        client_id: &str,
        client_secret: Secret,
        status: PublishingStatus,
    ) -> Result<AppInfo> {
        let id = client_id.trim().to_owned();
        if id.is_empty() || client_secret.is_empty() {
            return Err(Error::InvalidInput {
                what: "the Google client".to_owned(),
                why: "both the client ID and the client secret are needed".to_owned(),
            });
        }
        let vault = self.vault.clone();
        blocking(move || {
            vault.put(
                &client_key("google"),
                SecretKind::ClientSecret,
                &client_secret,
            )
        })
        .await?;
        settings::write_google_client(&self.settings.config_dir, &id, status)?;
        self.secret_restored("google")?;
        for p in self
            .providers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
            .filter(|p| p.name == "google")
        {
            p.client_id = Some(id.clone());
            p.publishing_status = status;
        }
        self.activity.record(
            None,
            "client_saved",
            "Google client saved (secret in the keychain)",
            true,
        )?;
        Ok(self.info())
    }

    /// Imports the JSON Google's console downloads for a Desktop client.
    pub async fn import_google_client(
        &self,
        json: &str,
        status: PublishingStatus,
    ) -> Result<AppInfo> {
        let c = provider::parse_google_client_json(json)?;
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
        let p = self.provider(provider)?;
        if p.name == "google" {
            let id = p.client_id.clone().ok_or(Error::GoogleClientMissing)?;
            settings::write_google_client(&self.settings.config_dir, &id, status)?;
        }
        for q in self
            .providers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
            .filter(|q| q.name == p.name)
        {
            q.publishing_status = status;
        }
        self.activity.record(
            None,
            "publishing_status",
            &format!("{}: publishing status set to {}", p.label, status.as_str()),
            true,
        )?;
        for a in accounts::all(&self.store)? {
            self.publish(&a.address, false).await;
        }
        if let Ok(all) = self.accounts().await {
            self.events.publish(Event::Accounts(all));
        }
        Ok(self.info())
    }

    /// Whether a refresh is in flight for the account.
    fn is_refreshing(&self, address: &str) -> bool {
        self.auth
            .refreshing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&address.to_ascii_lowercase())
    }

    /// The status of a stored account.
    pub(crate) fn status_of(&self, rec: &AccountRecord) -> TokenStatus {
        // A profile that is not loaded (the command line while `postern sandbox` is not
        // running) is described by its name, with no claims about its lifetimes.
        let p = self.provider(&rec.provider).unwrap_or_else(|_| Provider {
            name: rec.provider.clone(),
            label: rec.provider.clone(),
            access_page: None,
            ..provider::google()
        });
        status::compute(
            rec,
            &p,
            self.settings.clock.now(),
            self.is_refreshing(&rec.address),
        )
    }

    /// Every account with its status.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        Ok(accounts::all(&self.store)?
            .iter()
            .map(|r| Account {
                address: r.address.clone(),
                provider: r.provider.clone(),
                added_at: crate::clock::rfc3339(r.added_at),
                status: self.status_of(r),
            })
            .collect())
    }

    /// One account's status.
    pub async fn status(&self, address: &str) -> Result<TokenStatus> {
        Ok(self.status_of(&self.record(address)?))
    }

    /// Publishes the account's status (and, with `list`, the account list).
    pub(crate) async fn publish(&self, address: &str, list: bool) {
        if let Ok(rec) = self.record(address) {
            self.events
                .publish(Event::Status(Box::new(self.status_of(&rec))));
        }
        if list {
            if let Ok(all) = self.accounts().await {
                self.events.publish(Event::Accounts(all));
            }
        }
    }

    /// The newest activity entries.
    pub async fn activity(&self, limit: usize) -> Result<Vec<Activity>> {
        self.activity.list(limit)
    }
}
