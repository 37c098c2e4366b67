//! The tray suite's steps: waiting, closing the window as a window manager does, a second
//! launch, and reading the tray icon's pixels.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::desktop::{self, descendants};
use crate::common::{app_binary, tray_host::TrayHost};
use crate::journey::Journey;
use postern_testkit::Plan as Consent;

/// The main window's title.
pub const MAIN_TITLE: &str = "Postern";

/// Waits until `check` holds, or fails saying `what`.
pub async fn until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "{what} (waited {within:?}); windows:\n{}\nnotifications: {:#?}",
            desktop::window_list(),
            desktop::notifications()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Closes the main window as a window manager does, and waits until it is gone. Asked again
/// every 3 s, as a person clicks × again: under Xvfb with no window manager the first
/// WM_DELETE_WINDOW sometimes goes unanswered while a second one closes the window (seen in
/// about half the runs, cause not found); the count is printed for anyone looking into it.
pub async fn close_until_gone(what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut asked = 0;
    while desktop::window_exists(MAIN_TITLE) {
        assert!(
            Instant::now() < deadline,
            "{what}: still open after {asked} requests; windows:\n{}",
            desktop::window_list()
        );
        desktop::close_window(MAIN_TITLE);
        asked += 1;
        for _ in 0..15 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if !desktop::window_exists(MAIN_TITLE) {
                break;
            }
        }
    }
    if asked > 1 {
        eprintln!("tray test: the window needed {asked} close requests");
    }
}

pub fn web_processes(pid: u32) -> Vec<String> {
    descendants(pid)
        .into_iter()
        .filter(|c| c.starts_with("WebKitWebProces"))
        .collect()
}

/// Adds an account through the window once the window has settled (a click while the first
/// layout is still moving can land beside the button).
pub async fn add_account(j: &Journey, me: &str, shot: &str) -> String {
    j.find(".empty-note").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    j.add_account(&Consent::allow(me), shot).await
}

/// Starts Postern a second time with the same folders; it hands over to the first and exits.
pub async fn second_launch(j: &Journey) {
    let mut second = Command::new(app_binary())
        .envs(j.app.dirs.env())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the second launch kept running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "second launch: {status}");
}

/// Switches the WebDriver session to the window that is not `except` (a new one), waiting for it.
pub async fn switch_to_new_window(j: &Journey, except: Option<&fantoccini::wd::WindowHandle>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let handles = j.app.client.windows().await.unwrap_or_default();
        if let Some(h) = handles.into_iter().find(|h| Some(h) != except) {
            j.app.client.switch_to_window(h).await.unwrap();
            return;
        }
        assert!(Instant::now() < deadline, "no new window appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The picture the tray host is told to show, as RGBA pixels (libappindicator hands it over as
/// a PNG file named in IconName).
pub async fn tray_pixels(host: &TrayHost, item: &(String, String)) -> Vec<u8> {
    let name: String = host
        .item_property(item, "IconName")
        .await
        .try_into()
        .unwrap();
    let theme: String = host
        .item_property(item, "IconThemePath")
        .await
        .try_into()
        .unwrap_or_default();
    let mut path = std::path::PathBuf::from(&name);
    if !path.is_absolute() {
        path = std::path::Path::new(&theme).join(format!("{name}.png"));
    }
    pixels(&std::fs::read(&path).unwrap_or_else(|e| panic!("the tray icon {path:?}: {e}")))
}

pub fn pixels(png_bytes: &[u8]) -> Vec<u8> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    buf
}

pub fn icon_pixels(file: &str) -> Vec<u8> {
    pixels(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("icons")
                .join(file),
        )
        .unwrap(),
    )
}

/// Waits until the tray shows the icon `file` from icons/.
pub async fn until_tray_icon(host: &TrayHost, item: &(String, String), file: &str) {
    let want = icon_pixels(file);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tray_pixels(host, item).await != want {
        assert!(
            Instant::now() < deadline,
            "the tray icon is not {file} after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
