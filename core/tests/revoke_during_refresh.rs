//! Revoke while a refresh is in flight: the revocation waits for the refresh, so the account
//! ends "revoked by you" with no token left in the keychain, whichever started first.

use std::time::Duration;

use postern_core::status::TokenState;
use postern_core::vault::SecretKind;
use postern_testkit::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_during_a_refresh_ends_revoked_by_you_with_no_token_left() {
    let h = Harness::start().await;
    let account = h.authorize_as("rita@sandbox.test").await;
    h.sandbox.fault_token_delay(Duration::from_millis(1_500));
    let app = h.app.clone();
    let address = account.address.clone();
    let refresh = tokio::spawn(async move { app.refresh_now(&address).await });
    for _ in 0..200 {
        if h.sandbox.count("token.refresh_token") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        h.sandbox.count("token.refresh_token"),
        1,
        "the refresh is at the token endpoint"
    );

    h.app.revoke(&account.address).await.expect("revoked");
    let _ = refresh.await.unwrap();
    h.sandbox.fault_token_delay(Duration::ZERO);

    let s = h.app.status(&account.address).await.unwrap();
    assert!(matches!(s.state, TokenState::Revoked { .. }));
    assert_eq!(s.headline, "Revoked by you");
    let v = h.app.vault();
    assert!(v
        .get(&account.address, SecretKind::RefreshToken)
        .unwrap()
        .is_none());
    assert!(v.get_access(&account.address).unwrap().is_none());
    h.finish().await;
}
