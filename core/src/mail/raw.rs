//! A whole RFC 5322 message handed over by another mail program (`postern send --raw`):
//! its recipients come from its headers, its Message-ID is kept (or one is added), and its
//! Bcc header is removed so blind copies stay blind.

use mail_parser::{HeaderName, MessageParser};

use crate::error::{Error, Result};
use crate::mail::compose::{check_size, dedup, new_message_id, parse_one};
use crate::mail::Composed;

/// The address in the message's From header, for when no sending account was named.
pub fn sender_of(rfc5322: &[u8]) -> Result<String> {
    MessageParser::default()
        .parse_headers(rfc5322)
        .and_then(|m| {
            m.from()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(str::to_ascii_lowercase)
        })
        .ok_or_else(|| Error::InvalidInput {
            what: "message".into(),
            why: "it has no From address; name the sending account (--from)".into(),
        })
}

/// Reads `rfc5322` as a message sent by the account `from`.
pub fn parse_raw(from: &str, rfc5322: &[u8], max_message_bytes: u64) -> Result<Composed> {
    let account = parse_one("from", from)?;
    let mut raw = to_crlf(rfc5322);
    check_size(raw.len() as u64, max_message_bytes)?;

    let parsed = MessageParser::default()
        .parse_headers(&raw)
        .ok_or_else(|| Error::InvalidInput {
            what: "message".into(),
            why: "it has no header section".into(),
        })?;
    let list = |a: Option<&mail_parser::Address>| -> Vec<String> {
        a.map(|a| {
            a.iter()
                .filter_map(|x| x.address().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
    };
    // Every field of a kind counts: a script may write two Bcc lines, and each of their
    // recipients must get the message (mail-parser's accessors give only one field).
    let fields = |name: HeaderName<'_>| -> Vec<String> {
        parsed
            .headers()
            .iter()
            .filter(|h| h.name == name)
            .flat_map(|h| list(h.value.as_address()))
            .collect()
    };
    let to = dedup(fields(HeaderName::To).into_iter());
    let all: Vec<String> = to
        .iter()
        .cloned()
        .chain(fields(HeaderName::Cc))
        .chain(fields(HeaderName::Bcc))
        .collect();
    for a in &all {
        a.parse::<lettre::Address>()
            .map_err(|e| Error::NotAnAddress {
                field: "the message's recipients".into(),
                value: a.clone(),
                why: e.to_string(),
            })?;
    }
    let recipients = dedup(all.into_iter());
    if recipients.is_empty() {
        return Err(Error::NoRecipients);
    }
    let subject = parsed.subject().unwrap_or_default().to_string();
    let kept_id = parsed.message_id().map(str::to_string);
    let has_date = parsed.date().is_some();
    // Byte ranges of Bcc fields, removed back to front so earlier offsets stay right.
    let mut bcc: Vec<(usize, usize)> = parsed
        .headers()
        .iter()
        .filter(|h| matches!(h.name, HeaderName::Bcc))
        .map(|h| (h.offset_field as usize, h.offset_end as usize))
        .collect();
    drop(parsed);
    bcc.sort_unstable();
    for (start, end) in bcc.into_iter().rev() {
        raw.drain(start..end.min(raw.len()));
    }

    let mut added = String::new();
    let message_id = match kept_id {
        Some(id) => id,
        None => {
            let id = new_message_id(&account.email);
            added.push_str(&format!("Message-ID: <{id}>\r\n"));
            id
        }
    };
    if !has_date {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc2822)
            .map_err(|e| Error::Internal { why: e.to_string() })?;
        added.push_str(&format!("Date: {now}\r\n"));
    }
    if !added.is_empty() {
        raw.splice(0..0, added.into_bytes());
    }
    check_size(raw.len() as u64, max_message_bytes)?;
    Ok(Composed {
        account: account.email.to_string().to_ascii_lowercase(),
        recipients,
        to,
        subject,
        message_id,
        raw,
    })
}

/// Turns bare LF line ends (as scripts write them) into CRLF, as SMTP requires.
pub(crate) fn to_crlf(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 40);
    let mut prev = 0u8;
    for &b in input {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: u64 = 35_882_577;

    #[test]
    fn keeps_message_id_and_hides_bcc() {
        let raw = b"From: Ann <ann@example.com>\nTo: bob@example.org, Carl <carl@example.net>\n\
Bcc: dora@example.com\nSubject: Hi\nMessage-ID: <kept-1@example.com>\n\
Date: Wed, 25 Nov 2026 10:00:00 +0000\n\nHello\n";
        let c = parse_raw("ann@example.com", raw, LIMIT).unwrap();
        assert_eq!(c.message_id, "kept-1@example.com");
        assert_eq!(
            c.recipients,
            ["bob@example.org", "carl@example.net", "dora@example.com"]
        );
        assert_eq!(c.to, ["bob@example.org", "carl@example.net"]);
        let text = String::from_utf8(c.raw).unwrap();
        assert!(!text.to_ascii_lowercase().contains("bcc"), "{text}");
        assert!(!text.contains("dora"), "{text}");
        assert!(text.contains("Subject: Hi\r\n"));
        assert!(text.ends_with("\r\nHello\r\n"));
    }

    #[test]
    fn every_bcc_field_counts_and_none_survives() {
        let raw = b"From: ann@example.com\nTo: bob@example.org\nBcc: a@hidden.test\nCc: c@example.org\nBcc: b@hidden.test\nSubject: two\n\nbody\n";
        let c = parse_raw("ann@example.com", raw, LIMIT).unwrap();
        assert_eq!(
            c.recipients,
            [
                "bob@example.org",
                "c@example.org",
                "a@hidden.test",
                "b@hidden.test"
            ]
        );
        let text = String::from_utf8(c.raw).unwrap();
        assert!(!text.contains("hidden"), "{text}");
        assert!(
            text.contains(
                "To: bob@example.org\r\nCc: c@example.org\r\nSubject: two\r\n\r\nbody\r\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn the_sender_comes_from_the_from_header() {
        let raw = b"From: Ann <Ann@Example.com>\r\nTo: b@example.org\r\n\r\nx\r\n";
        assert_eq!(sender_of(raw).unwrap(), "ann@example.com");
        let e = sender_of(b"To: b@example.org\r\n\r\nx\r\n").unwrap_err();
        assert!(e.to_string().contains("--from"), "{e}");
    }

    #[test]
    fn adds_message_id_and_date_when_missing() {
        let raw = b"From: ann@example.com\r\nTo: bob@example.org\r\nSubject: x\r\n\r\nbody\r\n";
        let c = parse_raw("ann@example.com", raw, LIMIT).unwrap();
        assert!(c.message_id.ends_with("@example.com"));
        let text = String::from_utf8(c.raw).unwrap();
        assert!(text.starts_with(&format!("Message-ID: <{}>\r\nDate: ", c.message_id)));
    }

    #[test]
    fn refuses_without_recipients_or_over_the_limit() {
        let raw = b"From: ann@example.com\r\nSubject: x\r\n\r\nbody\r\n";
        assert!(matches!(
            parse_raw("ann@example.com", raw, LIMIT),
            Err(Error::NoRecipients)
        ));
        let raw = b"From: ann@example.com\r\nTo: b@example.org\r\n\r\nbody\r\n";
        let e = parse_raw("ann@example.com", raw, 10).unwrap_err();
        assert!(matches!(e, Error::MessageTooLarge { limit: 10, .. }), "{e}");
    }
}
