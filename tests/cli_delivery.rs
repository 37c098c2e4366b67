//! Mail goes out without the window: `postern authorize` delivers what waited for it,
//! `postern outbox retry` and `flush` deliver now, and `postern daemon` delivers and survives
//! a kill -9 without sending anything twice. The real binary, a real `postern sandbox`,
//! real Chromium for consent, the harness keychain.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::cli_sandbox::{text, Sandbox as CliWorld};
use common::Group;
use postern_testkit::Plan as Consent;

/// The outbox as `postern outbox --json` prints it.
fn outbox(world: &CliWorld) -> serde_json::Value {
    let out = world.run(&["outbox", "--json"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn send(world: &CliWorld, from: &str, subject: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "send",
        "--from",
        from,
        "--to",
        "friend@example.com",
        "--subject",
        subject,
    ];
    args.extend_from_slice(extra);
    world.run(&args, b"Hello.\n")
}

async fn delivered(world: &CliWorld, subject: &str) -> usize {
    world
        .mailbox()
        .await
        .iter()
        .filter(|m| m["subject"] == subject)
        .count()
}

/// Waits until the sandbox mailbox holds `subject` (or `within` passes); returns how often.
async fn wait_delivered(world: &CliWorld, subject: &str, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let n = delivered(world, subject).await;
        if n > 0 || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_that_waited_for_a_revoked_grant_goes_out_after_authorize_exactly_once() {
    let world = CliWorld::start("deliver-authorize");
    let me = "wait@sandbox.test";
    let out = world.authorize(&Consent::allow(me)).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    world
        .admin_post("revoke", serde_json::json!({ "email": me }))
        .await;
    // The stored token is fresh, so the sign-in is refused, the refresh finds the grant dead.
    let out = send(&world, me, "waited", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(outbox(&world)[0]["state"], "waiting");

    let out = world.authorize(&Consent::allow(me)).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let progress = text(&out.stderr);
    assert!(
        progress.contains("Delivering 1 message(s) that waited"),
        "{progress}"
    );
    assert!(progress.contains("“waited”: sent"), "{progress}");
    assert_eq!(delivered(&world, "waited").await, 1);
    assert_eq!(outbox(&world)[0]["state"], "sent");
    // Nothing left to do, and nothing goes twice.
    let out = world.run(&["outbox", "flush"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(delivered(&world, "waited").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn outbox_retry_and_flush_deliver_now_and_report_the_outcome() {
    let world = CliWorld::start("deliver-retry");
    let me = "retry@sandbox.test";
    let out = world.authorize(&Consent::allow(me)).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Refused for its size: failed for good, with the reason.
    world
        .admin_post(
            "limits/max-message-size",
            serde_json::json!({ "bytes": 100 }),
        )
        .await;
    let out = send(&world, me, "too big", &[]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let id = outbox(&world)[0]["id"].as_i64().unwrap().to_string();
    world
        .admin_post(
            "limits/max-message-size",
            serde_json::json!({ "bytes": 35_882_577 }),
        )
        .await;
    let out = world.run(&["outbox", "retry", &id, "--json"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let item: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(item["state"], "sent", "retry delivers now: {item}");
    assert_eq!(delivered(&world, "too big").await, 1);

    // Queued and left (no window, no daemon): flush carries it.
    let out = send(&world, me, "later", &["--no-wait"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = world.run(&["outbox", "flush", "--json"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items[0]["state"], "sent", "{items}");
    assert_eq!(delivered(&world, "later").await, 1);
}

fn daemon(world: &CliWorld) -> Group {
    let mut cmd = world.postern(&["daemon"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Group::spawn(cmd)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_delivers_and_a_kill_mid_send_sends_nothing_twice() {
    let world = CliWorld::start_with("deliver-daemon", postern_sandbox::Profile::Google, Some(60));
    let me = "daemon@sandbox.test";
    let out = world.authorize(&Consent::allow(me)).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let first = daemon(&world);
    let out = send(&world, me, "via daemon", &["--no-wait"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        wait_delivered(&world, "via daemon", Duration::from_secs(30)).await,
        1,
        "the daemon delivered the queued message"
    );
    // A command-line send while the daemon runs: the daemon holds the delivery lease and
    // carries it; the command line waits for the outcome.
    let out = send(&world, me, "beside the daemon", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(delivered(&world, "beside the daemon").await, 1);

    // The 60 s token enters its last half: the command line's send and the daemon's
    // background work meet at one refresh, whichever process takes the grant lock first.
    tokio::time::sleep(Duration::from_secs(31)).await;
    let before = world.count("token.refresh_token").await;
    let out = send(&world, me, "after half the token's life", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        world.count("token.refresh_token").await - before,
        1,
        "one refresh for the daemon and the command line together"
    );

    // Mid-send: the token must be refreshed first, and the token endpoint is slow, so the
    // message is claimed ("sending") when the daemon is killed.
    tokio::time::sleep(Duration::from_secs(31)).await;
    world
        .admin_post(
            "faults/token-delay",
            serde_json::json!({ "milliseconds": 20_000 }),
        )
        .await;
    let out = send(&world, me, "killed mid-send", &["--no-wait"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(20);
    while outbox(&world)[0]["state"] != "sending" {
        assert!(
            Instant::now() < deadline,
            "the daemon never took the message"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // SAFETY: signalling the daemon's own process group, started by this test.
    unsafe { libc::kill(-(first.id() as i32), libc::SIGKILL) };
    drop(first);
    world
        .admin_post(
            "faults/token-delay",
            serde_json::json!({ "milliseconds": 0 }),
        )
        .await;
    assert_eq!(delivered(&world, "killed mid-send").await, 0);

    let _second = daemon(&world);
    assert_eq!(
        wait_delivered(&world, "killed mid-send", Duration::from_secs(60)).await,
        1,
        "the restarted daemon delivered it"
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        delivered(&world, "killed mid-send").await,
        1,
        "exactly once"
    );
    assert_eq!(
        delivered(&world, "via daemon").await,
        1,
        "nothing else again"
    );
}
