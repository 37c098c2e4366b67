//! Gmail's SMTP greeting, capabilities and authentication, checked byte for byte with
//! Python (a raw TLS socket and smtplib), never with Postern's own code.

mod common;

use std::time::Duration;

use common::{Harness, SCOPES};
use serde_json::Value;

const CHALLENGE: &str =
    "334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==";
const BAD_CREDENTIALS: &str = "535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials <sid> - gsmtp";
const EHLO_TLS: &str = "250-smtp.gmail.com at your service, [127.0.0.1]\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SMTPUTF8";

fn s(v: &Value, i: usize) -> &str {
    v[i].as_str()
        .unwrap_or_else(|| panic!("no reply {i} in {v}"))
}

#[tokio::test]
async fn both_ports_greet_and_advertise_like_gmail() {
    let h = Harness::start().await;
    let out = h
        .python(
            &[],
            r#"
r = Raw(implicit=True)
rec(r.greeting); rec(r.cmd('EHLO client.example'))
p = Raw(implicit=False)
rec(p.greeting); rec(p.cmd('EHLO client.example'))
rec(p.cmd('AUTH XOAUTH2 ' + xoauth2('a@example.com', 'ya29.x')))
rec(p.cmd('MAIL FROM:<a@example.com>'))
rec(p.starttls())
rec(p.cmd('EHLO client.example'))
"#,
        )
        .await;
    assert_eq!(s(&out, 0), "220 smtp.gmail.com ESMTP <sid> - gsmtp");
    assert_eq!(s(&out, 1), EHLO_TLS);
    assert_eq!(s(&out, 2), "220 smtp.gmail.com ESMTP <sid> - gsmtp");
    assert_eq!(
        s(&out, 3),
        "250-smtp.gmail.com at your service, [127.0.0.1]\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250 SMTPUTF8",
        "no AUTH before TLS"
    );
    assert_eq!(
        s(&out, 4),
        "530 5.7.0 Must issue a STARTTLS command first. <sid> - gsmtp"
    );
    assert_eq!(
        s(&out, 5),
        "530 5.7.0 Must issue a STARTTLS command first. <sid> - gsmtp"
    );
    assert_eq!(s(&out, 6), "220 2.0.0 Ready to start TLS");
    assert_eq!(s(&out, 7), EHLO_TLS);
    assert_eq!(h.sandbox.count("smtp.connections"), 2);
}

#[tokio::test]
async fn xoauth2_both_forms_and_oauthbearer_authenticate() {
    let h = Harness::start().await;
    let token = h.login("sender@example.com", SCOPES).await.access;
    let out = h.python(
        &[("TOKEN", &token)],
        r#"
tok = os.environ['TOKEN']
r = Raw(implicit=True); r.cmd('EHLO c')
rec(r.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', tok)))
rec(r.cmd('MAIL FROM:<sender@example.com>'))
rec(r.cmd('RCPT TO:<rcpt@example.org>'))
rec(r.cmd('RSET')); rec(r.cmd('NOOP')); rec(r.cmd('QUIT'))
p = Raw(implicit=False); p.cmd('EHLO c'); p.starttls(); p.cmd('EHLO c')
rec(p.cmd('AUTH XOAUTH2'))
rec(p.cmd(xoauth2('Sender@Example.com', tok)))
rec(p.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', tok)))
b = Raw(implicit=True); b.cmd('EHLO c')
rec(b.cmd('AUTH OAUTHBEARER ' + oauthbearer('sender@example.com', tok)))
s = smtps(); s.ehlo()
rec(s.auth('XOAUTH2', lambda challenge=None: 'user=sender@example.com\x01auth=Bearer %s\x01\x01' % tok))
s.quit()
"#,
    ).await;
    assert_eq!(s(&out, 0), "235 2.7.0 Accepted <sid> - gsmtp");
    assert_eq!(s(&out, 1), "250 2.1.0 OK <sid> - gsmtp");
    assert_eq!(s(&out, 2), "250 2.1.5 OK <sid> - gsmtp");
    assert_eq!(s(&out, 3), "250 2.1.5 Flushed <sid> - gsmtp");
    assert_eq!(s(&out, 4), "250 2.0.0 OK <sid> - gsmtp");
    assert_eq!(s(&out, 5), "221 2.0.0 closing connection <sid> - gsmtp");
    assert_eq!(s(&out, 6), "334 ", "continuation form: an empty challenge");
    assert_eq!(s(&out, 7), "235 2.7.0 Accepted <sid> - gsmtp");
    assert_eq!(s(&out, 8), "503 5.5.1 Already authenticated. <sid> - gsmtp");
    assert_eq!(s(&out, 9), "235 2.7.0 Accepted <sid> - gsmtp");
    assert_eq!(
        s(&out, 10),
        "235 2.7.0 Accepted <sid> - gsmtp",
        "smtplib's own auth()"
    );
    assert_eq!(h.sandbox.count("smtp.auth_ok"), 4);
}

#[tokio::test]
async fn a_bad_token_gets_the_challenge_then_the_multiline_535() {
    let h = Harness::start().await;
    let good = h.login("me@example.com", SCOPES).await.access;
    let no_mail = h.login("me@example.com", "openid email").await.access;
    let expiring = h.login("me@example.com", SCOPES).await.access;
    let out = h
        .python(
            &[("GOOD", &good), ("NO_MAIL", &no_mail)],
            r#"
def attempt(user, tok, mech='XOAUTH2', answer=''):
    r = Raw(implicit=True); r.cmd('EHLO c')
    payload = xoauth2(user, tok) if mech == 'XOAUTH2' else oauthbearer(user, tok)
    rec(r.cmd('AUTH %s %s' % (mech, payload)))
    rec(r.cmd(answer))
    rec(r.cmd('MAIL FROM:<%s>' % user))
attempt('me@example.com', 'ya29.not-a-token')
attempt('other@example.com', os.environ['GOOD'])
attempt('me@example.com', os.environ['NO_MAIL'])
attempt('me@example.com', 'ya29.nope', 'OAUTHBEARER', 'AQ==')
r = Raw(implicit=True); r.cmd('EHLO c')
rec(r.cmd('AUTH XOAUTH2 !!!not-base64'))
rec(r.cmd('AUTH CRAM-MD5'))
rec(r.cmd('AUTH PLAIN ' + base64.b64encode(b'\0me@example.com\0password').decode()))
"#,
        )
        .await;
    for attempt in 0..3 {
        let i = attempt * 3;
        assert_eq!(s(&out, i), CHALLENGE, "attempt {attempt}");
        assert_eq!(s(&out, i + 1), BAD_CREDENTIALS, "attempt {attempt}");
        assert!(
            s(&out, i + 2).starts_with("530-5.7.0 Authentication Required."),
            "still not authenticated"
        );
    }
    let challenge = s(&out, 9).strip_prefix("334 ").unwrap();
    let json: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::STANDARD, challenge).unwrap(),
    )
    .unwrap();
    assert_eq!(json["status"], "invalid_token");
    assert_eq!(json["scope"], "https://mail.google.com/");
    assert_eq!(s(&out, 10), BAD_CREDENTIALS);
    assert_eq!(
        s(&out, 12),
        "501 5.5.2 Cannot Decode response <sid> - gsmtp"
    );
    assert_eq!(
        s(&out, 13),
        "504 5.7.4 Unrecognized Authentication Type <sid> - gsmtp"
    );
    assert_eq!(s(&out, 14), BAD_CREDENTIALS, "the sandbox has no passwords");

    // An access token that expired (sandbox clock) is refused the same way.
    h.sandbox.advance_clock(Duration::from_secs(3600));
    let out = h
        .python(
            &[("TOKEN", &expiring)],
            r#"
r = Raw(implicit=True); r.cmd('EHLO c')
rec(r.cmd('AUTH XOAUTH2 ' + xoauth2('me@example.com', os.environ['TOKEN'])))
rec(r.cmd(''))
"#,
        )
        .await;
    assert_eq!(s(&out, 0), CHALLENGE);
    assert_eq!(s(&out, 1), BAD_CREDENTIALS);
    assert_eq!(h.sandbox.count("smtp.auth_failed"), 7);
    assert_eq!(h.sandbox.count("smtp.auth_ok"), 0);
}

#[tokio::test]
async fn commands_out_of_order_get_gmails_replies() {
    let h = Harness::start().await;
    let token = h.login("o@example.com", SCOPES).await.access;
    let out = h
        .python(
            &[("TOKEN", &token)],
            r#"
r = Raw(implicit=True)
rec(r.cmd('MAIL FROM:<o@example.com>'))
rec(r.cmd('EHLO c'))
rec(r.cmd('MAIL FROM:<o@example.com>'))
rec(r.cmd('AUTH XOAUTH2 ' + xoauth2('o@example.com', os.environ['TOKEN'])))
rec(r.cmd('RCPT TO:<x@example.org>'))
rec(r.cmd('DATA'))
rec(r.cmd('MAIL FROM:<o@example.com>'))
rec(r.cmd('DATA'))
rec(r.cmd('MAIL FROM:<o@example.com>'))
rec(r.cmd('STARTTLS'))
rec(r.cmd('FROB'))
rec(r.cmd('MAIL FROM:<<<'))
"#,
        )
        .await;
    let expected = [
        "503 5.5.1 EHLO/HELO first. <sid> - gsmtp",
        "",
        "530-5.7.0 Authentication Required. For more information, go to\r\n530 5.7.0  https://support.google.com/mail/?p=WantAuthError <sid> - gsmtp",
        "235 2.7.0 Accepted <sid> - gsmtp",
        "503 5.5.1 need MAIL before RCPT <sid> - gsmtp",
        "503 5.5.1 MAIL first. <sid> - gsmtp",
        "250 2.1.0 OK <sid> - gsmtp",
        "503 5.5.1 RCPT first. <sid> - gsmtp",
        "503 5.5.1 Nested MAIL command. <sid> - gsmtp",
        "502 5.5.1 Unrecognized command. <sid> - gsmtp",
        "502 5.5.1 Unrecognized command. <sid> - gsmtp",
        "555 5.5.2 Syntax error <sid> - gsmtp",
    ];
    for (i, want) in expected.iter().enumerate() {
        if !want.is_empty() {
            assert_eq!(s(&out, i), *want, "reply {i}");
        }
    }
}

#[tokio::test]
async fn oauthbearer_can_be_withdrawn_and_each_mechanism_is_counted() {
    let h = Harness::start().await;
    let token = h.login("sender@example.com", SCOPES).await.access;
    let script = r#"
tok = os.environ['TOKEN']
r = Raw(implicit=True)
rec(r.cmd('EHLO c'))
rec(r.cmd('AUTH OAUTHBEARER ' + oauthbearer('sender@example.com', tok)))
rec(r.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', tok)))
"#;
    // Offered (the default, like Gmail): OAUTHBEARER signs in, XOAUTH2 is then refused as a
    // second AUTH.
    let out = h.python(&[("TOKEN", &token)], script).await;
    assert_eq!(s(&out, 0), EHLO_TLS);
    assert_eq!(s(&out, 1), "235 2.7.0 Accepted <sid> - gsmtp");
    assert_eq!(h.sandbox.count("smtp.auth_ok.oauthbearer"), 1);
    assert_eq!(h.sandbox.count("smtp.auth_ok.xoauth2"), 0);

    // Withdrawn through the admin API: EHLO leaves it out and AUTH OAUTHBEARER is unknown.
    h.admin("/smtp/oauthbearer", serde_json::json!({"offered": false}))
        .await;
    let out = h.python(&[("TOKEN", &token)], script).await;
    assert_eq!(
        s(&out, 0),
        EHLO_TLS.replace(" OAUTHBEARER", ""),
        "no OAUTHBEARER in the AUTH line"
    );
    assert_eq!(
        s(&out, 1),
        "504 5.7.4 Unrecognized Authentication Type <sid> - gsmtp"
    );
    assert_eq!(s(&out, 2), "235 2.7.0 Accepted <sid> - gsmtp");
    assert_eq!(h.sandbox.count("smtp.auth_ok.oauthbearer"), 1);
    assert_eq!(h.sandbox.count("smtp.auth_ok.xoauth2"), 1);

    // And back through the library.
    h.sandbox.set_oauthbearer_offered(true);
    let out = h
        .python(
            &[("TOKEN", "ya29.nope")],
            r#"
r = Raw(implicit=True)
rec(r.cmd('EHLO c'))
rec(r.cmd('AUTH OAUTHBEARER ' + oauthbearer('sender@example.com', os.environ['TOKEN'])))
rec(r.cmd('AQ=='))
"#,
        )
        .await;
    assert_eq!(s(&out, 0), EHLO_TLS);
    assert!(s(&out, 1).starts_with("334 "), "{}", s(&out, 1));
    assert_eq!(s(&out, 2), BAD_CREDENTIALS);
    assert_eq!(h.sandbox.count("smtp.auth_failed.oauthbearer"), 1);
    assert_eq!(h.sandbox.count("smtp.auth_failed.xoauth2"), 0);
}
