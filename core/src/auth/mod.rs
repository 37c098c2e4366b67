//! Authorization: the loopback PKCE flow, the code exchange, validation, refresh and
//! revocation. Its services: `Grants` obtains grants, `Refresher`
//! keeps their access tokens fresh, `Revocations` ends them, and
//! `Statuses` says (and publishes) where each account's token stands.

pub(crate) mod exchange;
pub mod flow;
pub(crate) mod grant;
mod grant_check;
pub(crate) mod grant_lock;
pub(crate) mod loopback;
pub(crate) mod oauth;
pub(crate) mod refresher;
pub(crate) mod revocation;
pub(crate) mod revoke;
mod revoked_cause;
pub(crate) mod statuses;
pub(crate) mod token_cache;
pub(crate) mod validate;

pub use flow::{Launcher, SystemLauncher};

/// How long the background work waits after `failures` attempts in a row that did not work
/// (a revocation not confirmed, a refresh that failed for a reason that may pass): a minute,
/// doubling, at most an hour.
pub(crate) fn retry_after_secs(failures: u32) -> i64 {
    (60_i64 << failures.saturating_sub(1).min(16)).min(3_600)
}

#[cfg(test)]
mod tests {
    use super::retry_after_secs;

    #[test]
    fn background_retries_back_off_from_a_minute_to_an_hour() {
        assert_eq!(retry_after_secs(1), 60);
        assert_eq!(retry_after_secs(2), 120);
        assert_eq!(retry_after_secs(3), 240);
        assert_eq!(retry_after_secs(6), 1_920);
        assert_eq!(retry_after_secs(7), 3_600);
        assert_eq!(retry_after_secs(400), 3_600);
    }
}
