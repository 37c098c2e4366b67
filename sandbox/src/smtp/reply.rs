//! Gmail's SMTP replies (docs/google.md, "Gmail SMTP"), each ending in `<sid> - gsmtp`.

use crate::MAIL_SCOPE;

/// Gmail's host name, used in the greeting and EHLO.
pub(crate) const HOST: &str = "smtp.gmail.com";

/// The 334 challenge Gmail sends for a bad XOAUTH2 token or scope (live form; docs/google.md).
pub(crate) fn xoauth2_challenge() -> String {
    let json = format!(r#"{{"status":"400","schemes":"Bearer","scope":"{MAIL_SCOPE}"}}"#);
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, json)
}

/// The 334 challenge for a bad OAUTHBEARER token (RFC 7628 shape; Gmail's exact JSON is
/// unconfirmed).
pub(crate) fn oauthbearer_challenge() -> String {
    let json = format!(r#"{{"status":"invalid_token","schemes":"Bearer","scope":"{MAIL_SCOPE}"}}"#);
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, json)
}

/// Builds replies that carry the session id.
pub(crate) struct Replies {
    pub(crate) sid: String,
}

impl Replies {
    /// A one-line reply: `<code> <text> <sid> - gsmtp`.
    pub(crate) fn line(&self, code: &str, text: &str) -> String {
        format!("{code} {text} {} - gsmtp\r\n", self.sid)
    }

    pub(crate) fn greeting(&self) -> String {
        format!("220 {HOST} ESMTP {} - gsmtp\r\n", self.sid)
    }

    /// EHLO: no AUTH before TLS; STARTTLS only before TLS; CHUNKING only after.
    pub(crate) fn ehlo(&self, peer_ip: &str, tls: bool, size: usize, oauthbearer: bool) -> String {
        let mut lines = vec![
            format!("{HOST} at your service, [{peer_ip}]"),
            format!("SIZE {size}"),
            "8BITMIME".to_owned(),
        ];
        if tls && oauthbearer {
            lines.push("AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH".to_owned());
        } else if tls {
            lines.push("AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN XOAUTH".to_owned());
        } else {
            lines.push("STARTTLS".to_owned());
        }
        lines.push("ENHANCEDSTATUSCODES".to_owned());
        lines.push("PIPELINING".to_owned());
        if tls {
            lines.push("CHUNKING".to_owned());
        }
        lines.push("SMTPUTF8".to_owned());
        multi("250", &lines)
    }

    pub(crate) fn helo(&self, peer_ip: &str) -> String {
        format!("250 {HOST} at your service, [{peer_ip}]\r\n")
    }

    pub(crate) fn bad_credentials(&self) -> String {
        format!(
            "535-5.7.8 Username and Password not accepted. For more information, go to\r\n\
             535 5.7.8  https://support.google.com/mail/?p=BadCredentials {} - gsmtp\r\n",
            self.sid
        )
    }

    pub(crate) fn want_auth(&self) -> String {
        format!(
            "530-5.7.0 Authentication Required. For more information, go to\r\n\
             530 5.7.0  https://support.google.com/mail/?p=WantAuthError {} - gsmtp\r\n",
            self.sid
        )
    }

    pub(crate) fn daily_quota(&self) -> String {
        format!(
            "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n\
             550-5.4.5 sending limits go to\r\n\
             550 5.4.5  https://support.google.com/a/answer/166852 {} - gsmtp\r\n",
            self.sid
        )
    }

    pub(crate) fn must_starttls(&self) -> String {
        self.line("530 5.7.0", "Must issue a STARTTLS command first.")
    }

    pub(crate) fn too_big(&self) -> String {
        self.line(
            "552 5.2.3",
            "Your message exceeded Google's message size limits.",
        )
    }

    pub(crate) fn accepted_message(&self, now: i64) -> String {
        format!("250 2.0.0 OK  {now} {} - gsmtp\r\n", self.sid)
    }

    pub(crate) fn closing_421(&self) -> String {
        self.line("421 4.7.0", "Try again later, closing connection.")
    }
}

/// `code-line\r\n … code last\r\n`
fn multi(code: &str, lines: &[String]) -> String {
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let sep = if i + 1 == lines.len() { ' ' } else { '-' };
        out.push_str(&format!("{code}{sep}{l}\r\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoauth2_challenge_is_the_live_one() {
        assert_eq!(
            xoauth2_challenge(),
            "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ=="
        );
    }
}
