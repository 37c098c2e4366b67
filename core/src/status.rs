//! One `TokenStatus` per account, exactly as docs/ipc.md says: what state the grant is in,
//! why, and what can be done now. The UI never computes any of this.

use serde::Serialize;
use time::OffsetDateTime;

use crate::accounts::{AccountRecord, Standing};
use crate::clock::rfc3339;
use crate::error::{Explanation, RevokedCause};
use crate::provider::{MAIL_SCOPE, USERINFO_EMAIL};

/// Seconds before expiry when the token counts as expiring (and is refreshed).
pub const EXPIRING_SECS: i64 = 300;
/// Google's Testing publishing status ends refresh tokens this long after consent.
pub const TESTING_LIFETIME_SECS: i64 = 7 * 86_400;
/// From this refresh-token age on, the Testing-mode warning shows.
const TESTING_WARNING_AGE_SECS: i64 = 5 * 86_400;

/// The state of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
    Revoked,
    /// The Gmail scope was not granted.
    ScopeMissing,
    /// The last refresh failed for a reason that may pass.
    Error,
    /// Nothing is known yet.
    Unknown,
}

/// What core offers to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Refresh the access token now.
    Refresh,
    /// Revoke the grant.
    Revoke,
    /// Run the consent flow again for this address.
    Reauthorize,
    /// Run the consent flow again to grant the missing scope.
    GrantAgain,
}

/// The status of one account's grant (docs/ipc.md `TokenStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenStatus {
    /// The account's address.
    pub address: String,
    /// The provider's name.
    pub provider: String,
    /// The grant's state.
    pub state: TokenState,
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
    /// Set when Google's 7-day Testing limit applies (or may).
    pub testing_mode_warning: Option<String>,
    /// Tokeninfo says the token was issued to our client.
    pub audience_ok: Option<bool>,
    /// Plain words for why the grant ended.
    pub revoked_cause: Option<String>,
    /// The last error, explained.
    pub last_error: Option<Explanation>,
    /// What core offers now.
    pub actions: Vec<Action>,
}

/// docs/ipc.md `Account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Computes the status of `rec` at `now`; `refreshing` when a refresh is in flight.
pub(crate) fn compute(
    rec: &AccountRecord,
    needed: &[String],
    now: OffsetDateTime,
    refreshing: bool,
) -> TokenStatus {
    let seconds_left = rec
        .access_expires_at
        .map(|t| (t - now).whole_seconds().max(0));
    let age = rec
        .refresh_token_issued_at
        .map(|t| (now - t).whole_seconds().max(0));
    let missing = sending_scopes_missing(needed, &rec.scopes_granted);
    let (state, headline, actions) = match rec.standing {
        Standing::Revoked => {
            let cause = rec.revoked_cause.unwrap_or(RevokedCause::Unknown);
            let words = if cause == RevokedCause::RevokedByYou {
                "Revoked by you".to_owned()
            } else {
                format!("Revoked: {}", cause.describe())
            };
            (TokenState::Revoked, words, vec![Action::Reauthorize])
        }
        _ if !missing.is_empty() || rec.standing == Standing::ScopeMissing => (
            TokenState::ScopeMissing,
            "Gmail access was not granted: sending is not possible".to_owned(),
            vec![Action::GrantAgain, Action::Revoke],
        ),
        _ if refreshing => (
            TokenState::Refreshing,
            "Refreshing the access token…".to_owned(),
            vec![Action::Revoke],
        ),
        Standing::Error => (
            TokenState::Error,
            rec.last_error
                .as_ref()
                .map(|e| format!("Refresh failed: {}", e.message))
                .unwrap_or_else(|| "Refresh failed".to_owned()),
            vec![Action::Refresh, Action::Reauthorize, Action::Revoke],
        ),
        _ => match seconds_left {
            None => (
                TokenState::Unknown,
                "No access token yet".to_owned(),
                vec![Action::Refresh, Action::Revoke, Action::Reauthorize],
            ),
            Some(0) => (
                TokenState::Expired,
                "Expired; Postern refreshes it when needed".to_owned(),
                vec![Action::Refresh, Action::Revoke, Action::Reauthorize],
            ),
            Some(s) if s < EXPIRING_SECS => (
                TokenState::Expiring,
                format!("Expires in {}; a refresh is due", minutes(s)),
                vec![Action::Refresh, Action::Revoke, Action::Reauthorize],
            ),
            Some(s) => (
                TokenState::Valid,
                format!("Valid for {}", minutes(s)),
                vec![Action::Refresh, Action::Revoke, Action::Reauthorize],
            ),
        },
    };
    let testing_mode_warning = testing_warning(rec, age);
    // A revoked grant grants nothing and its refresh token is gone: say so, not what it was.
    let live = state != TokenState::Revoked;
    TokenStatus {
        address: rec.address.clone(),
        provider: rec.provider.clone(),
        state,
        headline,
        expires_at: rec.access_expires_at.map(rfc3339),
        seconds_left: if state == TokenState::Revoked {
            None
        } else {
            seconds_left
        },
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
        testing_mode_warning,
        audience_ok: rec.audience_ok.filter(|_| live),
        revoked_cause: match rec.standing {
            Standing::Revoked => Some(
                rec.revoked_cause
                    .unwrap_or(RevokedCause::Unknown)
                    .describe()
                    .to_owned(),
            ),
            _ => None,
        },
        last_error: rec.last_error.clone(),
        actions,
    }
}

fn testing_warning(rec: &AccountRecord, age: Option<i64>) -> Option<String> {
    if rec.standing == Standing::Revoked {
        return None;
    }
    let issued = rec.refresh_token_issued_at?;
    let ends = rfc3339(issued + time::Duration::seconds(TESTING_LIFETIME_SECS));
    if rec.testing_seen {
        return Some(format!(
            "This project is in Testing: Google ends this grant on {ends}, 7 days after consent. Publish the app in Google Cloud Console to stop the weekly expiry."
        ));
    }
    (age? >= TESTING_WARNING_AGE_SECS).then(|| {
        format!("If your Google Cloud project is in Testing, Google ends this grant on {ends} (7 days after consent).")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(now: OffsetDateTime) -> AccountRecord {
        AccountRecord {
            address: "a@b.test".into(),
            provider: "google".into(),
            added_at: now,
            scopes_granted: vec!["openid".into(), USERINFO_EMAIL.into(), MAIL_SCOPE.into()],
            refresh_token_issued_at: Some(now),
            last_refresh: None,
            access_expires_at: Some(now + time::Duration::seconds(3599)),
            standing: Standing::Active,
            revoked_cause: None,
            last_error: None,
            audience_ok: Some(true),
            testing_seen: false,
        }
    }

    fn needed() -> Vec<String> {
        crate::provider::default_scopes()
    }

    #[test]
    fn a_fresh_token_is_valid_for_an_hour() {
        let now = OffsetDateTime::now_utc();
        let s = compute(&rec(now), &needed(), now, false);
        assert_eq!(s.state, TokenState::Valid);
        assert_eq!(s.headline, "Valid for 60 minutes");
        assert!(
            s.scopes_missing.is_empty(),
            "email is granted through its alias"
        );
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "valid");
        assert_eq!(v["secondsLeft"], 3599);
        assert_eq!(
            v["actions"],
            serde_json::json!(["refresh", "revoke", "reauthorize"])
        );
    }

    #[test]
    fn states_follow_time_scopes_and_standing() {
        let now = OffsetDateTime::now_utc();
        let later = |s: i64| now + time::Duration::seconds(s);
        assert_eq!(
            compute(&rec(now), &needed(), later(3400), false).state,
            TokenState::Expiring
        );
        assert_eq!(
            compute(&rec(now), &needed(), later(4000), false).state,
            TokenState::Expired
        );
        assert_eq!(
            compute(&rec(now), &needed(), now, true).state,
            TokenState::Refreshing
        );
        let mut r = rec(now);
        r.scopes_granted.retain(|s| s != MAIL_SCOPE);
        let s = compute(&r, &needed(), now, false);
        assert_eq!(s.state, TokenState::ScopeMissing);
        assert_eq!(s.scopes_missing, vec![MAIL_SCOPE.to_owned()]);
        assert_eq!(s.actions[0], Action::GrantAgain);
        let mut r = rec(now);
        r.standing = Standing::Revoked;
        r.revoked_cause = Some(RevokedCause::TestingModeExpiry);
        let s = compute(&r, &needed(), now, false);
        assert_eq!(s.state, TokenState::Revoked);
        assert!(s.revoked_cause.unwrap().contains("7 days"));
        assert_eq!(s.actions, vec![Action::Reauthorize]);
        assert!(s.scopes_granted.is_empty(), "a dead grant grants nothing");
        assert!(s.scopes_missing.is_empty());
        assert_eq!(s.refresh_token_age_secs, None, "its refresh token is gone");
    }

    #[test]
    fn an_old_refresh_token_warns_about_testing_mode() {
        let now = OffsetDateTime::now_utc();
        let s = compute(&rec(now), &needed(), now + time::Duration::days(6), false);
        assert!(s.testing_mode_warning.unwrap().contains("Testing"));
        assert_eq!(s.refresh_token_age_secs, Some(6 * 86_400));
    }
}
