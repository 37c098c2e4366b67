//! The strict profile's revocation endpoint (RFC 7009): client authentication is required,
//! a refused request revokes nothing, another client's token is refused, a dead token gets
//! 200. Checked with an independent client and the sandbox's own truth (live grants,
//! introspection, counts).

mod common;

use common::{ClientAuth, Harness, SCOPES};

fn dead(status: u16, body: &serde_json::Value) -> bool {
    status == 400
        && body["error"] == "invalid_grant"
        && body["error_description"] == "Token has been expired or revoked."
}

#[tokio::test]
async fn revocation_without_valid_client_authentication_is_401_and_revokes_nothing() {
    let h = Harness::strict().await;
    let (id, secret) = h.me();
    let t = h.login("ann@example.com", SCOPES).await;
    let refresh = t.refresh.clone().unwrap();
    h.sandbox.reset_counts();

    let refusals = [
        ClientAuth::None,
        ClientAuth::Post(&id, "GOCSPX-wrong"),
        ClientAuth::Basic(&id, "GOCSPX-wrong"),
        ClientAuth::Basic("123-unknown.apps.googleusercontent.com", &secret),
    ];
    for auth in refusals {
        for token in [t.access.as_str(), refresh.as_str()] {
            let a = h.revoke(token, auth).await;
            assert_eq!(a.status, 401, "{auth:?}: {}", a.text);
            assert_eq!(a.json()["error"], "invalid_client", "{auth:?}");
            let challenge = a.headers["www-authenticate"].to_str().unwrap();
            assert!(challenge.starts_with("Basic"), "{challenge}");
        }
    }
    assert_eq!(h.sandbox.count("revoke"), 8);
    assert_eq!(h.sandbox.count("revoke_unauthenticated"), 8);
    assert_eq!(h.sandbox.count("revoke.revoked"), 0);

    // Nothing was revoked: both tokens still work.
    assert_eq!(h.sandbox.live_grants("ann@example.com"), 1);
    assert_eq!(h.introspect(&t.access).await["active"], true);
    assert_eq!(h.introspect(&refresh).await["active"], true);
    assert_eq!(h.userinfo(&t.access).await.0, 200);
}

#[tokio::test]
async fn two_authentication_methods_at_once_are_refused_as_invalid_request() {
    let h = Harness::strict().await;
    let (id, secret) = h.me();
    let t = h.login("two@example.com", SCOPES).await;
    let url = h.ep().revocation_endpoint.clone();
    let a = h
        .post_authenticated(
            &url,
            ClientAuth::Basic(&id, &secret),
            &[("token", &t.access), ("client_secret", &secret)],
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.json()["error"], "invalid_request");
    assert_eq!(h.sandbox.count("revoke_unauthenticated"), 1);
    assert_eq!(h.sandbox.live_grants("two@example.com"), 1);
}

#[tokio::test]
async fn basic_and_post_authentication_each_revoke_the_whole_grant() {
    let h = Harness::strict().await;
    let (id, secret) = h.me();

    // client_secret_basic with the access token: the refresh token dies too.
    let t = h.login("bob@example.com", SCOPES).await;
    let a = h.revoke(&t.access, ClientAuth::Basic(&id, &secret)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let (s, b) = h.refresh(t.refresh.as_deref().unwrap()).await;
    assert!(dead(s, &b), "{s} {b}");
    assert_eq!(
        h.introspect(&t.access).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(h.sandbox.live_grants("bob@example.com"), 0);

    // client_secret_post with the refresh token: the access token dies too.
    let t = h.login("bob@example.com", SCOPES).await;
    assert_eq!(h.sandbox.live_grants("bob@example.com"), 1);
    let a = h
        .revoke(
            t.refresh.as_deref().unwrap(),
            ClientAuth::Post(&id, &secret),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(h.userinfo(&t.access).await.0, 401);
    assert_eq!(h.introspect(&t.access).await["active"], false);
    assert_eq!(h.sandbox.live_grants("bob@example.com"), 0);
    assert_eq!(h.sandbox.count("revoke.revoked"), 2);
    assert_eq!(h.sandbox.count("revoke_unauthenticated"), 0);
}

#[tokio::test]
async fn a_token_of_another_client_is_refused_and_stays_alive() {
    let h = Harness::strict().await;
    let t = h.login("cat@example.com", SCOPES).await;
    let (other_id, other_secret) = h.sandbox.register_client(false);
    for token in [t.access.as_str(), t.refresh.as_deref().unwrap()] {
        let a = h
            .revoke(token, ClientAuth::Basic(&other_id, &other_secret))
            .await;
        assert_eq!(a.status, 400, "{}", a.text);
        assert_eq!(a.json()["error"], "unauthorized_client");
    }
    assert_eq!(h.sandbox.live_grants("cat@example.com"), 1);
    assert_eq!(h.introspect(&t.access).await["active"], true);
    assert_eq!(h.refresh(t.refresh.as_deref().unwrap()).await.0, 200);
}

#[tokio::test]
async fn unknown_expired_and_already_revoked_tokens_get_200() {
    let h = Harness::strict().await;
    let (id, secret) = h.me();
    let auth = ClientAuth::Basic(&id, &secret);
    let a = h.revoke("never-issued", auth).await;
    assert_eq!((a.status, a.text.as_str()), (200, ""));

    let t = h.login("dan@example.com", SCOPES).await;
    h.sandbox
        .advance_clock(std::time::Duration::from_secs(3600));
    let a = h.revoke(&t.access, auth).await;
    assert_eq!(a.status, 200, "an expired access token: {}", a.text);
    assert_eq!(
        h.sandbox.live_grants("dan@example.com"),
        1,
        "an expired access token revokes nothing"
    );

    let refresh = t.refresh.unwrap();
    assert_eq!(h.revoke(&refresh, auth).await.status, 200);
    assert_eq!(h.sandbox.live_grants("dan@example.com"), 0);
    let again = h.revoke(&refresh, auth).await;
    assert_eq!(again.status, 200, "already revoked: {}", again.text);
    assert_eq!(h.sandbox.count("revoke.revoked"), 1);
}

#[tokio::test]
async fn the_token_must_be_in_the_body_not_the_query() {
    let h = Harness::strict().await;
    let (id, secret) = h.me();
    let t = h.login("eve@example.com", SCOPES).await;
    let resp = h
        .http
        .post(&h.ep().revocation_endpoint)
        .query(&[("token", &t.access)])
        .form(&[("client_id", &id), ("client_secret", &secret)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(h.sandbox.live_grants("eve@example.com"), 1);
}

#[tokio::test]
async fn the_google_profile_still_answers_400_invalid_token_for_a_dead_token() {
    let h = Harness::start().await;
    let t = h.login("fay@example.com", SCOPES).await;
    // Google needs no client authentication.
    assert_eq!(h.revoke(&t.access, ClientAuth::None).await.status, 200);
    assert_eq!(h.sandbox.live_grants("fay@example.com"), 0);
    for token in [
        t.access.as_str(),
        t.refresh.as_deref().unwrap(),
        "never-issued",
    ] {
        let a = h.revoke(token, ClientAuth::None).await;
        assert_eq!(a.status, 400);
        assert_eq!(
            a.json(),
            serde_json::json!({"error": "invalid_token", "error_description": "Token expired or revoked"})
        );
    }
    assert_eq!(h.sandbox.count("revoke_unauthenticated"), 0);
}
