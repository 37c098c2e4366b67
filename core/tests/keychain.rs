//! The vault against the harness's real keychain, and a clear error when
//! there is no Secret Service at all.

use postern_core::vault::{SecretKind, Vault, MAX_SECRET_BYTES};
use postern_core::Secret;
use postern_testkit as common;

/// The with-desktop private root (HOME, XDG folders, runtime).
fn harness_root() -> std::path::PathBuf {
    std::env::var_os("POSTERN_HARNESS_ROOT")
        .map(Into::into)
        .expect("POSTERN_HARNESS_ROOT is set by scripts/with-desktop; run `scripts/with-desktop cargo test -p postern-core`")
}

fn random_secret() -> String {
    format!("postern-vault-test-{:032x}", rand::random::<u128>())
}

#[test]
fn the_vault_stores_reads_and_deletes_in_the_real_keychain_and_nowhere_else() {
    common::require_keychain();
    let root = harness_root();
    let vault = Vault::new(format!("postern-test-vault-{}", std::process::id()));
    let secret = random_secret();
    let account = "vault@sandbox.test";

    vault
        .check()
        .expect("the harness keychain is there and unlocked");
    vault
        .put(
            account,
            SecretKind::RefreshToken,
            &Secret::new(secret.clone()),
        )
        .unwrap();
    let read = vault
        .get(account, SecretKind::RefreshToken)
        .unwrap()
        .expect("stored");
    assert_eq!(read.expose(), secret);

    // The bytes are in no file of the private folders outside the keyring's own store.
    let keyrings = root.join("data").join("keyrings");
    let mut files = Vec::new();
    common::collect_files(&root, &mut files);
    assert!(!files.is_empty());
    for f in files.iter().filter(|f| !f.starts_with(&keyrings)) {
        let bytes = std::fs::read(f).unwrap_or_default();
        assert!(
            !common::contains(&bytes, secret.as_bytes()),
            "secret found in {}",
            f.display()
        );
    }

    vault.delete(account, SecretKind::RefreshToken).unwrap();
    assert!(vault
        .get(account, SecretKind::RefreshToken)
        .unwrap()
        .is_none());
    vault
        .delete(account, SecretKind::RefreshToken)
        .expect("deleting twice is fine");
}

#[test]
fn access_tokens_keep_their_expiry_and_oversized_secrets_are_refused() {
    common::require_keychain();
    let vault = Vault::new(format!("postern-test-vault-access-{}", std::process::id()));
    let account = "expiry@sandbox.test";
    vault
        .put_access(account, &Secret::new("ya29.test-token"), 1_900_000_000)
        .unwrap();
    let (tok, exp) = vault.get_access(account).unwrap().unwrap();
    assert_eq!((tok.expose(), exp), ("ya29.test-token", 1_900_000_000));
    let big = Secret::new("x".repeat(MAX_SECRET_BYTES + 1));
    let err = vault
        .put(account, SecretKind::AccessToken, &big)
        .unwrap_err();
    assert_eq!(err.code(), "secret_too_large");
    let (still, _) = vault.get_access(account).unwrap().unwrap();
    assert_eq!(still.expose(), "ya29.test-token", "nothing was overwritten");
    vault.delete_tokens(account).unwrap();
}

const CHILD: &str = "POSTERN_TEST_NO_SECRET_SERVICE";

#[test]
fn no_secret_service_is_a_clear_error_and_never_a_fallback() {
    if std::env::var_os(CHILD).is_some() {
        // In the child: the session bus points nowhere.
        let vault = Vault::new("postern-test-no-ss");
        let err = vault
            .put("a@b.test", SecretKind::RefreshToken, &Secret::new("s"))
            .unwrap_err();
        assert_eq!(err.code(), "keychain_unavailable", "{err:?}");
        assert!(err
            .explain()
            .fix
            .contains("never keeps secrets in a plain file"));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "no_secret_service_is_a_clear_error_and_never_a_fallback",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", dir.path().display()),
        )
        .env("HOME", dir.path())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the child saw a clear keychain_unavailable error"
    );
    let mut files = Vec::new();
    common::collect_files(dir.path(), &mut files);
    assert!(
        files.is_empty(),
        "nothing was written as a fallback: {files:?}"
    );
}

#[tokio::test]
async fn the_google_client_import_keeps_the_id_in_config_and_the_secret_in_the_keychain() {
    common::require_keychain();
    let dir = tempfile::tempdir().unwrap();
    let mut settings =
        postern_core::Settings::with_dirs(dir.path().join("data"), dir.path().join("config"));
    settings.keyring_service = format!("postern-test-google-{}", std::process::id());
    let app = postern_core::App::open(settings).await.unwrap();
    let info = app.info();
    assert!(!info.google_client_configured);
    assert_eq!(info.providers[0].name, "google");
    let secret = random_secret();
    let json = format!(
        r#"{{"installed":{{"client_id":"123-abc.apps.googleusercontent.com","project_id":"p","client_secret":"{secret}","redirect_uris":["http://localhost"]}}}}"#
    );
    let info = app
        .import_google_client(&json, postern_core::provider::PublishingStatus::Testing)
        .await
        .expect("imported");
    assert!(info.google_client_configured);
    assert_eq!(
        info.providers[0].publishing_status,
        postern_core::provider::PublishingStatus::Testing,
        "the publishing status is asked at import and kept"
    );
    let stored = app
        .vault()
        .get("client:google", SecretKind::ClientSecret)
        .unwrap()
        .unwrap();
    assert_eq!(stored.expose(), secret);
    let mut files = Vec::new();
    common::collect_files(dir.path(), &mut files);
    let config = std::fs::read_to_string(dir.path().join("config/google-client.json")).unwrap();
    assert!(config.contains("123-abc.apps.googleusercontent.com"));
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !common::contains(&bytes, secret.as_bytes()),
            "secret in {}",
            f.display()
        );
    }
    let bad = app
        .import_google_client(
            r#"{"web":{"client_id":"x","client_secret":"y"}}"#,
            Default::default(),
        )
        .await;
    assert!(bad.unwrap_err().to_string().contains("Desktop"));
    app.vault()
        .delete("client:google", SecretKind::ClientSecret)
        .unwrap();
}
