//! `POST /token`: the authorization_code and refresh_token grants (§5, §6, §9).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::grants::{CodeProblem, Issued, RefreshProblem, ACCESS_TOKEN_SECS};
use super::{id_token, scopes};
use crate::http::{json_response, oauth_error, AppState, Params};

fn bad_request(error: &str, description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

/// Client credentials from HTTP Basic (form-encoded id:secret) or the body.
fn credentials(headers: &HeaderMap, form: &Params) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    if let Some((id, secret)) = basic.as_deref().and_then(|s| s.split_once(':')) {
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return (decode(id), decode(secret).filter(|s| !s.is_empty()));
    }
    (
        form.get("client_id").map(str::to_owned),
        form.get("client_secret").map(str::to_owned),
    )
}

pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Params::parse(&body);
    let grant_type = form.get("grant_type").unwrap_or("").to_owned();
    state.counts.bump("token");
    if matches!(grant_type.as_str(), "authorization_code" | "refresh_token") {
        state.counts.bump(&format!("token.{grant_type}"));
    }
    let delay = state.faults.token_delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if state.faults.take_token_500() {
        tracing::warn!("token endpoint: injected 500");
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_failure",
            "Backend Error",
        );
    }
    let response = handle(&state, &headers, &form, &grant_type);
    tracing::info!(
        grant_type,
        status = response.status().as_u16(),
        "token endpoint"
    );
    response
}

fn handle(state: &AppState, headers: &HeaderMap, form: &Params, grant_type: &str) -> Response {
    let (client_id, secret) = credentials(headers, form);
    let Some(client_id) = client_id else {
        return bad_request(
            "invalid_request",
            "Could not determine client ID from request.",
        );
    };
    let Some(client) = state.store().client(&client_id).cloned() else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    };
    let Some(secret) = secret else {
        return bad_request("invalid_request", "client_secret is missing.");
    };
    if secret != client.secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
    }
    match grant_type {
        "authorization_code" => authorization_code(state, &client_id, form),
        "refresh_token" => refresh_token(state, &client_id, form),
        "" => bad_request("unsupported_grant_type", "Invalid grant_type: "),
        other => bad_request(
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
    }
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn authorization_code(state: &AppState, client_id: &str, form: &Params) -> Response {
    let Some(code) = form.get("code") else {
        return bad_request("invalid_request", "Missing required parameter: code");
    };
    let now = state.clock.now();
    let mut store = state.store();
    let c = match store.peek_code(code, now) {
        Ok(c) => c,
        Err(CodeProblem::Malformed) => return bad_request("invalid_grant", "Malformed auth code."),
        Err(CodeProblem::UsedOrUnknown | CodeProblem::Expired) => {
            return bad_request("invalid_grant", "Bad Request")
        }
    };
    if c.client_id != client_id {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Unauthorized",
        );
    }
    if form.get("redirect_uri") != Some(c.redirect_uri.as_str()) {
        return bad_request("redirect_uri_mismatch", "Bad Request");
    }
    let Some(verifier) = form.get("code_verifier") else {
        return bad_request("invalid_grant", "Missing code verifier.");
    };
    if s256(verifier) != c.code_challenge {
        return bad_request("invalid_grant", "Invalid code verifier.");
    }
    let Some(issued) = store.redeem_code(code, now) else {
        return bad_request("invalid_grant", "Bad Request");
    };
    drop(store);
    success(state, client_id, issued, now)
}

fn refresh_token(state: &AppState, client_id: &str, form: &Params) -> Response {
    let Some(token) = form.get("refresh_token") else {
        return bad_request(
            "invalid_request",
            "Missing required parameter: refresh_token",
        );
    };
    let now = state.clock.now();
    let result = state.store().use_refresh(token, client_id, now);
    match result {
        Ok(issued) => success(state, client_id, issued, now),
        Err(RefreshProblem::Dead) => {
            bad_request("invalid_grant", "Token has been expired or revoked.")
        }
        Err(RefreshProblem::Unknown) => bad_request("invalid_grant", "Bad Request"),
        Err(RefreshProblem::OtherClient) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Unauthorized",
        ),
    }
}

fn success(state: &AppState, client_id: &str, issued: Issued, now: i64) -> Response {
    let mut body = json!({
        "access_token": issued.access_token,
        "expires_in": ACCESS_TOKEN_SECS,
        "scope": issued.scopes.join(" "),
        "token_type": "Bearer",
    });
    if let Some(rt) = &issued.refresh_token {
        body["refresh_token"] = Value::String(rt.clone());
    }
    if scopes::has_identity(&issued.scopes) {
        body["id_token"] = Value::String(id_token_for(state, client_id, &issued, now));
    }
    json_response(StatusCode::OK, body)
}

fn id_token_for(state: &AppState, client_id: &str, issued: &Issued, now: i64) -> String {
    let mut claims = json!({
        "iss": state.issuer,
        "azp": client_id,
        "aud": client_id,
        "sub": id_token::subject(&issued.email),
        "at_hash": id_token::at_hash(&issued.access_token),
        "iat": now,
        "exp": now + ACCESS_TOKEN_SECS + 1,
    });
    if scopes::has_email(&issued.scopes) {
        claims["email"] = Value::String(issued.email.clone());
        claims["email_verified"] = Value::Bool(true);
    }
    state.signer.sign(&claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_vector() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
