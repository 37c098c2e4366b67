use super::*;

fn rec(now: OffsetDateTime) -> AccountRecord {
    AccountRecord {
        scopes_granted: vec!["openid".into(), USERINFO_EMAIL.into(), MAIL_SCOPE.into()],
        refresh_token_issued_at: Some(now),
        access_expires_at: Some(now + time::Duration::seconds(3599)),
        audience_ok: Some(true),
        access_lifetime_secs: Some(3599),
        ..AccountRecord::new("a@b.test", "google", now)
    }
}

fn needed() -> Provider {
    crate::provider::google()
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
    assert!(matches!(s.state, TokenState::Revoked { .. }));
    assert!(s.revoked_cause().unwrap().contains("7 days"));
    assert_eq!(s.actions, vec![Action::Reauthorize]);
    assert!(s.scopes_granted.is_empty(), "a dead grant grants nothing");
    assert!(s.scopes_missing.is_empty());
    assert_eq!(s.refresh_token_age_secs, None, "its refresh token is gone");
}

#[test]
fn a_testing_client_shows_the_exact_end_and_warns_from_a_day_before() {
    let now = OffsetDateTime::now_utc();
    let mut p = needed();
    p.publishing_status = PublishingStatus::Testing;
    let s = compute(&rec(now), &p, now + time::Duration::days(5), false);
    assert_eq!(s.grant_end, Some(GrantEnd::TestingMode));
    assert_eq!(
        s.grant_ends_at,
        Some(rfc3339(now + time::Duration::days(7)))
    );
    assert_eq!(s.grant_seconds_left, Some(2 * 86_400));
    assert!(!s.grant_ending_soon);
    assert!(s.grant_note.unwrap().contains("Testing"));
    let s = compute(
        &rec(now),
        &p,
        now + time::Duration::hours(7 * 24 - 23),
        false,
    );
    assert!(s.grant_ending_soon, "within 24 hours of the end");
}

#[test]
fn an_unknown_publishing_status_makes_no_testing_claim() {
    let now = OffsetDateTime::now_utc();
    let s = compute(&rec(now), &needed(), now + time::Duration::days(6), false);
    assert_eq!(s.grant_end, None);
    assert_eq!(s.grant_ends_at, None);
    let note = s.grant_note.unwrap();
    assert!(
        note.contains("Set this client's publishing status"),
        "{note}"
    );
    assert!(!note.contains("ends this grant"), "{note}");
    let mut p = needed();
    p.publishing_status = PublishingStatus::InProduction;
    assert_eq!(compute(&rec(now), &p, now, false).grant_note, None);
}

#[test]
fn time_based_access_ends_exactly_when_the_provider_said() {
    let now = OffsetDateTime::now_utc();
    let mut r = rec(now);
    r.grant_expires_at = Some(now + time::Duration::hours(1));
    let s = compute(&r, &needed(), now, false);
    assert_eq!(s.grant_end, Some(GrantEnd::TimeBasedAccess));
    assert_eq!(s.grant_seconds_left, Some(3600));
    assert!(s.grant_ending_soon);
}

#[test]
fn the_refresh_margin_is_half_a_short_lifetime() {
    assert_eq!(refresh_margin(Some(3599)), 300);
    assert_eq!(refresh_margin(Some(60)), 30);
    assert_eq!(refresh_margin(None), 300);
    let now = OffsetDateTime::now_utc();
    let mut r = rec(now);
    r.access_lifetime_secs = Some(60);
    r.access_expires_at = Some(now + time::Duration::seconds(60));
    let at = |s: i64| compute(&r, &needed(), now + time::Duration::seconds(s), false).state;
    assert_eq!(at(20), TokenState::Valid, "40 s left of 60 is not yet due");
    assert_eq!(at(31), TokenState::Expiring);
}

#[test]
fn a_pending_revocation_offers_retry_and_says_who_has_not_confirmed() {
    let now = OffsetDateTime::now_utc();
    let mut r = rec(now);
    r.standing = Standing::RevocationPending;
    let s = compute(&r, &needed(), now, false);
    assert!(matches!(s.state, TokenState::RevocationPending { .. }));
    assert!(
        s.headline.contains("Google (Gmail) has not confirmed"),
        "{}",
        s.headline
    );
    assert_eq!(s.actions, vec![Action::RetryRevoke, Action::Forget]);
    assert!(s.state.needs_person() && !s.state.can_send());
}

#[test]
fn a_pending_revocation_states_the_end_without_warning_or_advice_about_it() {
    let now = OffsetDateTime::now_utc();
    let mut r = rec(now);
    r.grant_expires_at = Some(now + time::Duration::hours(1));
    let s = compute(&r, &needed(), now, false);
    assert!(
        s.grant_ending_soon && s.grant_note.is_some(),
        "a live grant"
    );
    r.standing = Standing::RevocationPending;
    let s = compute(&r, &needed(), now, false);
    assert_eq!(s.grant_end, Some(GrantEnd::TimeBasedAccess));
    assert_eq!(s.grant_seconds_left, Some(3600), "it may live until then");
    assert!(
        !s.grant_ending_soon,
        "no warning about an end that was asked for"
    );
    assert_eq!(s.grant_note, None, "no advice to authorize again");
}

#[test]
fn a_states_own_data_keeps_its_name_in_json() {
    let now = OffsetDateTime::now_utc();
    let mut r = rec(now);
    r.standing = Standing::Revoked;
    r.revoked_cause = Some(RevokedCause::RevokedByYou);
    let v = serde_json::to_value(compute(&r, &needed(), now, false)).unwrap();
    assert_eq!(v["state"], "revoked");
    assert_eq!(v["revokedCause"], "You revoked Postern's access.");
    assert_eq!(v["needsPerson"], true);
    r.standing = Standing::RevocationPending;
    r.revocation_next_try = Some(now);
    let v = serde_json::to_value(compute(&r, &needed(), now, false)).unwrap();
    assert_eq!(v["state"], "revocation_pending");
    assert_eq!(v["revocationNextTry"], rfc3339(now));
    assert!(
        v.get("revokedCause").is_none(),
        "only a revoked grant has a cause"
    );
    let v = serde_json::to_value(compute(&rec(now), &needed(), now, false)).unwrap();
    assert_eq!(v["needsPerson"], false);
}

#[test]
fn an_expired_grant_still_works_and_does_not_need_the_person() {
    assert!(TokenState::Expired.can_send() && !TokenState::Expired.needs_person());
    for waiting in [
        TokenState::Refreshing,
        TokenState::Error,
        TokenState::Unknown,
    ] {
        assert!(
            !waiting.can_send() && !waiting.needs_person(),
            "{waiting:?}"
        );
    }
    let revoked = TokenState::Revoked {
        cause: String::new(),
    };
    assert!(revoked.needs_person() && !revoked.can_send());
    assert_eq!(revoked.offers(), vec![Action::Reauthorize]);
}
