//! SMTP through lettre on tokio with rustls: OAUTHBEARER or XOAUTH2 (`sign_in.rs`), implicit
//! TLS (465) or STARTTLS (587), certificates always verified (a provider's extra CA is added
//! as a root, never "accept invalid certs"), and one pool of signed-in connections per account
//! reused across sends (see `pool.rs` for why the pool is ours and not lettre's).
//!
//! A connection is signed in with one access token, so an account's pool is rebuilt when
//! its token changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
use lettre::Address;
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::mail::endpoint::SmtpEndpoint;
use crate::mail::pool::{hang_up, Pool};
use crate::mail::reply::explain;
use crate::secret::Secret;

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
}
