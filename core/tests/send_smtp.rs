//! The outbox and SMTP against the sandbox over real TCP and TLS, with real tokens from the
//! sandbox's consent page and token endpoint.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use postern_core::mail::{compose, Attachment, Draft};
use postern_core::outbox::{OutboxHooks, OutboxState};
use postern_core::provider::SmtpSecurity as Security;
use postern_testkit::send::*;
const ANN: &str = "ann@example.com";
const WAIT: Duration = Duration::from_secs(30);

fn draft(subject: &str) -> Draft {
    Draft {
        from: format!("Ann <{ANN}>"),
        to: "bob@example.org, Carl <carl@example.net>".into(),
        cc: "dora@example.com".into(),
        bcc: "eve@example.com".into(),
        subject: subject.into(),
        text: "Hello from Postern".into(),
        html: Some("<p>Hello from <b>Postern</b></p>".into()),
        attachments: vec![],
    }
}

async fn send_one_over(security: Security) {
    let sb = sandbox().await;
    let hooks = SandboxHooks::new(sb.endpoints(), security);
    hooks.add(ANN, grant(sb.endpoints(), ANN).await);
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());

    let pdf: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let mut d = draft("Quarterly report");
    d.attachments = vec![
        Attachment {
            name: "report.pdf".into(),
            content_type: String::new(),
            data_base64: STANDARD.encode(&pdf),
            ..Default::default()
        },
        Attachment {
            name: "notes.txt".into(),
            content_type: "text/plain".into(),
            data_base64: STANDARD.encode("line one\r\nline two\r\n"),
            ..Default::default()
        },
    ];
    let message = compose(&d, 35_882_577).unwrap();
    let item = outbox.send_and_wait(&*hooks, &message, WAIT).await.unwrap();
    assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
    assert_eq!(item.attempts, 1);
    assert!(item.sent_at.is_some());

    let mailbox = sb.mailbox();
    assert_eq!(mailbox.len(), 1);
    let got = &mailbox[0];
    assert_eq!(got.account, ANN);
    assert_eq!(got.mail_from, ANN);
    assert_eq!(
        got.recipients,
        [
            "bob@example.org",
            "carl@example.net",
            "dora@example.com",
            "eve@example.com"
        ]
    );
    assert_eq!(got.subject.as_deref(), Some("Quarterly report"));
    assert_eq!(got.message_id.as_deref(), Some(item.message_id.as_str()));
    assert_eq!(
        got.text_body.as_deref().map(str::trim),
        Some("Hello from Postern")
    );
    assert!(got.html_body.as_deref().unwrap().contains("<b>Postern</b>"));
    assert!(got
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("Date")));
    assert!(
        !got.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Bcc")),
        "Bcc must not reach the server as a header"
    );
    assert_eq!(got.attachments.len(), 2);
    assert_eq!(got.attachments[0].name, "report.pdf");
    assert_eq!(got.attachments[0].content_type, "application/pdf");
    assert_eq!(got.attachments[0].data, pdf);
    assert_eq!(got.attachments[1].content_type, "text/plain");
    assert_eq!(got.attachments[1].data, b"line one\r\nline two\r\n");

    let activity = hooks.activity.lock().unwrap().clone();
    let sent = activity
        .iter()
        .find(|(k, _, ok)| k == "send" && *ok)
        .unwrap();
    assert!(sent.1.contains("4 recipient(s)"), "{}", sent.1);
    assert!(
        !sent.1.contains("Hello from"),
        "no body in the activity log"
    );
    let token = hooks.tokens.lock().unwrap()[ANN].access.clone();
    assert!(activity.iter().all(|(_, s, _)| !s.contains(&token)));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_with_attachments_over_implicit_tls_465() {
    send_one_over(Security::ImplicitTls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_with_attachments_over_starttls_587() {
    send_one_over(Security::StartTls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pooled_transport_is_reused_across_sends() {
    let sb = sandbox().await;
    let hooks = SandboxHooks::new(sb.endpoints(), Security::ImplicitTls);
    hooks.add(ANN, grant(sb.endpoints(), ANN).await);
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    for i in 0..5 {
        let m = compose(&draft(&format!("n{i}")), 35_882_577).unwrap();
        let item = outbox.send_and_wait(&*hooks, &m, WAIT).await.unwrap();
        assert_eq!(item.state, OutboxState::Sent);
    }
    assert_eq!(sb.mailbox().len(), 5);
    let connections = sb.count("smtp.connections");
    assert!(connections <= 1, "5 sends used {connections} connections");
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_from_an_untrusted_ca_is_refused() {
    let sb = sandbox().await;
    let other = sandbox().await;
    let ca_of_other = other.endpoints().ca_cert.clone();
    let cases = [
        (Security::ImplicitTls, None),
        (Security::ImplicitTls, Some(ca_of_other.clone())),
        (Security::StartTls, None),
        (Security::StartTls, Some(ca_of_other)),
    ];
    for (security, ca) in cases {
        let mut h = SandboxHooks::new(sb.endpoints(), security);
        Arc::get_mut(&mut h).unwrap().ca = ca;
        h.add(ANN, grant(sb.endpoints(), ANN).await);
        let dir = tempfile::tempdir().unwrap();
        let outbox = outbox(dir.path());
        let m = compose(&draft("never"), 35_882_577).unwrap();
        let item = outbox.send_and_wait(&*h, &m, WAIT).await.unwrap();
        assert_eq!(item.state, OutboxState::Failed);
        let err = item.last_error.unwrap();
        assert_eq!(err.kind, "tls", "{security:?}: {err:?}");
        assert_eq!(item.attempts, 1, "a refused certificate is not retried");
        assert!(err
            .fix
            .contains("never sends over an unverified connection"));
    }
    assert!(sb.mailbox().is_empty());
    sb.stop().await;
    other.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_in_data_is_retried_and_delivered_once() {
    let sb = sandbox().await;
    let hooks = SandboxHooks::new(sb.endpoints(), Security::ImplicitTls);
    hooks.add(ANN, grant(sb.endpoints(), ANN).await);
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    sb.fault_smtp_drop_in_data(1);
    let m = compose(&draft("dropped once"), 35_882_577).unwrap();
    let item = outbox.send_and_wait(&*hooks, &m, WAIT).await.unwrap();
    assert_eq!(item.state, OutboxState::Sent);
    assert_eq!(item.attempts, 2);
    let copies = sb
        .mailbox()
        .iter()
        .filter(|s| s.message_id.as_deref() == Some(m.message_id.as_str()))
        .count();
    assert_eq!(copies, 1);
    let changes = hooks.changes.lock().unwrap().clone();
    assert!(changes.iter().any(|c| c.state == OutboxState::Queued
        && c.last_error
            .as_ref()
            .is_some_and(|e| e.kind == "smtp_connection")));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_421_is_retried_later_by_the_worker() {
    let sb = sandbox().await;
    let hooks = SandboxHooks::new(sb.endpoints(), Security::StartTls);
    hooks.add(ANN, grant(sb.endpoints(), ANN).await);
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    outbox.start_worker(hooks.clone() as Arc<dyn OutboxHooks>);
    sb.fault_smtp_421(1);
    let m = compose(&draft("try again later"), 35_882_577).unwrap();
    let item = outbox.submit(&*hooks, &m).await.unwrap();
    assert_eq!(item.state, OutboxState::Queued);
    eventually(30, "the message to be sent", || {
        outbox.get(item.id).unwrap().state == OutboxState::Sent
    })
    .await;
    let changes = hooks.changes.lock().unwrap().clone();
    let retry = changes
        .iter()
        .find(|c| c.state == OutboxState::Queued && c.last_error.is_some())
        .expect("a queued-again change with the reason");
    let err = retry.last_error.as_ref().unwrap();
    assert_eq!(err.kind, "smtp_temporary");
    assert!(err.message.contains("421"), "{}", err.message);
    assert_eq!(outbox.get(item.id).unwrap().attempts, 2);
    assert_eq!(sb.mailbox().len(), 1);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_keeps_the_message_waiting_until_reauthorization() {
    let sb = sandbox().await;
    let hooks = SandboxHooks::new(sb.endpoints(), Security::ImplicitTls);
    hooks.add(ANN, grant(sb.endpoints(), ANN).await);
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    outbox.start_worker(hooks.clone() as Arc<dyn OutboxHooks>);
    sb.revoke_grants(ANN);
    let m = compose(&draft("kept"), 35_882_577).unwrap();
    let item = outbox.submit(&*hooks, &m).await.unwrap();
    eventually(30, "the message to wait", || {
        outbox.get(item.id).unwrap().state == OutboxState::Waiting
    })
    .await;
    let waiting = outbox.get(item.id).unwrap();
    assert_eq!(waiting.last_error.unwrap().kind, "invalid_grant");
    assert!(sb.mailbox().is_empty());

    // Authorize again; the account turning valid requeues its waiting mail.
    hooks.add(ANN, grant(sb.endpoints(), ANN).await);
    assert_eq!(outbox.account_authorized(&*hooks, ANN).unwrap(), 1);
    eventually(30, "the message to be sent", || {
        outbox.get(item.id).unwrap().state == OutboxState::Sent
    })
    .await;
    assert_eq!(sb.mailbox().len(), 1);
    assert_eq!(
        sb.mailbox()[0].message_id.as_deref(),
        Some(m.message_id.as_str())
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_addresses_and_oversize_messages_queue_nothing() {
    let sb = sandbox().await;
    let mut h = SandboxHooks::new(sb.endpoints(), Security::ImplicitTls);
    Arc::get_mut(&mut h).unwrap().max_message_bytes = 50_000;
    h.add(ANN, grant(sb.endpoints(), ANN).await);
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());

    let mut d = draft("bad");
    d.to = "bob@example.org, bob@".into();
    let e = compose(&d, 50_000).unwrap_err();
    assert!(e.to_string().contains("“bob@”"), "{e}");

    // Composed against Gmail's limit but the account's provider takes less: refused at submit.
    let mut d = draft("big");
    d.attachments = vec![Attachment {
        name: "big.bin".into(),
        content_type: String::new(),
        data_base64: STANDARD.encode(vec![9u8; 60_000]),
        ..Default::default()
    }];
    let m = compose(&d, 35_882_577).unwrap();
    let e = outbox.submit(&*h, &m).await.unwrap_err();
    assert_eq!(e.code(), "message_too_large");
    assert!(e.to_string().contains("limit of 50000"), "{e}");
    assert!(outbox.list().unwrap().is_empty());
    assert!(sb.mailbox().is_empty());
    sb.stop().await;
}

/// Appends lines of `x` until `buf` is `len` bytes long, the last line ending exactly there.
fn fill_to(buf: &mut Vec<u8>, len: usize) {
    while len - buf.len() > 100 {
        buf.extend_from_slice(&[b'x'; 76]);
        buf.extend_from_slice(b"\r\n");
    }
    let rest = len - buf.len();
    buf.extend(std::iter::repeat_n(b'x', rest - 2));
    buf.extend_from_slice(b"\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_starting_with_a_dot_arrive_intact_across_the_pieces_the_message_is_sent_in() {
    let sb = sandbox().await;
    let hooks = SandboxHooks::new(sb.endpoints(), Security::ImplicitTls);
    hooks.add(ANN, grant(sb.endpoints(), ANN).await);
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());

    // The message goes to the server in 64 KiB pieces: a dot line starts exactly at the first
    // boundary, and a CRLF is split by the second, followed by a line of one dot (which,
    // unstuffed, would end the DATA early).
    let mut raw = format!(
        "From: {ANN}\r\nTo: bob@example.org\r\nSubject: dots\r\n\
         Message-ID: <dots@example.com>\r\nDate: Mon, 30 Nov 2026 22:00:00 +0000\r\n\r\n"
    )
    .into_bytes();
    fill_to(&mut raw, 65_536);
    raw.extend_from_slice(b".a line that starts with a dot\r\n");
    fill_to(&mut raw, 131_060);
    raw.extend_from_slice(&[b'y'; 11]);
    assert_eq!(raw.len(), 131_071);
    raw.extend_from_slice(b"\r\n.\r\n..two dots\r\nthe end\r\n");
    let m = postern_core::mail::parse_raw(ANN, &raw, 35_882_577).unwrap();
    let item = outbox.send_and_wait(&*hooks, &m, WAIT).await.unwrap();
    assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
    let got = sb.mailbox();
    assert_eq!(got.len(), 1);
    // lettre ends DATA with "\r\n.\r\n" after the message's own last CRLF (as it always
    // did), so the stored copy has one empty line more at its end.
    let sent = [m.raw.as_slice(), b"\r\n"].concat();
    assert!(
        got[0].raw == sent,
        "the message arrived changed: {} bytes sent, {} received, first difference at {:?}",
        sent.len(),
        got[0].raw.len(),
        got[0].raw.iter().zip(&sent).position(|(a, b)| a != b)
    );
    sb.stop().await;
}
