//! RFC 7009 revocation: `token=…&token_type_hint=…` with the client authentication the
//! profile names (docs/google.md, "Revocation", says why Google's is none). Only a 200, or
//! Google's 400 `invalid_token` for a token already dead, confirms; everything else is "not
//! confirmed".
//!
//! `client_secret_basic` and `client_secret_post` are oauth2's revocation request. `none` is
//! sent on the profile's reqwest client directly: oauth2 always names the client (its
//! `client_id` goes in the body when there is no Basic header), and Google's documented
//! request carries the token alone.

use oauth2::basic::BasicRevocationErrorResponse;
use oauth2::{AccessToken, AuthType, RefreshToken, RequestTokenError, StandardRevocableToken};

use crate::auth::oauth::{self, transport_error, Transport};
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

/// The answer's HTTP status and RFC 7009 `error` ("" when it names none).
type Answer = (u16, String);

fn not_confirmed(provider: &Provider, why: String) -> Error {
    Error::RevocationNotConfirmed {
        provider: provider.label.clone(),
        why,
        access_page: provider.access_page.clone(),
    }
}

/// The revocation request got no answer (`cause` says why).
fn unreachable(provider: &Provider, cause: Error) -> Error {
    tracing::warn!("revocation request failed: {cause}");
    not_confirmed(
        provider,
        match cause {
            Error::Tls { .. } => "its certificate was refused".to_owned(),
            _ => "it could not be reached".to_owned(),
        },
    )
}

/// Revokes through oauth2, the client authenticating as `auth` says.
async fn authenticated(
    provider: &Provider,
    client: &Client<'_>,
    auth: AuthType,
    token: &Secret,
    hint: &str,
) -> Result<Answer> {
    let oauth_client = oauth::client(provider, client.id, Some(client.secret), auth)?;
    let token = token.expose().to_owned();
    let token = if hint == "access_token" {
        StandardRevocableToken::AccessToken(AccessToken::new(token))
    } else {
        StandardRevocableToken::RefreshToken(RefreshToken::new(token))
    };
    let request = oauth_client
        .revoke_token(token)
        .map_err(|e| Error::ProviderConfig {
            why: format!("revocation_endpoint: {e}"),
        })?;
    let transport = Transport::new(provider)?;
    match request.request_async(&transport).await {
        Ok(()) => Ok((200, String::new())),
        Err(RequestTokenError::ServerResponse(e)) => {
            Ok((transport.status(), e.error().as_ref().to_owned()))
        }
        Err(RequestTokenError::Request(e)) => Err(unreachable(
            provider,
            oauth::unanswered("the revocation endpoint", &e),
        )),
        Err(RequestTokenError::Parse(..) | RequestTokenError::Other(_)) => {
            Ok((transport.status(), String::new()))
        }
    }
}

/// Revokes with the token alone in the body.
async fn unauthenticated(provider: &Provider, token: &Secret, hint: &str) -> Result<Answer> {
    let resp = provider
        .http_client()?
        .post(&provider.revocation_endpoint)
        .form(&[("token", token.expose()), ("token_type_hint", hint)])
        .send()
        .await
        .map_err(|e| unreachable(provider, transport_error("the revocation endpoint", &e)))?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap_or_default();
    let error = serde_json::from_slice::<BasicRevocationErrorResponse>(&body)
        .map(|e| e.error().as_ref().to_owned())
        .unwrap_or_default();
    Ok((status, error))
}

/// Revokes `token` (refresh or access, as `hint` says: `refresh_token` or `access_token`; at
/// Google either ends the whole grant). An error means the provider did not confirm: the
/// grant may still be live.
pub(crate) async fn revoke(
    provider: &Provider,
    client: &Client<'_>,
    token: &Secret,
    hint: &str,
) -> Result<Revoked> {
    let (status, error) = match provider.revocation_auth {
        ClientAuth::ClientSecretBasic => {
            authenticated(provider, client, AuthType::BasicAuth, token, hint).await?
        }
        ClientAuth::ClientSecretPost => {
            authenticated(provider, client, AuthType::RequestBody, token, hint).await?
        }
        ClientAuth::None => unauthenticated(provider, token, hint).await?,
    };
    if status == 200 {
        return Ok(Revoked::Now);
    }
    if status == 400 && error == "invalid_token" {
        return Ok(Revoked::AlreadyDead);
    }
    let words = match (status, error.as_str()) {
        (401, _) | (_, "invalid_client") => format!(
            "it answered {status} {error}: it did not accept Postern's client credentials at revocation"
        ),
        (s, _) if s >= 500 || s == 429 => format!("it answered {status}: it is busy or failing"),
        _ => format!("it answered {status} {error}"),
    };
    Err(not_confirmed(provider, words))
}
