//! `postern sandbox` prints its admin token in its JSON line, and its admin API answers only
//! requests that carry it and are addressed to loopback; the token stays off the disk.

use serde_json::{json, Value};

use crate::common::cli_sandbox::{assert_no_file_contains, Sandbox};

#[tokio::test(flavor = "multi_thread")]
async fn postern_sandbox_prints_its_admin_token_and_its_admin_api_needs_it() {
    let sandbox = Sandbox::start("admin");
    let token = sandbox.endpoint("admin_token");
    assert!(token.len() >= 43, "at least 256 bits, base64url: {token:?}");
    let admin = sandbox.endpoint("admin_endpoint");
    let advance = format!("{admin}/clock/advance");
    let a_year = json!({"seconds": 365 * 86_400});
    let http = reqwest::Client::new();

    let without = http.post(&advance).json(&a_year).send().await.unwrap();
    assert_eq!(without.status(), 401);
    let body: Value = without.json().await.unwrap();
    let why = body["error_description"].as_str().unwrap_or_default();
    assert!(
        why.contains("`admin_token`"),
        "says where the token is: {body}"
    );
    let wrong = http
        .post(&advance)
        .bearer_auth("0".repeat(43))
        .json(&a_year)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let rebound = http
        .post(&advance)
        .header("host", "evil.example")
        .bearer_auth(&token)
        .json(&a_year)
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421);
    assert_eq!(
        sandbox.admin_get("clock").await["offset_seconds"],
        0,
        "no refused request moved the clock"
    );

    sandbox
        .admin_post("clock/advance", json!({"seconds": 60}))
        .await;
    assert_eq!(sandbox.admin_get("clock").await["offset_seconds"], 60);

    // The endpoints file the other commands read names the admin API, not its token.
    let file = sandbox
        .dirs
        .data()
        .join("sandbox-server")
        .join("endpoints.json");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains(&admin), "{saved}");
    assert!(!saved.contains("admin_token"), "{saved}");
    assert_no_file_contains(sandbox.dirs.root.path(), &token);
}
