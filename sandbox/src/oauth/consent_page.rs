//! The HTML of the consent page and of Google's "Access blocked" error page: small,
//! self-contained, no external resources. Element ids (`#email`, `.scope`,
//! `#access-duration`, `#allow`, `#deny`) are a contract: browser-driven tests click them.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::store::scopes;
use crate::Profile;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;\
padding:0 1rem;color:#202124}h1{font-size:1.4rem;font-weight:500}.box{border:1px solid #dadce0;\
border-radius:8px;padding:1.5rem}label{display:block;margin:.5rem 0}input[type=email],select{width:100%;\
padding:.5rem;font-size:1rem;box-sizing:border-box}ul{padding-left:1.2rem}.err{color:#d93025}\
.buttons{display:flex;gap:1rem;justify-content:flex-end;margin-top:1.5rem}button{font-size:1rem;\
padding:.5rem 1.5rem;border-radius:4px;border:1px solid #dadce0;background:#fff}\
#allow{background:#1a73e8;color:#fff;border-color:#1a73e8}.note{color:#5f6368;font-size:.85rem}";

/// A validated authorization request: what the consent page shows and the decision acts on.
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) state: Option<String>,
    pub(crate) code_challenge: String,
    pub(crate) login_hint: Option<String>,
    pub(crate) prompt: Option<String>,
    pub(crate) access_type: String,
}

/// Time-based access (docs/google.md, "Why a grant ends"): the `<select id="access-duration">`
/// options, in seconds; the empty value means "until I revoke access".
pub(crate) const ACCESS_DURATIONS: [(&str, &str); 4] = [
    ("", "Until I revoke access"),
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("604800", "7 days"),
];

/// The chosen duration in seconds (`None`: until revoked); `Err` for a value not offered.
pub(crate) fn access_duration(value: Option<&str>) -> Result<Option<i64>, ()> {
    match value {
        None => Ok(None),
        Some(v) if ACCESS_DURATIONS.iter().any(|(o, _)| *o == v) => {
            v.parse().map(Some).map_err(|_| ())
        }
        Some(_) => Err(()),
    }
}

fn duration_select() -> String {
    let options: String = ACCESS_DURATIONS
        .iter()
        .map(|(value, label)| {
            let selected = if value.is_empty() { " selected" } else { "" };
            format!("<option value=\"{value}\"{selected}>{label}</option>")
        })
        .collect();
    format!(
        "<label for=\"access-duration\">How long may the app keep access?</label>\
<select id=\"access-duration\" name=\"access_duration\">{options}</select>"
    )
}

/// The account offered when the request carries no `login_hint`.
pub(crate) const DEFAULT_ACCOUNT: &str = "tester@sandbox.test";

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

/// The consent form; `error` is shown above the account field after a bad submission.
pub(crate) fn render(req: &AuthRequest, profile: Profile, error: Option<&str>) -> String {
    let mut hiddens = vec![
        hidden("client_id", &req.client_id),
        hidden("redirect_uri", &req.redirect_uri),
        hidden("response_type", "code"),
        hidden("requested_scope", &req.scopes.join(" ")),
        hidden("code_challenge", &req.code_challenge),
        hidden("code_challenge_method", "S256"),
        hidden("access_type", &req.access_type),
    ];
    for (name, value) in [
        ("state", &req.state),
        ("login_hint", &req.login_hint),
        ("prompt", &req.prompt),
    ] {
        if let Some(v) = value {
            hiddens.push(hidden(name, v));
        }
    }
    let scope_list = if scopes::is_granular(&req.scopes) {
        let items: String = req
            .scopes
            .iter()
            .map(|s| {
                format!(
                    "<li><label><input type=\"checkbox\" class=\"scope\" name=\"scope\" value=\"{0}\" checked> {0}</label></li>",
                    escape(s)
                )
            })
            .collect();
        format!("<p>Select what the app may access:</p><ul>{items}</ul>")
    } else {
        let items: String = req
            .scopes
            .iter()
            .map(|s| format!("<li>{}</li>", escape(s)))
            .collect();
        format!("<p>The app will be able to:</p><ul>{items}</ul>")
    };
    let email_value = req.login_hint.as_deref().unwrap_or(DEFAULT_ACCOUNT);
    let error_html = error
        .map(|e| format!("<p class=\"err\">{}</p>", escape(e)))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>Sign in - Postern Sandbox Accounts</title><style>{STYLE}</style></head><body>\
<div class=\"box\"><h1>Sign in to continue to the app</h1>\
<p class=\"note\">postern-sandbox ({profile} profile): a local emulator of a consent screen. Any well-formed address is an account.</p>\
<form method=\"post\">{hiddens}{error_html}\
<label for=\"email\">Account</label>\
<input type=\"email\" id=\"email\" name=\"email\" value=\"{email}\" placeholder=\"you@example.com\" autocomplete=\"email\">\
{scope_list}{duration}\
<div class=\"buttons\"><button type=\"submit\" id=\"deny\" name=\"decision\" value=\"deny\" formnovalidate>Cancel</button>\
<button type=\"submit\" id=\"allow\" name=\"decision\" value=\"allow\">Allow</button></div>\
</form></div></body></html>",
        hiddens = hiddens.join(""),
        email = escape(email_value),
        duration = duration_select(),
        profile = profile.as_str(),
    )
}

/// Google's own error page: "Access blocked … Error 400: <code>". It never redirects.
#[derive(Debug)]
pub(crate) struct ErrorPage {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) detail: String,
}

impl ErrorPage {
    pub(crate) fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
        }
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Error {status}: {code}</title><style>{STYLE}</style></head><body><div class=\"box\">\
<h1>Access blocked: Authorization Error</h1><p>{detail}</p>\
<p><b id=\"error\">Error {status}: {code}</b></p></div></body></html>",
            status = self.status.as_u16(),
            code = self.code,
            detail = escape(&self.detail),
        );
        (self.status, Html(body)).into_response()
    }
}
