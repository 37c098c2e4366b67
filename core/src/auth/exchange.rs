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

fn parse_error(status: u16, body: &str, provider: &str) -> Error {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let error = v["error"].as_str().unwrap_or("").to_owned();
    let description = v["error_description"].as_str().unwrap_or("").to_owned();
    match error.as_str() {
        "invalid_grant" => Error::InvalidGrant {
            cause: RevokedCause::Unknown,
            description,
            provider: provider.to_owned(),
        },
        "admin_policy_enforced" => Error::InvalidGrant {
            cause: RevokedCause::AdminPolicy,
            description,
            provider: provider.to_owned(),
        },
        "invalid_client" | "unauthorized_client" => Error::InvalidClient {
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
                error
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
    if status != 200 {
        return Err(parse_error(status, &body, &provider.label));
    }
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|_| Error::TokenEndpoint {
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
    let expires_in = v["expires_in"]
        .as_i64()
        .or_else(|| v["expires_in"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(3599);
    Ok(TokenResponse {
        access_token: Secret::new(access_token),
        expires_in,
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
}
