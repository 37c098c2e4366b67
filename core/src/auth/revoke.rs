//! RFC 7009 revocation: `POST token=…&token_type_hint=…`, with the client authentication the
//! profile names (docs/google.md says why Google's is none). Only a 200, or Google's 400
//! `invalid_token` for a token already dead, confirms; everything else is "not confirmed".

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::auth::exchange::transport_error;
use crate::error::{Error, Result};
use crate::provider::{ClientAuth, Provider};
use crate::secret::Secret;

/// How the provider took the revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revoked {
    /// The grant was live and is now revoked.
    Now,
    /// The token was already dead or unknown.
    AlreadyDead,
}

/// The client, as the revocation request names it.
pub(crate) struct Client<'a> {
    pub(crate) id: &'a str,
    pub(crate) secret: &'a Secret,
}

/// RFC 6749 §2.3.1: Basic credentials are the form-urlencoded id and secret.
fn basic(client: &Client<'_>) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", enc(client.id), enc(client.secret.expose()));
    format!("Basic {}", STANDARD.encode(pair))
}

/// Revokes `token` (refresh or access; at Google either ends the whole grant). An error means
/// the provider did not confirm: the grant may still be live.
pub(crate) async fn revoke(
    provider: &Provider,
    client: &Client<'_>,
    token: &Secret,
    hint: &str,
) -> Result<Revoked> {
    let not_confirmed = |why: String| Error::RevocationNotConfirmed {
        provider: provider.label.clone(),
        why,
        access_page: provider.access_page.clone(),
    };
    let mut form = vec![("token", token.expose()), ("token_type_hint", hint)];
    let mut req = provider.http_client()?.post(&provider.revocation_endpoint);
    match provider.revocation_auth {
        ClientAuth::ClientSecretBasic => {
            req = req.header(reqwest::header::AUTHORIZATION, basic(client));
        }
        ClientAuth::ClientSecretPost => {
            form.push(("client_id", client.id));
            form.push(("client_secret", client.secret.expose()));
        }
        ClientAuth::None => {}
    }
    let resp = req.form(&form).send().await.map_err(|e| {
        let cause = transport_error("the revocation endpoint", &e);
        tracing::warn!("revocation request failed: {cause}");
        not_confirmed(match cause {
            Error::Tls { .. } => "its certificate was refused".to_owned(),
            _ => "it could not be reached".to_owned(),
        })
    })?;
    let status = resp.status().as_u16();
    if status == 200 {
        return Ok(Revoked::Now);
    }
    let v: serde_json::Value = resp.json().await.unwrap_or_default();
    let error = v["error"].as_str().unwrap_or_default();
    if status == 400 && error == "invalid_token" {
        return Ok(Revoked::AlreadyDead);
    }
    let words = match (status, error) {
        (401, _) | (_, "invalid_client") => format!(
            "it answered {status} {error}: it did not accept Postern's client credentials at revocation"
        ),
        (s, _) if s >= 500 || s == 429 => format!("it answered {status}: it is busy or failing"),
        _ => format!("it answered {status} {error}"),
    };
    Err(not_confirmed(words))
}
