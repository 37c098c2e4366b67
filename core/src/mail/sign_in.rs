//! Signing an SMTP connection in with an OAuth access token: OAUTHBEARER (RFC 7628) when the
//! server's EHLO offers it, XOAUTH2 otherwise.
//!
//! lettre's `Mechanism` has no OAUTHBEARER, and its `ServerInfo` drops AUTH mechanisms it
//! does not know, so Postern asks for the capabilities once more (a second `EHLO`, which
//! RFC 5321 allows at any time before a transaction) and reads the `AUTH` line itself. The
//! exchange is a few `command()` calls on lettre's connection; lettre still reads and parses
//! every reply, and speaks everything else.
//!
//! XOAUTH2 goes the same way rather than through lettre's `auth()`: when the token is refused
//! the server sends a `334` error challenge that lettre's XOAUTH2 does not expect, so lettre
//! would drop the connection instead of answering. Here both mechanisms answer the challenge
//! as their specifications say (an empty line for XOAUTH2, `AQ==` — one `0x01` — for
//! OAUTHBEARER) and report the server's final `535 5.7.8` in plain words.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::Ehlo;
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;

use crate::error::{Error, Result};
use crate::mail::endpoint::SmtpEndpoint;
use crate::mail::reply::explain;
use crate::secret::Secret;

/// The OAuth SASL mechanism a connection signed in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthMechanism {
    /// RFC 7628, preferred when the server offers it.
    OAuthBearer,
    /// Google's XOAUTH2, offered by every Gmail server.
    XOAuth2,
}

impl OAuthMechanism {
    /// The name in `AUTH <name>` and in EHLO's AUTH line.
    pub fn name(self) -> &'static str {
        match self {
            OAuthMechanism::OAuthBearer => "OAUTHBEARER",
            OAuthMechanism::XOAuth2 => "XOAUTH2",
        }
    }

    /// What the client sends after the server's error challenge: the mechanism's way of
    /// saying "I give up" so that the server ends the exchange with its failure reply.
    fn abort_answer(self) -> &'static str {
        match self {
            OAuthMechanism::OAuthBearer => "AQ==\r\n",
            OAuthMechanism::XOAuth2 => "\r\n",
        }
    }
}

/// The AUTH mechanisms an EHLO reply offers, upper-cased (`AUTH a b c` and the old `AUTH=a b`).
pub fn offered_mechanisms(ehlo: &Response) -> Vec<String> {
    let mut out = Vec::new();
    for line in ehlo.message() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        let upper = first.to_ascii_uppercase();
        if upper == "AUTH" {
            out.extend(words.map(str::to_ascii_uppercase));
        } else if let Some(rest) = upper.strip_prefix("AUTH=") {
            out.extend(
                std::iter::once(rest.to_owned())
                    .chain(words.map(str::to_ascii_uppercase))
                    .filter(|m| !m.is_empty()),
            );
        }
    }
    out
}

/// OAUTHBEARER when offered, else XOAUTH2 when offered, else None.
pub fn choose(offered: &[String]) -> Option<OAuthMechanism> {
    [OAuthMechanism::OAuthBearer, OAuthMechanism::XOAuth2]
        .into_iter()
        .find(|m| offered.iter().any(|o| o == m.name()))
}

/// The client's first response, before base64.
fn payload(mech: OAuthMechanism, ep: &SmtpEndpoint, user: &str, token: &Secret) -> Secret {
    match mech {
        // RFC 7628 §3.1: the authzid is a saslname, so ',' and '=' are escaped.
        OAuthMechanism::OAuthBearer => Secret::new(format!(
            "n,a={},\x01host={}\x01port={}\x01auth=Bearer {}\x01\x01",
            user.replace('=', "=3D").replace(',', "=2C"),
            ep.host,
            ep.port,
            token.expose()
        )),
        OAuthMechanism::XOAuth2 => Secret::new(format!(
            "user={user}\x01auth=Bearer {}\x01\x01",
            token.expose()
        )),
    }
}

/// Signs `conn` in as `user` with `token`, choosing the mechanism from a fresh EHLO.
/// A refused token is `SmtpAuthRejected` with the server's final reply (535 5.7.8 on Gmail).
/// The caller aborts the connection on error; the caller's timeout bounds the whole exchange.
pub(crate) async fn sign_in(
    conn: &mut AsyncSmtpConnection,
    hello: &ClientId,
    ep: &SmtpEndpoint,
    user: &str,
    token: &Secret,
) -> Result<OAuthMechanism> {
    let ehlo = conn
        .command(Ehlo::new(hello.clone()))
        .await
        .map_err(|e| explain(&e, &ep.host))?;
    let Some(mech) = choose(&offered_mechanisms(&ehlo)) else {
        return Err(Error::SmtpRejected {
            code: 504,
            text: format!("{} offers neither OAUTHBEARER nor XOAUTH2 sign-in", ep.host),
        });
    };
    let initial = payload(mech, ep, user, token);
    let command = Secret::new(format!(
        "AUTH {} {}\r\n",
        mech.name(),
        STANDARD.encode(initial.expose())
    ));
    let reply = conn
        .command(command.expose())
        .await
        .map_err(|e| explain(&e, &ep.host))?;
    if reply.has_code(235) {
        return Ok(mech);
    }
    if !reply.has_code(334) {
        return Err(Error::SmtpAuthRejected {
            code: u16::from(reply.code()),
            text: format!("{} answered AUTH {} unexpectedly", ep.host, mech.name()),
        });
    }
    // The error challenge (base64 JSON, e.g. {"status":"invalid_token",…}): the token was
    // refused. Answer so the server ends the exchange, and report its final reply.
    let challenge = describe_challenge(&reply);
    match conn.command(mech.abort_answer()).await {
        Err(e) => Err(match explain(&e, &ep.host) {
            Error::SmtpAuthRejected { code, text } => Error::SmtpAuthRejected {
                code,
                text: format!("{text} ({} refused the token{challenge})", mech.name()),
            },
            other => other,
        }),
        Ok(r) => Err(Error::SmtpAuthRejected {
            code: u16::from(r.code()),
            text: format!(
                "{} refused the token{challenge}, then answered {} instead of a failure",
                mech.name(),
                u16::from(r.code())
            ),
        }),
    }
}

/// `: status invalid_token` from the server's base64 JSON challenge, when it has one.
pub(crate) fn describe_challenge(reply: &Response) -> String {
    let status = reply
        .first_line()
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(str::to_owned));
    match status {
        Some(s) if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            format!(": status {s}")
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::transport::smtp::response::{Category, Code, Detail, Severity};

    fn ehlo(lines: &[&str]) -> Response {
        Response::new(
            Code::new(
                Severity::PositiveCompletion,
                Category::MailSystem,
                Detail::Zero,
            ),
            lines.iter().map(|l| l.to_string()).collect(),
        )
    }

    #[test]
    fn oauthbearer_is_preferred_when_offered() {
        let gmail = ehlo(&[
            "smtp.gmail.com at your service",
            "SIZE 35882577",
            "AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH",
        ]);
        assert_eq!(
            choose(&offered_mechanisms(&gmail)),
            Some(OAuthMechanism::OAuthBearer)
        );
        let older = ehlo(&["x", "auth login xoauth2"]);
        assert_eq!(
            choose(&offered_mechanisms(&older)),
            Some(OAuthMechanism::XOAuth2)
        );
        let old_style = ehlo(&["x", "AUTH=OAUTHBEARER"]);
        assert_eq!(
            choose(&offered_mechanisms(&old_style)),
            Some(OAuthMechanism::OAuthBearer)
        );
        let none = ehlo(&["x", "AUTH LOGIN PLAIN", "XOAUTH2-NOT-AUTH"]);
        assert_eq!(choose(&offered_mechanisms(&none)), None);
    }

    #[test]
    fn payloads_follow_rfc_7628_and_googles_xoauth2() {
        let ep = SmtpEndpoint {
            host: "smtp.gmail.com".into(),
            port: 587,
            security: crate::provider::SmtpSecurity::StartTls,
            extra_ca_pem: None,
        };
        let tok = Secret::new("ya29.tok");
        assert_eq!(
            payload(OAuthMechanism::OAuthBearer, &ep, "a,b=c@example.com", &tok).expose(),
            "n,a=a=2Cb=3Dc@example.com,\x01host=smtp.gmail.com\x01port=587\x01auth=Bearer ya29.tok\x01\x01"
        );
        // Google's XOAUTH2 test vector, with a short stand-in token.
        let t = Secret::new("ya29.sample-token");
        let p = payload(OAuthMechanism::XOAuth2, &ep, "someuser@example.com", &t);
        assert_eq!(
            STANDARD.encode(p.expose()),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnNhbXBsZS10b2tlbgEB"
        );
    }

    #[test]
    fn the_challenge_status_is_named_but_never_anything_else() {
        let r = |b64: &str| {
            Response::new(
                Code::new(
                    Severity::PositiveIntermediate,
                    Category::Unspecified3,
                    Detail::Four,
                ),
                vec![b64.to_string()],
            )
        };
        let json = STANDARD.encode(r#"{"status":"invalid_token","schemes":"Bearer"}"#);
        assert_eq!(describe_challenge(&r(&json)), ": status invalid_token");
        let odd = STANDARD.encode(r#"{"status":"ya29 secret words"}"#);
        assert_eq!(describe_challenge(&r(&odd)), "");
        assert_eq!(describe_challenge(&r("not base64!")), "");
    }
}
