//! RFC 7009 revocation (google-protocol.md §7): `POST token=…`. Google answers 400
//! `invalid_token` for a token that is already dead, which counts as done.

use crate::auth::exchange::transport_error;
use crate::error::{Error, Result};
use crate::provider::Provider;
use crate::secret::Secret;

/// How the provider took the revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revoked {
    /// The grant was live and is now revoked.
    Now,
    /// The token was already dead or unknown.
    AlreadyDead,
}

/// Revokes `token` (refresh or access; either ends the whole grant at Google).
pub(crate) async fn revoke(provider: &Provider, token: &Secret, hint: &str) -> Result<Revoked> {
    let resp = provider
        .http_client()?
        .post(&provider.revocation_endpoint)
        .form(&[("token", token.expose()), ("token_type_hint", hint)])
        .send()
        .await
        .map_err(|e| transport_error("the revocation endpoint", &e))?;
    let status = resp.status().as_u16();
    if status == 200 {
        return Ok(Revoked::Now);
    }
    let v: serde_json::Value = resp.json().await.unwrap_or_default();
    let error = v["error"].as_str().unwrap_or_default();
    if status == 400 && error == "invalid_token" {
        return Ok(Revoked::AlreadyDead);
    }
    Err(Error::RevokeFailed {
        why: format!("the provider answered {status} {error}"),
    })
}
