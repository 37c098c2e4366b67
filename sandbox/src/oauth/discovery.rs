//! `/.well-known/openid-configuration` and the JWKS, in Google's shape (§1) with the
//! sandbox's own URLs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::http::{json_response, AppState};

/// The discovery document: Google's fields, our endpoints.
pub(crate) async fn document(State(state): State<AppState>) -> Response {
    let iss = &state.issuer;
    json_response(
        StatusCode::OK,
        json!({
            "issuer": iss,
            "authorization_endpoint": format!("{}{}", state.http_base, super::AUTH_PATH),
            "device_authorization_endpoint": format!("{iss}/device/code"),
            "token_endpoint": format!("{iss}/token"),
            "userinfo_endpoint": format!("{iss}/v1/userinfo"),
            "revocation_endpoint": format!("{iss}/revoke"),
            "jwks_uri": format!("{iss}/oauth2/v3/certs"),
            "response_types_supported": [
                "code", "token", "id_token", "code token", "code id_token",
                "token id_token", "code token id_token", "none"
            ],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": [
                "aud", "email", "email_verified", "exp", "family_name", "given_name",
                "iat", "iss", "name", "picture", "sub"
            ],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": [
                "authorization_code", "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code",
                "urn:ietf:params:oauth:grant-type:jwt-bearer"
            ],
        }),
    )
}

/// The public keys that verify id_tokens.
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, state.signer.jwks())
}
