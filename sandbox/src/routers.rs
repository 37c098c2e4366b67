//! The two HTTP listeners' routers: which handlers each port serves, behind which checks.

use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::Router;

use crate::access::{self, Listener};
use crate::web::{not_found, AppState};
use crate::{admin, oauth};

/// HTTPS: Google's API hosts (discovery, token, revoke, tokeninfo, userinfo, JWKS) and
/// the authorization endpoint; only for requests addressed to loopback and `port`.
pub(crate) fn https_router(shared: AppState, port: u16) -> Router {
    oauth::api_routes()
        .merge(oauth::consent_routes())
        .fallback(not_found)
        .layer(from_fn_with_state(
            Listener {
                port,
                default_port: 443,
            },
            access::loopback_host,
        ))
        .with_state(shared)
}

/// Plain HTTP: the browser-facing consent page and the admin API (which also needs the
/// admin token); only for requests addressed to loopback and `port`.
pub(crate) fn http_router(shared: AppState, port: u16) -> Router {
    let admin = admin::routes()
        .fallback(admin::not_found)
        .layer(from_fn_with_state(shared.clone(), access::admin_token));
    oauth::consent_routes()
        .nest("/admin", admin)
        .route("/", get(|| async { "postern-sandbox\n" }))
        .fallback(not_found)
        .layer(from_fn_with_state(
            Listener {
                port,
                default_port: 80,
            },
            access::loopback_host,
        ))
        .with_state(shared)
}
