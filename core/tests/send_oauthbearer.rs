//! Signing in with OAUTHBEARER (RFC 7628) where the server offers it and XOAUTH2 where it
//! does not, against the sandbox over real TCP and TLS with real tokens. Which mechanism a
//! session used is read from the sandbox's per-mechanism counters.

use std::time::{Duration, Instant};

use postern_core::mail::{compose, Draft, Mailer, SmtpEndpoint};
use postern_core::outbox::OutboxState;
use postern_core::provider::SmtpSecurity as Security;
use postern_core::{Error, Secret};
use postern_sandbox::Sandbox;
use postern_testkit::send::*;
const ANN: &str = "ann@example.com";
const WAIT: Duration = Duration::from_secs(30);

fn draft(subject: &str) -> Draft {
    Draft {
        from: format!("Ann <{ANN}>"),
        to: "bob@example.org".into(),
        cc: String::new(),
        bcc: String::new(),
        subject: subject.into(),
        text: "Hello".into(),
        html: None,
        attachments: vec![],
    }
}

fn counts(sb: &Sandbox) -> [u64; 4] {
    [
        sb.count("smtp.auth_ok.oauthbearer"),
        sb.count("smtp.auth_ok.xoauth2"),
        sb.count("smtp.auth_failed.oauthbearer"),
        sb.count("smtp.auth_failed.xoauth2"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_sign_in_with_oauthbearer_on_465_and_587() {
    let sb = sandbox().await;
    for security in [Security::ImplicitTls, Security::StartTls] {
        sb.reset_counts();
        let hooks = SandboxHooks::new(sb.endpoints(), security);
        hooks.add(ANN, grant(sb.endpoints(), ANN).await);
        let dir = tempfile::tempdir().unwrap();
        let outbox = outbox(dir.path());
        for i in 0..3 {
            let m = compose(&draft(&format!("{security:?} {i}")), 35_882_577).unwrap();
            let item = outbox.send_and_wait(&*hooks, &m, WAIT).await.unwrap();
            assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
        }
        assert_eq!(
            counts(&sb),
            [1, 0, 0, 0],
            "{security:?}: one OAUTHBEARER sign-in, reused for three sends"
        );
        assert_eq!(sb.count("smtp.messages"), 3);
    }
    assert!(sb.mailbox().iter().all(|m| m.account == ANN));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_is_used_when_oauthbearer_is_not_offered() {
    let sb = sandbox().await;
    sb.set_oauthbearer_offered(false);
    for security in [Security::ImplicitTls, Security::StartTls] {
        sb.reset_counts();
        let hooks = SandboxHooks::new(sb.endpoints(), security);
        hooks.add(ANN, grant(sb.endpoints(), ANN).await);
        let dir = tempfile::tempdir().unwrap();
        let outbox = outbox(dir.path());
        let m = compose(&draft("plain XOAUTH2"), 35_882_577).unwrap();
        let item = outbox.send_and_wait(&*hooks, &m, WAIT).await.unwrap();
        assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
        assert_eq!(counts(&sb), [0, 1, 0, 0], "{security:?}");
    }
    assert_eq!(sb.mailbox().len(), 2);
    sb.stop().await;
}

/// An expired token is refused with the error challenge; the client answers it, refreshes
/// once and sends on a new connection, all within one attempt.
async fn expired_token_is_refreshed_once(oauthbearer: bool) {
    let sb = sandbox().await;
    sb.set_oauthbearer_offered(oauthbearer);
    let hooks = SandboxHooks::new(sb.endpoints(), Security::ImplicitTls);
    hooks.add(ANN, grant(sb.endpoints(), ANN).await);
    sb.advance_clock(Duration::from_secs(3700));
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    let m = compose(&draft("after an hour"), 35_882_577).unwrap();
    let item = outbox.send_and_wait(&*hooks, &m, WAIT).await.unwrap();
    assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
    assert_eq!(item.attempts, 1);
    assert_eq!(*hooks.refreshes.lock().unwrap(), 1);
    assert_eq!(sb.count("token.refresh_token"), 1);
    let expected = if oauthbearer {
        [1, 0, 1, 0]
    } else {
        [0, 1, 0, 1]
    };
    assert_eq!(counts(&sb), expected);
    assert_eq!(sb.mailbox().len(), 1);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_once_with_oauthbearer() {
    expired_token_is_refreshed_once(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_once_with_xoauth2() {
    expired_token_is_refreshed_once(false).await;
}

/// A token the server refuses: the mailer answers the challenge (`AQ==` or an empty line),
/// gets Gmail's 535 5.7.8 and reports it in plain words, quickly and without the token.
async fn a_refused_token_is_a_clean_535(oauthbearer: bool) {
    let sb = sandbox().await;
    sb.set_oauthbearer_offered(oauthbearer);
    let ep = sb.endpoints();
    let mailer = Mailer::new(1);
    for (security, port) in [
        (Security::ImplicitTls, ep.smtp_tls_port),
        (Security::StartTls, ep.smtp_starttls_port),
    ] {
        let endpoint = SmtpEndpoint {
            host: ep.smtp_host.clone(),
            port,
            security,
            extra_ca_pem: Some(ep.ca_cert.clone()),
        };
        let token = Secret::new("ya29.not-a-token");
        let rcpt = ["bob@example.org".to_string()];
        let started = Instant::now();
        let sent = mailer.send(&endpoint, ANN, &token, &rcpt, b"Subject: x\r\n\r\nx\r\n");
        let e = tokio::time::timeout(Duration::from_secs(10), sent)
            .await
            .expect("the refusal comes back without a hang")
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        let Error::SmtpAuthRejected { code, text } = &e else {
            panic!("{security:?}: {e:?}");
        };
        // 535 arrives only after the client answered the 334 challenge.
        assert_eq!(*code, 535, "{text}");
        assert!(text.contains("5.7.8"), "{text}");
        let mech = if oauthbearer {
            "OAUTHBEARER refused the token: status invalid_token"
        } else {
            "XOAUTH2 refused the token: status 400"
        };
        assert!(text.contains(mech), "{text}");
        let shown = format!("{e} {e:?} {:?}", e.explain());
        assert!(!shown.contains("not-a-live-token"), "{shown}");
    }
    let expected = if oauthbearer {
        [0, 0, 2, 0]
    } else {
        [0, 0, 0, 2]
    };
    assert_eq!(counts(&sb), expected);
    assert_eq!(sb.count("smtp.messages"), 0);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_oauthbearer_token_answers_the_challenge_and_gets_535() {
    a_refused_token_is_a_clean_535(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_xoauth2_token_answers_the_challenge_and_gets_535() {
    a_refused_token_is_a_clean_535(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_again_after_the_refresh_fails_with_the_reason() {
    let sb = sandbox().await;
    let hooks = SandboxHooks::new(sb.endpoints(), Security::StartTls);
    // Tokens of another account: live, but not Ann's, so every sign-in as Ann is refused.
    hooks.add(ANN, grant(sb.endpoints(), "zed@example.com").await);
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    let m = compose(&draft("not mine"), 35_882_577).unwrap();
    let item = outbox.send_and_wait(&*hooks, &m, WAIT).await.unwrap();
    assert_eq!(item.state, OutboxState::Failed);
    assert_eq!(item.attempts, 1);
    assert_eq!(*hooks.refreshes.lock().unwrap(), 1, "one refresh, not more");
    assert_eq!(counts(&sb), [0, 0, 2, 0], "two OAUTHBEARER tries");
    let err = item.last_error.unwrap();
    assert_eq!(err.kind, "smtp_auth_rejected");
    assert!(err.message.contains("535"), "{}", err.message);
    let token = hooks.tokens.lock().unwrap()[ANN].access.clone();
    assert!(!err.message.contains(&token) && !err.fix.contains(&token));
    assert!(sb.mailbox().is_empty());
    sb.stop().await;
}
