//! `POST /revoke` (docs/google.md, "Revocation"; RFC 7009). Revoking an access or a refresh
//! token ends the whole grant. Google asks for no client authentication and answers a dead or
//! unknown token with 400 `invalid_token`; the strict profile requires client authentication,
//! refuses another client's token, and answers a dead token with 200 (RFC 7009 §2.2).

use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::client_auth;
use crate::conn::Cutter;
use crate::store::grants::Revocation;
use crate::web::{json_response, oauth_error, AppState, Params};
use crate::Profile;

pub(crate) async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(cutter): ConnectInfo<Cutter>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    state.counts.bump("revoke");
    if state.faults.revoke_unreachable() {
        state.counts.bump("revoke.unreachable");
        tracing::warn!("revoke: injected fault, connection cut without an answer");
        cutter.cut();
        // Never reaches the client: the connection fails on the first write.
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if state.faults.take_revoke_503() {
        state.counts.bump("revoke.503");
        tracing::warn!("revoke: injected 503");
        let mut resp = oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The revocation service is temporarily unavailable; retry after the delay.",
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return resp;
    }
    let form = Params::parse(&body);
    match state.profile {
        Profile::Google => {
            let query = Params::parse(query.unwrap_or_default().as_bytes());
            google(&state, &form.merged(query))
        }
        Profile::Strict => strict(&state, &headers, &form),
    }
}

fn missing_token() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Missing required parameter: token",
    )
}

fn google(state: &AppState, params: &Params) -> Response {
    let Some(token) = params.get("token") else {
        return missing_token();
    };
    let now = state.clock.now();
    match state.store().revoke_token(token, None, now) {
        Revocation::Revoked => {
            state.counts.bump("revoke.revoked");
            tracing::info!("revoke: grant revoked");
            json_response(StatusCode::OK, json!({}))
        }
        Revocation::AlreadyDead | Revocation::OtherClient => {
            tracing::info!("revoke: token already dead or unknown");
            oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_token",
                "Token expired or revoked",
            )
        }
    }
}

fn strict(state: &AppState, headers: &HeaderMap, form: &Params) -> Response {
    let client_id = match client_auth::authenticate(state, headers, form) {
        Ok(id) => id,
        Err(refused) => {
            state.counts.bump("revoke_unauthenticated");
            tracing::info!(?refused, "revoke: refused, client not authenticated");
            return refused.into_response();
        }
    };
    let Some(token) = form.get("token") else {
        return missing_token();
    };
    let now = state.clock.now();
    let outcome = state.store().revoke_token(token, Some(&client_id), now);
    match outcome {
        Revocation::Revoked => {
            state.counts.bump("revoke.revoked");
            tracing::info!("revoke: grant revoked");
            StatusCode::OK.into_response()
        }
        Revocation::AlreadyDead => {
            tracing::info!("revoke: token already dead or unknown (200, RFC 7009 §2.2)");
            StatusCode::OK.into_response()
        }
        Revocation::OtherClient => {
            tracing::info!("revoke: refused, the token belongs to another client");
            oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "The token was issued to another client.",
            )
        }
    }
}
