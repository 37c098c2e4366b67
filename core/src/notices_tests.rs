use super::*;
use crate::error::Explanation;
use crate::status::Account;

/// A revoked state; [`status`] gives it the cause it is built with.
fn revoked() -> TokenState {
    TokenState::Revoked {
        cause: String::new(),
    }
}

/// The one place these tests build a status: every field but the three the rules read is empty.
fn status(address: &str, state: TokenState, cause: Option<RevokedCause>) -> TokenStatus {
    TokenStatus {
        address: address.into(),
        provider: "google".into(),
        needs_person: state.needs_person(),
        state: match (state, cause) {
            (TokenState::Revoked { .. }, Some(c)) => TokenState::Revoked {
                cause: c.describe("Google (Gmail)"),
            },
            (state, _) => state,
        },
        headline: String::new(),
        expires_at: None,
        seconds_left: None,
        scopes_granted: Vec::new(),
        scopes_needed: Vec::new(),
        scopes_missing: Vec::new(),
        last_refresh: None,
        refresh_token_issued_at: None,
        refresh_token_age_secs: None,
        publishing_status: Default::default(),
        grant_ends_at: None,
        grant_end: None,
        grant_seconds_left: None,
        grant_ending_soon: false,
        grant_note: None,
        audience_ok: None,
        last_error: cause.map(|c| Explanation {
            kind: "invalid_grant".into(),
            message: c.describe("Google (Gmail)"),
            fix: c.fix().into(),
        }),
        actions: Vec::new(),
    }
}

fn item(id: i64, state: OutboxState) -> OutboxItem {
    OutboxItem {
        id,
        account: "pat@example.test".into(),
        to: vec!["sam@example.test".into()],
        subject: "Minutes".into(),
        state,
        attempts: 1,
        last_error: (state == OutboxState::Failed).then(|| Explanation {
            kind: "recipient_refused".into(),
            message: "The server refused the recipient sam@example.test.".into(),
            fix: "Check the address and send it again.".into(),
        }),
        created_at: "2026-01-01T00:00:00Z".into(),
        sent_at: None,
        message_id: "m@postern".into(),
        size_bytes: 100,
    }
}

const PAT: &str = "pat@example.test";

#[test]
fn a_grant_removed_in_the_account_is_announced_with_its_cause_and_fix() {
    let before = status(PAT, TokenState::Valid, None);
    let after = status(PAT, revoked(), Some(RevokedCause::RemovedInAccount));
    let n = for_status(&before, &after).expect("a notice");
    assert_eq!(n.kind, NoticeKind::Revoked);
    assert_eq!(n.address.as_deref(), Some(PAT));
    assert!(n.title.contains(PAT), "{}", n.title);
    assert!(
        n.body
            .contains("Access was removed in your account at Google (Gmail)."),
        "{}",
        n.body
    );
    assert!(n.body.contains("Authorize the account again"), "{}", n.body);
}

#[test]
fn the_testing_mode_expiry_says_how_to_stop_it() {
    let before = status(PAT, TokenState::Expiring, None);
    let after = status(PAT, revoked(), Some(RevokedCause::TestingModeExpiry));
    let n = for_status(&before, &after).unwrap();
    assert!(n.body.contains("7 days after consent"), "{}", n.body);
    assert!(n.body.contains("Publish app"), "{}", n.body);
}

#[test]
fn the_persons_own_revoke_is_not_announced() {
    let before = status(PAT, TokenState::Valid, None);
    let after = status(PAT, revoked(), Some(RevokedCause::RevokedByYou));
    assert_eq!(for_status(&before, &after), None);
}

#[test]
fn a_grant_that_stays_revoked_is_announced_once() {
    let mut notices = Notices::new();
    let valid = Event::Status(Box::new(status(PAT, TokenState::Valid, None)));
    let revoked = Event::Status(Box::new(status(
        PAT,
        revoked(),
        Some(RevokedCause::PasswordChanged),
    )));
    assert!(notices.observe(&valid).is_empty());
    assert_eq!(notices.observe(&revoked).len(), 1);
    assert!(notices.observe(&revoked).is_empty());
}

#[test]
fn a_grant_already_revoked_at_start_is_not_announced_again() {
    let mut notices = Notices::new();
    let list = Event::Accounts(vec![Account {
        address: PAT.into(),
        provider: "google".into(),
        added_at: "2026-01-01T00:00:00Z".into(),
        status: status(PAT, revoked(), Some(RevokedCause::Unknown)),
    }]);
    assert!(notices.observe(&list).is_empty());
}

#[test]
fn other_state_changes_are_not_announced() {
    for (a, b) in [
        (TokenState::Valid, TokenState::Expiring),
        (TokenState::Expiring, TokenState::Refreshing),
        (TokenState::Refreshing, TokenState::Valid),
        (revoked(), TokenState::Valid),
    ] {
        assert_eq!(
            for_status(&status(PAT, a.clone(), None), &status(PAT, b.clone(), None)),
            None,
            "{a:?} -> {b:?}"
        );
    }
}

#[test]
fn a_message_failed_for_good_is_announced_with_its_reason() {
    let n = for_outbox(
        Some(OutboxState::Sending),
        false,
        &item(7, OutboxState::Failed),
    )
    .unwrap();
    assert_eq!(n.kind, NoticeKind::SendFailed);
    assert!(
        n.body.contains("“Minutes” to sam@example.test"),
        "{}",
        n.body
    );
    assert!(n.body.contains("refused the recipient"), "{}", n.body);
    assert!(n.body.contains("Check the address"), "{}", n.body);
}

#[test]
fn a_message_sent_at_once_is_not_announced() {
    let mut notices = Notices::new();
    for s in [OutboxState::Queued, OutboxState::Sending, OutboxState::Sent] {
        assert!(
            notices.observe(&Event::Outbox(item(1, s))).is_empty(),
            "{s}"
        );
    }
}

#[test]
fn waiting_mail_that_goes_out_after_reauthorization_is_announced() {
    let mut notices = Notices::new();
    let mut all = Vec::new();
    for s in [
        OutboxState::Queued,
        OutboxState::Sending,
        OutboxState::Waiting,
        OutboxState::Queued,
        OutboxState::Sending,
        OutboxState::Sent,
    ] {
        all.extend(notices.observe(&Event::Outbox(item(2, s))));
    }
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].kind, NoticeKind::WaitingDelivered);
    assert!(
        all[0].title.contains("pat@example.test"),
        "{}",
        all[0].title
    );
}

#[test]
fn a_retried_message_that_fails_again_is_announced_again() {
    let mut notices = Notices::new();
    let mut count = 0;
    for s in [
        OutboxState::Sending,
        OutboxState::Failed,
        OutboxState::Failed,
        OutboxState::Queued,
        OutboxState::Sending,
        OutboxState::Failed,
    ] {
        count += notices.observe(&Event::Outbox(item(3, s))).len();
    }
    assert_eq!(count, 2);
}

#[test]
fn a_revocation_left_pending_is_told_once_with_why_and_what_to_do() {
    let before = status(PAT, TokenState::Valid, None);
    let mut pending = status(PAT, TokenState::RevocationPending { next_try: None }, None);
    pending.last_error = Some(Explanation {
        kind: "revocation_not_confirmed".into(),
        message: "Google (Gmail) did not confirm the revocation: it could not be reached.".into(),
        fix: "Nothing is deleted until Google (Gmail) confirms.".into(),
    });
    let n = for_status(&before, &pending).expect("a notice");
    assert_eq!(n.kind, NoticeKind::RevocationPending);
    assert!(n.body.contains("could not be reached") && n.body.contains("Nothing is deleted"));
    assert_eq!(
        for_status(&pending, &pending),
        None,
        "once, not on every status"
    );
}

#[test]
fn a_grant_that_comes_within_a_day_of_its_end_is_told_once() {
    let mut far = status(PAT, TokenState::Valid, None);
    far.grant_ends_at = Some("2026-12-07T10:00:00Z".into());
    far.grant_note = Some("This client's project is in Testing.".into());
    let mut near = far.clone();
    near.grant_ending_soon = true;
    let n = for_status(&far, &near).expect("a notice");
    assert_eq!(n.kind, NoticeKind::GrantEndingSoon);
    assert!(n.body.contains("2026-12-07T10:00:00Z") && n.body.contains("Testing"));
    assert_eq!(for_status(&near, &near), None);
}
