//! The two HTTP listeners' routers, and small request/response helpers shared by the
//! OAuth and admin handlers.

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::access::{self, Listener};
use crate::state::Shared;
use crate::{admin, oauth};

pub(crate) type AppState = Arc<Shared>;

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

/// Google's terse 404 page.
pub(crate) async fn not_found() -> Response {
    let body = "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title>\
                <p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL was not found on this server. \
                <ins>That’s all we know.</ins></html>";
    let mut resp = (StatusCode::NOT_FOUND, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    resp
}

/// Ordered name/value pairs from a query string or a form body; repeated names kept.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(pub(crate) Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(raw: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(raw).into_owned().collect())
    }

    /// The first value of `name`, if present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn merged(mut self, other: Params) -> Self {
        self.0.extend(other.0);
        self
    }
}

/// JSON with the no-store headers Google's token endpoint sends.
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, Json(body)).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// `{"error": …, "error_description": …}`
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}
