//! Authorization against the sandbox with a real headless Chromium clicking the consent page.

use postern_core::provider::MAIL_SCOPE;
use postern_core::status::{Action, TokenState};
use postern_core::vault::SecretKind;
use postern_core::Error;
use postern_testkit::{self as common, Decision, Harness, Plan};

/// The refresh token the keychain holds for `address` now.
fn refresh_token(h: &Harness, address: &str) -> postern_core::Secret {
    h.app
        .vault()
        .get(address, SecretKind::RefreshToken)
        .unwrap()
        .expect("a refresh token in the keychain")
}

/// A browser that allows again as the address the consent page is prefilled with
/// (`login_hint`), as a person authorizing the same account again does.
async fn consent_again(h: &Harness) -> std::sync::Arc<common::ChromeLauncher> {
    let mut plan = Plan::allow("unused");
    plan.email = None;
    h.launcher(plan).await
}

fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_authorization_keeps_secrets_in_the_keychain_and_facts_in_the_store() {
    let h = Harness::start().await;
    let launcher = h.launcher(Plan::allow("alice@sandbox.test")).await;
    let account = h
        .app
        .authorize("sandbox", None, launcher.clone())
        .await
        .expect("authorization succeeds");
    let landing = launcher.landing().await;
    h.remember_landing(&launcher);
    h.remember_tokens(&account.address);

    assert_eq!(account.address, "alice@sandbox.test");
    assert_eq!(landing.title, "Postern is authorized");
    assert!(landing.message.contains("alice@sandbox.test"));
    let s = &account.status;
    assert_eq!(s.state, TokenState::Valid, "{s:?}");
    assert_eq!(s.audience_ok, Some(true));
    assert!(s.scopes_missing.is_empty());
    assert!(s.scopes_granted.iter().any(|g| g == MAIL_SCOPE));
    assert!(s.seconds_left.unwrap() > 3500);
    assert_eq!(
        s.actions,
        vec![Action::Refresh, Action::Revoke, Action::Reauthorize]
    );

    let url = &launcher.urls()[0];
    assert_eq!(param(url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(url, "code_challenge").unwrap().len(), 43);
    assert_eq!(param(url, "access_type").as_deref(), Some("offline"));
    assert_eq!(
        param(url, "scope").as_deref(),
        Some("openid email https://mail.google.com/")
    );
    assert!(param(url, "state").unwrap().len() >= 32);
    assert!(param(url, "redirect_uri")
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert_eq!(
        param(url, "prompt").as_deref(),
        Some("consent"),
        "Postern holds no refresh token for a new address, so consent is forced: a grant \
         still live at the provider would otherwise come back without one"
    );
    assert_eq!(param(url, "client_secret"), None);

    assert_eq!(h.sandbox.count("token.authorization_code"), 1);
    assert!(h.sandbox.count("tokeninfo") >= 1);
    let vault = h.app.vault();
    assert!(vault
        .get(&account.address, SecretKind::RefreshToken)
        .unwrap()
        .is_some());
    let token = h.app.access_token(&account.address).await.unwrap();
    let (stored, _) = vault.get_access(&account.address).unwrap().unwrap();
    assert_eq!(token, stored, "a fresh token is served from the keychain");
    assert_eq!(h.sandbox.count("token.refresh_token"), 0);

    let kinds: Vec<String> = h
        .app
        .activity(10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.kind)
        .collect();
    assert!(kinds.contains(&"authorized".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"validated".to_owned()), "{kinds:?}");
    let listed = h.app.accounts().await.unwrap();
    assert_eq!(listed.len(), 1);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_ends_the_flow_with_you_declined() {
    let h = Harness::start().await;
    let mut plan = Plan::allow("bob@sandbox.test");
    plan.decision = Decision::Deny;
    let launcher = h.launcher(plan).await;
    let err = h
        .app
        .authorize("sandbox", None, launcher.clone())
        .await
        .expect_err("a denial ends the flow");
    assert!(matches!(err, Error::AuthorizationDenied), "{err:?}");
    assert!(err.explain().message.contains("declined"));
    let landing = launcher.landing().await;
    assert_eq!(landing.title, "Authorization did not finish");
    assert!(landing.message.contains("declined"), "{landing:?}");
    assert!(h.app.accounts().await.unwrap().is_empty());
    assert_eq!(h.sandbox.count("token.authorization_code"), 0);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unticked_mail_scope_is_its_own_state_with_grant_again() {
    let h = Harness::start().await;
    let mut plan = Plan::allow("carol@sandbox.test");
    plan.untick = vec![MAIL_SCOPE.to_owned()];
    let (account, landing) = h
        .authorize_following(plan, "the grant is stored, without the mail scope")
        .await;
    let s = &account.status;
    assert_eq!(s.state, TokenState::ScopeMissing);
    assert_eq!(s.scopes_missing, vec![MAIL_SCOPE.to_owned()]);
    assert_eq!(s.actions[0], Action::GrantAgain);
    assert!(landing.message.contains("Grant again"), "{landing:?}");
    let v = serde_json::to_value(s).unwrap();
    assert_eq!(v["state"], "scope_missing");
    assert_eq!(v["actions"][0], "grant_again");
    let err = h.app.access_token(&account.address).await.unwrap_err();
    assert_eq!(err.code(), "scope_missing", "sending is refused up front");

    h.app
        .remove_account(&account.address)
        .await
        .expect("removed");
    assert!(h.app.accounts().await.unwrap().is_empty());
    assert_eq!(
        h.sandbox.count("revoke"),
        1,
        "removal revokes at the provider first"
    );
    assert!(h
        .app
        .vault()
        .get(&account.address, SecretKind::RefreshToken)
        .unwrap()
        .is_none());
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_redirect_and_stray_requests_do_not_end_the_flow() {
    let h = Harness::start().await;
    let mut plan = Plan::allow("dave@sandbox.test");
    plan.forge_first = true;
    let (_account, landing) = h
        .authorize_following(plan, "the real redirect still completes the flow")
        .await;
    assert_eq!(
        landing.stray_titles,
        vec![
            "Not the sign-in Postern is waiting for".to_owned(),
            "Not here".to_owned()
        ]
    );
    assert_eq!(landing.title, "Postern is authorized");
    assert_eq!(
        h.sandbox.count("token.authorization_code"),
        1,
        "the forged code was never exchanged"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_during_expiry_share_one_refresh() {
    let h = Harness::start().await;
    let account = h.authorize_as("erin@sandbox.test").await;
    let before = h.app.access_token(&account.address).await.unwrap();
    let mut events = h.app.subscribe();
    h.sandbox.reset_counts();
    h.advance(std::time::Duration::from_secs(3_600));
    assert_eq!(
        h.app.status(&account.address).await.unwrap().state,
        TokenState::Expired
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let app = h.app.clone();
        let addr = account.address.clone();
        tasks.push(tokio::spawn(async move { app.access_token(&addr).await }));
    }
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().expect("every caller gets a token"));
    }
    assert_eq!(
        h.sandbox.count("token.refresh_token"),
        1,
        "one refresh for eight callers"
    );
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert!(tokens[0] != before, "a new access token");
    h.remember_tokens(&account.address);
    let s = h.app.status(&account.address).await.unwrap();
    assert_eq!(s.state, TokenState::Valid);
    assert!(s.last_refresh.is_some());
    let kinds: Vec<String> = h
        .app
        .activity(5)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.kind)
        .collect();
    assert!(kinds.contains(&"refreshed".to_owned()));
    let mut states = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let postern_core::events::Event::Status(st) = e {
            states.push(st.state);
        }
    }
    assert_eq!(
        states,
        vec![TokenState::Refreshing, TokenState::Valid],
        "the status is published on every change"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_backoff_and_never_taken_for_revocation() {
    let h = Harness::start().await;
    let account = h.authorize_as("judy@sandbox.test").await;
    h.sandbox.reset_counts();
    h.sandbox.fault_token_500(2);
    h.app
        .refresh_now(&account.address)
        .await
        .expect("the third try works");
    assert_eq!(h.sandbox.count("token.refresh_token"), 3);
    h.remember_tokens(&account.address);

    h.sandbox.fault_token_500(10);
    let err = h.app.refresh_now(&account.address).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let s = h.app.status(&account.address).await.unwrap();
    assert_eq!(s.state, TokenState::Error);
    assert_eq!(s.last_error.unwrap().kind, "token_endpoint");
    assert!(s.actions.contains(&Action::Refresh));
    h.sandbox.fault_token_500(0);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_timer_refreshes_a_token_in_its_last_minutes() {
    let h = Harness::start().await;
    let account = h.authorize_as("kim@sandbox.test").await;
    h.sandbox.reset_counts();
    h.advance(std::time::Duration::from_secs(3_599 - 200));
    assert_eq!(
        h.app.status(&account.address).await.unwrap().state,
        TokenState::Expiring
    );
    h.app.start_background();
    h.app.start_background(); // a second start does nothing
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.sandbox.count("token.refresh_token") == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(h.sandbox.count("token.refresh_token"), 1);
    for _ in 0..50 {
        if h.app.status(&account.address).await.unwrap().state == TokenState::Valid {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        h.app.status(&account.address).await.unwrap().state,
        TokenState::Valid
    );
    h.remember_tokens(&account.address);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_revoked_at_the_provider_is_detected_at_the_next_refresh_and_explained() {
    let h = Harness::start().await;
    let account = h.authorize_as("frank@sandbox.test").await;
    let mut events = h.app.subscribe();
    h.sandbox.revoke_grants(&account.address);
    h.advance(std::time::Duration::from_secs(3_600));
    let err = h
        .app
        .access_token(&account.address)
        .await
        .expect_err("the grant is dead");
    assert_eq!(err.code(), "invalid_grant");
    let s = h.app.status(&account.address).await.unwrap();
    assert!(matches!(s.state, TokenState::Revoked { .. }));
    assert!(s.revoked_cause().unwrap().contains("no longer accepts"));
    assert_eq!(s.last_error.as_ref().unwrap().kind, "invalid_grant");
    assert!(s.last_error.as_ref().unwrap().fix.contains("Authorize"));
    assert_eq!(s.actions, vec![Action::Reauthorize]);
    assert!(h
        .app
        .vault()
        .get(&account.address, SecretKind::RefreshToken)
        .unwrap()
        .is_none());
    let mut saw_revoked = false;
    while let Ok(e) = events.try_recv() {
        if let postern_core::events::Event::Status(st) = e {
            saw_revoked |= matches!(st.state, TokenState::Revoked { .. });
        }
    }
    assert!(saw_revoked, "the revoked status was published");
    let log = h.app.activity(5).await.unwrap();
    assert!(log.iter().any(|a| a.kind == "refresh_failed" && !a.ok));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testing_mode_expiry_after_seven_days_is_explained_as_such() {
    let h = Harness::start().await;
    h.sandbox.set_testing(&h.client_id(), true);
    h.app
        .set_publishing_status("sandbox", postern_core::provider::PublishingStatus::Testing)
        .await
        .unwrap();
    let account = h.authorize_as("grace@sandbox.test").await;
    h.advance(std::time::Duration::from_secs(6 * 86_400));
    let s = h.app.status(&account.address).await.unwrap();
    assert!(s.grant_note.as_deref().unwrap().contains("Testing"));
    h.app
        .refresh_now(&account.address)
        .await
        .expect("day 6: still alive");
    h.remember_tokens(&account.address);
    h.advance(std::time::Duration::from_secs(86_400 + 60));
    let err = h
        .app
        .refresh_now(&account.address)
        .await
        .expect_err("day 7: dead");
    assert!(
        matches!(
            err,
            Error::InvalidGrant {
                cause: postern_core::RevokedCause::TestingModeExpiry,
                ..
            }
        ),
        "{err:?}"
    );
    let s = h.app.status(&account.address).await.unwrap();
    assert!(matches!(s.state, TokenState::Revoked { .. }));
    assert!(s.revoked_cause().unwrap().contains("7 days"));
    assert!(s.last_error.unwrap().fix.contains("Publish"));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_then_reauthorize_replaces_the_grant_and_keeps_history() {
    let h = Harness::start().await;
    let first = h.authorize_as("heidi@sandbox.test").await;
    let old_refresh = refresh_token(&h, &first.address);

    let s = h.app.revoke(&first.address).await.expect("revoked");
    assert!(matches!(s.state, TokenState::Revoked { .. }));
    assert_eq!(s.headline, "Revoked by you");
    assert_eq!(s.actions, vec![Action::Reauthorize]);
    assert_eq!(h.sandbox.count("revoke"), 1);
    assert!(h
        .app
        .vault()
        .get(&first.address, SecretKind::RefreshToken)
        .unwrap()
        .is_none());
    assert!(h.app.vault().get_access(&first.address).unwrap().is_none());
    assert_eq!(
        h.app.access_token(&first.address).await.unwrap_err().code(),
        "invalid_grant"
    );

    // The person picks another account in the browser: refused, nothing replaced.
    let wrong = h.launcher(Plan::allow("mallory@sandbox.test")).await;
    let err = h
        .app
        .reauthorize(&first.address, wrong.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AddressMismatch { .. }), "{err:?}");
    wrong.landing().await;
    h.remember_landing(&wrong);

    let again = consent_again(&h).await;
    let second = h
        .app
        .reauthorize(&first.address, again.clone())
        .await
        .expect("reauthorized");
    let landing = again.landing().await;
    h.remember_landing(&again);
    h.remember_tokens(&second.address);
    assert_eq!(landing.title, "Postern is authorized");
    let url = &again.urls()[0];
    assert_eq!(param(url, "prompt").as_deref(), Some("consent"));
    assert_eq!(
        param(url, "login_hint").as_deref(),
        Some("heidi@sandbox.test")
    );
    assert_eq!(second.status.state, TokenState::Valid);
    assert_eq!(
        second.added_at, first.added_at,
        "the account keeps its history"
    );
    let new_refresh = refresh_token(&h, &second.address);
    assert!(new_refresh != old_refresh);
    let kinds: Vec<String> = h
        .app
        .activity(50)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.kind)
        .collect();
    for k in ["authorized", "revoked", "reauthorized"] {
        assert!(kinds.contains(&k.to_owned()), "{k} in {kinds:?}");
    }
    h.app
        .refresh_now(&second.address)
        .await
        .expect("the new grant refreshes");
    h.remember_tokens(&second.address);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_and_reauthorize_kills_the_live_grant_before_consent_runs_again() {
    let h = Harness::start().await;
    let first = h.authorize_as("ivan@sandbox.test").await;
    let old_refresh = refresh_token(&h, &first.address);
    assert!(first.status.actions.contains(&Action::Reauthorize));

    let again = consent_again(&h).await;
    let second = h
        .app
        .revoke_and_reauthorize(&first.address, again.clone())
        .await
        .expect("revoked and reauthorized");
    again.landing().await;
    h.remember_landing(&again);
    h.remember_tokens(&second.address);
    assert_eq!(
        h.sandbox.count("revoke"),
        1,
        "the old grant was revoked first"
    );
    assert_eq!(second.status.state, TokenState::Valid);
    assert_eq!(second.added_at, first.added_at);
    let new_refresh = refresh_token(&h, &second.address);
    assert!(new_refresh != old_refresh);

    // On an account already revoked it goes straight to consent: no second revocation.
    h.app.revoke(&second.address).await.expect("revoked");
    let third = consent_again(&h).await;
    let back = h
        .app
        .revoke_and_reauthorize(&second.address, third.clone())
        .await
        .expect("authorized again");
    third.landing().await;
    h.remember_landing(&third);
    h.remember_tokens(&back.address);
    assert_eq!(h.sandbox.count("revoke"), 2);
    assert_eq!(back.status.state, TokenState::Valid);
    h.finish().await;
}
