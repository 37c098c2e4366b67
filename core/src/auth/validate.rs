//! Checks after the exchange (docs/google.md, "Tokeninfo and UserInfo" and "The id_token"):
//! the id_token's claims (iss, aud is our client, not expired) name the address; tokeninfo
//! cross-checks that the access token was issued to our client (aud/azp) and for which
//! scopes. These are Google's and OpenID's, not OAuth 2.0's (tokeninfo is not RFC 7662
//! introspection), so they sit here beside the oauth2 crate, as plain requests on the
//! profile's reqwest client.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::auth::oauth::transport_error;
use crate::error::{Error, Result};
use crate::provider::Provider;
use crate::secret::Secret;

/// Leeway for clock differences when checking `exp`.
const LEEWAY_SECS: i64 = 300;

/// What the id_token says about who signed in.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// The address, when the id_token carries one (OpenID's default id_token does not).
    pub(crate) email: Option<String>,
    /// `email_verified`, when given.
    pub(crate) email_verified: Option<bool>,
}

/// Reads and checks the id_token's claims. The token came straight from the token endpoint
/// over verified TLS, in the answer to a request our client authenticated, so its signature
/// is not checked again (OpenID Connect Core §3.1.3.7 allows it; docs/google.md, "The
/// id_token"); the claims are. Only the payload is read, with the base64 crate: a JWT
/// library would also insist on a header Postern does not use.
pub(crate) fn id_token_claims(
    id_token: &Secret,
    provider: &Provider,
    client_id: &str,
    now_unix: i64,
) -> Result<Identity> {
    let bad = |why: &str| Error::IdTokenInvalid {
        why: why.to_owned(),
    };
    let payload = id_token
        .expose()
        .split('.')
        .nth(1)
        .ok_or_else(|| bad("it is not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad("its payload is not base64url"))?;
    let claims: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| bad("its payload is not JSON"))?;
    if let Some(expected) = &provider.issuer {
        let iss = claims["iss"].as_str().unwrap_or_default();
        // Google documents both forms of its issuer.
        let bare = expected.trim_start_matches("https://");
        if iss != expected && iss != bare {
            return Err(bad(&format!("issuer {iss:?} is not {expected:?}")));
        }
    }
    let aud_ok = match &claims["aud"] {
        serde_json::Value::String(a) => a == client_id,
        serde_json::Value::Array(list) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err(Error::AudienceMismatch {
            expected: client_id.to_owned(),
            got: claims["aud"].to_string(),
        });
    }
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if exp.saturating_add(LEEWAY_SECS) < now_unix {
        return Err(bad("it has expired"));
    }
    Ok(Identity {
        email: claims["email"]
            .as_str()
            .filter(|e| e.contains('@'))
            .map(str::to_ascii_lowercase),
        email_verified: verified(&claims["email_verified"]),
    })
}

/// `email_verified` is a boolean in id_tokens and UserInfo, a string in Google's tokeninfo.
fn verified(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => Some(s == "true"),
        _ => None,
    }
}

/// Asks the OpenID UserInfo endpoint (Bearer) who the access token belongs to.
pub(crate) async fn userinfo(provider: &Provider, access_token: &Secret) -> Result<Identity> {
    let Some(endpoint) = &provider.userinfo_endpoint else {
        return Err(Error::IdentityMissing {
            provider: provider.label.clone(),
        });
    };
    let resp = provider
        .http_client()?
        .get(endpoint)
        .bearer_auth(access_token.expose())
        .send()
        .await
        .map_err(|e| transport_error("the UserInfo endpoint", &e).in_profile(provider))?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(Error::TokenEndpoint {
            status,
            error: "userinfo".to_owned(),
            description: format!("the UserInfo endpoint answered {status}"),
        });
    }
    let v: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| transport_error("the UserInfo endpoint", &e))?;
    Ok(Identity {
        email: v["email"]
            .as_str()
            .filter(|e| e.contains('@'))
            .map(str::to_ascii_lowercase),
        email_verified: verified(&v["email_verified"]),
    })
}

/// What tokeninfo says about the access token.
#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub(crate) audience_ok: bool,
    pub(crate) email: Option<String>,
    pub(crate) email_verified: Option<bool>,
    pub(crate) scope: Option<String>,
}

/// Asks tokeninfo (POST, so the token stays out of URLs and logs) about the access token.
pub(crate) async fn tokeninfo(
    provider: &Provider,
    client_id: &str,
    access_token: &Secret,
) -> Result<Option<TokenInfo>> {
    let Some(endpoint) = &provider.tokeninfo_endpoint else {
        return Ok(None);
    };
    let resp = provider
        .http_client()?
        .post(endpoint)
        .form(&[("access_token", access_token.expose())])
        .send()
        .await
        .map_err(|e| transport_error("tokeninfo", &e).in_profile(provider))?;
    let status = resp.status().as_u16();
    let v: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| transport_error("tokeninfo", &e))?;
    if status != 200 {
        return Err(Error::TokenEndpoint {
            status,
            error: v["error"].as_str().unwrap_or("tokeninfo").to_owned(),
            description: v["error_description"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        });
    }
    let aud = v["aud"].as_str().unwrap_or_default();
    let azp = v["azp"].as_str().unwrap_or(aud);
    Ok(Some(TokenInfo {
        audience_ok: aud == client_id && azp == client_id,
        email: v["email"].as_str().map(str::to_ascii_lowercase),
        email_verified: verified(&v["email_verified"]),
        scope: v["scope"].as_str().map(str::to_owned),
    }))
}

/// Splits a space-delimited scope string.
pub(crate) fn split_scopes(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split(' ').filter(|p| !p.is_empty()) {
        if !out.iter().any(|o| o == part) {
            out.push(part.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> Secret {
        let enc = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        Secret::new(format!(
            "{}.{}.sig",
            enc(&serde_json::json!({"alg": "RS256"})),
            enc(&claims)
        ))
    }

    #[test]
    fn claims_are_checked() {
        let p = crate::provider::google();
        let now = 1_700_000_000;
        let good = serde_json::json!({"iss": "https://accounts.google.com", "aud": "me", "exp": now + 3600, "email": "A@Gmail.com"});
        assert_eq!(
            id_token_claims(&jwt(good.clone()), &p, "me", now)
                .unwrap()
                .email
                .as_deref(),
            Some("a@gmail.com")
        );
        let mut sub_only = good.clone();
        sub_only.as_object_mut().unwrap().remove("email");
        sub_only["sub"] = "1234".into();
        let id = id_token_claims(&jwt(sub_only), &p, "me", now).unwrap();
        assert_eq!(
            id.email, None,
            "OpenID's default id_token names only the subject"
        );
        let e = id_token_claims(&jwt(good.clone()), &p, "someone-else", now).unwrap_err();
        assert_eq!(e.code(), "audience_mismatch");
        let mut bad_iss = good.clone();
        bad_iss["iss"] = "https://evil.test".into();
        assert_eq!(
            id_token_claims(&jwt(bad_iss), &p, "me", now)
                .unwrap_err()
                .code(),
            "id_token_invalid"
        );
        let mut old = good;
        old["exp"] = (now - 4000).into();
        assert_eq!(
            id_token_claims(&jwt(old), &p, "me", now)
                .unwrap_err()
                .code(),
            "id_token_invalid"
        );
    }
}
