//! Client authentication (RFC 6749 §2.3.1): HTTP Basic with the form-urlencoded id and
//! secret (`client_secret_basic`), or both in the form body (`client_secret_post`).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::web::{oauth_error, AppState, Params};

/// What the request says about the client, by either method.
pub(crate) struct Presented {
    /// `Some(Some((id, secret)))` for a well-formed Basic header, `Some(None)` for a
    /// malformed one, `None` without one.
    basic: Option<Option<(String, String)>>,
    body_id: Option<String>,
    body_secret: Option<String>,
}

fn form_decode(s: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

impl Presented {
    pub(crate) fn read(headers: &HeaderMap, form: &Params) -> Self {
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .map(|b| {
                let raw = STANDARD.decode(b.trim()).ok()?;
                let text = String::from_utf8(raw).ok()?;
                let (id, secret) = text.split_once(':')?;
                Some((form_decode(id)?, form_decode(secret)?))
            });
        Self {
            basic,
            body_id: form.get("client_id").map(str::to_owned),
            body_secret: form.get("client_secret").map(str::to_owned),
        }
    }

    /// Google's token endpoint: Basic when it parses, else the body; an empty secret is
    /// a missing one.
    pub(crate) fn lenient(&self) -> (Option<String>, Option<String>) {
        if let Some(Some((id, secret))) = &self.basic {
            return (
                Some(id.clone()),
                Some(secret.clone()).filter(|s| !s.is_empty()),
            );
        }
        (self.body_id.clone(), self.body_secret.clone())
    }
}

/// 401 `invalid_client` with the challenge RFC 6749 §5.2 asks for.
pub(crate) fn invalid_client(description: &str) -> Response {
    let mut resp = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"postern-sandbox\""),
    );
    resp
}

/// Why client authentication failed; nothing else happens on such a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// 401 `invalid_client` with this description.
    InvalidClient(&'static str),
    /// 400 `invalid_request`: RFC 6749 §2.3 allows one method per request.
    TwoMethods,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::InvalidClient(description) => invalid_client(description),
            Refused::TwoMethods => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The client authenticated by more than one method (HTTP Basic and \
                 client_secret in the body); use exactly one.",
            ),
        }
    }
}

/// For revocation and introspection: the id of the client that authenticated with its
/// secret by exactly one method.
pub(crate) fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &Params,
) -> Result<String, Refused> {
    let p = Presented::read(headers, form);
    let (id, secret) = match (&p.basic, &p.body_secret) {
        (Some(_), Some(_)) => return Err(Refused::TwoMethods),
        (Some(None), None) => {
            return Err(Refused::InvalidClient(
                "The Authorization header is not HTTP Basic with form-urlencoded client_id:client_secret.",
            ))
        }
        (Some(Some((id, secret))), None) => (id.clone(), secret.clone()),
        (None, Some(secret)) => match &p.body_id {
            Some(id) => (id.clone(), secret.clone()),
            None => {
                return Err(Refused::InvalidClient(
                    "client_secret was sent without client_id.",
                ))
            }
        },
        (None, None) => {
            return Err(Refused::InvalidClient(
                "Client authentication is required: HTTP Basic (client_secret_basic) or \
                 client_id and client_secret in the body (client_secret_post).",
            ))
        }
    };
    let store = state.store();
    match store.client(&id) {
        Some(c) if c.secret == secret => Ok(id),
        Some(_) => Err(Refused::InvalidClient("The client secret is wrong.")),
        None => Err(Refused::InvalidClient("The OAuth client was not found.")),
    }
}
