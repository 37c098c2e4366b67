//! `postern client google --publishing-status …`: where the client's project stands in Google
//! Cloud Console is kept beside its ID (never with its secret), and a word Postern does not
//! know is refused with the words it does.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use postern_core::vault::{SecretKind, Vault};

use crate::common::cli_sandbox::{assert_no_file_contains, text};
use crate::common::{cli_binary, require_desktop, AppDirs};

const CLIENT_ID: &str = "123456789012-clitest.apps.googleusercontent.com";
// Google's shape, split so that no secret-shaped string sits in the tree.
const SECRET: &str = concat!("GOCSPX", "-cli-test-secret-never-in-a-file");

/// `postern ARGS…` in the test's own folders and keyring service (the person's world, not
/// the sandbox's), with `stdin` on standard input.
fn postern(dirs: &AppDirs, keyring: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(cli_binary())
        .args(args)
        .envs(dirs.env())
        .env("POSTERN_KEYRING_SERVICE", keyring)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    postern_testkit::feed(&mut child, stdin);
    child.wait_with_output().unwrap()
}

fn google_client_file(config: &Path) -> (String, serde_json::Value) {
    let raw = std::fs::read_to_string(config.join("google-client.json"))
        .expect("the client ID is saved in the config folder");
    let v = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
    (raw, v)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_google_clients_publishing_status_is_kept_beside_its_id_and_never_with_its_secret() {
    require_desktop();
    let dirs = AppDirs::new();
    let keyring = format!("postern-test-cli-client-{}", std::process::id());
    let out = postern(
        &dirs,
        &keyring,
        &[
            "client",
            "google",
            "--id",
            CLIENT_ID,
            "--publishing-status",
            "testing",
        ],
        format!("{SECRET}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Google client saved"),
        "{}",
        text(&out.stderr)
    );
    let (raw, saved) = google_client_file(&dirs.config());
    assert!(raw.contains(r#""publishing_status":"testing""#), "{raw}");
    assert_eq!(saved["client_id"], CLIENT_ID, "{raw}");
    assert_no_file_contains(dirs.root.path(), SECRET);
    // The secret went where the command says: the keychain ("client:<provider>" entries).
    let vault = Vault::new(keyring.clone());
    let kept =
        tokio::task::spawn_blocking(move || vault.get("client:google", SecretKind::ClientSecret))
            .await
            .unwrap()
            .expect("the harness keychain answers");
    assert_eq!(kept.as_ref().map(|s| s.expose()), Some(SECRET));

    // Alone, the option changes only the status.
    let out = postern(
        &dirs,
        &keyring,
        &["client", "google", "--publishing-status", "production"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("now in_production"),
        "{}",
        text(&out.stderr)
    );
    let (raw, saved) = google_client_file(&dirs.config());
    assert_eq!(saved["publishing_status"], "in_production", "{raw}");
    assert_eq!(saved["client_id"], CLIENT_ID, "the ID stays: {raw}");
}

#[test]
fn an_unknown_publishing_status_is_refused_with_the_words_postern_knows() {
    require_desktop();
    let dirs = AppDirs::new();
    let keyring = format!("postern-test-cli-status-{}", std::process::id());
    let out = postern(
        &dirs,
        &keyring,
        &[
            "client",
            "google",
            "--id",
            CLIENT_ID,
            "--publishing-status",
            "beta",
        ],
        format!("{SECRET}\n").as_bytes(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "bad usage: {err}");
    assert!(
        err.contains("beta") && err.contains("use testing, production, internal or unknown"),
        "names the wrong word and the right ones: {err}"
    );
    assert!(
        !dirs.config().join("google-client.json").exists(),
        "nothing was saved"
    );
    assert!(
        Vault::new(keyring)
            .get("client:google", SecretKind::ClientSecret)
            .expect("the harness keychain answers")
            .is_none(),
        "no secret was stored"
    );
}
