//! The authorize, refresh, revoke and remove journeys against the sandbox's strict profile: a
//! standards-conformant provider nobody shaped after Google (client authentication at
//! revocation, the address only at UserInfo, rotated refresh tokens, RFC 9207 `iss`, short
//! access tokens). Real Chromium, the harness keychain, TLS.

use std::sync::Arc;
use std::time::Duration;

use postern_core::provider::ClientAuth;
use postern_core::status::{Action, TokenState};
use postern_core::vault::SecretKind;
use postern_core::Error;
use postern_testkit::{self as common, Harness, Options, Profile, RecordingLauncher};

async fn strict() -> Harness {
    Harness::start_with(Options {
        profile: Profile::Strict,
        ..Options::default()
    })
    .await
}

fn has_refresh_token(h: &Harness, address: &str) -> bool {
    h.app
        .vault()
        .get(address, SecretKind::RefreshToken)
        .unwrap()
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_comes_from_userinfo_when_the_id_token_names_only_the_subject() {
    let h = strict().await;
    let account = h.authorize_as("uma@sandbox.test").await;
    assert_eq!(account.address, "uma@sandbox.test");
    assert_eq!(account.status.state, TokenState::Valid);
    assert_eq!(
        account.status.audience_ok, None,
        "no tokeninfo at this provider"
    );
    let log = h.app.activity(10).await.unwrap();
    assert!(
        log.iter()
            .any(|a| a.kind == "validated" && a.summary.contains("Identity from UserInfo")),
        "{log:?}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_address_is_refused_and_its_new_grant_revoked() {
    let h = strict().await;
    h.sandbox.set_email_verified("vic@sandbox.test", false);
    let launcher = h.launcher(common::Plan::allow("vic@sandbox.test")).await;
    let err = h
        .app
        .authorize("sandbox", None, launcher.clone())
        .await
        .expect_err("an unverified address is refused");
    let landing = launcher.landing().await;
    h.remember_landing(&launcher);
    assert!(matches!(err, Error::EmailUnverified { .. }), "{err:?}");
    assert!(landing.message.contains("not verified"), "{landing:?}");
    assert!(h.app.accounts().await.unwrap().is_empty());
    assert_eq!(
        h.sandbox.live_grants("vic@sandbox.test"),
        0,
        "the grant Postern could not use was revoked, not left behind"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_authenticates_the_client_and_really_ends_the_grant() {
    let h = strict().await;
    let account = h.authorize_as("wes@sandbox.test").await;
    assert_eq!(h.sandbox.live_grants(&account.address), 1);
    let s = h.app.revoke(&account.address).await.expect("confirmed");
    assert!(matches!(s.state, TokenState::Revoked { .. }));
    assert_eq!(s.headline, "Revoked by you");
    assert_eq!(h.sandbox.live_grants(&account.address), 0);
    assert_eq!(h.sandbox.count("revoke_unauthenticated"), 0);
    assert!(!has_refresh_token(&h, &account.address));
    h.finish().await;
}

/// A profile that sends no client authentication at revocation, as Google's does.
fn unauthenticated(
    sb: &postern_sandbox::Sandbox,
) -> Vec<(postern_core::provider::Provider, String)> {
    let mut p = common::strict_provider(
        sb.endpoints(),
        postern_core::provider::SmtpSecurity::ImplicitTls,
    );
    p.name = "strict-noauth".into();
    p.revocation_auth = ClientAuth::None;
    vec![(p, sb.endpoints().client_secret.clone())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_the_provider_refuses_is_pending_and_keeps_the_tokens() {
    let h = Harness::start_with(Options {
        profile: Profile::Strict,
        more_providers: unauthenticated,
        ..Options::default()
    })
    .await;
    let launcher = h.launcher(common::Plan::allow("xena@sandbox.test")).await;
    let account = h
        .app
        .authorize("strict-noauth", None, launcher.clone())
        .await
        .expect("authorized");
    let _ = launcher.landing().await;
    h.remember_landing(&launcher);
    h.remember_tokens(&account.address);
    let err = h
        .app
        .revoke(&account.address)
        .await
        .expect_err("the provider wants client authentication");
    assert!(
        matches!(err, Error::RevocationNotConfirmed { .. }),
        "{err:?}"
    );
    assert_eq!(h.sandbox.count("revoke_unauthenticated"), 1);
    assert_eq!(
        h.sandbox.live_grants(&account.address),
        1,
        "still live at the provider"
    );
    let s = h.app.status(&account.address).await.unwrap();
    assert!(
        matches!(s.state, TokenState::RevocationPending { .. }),
        "{s:?}"
    );
    assert!(s.headline.contains("Revocation pending"), "{}", s.headline);
    assert_eq!(s.actions, vec![Action::RetryRevoke, Action::Forget]);
    let why = s.last_error.clone().unwrap();
    assert!(
        why.message.contains("client credentials"),
        "{}",
        why.message
    );
    assert!(s.revocation_next_try().is_some());
    assert!(
        has_refresh_token(&h, &account.address),
        "kept until confirmed"
    );
    let e = h
        .app
        .access_token(&account.address)
        .await
        .expect_err("a grant being revoked is not used");
    assert!(matches!(e, Error::RevocationPending { .. }), "{e:?}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_while_offline_is_pending_and_completes_when_the_provider_is_back() {
    let h = strict().await;
    let account = h.authorize_as("yara@sandbox.test").await;
    h.sandbox.fault_revoke_unreachable(true);
    let err = h.app.revoke(&account.address).await.expect_err("offline");
    let fix = err.explain().fix;
    assert!(fix.contains("retries by itself"), "{fix}");
    let s = h.app.status(&account.address).await.unwrap();
    assert!(matches!(s.state, TokenState::RevocationPending { .. }));
    assert!(has_refresh_token(&h, &account.address));
    // Not yet due: the background work leaves it alone.
    h.app.retry_due_revocations().await;
    assert!(matches!(
        h.app.status(&account.address).await.unwrap().state,
        TokenState::RevocationPending { .. }
    ));
    h.sandbox.fault_revoke_unreachable(false);
    h.advance(Duration::from_secs(61));
    h.app.retry_due_revocations().await;
    let s = h.app.status(&account.address).await.unwrap();
    assert!(matches!(s.state, TokenState::Revoked { .. }), "{s:?}");
    assert_eq!(h.sandbox.live_grants(&account.address), 0);
    assert!(!has_refresh_token(&h, &account.address));
    let log = h.app.activity(10).await.unwrap();
    assert!(log.iter().any(|a| a.kind == "revocation_pending"));
    assert!(log.iter().any(|a| a.kind == "revoked" && a.ok));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_account_offline_waits_for_the_confirmation() {
    let h = strict().await;
    let account = h.authorize_as("zoe@sandbox.test").await;
    h.sandbox.fault_revoke_unreachable(true);
    h.app
        .remove_account(&account.address)
        .await
        .expect_err("not confirmed, so not removed");
    let s = h.app.status(&account.address).await.unwrap();
    assert!(s.headline.starts_with("Removal pending"), "{}", s.headline);
    // Revoke-and-reauthorize does not start consent while the old grant may be live.
    let launcher = Arc::new(RecordingLauncher::default());
    let e = h
        .app
        .revoke_and_reauthorize(&account.address, launcher.clone())
        .await
        .expect_err("still offline");
    assert!(matches!(e, Error::RevocationNotConfirmed { .. }), "{e:?}");
    assert!(
        launcher.urls.lock().unwrap().is_empty(),
        "no consent opened"
    );
    h.sandbox.fault_revoke_unreachable(false);
    // Retry revocation: confirmed now, so the removal completes.
    let s = h
        .app
        .revoke(&account.address)
        .await
        .expect("confirmed once the provider is back");
    assert!(matches!(s.state, TokenState::Revoked { .. }));
    assert!(h.app.accounts().await.unwrap().is_empty());
    assert_eq!(h.sandbox.live_grants(&account.address), 0);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_another_issuer_is_refused_before_the_exchange() {
    let h = Harness::start_with(Options {
        profile: Profile::Strict,
        more_providers: |sb| {
            let mut p = common::strict_provider(
                sb.endpoints(),
                postern_core::provider::SmtpSecurity::ImplicitTls,
            );
            p.name = "mixup".into();
            p.issuer = Some("https://idp.other.test".into());
            vec![(p, sb.endpoints().client_secret.clone())]
        },
        ..Options::default()
    })
    .await;
    let launcher = h.launcher(common::Plan::allow("ada@sandbox.test")).await;
    let err = h
        .app
        .authorize("mixup", None, launcher.clone())
        .await
        .expect_err("the iss does not match");
    let _ = launcher.landing().await;
    h.remember_landing(&launcher);
    assert!(matches!(err, Error::IssuerMismatch { .. }), "{err:?}");
    assert_eq!(
        h.sandbox.count("token.authorization_code"),
        0,
        "no exchange"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_token_is_used_for_half_its_life_and_refreshed_once_for_many_callers() {
    let h = Harness::start_with(Options {
        profile: Profile::Strict,
        access_token_lifetime: Some(Duration::from_secs(60)),
        ..Options::default()
    })
    .await;
    let account = h.authorize_as("bea@sandbox.test").await;
    let first = h.app.access_token(&account.address).await.unwrap();
    h.advance(Duration::from_secs(20));
    assert_eq!(h.app.access_token(&account.address).await.unwrap(), first);
    assert_eq!(
        h.sandbox.count("token.refresh_token"),
        0,
        "40 s left of 60: no refresh"
    );
    h.advance(Duration::from_secs(12));
    let mut calls = Vec::new();
    for _ in 0..20 {
        let app = h.app.clone();
        let a = account.address.clone();
        calls.push(tokio::spawn(async move { app.access_token(&a).await }));
    }
    let mut tokens = Vec::new();
    for c in calls {
        tokens.push(c.await.unwrap().expect("a token"));
    }
    assert!(tokens.iter().all(|t| *t == tokens[0] && *t != first));
    assert_eq!(
        h.sandbox.count("token.refresh_token"),
        1,
        "one refresh for 20 callers"
    );
    // The rotated refresh token was kept: the next refresh works and reuses nothing.
    h.advance(Duration::from_secs(31));
    h.app
        .access_token(&account.address)
        .await
        .expect("refreshed again");
    assert_eq!(h.sandbox.count("token.refresh_token"), 2);
    assert_eq!(h.sandbox.count("refresh_token_reuse"), 0);
    h.remember_tokens(&account.address);
    for t in tokens.iter().chain([&first]) {
        h.remember(t.expose());
    }
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_based_access_shows_its_exact_end_and_names_it_when_it_comes() {
    let h = strict().await;
    let mut plan = common::Plan::allow("cy@sandbox.test");
    plan.access_duration = Some("86400");
    let (account, _) = h.authorize_following(plan, "authorized for a day").await;
    let s = &account.status;
    assert_eq!(
        s.grant_end,
        Some(postern_core::status::GrantEnd::TimeBasedAccess)
    );
    let left = s.grant_seconds_left.unwrap();
    assert!((86_300..=86_400).contains(&left), "{left}");
    assert!(s.grant_ending_soon, "a day or less is ending soon");
    assert!(s
        .grant_note
        .as_deref()
        .unwrap()
        .contains("time-based access"));
    h.advance(Duration::from_secs(86_400 + 10));
    let err = h
        .app
        .refresh_now(&account.address)
        .await
        .expect_err("the chosen time is over");
    assert!(
        matches!(
            err,
            Error::InvalidGrant {
                cause: postern_core::RevokedCause::TimeBasedAccessEnded,
                ..
            }
        ),
        "{err:?}"
    );
    h.finish().await;
}

/// A profile that sends its client secret in the revocation's body (client_secret_post).
fn secret_in_body(
    sb: &postern_sandbox::Sandbox,
) -> Vec<(postern_core::provider::Provider, String)> {
    let mut p = common::strict_provider(
        sb.endpoints(),
        postern_core::provider::SmtpSecurity::ImplicitTls,
    );
    p.name = "strict-post".into();
    p.revocation_auth = ClientAuth::ClientSecretPost;
    vec![(p, sb.endpoints().client_secret.clone())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_with_the_secret_in_the_body_is_confirmed_and_ends_the_grant() {
    let h = Harness::start_with(Options {
        profile: Profile::Strict,
        more_providers: secret_in_body,
        ..Options::default()
    })
    .await;
    let launcher = h.launcher(common::Plan::allow("yara@sandbox.test")).await;
    let account = h
        .app
        .authorize("strict-post", None, launcher.clone())
        .await
        .expect("authorized");
    let _ = launcher.landing().await;
    h.remember_landing(&launcher);
    assert_eq!(h.sandbox.live_grants(&account.address), 1);
    let s = h.app.revoke(&account.address).await.expect("confirmed");
    assert!(matches!(s.state, TokenState::Revoked { .. }), "{s:?}");
    assert_eq!(h.sandbox.live_grants(&account.address), 0);
    assert_eq!(h.sandbox.count("revoke_unauthenticated"), 0);
    assert!(!has_refresh_token(&h, &account.address));
    h.finish().await;
}
