//! Sending through the sandbox's SMTP server with Python's smtplib and raw sockets:
//! the mailbox, size limit, daily quota, BDAT, faults, and hostile clients.

mod common;

use std::time::Duration;

use common::{Harness, SCOPES};
use serde_json::Value;

fn s(v: &Value, i: usize) -> &str {
    v[i].as_str()
        .unwrap_or_else(|| panic!("no reply {i} in {v}"))
}

const SEND: &str = r#"
from email.message import EmailMessage
def message(subject='Hello', body='Hi there.\n.leading dot\n', to='rcpt@example.org'):
    m = EmailMessage()
    m['From'] = 'Sender <sender@example.com>'
    m['To'] = to
    m['Subject'] = subject
    m['Message-ID'] = '<id-1@example.com>'
    m.set_content(body)
    m.add_alternative('<p>Hi there.</p>', subtype='html')
    m.add_attachment(bytes(range(256)), maintype='application', subtype='octet-stream', filename='bytes.bin')
    return m
def login(s, user='sender@example.com'):
    return rec(s.docmd('AUTH', 'XOAUTH2 ' + xoauth2(user, os.environ['TOKEN'])))
"#;

async fn run(h: &Harness, token: &str, body: &str) -> Value {
    h.python(&[("TOKEN", token)], &format!("{SEND}\n{body}"))
        .await
}

#[tokio::test]
async fn a_sent_message_lands_in_the_mailbox_parsed() {
    let h = Harness::start().await;
    let token = h.login("sender@example.com", SCOPES).await.access;
    let out = run(
        &h,
        &token,
        r#"
r = Raw(implicit=True); r.cmd('EHLO c')
rec(r.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', os.environ['TOKEN'])))
rec(r.cmd('MAIL FROM:<sender@example.com>'))
rec(r.cmd('RCPT TO:<rcpt@example.org>'))
rec(r.cmd('RCPT TO:<cc@example.net>'))
rec(r.cmd('DATA'))
r.send(message().as_bytes().replace(b'\n', b'\r\n').replace(b'\r\n.', b'\r\n..') + b'\r\n.\r\n')
rec(r.reply())
t = submission(); login(t)
rec('refused' if t.sendmail('sender@example.com', ['second@example.org'], message('Second').as_bytes()) else 'sent')
t.quit()
"#,
    )
    .await;
    assert_eq!(s(&out, 0), "235 2.7.0 Accepted <sid> - gsmtp");
    assert_eq!(s(&out, 4), "354  Go ahead <sid> - gsmtp");
    assert_eq!(s(&out, 5), "250 2.0.0 OK  <time> <sid> - gsmtp");
    let mailbox = h.sandbox.mailbox();
    assert_eq!(mailbox.len(), 2);
    let m = &mailbox[0];
    assert_eq!(m.account, "sender@example.com");
    assert_eq!(m.mail_from, "sender@example.com");
    assert_eq!(m.recipients, vec!["rcpt@example.org", "cc@example.net"]);
    assert_eq!(m.subject.as_deref(), Some("Hello"));
    assert_eq!(m.message_id.as_deref(), Some("id-1@example.com"));
    let text = m.text_body.as_deref().unwrap().replace("\r\n", "\n");
    assert_eq!(text, "Hi there.\n.leading dot\n");
    assert_eq!(
        m.html_body.as_deref().map(str::trim),
        Some("<p>Hi there.</p>")
    );
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name, "bytes.bin");
    assert_eq!(m.attachments[0].content_type, "application/octet-stream");
    assert_eq!(m.attachments[0].data, (0..=255u8).collect::<Vec<_>>());
    assert!(m
        .headers
        .iter()
        .any(|(n, v)| n == "To" && v == "rcpt@example.org"));
    let raw = String::from_utf8_lossy(&m.raw);
    assert!(raw.contains("\r\n.leading dot\r\n"), "dot-unstuffed");
    assert!(!raw.ends_with("\r\n.\r\n"), "terminator removed");
    assert_eq!(mailbox[1].subject.as_deref(), Some("Second"));
    assert_eq!(mailbox[1].recipients, vec!["second@example.org"]);
    assert_eq!(h.sandbox.count("smtp.messages"), 2);

    // The admin API lists and serves the same.
    let list: Value = h.admin_get("/mailbox").await.json().await.unwrap();
    assert_eq!(list[0]["subject"], "Hello");
    assert_eq!(list[0]["attachments"][0]["name"], "bytes.bin");
    let raw_http = h.admin_get("/mailbox/0/raw").await.bytes().await.unwrap();
    assert_eq!(raw_http.as_ref(), m.raw.as_slice());
    let att = h
        .admin_get("/mailbox/0/attachments/0")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(att.as_ref(), m.attachments[0].data.as_slice());
    assert_eq!(h.admin_get("/mailbox/9").await.status(), 404);
}

#[tokio::test]
async fn chunking_with_bdat_delivers_too() {
    let h = Harness::start().await;
    let token = h.login("sender@example.com", SCOPES).await.access;
    let out = run(
        &h,
        &token,
        r#"
r = Raw(implicit=True); r.cmd('EHLO c')
rec(r.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', os.environ['TOKEN'])))
rec(r.cmd('MAIL FROM:<sender@example.com>'))
rec(r.cmd('RCPT TO:<rcpt@example.org>'))
body = message('Chunked').as_bytes().replace(b'\n', b'\r\n')
half = len(body) // 2
r.send(b'BDAT %d\r\n' % half + body[:half]); rec(r.reply())
r.send(b'BDAT %d LAST\r\n' % (len(body) - half) + body[half:]); rec(r.reply())
"#,
    )
    .await;
    assert!(s(&out, 3).starts_with("250 2.0.0 OK "), "{out}");
    assert_eq!(s(&out, 4), "250 2.0.0 OK  <time> <sid> - gsmtp");
    let m = &h.sandbox.mailbox()[0];
    assert_eq!(m.subject.as_deref(), Some("Chunked"));
    assert_eq!(m.attachments[0].data.len(), 256);
}

#[tokio::test]
async fn the_size_limit_is_advertised_and_enforced() {
    let h = Harness::start().await;
    h.sandbox.set_max_message_size(2000);
    let token = h.login("sender@example.com", SCOPES).await.access;
    let out = run(
        &h,
        &token,
        r#"
s = smtps(); rec(s.ehlo()); login(s)
rec(s.docmd('MAIL FROM:<sender@example.com> SIZE=5000'))
rec(s.docmd('MAIL FROM:<sender@example.com>'))
rec(s.docmd('RCPT TO:<rcpt@example.org>'))
rec(s.docmd('DATA'))
s.send(b'Subject: big\r\n\r\n' + b'x' * 70 + b'\r\n' * 1 + (b'y' * 998 + b'\r\n') * 50 + b'.\r\n')
rec(s.getreply())
rec(s.docmd('NOOP'))
r = Raw(implicit=True); r.cmd('EHLO c')
r.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', os.environ['TOKEN']))
r.cmd('MAIL FROM:<sender@example.com>'); r.cmd('RCPT TO:<rcpt@example.org>')
r.send(b'BDAT 3000 LAST\r\n' + b'z' * 3000); rec(r.reply())
rec(r.cmd('NOOP'))
"#,
    )
    .await;
    assert!(s(&out, 0).contains("SIZE 2000"), "{}", s(&out, 0));
    let too_big = "552 5.2.3 Your message exceeded Google's message size limits. <sid> - gsmtp";
    assert_eq!(s(&out, 2), too_big, "declared SIZE");
    assert!(s(&out, 5).starts_with("354 "));
    assert_eq!(s(&out, 6), too_big, "DATA over the limit");
    assert_eq!(
        s(&out, 7),
        "250 2.0.0 OK <sid> - gsmtp",
        "the session goes on"
    );
    assert_eq!(s(&out, 8), too_big, "BDAT over the limit");
    assert_eq!(s(&out, 9), "250 2.0.0 OK <sid> - gsmtp");
    assert!(h.sandbox.mailbox().is_empty());
}

#[tokio::test]
async fn the_daily_recipient_quota_answers_550_5_4_5_over_a_rolling_day() {
    let h = Harness::start().await;
    h.sandbox.set_daily_recipient_limit(3);
    let token = h.login("sender@example.com", SCOPES).await.access;
    let script = r#"
s = Raw(implicit=True); s.cmd('EHLO c')
rec(s.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', os.environ['TOKEN'])))
for batch in json.loads(os.environ['BATCHES']):
    rec(s.cmd('MAIL FROM:<sender@example.com>'))
    for to in batch:
        rec(s.cmd('RCPT TO:<%s>' % to))
    rec(s.cmd('DATA'))
    s.send(b'Subject: q\r\n\r\nbody\r\n.\r\n'); rec(s.reply())
"#;
    let body = format!("BATCHES = None\n{script}");
    let out = h
        .python(
            &[
                ("TOKEN", &token),
                (
                    "BATCHES",
                    r#"[["a@x.org","b@x.org"],["c@x.org","d@x.org"]]"#,
                ),
            ],
            &format!("{SEND}\n{body}"),
        )
        .await;
    let quota = "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n550-5.4.5 sending limits go to\r\n550 5.4.5  https://support.google.com/a/answer/166852 <sid> - gsmtp";
    assert_eq!(
        s(&out, 7),
        "250 2.1.5 OK <sid> - gsmtp",
        "third recipient of the day"
    );
    assert_eq!(s(&out, 8), quota, "fourth recipient of the day");
    assert_eq!(h.sandbox.mailbox()[1].recipients, vec!["c@x.org"]);
    assert_eq!(h.sandbox.mailbox().len(), 2);

    // The quota is a rolling 24 hours.
    h.sandbox.advance_clock(Duration::from_secs(86_400));
    let token = h.login("sender@example.com", SCOPES).await.access;
    let out = h
        .python(
            &[
                ("TOKEN", &token),
                ("BATCHES", r#"[["e@x.org","f@x.org","g@x.org"]]"#),
            ],
            &format!("{SEND}\n{body}"),
        )
        .await;
    assert!(s(&out, 6).starts_with("250 2.0.0 OK  "), "{out}");
}

#[tokio::test]
async fn more_than_100_recipients_in_one_message_get_452_4_5_3() {
    let h = Harness::start().await;
    let token = h.login("sender@example.com", SCOPES).await.access;
    let out = run(
        &h,
        &token,
        r#"
r = Raw(implicit=True); r.cmd('EHLO c')
r.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', os.environ['TOKEN']))
r.cmd('MAIL FROM:<sender@example.com>')
for i in range(101):
    reply = r.cmd('RCPT TO:<r%d@example.org>' % i)
rec(reply)
rec(r.cmd('DATA'))
r.send(b'Subject: many\r\n\r\nbody\r\n.\r\n'); rec(r.reply())
"#,
    )
    .await;
    assert_eq!(
        s(&out, 0),
        "452 4.5.3 Your message has too many recipients. <sid> - gsmtp"
    );
    assert_eq!(s(&out, 2), "250 2.0.0 OK  <time> <sid> - gsmtp");
    assert_eq!(h.sandbox.mailbox()[0].recipients.len(), 100);
}

#[tokio::test]
async fn dropping_mid_data_keeps_nothing_and_the_next_send_works() {
    let h = Harness::start().await;
    let token = h.login("sender@example.com", SCOPES).await.access;
    h.sandbox.fault_smtp_drop_in_data(1);
    let out = run(
        &h,
        &token,
        r#"
s = smtps(); s.ehlo(); login(s)
try:
    s.sendmail('sender@example.com', ['rcpt@example.org'], message('Lost').as_bytes())
    rec('sent')
except (smtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLError) as e:
    rec('disconnected')
s = smtps(); s.ehlo(); login(s)
s.sendmail('sender@example.com', ['rcpt@example.org'], message('Kept').as_bytes())
rec('sent'); s.quit()
"#,
    )
    .await;
    assert_eq!(s(&out, 1), "disconnected");
    assert_eq!(s(&out, 3), "sent");
    let subjects: Vec<_> = h.sandbox.mailbox().into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects, vec![Some("Kept".to_owned())]);
}

#[tokio::test]
async fn fault_421_answers_the_next_commands_and_closes() {
    let h = Harness::start().await;
    h.sandbox.fault_smtp_421(2);
    let out = run(
        &h,
        "",
        r#"
for i in range(3):
    r = Raw(implicit=True)
    rec(r.cmd('EHLO c'))
    if out[-1].startswith('421'):
        rec('closed' if r.closed() else 'open')
"#,
    )
    .await;
    let closing = "421 4.7.0 Try again later, closing connection. <sid> - gsmtp";
    assert_eq!(s(&out, 0), closing);
    assert_eq!(s(&out, 1), "closed");
    assert_eq!(s(&out, 2), closing);
    assert_eq!(s(&out, 3), "closed");
    assert!(s(&out, 4).starts_with("250-smtp.gmail.com"));
}

#[tokio::test]
async fn garbage_long_lines_and_vanishing_clients_never_hang_the_server() {
    let h = Harness::start().await;
    let token = h.login("sender@example.com", SCOPES).await.access;
    let out = run(
        &h,
        &token,
        r#"
r = Raw(implicit=True)
rec(r.cmd(bytes(range(1, 10)) + b'\xff\xfe\x00garbage'))
rec(r.cmd(b'EHLO ' + b'a' * 10000))
rec(r.cmd('NOOP'))
rec(r.cmd(b'\x00' * 5000 + b'\r\n' + b'NOOP'))
# Clients that vanish: mid-command, mid-AUTH, mid-DATA, mid-BDAT, mid-handshake.
for script in [b'EHLO c\r\nMAIL FR', b'EHLO c\r\nAUTH XOAUTH2\r\n']:
    v = Raw(implicit=True); v.send(script); v.sock.close()
v = Raw(implicit=True); v.cmd('EHLO c'); v.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', os.environ['TOKEN']))
v.cmd('MAIL FROM:<sender@example.com>'); v.cmd('RCPT TO:<a@b.org>'); v.cmd('DATA'); v.send(b'Subject: half\r\n\r\nhal'); v.sock.close()
v = Raw(implicit=True); v.cmd('EHLO c'); v.cmd('AUTH XOAUTH2 ' + xoauth2('sender@example.com', os.environ['TOKEN']))
v.cmd('MAIL FROM:<sender@example.com>'); v.cmd('RCPT TO:<a@b.org>'); v.send(b'BDAT 100000 LAST\r\nabc'); v.sock.close()
raw = socket.create_connection((E['smtp_host'], E['smtp_tls_port'])); raw.sendall(b'EHLO plaintext-on-tls-port\r\n' + os.urandom(300)); raw.close()
raw = socket.create_connection((E['smtp_host'], E['smtp_starttls_port'])); raw.sendall(os.urandom(20000)); raw.close()
# STARTTLS then garbage instead of a handshake.
p = Raw(implicit=False); p.cmd('STARTTLS'); p.sock.sendall(b'not tls\r\n' * 10)
rec('closed' if p.closed() else 'open')
# Still serving, and nothing half-sent was kept.
s = smtps(); s.ehlo(); login(s)
s.sendmail('sender@example.com', ['rcpt@example.org'], message('After').as_bytes()); s.quit()
rec('sent')
"#,
    )
    .await;
    assert_eq!(s(&out, 0), "502 5.5.1 Unrecognized command. <sid> - gsmtp");
    assert_eq!(s(&out, 1), "500 5.5.2 Line too long. <sid> - gsmtp");
    assert_eq!(s(&out, 2), "250 2.0.0 OK <sid> - gsmtp");
    assert_eq!(s(&out, 3), "500 5.5.2 Line too long. <sid> - gsmtp");
    assert_eq!(s(&out, 4), "closed");
    assert_eq!(s(&out, 6), "sent");
    let subjects: Vec<_> = h.sandbox.mailbox().into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects, vec![Some("After".to_owned())]);
}
