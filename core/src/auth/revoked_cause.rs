//! Why a grant died, when the provider only says `invalid_grant`: a known end that has come
//! (time-based access, or 7 days after consent for a client in Testing; docs/google.md),
//! else what the provider said. Nothing is inferred from age alone.

use crate::accounts::AccountRecord;
use crate::error::RevokedCause;
use crate::provider::PublishingStatus;
use crate::status::TESTING_LIFETIME_SECS;

/// Slack for clocks when deciding that a grant died at its known end.
const END_LEEWAY_SECS: i64 = 3_600;

/// The cause of an `invalid_grant` at refresh time (`given`: what the provider said).
pub(crate) fn classify(
    given: RevokedCause,
    rec: &AccountRecord,
    status: PublishingStatus,
    now: time::OffsetDateTime,
) -> RevokedCause {
    if given != RevokedCause::Unknown {
        return given;
    }
    let reached = |at: time::OffsetDateTime| (at - now).whole_seconds() <= END_LEEWAY_SECS;
    if rec.grant_expires_at.is_some_and(reached) {
        return RevokedCause::TimeBasedAccessEnded;
    }
    let testing_end = rec
        .refresh_token_issued_at
        .map(|t| t + time::Duration::seconds(TESTING_LIFETIME_SECS));
    if status == PublishingStatus::Testing && testing_end.is_some_and(reached) {
        return RevokedCause::TestingModeExpiry;
    }
    RevokedCause::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(now: time::OffsetDateTime, age_days: i64) -> AccountRecord {
        AccountRecord {
            refresh_token_issued_at: Some(now - time::Duration::days(age_days)),
            ..AccountRecord::new("a@b.test", "google", now)
        }
    }

    #[test]
    fn testing_mode_is_named_only_for_a_testing_client_whose_week_is_over() {
        let now = time::OffsetDateTime::now_utc();
        let unknown = RevokedCause::Unknown;
        let testing = PublishingStatus::Testing;
        assert_eq!(
            classify(unknown, &rec(now, 7), testing, now),
            RevokedCause::TestingModeExpiry
        );
        assert_eq!(classify(unknown, &rec(now, 2), testing, now), unknown);
        assert_eq!(
            classify(unknown, &rec(now, 8), PublishingStatus::InProduction, now),
            unknown,
            "a published app's week-old grant that dies was revoked, not Testing"
        );
        assert_eq!(
            classify(unknown, &rec(now, 30), PublishingStatus::Unknown, now),
            unknown
        );
        assert_eq!(
            classify(RevokedCause::AdminPolicy, &rec(now, 7), testing, now),
            RevokedCause::AdminPolicy
        );
        let mut timed = rec(now, 1);
        timed.grant_expires_at = Some(now - time::Duration::minutes(1));
        assert_eq!(
            classify(unknown, &timed, PublishingStatus::InProduction, now),
            RevokedCause::TimeBasedAccessEnded
        );
    }
}
