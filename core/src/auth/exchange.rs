//! The token endpoint (google-protocol.md §5, §6, §9): the code exchange with the PKCE
//! verifier, and the refresh grant. Errors keep the provider's `error` and description but
//! never a token.

use crate::error::{Error, Result, RevokedCause};
use crate::provider::Provider;
use crate::secret::Secret;

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

/// Maps a transport failure to network or TLS trouble.
pub(crate) fn transport_error(what: &str, e: &reqwest::Error) -> Error {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        chain.push_str(&s.to_string());
        chain.push_str(": ");
        src = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        let host = e
            .url()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| what.to_owned());
        return Error::Tls {
            host,
            why: chain.trim_end_matches(": ").to_owned(),
            profile: None,
        };
    }
    Error::Network {
        what: what.to_owned(),
        why: chain.trim_end_matches(": ").to_owned(),
    }
}

/// The lifetime assumed when the answer gives none (or a nonsense one): Google's usual hour.
pub(crate) const DEFAULT_EXPIRES_IN: i64 = 3599;
/// The shortest lifetime believed. Short tokens are real outside Google (a minute is common)
/// and the refresh margin is half the lifetime, so they are taken as given down to this.
pub(crate) const MIN_EXPIRES_IN: i64 = 10;
/// The longest lifetime believed: a day. Larger values would overflow time arithmetic and
/// keep a dead token for years.
pub(crate) const MAX_EXPIRES_IN: i64 = 86_400;

/// `expires_in` as the token endpoint gave it (a number or a numeric string), clamped to
/// [`MIN_EXPIRES_IN`]..=[`MAX_EXPIRES_IN`]; absent, unreadable, zero or negative means the default.
pub(crate) fn expires_in_of(v: &serde_json::Value) -> i64 {
    let given = v
        .as_i64()
        .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        .or_else(|| v.as_str().and_then(|s| s.trim().parse::<i64>().ok()));
    match given {
        Some(secs) if secs > 0 => secs.clamp(MIN_EXPIRES_IN, MAX_EXPIRES_IN),
        _ => DEFAULT_EXPIRES_IN,
    }
}

/// Classifies a refused token request by its HTTP status and its JSON `error` together.
/// Only a 400 may say the grant is dead (which deletes the tokens); `invalid_client` counts
/// with 400 or 401. Anything else, whatever its body says, keeps its status, so a 5xx or 429
/// that claims `invalid_grant` stays transient. The description is the provider's text,
/// redacted, since it ends up in the activity log and in error messages.
pub(crate) fn parse_error(status: u16, body: &str, provider: &str) -> Error {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let error = v["error"].as_str().unwrap_or("").to_owned();
    let description = crate::activity::redact(v["error_description"].as_str().unwrap_or(""));
    match (status, error.as_str()) {
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
                error
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
                crate::activity::redact(&error)
            },
            description,
        },
    }
}

async fn post(provider: &Provider, form: &[(&str, &str)]) -> Result<TokenResponse> {
    let client = provider.http_client()?;
    let resp = client
        .post(&provider.token_endpoint)
        .form(form)
        .send()
        .await
        .map_err(|e| transport_error("the token endpoint", &e).in_profile(provider))?;
    let status = resp.status().as_u16();
    let body = resp
        .text()
        .await
        .map_err(|e| transport_error("the token endpoint", &e))?;
    parse_answer(status, &body, &provider.label)
}

/// Reads the token endpoint's answer: tokens on 200, a classified error otherwise.
pub(crate) fn parse_answer(status: u16, body: &str, provider: &str) -> Result<TokenResponse> {
    if status != 200 {
        return Err(parse_error(status, body, provider));
    }
    let v: serde_json::Value = serde_json::from_str(body).map_err(|_| Error::TokenEndpoint {
        status,
        error: "not JSON".to_owned(),
        description: "the token endpoint answered 200 without JSON".to_owned(),
    })?;
    let text = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let access_token = text("access_token").ok_or_else(|| Error::TokenEndpoint {
        status,
        error: "no access_token".to_owned(),
        description: "the answer holds no access token".to_owned(),
    })?;
    Ok(TokenResponse {
        access_token: Secret::new(access_token),
        expires_in: expires_in_of(&v["expires_in"]),
        refresh_token: text("refresh_token").map(Secret::new),
        scope: text("scope"),
        id_token: text("id_token").map(Secret::new),
        refresh_token_expires_in: v["refresh_token_expires_in"]
            .as_i64()
            .or_else(|| {
                v["refresh_token_expires_in"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
            })
            .filter(|s| *s > 0),
    })
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
    post(
        provider,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose()),
        ],
    )
    .await
}

/// Uses the refresh token for a new access token.
pub(crate) async fn refresh(
    provider: &Provider,
    client_id: &str,
    client_secret: &Secret,
    refresh_token: &Secret,
) -> Result<TokenResponse> {
    post(
        provider,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
        ],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
