//! The authorization endpoint: request validation, the consent page, and the redirect
//! back to the loopback address on Allow or Deny.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::consent_page::{self, AuthRequest, ErrorPage};
use crate::store::codes::AuthCode;
use crate::store::scopes;
use crate::web::{AppState, Params};
use crate::Profile;

fn invalid_request(detail: impl Into<String>) -> ErrorPage {
    ErrorPage::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
}

/// Loopback rules (docs/google.md, "The loopback redirect"): http, 127.0.0.1 / [::1] /
/// localhost, any port, any path.
fn check_redirect(uri: &str) -> Result<(), ErrorPage> {
    if uri == "oob" || uri.starts_with("urn:ietf:wg:oauth:2.0:oob") {
        return Err(invalid_request(
            "The out-of-band (OOB) flow has been blocked in order to keep users secure. \
             This app doesn't comply with Google's OAuth 2.0 policy.",
        ));
    }
    let mismatch = || {
        ErrorPage::new(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            format!(
                "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 \
                 policy. A Desktop client must redirect to a loopback address such as \
                 http://127.0.0.1:PORT/; got {uri}"
            ),
        )
    };
    let url = url::Url::parse(uri).map_err(|_| mismatch())?;
    let loopback = matches!(
        url.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() && ip.octets() == [127, 0, 0, 1]
    ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Domain("localhost")));
    if url.scheme() != "http" || !loopback || url.fragment().is_some() {
        return Err(mismatch());
    }
    Ok(())
}

pub(crate) fn validate(state: &AppState, p: &Params) -> Result<AuthRequest, ErrorPage> {
    let client_id = p
        .get("client_id")
        .ok_or_else(|| invalid_request("Missing required parameter: client_id"))?;
    if state.store().client(client_id).is_none() {
        return Err(ErrorPage::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        ));
    }
    let redirect_uri = p
        .get("redirect_uri")
        .ok_or_else(|| invalid_request("Missing required parameter: redirect_uri"))?;
    check_redirect(redirect_uri)?;
    match p.get("response_type") {
        None => {
            return Err(invalid_request(
                "Required parameter is missing: response_type",
            ))
        }
        Some("code") => {}
        Some(other) => {
            return Err(invalid_request(format!(
                "Invalid response_type: {other}. A Desktop client must use response_type=code."
            )))
        }
    }
    let requested = scopes::split(p.get("scope").unwrap_or(""));
    if requested.is_empty() {
        return Err(invalid_request("Missing required parameter: scope"));
    }
    let code_challenge = p.get("code_challenge").ok_or_else(|| {
        invalid_request(
            "Missing code_challenge. The sandbox is stricter than Google: it requires PKCE \
             with code_challenge_method=S256.",
        )
    })?;
    if p.get("code_challenge_method") != Some("S256") {
        return Err(invalid_request(
            "code_challenge_method must be S256. The sandbox is stricter than Google, which \
             defaults to plain when the method is omitted.",
        ));
    }
    let challenge_ok = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !challenge_ok {
        return Err(invalid_request(
            "Invalid code_challenge: an S256 challenge is 43 characters of base64url.",
        ));
    }
    Ok(AuthRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes: requested,
        state: p.get("state").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        login_hint: p.get("login_hint").map(str::to_owned),
        prompt: p.get("prompt").map(str::to_owned),
        access_type: p.get("access_type").unwrap_or("online").to_owned(),
    })
}

/// GET: the consent page, or Google's error page (no redirect).
pub(crate) async fn show(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.unwrap_or_default().as_bytes());
    match validate(&state, &params) {
        Ok(req) if req.prompt.as_deref() == Some("none") => {
            // No browser session exists in the sandbox, so silent authorization fails
            // the way Google's does for a signed-out user.
            error_redirect(&state, &req, "interaction_required")
        }
        Ok(req) => {
            state.counts.bump("consent");
            tracing::info!("consent page shown");
            Html(consent_page::render(&req, state.profile, None)).into_response()
        }
        Err(page) => {
            state.counts.bump("auth.error");
            tracing::info!(error = page.code, "authorization request rejected");
            page.into_response()
        }
    }
}

fn well_formed_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// POST from the consent form: Allow issues a code, Deny sends `access_denied`.
pub(crate) async fn decide(State(state): State<AppState>, body: Bytes) -> Response {
    let form = Params::parse(&body);
    // The original request travels in hidden fields; its scope as `requested_scope`
    // because `scope` carries the ticked checkboxes.
    let mut original = Params(
        form.0
            .iter()
            .filter(|(k, _)| k != "scope")
            .cloned()
            .collect(),
    );
    if let Some(s) = form.get("requested_scope") {
        original.0.push(("scope".to_owned(), s.to_owned()));
    }
    let req = match validate(&state, &original) {
        Ok(req) => req,
        Err(page) => {
            state.counts.bump("auth.error");
            return page.into_response();
        }
    };
    if form.get("decision") != Some("allow") {
        state.counts.bump("auth.deny");
        tracing::info!("consent denied");
        return error_redirect(&state, &req, "access_denied");
    }
    let email = form.get("email").unwrap_or("").trim().to_owned();
    if !well_formed_email(&email) {
        let page = consent_page::render(&req, state.profile, Some("Enter a valid email address."));
        return (StatusCode::BAD_REQUEST, Html(page)).into_response();
    }
    let Ok(access_duration) = consent_page::access_duration(form.get("access_duration")) else {
        let page = consent_page::render(
            &req,
            state.profile,
            Some("Choose one of the listed durations."),
        );
        return (StatusCode::BAD_REQUEST, Html(page)).into_response();
    };
    let granted: Vec<String> = if scopes::is_granular(&req.scopes) {
        let ticked: Vec<&str> = form.all("scope").collect();
        req.scopes
            .iter()
            .filter(|s| ticked.contains(&s.as_str()))
            .cloned()
            .collect()
    } else {
        req.scopes.clone()
    };
    let granted = scopes::expand(&granted);
    let prompt_consent = req
        .prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|x| x == "consent"));
    let code = state.store().issue_code(AuthCode {
        client_id: req.client_id.clone(),
        email: email.to_ascii_lowercase(),
        redirect_uri: req.redirect_uri.clone(),
        scopes: granted.clone(),
        code_challenge: req.code_challenge.clone(),
        issued_at: state.clock.now(),
        prompt_consent,
        access_type: req.access_type.clone(),
        access_duration,
    });
    state.counts.bump("auth.allow");
    tracing::info!("consent given; code issued");
    let mut pairs = Vec::new();
    if let Some(s) = &req.state {
        pairs.push(("state", s.clone()));
    }
    pairs.push(("iss", state.issuer.clone()));
    pairs.push(("code", code));
    pairs.push(("scope", granted.join(" ")));
    pairs.push(("authuser", "0".to_owned()));
    pairs.push(("prompt", "consent".to_owned()));
    redirect(&req.redirect_uri, &pairs)
}

/// An error sent back to the client: `error` and `state`, plus (strict profile, RFC 9207)
/// `iss`. Google sends `iss` only with a code.
fn error_redirect(state: &AppState, req: &AuthRequest, error: &str) -> Response {
    let mut pairs = vec![("error", error.to_owned())];
    if let Some(s) = &req.state {
        pairs.push(("state", s.clone()));
    }
    if state.profile == Profile::Strict {
        pairs.push(("iss", state.issuer.clone()));
    }
    redirect(&req.redirect_uri, &pairs)
}

fn redirect(redirect_uri: &str, pairs: &[(&str, String)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return invalid_request("Invalid redirect_uri").into_response();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_rules() {
        assert!(check_redirect("http://127.0.0.1:5000/cb").is_ok());
        assert!(check_redirect("http://[::1]:5000/").is_ok());
        assert!(check_redirect("http://localhost:1/x").is_ok());
        assert_eq!(
            check_redirect("urn:ietf:wg:oauth:2.0:oob")
                .unwrap_err()
                .code,
            "invalid_request"
        );
        assert_eq!(
            check_redirect("https://127.0.0.1:5/").unwrap_err().code,
            "redirect_uri_mismatch"
        );
        assert_eq!(
            check_redirect("http://example.com/").unwrap_err().code,
            "redirect_uri_mismatch"
        );
    }

    #[test]
    fn email_shapes() {
        assert!(well_formed_email("a.b@example.com"));
        assert!(!well_formed_email("a@b"));
        assert!(!well_formed_email("nobody"));
        assert!(!well_formed_email("a b@example.com"));
    }
}
