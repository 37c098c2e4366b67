//! One `TokenStatus` per account, exactly as docs/ipc.md says: what state the grant is in,
//! why, and what can be done now. The UI never computes any of this.

use serde::Serialize;
use time::OffsetDateTime;
use ts_rs::TS;

use crate::accounts::{AccountRecord, Standing};
use crate::clock::rfc3339;
use crate::error::{Explanation, RevokedCause};
use crate::provider::{Provider, PublishingStatus, MAIL_SCOPE, USERINFO_EMAIL};

/// The longest time before expiry at which a token is refreshed (and counts as expiring).
pub const EXPIRING_SECS: i64 = 300;
/// Google's Testing publishing status ends refresh tokens this long after consent.
pub const TESTING_LIFETIME_SECS: i64 = 7 * 86_400;
/// A grant that ends within this time is flagged as ending soon.
pub const GRANT_ENDING_SOON_SECS: i64 = 86_400;

/// How long before expiry a token is refreshed: 5 minutes, or half its lifetime when that is
/// shorter, so a 60 s token is used for 30 s instead of being refreshed on every call.
pub fn refresh_margin(lifetime_secs: Option<i64>) -> i64 {
    match lifetime_secs {
        Some(l) if l > 0 => EXPIRING_SECS.min(l / 2),
        _ => EXPIRING_SECS,
    }
}

/// The state of a grant, with what belongs to that state alone. In JSON it is flattened into
/// [`TokenStatus`]: `"state": "revoked"` beside `"revokedCause"`, and so on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TokenState {
    /// More than 5 minutes left.
    Valid,
    /// Less than 5 minutes left (a refresh is due).
    Expiring,
    /// The access token expired; the next use refreshes it.
    Expired,
    /// A refresh is in flight.
    Refreshing,
    /// The provider no longer accepts the grant, or the person revoked it.
    Revoked {
        /// Plain words for why the grant ended.
        #[serde(rename = "revokedCause")]
        cause: String,
    },
    /// The Gmail scope was not granted.
    ScopeMissing,
    /// The last refresh failed for a reason that may pass.
    Error,
    /// Nothing is known yet.
    Unknown,
    /// The person asked to revoke and the provider has not confirmed yet; the grant is not
    /// used, and Postern retries the revocation.
    RevocationPending {
        /// When the revocation is tried again by itself (RFC 3339).
        #[serde(rename = "revocationNextTry")]
        next_try: Option<String>,
    },
    /// The keychain lost a secret the grant needs (the refresh token or the client secret);
    /// nothing is retried until the person acts.
    SecretMissing,
}

impl TokenState {
    /// Whether the person has to act (authorize, grant again, or see to a revocation): the
    /// tray's attention icon, and the panel's "Authorize again" without a question.
    pub fn needs_person(&self) -> bool {
        matches!(
            self,
            TokenState::Revoked { .. }
                | TokenState::ScopeMissing
                | TokenState::RevocationPending { .. }
                | TokenState::SecretMissing
        )
    }

    /// Whether the grant is known to work, so that mail held for it goes out now (an expired
    /// access token is refreshed first). Not while it is being refreshed, failing, or not yet
    /// used: the status that follows says.
    pub fn can_send(&self) -> bool {
        matches!(
            self,
            TokenState::Valid | TokenState::Expiring | TokenState::Expired
        )
    }

    /// What core offers to do in this state, most useful first.
    pub fn offers(&self) -> Vec<Action> {
        use Action::*;
        match self {
            TokenState::Valid
            | TokenState::Expiring
            | TokenState::Expired
            | TokenState::Unknown => vec![Refresh, Revoke, Reauthorize],
            TokenState::Refreshing => vec![Revoke],
            TokenState::Revoked { .. } => vec![Reauthorize],
            TokenState::ScopeMissing => vec![GrantAgain, Revoke],
            TokenState::Error => vec![Refresh, Reauthorize, Revoke],
            TokenState::RevocationPending { .. } => vec![RetryRevoke, Forget],
            TokenState::SecretMissing => vec![Reauthorize, Forget],
        }
    }
}

/// Why a grant has a known end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GrantEnd {
    /// Google's Testing publishing status: 7 days after consent.
    TestingMode,
    /// Time-based access chosen on the consent page.
    TimeBasedAccess,
}

/// What core offers to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "TokenAction")]
pub enum Action {
    /// Refresh the access token now.
    Refresh,
    /// Revoke the grant.
    Revoke,
    /// Run the consent flow again for this address.
    Reauthorize,
    /// Run the consent flow again to grant the missing scope.
    GrantAgain,
    /// Try the pending revocation again now.
    RetryRevoke,
    /// Forget the account here without the provider's confirmation.
    Forget,
}

/// The status of one account's grant (docs/ipc.md `TokenStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TokenStatus {
    /// The account's address.
    pub address: String,
    /// The provider's name.
    pub provider: String,
    /// The grant's state, and what belongs to it alone.
    #[serde(flatten)]
    pub state: TokenState,
    /// Whether the person has to act ([`TokenState::needs_person`]).
    pub needs_person: bool,
    /// Plain words: "Valid for 54 minutes".
    pub headline: String,
    /// When the access token expires (RFC 3339).
    pub expires_at: Option<String>,
    /// Seconds until then (0 when expired).
    pub seconds_left: Option<i64>,
    /// Scopes the provider granted.
    pub scopes_granted: Vec<String>,
    /// Scopes Postern needs.
    pub scopes_needed: Vec<String>,
    /// Needed scopes that sending lacks.
    pub scopes_missing: Vec<String>,
    /// The last successful refresh (RFC 3339).
    pub last_refresh: Option<String>,
    /// When the refresh token was issued (consent time, RFC 3339).
    pub refresh_token_issued_at: Option<String>,
    /// Its age in seconds.
    pub refresh_token_age_secs: Option<i64>,
    /// The client's publishing status, as the person set it.
    pub publishing_status: PublishingStatus,
    /// The exact end of the grant, when one is known (RFC 3339).
    pub grant_ends_at: Option<String>,
    /// Why it ends then.
    pub grant_end: Option<GrantEnd>,
    /// Seconds until then.
    pub grant_seconds_left: Option<i64>,
    /// The grant ends within 24 hours.
    pub grant_ending_soon: bool,
    /// Plain words on the grant's lifetime: its exact end, or what to check.
    pub grant_note: Option<String>,
    /// Tokeninfo says the token was issued to our client.
    pub audience_ok: Option<bool>,
    /// The last error, explained.
    pub last_error: Option<Explanation>,
    /// What core offers now.
    pub actions: Vec<Action>,
}

impl TokenStatus {
    /// Why the grant ended, in plain words, when it is revoked.
    pub fn revoked_cause(&self) -> Option<&str> {
        match &self.state {
            TokenState::Revoked { cause } => Some(cause),
            _ => None,
        }
    }

    /// When a pending revocation is tried again by itself (RFC 3339).
    pub fn revocation_next_try(&self) -> Option<&str> {
        match &self.state {
            TokenState::RevocationPending { next_try } => next_try.as_deref(),
            _ => None,
        }
    }
}

/// docs/ipc.md `Account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The address.
    pub address: String,
    /// The provider's name.
    pub provider: String,
    /// RFC 3339.
    pub added_at: String,
    /// Its token status.
    pub status: TokenStatus,
}

/// Whether two scope names mean the same grant (`email` and its URL alias).
fn same_scope(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> &str {
        if s == USERINFO_EMAIL {
            "email"
        } else {
            s
        }
    }
    norm(a) == norm(b)
}

/// The needed scopes that were not granted, compared as sets with aliases.
pub fn missing_scopes(needed: &[String], granted: &[String]) -> Vec<String> {
    needed
        .iter()
        .filter(|n| !granted.iter().any(|g| same_scope(n, g)))
        .cloned()
        .collect()
}

/// The scopes whose absence stops sending (the Gmail scope); identity ones only matter at
/// sign-in.
pub(crate) fn sending_scopes_missing(needed: &[String], granted: &[String]) -> Vec<String> {
    missing_scopes(needed, granted)
        .into_iter()
        .filter(|s| s == MAIL_SCOPE || !matches!(s.as_str(), "openid" | "email" | "profile"))
        .collect()
}

fn minutes(secs: i64) -> String {
    let m = (secs + 59) / 60;
    if m == 1 {
        "1 minute".to_owned()
    } else {
        format!("{m} minutes")
    }
}

/// Computes the status of `rec` (an account of `provider`) at `now`; `refreshing` when a
/// refresh is in flight.
pub(crate) fn compute(
    rec: &AccountRecord,
    provider: &Provider,
    now: OffsetDateTime,
    refreshing: bool,
) -> TokenStatus {
    let needed = &provider.scopes;
    let margin = refresh_margin(rec.access_lifetime_secs);
    let seconds_left = rec
        .access_expires_at
        .map(|t| (t - now).whole_seconds().max(0));
    let age = rec
        .refresh_token_issued_at
        .map(|t| (now - t).whole_seconds().max(0));
    let missing = sending_scopes_missing(needed, &rec.scopes_granted);
    let (state, headline) = match rec.standing {
        Standing::Revoked => {
            let cause = rec.revoked_cause.unwrap_or(RevokedCause::Unknown);
            let words = if cause == RevokedCause::RevokedByYou {
                "Revoked by you".to_owned()
            } else {
                format!("Revoked: {}", cause.describe(&provider.label))
            };
            let cause = cause.describe(&provider.label);
            (TokenState::Revoked { cause }, words)
        }
        Standing::RevocationPending => (
            TokenState::RevocationPending {
                next_try: rec.revocation_next_try.map(rfc3339),
            },
            if rec.remove_after_revoke {
                format!(
                    "Removal pending: {} has not confirmed the revocation",
                    provider.label
                )
            } else {
                format!(
                    "Revocation pending: {} has not confirmed it",
                    provider.label
                )
            },
        ),
        Standing::SecretMissing => (
            TokenState::SecretMissing,
            rec.last_error
                .as_ref()
                .map(|e| e.message.trim_end_matches('.').to_owned())
                .unwrap_or_else(|| {
                    "A secret of this grant is missing from the keychain".to_owned()
                }),
        ),
        _ if !missing.is_empty() || rec.standing == Standing::ScopeMissing => (
            TokenState::ScopeMissing,
            "Gmail access was not granted: sending is not possible".to_owned(),
        ),
        _ if refreshing => (
            TokenState::Refreshing,
            "Refreshing the access token…".to_owned(),
        ),
        Standing::Error => (
            TokenState::Error,
            rec.last_error
                .as_ref()
                .map(|e| format!("Refresh failed: {}", e.message))
                .unwrap_or_else(|| "Refresh failed".to_owned()),
        ),
        _ => match seconds_left {
            None => (TokenState::Unknown, "No access token yet".to_owned()),
            Some(0) => (
                TokenState::Expired,
                "Expired; Postern refreshes it when needed".to_owned(),
            ),
            Some(s) if s < margin => (
                TokenState::Expiring,
                format!("Expires in {}; a refresh is due", minutes(s)),
            ),
            Some(s) => (TokenState::Valid, format!("Valid for {}", minutes(s))),
        },
    };
    // A revoked grant grants nothing and its refresh token is gone: say so, not what it was.
    let live = !matches!(state, TokenState::Revoked { .. });
    let end = grant_end(rec, provider).filter(|_| live);
    // A grant the person asked to revoke may live until its end, so the end is still stated;
    // but a warning that it ends soon, or advice to authorize again before it does, would
    // contradict what they asked for (the pending revocation says what to do instead).
    let advise = live && !matches!(state, TokenState::RevocationPending { .. });
    TokenStatus {
        address: rec.address.clone(),
        provider: rec.provider.clone(),
        needs_person: state.needs_person(),
        actions: state.offers(),
        headline,
        expires_at: rec.access_expires_at.map(rfc3339),
        seconds_left: seconds_left.filter(|_| live),
        scopes_granted: if live {
            rec.scopes_granted.clone()
        } else {
            Vec::new()
        },
        scopes_needed: needed.to_vec(),
        scopes_missing: if live { missing } else { Vec::new() },
        last_refresh: rec.last_refresh.map(rfc3339),
        refresh_token_issued_at: rec.refresh_token_issued_at.filter(|_| live).map(rfc3339),
        refresh_token_age_secs: age.filter(|_| live),
        publishing_status: provider.publishing_status,
        grant_ends_at: end.as_ref().map(|e| rfc3339(e.at)),
        grant_end: end.as_ref().map(|e| e.why),
        grant_seconds_left: end.as_ref().map(|e| (e.at - now).whole_seconds().max(0)),
        grant_ending_soon: advise
            && end
                .as_ref()
                .is_some_and(|e| (e.at - now).whole_seconds() < GRANT_ENDING_SOON_SECS),
        grant_note: if advise {
            grant_note(end.as_ref(), provider)
        } else {
            None
        },
        audience_ok: rec.audience_ok.filter(|_| live),
        last_error: rec.last_error.clone(),
        state,
    }
}

/// A known end of a grant.
struct End {
    at: OffsetDateTime,
    why: GrantEnd,
}

/// The grant's exact end: time-based access as the provider said, or 7 days after consent
/// when the person said the client is in Testing. Never a guess.
fn grant_end(rec: &AccountRecord, provider: &Provider) -> Option<End> {
    let timed = rec.grant_expires_at.map(|at| End {
        at,
        why: GrantEnd::TimeBasedAccess,
    });
    let testing = (provider.publishing_status == PublishingStatus::Testing)
        .then_some(rec.refresh_token_issued_at)
        .flatten()
        .map(|issued| End {
            at: issued + time::Duration::seconds(TESTING_LIFETIME_SECS),
            why: GrantEnd::TestingMode,
        });
    match (timed, testing) {
        (Some(a), Some(b)) => Some(if a.at <= b.at { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn grant_note(end: Option<&End>, provider: &Provider) -> Option<String> {
    match end {
        // The end itself is in `grant_ends_at`; the note says why and what to do.
        Some(End {
            why: GrantEnd::TestingMode,
            ..
        }) => Some("This client's project is in Testing: Google ends this grant 7 days after consent. Publish the app in Google Cloud Console to stop the weekly expiry.".to_owned()),
        Some(End {
            why: GrantEnd::TimeBasedAccess,
            ..
        }) => Some(format!(
            "You chose time-based access on the consent page of {}: the grant ends then. Authorize again before it does to keep sending.",
            provider.label
        )),
        None if provider.name == "google"
            && provider.publishing_status == PublishingStatus::Unknown =>
        {
            Some("Set this client's publishing status in Settings (Google Cloud Console → Google Auth Platform → Audience shows it): in Testing, Google ends grants 7 days after consent.".to_owned())
        }
        None => None,
    }
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
