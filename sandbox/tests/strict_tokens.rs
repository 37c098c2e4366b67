//! The strict profile's tokens: an id_token without the address, UserInfo with it, no
//! tokeninfo, RFC 7662 introspection, rotated refresh tokens with reuse detection, RFC 9207
//! `iss` on every redirect, and a short access-token lifetime.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{pkce, Authorize, ClientAuth, Harness, SCOPES};
use postern_sandbox::{Profile, SandboxConfig};
use serde_json::{json, Value};

#[tokio::test]
async fn the_id_token_names_only_the_subject_and_userinfo_names_the_address() {
    let h = Harness::strict().await;
    assert_eq!(h.sandbox.profile(), Profile::Strict);
    let t = h.login("Ann@Example.com", SCOPES).await;
    let claims = h
        .id_token_claims(t.body["id_token"].as_str().unwrap())
        .await;
    let names: BTreeSet<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["iss", "sub", "aud", "azp", "iat", "exp", "at_hash"])
    );
    let (status, info) = h.userinfo(&t.access).await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["email"], "ann@example.com");
    assert_eq!(info["email_verified"], json!(true), "a JSON boolean");

    let resp = h
        .http
        .post(&h.ep().tokeninfo_endpoint)
        .form(&[("access_token", &t.access)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "no tokeninfo in the strict profile");
}

#[tokio::test]
async fn the_discovery_document_advertises_standard_endpoints_and_methods() {
    let h = Harness::strict().await;
    let d = h.discovery().await;
    let methods = json!(["client_secret_basic", "client_secret_post"]);
    assert_eq!(d["issuer"], h.ep().issuer);
    assert_eq!(d["revocation_endpoint"], h.ep().revocation_endpoint);
    assert_eq!(d["userinfo_endpoint"], h.ep().userinfo_endpoint);
    assert_eq!(
        d["introspection_endpoint"],
        h.sandbox.introspection_endpoint()
    );
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["revocation_endpoint_auth_methods_supported"], methods);
    assert_eq!(d["token_endpoint_auth_methods_supported"], methods);
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert!(d.get("tokeninfo_endpoint").is_none());

    let google = Harness::start().await.discovery().await;
    assert!(google.get("introspection_endpoint").is_none());
    assert!(google
        .get("authorization_response_iss_parameter_supported")
        .is_none());
}

#[tokio::test]
async fn every_refresh_rotates_and_a_rotated_out_token_ends_the_grant() {
    let h = Harness::strict().await;
    let t = h.login("rot@example.com", SCOPES).await;
    let first = t.refresh.unwrap();
    h.sandbox.reset_counts();

    let (s, b) = h.refresh(&first).await;
    assert_eq!(s, 200, "{b}");
    let second = b["refresh_token"]
        .as_str()
        .expect("a new refresh token")
        .to_owned();
    assert_ne!(second, first);
    let (s, b) = h.refresh(&second).await;
    assert_eq!(s, 200, "{b}");
    let third = b["refresh_token"].as_str().unwrap().to_owned();
    let access = b["access_token"].as_str().unwrap().to_owned();
    assert_eq!(h.sandbox.count("refresh_grant"), 2);
    assert_eq!(h.introspect(&second).await["active"], false, "rotated out");
    assert_eq!(h.introspect(&third).await["active"], true);

    // Reuse of a rotated-out token: refused, and the whole grant ends.
    let (s, b) = h.refresh(&first).await;
    assert_eq!(
        b,
        json!({"error": "invalid_grant", "error_description": "refresh token was rotated"}),
        "{s}"
    );
    assert_eq!(s, 400);
    assert_eq!(h.sandbox.count("refresh_token_reuse"), 1);
    assert_eq!(h.sandbox.live_grants("rot@example.com"), 0);
    let (s, b) = h.refresh(&third).await;
    assert_eq!(
        (s, b["error_description"].as_str()),
        (400, Some("Token has been expired or revoked."))
    );
    assert_eq!(
        h.userinfo(&access).await.0,
        401,
        "its access tokens die too"
    );
    assert_eq!(h.sandbox.count("refresh_grant"), 2);
}

#[tokio::test]
async fn the_google_profile_keeps_one_refresh_token() {
    let h = Harness::start().await;
    let refresh = h.login("keep@example.com", SCOPES).await.refresh.unwrap();
    for _ in 0..3 {
        let (s, b) = h.refresh(&refresh).await;
        assert_eq!(s, 200);
        assert!(b.get("refresh_token").is_none());
    }
    assert_eq!(h.sandbox.count("refresh_grant"), 3);
    assert_eq!(h.sandbox.count("refresh_token_reuse"), 0);
}

#[tokio::test]
async fn introspection_tells_active_tokens_to_their_own_client_only() {
    let h = Harness::strict().await;
    let t = h.login("int@example.com", SCOPES).await;
    let now = h.sandbox.now();
    let a = h.introspect(&t.access).await;
    assert_eq!(a["active"], true);
    assert_eq!(a["client_id"], h.ep().client_id);
    assert_eq!(a["token_type"], "Bearer");
    assert_eq!(a["sub"], h.userinfo(&t.access).await.1["sub"]);
    let scopes: BTreeSet<&str> = a["scope"].as_str().unwrap().split(' ').collect();
    assert!(scopes.contains("https://mail.google.com/") && scopes.contains("openid"));
    let exp = a["exp"].as_i64().unwrap();
    assert!((now + 3590..=now + 3600).contains(&exp), "{exp} vs {now}");
    let r = h.introspect(t.refresh.as_deref().unwrap()).await;
    assert_eq!(
        (r["active"].as_bool(), r["token_type"].as_str()),
        (Some(true), Some("refresh_token"))
    );
    assert_eq!(h.introspect("never-issued").await, json!({"active": false}));

    // Another client learns nothing; no authentication gets 401.
    let (id, secret) = h.sandbox.register_client(false);
    let url = h.sandbox.introspection_endpoint();
    let other = h
        .post_authenticated(
            &url,
            ClientAuth::Post(&id, &secret),
            &[("token", &t.access)],
        )
        .await;
    assert_eq!(
        (other.status, other.json()),
        (200, json!({"active": false}))
    );
    let anonymous = h
        .post_authenticated(&url, ClientAuth::None, &[("token", &t.access)])
        .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["error"], "invalid_client");
    assert_eq!(h.sandbox.count("introspect_unauthenticated"), 1);

    // The access token expires on the sandbox clock.
    h.sandbox.advance_clock(Duration::from_secs(3600));
    assert_eq!(h.introspect(&t.access).await, json!({"active": false}));
}

fn authorize<'a>(h: &'a Harness, challenge: &'a str, deny: bool) -> Authorize<'a> {
    Authorize {
        client_id: &h.ep().client_id,
        scope: SCOPES,
        login_hint: Some("iss@example.com"),
        prompt: None,
        untick: &[],
        deny,
        challenge,
    }
}

#[tokio::test]
async fn every_redirect_carries_iss_as_rfc_9207_asks() {
    let h = Harness::strict().await;
    let (_, challenge) = pkce();
    let allowed = h.consent(&authorize(&h, &challenge, false)).await;
    assert_eq!(
        allowed.param("iss").as_deref(),
        Some(h.ep().issuer.as_str())
    );
    assert!(allowed.param("code").is_some());
    let denied = h.consent(&authorize(&h, &challenge, true)).await;
    assert_eq!(denied.param("error").as_deref(), Some("access_denied"));
    assert_eq!(denied.param("state").as_deref(), Some("st-123"));
    assert_eq!(denied.param("iss").as_deref(), Some(h.ep().issuer.as_str()));

    let url = h.auth_url(&[
        ("client_id", &h.ep().client_id),
        ("redirect_uri", common::REDIRECT),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("prompt", "none"),
    ]);
    let resp = h.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let q: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert!(q.contains(&("error".into(), "interaction_required".into())));
    assert!(q.contains(&("iss".into(), h.ep().issuer.clone())));

    // Google sends iss only with a code.
    let g = Harness::start().await;
    let denied = g.consent(&authorize(&g, &challenge, true)).await;
    assert_eq!(denied.param("iss"), None);
}

#[tokio::test]
async fn access_tokens_live_as_long_as_configured() {
    let h = Harness::start_with(SandboxConfig {
        profile: Profile::Strict,
        access_token_lifetime: Some(Duration::from_secs(60)),
        ..SandboxConfig::default()
    })
    .await;
    let t = h.login("short@example.com", SCOPES).await;
    assert_eq!(t.body["expires_in"], 60);
    let claims: Value = h
        .id_token_claims(t.body["id_token"].as_str().unwrap())
        .await;
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() >= 60);
    h.sandbox.advance_clock(Duration::from_secs(61));
    assert_eq!(h.userinfo(&t.access).await.0, 401, "expired after 60 s");
    let (s, b) = h.refresh(t.refresh.as_deref().unwrap()).await;
    assert_eq!((s, b["expires_in"].as_i64()), (200, Some(60)));

    h.sandbox
        .set_access_token_lifetime(Duration::from_secs(300));
    let (s, b) = h.refresh(b["refresh_token"].as_str().unwrap()).await;
    assert_eq!((s, b["expires_in"].as_i64()), (200, Some(300)));
}
