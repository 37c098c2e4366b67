//! Short-lived tokens on the command line: a 60 s access token is reused for its first 30 s,
//! and many `postern token` processes at once (msmtp sending in parallel) share one refresh,
//! which a provider that rotates refresh tokens would otherwise punish by ending the grant.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::cli_sandbox::{text, Profile, Sandbox};
use postern_testkit::Plan as Consent;

const LIFETIME_SECS: u64 = 60;
const CALLERS: usize = 20;

#[tokio::test(flavor = "multi_thread")]
async fn a_60_second_token_is_refreshed_once_per_30_seconds_by_20_processes_at_once() {
    let sandbox = Sandbox::start_with("refresh", Profile::Strict, Some(LIFETIME_SECS));
    let me = "cli-refresh@sandbox.test";
    // The token is issued while authorize runs: its age is at most the time since it started
    // and at least the time since it returned.
    let issued_after = Instant::now();
    let out = sandbox.authorize(&Consent::allow(me)).await;
    let issued_before = Instant::now();
    assert!(out.status.success(), "authorize: {}", text(&out.stderr));
    let out = sandbox.run(&["status", me, "--json"], b"");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let left = status["secondsLeft"].as_i64().unwrap_or_default();
    assert!(
        (1..=LIFETIME_SECS as i64).contains(&left),
        "the sandbox's lifetime reached Postern: {status}"
    );

    // Within the first half of its life the token is used as it is.
    let first = token(&sandbox, me);
    assert!(
        issued_after.elapsed() < Duration::from_secs(LIFETIME_SECS / 2),
        "the check ran inside the token's first half"
    );
    assert_eq!(sandbox.count("token.refresh_token").await, 0);

    // In the second half, 20 processes ask at once: one refreshes, the others wait for it
    // (a lock per grant in the data folder) and print the same new token.
    let window = Duration::from_secs(LIFETIME_SECS / 2 + 1);
    tokio::time::sleep(window.saturating_sub(issued_before.elapsed())).await;
    sandbox
        .admin_post("counts/reset", serde_json::json!({}))
        .await;
    // The refresh happens after this, so its age is at most the time since.
    let refreshed_after = Instant::now();
    let children: Vec<_> = (0..CALLERS)
        .map(|_| {
            sandbox
                .postern(&["token", me])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let tokens: Vec<String> = outputs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "postern token: {}", text(&o.stderr));
            text(&o.stdout).trim().to_owned()
        })
        .collect();
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "every caller got the same token"
    );
    assert_ne!(tokens[0], first, "a new token, refreshed in the window");
    assert_eq!(
        sandbox.count("token.refresh_token").await,
        1,
        "one refresh request for {CALLERS} callers"
    );
    assert_eq!(sandbox.count("refresh_grant").await, 1);
    assert_eq!(sandbox.count("refresh_token_reuse").await, 0);
    assert_eq!(sandbox.live_grants(me).await, 1, "the grant survived");

    // The refreshed token is again used as it is for the first half of its life.
    let again = token(&sandbox, me);
    assert!(
        refreshed_after.elapsed() < Duration::from_secs(LIFETIME_SECS / 2),
        "the check ran inside the new token's first half"
    );
    assert_eq!(again, tokens[0]);
    assert_eq!(sandbox.count("token.refresh_token").await, 1);
}

fn token(sandbox: &Sandbox, address: &str) -> String {
    let out = sandbox.run(&["token", address], b"");
    assert!(out.status.success(), "postern token: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}
