//! Small request and response pieces the HTTP handlers share: the state they get, query and
//! form parameters, Google-style JSON and error bodies, and Google's 404 page.

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::state::Shared;

/// What every handler gets: the sandbox's shared state.
pub(crate) type AppState = Arc<Shared>;

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
