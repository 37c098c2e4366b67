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
    let started = Instant::now();
    let mut second = Command::new(app_binary())
        .envs(app.dirs.env())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = second.kill();
            panic!("the second instance kept running instead of handing over to the first");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "second instance exited with {status}");
    // The first window is still there and answering.
    assert_eq!(app.text_of("#app-title").await, "Postern");
    app.close().await;
}
