//! The parsers that read untrusted input, callable from the property tests (core/tests/
//! properties*.rs) and the fuzz targets (fuzz/): redirects and pasted addresses, `--raw`
//! messages, address lists, token endpoint answers, id_token claims, SMTP replies and SASL
//! challenges, providers.toml, Google's client JSON and redaction. Not a stable API.

use std::str::FromStr;
use std::sync::Mutex;

use tokio::sync::oneshot;

use crate::auth::loopback::{Catch, Redirect};
use crate::error::{Error, Result};
use crate::provider::Provider;
use crate::secret::Secret;

pub use crate::activity::redact;
pub use crate::mail::compose::parse_list;
pub use crate::mail::raw::parse_raw;
pub use crate::provider::parse_providers;

/// What one redirect catcher did with a series of requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caught {
    /// For each request in order: whether it ended the flow.
    pub accepted: Vec<bool>,
    /// The code the flow received, if a request carrying one was accepted.
    pub code: Option<String>,
}

fn catcher(state: &str) -> (Catch, oneshot::Receiver<crate::auth::loopback::Caught>) {
    let (tx, rx) = oneshot::channel();
    (Catch::new(Secret::new(state), Mutex::new(Some(tx))), rx)
}

fn caught(accepted: Vec<bool>, mut rx: oneshot::Receiver<crate::auth::loopback::Caught>) -> Caught {
    let code = match rx.try_recv() {
        Ok(c) => match c.redirect {
            Redirect::Code { code, .. } => Some(code.expose().to_owned()),
            _ => None,
        },
        Err(_) => None,
    };
    Caught { accepted, code }
}

/// Feeds the query strings, in order, to the loopback redirect catcher of a flow whose
/// `state` is `state`.
pub fn redirect_queries(state: &str, queries: &[&str]) -> Caught {
    let (catch, rx) = catcher(state);
    let accepted = queries.iter().map(|q| catch.judge_query(q)).collect();
    caught(accepted, rx)
}

/// Feeds pasted addresses, in order, to the paste fallback of a flow whose `state` is `state`.
pub fn pasted_addresses(state: &str, pasted: &[&str]) -> Caught {
    let (catch, rx) = catcher(state);
    let accepted = pasted
        .iter()
        .map(|p| catch.accept_pasted(p).is_ok())
        .collect();
    caught(accepted, rx)
}

/// LF to CRLF as `--raw` applies it.
pub fn to_crlf(input: &[u8]) -> Vec<u8> {
    crate::mail::raw::to_crlf(input)
}

/// How a refused token request is classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRefusal {
    /// The error kind (`invalid_grant`, `invalid_client`, `token_endpoint`, …).
    pub kind: &'static str,
    /// Whether the refresher deletes the stored tokens for it (only `invalid_grant`).
    pub deletes_tokens: bool,
    /// Whether it is retried with backoff.
    pub transient: bool,
    /// What the person is told.
    pub message: String,
}

/// Classifies a token endpoint answer with status `status` and body `body`: Ok(expires_in)
/// for tokens, the refusal otherwise.
pub fn token_answer(status: u16, body: &str) -> std::result::Result<i64, TokenRefusal> {
    crate::auth::exchange::parse_answer(status, body, "Google (Gmail)")
        .map(|t| t.expires_in)
        .map_err(|e| TokenRefusal {
            kind: e.code(),
            deletes_tokens: matches!(e, Error::InvalidGrant { .. }),
            transient: e.is_transient(),
            message: format!("{e} {}", e.explain().message),
        })
}

/// The lifetime bounds token answers are clamped to.
pub const EXPIRES_IN_RANGE: (i64, i64) = (
    crate::auth::exchange::MIN_EXPIRES_IN,
    crate::auth::exchange::MAX_EXPIRES_IN,
);

/// Checks an id_token's claims for a provider with issuer `issuer` and our `client_id`;
/// the address it names.
pub fn id_token_email(
    id_token: &str,
    issuer: Option<&str>,
    client_id: &str,
    now_unix: i64,
) -> Result<String> {
    let mut p = crate::provider::google();
    p.issuer = issuer.map(str::to_owned);
    crate::auth::validate::id_token_claims(&Secret::new(id_token), &p, client_id, now_unix)?
        .email
        .ok_or(Error::IdentityMissing { provider: p.label })
}

/// An SMTP reply as lettre parses it from the wire, and what Postern reads from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpReply {
    /// The three-digit code.
    pub code: u16,
    /// AUTH mechanisms, were it an EHLO reply.
    pub mechanisms: Vec<String>,
    /// What is said about it, were it a SASL error challenge.
    pub challenge: String,
    /// The error kind and message, were it a refusal.
    pub refusal: (&'static str, String),
}

/// Parses `text` as an SMTP reply (None when lettre does not take it for one).
pub fn smtp_reply(text: &str) -> Option<SmtpReply> {
    let r = lettre::transport::smtp::response::Response::from_str(text).ok()?;
    let code = u16::from(r.code());
    let e = crate::mail::reply::from_reply(code, r.message().collect::<Vec<_>>().join(" "));
    Some(SmtpReply {
        code,
        mechanisms: crate::mail::sign_in::offered_mechanisms(&r),
        challenge: crate::mail::sign_in::describe_challenge(&r),
        refusal: (e.code(), e.explain().message),
    })
}

/// Reads a Google client JSON; its client ID.
pub fn google_client_json(json: &str) -> Result<String> {
    crate::provider::parse_google_client_json(json).map(|c| c.client_id)
}

/// Reads a providers.toml text; the profiles' names.
pub fn providers(text: &str) -> Result<Vec<Provider>> {
    parse_providers(text, "providers.toml")
}
