//! A Secret Service that ends (a crash, a session restarting its keyring) costs no call: the
//! next one reaches the daemon D-Bus starts again. This binary kills the harness keychain's
//! daemon, so it holds only this test (the harness starts the daemon again, unlocked, over the
//! same keyring files: scripts/with-desktop).
#![cfg(target_os = "linux")]

use std::time::Duration;

use dbus::blocking::Connection;
use postern_core::vault::{SecretKind, Vault};
use postern_core::Secret;
use postern_testkit as common;

/// The process that owns the Secret Service's name on the session bus.
fn secret_service_pid() -> u32 {
    let conn = Connection::new_session().expect("the session bus");
    let (pid,): (u32,) = conn
        .with_proxy(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            Duration::from_secs(5),
        )
        .method_call(
            "org.freedesktop.DBus",
            "GetConnectionUnixProcessID",
            ("org.freedesktop.secrets",),
        )
        .expect("the Secret Service is on the bus");
    pid
}

/// Kills `pid` as a crash would (no goodbye on the bus) and waits until it is gone.
fn crash(pid: u32) {
    let harness = std::env::var("POSTERN_HARNESS").expect("inside scripts/with-desktop");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("its environment");
    assert!(
        common::contains(&environ, format!("POSTERN_HARNESS={harness}").as_bytes()),
        "the Secret Service on this bus is the harness's own (never a person's keychain)"
    );
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    for _ in 0..100 {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the keyring daemon {pid} did not end");
}

#[test]
fn a_keychain_that_crashed_answers_the_next_call_with_the_same_secrets() {
    common::require_desktop();
    let vault = Vault::new(format!("postern-test-restart-{}", std::process::id()));
    let account = "restart@sandbox.test";
    let secret = format!("postern-restart-test-{:032x}", rand::random::<u128>());
    vault
        .put(
            account,
            SecretKind::RefreshToken,
            &Secret::new(secret.clone()),
        )
        .expect("stored");
    let before = secret_service_pid();

    crash(before);
    let read = vault
        .get(account, SecretKind::RefreshToken)
        .expect("the first call after the crash is answered")
        .expect("the secret outlived the daemon");
    assert_eq!(read.expose(), secret);
    let after = secret_service_pid();
    assert_ne!(before, after, "a new daemon answered");
    vault.check().expect("and it is unlocked");

    // Writes, too: the crash comes between two calls of one async caller's keychain work.
    crash(after);
    vault
        .put(account, SecretKind::AccessToken, &Secret::new("1 x"))
        .expect("a write right after a crash is taken");
    vault.delete_tokens(account).expect("and deletes");
    assert!(vault
        .get(account, SecretKind::RefreshToken)
        .unwrap()
        .is_none());
}
