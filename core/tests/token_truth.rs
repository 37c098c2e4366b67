//! What Postern says about a grant is exactly true: the cause of its end, a grant re-added
//! while still live at the provider, and one address belonging to one provider. Against the
//! sandbox over TLS, with real Chromium and the harness keychain.

use postern_core::provider::{PublishingStatus, SmtpSecurity};
use postern_core::status::TokenState;
use postern_core::vault::SecretKind;
use postern_core::{Error, RevokedCause};
use postern_testkit::{self as common, sandbox_provider, Harness, Options};

const DAY: u64 = 86_400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_clients_week_old_grant_that_dies_is_not_called_testing_mode() {
    let h = Harness::start().await;
    h.app
        .set_publishing_status("sandbox", PublishingStatus::InProduction)
        .await
        .unwrap();
    let account = h.authorize_as("olga@sandbox.test").await;
    h.advance(std::time::Duration::from_secs(8 * DAY));
    let s = h.app.status(&account.address).await.unwrap();
    assert_eq!(
        s.grant_ends_at, None,
        "no end is claimed for a published client"
    );
    assert_eq!(s.grant_note, None);
    h.sandbox.revoke_grants(&account.address);
    let err = h
        .app
        .refresh_now(&account.address)
        .await
        .expect_err("the grant was revoked at the provider");
    assert!(
        matches!(
            err,
            Error::InvalidGrant {
                cause: RevokedCause::Unknown,
                ..
            }
        ),
        "{err:?}"
    );
    let s = h.app.status(&account.address).await.unwrap();
    assert!(matches!(s.state, TokenState::Revoked { .. }));
    let cause = s.revoked_cause().unwrap();
    assert!(!cause.contains("Testing"), "{cause}");
    assert!(
        cause.contains("Sandbox no longer accepts the grant"),
        "the provider's own label, not Google's: {cause}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_whose_grant_is_still_live_can_be_added_again() {
    let h = Harness::start().await;
    let first = h.authorize_as("pia@sandbox.test").await;
    // Forgotten here only: the grant stays live at the provider.
    h.app.forget_account(&first.address).await.unwrap();
    assert_eq!(h.sandbox.live_grants(&first.address), 1);
    let again = h.authorize_as("pia@sandbox.test").await;
    assert_eq!(again.status.state, TokenState::Valid, "{:?}", again.status);
    assert!(
        h.app
            .vault()
            .get(&again.address, SecretKind::RefreshToken)
            .unwrap()
            .is_some(),
        "forced consent brought a refresh token"
    );
    h.app
        .refresh_now(&again.address)
        .await
        .expect("the re-added grant refreshes");
    h.remember_tokens(&again.address);
    h.finish().await;
}

/// A second provider profile at the same sandbox, with its own client.
fn other_provider(
    sb: &postern_sandbox::Sandbox,
) -> Vec<(postern_core::provider::Provider, String)> {
    let (id, secret) = sb.register_client(false);
    let mut p = sandbox_provider(sb.endpoints(), SmtpSecurity::ImplicitTls);
    p.name = "corp".into();
    p.label = "Corp mail".into();
    p.client_id = Some(id);
    vec![(p, secret)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_belongs_to_one_provider_and_the_other_grant_is_revoked() {
    let h = Harness::start_with(Options {
        more_providers: other_provider,
        ..Options::default()
    })
    .await;
    let account = h.authorize_as("quinn@sandbox.test").await;
    let kept = h
        .app
        .vault()
        .get(&account.address, SecretKind::RefreshToken)
        .unwrap()
        .unwrap();
    let launcher = h.launcher(common::Plan::allow("quinn@sandbox.test")).await;
    let err = h
        .app
        .authorize("corp", None, launcher.clone())
        .await
        .expect_err("the same address at another provider is refused");
    let _ = launcher.landing().await;
    h.remember_landing(&launcher);
    assert!(matches!(err, Error::AddressOtherProvider { .. }), "{err:?}");
    let x = err.explain();
    assert!(x.message.contains("Sandbox"), "{}", x.message);
    assert!(x.fix.contains("Remove the account first"), "{}", x.fix);
    let now = h
        .app
        .vault()
        .get(&account.address, SecretKind::RefreshToken)
        .unwrap()
        .unwrap();
    assert_eq!(now, kept, "the first provider's refresh token is untouched");
    let accounts = h.app.accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].provider, "sandbox");
    assert_eq!(
        h.sandbox.live_grants(&account.address),
        1,
        "the grant obtained at the other provider was revoked, the first one lives"
    );
    h.app
        .refresh_now(&account.address)
        .await
        .expect("the first grant still works");
    h.remember_tokens(&account.address);
    h.finish().await;
}
