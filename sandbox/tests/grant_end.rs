//! When a grant ends, in both profiles: time-based access chosen on the consent page,
//! a Testing-mode client's 7 days, an In-production client's grant that lives on; and the
//! `email_verified` each endpoint reports.

mod common;

use std::time::Duration;

use common::{hidden_inputs, Harness, SCOPES};
use postern_sandbox::{Profile, SandboxConfig};
use serde_json::{json, Value};

const DAY: u64 = 86_400;

async fn harness(profile: Profile) -> Harness {
    Harness::start_with(SandboxConfig {
        profile,
        ..SandboxConfig::default()
    })
    .await
}

/// Refreshes as a client does: keeps a rotated refresh token when one arrives.
async fn refresh(h: &Harness, token: &mut String, id: &str, secret: &str) -> (u16, Value) {
    let (s, b) = h
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .await;
    if let Some(new) = b["refresh_token"].as_str() {
        *token = new.to_owned();
    }
    (s, b)
}

fn dead(status: u16, body: &Value) -> bool {
    status == 400
        && body["error"] == "invalid_grant"
        && body["error_description"] == "Token has been expired or revoked."
}

fn about(secs: &Value, want: i64) -> bool {
    secs.as_i64()
        .is_some_and(|s| (want - 10..=want).contains(&s))
}

#[tokio::test]
async fn time_based_access_is_announced_on_each_answer_and_ends_the_grant() {
    for profile in [Profile::Google, Profile::Strict] {
        let h = harness(profile).await;
        let (id, secret) = h.me();
        let t = h.login_choosing("tba@example.com", SCOPES, "3600").await;
        assert!(
            about(&t.body["refresh_token_expires_in"], 3600),
            "{profile}: {}",
            t.body
        );
        let mut token = t.refresh.unwrap();
        h.sandbox.advance_clock(Duration::from_secs(1800));
        let (s, b) = refresh(&h, &mut token, &id, &secret).await;
        assert_eq!(s, 200, "{profile}: {b}");
        assert!(
            about(&b["refresh_token_expires_in"], 1800),
            "{profile}: {b}"
        );
        assert_eq!(h.sandbox.live_grants("tba@example.com"), 1);

        h.sandbox.advance_clock(Duration::from_secs(1801));
        let (s, b) = refresh(&h, &mut token, &id, &secret).await;
        assert!(dead(s, &b), "{profile}: after the hour: {s} {b}");
        assert_eq!(h.sandbox.live_grants("tba@example.com"), 0, "{profile}");
    }
}

#[tokio::test]
async fn without_a_chosen_duration_no_end_is_announced() {
    for profile in [Profile::Google, Profile::Strict] {
        let h = harness(profile).await;
        let (id, secret) = h.me();
        let t = h.login("forever@example.com", SCOPES).await;
        assert!(
            t.body.get("refresh_token_expires_in").is_none(),
            "{profile}"
        );
        let mut token = t.refresh.unwrap();
        h.sandbox.advance_clock(Duration::from_secs(30 * DAY));
        let (s, b) = refresh(&h, &mut token, &id, &secret).await;
        assert_eq!(s, 200, "{profile}: {b}");
        assert!(b.get("refresh_token_expires_in").is_none(), "{profile}");
    }
}

#[tokio::test]
async fn a_duration_the_page_does_not_offer_is_refused_with_the_page_again() {
    let h = Harness::start().await;
    let (_, challenge) = common::pkce();
    let url = h.auth_url(&[
        ("client_id", &h.ep().client_id),
        ("redirect_uri", common::REDIRECT),
        ("response_type", "code"),
        ("scope", "https://mail.google.com/"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let html = h.http.get(url).send().await.unwrap().text().await.unwrap();
    for (value, label) in [
        ("", "Until I revoke access"),
        ("3600", "1 hour"),
        ("86400", "1 day"),
        ("604800", "7 days"),
    ] {
        let option = format!("<option value=\"{value}\"");
        assert!(html.contains(&option) && html.contains(label), "{value}");
    }
    let mut form = hidden_inputs(&html);
    form.push(("email".into(), "odd@example.com".into()));
    form.push(("access_duration".into(), "42".into()));
    form.push(("decision".into(), "allow".into()));
    let resp = h
        .http
        .post(&h.ep().authorization_endpoint)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let page = resp.text().await.unwrap();
    assert!(page.contains("Choose one of the listed durations."));
    assert!(page.contains("id=\"access-duration\""));
}

#[tokio::test]
async fn a_testing_client_ends_grants_seven_days_after_consent_in_both_profiles() {
    for profile in [Profile::Google, Profile::Strict] {
        let h = harness(profile).await;
        let (id, secret) = h.me();
        h.sandbox.set_testing(&id, true);
        let mail = h.login("tst@example.com", SCOPES).await;
        assert!(mail.body.get("refresh_token_expires_in").is_none());
        let mut mail = mail.refresh.unwrap();
        let mut sign_in = h
            .login_with(&id, &secret, "sgn@example.com", "openid email")
            .await
            .refresh
            .unwrap();
        let (pid, psecret) = h.sandbox.register_client(false);
        let mut production = h
            .login_with(&pid, &psecret, "tst@example.com", SCOPES)
            .await
            .refresh
            .unwrap();

        h.sandbox.advance_clock(Duration::from_secs(6 * DAY));
        let (s, b) = refresh(&h, &mut mail, &id, &secret).await;
        assert_eq!(s, 200, "{profile} day 6: {b}");
        assert_eq!(h.sandbox.live_grants("tst@example.com"), 2);
        h.sandbox.advance_clock(Duration::from_secs(DAY));
        let (s, b) = refresh(&h, &mut mail, &id, &secret).await;
        assert!(dead(s, &b), "{profile} day 7: {s} {b}");
        assert_eq!(
            h.sandbox.live_grants("tst@example.com"),
            1,
            "{profile}: only the In-production client's grant is left"
        );
        let (s, _) = refresh(&h, &mut sign_in, &id, &secret).await;
        assert_eq!(s, 200, "{profile}: Sign-In-only grants are exempt");
        h.sandbox.advance_clock(Duration::from_secs(DAY));
        let (s, b) = refresh(&h, &mut production, &pid, &psecret).await;
        assert_eq!(s, 200, "{profile}: In production, day 8: {b}");
    }
}

#[tokio::test]
async fn an_unverified_address_is_reported_by_every_endpoint() {
    let h = Harness::start().await;
    h.sandbox.set_email_verified("Unv@Example.com", false);
    let t = h.login("unv@example.com", SCOPES).await;
    let claims = h
        .id_token_claims(t.body["id_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["email_verified"], false);
    assert_eq!(h.tokeninfo(&t.access).await.1["email_verified"], "false");
    assert_eq!(h.userinfo(&t.access).await.1["email_verified"], false);
    let other = h.login("ok@example.com", SCOPES).await;
    assert_eq!(h.userinfo(&other.access).await.1["email_verified"], true);

    h.admin(
        "/email-verified",
        json!({"email": "unv@example.com", "verified": true}),
    )
    .await;
    assert_eq!(h.userinfo(&t.access).await.1["email_verified"], true);

    let s = Harness::strict().await;
    s.admin(
        "/email-verified",
        json!({"email": "unv@example.com", "verified": false}),
    )
    .await;
    let t = s.login("unv@example.com", SCOPES).await;
    let (status, info) = s.userinfo(&t.access).await;
    assert_eq!(
        (status, info["email_verified"].clone()),
        (200, json!(false))
    );
}

#[tokio::test]
async fn the_admin_api_sets_lifetime_and_reads_live_grants_and_profile() {
    let h = Harness::strict().await;
    assert_eq!(
        h.admin_get("/profile").await.json::<Value>().await.unwrap()["profile"],
        "strict"
    );
    h.admin("/access-token-lifetime", json!({"seconds": 120}))
        .await;
    let t = h.login("adm@example.com", SCOPES).await;
    assert_eq!(t.body["expires_in"], 120);
    h.login("adm@example.com", SCOPES).await;
    let live: Value = h
        .admin_get("/live-grants?email=ADM%40example.com")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["live_grants"], 2);
    h.admin("/revoke", json!({"email": "adm@example.com"}))
        .await;
    assert_eq!(h.sandbox.live_grants("adm@example.com"), 0);

    let (id, _) = h.me();
    h.admin("/testing", json!({"client_id": id, "testing": true}))
        .await;
    h.login("adm@example.com", SCOPES).await;
    h.sandbox.advance_clock(Duration::from_secs(7 * DAY));
    assert_eq!(
        h.sandbox.live_grants("adm@example.com"),
        0,
        "Testing through /admin/testing"
    );
}
