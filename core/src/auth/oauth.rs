//! A provider profile's OAuth 2.0 client on the `oauth2` crate: the consent URL with PKCE
//! (auth/flow.rs), the code and refresh grants (auth/exchange.rs) and RFC 7009 revocation with
//! client authentication (auth/revoke.rs), sent by oauth2's reqwest integration over the
//! profile's own reqwest client (https only, no redirects, timeouts, the profile's extra CA:
//! `Provider::http_client`).
//!
//! What oauth2 does not give sits here on top of it:
//! - its errors carry no HTTP status, and only a 400 `invalid_grant` may end a grant (a 5xx
//!   or 429 saying the same is temporary, docs/google.md "Code exchange and refresh"), so
//!   [`Transport`] keeps the status of the answer it received;
//! - its `StandardTokenResponse` requires `token_type` and an unsigned integer `expires_in`,
//!   and would refuse answers Postern takes (a lifetime as a numeric string, a nonsense one
//!   replaced by the default). [`TokenAnswer`] reads the RFC 6749 §5.1 fields leniently and
//!   implements oauth2's `TokenResponse`; Google's additions (`id_token`,
//!   `refresh_token_expires_in`) are oauth2 `ExtraTokenFields` in [`GoogleFields`].
//!
//! Beside it, not on it: a revocation without client authentication (auth/revoke.rs says
//! why), the redirect's RFC 9207 `iss` (auth/flow.rs), and tokeninfo, UserInfo and the
//! id_token's claims (auth/validate.rs), which are Google's and OpenID's, not OAuth 2.0's.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, Ordering};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AsyncHttpClient, AuthType, AuthUrl, ClientId, ClientSecret, EndpointNotSet,
    EndpointSet, ExtraTokenFields, HttpClientError, HttpRequest, HttpResponse, RefreshToken,
    RevocationUrl, Scope, StandardRevocableToken, TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::provider::Provider;
use crate::secret::Secret;

/// The oauth2 client of a profile: consent page, token and revocation endpoints set.
pub(crate) type ProfileClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointSet,
>;

/// An oauth2 client with Postern's types and no endpoint yet.
pub(crate) type NewClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
>;

/// The profile's client as `client_id`, authenticating with `secret` (when given) as `auth`
/// says: in the form body (`RequestBody`) or as HTTP Basic (`BasicAuth`).
pub(crate) fn client(
    provider: &Provider,
    client_id: &str,
    secret: Option<&Secret>,
    auth: AuthType,
) -> Result<ProfileClient> {
    let bad = |field: &str, e: oauth2::url::ParseError| Error::ProviderConfig {
        why: format!("{field}: {e}"),
    };
    let auth_url = AuthUrl::new(provider.authorization_endpoint.clone())
        .map_err(|e| bad("authorization_endpoint", e))?;
    let token_url =
        TokenUrl::new(provider.token_endpoint.clone()).map_err(|e| bad("token_endpoint", e))?;
    let revocation_url = RevocationUrl::new(provider.revocation_endpoint.clone())
        .map_err(|e| bad("revocation_endpoint", e))?;
    let client = NewClient::new(ClientId::new(client_id.to_owned()))
        .set_auth_uri(auth_url)
        .set_token_uri(token_url)
        .set_revocation_url(revocation_url)
        .set_auth_type(auth);
    Ok(match secret {
        Some(s) => client.set_client_secret(ClientSecret::new(s.expose().to_owned())),
        None => client,
    })
}

/// oauth2's HTTP client: its reqwest integration over the profile's reqwest client,
/// remembering the status of the answer.
pub(crate) struct Transport {
    http: reqwest::Client,
    status: AtomicU16,
}

impl Transport {
    /// A transport over the profile's HTTP client.
    pub(crate) fn new(provider: &Provider) -> Result<Transport> {
        Ok(Transport {
            http: provider.http_client()?,
            status: AtomicU16::new(0),
        })
    }

    /// The HTTP status of the last answer (0 before any came).
    pub(crate) fn status(&self) -> u16 {
        self.status.load(Ordering::Relaxed)
    }
}

impl<'c> AsyncHttpClient<'c> for Transport {
    type Error = HttpClientError<reqwest::Error>;
    type Future =
        Pin<Box<dyn Future<Output = std::result::Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let answer = self.http.call(request).await?;
            self.status
                .store(answer.status().as_u16(), Ordering::Relaxed);
            Ok(answer)
        })
    }
}

/// A request that got no answer from `what`, as network or TLS trouble.
pub(crate) fn unanswered(what: &str, e: &HttpClientError<reqwest::Error>) -> Error {
    match e {
        HttpClientError::Reqwest(e) => transport_error(what, e),
        other => Error::Network {
            what: what.to_owned(),
            why: other.to_string(),
        },
    }
}

/// Maps a transport failure to network or TLS trouble. The text is reqwest's, which names
/// the address (never a token: every request here carries its secrets in the body).
pub(crate) fn transport_error(what: &str, e: &reqwest::Error) -> Error {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        chain.push_str(&s.to_string());
        chain.push_str(": ");
        src = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        let host = e
            .url()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| what.to_owned());
        return Error::Tls {
            host,
            why: chain.trim_end_matches(": ").to_owned(),
            profile: None,
        };
    }
    Error::Network {
        what: what.to_owned(),
        why: chain.trim_end_matches(": ").to_owned(),
    }
}

/// The lifetime assumed when the answer gives none (or a nonsense one): Google's usual hour.
pub(crate) const DEFAULT_EXPIRES_IN: i64 = 3599;
/// The shortest lifetime believed. Short tokens are real outside Google (a minute is common)
/// and the refresh margin is half the lifetime, so they are taken as given down to this.
pub(crate) const MIN_EXPIRES_IN: i64 = 10;
/// The longest lifetime believed: a day. Larger values would overflow time arithmetic and
/// keep a dead token for years.
pub(crate) const MAX_EXPIRES_IN: i64 = 86_400;

/// `expires_in` as the token endpoint gave it (a number or a numeric string), clamped to
/// [`MIN_EXPIRES_IN`]..=[`MAX_EXPIRES_IN`]; absent, unreadable, zero or negative means the default.
fn expires_in_of(v: &Value) -> i64 {
    let given = v
        .as_i64()
        .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        .or_else(|| v.as_str().and_then(|s| s.trim().parse::<i64>().ok()));
    match given {
        Some(secs) if secs > 0 => secs.clamp(MIN_EXPIRES_IN, MAX_EXPIRES_IN),
        _ => DEFAULT_EXPIRES_IN,
    }
}

/// A non-empty string field; anything else counts as absent.
fn text<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// A positive number of seconds, as a number or a numeric string; anything else is absent.
fn seconds<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .filter(|s| *s > 0))
}

/// Google's additions to the token answer (docs/google.md, "Code exchange and refresh").
#[derive(Clone, Default, Deserialize, Serialize)]
pub(crate) struct GoogleFields {
    /// The OpenID id_token, with `openid`/`email` scopes.
    #[serde(default, deserialize_with = "text")]
    pub(crate) id_token: Option<String>,
    /// Seconds until a time-based grant ends.
    #[serde(default, deserialize_with = "seconds")]
    pub(crate) refresh_token_expires_in: Option<i64>,
}

impl std::fmt::Debug for GoogleFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleFields")
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .finish()
    }
}

impl ExtraTokenFields for GoogleFields {}

/// The token endpoint's answer as it came, every field optional, so that one field of the
/// wrong type does not make the others unreadable.
#[derive(Deserialize)]
struct RawAnswer {
    #[serde(default, deserialize_with = "text")]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "text")]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Value,
    #[serde(default, deserialize_with = "text")]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "text")]
    scope: Option<String>,
    #[serde(flatten)]
    google: GoogleFields,
}

/// A successful token answer. An empty `access_token` stands for a missing one (the caller
/// refuses it); `expires_in` is always known, clamped or defaulted.
#[derive(Debug, Serialize, Deserialize)]
#[serde(from = "RawAnswer")]
pub(crate) struct TokenAnswer {
    access_token: AccessToken,
    token_type: BasicTokenType,
    expires_in: i64,
    refresh_token: Option<RefreshToken>,
    /// Granted scopes, space-delimited, as given.
    scope: Option<String>,
    #[serde(skip)]
    scopes: Option<Vec<Scope>>,
    #[serde(flatten)]
    google: GoogleFields,
}

impl From<RawAnswer> for TokenAnswer {
    fn from(raw: RawAnswer) -> TokenAnswer {
        let scopes = raw.scope.as_deref().map(|s| {
            s.split_whitespace()
                .map(|p| Scope::new(p.to_owned()))
                .collect()
        });
        TokenAnswer {
            access_token: AccessToken::new(raw.access_token.unwrap_or_default()),
            // Bearer when absent: Google's and every profile's tokens are Bearer tokens.
            token_type: raw.token_type.map_or(BasicTokenType::Bearer, |t| {
                match t.to_ascii_lowercase().as_str() {
                    "bearer" => BasicTokenType::Bearer,
                    "mac" => BasicTokenType::Mac,
                    _ => BasicTokenType::Extension(t),
                }
            }),
            expires_in: expires_in_of(&raw.expires_in),
            refresh_token: raw.refresh_token.map(RefreshToken::new),
            scope: raw.scope,
            scopes,
            google: raw.google,
        }
    }
}

impl TokenAnswer {
    /// The answer's parts as secrets: access token (possibly empty), lifetime in seconds,
    /// refresh token, granted scopes, Google's fields.
    pub(crate) fn into_parts(self) -> (Secret, i64, Option<Secret>, Option<String>, GoogleFields) {
        (
            Secret::new(self.access_token.into_secret()),
            self.expires_in,
            self.refresh_token.map(|t| Secret::new(t.into_secret())),
            self.scope,
            self.google,
        )
    }
}

impl oauth2::TokenResponse for TokenAnswer {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(
            self.expires_in.unsigned_abs(),
        ))
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}
