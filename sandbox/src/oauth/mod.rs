//! Google's OAuth 2.0 endpoints (§1–§10 of google-protocol.md).

pub(crate) mod clients;
mod consent;
mod consent_page;
mod discovery;
pub(crate) mod grants;
pub(crate) mod id_token;
mod introspect;
mod revoke;
pub(crate) mod scopes;
mod token;

use axum::routing::get;
use axum::Router;

use crate::http::AppState;

pub(crate) const AUTH_PATH: &str = "/o/oauth2/v2/auth";

/// The authorization endpoint: served on both the HTTP and the HTTPS port.
pub(crate) fn consent_routes() -> Router<AppState> {
    Router::new().route(AUTH_PATH, get(consent::show).post(consent::decide))
}

/// The API endpoints of the HTTPS port.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::document),
        )
        .route("/oauth2/v3/certs", get(discovery::jwks))
        .route("/token", axum::routing::post(token::token))
        .route(
            "/revoke",
            axum::routing::post(revoke::revoke).get(crate::http::not_found),
        )
        .route(
            "/tokeninfo",
            get(introspect::tokeninfo).post(introspect::tokeninfo),
        )
        .route(
            "/v1/userinfo",
            get(introspect::userinfo).post(introspect::userinfo),
        )
}
