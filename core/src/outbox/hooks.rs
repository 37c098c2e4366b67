//! What the outbox needs from the rest of core: where an account's server is, its access
//! token (and one refresh after a rejection), and where to report changes. The app
//! implements it from its services; tests can implement it with real sandbox tokens.

use async_trait::async_trait;

use crate::error::Result;
use crate::mail::SmtpEndpoint;
use crate::outbox::OutboxItem;
use crate::secret::Secret;

/// Where an account sends, and the largest message its server takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendTarget {
    /// The SMTP server.
    pub endpoint: SmtpEndpoint,
    /// The provider's message size limit in bytes.
    pub max_message_bytes: u64,
    /// The custom provider profile it belongs to (not Google), named in certificate errors
    /// because its `extra_ca_pem` may be the fix.
    pub custom_profile: Option<String>,
}

/// The outbox's view of accounts, tokens and notifications.
#[async_trait]
pub trait OutboxHooks: Send + Sync + 'static {
    /// The account's SMTP server and size limit; an unknown account is an error.
    async fn target(&self, account: &str) -> Result<SendTarget>;

    /// A fresh access token (refreshed first when it is close to expiry). An `invalid_grant`
    /// here means the grant is gone: the implementer marks the account revoked.
    async fn access_token(&self, account: &str) -> Result<Secret>;

    /// Called once after the server refused the token: refresh now, whatever the expiry says.
    async fn refresh_after_rejection(&self, account: &str) -> Result<Secret>;

    /// A message changed state (publish `Event::Outbox`).
    fn changed(&self, item: &OutboxItem);

    /// Record an activity entry; never a body or a token.
    fn activity(&self, account: &str, kind: &str, summary: &str, ok: bool);
}
