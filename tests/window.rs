//! The real app window under Xvfb, driven through tauri-driver and WebKitWebDriver.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn main_window_shows_its_heading_and_sandbox_banner() {
    let app = AppWindow::launch().await;
    assert_eq!(app.text_of("#app-title").await, "Postern");
    // No Google client is configured in the test's private folders: the app runs in sandbox mode.
    let banner = app.text_of("[data-testid=sandbox-banner]").await;
    assert!(banner.contains("Sandbox mode"), "banner: {banner}");
    let shot = app.screenshot("main-window").await;
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "screenshot is suspiciously small"
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_launch_focuses_the_first_window_and_exits() {
    let app = AppWindow::launch().await;
    assert_eq!(app.text_of("#app-title").await, "Postern");
    let status = hand_over(app.dirs.env()).await;
    assert!(status.success(), "second instance exited with {status}");
    // The first window is still there and answering.
    assert_eq!(app.text_of("#app-title").await, "Postern");

    // A second launch on another data folder hands over too, and opens nothing on the way:
    // opening sandbox mode would have emptied that folder's sandbox data.
    let other = tempfile::tempdir().unwrap();
    let kept = other.path().join("sandbox").join("kept");
    std::fs::create_dir_all(&kept).unwrap();
    let mut env = app.dirs.env();
    env[0].1 = other.path().display().to_string();
    let status = hand_over(env).await;
    assert!(status.success(), "second instance exited with {status}");
    assert!(
        kept.exists(),
        "the second launch opened its own sandbox mode"
    );
    assert_eq!(app.text_of("#app-title").await, "Postern");
    app.close().await;
}

/// Starts the app a second time with `env`; returns how it ended (it must hand over).
async fn hand_over(env: Vec<(String, String)>) -> std::process::ExitStatus {
    assert_eq!(env[0].0, "POSTERN_DATA_DIR");
    let started = Instant::now();
    let mut second = Command::new(app_binary())
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if let Some(s) = second.try_wait().unwrap() {
            return s;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = second.kill();
            panic!("the second instance kept running instead of handing over to the first");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn quick_compose_opens_in_its_own_small_window() {
    let app = AppWindow::launch().await;
    assert_eq!(app.text_of("#app-title").await, "Postern");
    let main = app.client.window().await.unwrap();
    // The Compose tab's button calls `open_compose`, the same as the tray's "Quick compose…".
    app.client
        .find(fantoccini::Locator::Css("[data-testid=tab-write]"))
        .await
        .expect("a Compose tab")
        .click()
        .await
        .unwrap();
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css("[data-testid=open-quick-compose]"))
        .await
        .expect("the Compose tab offers quick compose")
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let compose = loop {
        let handles = app.client.windows().await.unwrap();
        if let Some(h) = handles.into_iter().find(|h| *h != main) {
            break h;
        }
        assert!(Instant::now() < deadline, "no second window opened");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    app.client.switch_to_window(compose).await.unwrap();
    // Its own capability lets it list accounts and send: the form loads without an error.
    app.text_of("[data-testid=quick-compose]").await;
    let send = app.text_of("[data-testid=compose-send]").await;
    assert!(send.contains("Send"), "{send}");
    let (w, _h) = app.client.get_window_size().await.unwrap();
    assert!(w < 700, "quick compose is the small window, {w} px wide");
    app.screenshot("quick-compose").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_google_client_saved_in_sandbox_mode_is_kept_for_the_next_launch() {
    use fantoccini::Locator;
    use postern_core::vault::{SecretKind, Vault};
    let service = format!("postern-test-window-client-{}", std::process::id());
    let svc = service.clone();
    let app = AppWindow::launch_with(move |_| vec![("POSTERN_KEYRING_SERVICE".into(), svc)]).await;
    app.client
        .find(Locator::Css("[data-testid=tab-settings]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let field = |css: &'static str| {
        let client = app.client.clone();
        async move { client.wait().for_element(Locator::Css(css)).await.unwrap() }
    };
    field("#client-id")
        .await
        .send_keys("1234-abc.apps.googleusercontent.com")
        .await
        .unwrap();
    field("#client-secret")
        .await
        .send_keys("stand-in-client-secret")
        .await
        .unwrap();
    field("[data-testid=save-google-client]")
        .await
        .click()
        .await
        .unwrap();
    let started = Instant::now();
    let state = loop {
        let state = app.text_of("[data-testid=google-client-state]").await;
        if state.contains("set up.") || started.elapsed() > Duration::from_secs(20) {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        state.contains("A Google client is set up.")
            && state.contains("Restart Postern to leave sandbox mode"),
        "the window says what happens next: {state}"
    );
    app.screenshot("review-settings-client-saved").await;
    app.close().await;
    // The secret is under the person's keyring service, where Google mode looks for it at the
    // next launch, not under the sandbox's service, which sandbox mode empties.
    let secret = tokio::task::spawn_blocking(move || {
        Vault::new(service).get("client:google", SecretKind::ClientSecret)
    })
    .await
    .unwrap()
    .expect("the keychain answers");
    assert_eq!(
        secret.map(|s| s.expose().to_owned()).as_deref(),
        Some("stand-in-client-secret")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_keychain_the_window_says_why_and_what_to_do() {
    // No Secret Service on this bus: Postern cannot keep secrets, so it must not start, and a
    // person who launched it from a menu must still read why (not a panic, not nothing).
    let app = AppWindow::launch_with(|_| {
        vec![(
            "DBUS_SESSION_BUS_ADDRESS".into(),
            "unix:path=/nonexistent/bus".into(),
        )]
    })
    .await;
    let shown = app.text_of("[data-testid=startup-error]").await;
    assert!(shown.contains("Postern could not start"), "{shown}");
    assert!(shown.contains("keychain is not available"), "{shown}");
    assert!(
        shown.contains("What to do: Start or install the OS keychain"),
        "{shown}"
    );
    app.screenshot("startup-error").await;
    app.close().await;
}

/// Opens the Compose tab and returns its Subject field. A click in the first moments after the
/// window maps can land while the page is still laying out: click again if nothing changed.
async fn compose_subject(app: &AppWindow) -> fantoccini::elements::Element {
    use fantoccini::Locator;
    assert_eq!(app.text_of("#app-title").await, "Postern");
    for _ in 0..3 {
        app.client
            .find(Locator::Css("[data-testid=tab-write]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let found = app
            .client
            .wait()
            .at_most(Duration::from_secs(7))
            .for_element(Locator::Css("#compose-subject"))
            .await;
        if let Ok(subject) = found {
            return subject;
        }
    }
    panic!("the Compose tab did not open after three clicks");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_survives_quitting_and_starting_again() {
    use fantoccini::Locator;
    let app = AppWindow::launch().await;
    compose_subject(&app)
        .await
        .send_keys("Thoughts for Monday")
        .await
        .unwrap();
    app.client
        .find(Locator::Css("#compose-text"))
        .await
        .unwrap()
        .send_keys("Not finished yet")
        .await
        .unwrap();
    // Stopped as a logout stops it: the process ends with the window open.
    let _dirs = app.quit().await;

    let again = AppWindow::launch().await;
    let subject = compose_subject(&again).await;
    assert_eq!(
        subject.prop("value").await.unwrap().as_deref(),
        Some("Thoughts for Monday")
    );
    let text = again
        .client
        .find(Locator::Css("#compose-text"))
        .await
        .unwrap();
    assert_eq!(
        text.prop("value").await.unwrap().as_deref(),
        Some("Not finished yet")
    );
    again.screenshot("draft-after-restart").await;
    // Leave no draft for the suites that run after this one in the same desktop.
    again
        .client
        .execute("localStorage.clear()", vec![])
        .await
        .unwrap();
    again.close().await;
}

/// The body's background as the page computes it, and whether the page sees a dark system.
async fn theme_of(app: &AppWindow) -> (bool, String) {
    let dark = app
        .client
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .await
        .unwrap();
    let bg = app
        .client
        .execute(
            "return getComputedStyle(document.body).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    (
        dark.as_bool().unwrap(),
        bg.as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_window_follows_the_systems_light_or_dark_theme() {
    let light = AppWindow::launch().await;
    assert_eq!(light.text_of("#app-title").await, "Postern");
    let (dark, bg) = theme_of(&light).await;
    assert!(!dark, "a light system reads as light");
    assert_eq!(bg, "rgb(246, 241, 231)", "the cream paper");
    light.screenshot("theme-light").await;
    light.close().await;

    // A person's dark GTK theme (GTK_THEME=Adwaita:dark here) reaches the page as
    // prefers-color-scheme: dark.
    let night = AppWindow::launch_with(|_| vec![("GTK_THEME".into(), "Adwaita:dark".into())]).await;
    assert_eq!(night.text_of("#app-title").await, "Postern");
    let (dark, bg) = theme_of(&night).await;
    assert!(dark, "a dark system reads as dark");
    assert_eq!(bg, "rgb(21, 25, 27)", "the dark slate");
    night.screenshot("theme-dark").await;
    night.close().await;
}
