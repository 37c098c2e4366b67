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
use oauth2::{
    AccessToken, AuthType, RefreshToken, RequestTokenError, RevocationRequest,
    StandardRevocableToken,
};

use crate::auth::oauth::{self, transport_error, ProfileClient, Transport};
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

/// oauth2's revocation request for `token` from `oauth_client`.
fn oauth2_request<'a>(
    oauth_client: &'a ProfileClient,
    token: &Secret,
    hint: &str,
) -> Result<RevocationRequest<'a, StandardRevocableToken, BasicRevocationErrorResponse>> {
    let token = token.expose().to_owned();
    let token = if hint == "access_token" {
        StandardRevocableToken::AccessToken(AccessToken::new(token))
    } else {
        StandardRevocableToken::RefreshToken(RefreshToken::new(token))
    };
    oauth_client
        .revoke_token(token)
        .map_err(|e| Error::ProviderConfig {
            why: format!("revocation_endpoint: {e}"),
        })
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
    let request = oauth2_request(&oauth_client, token, hint)?;
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

/// The request that carries the token alone.
fn unauthenticated_request(
    http: &reqwest::Client,
    provider: &Provider,
    token: &Secret,
    hint: &str,
) -> reqwest::Result<reqwest::Request> {
    http.post(&provider.revocation_endpoint)
        .form(&[("token", token.expose()), ("token_type_hint", hint)])
        .build()
}

/// Revokes with the token alone in the body.
async fn unauthenticated(provider: &Provider, token: &Secret, hint: &str) -> Result<Answer> {
    let http = provider.http_client()?;
    let resp = match unauthenticated_request(&http, provider, token, hint) {
        Ok(request) => http.execute(request).await,
        Err(e) => Err(e),
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use oauth2::http::header::AUTHORIZATION;
    use oauth2::{HttpRequest, HttpResponse};

    use super::*;

    /// What oauth2 sends for the profile's client authenticating as `auth` (no network: the
    /// request is caught and answered 200).
    fn sent_by_oauth2(auth: AuthType, hint: &str) -> (String, Option<String>) {
        let p = crate::provider::google();
        let secret = Secret::new("s/cr t");
        let oauth_client = oauth::client(&p, "id:1", Some(&secret), auth).unwrap();
        let caught = Mutex::new(None);
        oauth2_request(&oauth_client, &Secret::new("1//tok"), hint)
            .unwrap()
            .request(&|req: HttpRequest| {
                *caught.lock().unwrap() = Some(req);
                Ok::<_, std::convert::Infallible>(HttpResponse::new(Vec::new()))
            })
            .unwrap();
        let req = caught.into_inner().unwrap().unwrap();
        assert_eq!(req.uri().to_string(), p.revocation_endpoint);
        let header = req
            .headers()
            .get(AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (String::from_utf8(req.into_body()).unwrap(), header)
    }

    #[test]
    fn client_secret_basic_sends_the_token_in_the_body_and_the_client_in_the_header() {
        let (body, header) = sent_by_oauth2(AuthType::BasicAuth, "refresh_token");
        assert_eq!(body, "token=1%2F%2Ftok&token_type_hint=refresh_token");
        // RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic.
        let expected = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "id%3A1:s%2Fcr+t",
        );
        assert_eq!(header, Some(format!("Basic {expected}")));
    }

    #[test]
    fn client_secret_post_sends_the_client_in_the_body_and_no_header() {
        let (body, header) = sent_by_oauth2(AuthType::RequestBody, "access_token");
        assert_eq!(
            body,
            "token=1%2F%2Ftok&token_type_hint=access_token&client_id=id%3A1&client_secret=s%2Fcr+t"
        );
        assert_eq!(header, None);
    }

    #[test]
    fn no_client_authentication_sends_the_token_alone() {
        let p = crate::provider::google();
        let http = p.http_client().unwrap();
        let req =
            unauthenticated_request(&http, &p, &Secret::new("1//tok"), "refresh_token").unwrap();
        assert_eq!(req.url().as_str(), p.revocation_endpoint);
        assert!(req.headers().get(AUTHORIZATION).is_none());
        let body = req.body().and_then(|b| b.as_bytes()).unwrap();
        assert_eq!(body, b"token=1%2F%2Ftok&token_type_hint=refresh_token");
    }
}
