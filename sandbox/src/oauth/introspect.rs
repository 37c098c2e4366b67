//! `POST /introspect` (RFC 7662): whether a token is active, for the client it was issued
//! to. Client authentication is required as at revocation. Google has no such endpoint;
//! the sandbox serves it in both profiles so tests can ask what is still alive, and the
//! strict profile's discovery document advertises it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::client_auth;
use crate::store::id_token;
use crate::web::{json_response, oauth_error, AppState, Params};

pub(crate) const PATH: &str = "/introspect";

pub(crate) async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.counts.bump("introspect");
    let form = Params::parse(&body);
    let client_id = match client_auth::authenticate(&state, &headers, &form) {
        Ok(id) => id,
        Err(refused) => {
            state.counts.bump("introspect_unauthenticated");
            return refused.into_response();
        }
    };
    let Some(token) = form.get("token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: token",
        );
    };
    let now = state.clock.now();
    let facts = state.store().facts(token, now);
    // Another client's token is reported inactive (RFC 7662 §2.2 lets the server hide it).
    let Some(f) = facts.filter(|f| f.client_id == client_id) else {
        return json_response(StatusCode::OK, json!({"active": false}));
    };
    json_response(
        StatusCode::OK,
        json!({
            "active": true,
            "client_id": f.client_id,
            "scope": f.scopes.join(" "),
            "exp": f.exp,
            "sub": id_token::subject(&f.email),
            "token_type": if f.refresh { "refresh_token" } else { "Bearer" },
        }),
    )
}
