//! `postern revoke` while the provider cannot be reached: the revocation stays pending, the
//! tokens stay in the keychain (and unused) until the provider confirms, and nothing is
//! deleted on a guess.

use postern_core::vault::{SecretKind, Vault};

use crate::common::cli_sandbox::{text, Profile, Sandbox};
use postern_testkit::Plan as Consent;

/// Whether the command line's sandbox world still holds the address's refresh token.
async fn refresh_token_kept(sandbox: &Sandbox, address: &str) -> bool {
    let vault = Vault::new(sandbox.world_keyring());
    let key = address.to_owned();
    tokio::task::spawn_blocking(move || vault.get(&key, SecretKind::RefreshToken))
        .await
        .unwrap()
        .expect("the harness keychain answers")
        .is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_the_provider_cannot_hear_stays_pending_until_it_is_confirmed() {
    let sandbox = Sandbox::start_with("revoke-offline", Profile::Strict, None);
    let me = "cli-offline@sandbox.test";
    let out = sandbox.authorize(&Consent::allow(me)).await;
    assert!(out.status.success(), "authorize: {}", text(&out.stderr));
    assert!(refresh_token_kept(&sandbox, me).await);

    sandbox
        .admin_post("faults/revoke-unreachable", serde_json::json!({"on": true}))
        .await;
    let out = sandbox.run(&["revoke", me], b"");
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(5),
        "an unconfirmed revocation is a temporary failure: {err}"
    );
    assert!(
        err.contains("did not confirm the revocation"),
        "says the provider did not confirm: {err}"
    );
    assert!(
        err.contains("Postern keeps the tokens (unused) and retries by itself"),
        "says that Postern retries: {err}"
    );
    assert!(
        err.contains("What to do:") && err.contains("postern revoke"),
        "says how to retry now: {err}"
    );
    assert!(
        sandbox.count("revoke.unreachable").await >= 1,
        "the request reached the fault"
    );

    let out = sandbox.run(&["status", me, "--json"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["state"], "revocation_pending", "{status}");
    assert!(
        status["revocationNextTry"].is_string(),
        "when it is tried again: {status}"
    );
    let out = sandbox.run(&["status", me], b"");
    let shown = text(&out.stdout);
    assert!(
        shown.contains("Revocation pending") && shown.contains("revocation retried "),
        "the plain status names the state and the next try: {shown}"
    );
    assert!(
        refresh_token_kept(&sandbox, me).await,
        "nothing is deleted before the provider confirms"
    );
    assert_eq!(
        sandbox.live_grants(me).await,
        1,
        "the grant is indeed still alive at the provider"
    );

    // A grant being revoked is never used, not even by msmtp's `postern token`.
    let refreshes = sandbox.count("token.refresh_token").await;
    let out = sandbox.run(&["token", me], b"");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "no token printed");
    assert!(
        text(&out.stderr).contains("revocation"),
        "says why: {}",
        text(&out.stderr)
    );
    assert_eq!(sandbox.count("token.refresh_token").await, refreshes);

    sandbox
        .admin_post(
            "faults/revoke-unreachable",
            serde_json::json!({"on": false}),
        )
        .await;
    let out = sandbox.run(&["revoke", me], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Revoked by you"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        sandbox.live_grants(me).await,
        0,
        "the provider confirmed: the grant is gone"
    );
    assert!(
        !refresh_token_kept(&sandbox, me).await,
        "and only now are the tokens deleted"
    );
    let out = sandbox.run(&["status", me, "--json"], b"");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["state"], "revoked", "{status}");
    assert!(status["revocationNextTry"].is_null(), "{status}");
}
