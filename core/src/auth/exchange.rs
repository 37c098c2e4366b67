//! The token endpoint on oauth2 (see [`crate::auth::oauth`]): the code exchange with the PKCE
//! verifier, and the refresh grant. A refusal is classified by its HTTP status and oauth2's
//! typed error together (docs/google.md, "Code exchange and refresh"); errors keep the
//! provider's `error` and redacted description but never a token.

use std::borrow::Cow;
use std::convert::Infallible;

use oauth2::basic::BasicErrorResponse;
use oauth2::http::{header, HeaderValue, StatusCode};
use oauth2::{
    AuthType, AuthorizationCode, ClientId, HttpClientError, HttpResponse, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, TokenUrl,
};

use crate::auth::oauth::{self, TokenAnswer, Transport};
use crate::error::{Error, Result, RevokedCause};
use crate::provider::Provider;
use crate::secret::Secret;

pub(crate) use crate::auth::oauth::{MAX_EXPIRES_IN, MIN_EXPIRES_IN};

/// What the token endpoint returned. Every token is a [`Secret`].
pub(crate) struct TokenResponse {
    pub(crate) access_token: Secret,
    pub(crate) expires_in: i64,
    pub(crate) refresh_token: Option<Secret>,
    /// Granted scopes, space-delimited.
    pub(crate) scope: Option<String>,
    pub(crate) id_token: Option<Secret>,
    /// Seconds until a time-based grant ends (Google's `refresh_token_expires_in`).
    pub(crate) refresh_token_expires_in: Option<i64>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Classifies a refused token request by its HTTP status and its `error` together.
/// Only a 400 may say the grant is dead (which deletes the tokens); `invalid_client` counts
/// with 400 or 401. Anything else, whatever its body says, keeps its status, so a 5xx or 429
/// that claims `invalid_grant` stays transient. The description is the provider's text,
/// redacted, since it ends up in the activity log and in error messages.
fn refused(status: u16, error: &str, description: Option<&str>, provider: &str) -> Error {
    let description = crate::activity::redact(description.unwrap_or_default());
    match (status, error) {
        (400, "invalid_grant") => Error::InvalidGrant {
            cause: RevokedCause::Unknown,
            description,
            provider: provider.to_owned(),
        },
        (400, "admin_policy_enforced") => Error::InvalidGrant {
            cause: RevokedCause::AdminPolicy,
            description,
            provider: provider.to_owned(),
        },
        (400 | 401, "invalid_client" | "unauthorized_client") => Error::InvalidClient {
            description: if description.is_empty() {
                error.to_owned()
            } else {
                description
            },
            provider: provider.to_owned(),
        },
        _ => Error::TokenEndpoint {
            status,
            error: if error.is_empty() {
                "no JSON error".to_owned()
            } else {
                crate::activity::redact(error)
            },
            description,
        },
    }
}

/// The `error_description` of a refusal whose body oauth2 could not read as an RFC 6749
/// error (no `error` string), when it is JSON at all.
fn loose_description(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v["error_description"].as_str().map(str::to_owned)
}

/// What oauth2 made of the token endpoint's answer, with the HTTP `status` it had. Never
/// quotes the body: on a 200 it holds tokens.
fn read<RE: std::error::Error + 'static>(
    result: std::result::Result<TokenAnswer, RequestTokenError<RE, BasicErrorResponse>>,
    status: u16,
    provider: &str,
) -> Result<TokenResponse> {
    let not_json = || Error::TokenEndpoint {
        status,
        error: "not JSON".to_owned(),
        description: "the token endpoint answered 200 without JSON".to_owned(),
    };
    let no_token = || Error::TokenEndpoint {
        status,
        error: "no access_token".to_owned(),
        description: "the answer holds no access token".to_owned(),
    };
    match result {
        Ok(answer) => {
            let (access_token, expires_in, refresh_token, scope, google) = answer.into_parts();
            if access_token.is_empty() {
                return Err(no_token());
            }
            Ok(TokenResponse {
                access_token,
                expires_in,
                refresh_token,
                scope,
                id_token: google.id_token.map(Secret::new),
                refresh_token_expires_in: google.refresh_token_expires_in,
            })
        }
        Err(RequestTokenError::ServerResponse(e)) => Err(refused(
            status,
            e.error().as_ref(),
            e.error_description().map(String::as_str),
            provider,
        )),
        // JSON of the wrong shape (not an object, no access token) or not JSON at all.
        Err(RequestTokenError::Parse(e, _)) if status == 200 => Err(if e.inner().is_data() {
            no_token()
        } else {
            not_json()
        }),
        Err(RequestTokenError::Other(_)) if status == 200 => Err(not_json()),
        Err(RequestTokenError::Parse(_, body)) => Err(refused(
            status,
            "",
            loose_description(&body).as_deref(),
            provider,
        )),
        Err(RequestTokenError::Other(_)) => Err(refused(status, "", None, provider)),
        Err(RequestTokenError::Request(e)) => Err(Error::Network {
            what: "the token endpoint".to_owned(),
            why: e.to_string(),
        }),
    }
}

/// Reads a token endpoint answer given as `status` and `body` through oauth2, as if it had
/// come over the wire (the fuzz targets and tests read answers this way).
pub(crate) fn parse_answer(status: u16, body: &str, provider: &str) -> Result<TokenResponse> {
    let Ok(code) = StatusCode::from_u16(status) else {
        // Not an HTTP status: a refusal, read without oauth2, which cannot hold it.
        let e = serde_json::from_str::<BasicErrorResponse>(body).ok();
        return Err(refused(
            status,
            e.as_ref().map_or("", |e| e.error().as_ref()),
            e.as_ref()
                .and_then(|e| e.error_description().map(String::as_str)),
            provider,
        ));
    };
    let mut canned = HttpResponse::new(body.as_bytes().to_vec());
    *canned.status_mut() = code;
    canned.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let token_url = TokenUrl::new("https://token.invalid/".to_owned())
        .map_err(|e| Error::Internal { why: e.to_string() })?;
    let client = oauth::NewClient::new(ClientId::new(String::new())).set_token_uri(token_url);
    let refresh_token = RefreshToken::new(String::new());
    let result = client
        .exchange_refresh_token(&refresh_token)
        .request(&|_| Ok::<_, Infallible>(canned.clone()));
    read(result, status, provider)
}

/// The profile's client at the token endpoint, authenticating in the form body as Google's
/// Desktop clients must (docs/google.md), and a transport that keeps the answer's status.
fn token_endpoint(
    provider: &Provider,
    client_id: &str,
    client_secret: &Secret,
) -> Result<(oauth::ProfileClient, Transport)> {
    let client = oauth::client(
        provider,
        client_id,
        Some(client_secret),
        AuthType::RequestBody,
    )?;
    Ok((client, Transport::new(provider)?))
}

/// Exchanges the authorization code (with the PKCE verifier) for tokens.
pub(crate) async fn exchange_code(
    provider: &Provider,
    client_id: &str,
    client_secret: &Secret,
    code: &Secret,
    verifier: &Secret,
    redirect_uri: &str,
) -> Result<TokenResponse> {
    let (client, transport) = token_endpoint(provider, client_id, client_secret)?;
    let redirect_uri = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| Error::Internal {
        why: format!("the loopback redirect address is not a URL: {e}"),
    })?;
    let result = client
        .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().to_owned()))
        .set_redirect_uri(Cow::Owned(redirect_uri))
        .request_async(&transport)
        .await;
    answer(result, &transport, provider)
}

/// Uses the refresh token for a new access token.
pub(crate) async fn refresh(
    provider: &Provider,
    client_id: &str,
    client_secret: &Secret,
    refresh_token: &Secret,
) -> Result<TokenResponse> {
    let (client, transport) = token_endpoint(provider, client_id, client_secret)?;
    let refresh_token = RefreshToken::new(refresh_token.expose().to_owned());
    let result = client
        .exchange_refresh_token(&refresh_token)
        .request_async(&transport)
        .await;
    answer(result, &transport, provider)
}

fn answer(
    result: std::result::Result<
        TokenAnswer,
        RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>,
    >,
    transport: &Transport,
    provider: &Provider,
) -> Result<TokenResponse> {
    match result {
        Err(RequestTokenError::Request(e)) => {
            Err(oauth::unanswered("the token endpoint", &e).in_profile(provider))
        }
        other => read(other, transport.status(), &provider.label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oauth::DEFAULT_EXPIRES_IN;

    /// The refusal an answer makes.
    fn parse_error(status: u16, body: &str, provider: &str) -> Error {
        parse_answer(status, body, provider).expect_err("the answer is refused")
    }

    #[test]
    fn token_errors_are_told_apart() {
        let e = parse_error(
            400,
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
            "Google (Gmail)",
        );
        assert_eq!(e.code(), "invalid_grant");
        let e = parse_error(
            401,
            r#"{"error":"invalid_client","error_description":"Unauthorized"}"#,
            "Google (Gmail)",
        );
        assert_eq!(e.code(), "invalid_client");
        let e = parse_error(500, r#"{"error":"internal_failure"}"#, "Google (Gmail)");
        assert!(e.is_transient());
        let e = parse_error(403, "<html>automated queries</html>", "Google (Gmail)");
        assert!(e.is_transient());
    }

    #[test]
    fn a_5xx_or_429_saying_invalid_grant_is_transient_and_keeps_the_tokens() {
        let body = r#"{"error":"invalid_grant","error_description":"Bad Request"}"#;
        for status in [500, 502, 503, 504, 429] {
            let e = parse_error(status, body, "Google (Gmail)");
            assert_eq!(e.code(), "token_endpoint", "status {status}");
            assert!(e.is_transient(), "status {status} must be retried");
        }
    }

    #[test]
    fn only_a_400_invalid_grant_deletes_tokens() {
        let body = r#"{"error":"invalid_grant"}"#;
        for status in [200, 201, 302, 401, 403, 404, 409, 418] {
            assert_ne!(
                parse_error(status, body, "Google (Gmail)").code(),
                "invalid_grant",
                "{status}"
            );
        }
        assert_eq!(
            parse_error(400, body, "Google (Gmail)").code(),
            "invalid_grant"
        );
        let admin = r#"{"error":"admin_policy_enforced"}"#;
        assert_eq!(
            parse_error(400, admin, "Google (Gmail)").code(),
            "invalid_grant"
        );
        assert_eq!(
            parse_error(503, admin, "Google (Gmail)").code(),
            "token_endpoint"
        );
        let client = r#"{"error":"invalid_client"}"#;
        assert_eq!(
            parse_error(400, client, "Google (Gmail)").code(),
            "invalid_client"
        );
        assert_eq!(
            parse_error(401, client, "Google (Gmail)").code(),
            "invalid_client"
        );
        assert!(parse_error(500, client, "Google (Gmail)").is_transient());
    }

    #[test]
    fn a_token_in_the_error_description_is_redacted() {
        let e = parse_error(
            400,
            // A refresh-token shape, built here so that no token-shaped string sits in the tree.
            &format!(
                r#"{{"error":"invalid_request","error_description":"bad refresh_token=1//0g{}"}}"#,
                "AbCdEfGhIjKlMnOpQrStUv"
            ),
            "Google (Gmail)",
        );
        let text = format!("{e} {:?}", e.explain());
        assert!(!text.contains("1//0g"), "{text}");
    }

    fn lifetime(json: &str) -> i64 {
        let body = format!(r#"{{"access_token":"ya29.x","expires_in":{json}}}"#);
        parse_answer(200, &body, "Google (Gmail)")
            .unwrap()
            .expires_in
    }

    #[test]
    fn a_huge_expires_in_is_clamped_to_a_day_and_time_arithmetic_holds() {
        for huge in [
            "9223372036854775807",
            "\"9223372036854775807\"",
            "1e300",
            "31536000000",
        ] {
            let secs = lifetime(huge);
            assert_eq!(secs, MAX_EXPIRES_IN, "{huge}");
            // What grant.rs and refresher.rs do with it must not overflow.
            let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
            assert!(at.unix_timestamp() > 0);
            assert_eq!((secs + 59) / 60, 1440);
        }
    }

    #[test]
    fn zero_negative_or_missing_expires_in_does_not_force_a_refresh_per_call() {
        for nonsense in ["0", "-1", "-9223372036854775808", "\"soon\"", "null", "[]"] {
            assert_eq!(lifetime(nonsense), DEFAULT_EXPIRES_IN, "{nonsense}");
        }
        let body = r#"{"access_token":"ya29.x"}"#;
        assert_eq!(
            parse_answer(200, body, "Google (Gmail)")
                .unwrap()
                .expires_in,
            DEFAULT_EXPIRES_IN
        );
        // A short lifetime is believed (the refresh margin is half of it), down to a floor
        // that keeps a nonsense value from forcing a refresh per call.
        assert_eq!(lifetime("60"), 60);
        assert_eq!(lifetime("1"), MIN_EXPIRES_IN);
        assert!(crate::status::refresh_margin(Some(lifetime("1"))) > 0);
        assert_eq!(lifetime("3599"), 3599);
        assert_eq!(lifetime("\"3599\""), 3599);
    }

    #[test]
    fn googles_extra_fields_and_a_missing_token_type_are_read() {
        let body = r#"{"access_token":"ya29.a","expires_in":3599,"refresh_token":"1//r",
            "scope":"openid https://mail.google.com/","id_token":"h.p.s",
            "refresh_token_expires_in":"604799"}"#;
        let t = parse_answer(200, body, "Google (Gmail)").unwrap();
        assert_eq!(t.access_token.expose(), "ya29.a");
        assert_eq!(t.refresh_token.as_ref().map(Secret::expose), Some("1//r"));
        assert_eq!(t.scope.as_deref(), Some("openid https://mail.google.com/"));
        assert_eq!(t.id_token.as_ref().map(Secret::expose), Some("h.p.s"));
        assert_eq!(t.refresh_token_expires_in, Some(604_799));
        let none = parse_answer(
            200,
            r#"{"access_token":"a","refresh_token_expires_in":-5,"id_token":""}"#,
            "G",
        )
        .unwrap();
        assert_eq!(none.refresh_token_expires_in, None);
        assert!(none.id_token.is_none() && none.refresh_token.is_none());
    }

    #[test]
    fn a_refused_200_never_quotes_the_tokens_it_held() {
        let secret = format!("1//0g{}", "AbCdEfGhIjKlMnOp");
        for body in [
            format!(r#"{{"access_token":5,"refresh_token":"{secret}"}}"#),
            format!(r#"{{"access_token":"","refresh_token":"{secret}"}}"#),
            format!(r#"{{"refresh_token":"{secret}""#),
        ] {
            let e = parse_error(200, &body, "Google (Gmail)");
            assert_eq!(e.code(), "token_endpoint");
            let text = format!("{e} {e:?} {:?}", e.explain());
            assert!(!text.contains(&secret), "{text}");
        }
        let answer = parse_answer(200, &format!(r#"{{"access_token":"{secret}"}}"#), "G").unwrap();
        assert!(!format!("{answer:?}").contains(&secret));
    }
}
