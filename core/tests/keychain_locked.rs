//! A locked keychain is a clear error, before any browser opens, and never a fallback. This
//! binary locks the harness keychain's default collection, so it holds only this test.
#![cfg(target_os = "linux")]

use std::sync::Arc;
use std::time::Duration;

use dbus::arg::{RefArg, Variant};
use dbus::blocking::Connection;
use dbus::Path;
use postern_core::vault::SecretKind;
use postern_core::{Error, Secret};
use postern_testkit as common;

const SS: &str = "org.freedesktop.secrets";
const SS_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
/// The password scripts/with-desktop unlocks its private login keyring with.
const HARNESS_PASSWORD: &[u8] = b"pw";

/// The default collection, locked for as long as this lives.
struct Locked {
    conn: Connection,
    collection: Path<'static>,
}

impl Locked {
    fn lock() -> Locked {
        let conn = Connection::new_session().expect("the session bus");
        let (collection,): (Path<'static>,) = conn
            .with_proxy(SS, SS_PATH, Duration::from_secs(5))
            .method_call(SERVICE, "ReadAlias", ("default",))
            .expect("the default collection");
        let _: (Vec<Path<'static>>, Path<'static>) = conn
            .with_proxy(SS, SS_PATH, Duration::from_secs(5))
            .method_call(SERVICE, "Lock", (vec![collection.clone()],))
            .expect("the collection locks");
        Locked { conn, collection }
    }
}

impl Drop for Locked {
    /// Unlocks with the harness password through gnome-keyring's own unlock call (the
    /// standard Unlock would ask for a prompt).
    fn drop(&mut self) {
        let proxy = self.conn.with_proxy(SS, SS_PATH, Duration::from_secs(5));
        let opened: Result<(Variant<Box<dyn RefArg>>, Path<'static>), _> =
            proxy.method_call(SERVICE, "OpenSession", ("plain", Variant(String::new())));
        let Ok((_, session)) = opened else {
            eprintln!("could not open a Secret Service session to unlock the keychain");
            return;
        };
        let secret = (
            session,
            Vec::<u8>::new(),
            HARNESS_PASSWORD.to_vec(),
            "text/plain",
        );
        let r: Result<(), _> = proxy.method_call(
            "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
            "UnlockWithMasterPassword",
            (self.collection.clone(), secret),
        );
        if let Err(e) = r {
            eprintln!("could not unlock the harness keychain: {e}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_keychain_is_a_clear_error_and_nothing_opens() {
    let h = common::Harness::start().await;
    let vault = h.app.vault().clone();
    {
        let _locked = Locked::lock();
        let err = vault
            .put(
                "locked@sandbox.test",
                SecretKind::RefreshToken,
                &Secret::new("s"),
            )
            .unwrap_err();
        assert!(matches!(err, Error::KeychainLocked), "{err:?}");
        assert!(err.explain().fix.contains("Unlock"));
        let err = vault
            .get("client:sandbox", SecretKind::ClientSecret)
            .unwrap_err();
        assert!(matches!(err, Error::KeychainLocked), "{err:?}");

        let launcher = Arc::new(common::RecordingLauncher::default());
        let err = h
            .app
            .authorize("sandbox", None, launcher.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "keychain_locked");
        assert!(
            launcher.urls.lock().unwrap().is_empty(),
            "no browser before the keychain works"
        );
    }
    vault.check().expect("unlocked again after the test");
    assert!(vault
        .get("client:sandbox", SecretKind::ClientSecret)
        .unwrap()
        .is_some());
    h.finish().await;
}
