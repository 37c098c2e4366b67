//! What an SMTP failure means, in plain words: lettre's errors and the server's reply codes
//! become Postern's errors (which the outbox reads to retry, refresh or give up).

use std::error::Error as _;

use crate::error::Error;

/// Turns lettre's error into plain words, keeping the reply code and the server's text.
pub fn explain(e: &lettre::transport::smtp::Error, host: &str) -> Error {
    let text = e.source().map(|s| s.to_string()).unwrap_or_default();
    // A reply first: its text is the server's, and may well mention a "certificate".
    if let Some(code) = e.status() {
        return from_reply(u16::from(code), text);
    }
    if e.is_tls() || tls_failure(e) {
        return Error::Tls {
            host: host.to_string(),
            why: if text.is_empty() { e.to_string() } else { text },
            profile: None,
        };
    }
    Error::SmtpConnection { why: e.to_string() }
}

/// lettre reports a failed handshake as a connection error; rustls's words are in the chain.
fn tls_failure(e: &lettre::transport::smtp::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = e.source();
    while let Some(s) = source {
        let words = s.to_string();
        if words.contains("invalid peer certificate")
            || words.contains("certificate")
            || words.contains("HandshakeFailure")
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// Plain explanations for SMTP reply codes (Gmail's, in docs/google.md).
/// The server's text is redacted first: it is stored with the message and shown.
pub fn from_reply(code: u16, text: String) -> Error {
    let text = crate::activity::redact(&text);
    let lower = text.to_ascii_lowercase();
    match code {
        535 | 534 => Error::SmtpAuthRejected { code, text },
        530 if lower.contains("starttls") => Error::SmtpRejected {
            code,
            text: format!("the server requires TLS first: {text}"),
        },
        530 => Error::SmtpAuthRejected { code, text },
        550 if lower.contains("5.4.5") || lower.contains("limit") || lower.contains("quota") => {
            Error::SmtpQuota { code, text }
        }
        552 => Error::SmtpTooLarge { code, text },
        // Gmail's per-message recipient cap: the same message is refused every time, so
        // retrying with backoff cannot help.
        452 if lower.contains("4.5.3") || lower.contains("too many recipients") => {
            Error::SmtpRejected {
                code,
                text: format!(
                    "too many recipients for one message (Gmail takes at most 100; send it \
                     in parts): {text}"
                ),
            }
        }
        400..=499 => Error::SmtpTemporary { code, text },
        _ => Error::SmtpRejected { code, text },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_replies_become_plain_explanations() {
        let e = from_reply(535, "5.7.8 Username and Password not accepted.".into());
        assert_eq!(e.code(), "smtp_auth_rejected");
        assert!(e.to_string().contains("535") && e.to_string().contains("5.7.8"));
        let e = from_reply(550, "5.4.5 Daily user sending limit exceeded.".into());
        assert_eq!(e.code(), "smtp_quota");
        let e = from_reply(
            552,
            "5.2.3 Your message exceeded Google's message size limits.".into(),
        );
        assert_eq!(e.code(), "smtp_too_large");
        let e = from_reply(421, "4.7.0 Try again later, closing connection.".into());
        assert_eq!(e.code(), "smtp_temporary");
        assert!(e.is_transient());
        let e = from_reply(454, "4.7.0 Too many login attempts".into());
        assert!(e.is_transient());
        let e = from_reply(452, "4.5.3 Your message has too many recipients.".into());
        assert_eq!(e.code(), "smtp_rejected");
        assert!(
            !e.is_transient(),
            "the same recipients are refused every time"
        );
        assert!(e.to_string().contains("at most 100"), "{e}");
        let e = from_reply(530, "5.7.0 Must issue a STARTTLS command first.".into());
        assert!(e.to_string().contains("requires TLS"));
        let e = from_reply(
            550,
            "5.1.1 The email account that you tried to reach does not exist.".into(),
        );
        assert_eq!(e.code(), "smtp_rejected");
        assert!(!e.is_transient());
    }
}
