//! Postern living in the tray, in the private desktop: the test plays the desktop's tray host
//! (tests/common/tray_host.rs) and reads the notification server (dunst) the harness runs.
//! Closing the window leaves Postern in the tray with no web process; a second launch brings
//! the window and the same accounts back; a revocation is told with its cause and turns the icon
//! to attention; the tray's own menu reauthorizes, opens quick compose and quits.

mod common;
#[path = "gui_flow/journey.rs"]
mod journey;
#[path = "tray/steps.rs"]
mod steps;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::app_binary;
use common::desktop::{self, alive, app_pid, descendants, program};
use common::tray_host::{labels, TrayHost};
use journey::Journey;
use postern_testkit::Plan as Consent;
use steps::*;

/// One test at a time: each plays the desktop's one tray host (a well-known bus name), or
/// needs there to be none.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread")]
async fn closing_the_window_keeps_postern_in_the_tray_without_a_web_process_until_launched_again() {
    let _serial = SERIAL.lock().await;
    let host = TrayHost::start().await;
    let mut j = Journey::start().await;
    let me = "pat@example.com";
    add_account(&j, me, "tray-close-authorizing").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    let item = host.item(Duration::from_secs(30)).await;
    let pid = app_pid(&j.app.dirs.data()).expect("the app's process");
    assert!(
        !web_processes(pid).is_empty(),
        "a window has its web process"
    );

    // The person moves and resizes the window, then closes it (×): it is destroyed, Postern stays.
    j.app
        .client
        .set_window_rect(60, 40, 900, 620)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let placed = j.app.client.get_window_rect().await.unwrap();
    assert_eq!(
        (placed.2, placed.3),
        (900, 620),
        "the window took its new size"
    );
    close_until_gone("the main window is destroyed").await;
    until(
        "no WebKitWebProcess is left once no window is open",
        Duration::from_secs(20),
        || web_processes(pid).is_empty(),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(alive(pid), "Postern quit instead of staying in the tray");
    // The same process now runs the small resident program, without GTK and WebKit, with
    // sandbox mode's emulator as its child.
    assert_eq!(
        program(pid),
        "postern",
        "the resident runs in the app's process"
    );
    let still: Vec<String> = descendants(pid);
    assert!(
        web_processes(pid).is_empty() && !still.iter().any(|c| c.starts_with("WebKit")),
        "no WebKit process is left: {still:?}"
    );
    assert_eq!(still, ["postern"], "only the sandbox's process is below it");
    // Told once, with how to quit.
    desktop::screenshot_shown_notification("tray-closed-hint").await;
    let hint =
        desktop::wait_notification("keeps running in the tray", Duration::from_secs(10)).await;
    assert!(hint.body.contains("Quit Postern"), "{hint:?}");
    // The resident's tray: the same menu, the same account, the same icon.
    let resident = host.item_after(&item, Duration::from_secs(30)).await;
    let menu = host.menu(&resident).await;
    assert!(menu.find("Open Postern").is_some(), "{:?}", labels(&menu));
    assert!(menu.find("Quick compose").is_some(), "{:?}", labels(&menu));
    let row = menu
        .find(me)
        .unwrap_or_else(|| panic!("no row for {me}: {:?}", labels(&menu)));
    assert!(row.label.ends_with(": valid"), "{}", row.label);
    assert!(
        row.find("Revoke & reauthorize").is_some(),
        "{:?}",
        labels(&menu)
    );
    until_tray_icon(&host, &resident, "tray.png").await;
    std::fs::write(
        common::screenshot_dir().join("tray-menu-resident.txt"),
        labels(&menu).join("\n"),
    )
    .unwrap();

    // A second launch creates the window again, in the same process, with the same account.
    second_launch(&j).await;
    until("the window is back", Duration::from_secs(60), || {
        program(pid) == "postern-desktop" && !web_processes(pid).is_empty()
    })
    .await;
    j.app.reattach(pid).await;
    let row = j
        .text(&format!(
            "[data-testid=account-item][data-address=\"{me}\"]"
        ))
        .await;
    assert!(row.contains("Valid"), "the account after reopening: {row}");
    assert_eq!(app_pid(&j.app.dirs.data()), Some(pid), "the same process");
    let back = j.app.client.get_window_rect().await.unwrap();
    assert_eq!(
        back, placed,
        "the window comes back where it was, at its size"
    );
    j.app.screenshot("tray-reopened").await;
    let window_tray = host.item_after(&resident, Duration::from_secs(30)).await;

    // Closed a second time: no second hint.
    close_until_gone("the main window is destroyed again").await;
    let resident = host.item_after(&window_tray, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let hints = desktop::notifications()
        .into_iter()
        .filter(|n| n.summary.contains("keeps running in the tray"))
        .count();
    assert_eq!(hints, 1, "the tray hint is given once");

    // Quit in the tray menu ends the process, and the sandbox's with it.
    let sandbox = desktop::descendant_pids(pid);
    host.click(&resident, "Quit Postern").await;
    until("Quit ends Postern", Duration::from_secs(20), || !alive(pid)).await;
    until(
        "the sandbox's process ends with Postern",
        Duration::from_secs(10),
        || !sandbox.iter().any(|p| alive(*p)),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_grant_is_notified_with_its_cause_and_the_tray_reauthorizes_it() {
    let _serial = SERIAL.lock().await;
    let host = TrayHost::start().await;
    let j = Journey::start().await;
    let me = "sam@example.org";
    let url = add_account(&j, me, "tray-revoke-authorizing").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    let item = host.item(Duration::from_secs(30)).await;
    until_tray_icon(&host, &item, "tray.png").await;
    let menu = host.menu(&item).await;
    let row = menu
        .find(me)
        .unwrap_or_else(|| panic!("no row for {me}: {:?}", labels(&menu)));
    assert!(row.label.ends_with(": valid"), "{}", row.label);
    assert!(
        row.find("Revoke & reauthorize").is_some(),
        "{:?}",
        labels(&menu)
    );

    // What earlier suites left on the screen goes first: the click below is on the newest one.
    desktop::close_shown_notifications();
    // Google's side ends the grant (the person removed access in their account).
    j.sandbox_admin(&url)
        .post("revoke", serde_json::json!({ "email": me }))
        .await;
    // Postern finds out at its next use of the grant.
    j.click("[data-testid=action-refresh]").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "revoked")
        .await;

    desktop::screenshot_shown_notification("tray-revoked-notification").await;
    // Clicking the notification (its default action, as dunst does on a click) shows that
    // account's status, whatever the window was showing.
    j.click("[data-testid=tab-settings]").await;
    j.wait_attr("[data-testid=tab-settings]", "aria-selected", "true")
        .await;
    // No faster than a person: notify-rust listens for the click only once the notification
    // is shown, so a click in that same instant could go unheard.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let clicked = Command::new("dunstctl")
        .args(["action", "0"])
        .status()
        .unwrap();
    assert!(clicked.success(), "dunstctl action");
    j.wait_attr("[data-testid=tab-status]", "aria-selected", "true")
        .await;
    j.wait_attr("[data-testid=token-status]", "data-address", me)
        .await;
    let told =
        desktop::wait_notification(&format!("{me} can no longer send"), Duration::from_secs(20))
            .await;
    // invalid_grant does not say why; the notification gives the cause core worked out, the
    // same the window shows, in the provider's own name.
    let cause =
        "Sandbox (local stand-in for Google) no longer accepts the grant (it was revoked or it expired).";
    let shown = j.text("[data-testid=revoked-cause]").await;
    assert!(shown.contains(cause), "the window's cause: {shown}");
    assert!(
        told.body.contains(cause),
        "the notification gives the cause: {told:?}"
    );
    assert!(
        told.body.contains("Authorize the account again"),
        "and what to do: {told:?}"
    );
    until_tray_icon(&host, &item, "tray-attention.png").await;
    let menu = host.menu(&item).await;
    let row = menu.find(me).unwrap();
    assert!(row.label.contains("revoked — needs you"), "{}", row.label);
    // The menu as the tray host got it, for a person to read after the run (no picture: there
    // is no panel to draw it under Xvfb).
    std::fs::write(
        common::screenshot_dir().join("tray-menu-revoked.txt"),
        labels(&menu).join("\n"),
    )
    .unwrap();
    j.app.screenshot("tray-revoked-window").await;

    // Revoke & reauthorize from the tray: the browser's consent, then valid and a calm icon.
    host.click(&item, "Revoke & reauthorize").await;
    j.consent(&Consent::allow(me), "tray-reauthorizing").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    until_tray_icon(&host, &item, "tray.png").await;
    let menu = host.menu(&item).await;
    assert!(
        menu.find(me).unwrap().label.ends_with(": valid"),
        "{:?}",
        labels(&menu)
    );
    // The person's own revoke on the way is not announced.
    let again = desktop::notifications()
        .into_iter()
        .filter(|n| n.summary.contains("can no longer send"))
        .count();
    assert_eq!(again, 1, "one notice for the one revocation");
}

#[tokio::test(flavor = "multi_thread")]
async fn quick_compose_from_the_tray_sends_a_message_that_arrives() {
    let _serial = SERIAL.lock().await;
    let host = TrayHost::start().await;
    let j = Journey::start().await;
    let me = "pat@example.com";
    let url = add_account(&j, me, "tray-compose-authorizing").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    let item = host.item(Duration::from_secs(30)).await;
    let main = j.app.client.window().await.unwrap();

    host.click(&item, "Quick compose").await;
    switch_to_new_window(&j, Some(&main)).await;
    j.find("[data-testid=quick-compose]").await;
    j.type_into("#quick-to", "friend@example.net").await;
    j.type_into("#quick-subject", "From the tray").await;
    j.type_into("#quick-text", "Two clicks away.").await;
    let attachment = j.app.dirs.root.path().join("agenda.txt");
    std::fs::write(&attachment, b"1. Tray.\n2. Notifications.\n").unwrap();
    j.find("#quick-files")
        .await
        .send_keys(&attachment.display().to_string())
        .await
        .unwrap();
    let picked = j.text("[data-testid=compose-attachments]").await;
    assert!(picked.contains("agenda.txt"), "attachments: {picked}");
    j.app.screenshot("tray-quick-compose").await;
    j.click("[data-testid=compose-send]").await;
    let queued = j.text("[data-testid=compose-queued]").await;
    assert!(queued.contains("From the tray"), "{queued}");

    let admin = j.sandbox_admin(&url);
    let deadline = Instant::now() + Duration::from_secs(30);
    let got = loop {
        let mailbox = admin.get_json("mailbox").await;
        if let Some(m) = mailbox.as_array().and_then(|a| a.first()).cloned() {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "nothing arrived in the sandbox mailbox"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(got["subject"], "From the tray", "{got}");
    assert_eq!(got["account"], me);
    assert_eq!(got["attachments"][0]["name"], "agenda.txt", "{got}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_tray_host_postern_says_so_once_and_closing_the_window_quits() {
    common::require_desktop();
    let _serial = SERIAL.lock().await;
    let dirs = common::AppDirs::new();
    let mut app = Command::new(app_binary())
        .envs(dirs.env())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = app.stderr.take().unwrap();
    let said = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    until("the window opens", Duration::from_secs(60), || {
        desktop::window_exists(MAIN_TITLE)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    close_until_gone("the window closes").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = app.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = app.kill();
            panic!(
                "with no tray to come back from, closing the window must quit Postern; windows:\n{}\nit said:\n{}",
                desktop::window_list(),
                said.join().unwrap()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}");
    let said = said.join().unwrap();
    let told = said.matches("no system tray was found").count();
    assert_eq!(told, 1, "said once, in plain words; it said:\n{said}");
    assert!(said.contains("Everything works from the window"), "{said}");
}

/// The quick-compose window's title.
const COMPOSE_TITLE: &str = "Quick compose — Postern";

#[tokio::test(flavor = "multi_thread")]
async fn in_the_tray_postern_composes_tells_of_a_revocation_and_brings_the_window_back() {
    let _serial = SERIAL.lock().await;
    let host = TrayHost::start().await;
    let mut j = Journey::start().await;
    let me = "kim@example.com";
    let url = add_account(&j, me, "resident-authorizing").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    let admin = j.sandbox_admin(&url);
    // Short-lived access tokens, so that Postern in the tray uses the grant within seconds.
    admin
        .post(
            "access-token-lifetime",
            serde_json::json!({ "seconds": 20 }),
        )
        .await;
    j.click("[data-testid=action-refresh]").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = app_pid(&j.app.dirs.data()).expect("the app's process");
    let window_tray = host.item(Duration::from_secs(30)).await;
    close_until_gone("the main window is destroyed").await;
    let resident = host.item_after(&window_tray, Duration::from_secs(30)).await;
    until("the resident runs", Duration::from_secs(20), || {
        program(pid) == "postern" && web_processes(pid).is_empty()
    })
    .await;

    // Quick compose from the tray: only the quick-compose window comes.
    host.click(&resident, "Quick compose").await;
    until("the quick-compose window", Duration::from_secs(60), || {
        program(pid) == "postern-desktop" && desktop::window_exists(COMPOSE_TITLE)
    })
    .await;
    assert!(
        !desktop::window_exists(MAIN_TITLE),
        "only quick compose opens: {}",
        desktop::window_list()
    );
    j.app.reattach(pid).await;
    j.find("[data-testid=quick-compose]").await;
    j.type_into("#quick-to", "friend@example.net").await;
    j.type_into("#quick-subject", "Sent from the tray").await;
    j.type_into("#quick-text", "No window was open.").await;
    j.click("[data-testid=compose-send]").await;
    let queued = j.text("[data-testid=compose-queued]").await;
    assert!(queued.contains("Sent from the tray"), "{queued}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mailbox = admin.get_json("mailbox").await;
        let arrived = mailbox.as_array().is_some_and(|all| {
            all.iter()
                .any(|m| m["subject"] == "Sent from the tray" && m["account"] == me)
        });
        if arrived {
            break;
        }
        assert!(Instant::now() < deadline, "nothing arrived: {mailbox}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Closing it goes back to the tray.
    let compose_tray = host.item_after(&resident, Duration::from_secs(30)).await;
    desktop::close_window(COMPOSE_TITLE);
    let resident = host
        .item_after(&compose_tray, Duration::from_secs(30))
        .await;
    until("back in the tray", Duration::from_secs(20), || {
        program(pid) == "postern" && web_processes(pid).is_empty()
    })
    .await;

    // The grant ends at the provider while no window is open: Postern in the tray finds out at
    // its next refresh, says so with the cause, and turns the icon.
    desktop::close_shown_notifications();
    admin
        .post("revoke", serde_json::json!({ "email": me }))
        .await;
    // Postern in the tray refreshes at its background pass, once a minute (core's
    // `App::start_background`): the revocation shows at the next pass, which can be a full
    // minute away, and the refresh itself takes a moment. Sixty seconds raced that pass.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let menu = host.menu(&resident).await;
        let row = menu.find(me).map(|r| r.label.clone()).unwrap_or_default();
        if row.contains("revoked — needs you") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the tray did not learn of the revocation: {:?}",
            labels(&menu)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    until_tray_icon(&host, &resident, "tray-attention.png").await;
    desktop::screenshot_shown_notification("resident-revoked-notification").await;

    // A click on the notification brings the window, on that account.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let clicked = Command::new("dunstctl")
        .args(["action", "0"])
        .status()
        .unwrap();
    assert!(clicked.success(), "dunstctl action");
    until("the window is back", Duration::from_secs(60), || {
        program(pid) == "postern-desktop" && desktop::window_exists(MAIN_TITLE)
    })
    .await;
    j.app.reattach(pid).await;
    j.wait_attr("[data-testid=tab-status]", "aria-selected", "true")
        .await;
    j.wait_attr("[data-testid=token-status]", "data-address", me)
        .await;
    j.wait_attr("[data-testid=token-state]", "data-state", "revoked")
        .await;
    let told =
        desktop::wait_notification(&format!("{me} can no longer send"), Duration::from_secs(10))
            .await;
    assert!(
        told.body.contains("Authorize the account again"),
        "{told:?}"
    );
    let window_tray = host.item_after(&resident, Duration::from_secs(30)).await;
    close_until_gone("the main window is destroyed again").await;
    let resident = host.item_after(&window_tray, Duration::from_secs(30)).await;

    // Revoke & reauthorize in the tray: the window comes back and asks the browser.
    host.click(&resident, "Revoke & reauthorize").await;
    until("the window is back", Duration::from_secs(60), || {
        program(pid) == "postern-desktop" && desktop::window_exists(MAIN_TITLE)
    })
    .await;
    j.app.reattach(pid).await;
    j.consent(&Consent::allow(me), "resident-reauthorizing")
        .await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
}
