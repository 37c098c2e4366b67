//! One error type for core. Every kind says, in plain words, what happened and what to do;
//! the UI and the command line show [`Error::explain`] and never parse messages.
//!
//! No variant ever carries a token, code, verifier or client secret: only addresses, reply
//! codes, server texts and our own words.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a grant stopped working, told apart where the evidence allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedCause {
    /// The person pressed Revoke in Postern.
    RevokedByYou,
    /// Google's Testing publishing status: refresh tokens die 7 days after consent.
    TestingModeExpiry,
    /// The person chose time-based access on the consent page, and that time is over.
    TimeBasedAccessEnded,
    /// Access was removed in the Google Account (or by another program).
    RemovedInAccount,
    /// A password change ends grants that include Gmail scopes.
    PasswordChanged,
    /// More than 100 refresh tokens for this client and account: the oldest died.
    TooManyTokens,
    /// Unused for six months.
    Unused,
    /// A Workspace administrator restricted the service.
    AdminPolicy,
    /// The provider says `invalid_grant` and nothing tells the causes apart.
    Unknown,
}

impl RevokedCause {
    /// Plain words for the cause; `provider` is the provider's label.
    pub fn describe(self, provider: &str) -> String {
        match self {
            RevokedCause::RevokedByYou => "You revoked Postern's access.".to_owned(),
            RevokedCause::TestingModeExpiry => "This client's Google Cloud project is in Testing, where Google ends every grant 7 days after consent.".to_owned(),
            RevokedCause::TimeBasedAccessEnded => format!("The time-limited access you chose on {provider}'s consent page has ended."),
            RevokedCause::RemovedInAccount => format!("Access was removed in your account at {provider}."),
            RevokedCause::PasswordChanged => "The account's password changed, which ends grants that include mail access.".to_owned(),
            RevokedCause::TooManyTokens => format!("Too many grants were made for this account and client; {provider} ended the oldest."),
            RevokedCause::Unused => "The grant was not used for six months.".to_owned(),
            RevokedCause::AdminPolicy => format!("An administrator has restricted this service for the account at {provider}."),
            RevokedCause::Unknown => format!("{provider} no longer accepts the grant (it was revoked or it expired)."),
        }
    }

    /// What to do about it.
    pub fn fix(self) -> &'static str {
        match self {
            RevokedCause::TestingModeExpiry => "Authorize again now (mail waiting in the outbox goes out after). To stop the weekly expiry, publish the app in Google Cloud Console (OAuth consent screen → Publish app).",
            RevokedCause::TimeBasedAccessEnded => "Authorize again, and choose a longer time (or \u{201c}until I revoke it\u{201d}) on the consent page; mail waiting in the outbox goes out after.",
            RevokedCause::AdminPolicy => "Ask your administrator to allow Postern's client ID for mail, then authorize again.",
            RevokedCause::TooManyTokens => "Authorize again; avoid authorizing the same account over and over from scripts.",
            _ => "Authorize the account again; mail waiting in the outbox is kept and goes out after.",
        }
    }
}

/// A plain explanation: what happened and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(rename = "ErrorView")]
pub struct Explanation {
    /// A short, stable code for programs (`invalid_grant`, `port_in_use`, …).
    pub kind: String,
    /// What happened, in plain words.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// Everything that can go wrong in core.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    // ---- input and configuration ----
    #[error("the message has no recipient")]
    NoRecipients,
    #[error("attachment {name} is {size} bytes, over the limit of {limit}")]
    AttachmentTooLarge { name: String, size: u64, limit: u64 },
    #[error("the message is {size} bytes, over the provider's limit of {limit}")]
    MessageTooLarge { size: u64, limit: u64 },
    #[error("invalid input: {what}: {why}")]
    InvalidInput { what: String, why: String },
    #[error("no account {address}")]
    UnknownAccount { address: String },
    #[error("no provider named {name}")]
    UnknownProvider { name: String },
    #[error("no Google client is configured")]
    GoogleClientMissing,
    #[error("provider settings are not valid: {why}")]
    ProviderConfig { why: String },

    // ---- the authorization flow ----
    #[error("port {port} on 127.0.0.1 is already in use")]
    PortInUse { port: u16 },
    #[error("could not open the browser: {why}")]
    BrowserLaunch { why: String },
    #[error("you declined the request in the browser")]
    AuthorizationDenied,
    #[error("no answer from the browser within {secs} seconds")]
    AuthorizationTimedOut { secs: u64 },
    #[error("authorization cancelled")]
    AuthorizationCancelled,
    #[error("the provider refused the authorization request: {code}")]
    AuthorizationRefused { code: String, description: String },
    #[error("the browser signed in as {got}, not {expected}")]
    AddressMismatch { expected: String, got: String },
    #[error("an authorization is already in progress")]
    AuthorizationBusy,
    #[error("no authorization is in progress")]
    NoAuthorizationInProgress,
    #[error("the pasted address is not the redirect of this authorization: {why}")]
    RedirectInvalid { why: String },

    // ---- the token endpoint ----
    #[error("the grant is no longer valid: {description}")]
    InvalidGrant {
        cause: RevokedCause,
        description: String,
        /// The provider's label.
        provider: String,
    },
    #[error("{provider} does not accept the client: {description}")]
    InvalidClient {
        description: String,
        /// The provider's label.
        provider: String,
    },
    #[error("the token endpoint answered {status}: {error} {description}")]
    TokenEndpoint {
        status: u16,
        error: String,
        description: String,
    },

    // ---- validation ----
    #[error("the token was issued to another client ({got})")]
    AudienceMismatch { expected: String, got: String },
    #[error("the id_token is not valid: {why}")]
    IdTokenInvalid { why: String },
    #[error("{provider} says the address {address} is not verified")]
    EmailUnverified { address: String, provider: String },
    #[error("neither the id_token nor {provider}'s UserInfo names an email address")]
    IdentityMissing { provider: String },
    #[error("the redirect names the issuer {got:?}, not {expected:?}")]
    IssuerMismatch { expected: String, got: String },
    #[error("{address} is already an account with {provider}")]
    AddressOtherProvider { address: String, provider: String },
    #[error("the permission to send mail was not granted (missing: {})", .missing.join(", "))]
    ScopeMissing { missing: Vec<String> },

    // ---- network and TLS ----
    #[error("could not reach {what}: {why}")]
    Network { what: String, why: String },
    #[error("the TLS certificate of {host} was refused: {why}")]
    Tls {
        host: String,
        why: String,
        /// The custom provider profile in use, whose `extra_ca_pem` may be the fix.
        profile: Option<String>,
    },

    // ---- keychain ----
    #[error("the OS keychain is not available: {why}")]
    KeychainUnavailable { why: String },
    #[error("the OS keychain is locked")]
    KeychainLocked,
    #[error("the OS keychain refused the secret: {why}")]
    KeychainRejected { why: String },
    #[error("the secret is {size} bytes, over the keychain limit of {limit} bytes (Windows Credential Manager)")]
    SecretTooLarge { size: usize, limit: usize },
    #[error("the keychain has no {what} for {account}")]
    SecretMissing { what: String, account: String },

    // ---- storage ----
    #[error("storage error: {why}")]
    Storage { why: String },

    // ---- SMTP ----
    #[error("the mail server refused the sign-in ({code}): {text}")]
    SmtpAuthRejected { code: u16, text: String },
    #[error("sending limit reached ({code}): {text}")]
    SmtpQuota { code: u16, text: String },
    #[error("the mail server refused the message size ({code}): {text}")]
    SmtpTooLarge { code: u16, text: String },
    #[error("the mail server asked to try again later ({code}): {text}")]
    SmtpTemporary { code: u16, text: String },
    #[error("the mail server refused the message ({code}): {text}")]
    SmtpRejected { code: u16, text: String },
    #[error("the connection to the mail server failed: {why}")]
    SmtpConnection { why: String },

    // ---- revocation ----
    #[error("{provider} did not confirm the revocation: {why}")]
    RevocationNotConfirmed {
        provider: String,
        why: String,
        /// The provider's page for removing an app's access.
        access_page: Option<String>,
    },
    #[error("the revocation of {address}'s grant is still pending")]
    RevocationPending { address: String },

    #[error("internal error: {why}")]
    Internal { why: String },

    // ---- the outbox ----
    #[error("“{value}” in {field} is not an email address: {why}")]
    NotAnAddress {
        field: String,
        value: String,
        why: String,
    },
    #[error("the outbox has no message {id}")]
    OutboxNotFound { id: i64 },
    #[error("message {id} is {state} and cannot be {action}")]
    OutboxWrongState {
        id: i64,
        state: String,
        action: String,
    },
    #[error("message {id} was not sent within {secs} seconds; it is still in the outbox")]
    SendTimedOut { id: i64, secs: u64 },
}

/// What kind of failure an error is. It alone decides what happens next: whether Postern
/// tries again by itself, whether a message waits for the person or fails, and the command
/// line's exit code (src-tauri/src/exit.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// May pass by itself (network, a busy server, a revocation not yet confirmed): retried.
    Transient,
    /// Only the person can end it (authorize again, grant a scope, set up a client): mail
    /// waits in the outbox without counting attempts.
    NeedsPerson,
    /// The server refused for good (the message, the sign-in, the quota, a certificate).
    Refused,
    /// The input or a setting is wrong; nothing was sent or changed.
    BadInput,
    /// The OS keychain is locked, missing or refused; usually passes once it is unlocked.
    Keychain,
    /// A fault of Postern or of the machine (storage, a bug).
    Internal,
}

impl ErrorClass {
    /// Whether work that failed this way is tried again later by itself (the outbox's
    /// retries): a transient failure, or a keychain that is usually unlocked soon.
    pub fn passes_by_itself(self) -> bool {
        matches!(self, ErrorClass::Transient | ErrorClass::Keychain)
    }
}

const SHRINK_ATTACHMENTS: &str = "Remove or shrink attachments (Gmail takes about 25 MB of attachments per message), or share large files by link.";
const TRIED_AGAIN_SHORTLY: &str =
    "Nothing to do: the message stays in the outbox and Postern tries again shortly.";

/// Everything core says about one error: its stable code, its class, what to do, and (rarely)
/// better words than its `Display` message.
struct About {
    code: &'static str,
    class: ErrorClass,
    fix: Cow<'static, str>,
    message: Option<String>,
}

impl About {
    fn new(code: &'static str, class: ErrorClass, fix: impl Into<Cow<'static, str>>) -> About {
        About {
            code,
            class,
            fix: fix.into(),
            message: None,
        }
    }

    fn saying(mut self, message: String) -> About {
        self.message = Some(message);
        self
    }
}

/// Whether the token endpoint's HTTP status may pass: a 5xx, a 429, or the HTML 403 Google
/// answers to "automated queries" (docs/google.md).
fn token_endpoint_transient(status: u16) -> bool {
    status >= 500 || status == 429 || status == 403
}

impl Error {
    /// The one description of each kind of error; every other answer is read from it.
    #[rustfmt::skip]
    fn about(&self) -> About {
        use ErrorClass::*;
        match self {
            Error::NoRecipients => About::new("no_recipients", BadInput, "Add at least one address in To, Cc or Bcc."),
            Error::AttachmentTooLarge { .. } => About::new("attachment_too_large", BadInput, SHRINK_ATTACHMENTS),
            Error::MessageTooLarge { .. } => About::new("message_too_large", BadInput, SHRINK_ATTACHMENTS),
            Error::InvalidInput { .. } => About::new("invalid_input", BadInput, "Correct the value and try again."),
            Error::UnknownAccount { .. } => About::new("unknown_account", NeedsPerson, "Add the account first (Accounts → Add Gmail account, or `postern authorize`)."),
            Error::UnknownProvider { .. } => About::new("unknown_provider", BadInput, "Use \"google\", \"sandbox\" (in sandbox mode, or while `postern sandbox` runs), or a profile from providers.toml."),
            Error::GoogleClientMissing => About::new("google_client_missing", NeedsPerson, "In Settings, type the client ID and secret of a Desktop OAuth client from Google Cloud Console, or import the JSON file it downloads. Until then Postern runs in sandbox mode."),
            Error::ProviderConfig { .. } => About::new("provider_config", BadInput, "Correct providers.toml (every endpoint but the consent page must be https)."),
            Error::PortInUse { port } => About::new("port_in_use", BadInput, format!("Close the program using port {port}, or set `redirect_port = 0` in settings so Postern picks a free port.")),
            Error::BrowserLaunch { .. } => About::new("browser_launch", NeedsPerson, "Open the consent address shown by hand in a browser on this computer, then paste the address the browser was sent to."),
            Error::AuthorizationDenied => About::new("access_denied", NeedsPerson, "Nothing was changed. Start again and press Allow when you are ready."),
            Error::AuthorizationTimedOut { secs } => About::new("authorization_timeout", NeedsPerson, format!("Start again and finish the consent in the browser within {}.", match secs { 60 => "a minute".to_owned(), s if s % 60 == 0 => format!("{} minutes", s / 60), s => format!("{s} seconds") })),
            Error::AuthorizationCancelled => About::new("authorization_cancelled", NeedsPerson, "Nothing was changed. Start again whenever you like."),
            Error::AuthorizationRefused { .. } => About::new("authorization_refused", NeedsPerson, "Check the client ID in Settings (it must be a Desktop client) and try again."),
            Error::AddressMismatch { .. } => About::new("address_mismatch", NeedsPerson, "Authorize again and choose the same account in the browser."),
            Error::AuthorizationBusy => About::new("authorization_busy", BadInput, "Finish or cancel the authorization already open in the browser, then start again."),
            Error::NoAuthorizationInProgress => About::new("no_authorization", BadInput, "Start the authorization first, then paste the address the browser was sent to."),
            Error::RedirectInvalid { .. } => About::new("redirect_invalid", BadInput, "Copy the whole address from the browser's address bar after pressing Allow (it starts with http://127.0.0.1:) and paste it again."),
            Error::InvalidGrant { cause, provider, .. } => About::new("invalid_grant", NeedsPerson, cause.fix())
                .saying(cause.describe(provider)),
            Error::InvalidClient { provider, .. } => About::new("invalid_client", NeedsPerson, format!("Check the client ID and secret in Settings (or providers.toml); they must be a desktop client registered at {provider}, and the client must not be deleted.")),
            Error::TokenEndpoint { status, .. } => About::new("token_endpoint", if token_endpoint_transient(*status) { Transient } else { Refused }, "Try again in a minute; Postern retries by itself with backoff."),
            Error::AudienceMismatch { .. } => About::new("audience_mismatch", NeedsPerson, "Do not use this token: it was made for another program. Revoke it and authorize again."),
            Error::IdTokenInvalid { .. } => About::new("id_token_invalid", NeedsPerson, "Authorize again; if it keeps failing, the provider settings may point at the wrong server."),
            Error::EmailUnverified { provider, .. } => About::new("email_unverified", NeedsPerson, format!("Verify the address at {provider} first (Postern sends as it, so it must be proven yours), then authorize again.")),
            Error::IdentityMissing { .. } => About::new("identity_missing", NeedsPerson, "Authorize again and leave the email permission ticked; if it keeps failing, give the profile a userinfo_endpoint in providers.toml."),
            Error::IssuerMismatch { .. } => About::new("issuer_mismatch", NeedsPerson, "Nothing was stored: the answer did not come from the provider Postern asked (a mix-up, or a wrong profile). Check the profile's issuer in providers.toml and authorize again."),
            Error::AddressOtherProvider { .. } => About::new("address_other_provider", NeedsPerson, "One address belongs to one provider in Postern. Remove the account first (its grant is revoked), then add it with the other provider."),
            Error::ScopeMissing { .. } => About::new("scope_missing", NeedsPerson, "Grant again and leave “Read, compose, send, and permanently delete all your email from Gmail” ticked; Postern needs it to send through SMTP."),
            Error::Network { .. } => About::new("network", Transient, "Check the internet connection; Postern retries by itself."),
            Error::Tls { profile: Some(name), .. } => About::new("tls", Refused, format!("If this server uses its own certificate authority, set extra_ca_pem to its PEM file in the \"{name}\" profile of providers.toml. Otherwise check the date and time of this computer and whether a proxy or antivirus intercepts TLS. Postern never sends over an unverified connection.")),
            Error::Tls { .. } => About::new("tls", Refused, "Check the date and time of this computer and whether a proxy or antivirus intercepts TLS. Postern never sends over an unverified connection."),
            Error::KeychainUnavailable { .. } => About::new("keychain_unavailable", Keychain, "Start or install the OS keychain (on Linux: GNOME Keyring or KeePassXC with Secret Service enabled) and try again. Postern never keeps secrets in a plain file."),
            Error::KeychainLocked => About::new("keychain_locked", Keychain, "Unlock the login keychain (your desktop session usually does this at sign-in) and try again."),
            Error::KeychainRejected { .. } => About::new("keychain_rejected", Keychain, "The keychain refused to store the secret; check that it is not full or read-only."),
            Error::SecretTooLarge { .. } => About::new("secret_too_large", Keychain, "Nothing was stored. This provider's token is larger than the Windows keychain can hold; please report it."),
            Error::SecretMissing { what, .. } if what == "client secret" => About::new("secret_missing", NeedsPerson, "Save the provider's client secret again (Settings, or `postern client NAME < secret`); it was removed from the keychain. Mail waits in the outbox."),
            Error::SecretMissing { .. } => About::new("secret_missing", NeedsPerson, "Authorize the account again; its secrets were removed from the keychain. Mail waits in the outbox and goes out after."),
            Error::Storage { .. } => About::new("storage", Internal, "Check that the data folder is writable and the disk is not full."),
            Error::SmtpAuthRejected { .. } => About::new("smtp_auth_rejected", Refused, "Postern refreshes the token and tries once more by itself; if it still fails, authorize the account again."),
            Error::SmtpQuota { .. } => About::new("smtp_quota", Refused, "The server's daily sending limit is reached. The message stays in the outbox: retry it from there after 24 hours."),
            Error::SmtpTooLarge { .. } => About::new("smtp_too_large", Refused, "Remove or shrink attachments and send again."),
            Error::SmtpTemporary { .. } => About::new("smtp_temporary", Transient, TRIED_AGAIN_SHORTLY),
            Error::SmtpConnection { .. } => About::new("smtp_connection", Transient, TRIED_AGAIN_SHORTLY),
            Error::SmtpRejected { .. } => About::new("smtp_rejected", Refused, "Check the recipients and the message, then retry from the outbox."),
            Error::RevocationNotConfirmed { provider, access_page, .. } => About::new("revocation_not_confirmed", Transient, {
                    let page = access_page.as_deref().map_or_else(
                        || format!("in your account's security settings at {provider}"),
                        |p| format!("at {p}"),
                    );
                    format!("Nothing is deleted until {provider} confirms: Postern keeps the tokens (unused) and retries by itself, or retry it now (Retry revocation in the window, `postern revoke` on the command line). To end access right now, remove Postern {page}.")
                }),
            Error::RevocationPending { .. } => About::new("revocation_pending", NeedsPerson, "Postern does not use a grant it was asked to revoke; it keeps retrying the revocation. Retry it now from the account's status, or remove access at the provider; mail waits in the outbox."),
            Error::Internal { .. } => About::new("internal", Internal, "Please report this; the activity log has the details."),
            Error::NotAnAddress { field, .. } => About::new("invalid_address", BadInput, format!("Correct the address in {field} (it should look like name@example.com); separate several addresses with commas.")),
            Error::OutboxNotFound { .. } => About::new("outbox_not_found", BadInput, "Refresh the outbox list; the message may have been sent or discarded already."),
            Error::OutboxWrongState { .. } => About::new("outbox_wrong_state", BadInput, "Only failed or waiting messages can be retried, and a message being sent cannot be discarded; wait a moment and look again."),
            Error::SendTimedOut { .. } => About::new("send_timed_out", Transient, "Nothing is lost: Postern keeps trying in the background (see `postern outbox`)."),

        }
    }

    /// A stable short code for this kind.
    pub fn code(&self) -> &'static str {
        self.about().code
    }

    /// What kind of failure it is (see [`ErrorClass`]).
    pub fn class(&self) -> ErrorClass {
        self.about().class
    }

    /// Whether trying the same thing again later may work (network trouble, 5xx, 4xx SMTP).
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }

    /// What to do about it, in plain words.
    pub fn fix(&self) -> String {
        self.about().fix.into_owned()
    }

    /// Names the custom provider profile in a certificate error, whose `extra_ca_pem` may be
    /// the fix (`None`: Google's, whose servers never need one, or none). `Error::in_profile`
    /// (provider.rs) does it from a provider.
    pub fn in_named_profile(self, custom: Option<&str>) -> Error {
        match (self, custom) {
            (Error::Tls { host, why, .. }, Some(name)) => Error::Tls {
                host,
                why,
                profile: Some(name.to_owned()),
            },
            (other, _) => other,
        }
    }

    /// The message and fix for a person, with a stable code.
    pub fn explain(&self) -> Explanation {
        let about = self.about();
        Explanation {
            kind: about.code.to_owned(),
            // Server text inside (SMTP replies, token endpoint descriptions) is stored in the
            // outbox and the accounts table, so nothing token-shaped may pass.
            message: about
                .message
                .unwrap_or_else(|| crate::redact::redact(&capitalise(&self.to_string()))),
            fix: about.fix.into_owned(),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.explain().serialize(s)
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
