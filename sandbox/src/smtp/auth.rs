//! SASL payloads of XOAUTH2 and OAUTHBEARER (docs/google.md, "Gmail SMTP"), checked against the
//! token store.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::state::Shared;
use crate::MAIL_SCOPE;

/// The OAuth mechanisms Gmail accepts for SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OAuthMechanism {
    XOAuth2,
    OAuthBearer,
}

/// What a client presented; `user` is None only for OAUTHBEARER without `a=`.
#[derive(Debug)]
pub(crate) struct Presented {
    user: Option<String>,
    token: String,
}

/// Why a response could not be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Undecodable {
    /// Not base64: Gmail's `501 5.5.2 Cannot Decode response`.
    Base64,
    /// Base64, but not the mechanism's shape: treated like a bad token.
    Shape,
}

/// Decodes a base64 SASL response into the user and the bearer token.
pub(crate) fn decode(mech: OAuthMechanism, b64: &str) -> Result<Presented, Undecodable> {
    let raw = STANDARD
        .decode(b64.trim())
        .map_err(|_| Undecodable::Base64)?;
    let text = String::from_utf8(raw).map_err(|_| Undecodable::Shape)?;
    match mech {
        OAuthMechanism::XOAuth2 => xoauth2(&text),
        OAuthMechanism::OAuthBearer => oauthbearer(&text),
    }
    .ok_or(Undecodable::Shape)
}

/// `user=<email>\x01auth=Bearer <token>\x01\x01`
fn xoauth2(text: &str) -> Option<Presented> {
    let mut user = None;
    let mut token = None;
    for field in text.split('\x01').filter(|f| !f.is_empty()) {
        if let Some(u) = field.strip_prefix("user=") {
            user = Some(u.to_owned());
        } else if let Some(a) = field.strip_prefix("auth=") {
            token = bearer(a);
        }
    }
    Some(Presented {
        user: Some(user?),
        token: token?,
    })
}

/// `n,a=<user>,\x01host=…\x01port=…\x01auth=Bearer <token>\x01\x01` (RFC 7628).
fn oauthbearer(text: &str) -> Option<Presented> {
    let (gs2, rest) = text.split_once('\x01')?;
    let mut parts = gs2.split(',');
    let flag = parts.next()?;
    if !matches!(flag, "n" | "y") && !flag.starts_with("p=") {
        return None;
    }
    let user = parts
        .next()
        .and_then(|a| a.strip_prefix("a="))
        .filter(|a| !a.is_empty())
        .map(|a| a.replace("=2C", ",").replace("=3D", "="));
    let token = rest
        .split('\x01')
        .find_map(|kv| kv.strip_prefix("auth="))
        .and_then(bearer)?;
    Some(Presented { user, token })
}

fn bearer(value: &str) -> Option<String> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The authenticated account when the token is live, carries the Gmail scope, and belongs
/// to the named user.
pub(crate) fn verify(shared: &Shared, presented: &Presented) -> Option<String> {
    let now = shared.clock.now();
    let store = shared.store();
    let access = store.live_access(&presented.token, now)?;
    if !access.scopes.iter().any(|s| s == MAIL_SCOPE) {
        return None;
    }
    match &presented.user {
        Some(user) if !user.eq_ignore_ascii_case(&access.email) => None,
        _ => Some(access.email.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn googles_test_vector_shape_decodes() {
        let p = decode(
            OAuthMechanism::XOAuth2,
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnNhbXBsZS10b2tlbgEB",
        )
        .unwrap();
        assert_eq!(p.user.as_deref(), Some("someuser@example.com"));
        assert_eq!(p.token, "ya29.sample-token");
    }

    #[test]
    fn oauthbearer_payload_decodes() {
        let raw =
            "n,a=u@example.com,\x01host=smtp.gmail.com\x01port=587\x01auth=Bearer tok\x01\x01";
        let p = decode(OAuthMechanism::OAuthBearer, &STANDARD.encode(raw)).unwrap();
        assert_eq!(p.user.as_deref(), Some("u@example.com"));
        assert_eq!(p.token, "tok");
    }

    #[test]
    fn garbage_is_told_apart() {
        assert_eq!(
            decode(OAuthMechanism::XOAuth2, "!!!").unwrap_err(),
            Undecodable::Base64
        );
        assert_eq!(
            decode(OAuthMechanism::XOAuth2, &STANDARD.encode("hello")).unwrap_err(),
            Undecodable::Shape
        );
    }
}
