//! Composing: a [`Draft`] from the UI or the command line becomes an RFC 5322 message built by
//! lettre, with every address checked, attachment types found and the size checked against the
//! provider's limit before anything is queued.

use base64::Engine;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};
use lettre::Address;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// A message as the person wrote it (docs/ipc.md `Draft`). Address fields are comma-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Draft {
    /// The sending account, optionally with a display name: `Ann <ann@example.com>`.
    pub from: String,
    /// Comma-separated recipients.
    pub to: String,
    /// Comma-separated copy recipients.
    pub cc: String,
    /// Comma-separated blind-copy recipients (in the envelope only, never in a header).
    pub bcc: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An optional HTML alternative of the body.
    pub html: Option<String>,
    /// Files to attach.
    pub attachments: Vec<Attachment>,
}

/// A file attached to a [`Draft`] (docs/ipc.md `Attachment`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Attachment {
    /// The file name shown to the recipient.
    pub name: String,
    /// `type/subtype`; empty (or `application/octet-stream`) means "guess from the name".
    pub content_type: String,
    /// The file's bytes in standard base64 (empty when `bytes` or `staged` carries them).
    pub data_base64: String,
    /// The window handed the shell this file's bytes as a binary IPC body under this id
    /// (`stage_attachment`, docs/ipc.md), so that they never travel as base64 in JSON; the
    /// shell puts them in `bytes` before core sees the draft.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub staged: Option<String>,
    /// The file's bytes themselves, when the caller has them (the command line reading a
    /// file, the shell after `stage_attachment`): no base64 copy is made. Never serialized.
    #[serde(skip)]
    #[ts(skip)]
    pub bytes: Option<Vec<u8>>,
}

/// A message ready for the outbox: its envelope and its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// The account that sends it (the envelope sender).
    pub account: String,
    /// Every envelope recipient (To, Cc and Bcc), in order, without duplicates.
    pub recipients: Vec<String>,
    /// The visible To addresses, for lists.
    pub to: Vec<String>,
    /// The subject, for lists.
    pub subject: String,
    /// The Message-ID without angle brackets; kept across retries so a resend is recognisable.
    pub message_id: String,
    /// The RFC 5322 message with CRLF line ends.
    pub raw: Vec<u8>,
}

impl Composed {
    /// Size of the message in bytes.
    pub fn size(&self) -> u64 {
        self.raw.len() as u64
    }
}

/// Builds the message for `draft`, refusing it when an address is wrong, there is no
/// recipient, or it would be larger than `max_message_bytes`.
pub fn compose(draft: &Draft, max_message_bytes: u64) -> Result<Composed> {
    compose_owned(draft.clone(), max_message_bytes)
}

/// [`compose`] taking the draft: each attachment's base64 is dropped as soon as it is
/// decoded, so a large attachment is not held three times over while the message is built.
pub fn compose_owned(mut draft: Draft, max_message_bytes: u64) -> Result<Composed> {
    let from = parse_one("From", &draft.from)?;
    let to = parse_list("To", &draft.to)?;
    let cc = parse_list("Cc", &draft.cc)?;
    let bcc = parse_list("Bcc", &draft.bcc)?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(Error::NoRecipients);
    }
    let files = decode_attachments(std::mem::take(&mut draft.attachments), max_message_bytes)?;

    let message_id = new_message_id(&from.email);
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .subject(draft.subject.clone())
        .message_id(Some(format!("<{message_id}>")))
        .date_now()
        .user_agent(format!("Postern/{}", env!("CARGO_PKG_VERSION")));
    for m in &to {
        builder = builder.to(m.clone());
    }
    for m in &cc {
        builder = builder.cc(m.clone());
    }
    for m in &bcc {
        builder = builder.bcc(m.clone());
    }

    let body = match &draft.html {
        Some(html) => Body::Multi(MultiPart::alternative_plain_html(
            draft.text.clone(),
            html.clone(),
        )),
        None => Body::Single(SinglePart::plain(std::mem::take(&mut draft.text))),
    };
    let message = if files.is_empty() {
        match body {
            Body::Multi(m) => builder.multipart(m),
            Body::Single(s) => builder.singlepart(s),
        }
    } else {
        let mut mixed = match body {
            Body::Multi(m) => MultiPart::mixed().multipart(m),
            Body::Single(s) => MultiPart::mixed().singlepart(s),
        };
        for (name, content_type, data) in files {
            mixed = mixed.singlepart(LettreAttachment::new(name).body(data, content_type));
        }
        builder.multipart(mixed)
    }
    .map_err(|e| Error::InvalidInput {
        what: "message".into(),
        why: e.to_string(),
    })?;

    let raw = message.formatted();
    drop(message);
    check_size(raw.len() as u64, max_message_bytes)?;
    let recipients = dedup(
        to.iter()
            .chain(&cc)
            .chain(&bcc)
            .map(|m| m.email.to_string()),
    );
    Ok(Composed {
        account: from.email.to_string().to_ascii_lowercase(),
        recipients,
        to: to.iter().map(|m| m.email.to_string()).collect(),
        subject: draft.subject.clone(),
        message_id,
        raw,
    })
}

enum Body {
    Multi(MultiPart),
    Single(SinglePart),
}

/// Refuses a message larger than the provider takes, naming both sizes.
pub fn check_size(size: u64, max_message_bytes: u64) -> Result<()> {
    if size > max_message_bytes {
        return Err(Error::MessageTooLarge {
            size,
            limit: max_message_bytes,
        });
    }
    Ok(())
}

/// A fresh Message-ID (without brackets) in the sender's domain.
pub fn new_message_id(from: &Address) -> String {
    format!("{}@{}", uuid::Uuid::new_v4().simple(), from.domain())
}

/// Parses exactly one address (the From field).
pub fn parse_one(field: &str, value: &str) -> Result<Mailbox> {
    let mut list = parse_list(field, value)?;
    match list.len() {
        1 => Ok(list.remove(0)),
        0 => Err(Error::NotAnAddress {
            field: field.into(),
            value: value.trim().into(),
            why: "it is empty".into(),
        }),
        _ => Err(Error::NotAnAddress {
            field: field.into(),
            value: value.trim().into(),
            why: "only one address is allowed here".into(),
        }),
    }
}

/// Parses a comma-separated address list; the error names the first bad address.
pub fn parse_list(field: &str, value: &str) -> Result<Vec<Mailbox>> {
    split_addresses(value)
        .into_iter()
        .map(|one| {
            one.parse::<Mailbox>().map_err(|e| Error::NotAnAddress {
                field: field.into(),
                value: one.clone(),
                why: address_reason(&one, &e),
            })
        })
        .collect()
}

/// Splits on commas (and semicolons) that are outside quotes and angle brackets.
fn split_addresses(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angle) = (false, false);
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' | ';' if !quoted && !angle => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn address_reason(value: &str, e: &lettre::address::AddressError) -> String {
    use lettre::address::AddressError as A;
    if !value.contains('@') {
        return "it has no @".into();
    }
    match e {
        A::MissingParts => "the part before or after the @ is missing".into(),
        A::Unbalanced => "a < has no matching > (or the other way round)".into(),
        A::InvalidUser => "the part before the @ has characters an address cannot have".into(),
        A::InvalidDomain => "the part after the @ is not a domain name".into(),
        _ => "it is not of the form name@example.com".into(),
    }
}

/// The largest file that, base64-encoded with line breaks, fits in a message of this size.
pub(crate) fn largest_attachment(max_message_bytes: u64) -> u64 {
    max_message_bytes.saturating_mul(76) / 78 / 4 * 3
}

/// Decodes attachments, finds their types and refuses any that alone exceed the limit.
fn decode_attachments(
    attachments: Vec<Attachment>,
    max_message_bytes: u64,
) -> Result<Vec<(String, ContentType, Vec<u8>)>> {
    let mut out = Vec::with_capacity(attachments.len());
    let mut encoded_total: u64 = 0;
    for mut a in attachments {
        let data = match (a.bytes.take(), &a.staged) {
            (Some(bytes), _) => bytes,
            (None, Some(_)) => {
                return Err(Error::InvalidInput {
                    what: format!("attachment {}", a.name),
                    why: "its bytes never reached Postern (attach the file again)".into(),
                })
            }
            (None, None) => base64::engine::general_purpose::STANDARD
                .decode(a.data_base64.trim())
                .map_err(|e| Error::InvalidInput {
                    what: format!("attachment {}", a.name),
                    why: format!("its data is not base64 ({e})"),
                })?,
        };
        a.data_base64 = String::new();
        // base64 in the message grows it by a third, plus line breaks.
        let encoded = (data.len() as u64).div_ceil(3) * 4 * 78 / 76;
        if encoded > max_message_bytes {
            return Err(Error::AttachmentTooLarge {
                name: a.name.clone(),
                size: data.len() as u64,
                limit: largest_attachment(max_message_bytes),
            });
        }
        encoded_total += encoded;
        check_size(encoded_total, max_message_bytes)?;
        let content_type = content_type_of(&a)?;
        out.push((a.name, content_type, data));
    }
    Ok(out)
}

/// The given type, or one guessed from the file name's extension.
fn content_type_of(a: &Attachment) -> Result<ContentType> {
    let given = a.content_type.trim();
    let chosen = if given.is_empty() || given.eq_ignore_ascii_case("application/octet-stream") {
        mime_guess::from_path(&a.name)
            .first_or_octet_stream()
            .essence_str()
            .to_string()
    } else {
        given.to_string()
    };
    ContentType::parse(&chosen).map_err(|e| Error::InvalidInput {
        what: format!("attachment {}", a.name),
        why: format!("“{chosen}” is not a content type ({e})"),
    })
}

pub(crate) fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items
        .filter(|a| seen.insert(a.to_ascii_lowercase()))
        .collect()
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
