//! Accounts and the providers they belong to: the stored facts of each account
//! ([`record`]), the provider profiles (Google's, providers.toml's and the caller's), and each
//! provider's OAuth client (its ID in the config folder, its secret in the keychain).

mod record;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

pub(crate) use record::{AccountRecord, Standing};

use crate::error::{Error, Result};
use crate::provider::{self, Provider, PublishingStatus};
use crate::secret::Secret;
use crate::settings::{self, Settings};
use crate::store::Store;
use crate::vault::{client_key, Keychain, SecretKind};

/// Google's profile with the client the person saved, then every other profile (a later one
/// replaces an earlier one of the same name).
pub(crate) fn load_providers(settings: &Settings) -> Result<Vec<Provider>> {
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

/// The accounts Postern holds and the providers they use.
pub(crate) struct Accounts {
    store: Arc<Store>,
    keychain: Keychain,
    config_dir: PathBuf,
    providers: RwLock<Vec<Provider>>,
}

impl Accounts {
    /// Migrates the accounts table; `providers` as [`load_providers`] read them.
    pub(crate) fn open(
        store: Arc<Store>,
        keychain: Keychain,
        providers: Vec<Provider>,
        settings: &Settings,
    ) -> Result<Accounts> {
        record::migrate(&store)?;
        Ok(Accounts {
            store,
            keychain,
            config_dir: settings.config_dir.clone(),
            providers: RwLock::new(providers),
        })
    }

    fn read_providers(&self) -> std::sync::RwLockReadGuard<'_, Vec<Provider>> {
        self.providers.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets what `change` sets on the profile named `name`.
    fn change_provider(&self, name: &str, change: impl Fn(&mut Provider)) {
        let mut all = self.providers.write().unwrap_or_else(|e| e.into_inner());
        all.iter_mut().filter(|p| p.name == name).for_each(change);
    }

    /// Every provider profile, Google first.
    pub(crate) fn providers(&self) -> Vec<Provider> {
        self.read_providers().clone()
    }

    /// A provider by name.
    pub(crate) fn provider(&self, name: &str) -> Result<Provider> {
        self.read_providers()
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .ok_or_else(|| Error::UnknownProvider {
                name: name.to_owned(),
            })
    }

    /// A provider by name; one that is not loaded (the command line while `postern sandbox`
    /// is not running) is described by its name, with no claims about its lifetimes.
    pub(crate) fn provider_or_named(&self, name: &str) -> Provider {
        self.provider(name).unwrap_or_else(|_| Provider {
            name: name.to_owned(),
            label: name.to_owned(),
            access_page: None,
            ..provider::google()
        })
    }

    /// The provider of an account.
    pub(crate) fn provider_for(&self, address: &str) -> Result<Provider> {
        let rec = self.record(address)?;
        self.provider(&rec.provider)
    }

    /// A provider's label (its name when the profile is not loaded).
    pub(crate) fn label_of(&self, provider: &str) -> String {
        self.provider(provider)
            .map(|p| p.label)
            .unwrap_or_else(|_| provider.to_owned())
    }

    /// The largest message any provider takes: the most a message read from a stream may be
    /// before its account is known.
    pub(crate) fn largest_message_bytes(&self) -> u64 {
        self.read_providers()
            .iter()
            .map(|p| p.max_message_bytes)
            .max()
            .unwrap_or(0)
    }

    /// The stored facts of an account.
    pub(crate) fn record(&self, address: &str) -> Result<AccountRecord> {
        self.find(address)?.ok_or_else(|| Error::UnknownAccount {
            address: address.to_owned(),
        })
    }

    /// The stored facts of an account, if Postern holds it.
    pub(crate) fn find(&self, address: &str) -> Result<Option<AccountRecord>> {
        record::get(&self.store, address)
    }

    /// Every account's stored facts.
    pub(crate) fn all(&self) -> Result<Vec<AccountRecord>> {
        record::all(&self.store)
    }

    /// Writes an account's facts.
    pub(crate) fn save(&self, rec: &AccountRecord) -> Result<()> {
        record::save(&self.store, rec)
    }

    /// Deletes an account's facts.
    pub(crate) fn delete(&self, address: &str) -> Result<()> {
        record::delete(&self.store, address)
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
        let secret = self.keychain.client_secret(&p.name).await?;
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

    /// Stores a provider's client secret in the keychain (from the blocking caller's thread).
    pub(crate) fn set_client_secret(&self, provider: &str, secret: Secret) -> Result<()> {
        self.provider(provider)?;
        self.keychain
            .vault()
            .put(&client_key(provider), SecretKind::ClientSecret, &secret)?;
        self.secret_restored(provider)
    }

    /// Accounts that stopped because the client secret was missing may work again: the
    /// next use or background pass finds out (once; a refresh token still missing puts
    /// them back).
    fn secret_restored(&self, provider: &str) -> Result<()> {
        for mut rec in self.all()? {
            if rec.provider == provider && rec.standing == Standing::SecretMissing {
                rec.standing = Standing::Active;
                rec.last_error = None;
                self.save(&rec)?;
            }
        }
        Ok(())
    }

    /// Saves the Google client: the ID in the config folder, the secret in the keychain.
    pub(crate) async fn save_google_client(
        &self,
        client_id: &str,
        client_secret: Secret,
        status: PublishingStatus,
    ) -> Result<()> {
        let id = client_id.trim().to_owned();
        if id.is_empty() || client_secret.is_empty() {
            return Err(Error::InvalidInput {
                what: "the Google client".to_owned(),
                why: "both the client ID and the client secret are needed".to_owned(),
            });
        }
        self.keychain
            .put_client_secret("google", client_secret)
            .await?;
        settings::write_google_client(&self.config_dir, &id, status)?;
        self.secret_restored("google")?;
        self.change_provider("google", |p| {
            p.client_id = Some(id.clone());
            p.publishing_status = status;
        });
        Ok(())
    }

    /// Records a client's publishing status, which decides whether a grant has a 7-day end:
    /// Google's is kept beside its client ID; another profile's holds for this run (set it
    /// in providers.toml to keep it). Returns the profile.
    pub(crate) fn set_publishing_status(
        &self,
        provider: &str,
        status: PublishingStatus,
    ) -> Result<Provider> {
        let p = self.provider(provider)?;
        if p.name == "google" {
            let id = p.client_id.clone().ok_or(Error::GoogleClientMissing)?;
            settings::write_google_client(&self.config_dir, &id, status)?;
        }
        self.change_provider(&p.name, |q| q.publishing_status = status);
        Ok(p)
    }
}
