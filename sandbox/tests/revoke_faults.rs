//! Revocation faults, in both profiles: a revocation endpoint that cannot be reached (the
//! connection is reset, no HTTP answer) and one that answers 503 with Retry-After. Neither
//! revokes anything; once the fault is gone, revocation works.

mod common;

use common::{ClientAuth, Harness, SCOPES};
use postern_sandbox::{Profile, SandboxConfig};
use serde_json::json;

async fn harness(profile: Profile) -> Harness {
    Harness::start_with(SandboxConfig {
        profile,
        ..SandboxConfig::default()
    })
    .await
}

/// POST /revoke as a client of this profile would, returning the transport error if any.
async fn try_revoke(h: &Harness, token: &str) -> Result<reqwest::Response, reqwest::Error> {
    let (id, secret) = h.me();
    let mut form = vec![("token", token.to_owned())];
    if h.sandbox.profile() == Profile::Strict {
        form.push(("client_id", id));
        form.push(("client_secret", secret));
    }
    h.http
        .post(&h.ep().revocation_endpoint)
        .form(&form)
        .send()
        .await
}

#[tokio::test]
async fn an_unreachable_revocation_endpoint_resets_the_connection_and_revokes_nothing() {
    for profile in [Profile::Google, Profile::Strict] {
        let h = harness(profile).await;
        let t = h.login("off@example.com", SCOPES).await;
        // Warm the client's connection pool, so the cut hits a reused connection too;
        // keep the refresh token the strict profile rotates.
        let (s, b) = h.refresh(t.refresh.as_deref().unwrap()).await;
        assert_eq!(s, 200);
        let refresh = b["refresh_token"]
            .as_str()
            .map_or(t.refresh.clone().unwrap(), str::to_owned);
        h.sandbox.fault_revoke_unreachable(true);
        for _ in 0..2 {
            let err = try_revoke(&h, &t.access)
                .await
                .expect_err("no HTTP answer while unreachable");
            assert!(
                !err.is_status(),
                "{profile}: a transport error, not a status: {err}"
            );
        }
        assert_eq!(h.sandbox.count("revoke.unreachable"), 2, "{profile}");
        assert_eq!(h.sandbox.live_grants("off@example.com"), 1, "{profile}");
        assert_eq!(h.introspect(&t.access).await["active"], true, "{profile}");
        assert_eq!(
            h.refresh(&refresh).await.0,
            200,
            "{profile}: the rest of the provider still answers"
        );

        h.sandbox.fault_revoke_unreachable(false);
        let resp = try_revoke(&h, &t.access).await.expect("reachable again");
        assert_eq!(resp.status(), 200, "{profile}");
        assert_eq!(h.sandbox.live_grants("off@example.com"), 0, "{profile}");
        assert_eq!(h.sandbox.count("revoke.revoked"), 1, "{profile}");
    }
}

#[tokio::test]
async fn a_503_asks_to_retry_after_one_second_and_revokes_nothing() {
    for profile in [Profile::Google, Profile::Strict] {
        let h = harness(profile).await;
        let t = h.login("busy@example.com", SCOPES).await;
        h.sandbox.fault_revoke_503(2);
        for _ in 0..2 {
            let resp = try_revoke(&h, &t.access).await.unwrap();
            assert_eq!(resp.status(), 503, "{profile}");
            assert_eq!(resp.headers()["retry-after"], "1", "{profile}");
            let body: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(body["error"], "temporarily_unavailable");
            assert_eq!(h.sandbox.live_grants("busy@example.com"), 1, "{profile}");
        }
        let resp = try_revoke(&h, &t.access).await.unwrap();
        assert_eq!(resp.status(), 200, "{profile}: the third attempt");
        assert_eq!(h.sandbox.live_grants("busy@example.com"), 0, "{profile}");
        assert_eq!(h.sandbox.count("revoke"), 3, "{profile}");
        assert_eq!(h.sandbox.count("revoke.503"), 2, "{profile}");
    }
}

#[tokio::test]
async fn the_admin_api_switches_the_revocation_faults() {
    let h = Harness::strict().await;
    let (id, secret) = h.me();
    let t = h.login("adm@example.com", SCOPES).await;
    h.admin("/faults/revoke-unreachable", json!({"on": true}))
        .await;
    assert!(try_revoke(&h, &t.access).await.is_err());
    h.admin("/faults/revoke-unreachable", json!({"on": false}))
        .await;
    h.admin("/faults/revoke-503", json!({"times": 1})).await;
    let a = h.revoke(&t.access, ClientAuth::Basic(&id, &secret)).await;
    assert_eq!(a.status, 503);
    assert_eq!(h.sandbox.live_grants("adm@example.com"), 1);
    let a = h.revoke(&t.access, ClientAuth::Basic(&id, &secret)).await;
    assert_eq!(a.status, 200);
    let counts: serde_json::Value = h.admin_get("/counts").await.json().await.unwrap();
    assert_eq!(counts["revoke"], 3);
    assert_eq!(counts["revoke.unreachable"], 1);
    assert_eq!(counts["revoke.503"], 1);
    assert_eq!(counts["revoke.revoked"], 1);
}
