//! The authorization-code flow with PKCE, driven by an independent HTTP client (reqwest)
//! through the consent form, and every error the sandbox answers in Google's shape.

mod common;

use common::{pkce, Authorize, Harness, MAIL, REDIRECT, SCOPES};
use serde_json::Value;

fn scope_set(s: &str) -> std::collections::BTreeSet<&str> {
    s.split(' ').collect()
}

#[tokio::test]
async fn consent_page_offers_each_scope_and_a_default_account() {
    let h = Harness::start().await;
    let (_, challenge) = pkce();
    let url = h.auth_url(&[
        ("client_id", &h.ep().client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let html = h.http.get(url).send().await.unwrap().text().await.unwrap();
    assert_eq!(
        common::input_value(&html, "email").as_deref(),
        Some("tester@sandbox.test")
    );
    assert_eq!(
        common::checkbox_values(&html),
        vec!["openid", "email", MAIL],
        "one checked .scope checkbox per requested scope"
    );
    assert!(html.contains("<button type=\"submit\" id=\"allow\""));
    assert!(html.contains("<button type=\"submit\" id=\"deny\""));
    assert_eq!(h.sandbox.count("consent"), 1);
}

#[tokio::test]
async fn allow_redirects_with_code_state_and_granted_scopes() {
    let h = Harness::start().await;
    let (_, challenge) = pkce();
    let r = h
        .consent(&Authorize {
            client_id: &h.ep().client_id,
            scope: SCOPES,
            login_hint: Some("alice@example.com"),
            prompt: None,
            untick: &[],
            deny: false,
            challenge: &challenge,
        })
        .await;
    assert_eq!(r.location.as_str().split('?').next(), Some(REDIRECT));
    assert_eq!(r.param("state").as_deref(), Some("st-123"));
    assert!(r.param("code").unwrap().starts_with("4/0A"));
    assert_eq!(r.param("iss").as_deref(), Some(h.ep().issuer.as_str()));
    assert_eq!(
        scope_set(&r.param("scope").unwrap()),
        scope_set(
            "openid email https://www.googleapis.com/auth/userinfo.email https://mail.google.com/"
        )
    );
}

#[tokio::test]
async fn deny_redirects_access_denied_with_state() {
    let h = Harness::start().await;
    let (_, challenge) = pkce();
    let r = h
        .consent(&Authorize {
            client_id: &h.ep().client_id,
            scope: SCOPES,
            login_hint: None,
            prompt: None,
            untick: &[],
            deny: true,
            challenge: &challenge,
        })
        .await;
    assert_eq!(r.param("error").as_deref(), Some("access_denied"));
    assert_eq!(r.param("state").as_deref(), Some("st-123"));
    assert_eq!(r.param("code"), None);
}

#[tokio::test]
async fn unticking_the_mail_scope_leaves_it_out_of_the_grant() {
    let h = Harness::start().await;
    let (verifier, challenge) = pkce();
    let r = h
        .consent(&Authorize {
            client_id: &h.ep().client_id,
            scope: SCOPES,
            login_hint: Some("bob@example.com"),
            prompt: None,
            untick: &[MAIL],
            deny: false,
            challenge: &challenge,
        })
        .await;
    let code = r.param("code").unwrap();
    let ep = h.ep().clone();
    let (status, body) = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &ep.client_id),
            ("client_secret", &ep.client_secret),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(status, 200);
    let scope = body["scope"].as_str().unwrap();
    assert!(!scope_set(scope).contains(MAIL), "granted: {scope}");
    assert!(scope_set(scope).contains("openid"));
}

#[tokio::test]
async fn code_exchange_returns_google_shaped_tokens_and_a_verifiable_id_token() {
    let h = Harness::start().await;
    let t = h.login("Alice@Example.com", SCOPES).await;
    assert!(t.access.starts_with("ya29."));
    assert!(t.refresh.as_deref().unwrap().starts_with("1//"));
    assert_eq!(t.body["expires_in"], 3599);
    assert_eq!(t.body["token_type"], "Bearer");

    let discovery: Value = h
        .http
        .get(format!(
            "{}/.well-known/openid-configuration",
            h.ep().issuer
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], h.ep().issuer);
    assert_eq!(discovery["token_endpoint"], h.ep().token_endpoint);
    assert_eq!(discovery["revocation_endpoint"], h.ep().revocation_endpoint);
    assert_eq!(discovery["userinfo_endpoint"], h.ep().userinfo_endpoint);
    assert_eq!(
        discovery["authorization_endpoint"],
        h.ep().authorization_endpoint
    );
    assert_eq!(
        discovery["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_post", "client_secret_basic"])
    );
    let jwks: Value = h
        .http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    let decoding = jsonwebtoken::DecodingKey::from_ec_components(
        key["x"].as_str().unwrap(),
        key["y"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[&h.ep().client_id]);
    validation.set_issuer(&[&h.ep().issuer]);
    // exp is in sandbox time, which equals real time here.
    let claims =
        jsonwebtoken::decode::<Value>(t.body["id_token"].as_str().unwrap(), &decoding, &validation)
            .expect("id_token verifies against the JWKS")
            .claims;
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["azp"], h.ep().client_id);
    assert!(claims["sub"]
        .as_str()
        .unwrap()
        .chars()
        .all(|c| c.is_ascii_digit()));
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    assert_eq!(h.sandbox.count("token.authorization_code"), 1);
}

#[tokio::test]
async fn refresh_issues_access_tokens_but_no_new_refresh_token() {
    let h = Harness::start().await;
    let t = h.login("e@example.com", SCOPES).await;
    let (s, b) = h.refresh(t.refresh.as_deref().unwrap()).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["access_token"].as_str().unwrap() != t.access);
    assert!(b.get("refresh_token").is_none());
    assert_eq!(b["expires_in"], 3599);
    assert!(b["id_token"].is_string(), "openid was granted");
    assert_eq!(
        scope_set(b["scope"].as_str().unwrap()),
        scope_set(t.body["scope"].as_str().unwrap())
    );

    let (s, b) = h.refresh("1//0garbage").await;
    assert_eq!(
        (s, b["error"].as_str(), b["error_description"].as_str()),
        (400, Some("invalid_grant"), Some("Bad Request"))
    );

    let (other_id, other_secret) = h.sandbox.register_client(false);
    let (s, b) = h
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", t.refresh.as_deref().unwrap()),
            ("client_id", &other_id),
            ("client_secret", &other_secret),
        ])
        .await;
    assert_eq!((s, b["error"].as_str()), (401, Some("unauthorized_client")));
    assert_eq!(h.sandbox.count("token.refresh_token"), 3);
}

#[tokio::test]
async fn a_refresh_token_comes_on_first_consent_and_with_prompt_consent_only() {
    let h = Harness::start().await;
    let ep = h.ep().clone();
    assert!(h.login("f@example.com", SCOPES).await.refresh.is_some());
    let (verifier, challenge) = pkce();
    let r = h
        .consent(&Authorize {
            client_id: &ep.client_id,
            scope: SCOPES,
            login_hint: Some("f@example.com"),
            prompt: None,
            untick: &[],
            deny: false,
            challenge: &challenge,
        })
        .await;
    let (s, b) = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &r.param("code").unwrap()),
            ("client_id", &ep.client_id),
            ("client_secret", &ep.client_secret),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(s, 200);
    assert!(
        b.get("refresh_token").is_none(),
        "second consent without prompt=consent"
    );
    assert!(
        h.login("f@example.com", SCOPES).await.refresh.is_some(),
        "prompt=consent"
    );
}

#[tokio::test]
async fn tokeninfo_and_userinfo_describe_live_tokens_only() {
    let h = Harness::start().await;
    let t = h.login("g@example.com", SCOPES).await;
    let (s, info) = h.tokeninfo(&t.access).await;
    assert_eq!(s, 200);
    assert_eq!(info["aud"], h.ep().client_id);
    assert_eq!(info["azp"], h.ep().client_id);
    assert_eq!(info["email"], "g@example.com");
    assert_eq!(info["email_verified"], "true");
    assert_eq!(info["access_type"], "offline");
    assert!(
        info["exp"].is_string() && info["expires_in"].is_string(),
        "numbers as strings"
    );
    assert!(scope_set(info["scope"].as_str().unwrap()).contains(MAIL));

    let resp = h
        .http
        .get(&h.ep().userinfo_endpoint)
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let user: Value = resp.json().await.unwrap();
    assert_eq!(user["email"], "g@example.com");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["sub"], info["sub"]);
    let resp = h.http.get(&h.ep().userinfo_endpoint).send().await.unwrap();
    assert_eq!(resp.status(), 401);

    h.sandbox
        .advance_clock(std::time::Duration::from_secs(3600));
    let (s, b) = h.tokeninfo(&t.access).await;
    assert_eq!(
        (s, b["error"].as_str(), b["error_description"].as_str()),
        (400, Some("invalid_token"), Some("Invalid Value")),
        "expired access token"
    );
    let resp = h
        .http
        .get(&h.ep().userinfo_endpoint)
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(h.sandbox.count("tokeninfo"), 2);
    assert_eq!(h.sandbox.count("userinfo"), 3);
}

#[tokio::test]
async fn revoking_any_token_kills_the_whole_grant() {
    let h = Harness::start().await;
    let t = h.login("h@example.com", SCOPES).await;
    let resp = h
        .http
        .post(&h.ep().revocation_endpoint)
        .form(&[("token", &t.access)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (s, b) = h.refresh(t.refresh.as_deref().unwrap()).await;
    assert_eq!(
        (s, b["error"].as_str(), b["error_description"].as_str()),
        (
            400,
            Some("invalid_grant"),
            Some("Token has been expired or revoked.")
        )
    );
    let (s, _) = h.tokeninfo(&t.access).await;
    assert_eq!(s, 400);
    let resp = h
        .http
        .post(&h.ep().revocation_endpoint)
        .form(&[("token", t.refresh.as_deref().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let b: Value = resp.json().await.unwrap();
    assert_eq!(
        b,
        serde_json::json!({"error": "invalid_token", "error_description": "Token expired or revoked"})
    );
    let resp = h
        .http
        .get(&h.ep().revocation_endpoint)
        .query(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "GET /revoke is 404 as at Google");

    // Revoking by refresh token, passed in the query string, works the same.
    let t = h.login("h@example.com", SCOPES).await;
    let resp = h
        .http
        .post(&h.ep().revocation_endpoint)
        .query(&[("token", t.refresh.as_deref().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(h.tokeninfo(&t.access).await.0, 400);
    assert_eq!(h.sandbox.count("revoke"), 3);
}
