//! Secrets in the OS keychain, through `keyring`: the refresh token, the access token with
//! its expiry, and client secrets. One entry per (service, account, kind). A missing or
//! locked keychain is a loud, distinct error; there is never a plaintext fallback.
//!
//! Every [`Vault`] call blocks (D-Bus, Keychain, Credential Manager); async code goes through
//! [`Keychain`], which runs each call on the blocking pool.

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Windows Credential Manager holds at most this many bytes per credential; the size is
/// checked on every platform so a grant that works on Linux works on Windows too.
pub const MAX_SECRET_BYTES: usize = 2560;

/// What a secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// The long-lived refresh token.
    RefreshToken,
    /// The access token, stored as `<expiry unix seconds> <token>`.
    AccessToken,
    /// An OAuth client's secret (the "account" is the provider name).
    ClientSecret,
}

impl SecretKind {
    fn as_str(self) -> &'static str {
        match self {
            SecretKind::RefreshToken => "refresh_token",
            SecretKind::AccessToken => "access_token",
            SecretKind::ClientSecret => "client_secret",
        }
    }

    fn words(self) -> &'static str {
        match self {
            SecretKind::RefreshToken => "refresh token",
            SecretKind::AccessToken => "access token",
            SecretKind::ClientSecret => "client secret",
        }
    }
}

/// The keychain under one service name ("postern", "postern-sandbox", one per test).
#[derive(Debug, Clone)]
pub struct Vault {
    service: String,
}

fn map_keyring(e: keyring::Error) -> Error {
    match e {
        keyring::Error::NoStorageAccess(inner) => {
            let why = inner.to_string();
            if why.to_ascii_lowercase().contains("lock") {
                Error::KeychainLocked
            } else {
                Error::KeychainUnavailable { why }
            }
        }
        keyring::Error::PlatformFailure(inner) => Error::KeychainUnavailable {
            why: inner.to_string(),
        },
        keyring::Error::TooLong(attr, limit) => Error::KeychainRejected {
            why: format!("{attr} is longer than the keychain's limit of {limit}"),
        },
        keyring::Error::BadEncoding(_) => Error::KeychainRejected {
            why: "a stored secret is not UTF-8".to_owned(),
        },
        other => Error::KeychainRejected {
            why: other.to_string(),
        },
    }
}

/// On Linux: is there a Secret Service, is its default collection unlocked, and is none of
/// this service's items in a locked collection? Asked before `keyring` runs, because keyring
/// would otherwise block on an unlock prompt (a keychain restarted locked, say).
#[cfg(target_os = "linux")]
fn precheck(service: &str) -> Result<()> {
    use dbus_secret_service::{EncryptionType, SecretService};
    let ss =
        SecretService::connect_with_max_prompt_timeout(EncryptionType::Plain, 0).map_err(|e| {
            Error::KeychainUnavailable {
                why: format!("no Secret Service on the session D-Bus ({e})"),
            }
        })?;
    let collection = ss
        .get_default_collection()
        .map_err(|e| Error::KeychainUnavailable {
            why: format!("the Secret Service has no default collection ({e})"),
        })?;
    match collection.is_locked() {
        Ok(false) => {}
        Ok(true) => return Err(Error::KeychainLocked),
        Err(e) => return Err(Error::KeychainUnavailable { why: e.to_string() }),
    }
    let ours = ss
        .search_items(std::collections::HashMap::from([("service", service)]))
        .map_err(|e| Error::KeychainUnavailable { why: e.to_string() })?;
    if ours.locked.is_empty() {
        Ok(())
    } else {
        Err(Error::KeychainLocked)
    }
}

#[cfg(not(target_os = "linux"))]
fn precheck(_service: &str) -> Result<()> {
    Ok(())
}

/// How long a keychain that went away is given to come back before it is asked once more.
const COME_BACK: std::time::Duration = std::time::Duration::from_millis(300);

/// Runs a keychain operation, and once more when the keychain was unreachable: a Secret
/// Service that ended (a crash, a session's keyring restarting) is started again by D-Bus at
/// the next call, and a send should not fail for the moment in between. Every operation is
/// safe to repeat (a write replaces, a delete of nothing is fine). A keychain still not there
/// is reported as before; a locked or refusing one is never retried.
fn once_more_if_gone<T>(op: impl Fn() -> Result<T>) -> Result<T> {
    match op() {
        Err(Error::KeychainUnavailable { .. }) => {
            std::thread::sleep(COME_BACK);
            op()
        }
        done => done,
    }
}

/// How long an async caller waits for one keychain call. The vault never lets the keychain
/// prompt (a locked one is an error at once), so a call this slow is a keychain that hangs;
/// the caller gets an error that says so instead of waiting for ever.
pub const KEYCHAIN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

impl Vault {
    /// The vault for `service`.
    pub fn new(service: impl Into<String>) -> Vault {
        Vault {
            service: service.into(),
        }
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str, kind: SecretKind) -> Result<keyring::Entry> {
        let user = format!("{}:{}", kind.as_str(), account.to_ascii_lowercase());
        keyring::Entry::new(&self.service, &user).map_err(map_keyring)
    }

    /// Whether the keychain is there and unlocked.
    pub fn check(&self) -> Result<()> {
        once_more_if_gone(|| precheck(&self.service))
    }

    /// Stores (or replaces) a secret. Over [`MAX_SECRET_BYTES`] is refused before anything
    /// is written.
    pub fn put(&self, account: &str, kind: SecretKind, secret: &Secret) -> Result<()> {
        if secret.len() > MAX_SECRET_BYTES {
            return Err(Error::SecretTooLarge {
                size: secret.len(),
                limit: MAX_SECRET_BYTES,
            });
        }
        once_more_if_gone(|| {
            precheck(&self.service)?;
            self.entry(account, kind)?
                .set_password(secret.expose())
                .map_err(map_keyring)
        })
    }

    /// Reads a secret; `None` when there is none.
    pub fn get(&self, account: &str, kind: SecretKind) -> Result<Option<Secret>> {
        once_more_if_gone(|| {
            precheck(&self.service)?;
            match self.entry(account, kind)?.get_password() {
                Ok(s) => Ok(Some(Secret::new(s))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(map_keyring(e)),
            }
        })
    }

    /// Reads a secret that must be there.
    pub fn require(&self, account: &str, kind: SecretKind) -> Result<Secret> {
        self.get(account, kind)?
            .ok_or_else(|| Error::SecretMissing {
                what: kind.words().to_owned(),
                account: account.to_owned(),
            })
    }

    /// Deletes a secret (absent is fine).
    pub fn delete(&self, account: &str, kind: SecretKind) -> Result<()> {
        once_more_if_gone(|| {
            precheck(&self.service)?;
            match self.entry(account, kind)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(map_keyring(e)),
            }
        })
    }

    /// Deletes the account's refresh and access tokens.
    pub fn delete_tokens(&self, account: &str) -> Result<()> {
        self.delete(account, SecretKind::AccessToken)?;
        self.delete(account, SecretKind::RefreshToken)
    }

    /// Stores the access token with its expiry (Unix seconds).
    pub fn put_access(&self, account: &str, token: &Secret, expires_at: i64) -> Result<()> {
        let packed = Secret::new(format!("{expires_at} {}", token.expose()));
        self.put(account, SecretKind::AccessToken, &packed)
    }

    /// The access token and its expiry (Unix seconds), if stored.
    pub fn get_access(&self, account: &str) -> Result<Option<(Secret, i64)>> {
        let Some(packed) = self.get(account, SecretKind::AccessToken)? else {
            return Ok(None);
        };
        let Some((exp, token)) = packed.expose().split_once(' ') else {
            return Ok(None);
        };
        Ok(exp.parse().ok().map(|exp| (Secret::new(token), exp)))
    }
}

/// The keychain "account" under which a provider's client secret lives.
pub(crate) fn client_key(provider: &str) -> String {
    format!("client:{provider}")
}

/// The vault for async code: each call runs off the async threads, since a Secret Service
/// round trip (or an unlock prompt) may take a while.
#[derive(Debug, Clone)]
pub(crate) struct Keychain {
    vault: Vault,
}

impl Keychain {
    pub(crate) fn new(vault: Vault) -> Keychain {
        Keychain { vault }
    }

    /// The blocking vault underneath, for callers that are not async.
    pub(crate) fn vault(&self) -> &Vault {
        &self.vault
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Vault) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        // On a thread of its own rather than the blocking pool: a call stuck in the keychain
        // must not hold up the runtime's shutdown, which waits for the pool's threads.
        let vault = self.vault.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("postern-keychain".into())
            .spawn(move || {
                let _ = tx.send(f(&vault));
            })
            .map_err(|e| Error::Internal {
                why: format!("could not start a keychain call: {e}"),
            })?;
        match tokio::time::timeout(KEYCHAIN_PATIENCE, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(Error::Internal {
                why: "a keychain call ended without an answer".to_owned(),
            }),
            Err(_) => Err(Error::KeychainUnavailable {
                why: format!(
                    "the keychain did not answer within {} seconds",
                    KEYCHAIN_PATIENCE.as_secs()
                ),
            }),
        }
    }

    /// Whether the keychain is there and unlocked.
    pub(crate) async fn check(&self) -> Result<()> {
        self.run(|v| v.check()).await
    }

    /// A provider's client secret, if stored.
    pub(crate) async fn client_secret(&self, provider: &str) -> Result<Option<Secret>> {
        let key = client_key(provider);
        self.run(move |v| v.get(&key, SecretKind::ClientSecret))
            .await
    }

    /// Stores a provider's client secret.
    pub(crate) async fn put_client_secret(&self, provider: &str, secret: Secret) -> Result<()> {
        let key = client_key(provider);
        self.run(move |v| v.put(&key, SecretKind::ClientSecret, &secret))
            .await
    }

    /// The account's refresh token, if stored.
    pub(crate) async fn refresh_token(&self, address: &str) -> Result<Option<Secret>> {
        let key = address.to_owned();
        self.run(move |v| v.get(&key, SecretKind::RefreshToken))
            .await
    }

    /// The account's refresh token, which must be there.
    pub(crate) async fn require_refresh_token(&self, address: &str) -> Result<Secret> {
        let key = address.to_owned();
        self.run(move |v| v.require(&key, SecretKind::RefreshToken))
            .await
    }

    /// The account's access token and its expiry (Unix seconds), if stored.
    pub(crate) async fn access_token(&self, address: &str) -> Result<Option<(Secret, i64)>> {
        let key = address.to_owned();
        self.run(move |v| v.get_access(&key)).await
    }

    /// The token a revocation is asked with, and its `token_type_hint`: the refresh token,
    /// else the access token; `None` when neither is left.
    pub(crate) async fn revocation_token(
        &self,
        address: &str,
    ) -> Result<Option<(Secret, &'static str)>> {
        let key = address.to_owned();
        self.run(move |v| {
            Ok(match v.get(&key, SecretKind::RefreshToken)? {
                Some(rt) => Some((rt, "refresh_token")),
                None => v.get_access(&key)?.map(|(t, _)| (t, "access_token")),
            })
        })
        .await
    }

    /// Stores a new grant's tokens. Without a new refresh token, a previous one must still be
    /// there (else the grant could not be refreshed).
    pub(crate) async fn put_grant(
        &self,
        address: &str,
        refresh: Option<Secret>,
        access: Secret,
        expires_at: i64,
    ) -> Result<()> {
        self.put_tokens(address, refresh, access, expires_at, true)
            .await
    }

    /// Stores a refresh's outcome: a rotated refresh token first (the old one is dead at the
    /// provider already, so losing the new one would lose the grant; an access token can
    /// always be had again), then the access token.
    pub(crate) async fn put_refreshed(
        &self,
        address: &str,
        rotated: Option<Secret>,
        access: Secret,
        expires_at: i64,
    ) -> Result<()> {
        self.put_tokens(address, rotated, access, expires_at, false)
            .await
    }

    /// A refresh token (when there is a new one) first, then the access token; with
    /// `keep_previous`, no new refresh token needs the previous one to be there.
    async fn put_tokens(
        &self,
        address: &str,
        refresh: Option<Secret>,
        access: Secret,
        expires_at: i64,
        keep_previous: bool,
    ) -> Result<()> {
        let key = address.to_owned();
        self.run(move |v| {
            match refresh {
                Some(rt) => v.put(&key, SecretKind::RefreshToken, &rt)?,
                None if keep_previous => {
                    v.require(&key, SecretKind::RefreshToken)?;
                }
                None => {}
            }
            v.put_access(&key, &access, expires_at)
        })
        .await
    }

    /// Deletes the account's refresh and access tokens.
    pub(crate) async fn delete_tokens(&self, address: &str) -> Result<()> {
        let key = address.to_owned();
        self.run(move |v| v.delete_tokens(&key)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_secrets_are_refused_before_the_keychain_is_touched() {
        let v = Vault::new("postern-unit-never-written");
        let big = Secret::new("x".repeat(MAX_SECRET_BYTES + 1));
        let e = v
            .put("a@b.test", SecretKind::AccessToken, &big)
            .unwrap_err();
        assert_eq!(e.code(), "secret_too_large");
        assert!(e.to_string().contains("2561"));
    }

    #[test]
    fn an_unreachable_keychain_is_asked_once_more_and_a_locked_one_is_not() {
        let calls = std::cell::Cell::new(0);
        let answered = once_more_if_gone(|| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                Err(Error::KeychainUnavailable { why: "gone".into() })
            } else {
                Ok(7)
            }
        });
        assert_eq!((answered.unwrap(), calls.get()), (7, 2));

        calls.set(0);
        let gone: Result<()> = once_more_if_gone(|| {
            calls.set(calls.get() + 1);
            Err(Error::KeychainUnavailable { why: "gone".into() })
        });
        assert_eq!(
            (gone.unwrap_err().code(), calls.get()),
            ("keychain_unavailable", 2)
        );

        calls.set(0);
        let locked: Result<()> = once_more_if_gone(|| {
            calls.set(calls.get() + 1);
            Err(Error::KeychainLocked)
        });
        assert_eq!(
            (locked.unwrap_err().code(), calls.get()),
            ("keychain_locked", 1)
        );
    }
}
