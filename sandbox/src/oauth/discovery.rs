//! `/.well-known/openid-configuration` and the JWKS: Google's shape (docs/google.md,
//! "Endpoints") with the sandbox's own URLs, or a standard provider's for the strict profile.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::web::{json_response, AppState};
use crate::Profile;

/// The discovery document of the profile the sandbox plays.
pub(crate) async fn document(State(state): State<AppState>) -> Response {
    match state.profile {
        Profile::Google => google(&state),
        Profile::Strict => strict(&state),
    }
}

/// Google's fields, our endpoints.
fn google(state: &AppState) -> Response {
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

/// What a standards-conformant provider advertises: no tokeninfo, an RFC 7662
/// introspection endpoint, client authentication at revocation, RFC 9207 `iss`.
fn strict(state: &AppState) -> Response {
    let iss = &state.issuer;
    let auth_methods = ["client_secret_basic", "client_secret_post"];
    json_response(
        StatusCode::OK,
        json!({
            "issuer": iss,
            "authorization_endpoint": format!("{}{}", state.http_base, super::AUTH_PATH),
            "token_endpoint": format!("{iss}/token"),
            "userinfo_endpoint": format!("{iss}/v1/userinfo"),
            "revocation_endpoint": format!("{iss}/revoke"),
            "introspection_endpoint": format!("{iss}{}", super::introspect::PATH),
            "jwks_uri": format!("{iss}/oauth2/v3/certs"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "scopes_supported": ["openid", "email", "profile"],
            "claims_supported": [
                "iss", "sub", "aud", "azp", "iat", "exp", "at_hash", "email", "email_verified"
            ],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "authorization_response_iss_parameter_supported": true,
        }),
    )
}

/// The public keys that verify id_tokens.
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, state.signer.jwks())
}
