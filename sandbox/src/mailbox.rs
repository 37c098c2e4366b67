//! The mailbox: every message the SMTP server accepted, with its envelope, parsed by a
//! real MIME parser (mail-parser) so tests can check headers, parts and attachment bytes.

use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde::Serialize;

/// An attachment of a stored message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Attachment {
    /// The file name from `Content-Disposition`/`Content-Type` (empty when none).
    pub name: String,
    /// `type/subtype`, e.g. `application/pdf`.
    pub content_type: String,
    /// The decoded bytes.
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// A message the sandbox accepted, as Gmail would have received it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredMessage {
    /// The authenticated user of the SMTP session.
    pub account: String,
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub recipients: Vec<String>,
    /// The message exactly as received (dot-unstuffed, CRLF line ends).
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// The decoded `Subject`.
    pub subject: Option<String>,
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// The first text/plain body.
    pub text_body: Option<String>,
    /// The first text/html body (None when the message has no HTML part).
    pub html_body: Option<String>,
    /// Attachments, in order.
    pub attachments: Vec<Attachment>,
    /// Top-level headers as (name, raw value) pairs, in order.
    pub headers: Vec<(String, String)>,
}

impl StoredMessage {
    /// Parses `raw` with mail-parser; a message it cannot parse is still kept with its
    /// envelope and raw bytes.
    pub(crate) fn parse(
        account: String,
        mail_from: String,
        recipients: Vec<String>,
        raw: Vec<u8>,
    ) -> Self {
        let mut msg = Self {
            account,
            mail_from,
            recipients,
            raw: Vec::new(),
            subject: None,
            message_id: None,
            text_body: None,
            html_body: None,
            attachments: Vec::new(),
            headers: Vec::new(),
        };
        if let Some(parsed) = MessageParser::default().parse(&raw) {
            msg.subject = parsed.subject().map(str::to_owned);
            msg.message_id = parsed.message_id().map(str::to_owned);
            msg.text_body = parsed.text_part(0).and_then(|p| match &p.body {
                PartType::Text(t) => Some(t.to_string()),
                _ => None,
            });
            msg.html_body = parsed.html_part(0).and_then(|p| match &p.body {
                PartType::Html(t) => Some(t.to_string()),
                _ => None,
            });
            msg.attachments = parsed
                .attachments()
                .map(|part| Attachment {
                    name: part.attachment_name().unwrap_or_default().to_owned(),
                    content_type: part
                        .content_type()
                        .map(|ct| match ct.subtype() {
                            Some(sub) => format!("{}/{}", ct.ctype(), sub),
                            None => ct.ctype().to_owned(),
                        })
                        .unwrap_or_else(|| "application/octet-stream".to_owned()),
                    data: part.contents().to_vec(),
                })
                .collect();
            msg.headers = parsed
                .headers_raw()
                .map(|(n, v)| (n.to_owned(), v.trim().to_owned()))
                .collect();
        }
        msg.raw = raw;
        msg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts_and_attachments() {
        let raw = b"From: A <a@example.com>\r\nTo: b@example.com\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\
Message-ID: <m1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n\
--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--XX\r\n\
Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nAAEC/w==\r\n--XX--\r\n";
        let m = StoredMessage::parse(
            "a@example.com".into(),
            "a@example.com".into(),
            vec![],
            raw.to_vec(),
        );
        assert_eq!(m.subject.as_deref(), Some("Grüße"));
        assert_eq!(m.message_id.as_deref(), Some("m1@example.com"));
        assert_eq!(m.text_body.as_deref().map(str::trim), Some("hello"));
        assert_eq!(m.html_body, None);
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name, "a.bin");
        assert_eq!(m.attachments[0].data, vec![0, 1, 2, 255]);
        assert!(m
            .headers
            .iter()
            .any(|(n, v)| n == "To" && v == "b@example.com"));
    }
}
