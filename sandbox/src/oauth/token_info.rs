//! `tokeninfo` and `userinfo` (docs/google.md, "Tokeninfo and UserInfo"): what a live token
//! says about itself. Tokeninfo's numbers are JSON strings, as Google sends them; dead tokens
//! get 400 `invalid_token`. Tokeninfo is Google's own: the strict profile answers it with 404.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::store::{id_token, scopes};
use crate::web::{json_response, oauth_error, AppState, Params};
use crate::Profile;

fn invalid_value() -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_token", "Invalid Value")
}

/// `GET|POST /tokeninfo?access_token=…` or `?id_token=…`.
pub(crate) async fn tokeninfo(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    state.counts.bump("tokeninfo");
    if state.profile == Profile::Strict {
        return crate::web::not_found().await;
    }
    let params = Params::parse(query.unwrap_or_default().as_bytes()).merged(Params::parse(&body));
    if let Some(token) = params.get("access_token") {
        return access_token_info(&state, token);
    }
    if let Some(jwt) = params.get("id_token") {
        return id_token_info(&state, jwt);
    }
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Missing required parameter: access_token or id_token",
    )
}

fn access_token_info(state: &AppState, token: &str) -> Response {
    let now = state.clock.now();
    let store = state.store();
    let Some(a) = store.live_access(token, now) else {
        return invalid_value();
    };
    let mut body = json!({
        "azp": a.client_id,
        "aud": a.client_id,
        "scope": a.scopes.join(" "),
        "exp": a.expires_at.to_string(),
        "expires_in": (a.expires_at - now).to_string(),
        "access_type": a.access_type,
    });
    if scopes::has_identity(&a.scopes) {
        body["sub"] = Value::String(id_token::subject(&a.email));
    }
    if scopes::has_email(&a.scopes) {
        let verified = store.email_verified(&a.email);
        body["email"] = Value::String(a.email.clone());
        body["email_verified"] = Value::String(verified.to_string());
    }
    json_response(StatusCode::OK, body)
}

fn id_token_info(state: &AppState, jwt: &str) -> Response {
    let Some(claims) = state.signer.verify(jwt) else {
        return invalid_value();
    };
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= state.clock.now() {
        return invalid_value();
    }
    let Value::Object(map) = claims else {
        return invalid_value();
    };
    let stringified: Map<String, Value> = map
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(_) => (k, v),
            other => (k, Value::String(other.to_string())),
        })
        .collect();
    let mut body = Value::Object(stringified);
    body["alg"] = Value::String("ES256".to_owned());
    body["typ"] = Value::String("JWT".to_owned());
    json_response(StatusCode::OK, body)
}

fn unauthorized() -> Response {
    let mut resp = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_request",
        "Invalid Credentials",
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
        ),
    );
    resp
}

/// `GET|POST /v1/userinfo` with `Authorization: Bearer <access token>`.
pub(crate) async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.counts.bump("userinfo");
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token else {
        return unauthorized();
    };
    let now = state.clock.now();
    let store = state.store();
    let Some(a) = store.live_access(token, now) else {
        return unauthorized();
    };
    let mut body = json!({ "sub": id_token::subject(&a.email) });
    if scopes::has_email(&a.scopes) {
        body["email"] = Value::String(a.email.clone());
        body["email_verified"] = Value::Bool(store.email_verified(&a.email));
    }
    if a.scopes
        .iter()
        .any(|s| s == "profile" || s == scopes::USERINFO_PROFILE)
    {
        let local = a.email.split('@').next().unwrap_or_default();
        let mut given: Vec<char> = local.chars().collect();
        if let Some(c) = given.first_mut() {
            *c = c.to_ascii_uppercase();
        }
        let given: String = given.into_iter().collect();
        body["name"] = Value::String(format!("{given} Sandbox"));
        body["given_name"] = Value::String(given);
        body["family_name"] = Value::String("Sandbox".to_owned());
    }
    json_response(StatusCode::OK, body)
}
