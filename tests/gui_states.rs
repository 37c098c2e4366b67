//! The token-status panel in the states where what it says decides what a person does next,
//! walked through in the real app window (sandbox mode, WebKitGTK under Xvfb, driven through
//! tauri-driver) with a real headless Chromium answering the consent page: a Testing-mode
//! client's grant counting down to its end, time-based access ending within a day, and a
//! revocation the provider has not confirmed until it does. Each state is asserted on the
//! panel's text and saved as a screenshot (target/screenshots/states-*.png).

mod common;
#[path = "gui_flow/journey.rs"]
mod journey;

use std::time::Duration;

use journey::Journey;
use postern_testkit::Plan as Consent;
use time::OffsetDateTime;

/// Seven days, Google's (and the sandbox's) life of a grant made while the client is Testing.
const TESTING_GRANT_SECS: i64 = 7 * 86_400;

#[tokio::test(flavor = "multi_thread")]
async fn the_panel_shows_a_testing_countdown_a_time_based_end_and_a_pending_revocation() {
    let mut j = Journey::start().await;

    // Settings: the person says the sandbox's client is in Testing.
    j.click("[data-testid=tab-settings]").await;
    j.find("#publishing-sandbox")
        .await
        .select_by_value("testing")
        .await
        .expect("the publishing status offers Testing");
    let said = j
        .find("[data-testid=provider-statuses] [role=status]")
        .await;
    let saved = said.text().await.unwrap();
    assert!(
        saved.contains("publishing status set to Testing"),
        "after choosing Testing: {saved:?}"
    );
    j.app
        .client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&said).unwrap()],
        )
        .await
        .unwrap();
    j.app.screenshot("states-0-settings-testing").await;
    j.click("[data-testid=tab-status]").await;

    // 1. Testing: the sandbox's client is Testing too, so the grant really ends in 7 days.
    let tess = "tess@example.com";
    let url = j.start_adding(tess).await;
    let admin = j.sandbox_admin(&url);
    let client_id = query_param(&url, "client_id");
    admin
        .post(
            "testing",
            serde_json::json!({ "client_id": client_id, "testing": true }),
        )
        .await;
    let before = now();
    j.answer(&url, &Consent::allow(tess), "states-1-authorizing")
        .await;
    j.find_account(tess).await;
    let after = now();
    j.find(&panel_of(tess)).await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    j.wait_attr("[data-testid=grant-end]", "data-end", "testing_mode")
        .await;
    assert_eq!(j.text("[data-testid=publishing-status]").await, "Testing");
    let ends = j.text("[data-testid=grant-ends-at]").await;
    assert_names_an_instant(
        &j,
        &ends,
        before + time::Duration::seconds(TESTING_GRANT_SECS),
        after + time::Duration::seconds(TESTING_GRANT_SECS),
    )
    .await;
    let left = ticking_countdown(&j).await;
    assert!(
        left.starts_with("6d 23:5"),
        "time left of the grant: {left}"
    );
    let because = j.text("[data-testid=grant-end]").await;
    assert_eq!(because, "Testing mode (7 days after consent)");
    let note = j.text("[data-testid=grant-note]").await;
    assert!(
        note.contains("in Testing") && note.contains("7 days after consent"),
        "the note on Testing: {note:?}"
    );
    // Seven days away is not "soon": no warning yet.
    assert!(!j.exists("[data-testid=grant-ending-soon]").await);
    j.app.screenshot("states-1-testing-countdown").await;
    j.remember_tokens(tess).await;

    // 2. Time-based access: the person grants one day on the consent page.
    let dana = "dana@example.com";
    let url = j.start_adding(dana).await;
    let one_day = Consent {
        access_duration: Some("86400"),
        ..Consent::allow(dana)
    };
    let before = now();
    j.answer(&url, &one_day, "states-2-authorizing").await;
    j.find_account(dana).await;
    let after = now();
    j.find(&panel_of(dana)).await;
    j.wait_attr("[data-testid=grant-end]", "data-end", "time_based_access")
        .await;
    let ends = j.text("[data-testid=grant-ends-at]").await;
    assert_names_an_instant(
        &j,
        &ends,
        before + time::Duration::days(1),
        after + time::Duration::days(1),
    )
    .await;
    let left = ticking_countdown(&j).await;
    assert!(left.starts_with("23:59:"), "time left of the grant: {left}");
    assert_eq!(
        j.text("[data-testid=grant-end]").await,
        "Time-based access you chose"
    );
    let soon = j.text("[data-testid=grant-ending-soon]").await;
    assert!(
        soon.starts_with("This grant ends in 23:59:"),
        "the warning: {soon:?}"
    );
    let note = j.text("[data-testid=grant-note]").await;
    assert!(
        note.contains("time-based access") && note.contains("Authorize again before it does"),
        "the note on time-based access: {note:?}"
    );
    let listed = j.find_account(dana).await.text().await.unwrap();
    assert!(
        listed.contains("Grant ends"),
        "the account list warns too: {listed:?}"
    );
    j.app.screenshot("states-2-time-based-end").await;
    j.remember_tokens(dana).await;

    // 3. Revoke while the sandbox cannot be reached: pending, with why and what to do.
    admin
        .post(
            "faults/revoke-unreachable",
            serde_json::json!({ "on": true }),
        )
        .await;
    j.click("[data-testid=action-revoke]").await;
    j.click("[data-testid=confirm-revoke]").await;
    j.wait_attr(
        "[data-testid=token-state]",
        "data-state",
        "revocation_pending",
    )
    .await;
    let headline = j.text("[data-testid=token-headline]").await;
    assert!(
        headline.starts_with("Revocation pending"),
        "headline: {headline:?}"
    );
    let why = j.text("[data-testid=pending-reason]").await;
    assert!(
        why.starts_with("Why:")
            && why.contains("did not confirm the revocation: it could not be reached"),
        "why: {why:?}"
    );
    assert!(!why.contains(".."), "one sentence, one full stop: {why:?}");
    let fix = j.text("[data-testid=pending-fix]").await;
    assert!(
        fix.starts_with("What to do:") && fix.contains("Retry revocation"),
        "what to do: {fix:?}"
    );
    let next = j.text("[data-testid=revocation-next-try]").await;
    assert!(
        next.starts_with("Postern tries again:") && next.contains("(in "),
        "the next retry: {next:?}"
    );
    assert_eq!(
        j.text("[data-testid=action-retry_revoke]").await,
        "Retry revocation"
    );
    assert_eq!(j.text("[data-testid=action-forget]").await, "Forget here");
    // The end still stands (the grant may live until then), but no warning or advice to
    // authorize again contradicts the revocation the person asked for.
    assert!(j.exists("[data-testid=grant-ends-at]").await);
    assert!(!j.exists("[data-testid=grant-note]").await);
    let listed = j.find_account(dana).await.text().await.unwrap();
    assert!(
        !listed.contains("Grant ends"),
        "the account list warns of the end: {listed:?}"
    );
    j.app.screenshot("states-3-revocation-pending").await;

    // The sandbox answers again; the person retries now and the revocation is confirmed.
    admin
        .post(
            "faults/revoke-unreachable",
            serde_json::json!({ "on": false }),
        )
        .await;
    j.click("[data-testid=action-retry_revoke]").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "revoked")
        .await;
    assert_eq!(
        j.text("[data-testid=token-headline]").await,
        "Revoked by you"
    );
    let cause = j.text("[data-testid=revoked-cause]").await;
    assert!(
        cause.contains("You revoked Postern's access."),
        "cause: {cause:?}"
    );
    assert!(!j.exists("[data-testid=revocation-pending]").await);
    assert_eq!(j.text("[data-testid=grant-ends-at]").await, "Already ended");
    j.app.screenshot("states-4-revoked-after-retry").await;
    let live = admin.get_json(&format!("live-grants?email={dana}")).await;
    assert_eq!(live["live_grants"], 0, "the sandbox still honours: {live}");

    j.finish().await;
}

/// The panel, once it shows `address`.
fn panel_of(address: &str) -> String {
    format!("[data-testid=token-status][data-address=\"{address}\"]")
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The grant's time left, once it has been seen to tick down.
async fn ticking_countdown(j: &Journey) -> String {
    let first = j.text("[data-testid=grant-seconds-left]").await;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = j.text("[data-testid=grant-seconds-left]").await;
        if now != first {
            return now;
        }
    }
    j.fail(&format!("the grant's time left stays at {first}"))
        .await
}

/// Fails unless `shown` (a time as the window writes it, in UTC) names one instant from
/// `from` to `to` to the second: its weekday, day, month, year, and time of day.
async fn assert_names_an_instant(
    j: &Journey,
    shown: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
) {
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut t = from.replace_nanosecond(0).unwrap();
    while t <= to {
        let day = t.day().to_string();
        let parts = [
            &t.weekday().to_string()[..3],
            &day,
            months[t.month() as usize - 1],
            &t.year().to_string(),
            "UTC",
        ];
        // The time of day in 24- or 12-hour form, whichever the locale uses.
        let h12 = (t.hour() + 11) % 12 + 1;
        let clock = [t.hour(), h12].map(|h| format!("{h:02}:{:02}:{:02}", t.minute(), t.second()));
        if parts.iter().all(|p| shown.contains(p)) && clock.iter().any(|c| shown.contains(c)) {
            return;
        }
        t += time::Duration::seconds(1);
    }
    j.fail(&format!(
        "the end reads {shown:?}, not a time from {from} to {to}"
    ))
    .await
}

/// The value of `name` in `url`'s query.
fn query_param(url: &str, name: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    let found = url.query_pairs().find(|(k, _)| k == name);
    found
        .unwrap_or_else(|| panic!("no {name} in {url}"))
        .1
        .into_owned()
}
