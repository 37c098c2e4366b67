//! Checking a grant just obtained before it is stored: the identity it is for, the client
//! it was issued to, and its scopes (docs/google.md).

use crate::auth::exchange::TokenResponse;
use crate::auth::validate;
use crate::error::{Error, Result};
use crate::provider::Provider;

/// What the exchange and validation established.
pub(crate) struct Validated {
    pub(crate) address: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) audience_ok: Option<bool>,
    /// Where the address came from, for the activity log.
    pub(crate) identity_source: &'static str,
}

/// Checks a grant just obtained: whom it is for (the id_token, else tokeninfo, else
/// UserInfo), that the address is verified and the token is for this client, and which
/// scopes came with it. `now` in Unix seconds.
pub(crate) async fn validate(
    p: &Provider,
    client_id: &str,
    tokens: &TokenResponse,
    redirect_scope: Option<String>,
    now: i64,
) -> Result<Validated> {
    let mut identity = match &tokens.id_token {
        Some(t) => Some(validate::id_token_claims(t, p, client_id, now)?),
        None => None,
    };
    let info = match validate::tokeninfo(p, client_id, &tokens.access_token).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!("tokeninfo could not be asked: {}", e.code());
            None
        }
    };
    if let Some(i) = &info {
        if !i.audience_ok {
            return Err(Error::AudienceMismatch {
                expected: client_id.to_owned(),
                got: "another client".to_owned(),
            });
        }
    }
    // OpenID's default id_token names only the subject: the address is at UserInfo.
    let mut source = "the id_token";
    if identity.as_ref().and_then(|i| i.email.as_ref()).is_none() {
        if let Some(i) = info.as_ref().filter(|i| i.email.is_some()) {
            source = "tokeninfo";
            identity = Some(validate::Identity {
                email: i.email.clone(),
                email_verified: i.email_verified,
            });
        } else if p.userinfo_endpoint.is_some() {
            source = "UserInfo";
            identity = Some(validate::userinfo(p, &tokens.access_token).await?);
        }
    }
    let identity = identity.ok_or_else(|| Error::IdentityMissing {
        provider: p.label.clone(),
    })?;
    let address = identity.email.ok_or_else(|| Error::IdentityMissing {
        provider: p.label.clone(),
    })?;
    if identity.email_verified == Some(false) {
        return Err(Error::EmailUnverified {
            address,
            provider: p.label.clone(),
        });
    }
    let scope = tokens
        .scope
        .clone()
        .or(redirect_scope)
        .or_else(|| info.as_ref().and_then(|i| i.scope.clone()))
        .unwrap_or_default();
    Ok(Validated {
        address,
        scopes: validate::split_scopes(&scope),
        audience_ok: info.map(|i| i.audience_ok),
        identity_source: source,
    })
}
