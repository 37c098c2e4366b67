//! Refresh-token lifetime rules (docs/google.md, "Why a grant ends") by the controllable clock, the token-endpoint
//! faults, the request counters, and the admin API that mirrors each control.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, SCOPES};
use serde_json::json;

const DAY: u64 = 86_400;

fn dead(status: u16, body: &serde_json::Value) -> bool {
    status == 400
        && body["error"] == "invalid_grant"
        && body["error_description"] == "Token has been expired or revoked."
}

#[tokio::test]
async fn testing_status_kills_refresh_tokens_after_seven_days_unless_sign_in_only() {
    let h = Harness::start().await;
    h.sandbox.set_testing(&h.ep().client_id, true);
    let mail = h.login("t@example.com", SCOPES).await.refresh.unwrap();
    let (id, secret) = h.sandbox.register_client(true);
    let sign_in_only = h
        .login_with(&id, &secret, "t@example.com", "openid email")
        .await
        .refresh
        .unwrap();
    h.sandbox.advance_clock(Duration::from_secs(6 * DAY));
    assert_eq!(h.refresh(&mail).await.0, 200, "day 6");
    h.sandbox.advance_clock(Duration::from_secs(DAY + 60));
    let (s, b) = h.refresh(&mail).await;
    assert!(dead(s, &b), "day 7: {s} {b}");
    let (s, _) = h
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &sign_in_only),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(s, 200, "Sign-In-only grants are exempt");
}

#[tokio::test]
async fn refresh_tokens_unused_for_six_months_die() {
    let h = Harness::start().await;
    let used = h.login("u@example.com", SCOPES).await.refresh.unwrap();
    let idle = h.login("v@example.com", SCOPES).await.refresh.unwrap();
    h.sandbox.advance_clock(Duration::from_secs(120 * DAY));
    assert_eq!(h.refresh(&used).await.0, 200);
    h.sandbox.advance_clock(Duration::from_secs(120 * DAY));
    let (s, b) = h.refresh(&idle).await;
    assert!(dead(s, &b), "240 days idle: {b}");
    assert_eq!(h.refresh(&used).await.0, 200, "used 120 days ago");
}

#[tokio::test]
async fn a_password_change_kills_only_grants_with_gmail_scopes() {
    let h = Harness::start().await;
    let mail = h.login("p@example.com", SCOPES).await.refresh.unwrap();
    let (id, secret) = h.sandbox.register_client(false);
    let sign_in = h
        .login_with(&id, &secret, "p@example.com", "openid email")
        .await
        .refresh
        .unwrap();
    let other = h.login("q@example.com", SCOPES).await.refresh.unwrap();
    h.sandbox.password_changed("P@example.com");
    let (s, b) = h.refresh(&mail).await;
    assert!(dead(s, &b));
    let (s, _) = h
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &sign_in),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        h.refresh(&other).await.0,
        200,
        "another account is untouched"
    );
}

#[tokio::test]
async fn over_the_refresh_token_limit_the_oldest_dies_first() {
    let h = Harness::start().await;
    h.sandbox.set_refresh_token_limit(2);
    let first = h.login("l@example.com", SCOPES).await.refresh.unwrap();
    let second = h.login("l@example.com", SCOPES).await.refresh.unwrap();
    let third = h.login("l@example.com", SCOPES).await.refresh.unwrap();
    let (s, b) = h.refresh(&first).await;
    assert!(dead(s, &b), "oldest: {b}");
    assert_eq!(h.refresh(&second).await.0, 200);
    assert_eq!(h.refresh(&third).await.0, 200);
}

#[tokio::test]
async fn server_side_revocation_kills_refresh_and_access_tokens() {
    let h = Harness::start().await;
    let t = h.login("r@example.com", SCOPES).await;
    h.sandbox.revoke_grants("r@example.com");
    let (s, b) = h.refresh(t.refresh.as_deref().unwrap()).await;
    assert!(dead(s, &b));
    assert_eq!(h.tokeninfo(&t.access).await.0, 400);
}

#[tokio::test]
async fn token_endpoint_faults_500_then_recover_and_delay_answers() {
    let h = Harness::start().await;
    let refresh = h.login("f@example.com", SCOPES).await.refresh.unwrap();
    h.sandbox.reset_counts();
    h.sandbox.fault_token_500(2);
    assert_eq!(h.refresh(&refresh).await.0, 500);
    assert_eq!(h.refresh(&refresh).await.0, 500);
    assert_eq!(h.refresh(&refresh).await.0, 200);
    assert_eq!(h.sandbox.count("token.refresh_token"), 3);

    h.sandbox.fault_token_delay(Duration::from_millis(600));
    let started = Instant::now();
    assert_eq!(h.refresh(&refresh).await.0, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "answered after the delay"
    );
    h.sandbox.fault_token_delay(Duration::ZERO);
}

#[tokio::test]
async fn counts_prove_one_refresh_not_ten() {
    let h = Harness::start().await;
    let t = h.login("c@example.com", SCOPES).await;
    assert_eq!(h.sandbox.count("consent"), 1);
    assert_eq!(h.sandbox.count("token.authorization_code"), 1);
    h.sandbox.reset_counts();
    assert_eq!(h.sandbox.count("token.authorization_code"), 0);
    h.refresh(t.refresh.as_deref().unwrap()).await;
    assert_eq!(h.sandbox.count("token.refresh_token"), 1);
    let counts: serde_json::Value = h.admin_get("/counts").await.json().await.unwrap();
    assert_eq!(counts["token.refresh_token"], 1);
    h.admin("/counts/reset", json!({})).await;
    assert_eq!(h.sandbox.count("token.refresh_token"), 0);
}

#[tokio::test]
async fn the_admin_api_mirrors_the_library_controls() {
    let h = Harness::start().await;
    let before = h.sandbox.now();
    let b = h.admin("/clock/advance", json!({"seconds": 3600})).await;
    assert!(b["now"].as_i64().unwrap() >= before + 3600);
    assert!(h.sandbox.now() >= before + 3600);

    let t = h.login("a@example.com", SCOPES).await;
    h.admin("/faults/token-500", json!({"times": 1})).await;
    assert_eq!(h.refresh(t.refresh.as_deref().unwrap()).await.0, 500);
    h.admin("/faults/token-delay", json!({"milliseconds": 0}))
        .await;
    h.admin("/revoke", json!({"email": "a@example.com"})).await;
    let (s, b) = h.refresh(t.refresh.as_deref().unwrap()).await;
    assert!(dead(s, &b));

    let t = h.login("a@example.com", SCOPES).await;
    h.admin("/password-changed", json!({"email": "a@example.com"}))
        .await;
    assert!(dead(
        h.refresh(t.refresh.as_deref().unwrap()).await.0,
        &h.refresh(t.refresh.as_deref().unwrap()).await.1
    ));

    let client = h.admin("/clients", json!({"testing": false})).await;
    let id = client["client_id"].as_str().unwrap().to_owned();
    let secret = client["client_secret"].as_str().unwrap().to_owned();
    h.admin("/testing", json!({"client_id": id, "testing": true}))
        .await;
    let refresh = h
        .login_with(&id, &secret, "a@example.com", SCOPES)
        .await
        .refresh
        .unwrap();
    h.admin("/clock/advance", json!({"seconds": 8 * DAY})).await;
    let (s, b) = h
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .await;
    assert!(dead(s, &b), "Testing client set through /admin/testing");

    h.admin("/refresh-token-limit", json!({"limit": 1})).await;
    let first = h.login("z@example.com", SCOPES).await.refresh.unwrap();
    h.login("z@example.com", SCOPES).await;
    assert!(dead(h.refresh(&first).await.0, &h.refresh(&first).await.1));

    let resp = h
        .admin_request(reqwest::Method::POST, "/testing")
        .json(&json!({"client_id": "nope", "testing": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}
