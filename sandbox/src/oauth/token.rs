//! `POST /token`: the authorization_code and refresh_token grants (docs/google.md, "Code
//! exchange and refresh").

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::client_auth::Presented;
use crate::store::codes::CodeProblem;
use crate::store::grants::{Issued, RefreshProblem};
use crate::store::{id_token, scopes};
use crate::web::{json_response, oauth_error, AppState, Params};
use crate::Profile;

fn bad_request(error: &str, description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
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
    let (client_id, secret) = Presented::read(headers, form).lenient();
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

/// A code or refresh token of another client: Google's 401, RFC 6749 §5.2's invalid_grant.
fn other_client(state: &AppState) -> Response {
    match state.profile {
        Profile::Google => oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Unauthorized",
        ),
        Profile::Strict => bad_request("invalid_grant", "The grant was issued to another client."),
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
        return other_client(state);
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
        Ok(issued) => {
            state.counts.bump("refresh_grant");
            success(state, client_id, issued, now)
        }
        Err(RefreshProblem::Dead) => {
            bad_request("invalid_grant", "Token has been expired or revoked.")
        }
        Err(RefreshProblem::Unknown) => bad_request("invalid_grant", "Bad Request"),
        Err(RefreshProblem::OtherClient) => other_client(state),
        Err(RefreshProblem::Reused) => {
            state.counts.bump("refresh_token_reuse");
            tracing::warn!("a rotated-out refresh token was presented; its grant is revoked");
            bad_request("invalid_grant", "refresh token was rotated")
        }
    }
}

fn success(state: &AppState, client_id: &str, issued: Issued, now: i64) -> Response {
    let mut body = json!({
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "scope": issued.scopes.join(" "),
        "token_type": "Bearer",
    });
    if let Some(rt) = &issued.refresh_token {
        body["refresh_token"] = Value::String(rt.clone());
    }
    if let Some(secs) = issued.refresh_token_expires_in {
        body["refresh_token_expires_in"] = json!(secs.max(0));
    }
    if scopes::has_identity(&issued.scopes) {
        body["id_token"] = Value::String(id_token_for(state, client_id, &issued, now));
    }
    json_response(StatusCode::OK, body)
}

/// Google puts the address in the id_token; the strict profile, like OpenID Connect's
/// default, leaves it to UserInfo.
fn id_token_for(state: &AppState, client_id: &str, issued: &Issued, now: i64) -> String {
    let mut claims = json!({
        "iss": state.issuer,
        "azp": client_id,
        "aud": client_id,
        "sub": id_token::subject(&issued.email),
        "at_hash": id_token::at_hash(&issued.access_token),
        "iat": now,
        "exp": now + id_token::LIFETIME_SECS,
    });
    if state.profile == Profile::Google && scopes::has_email(&issued.scopes) {
        let verified = state.store().email_verified(&issued.email);
        claims["email"] = Value::String(issued.email.clone());
        claims["email_verified"] = Value::Bool(verified);
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
