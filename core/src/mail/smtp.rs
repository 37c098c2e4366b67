//! SMTP through lettre on tokio with rustls: OAUTHBEARER or XOAUTH2 (`sign_in.rs`), implicit
//! TLS (465) or STARTTLS (587), certificates always verified (a provider's extra CA is added
//! as a root, never "accept invalid certs"), and one pool of signed-in connections per account
//! reused across sends (see `pool.rs` for why the pool is ours and not lettre's).
//!
//! A connection is signed in with one access token, so an account's pool is rebuilt when
//! its token changes.

use std::collections::HashMap;
use std::error::Error as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, Certificate, CertificateStore, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
use lettre::Address;
use tokio::sync::Mutex;

use crate::mail::pool::{hang_up, Pool};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (port 465, Gmail's default).
    ImplicitTls,
    /// Plain text, then STARTTLS before anything else (port 587). Never sends without TLS.
    StartTls,
}

/// Where an account's SMTP server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpEndpoint {
    /// Host name (or IP literal) the certificate must name.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Implicit TLS or STARTTLS.
    pub security: Security,
    /// A PEM file with an extra CA to trust (the sandbox's), on top of the usual roots.
    pub extra_ca_pem: Option<PathBuf>,
}

/// The server's final reply to a message it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The reply code (250).
    pub code: u16,
    /// The reply text, e.g. `2.0.0 OK 1764064800 id - gsmtp`.
    pub text: String,
}

/// One pool of signed-in connections per account, rebuilt when its endpoint or access token
/// changes (a connection is signed in with one token).
pub struct Mailer {
    pools: Mutex<HashMap<String, Arc<Pool>>>,
    pool_size: usize,
}

/// How long the server may take to accept a small message once connected.
const SEND_TIMEOUT: Duration = Duration::from_secs(120);
/// The slowest upload allowed for (bytes per second): a large message gets its size's worth
/// of time on top, so that a 35 MB message on a slow uplink is not cut off and re-sent forever.
const SLOWEST_UPLOAD: u64 = 64 * 1024;

/// The time allowed for sending `bytes`: [`SEND_TIMEOUT`] plus the upload at [`SLOWEST_UPLOAD`].
fn send_timeout(bytes: usize) -> Duration {
    SEND_TIMEOUT + Duration::from_secs(bytes as u64 / SLOWEST_UPLOAD)
}

impl Mailer {
    /// A mailer keeping up to `pool_size` idle connections per account (at least 1).
    pub fn new(pool_size: u32) -> Self {
        Mailer {
            pools: Mutex::new(HashMap::new()),
            pool_size: pool_size.max(1) as usize,
        }
    }

    /// Sends `raw` from `account` to `recipients`, signing in with `token` (OAUTHBEARER when
    /// the server offers it, else XOAUTH2).
    pub async fn send(
        &self,
        endpoint: &SmtpEndpoint,
        account: &str,
        token: &Secret,
        recipients: &[String],
        raw: &[u8],
    ) -> Result<Accepted> {
        let envelope = envelope(account, recipients)?;
        let pool = self.pool(endpoint, account, token).await;
        let mut conn = match pool.take().await {
            Ok(conn) => conn,
            Err(e) => {
                if matches!(e, Error::SmtpAuthRejected { .. } | Error::Tls { .. }) {
                    self.forget(account).await;
                }
                return Err(e);
            }
        };
        let limit = send_timeout(raw.len());
        match tokio::time::timeout(limit, transmit(&mut conn, &envelope, raw)).await {
            Ok(Ok(reply)) => {
                pool.give_back(conn).await;
                Ok(Accepted {
                    code: u16::from(reply.code()),
                    text: reply.message().collect::<Vec<_>>().join(" "),
                })
            }
            Ok(Err(e)) => {
                hang_up(conn).await;
                Err(e.explained(&endpoint.host))
            }
            Err(_) => {
                hang_up(conn).await;
                Err(Error::SmtpConnection {
                    why: format!(
                        "{} did not accept the message within {} seconds",
                        endpoint.host,
                        limit.as_secs()
                    ),
                })
            }
        }
    }

    /// Closes the account's pooled connections (on revoke, removal, or a refused token).
    pub async fn forget(&self, account: &str) {
        let old = self.pools.lock().await.remove(&key(account));
        if let Some(old) = old {
            tokio::spawn(async move { old.close().await });
        }
    }

    async fn pool(&self, endpoint: &SmtpEndpoint, account: &str, token: &Secret) -> Arc<Pool> {
        let mut map = self.pools.lock().await;
        if let Some(p) = map.get(&key(account)) {
            if p.serves(endpoint, token) {
                return p.clone();
            }
        }
        let pool = Arc::new(Pool::new(
            endpoint.clone(),
            account,
            token.clone(),
            self.pool_size,
        ));
        if let Some(old) = map.insert(key(account), pool.clone()) {
            tokio::spawn(async move { old.close().await });
        }
        pool
    }
}

fn key(account: &str) -> String {
    account.to_ascii_lowercase()
}

/// What a message is handed to lettre in: small enough that its dot-stuffed copy is no
/// burden, large enough that the writes stay few.
const PIECE: usize = 64 * 1024;

/// Why a transmission failed: lettre's error, or a check made before anything was sent.
enum Refused {
    Smtp(lettre::transport::smtp::Error),
    Here(Error),
}

impl Refused {
    fn explained(self, host: &str) -> Error {
        match self {
            Refused::Smtp(e) => explain(&e, host),
            Refused::Here(e) => e,
        }
    }
}

impl From<lettre::transport::smtp::Error> for Refused {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        Refused::Smtp(e)
    }
}

/// lettre's `send` (MAIL with the 8BITMIME and SMTPUTF8 parameters it would choose, RCPT,
/// DATA, the message), except that the message goes to lettre in pieces: lettre's `send`
/// first dot-stuffs the whole message into one more buffer of its size, a second copy of a
/// 35 MB message. lettre's codec keeps its state between pieces, so a line split across two
/// is stuffed right. (lettre has no SMTP PIPELINING, so each command waits for its reply.)
async fn transmit(
    conn: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    raw: &[u8],
) -> std::result::Result<lettre::transport::smtp::response::Response, Refused> {
    let info = conn.server_info();
    let mut options = Vec::new();
    let addresses = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if addresses {
        if !info.supports_feature(Extension::SmtpUtfEight) {
            // 555: what a server answers a MAIL parameter it does not take (RFC 5321).
            return Err(Refused::Here(Error::SmtpRejected {
                code: 555,
                text: "the server does not take addresses beyond ASCII (no SMTPUTF8)".into(),
            }));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !raw.is_ascii() {
        if !info.supports_feature(Extension::EightBitMime) {
            return Err(Refused::Here(Error::SmtpRejected {
                code: 555,
                text: "the message has 8-bit text and the server does not take it (no 8BITMIME)"
                    .into(),
            }));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options))
        .await?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![])).await?;
    }
    conn.command(Data).await?;
    Ok(conn.message_iter(raw.chunks(PIECE)).await?)
}

fn envelope(account: &str, recipients: &[String]) -> Result<Envelope> {
    let parse = |a: &str| {
        a.parse::<Address>().map_err(|e| Error::NotAnAddress {
            field: "the envelope".into(),
            value: a.into(),
            why: e.to_string(),
        })
    };
    let to = recipients
        .iter()
        .map(|r| parse(r))
        .collect::<Result<Vec<_>>>()?;
    Envelope::new(Some(parse(account)?), to).map_err(|_| Error::NoRecipients)
}

/// TLS settings: the usual roots plus the provider's extra CA, certificates always checked.
pub fn tls_parameters(endpoint: &SmtpEndpoint) -> Result<TlsParameters> {
    let mut builder =
        TlsParameters::builder(endpoint.host.clone()).certificate_store(CertificateStore::Default);
    if let Some(path) = &endpoint.extra_ca_pem {
        let pem = std::fs::read(path).map_err(|e| Error::ProviderConfig {
            why: format!("cannot read the extra CA file {}: {e}", path.display()),
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| Error::ProviderConfig {
            why: format!("{} is not a PEM certificate: {e}", path.display()),
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| Error::Tls {
        host: endpoint.host.clone(),
        why: e.to_string(),
        profile: None,
    })
}

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

/// Plain explanations for SMTP reply codes (Gmail's table in google-protocol.md §12).
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
    fn a_large_message_gets_time_for_its_upload() {
        assert_eq!(send_timeout(2_000), SEND_TIMEOUT);
        // Gmail's largest message at 64 KiB/s: about 9 minutes on top of the base.
        let big = send_timeout(35_882_577);
        assert_eq!(big, SEND_TIMEOUT + Duration::from_secs(547));
    }

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

    #[test]
    fn a_missing_extra_ca_file_is_a_configuration_error() {
        let e = tls_parameters(&SmtpEndpoint {
            host: "127.0.0.1".into(),
            port: 465,
            security: Security::ImplicitTls,
            extra_ca_pem: Some("/nonexistent/ca.pem".into()),
        })
        .err()
        .unwrap();
        assert_eq!(e.code(), "provider_config");
    }
}
