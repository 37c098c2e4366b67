//! A server that stops answering with the connection still open must not hang a send: the
//! pooled connection's check before reuse gives up, the connection is hung up on without
//! waiting for a goodbye, and a new connection carries the message.

use std::time::Duration;

use postern_core::mail::{Mailer, SmtpEndpoint};
use postern_core::provider::SmtpSecurity as Security;
use postern_core::Secret;
use postern_testkit::send::*;
const ANN: &str = "ann@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_pooled_connection_is_replaced_instead_of_hanging_the_send() {
    let sb = sandbox().await;
    let ep = sb.endpoints();
    let token = Secret::new(grant(ep, ANN).await.access);
    let endpoint = SmtpEndpoint {
        host: ep.smtp_host.clone(),
        port: ep.smtp_tls_port,
        security: Security::ImplicitTls,
        extra_ca_pem: Some(ep.ca_cert.clone()),
    };
    let rcpt = ["bob@example.org".to_string()];
    let mailer = Mailer::new(1);
    let raw = b"Subject: one\r\n\r\nfirst\r\n";
    mailer
        .send(&endpoint, ANN, &token, &rcpt, raw)
        .await
        .unwrap();

    // Old enough to be checked with NOOP before reuse; the server hangs on that NOOP.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    sb.fault_smtp_silent(1);
    let raw = b"Subject: two\r\n\r\nsecond\r\n";
    let sent = tokio::time::timeout(
        Duration::from_secs(60),
        mailer.send(&endpoint, ANN, &token, &rcpt, raw),
    )
    .await
    .expect("a silent server does not hang the send")
    .expect("a new connection carries the message");
    assert_eq!(sent.code, 250, "{}", sent.text);
    assert_eq!(
        sb.count("smtp.connections"),
        2,
        "the silent one was replaced"
    );
    assert_eq!(sb.mailbox().len(), 2);
    sb.stop().await;
}
