//! The OAuth 2.0 endpoints: Google's (docs/google.md), or a strict
//! standards-conformant provider's (see [`crate::Profile`]).

mod client_auth;
mod consent;
mod consent_page;
mod discovery;
mod introspect;
mod revoke;
mod token;
mod token_info;

use axum::routing::get;
use axum::Router;

use crate::web::AppState;

pub(crate) const AUTH_PATH: &str = "/o/oauth2/v2/auth";
pub(crate) use introspect::PATH as INTROSPECT_PATH;

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
            axum::routing::post(revoke::revoke).get(crate::web::not_found),
        )
        .route(
            "/tokeninfo",
            get(token_info::tokeninfo).post(token_info::tokeninfo),
        )
        .route(
            "/v1/userinfo",
            get(token_info::userinfo).post(token_info::userinfo),
        )
        .route(
            introspect::PATH,
            axum::routing::post(introspect::introspect).get(crate::web::not_found),
        )
}
