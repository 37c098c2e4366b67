//! Who may talk to the sandbox's HTTP servers.
//!
//! Both ports answer only requests addressed to a loopback name with their own port: a web
//! page whose DNS name was rebound to 127.0.0.1 still sends its own name in `Host`, so it
//! gets nothing. `/admin` also needs the per-run admin token, so that no other local
//! process can revoke grants, inject faults or read the mailbox.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::web::AppState;
use crate::SandboxError;

/// The shortest admin token [`crate::SandboxConfig`] accepts.
const MIN_TOKEN_LEN: usize = 16;

/// 32 octets (256 bits) from the operating system's generator, base64url without padding.
pub(crate) fn new_admin_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token given in the configuration travels in a header as `Bearer <token>`, so it must
/// be visible ASCII without spaces; a short one would be guessable.
pub(crate) fn check_admin_token(token: &str) -> Result<(), SandboxError> {
    if token.len() < MIN_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SandboxError::AdminToken {
            min_len: MIN_TOKEN_LEN,
        });
    }
    Ok(())
}

/// One listener's port, and the port a `Host` without one means (80 or 443).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Listener {
    pub(crate) port: u16,
    pub(crate) default_port: u16,
}

/// Refuses (421) a request whose `Host`, or absolute-form target, names anything but
/// `localhost` or a loopback address with this listener's port.
pub(crate) async fn loopback_host(State(l): State<Listener>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST);
    let host_ok = host
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| names_loopback(h, l));
    let target_ok = req
        .uri()
        .authority()
        .is_none_or(|a| names_loopback(a.as_str(), l));
    if host_ok && target_ok {
        return next.run(req).await;
    }
    let named = match host {
        None => "there was no Host header".to_owned(),
        Some(h) => {
            let shown: String = String::from_utf8_lossy(h.as_bytes())
                .chars()
                .take(80)
                .collect();
            format!("the Host header named {shown:?}")
        }
    };
    let port = l.port;
    let body = format!(
        "Misdirected request: this postern-sandbox server answers only requests addressed to \
         127.0.0.1:{port}, [::1]:{port} or localhost:{port}, and {named}.\n"
    );
    let mut resp = (StatusCode::MISDIRECTED_REQUEST, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn names_loopback(host: &str, l: Listener) -> bool {
    let Ok(authority) = host.parse::<Authority>() else {
        return false;
    };
    if authority.as_str().contains('@') {
        return false;
    }
    if authority.port_u16().unwrap_or(l.default_port) != l.port {
        return false;
    }
    let name = authority.host();
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    name.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Lets a request through only with `Authorization: Bearer <admin token>`; else 401 with
/// where to find the token.
pub(crate) async fn admin_token(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| bearer(v.as_bytes()));
    match given {
        Some(token) if same(token, s.admin_token.as_bytes()) => next.run(req).await,
        Some(_) => unauthorized(
            &s,
            "The admin token in the Authorization header is not this sandbox's.",
        ),
        None => unauthorized(
            &s,
            "The admin API needs the header `Authorization: Bearer <admin token>`.",
        ),
    }
}

/// The credentials of a `Bearer` Authorization value (scheme case-insensitive).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Compares digests in constant time, so neither the position of the first wrong byte
/// nor the token's length shows in the time taken.
fn same(given: &[u8], expected: &[u8]) -> bool {
    Sha256::digest(given)
        .ct_eq(&Sha256::digest(expected))
        .into()
}

fn unauthorized(s: &AppState, what: &str) -> Response {
    let body = json!({
        "error": "unauthorized",
        "error_description": format!(
            "{what} The token is the `admin_token` key of the JSON line that `postern-sandbox` \
             and `postern sandbox` print at start (in-process: Sandbox::admin_token()); it \
             changes at every start. Example: curl -H \"Authorization: Bearer $TOKEN\" \
             {}/admin/counts",
            s.http_base
        ),
    });
    let mut resp = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"postern-sandbox admin\""),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP: Listener = Listener {
        port: 41235,
        default_port: 80,
    };

    #[test]
    fn loopback_names_with_the_listeners_port_pass() {
        for host in [
            "127.0.0.1:41235",
            "127.1.2.3:41235",
            "[::1]:41235",
            "localhost:41235",
            "LocalHost:41235",
        ] {
            assert!(names_loopback(host, HTTP), "{host}");
        }
    }

    #[test]
    fn other_names_ports_and_shapes_are_refused() {
        for host in [
            "evil.example:41235",
            "evil.example",
            "127.0.0.1",
            "127.0.0.1:80",
            "localhost:41236",
            "localhost.:41235",
            "user@127.0.0.1:41235",
            "10.0.0.1:41235",
            "[::ffff:8.8.8.8]:41235",
            "",
            "127.0.0.1:41235/x",
        ] {
            assert!(!names_loopback(host, HTTP), "{host}");
        }
    }

    #[test]
    fn a_host_without_a_port_means_the_schemes_default() {
        let on_80 = Listener {
            port: 80,
            default_port: 80,
        };
        assert!(names_loopback("localhost", on_80));
    }

    #[test]
    fn bearer_credentials_are_read_case_insensitively() {
        assert_eq!(bearer(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"bearer  abc "), Some(&b"abc"[..]));
        assert_eq!(bearer(b"Basic abc"), None);
        assert_eq!(bearer(b"Bearer "), None);
        assert_eq!(bearer(b"Bearerabc"), None);
    }

    #[test]
    fn tokens_are_random_and_long_enough() {
        let (a, b) = (new_admin_token(), new_admin_token());
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert!(check_admin_token(&a).is_ok());
        assert!(check_admin_token("short").is_err());
        assert!(check_admin_token("sixteen chars with spaces").is_err());
        assert!(same(a.as_bytes(), a.as_bytes()));
        assert!(!same(a.as_bytes(), b.as_bytes()));
    }
}
