//! `POST /revoke` (§7): revoking an access or a refresh token kills the whole grant;
//! a dead or unknown token gets Google's 400 `invalid_token`, not RFC 7009's 200.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::http::{json_response, oauth_error, AppState, Params};

pub(crate) async fn revoke(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    state.counts.bump("revoke");
    let params = Params::parse(&body).merged(Params::parse(query.unwrap_or_default().as_bytes()));
    let Some(token) = params.get("token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: token",
        );
    };
    let now = state.clock.now();
    if state.store().revoke_token(token, now) {
        tracing::info!("revoke: grant revoked");
        json_response(StatusCode::OK, json!({}))
    } else {
        tracing::info!("revoke: token already dead or unknown");
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        )
    }
}
