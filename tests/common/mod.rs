//! Fixtures for the app's end-to-end suites: the real binary, in the private desktop that
//! `scripts/with-desktop` provides, driven through tauri-driver and WebKitWebDriver.
#![allow(dead_code)]

pub mod cli_sandbox;
pub mod desktop;
pub mod msmtp;
pub mod tray_host;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use postern_app::startup::SANDBOX_ADMIN_TOKEN_ENV;

/// Fails loudly when a test runs outside the harness: a skipped real part is a test not done.
pub fn require_desktop() {
    postern_app::install_tls_provider();
    postern_testkit::require_desktop();
}

pub use postern_testkit::free_port;

/// The desktop app (window and tray) cargo built for these tests.
pub fn app_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_postern-desktop"))
}

/// The `postern` command line cargo built for these tests.
pub fn cli_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_postern"))
}

/// Where screenshots go, under target/ so a person can look at them after a run.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 32 random octets as hex: an admin token for a sandbox a test starts.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Private data and config folders for one app instance.
pub struct AppDirs {
    pub root: tempfile::TempDir,
}

impl AppDirs {
    pub fn new() -> Self {
        AppDirs {
            root: tempfile::tempdir().unwrap(),
        }
    }
    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }
    pub fn config(&self) -> PathBuf {
        self.root.path().join("config")
    }
    /// The environment the app needs to use these folders and its own keyring service.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("POSTERN_DATA_DIR".into(), self.data().display().to_string()),
            (
                "POSTERN_CONFIG_DIR".into(),
                self.config().display().to_string(),
            ),
        ]
    }
}

pub use postern_testkit::Group;

/// Changes a 1-pixel, 1%-opaque speck in the corner on every frame for two seconds, then removes it.
const REPAINT_FOR_SCREENSHOT: &str = "
    const speck = document.createElement('div');
    speck.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';
    document.body.appendChild(speck);
    const end = performance.now() + 2000;
    let n = 0;
    (function frame() {
        speck.style.background = n++ % 2 ? 'rgba(0,0,0,0.01)' : 'rgba(0,0,0,0.02)';
        if (performance.now() < end) requestAnimationFrame(frame); else speck.remove();
    })();
";

/// The real app window, started by tauri-driver through WebKitWebDriver.
pub struct AppWindow {
    pub client: fantoccini::Client,
    _driver: Group,
    /// WebKitWebDriver processes attached to a later window process (see [`AppWindow::reattach`]).
    _attached: Vec<Group>,
    pub dirs: AppDirs,
    /// The admin token of the window's in-process sandbox (sandbox mode), chosen at launch
    /// through `POSTERN_SANDBOX_ADMIN_TOKEN`.
    pub sandbox_admin_token: String,
    _one_at_a_time: tokio::sync::MutexGuard<'static, ()>,
}

/// One app window at a time: the single-instance plugin claims one D-Bus name per app, so two
/// windows in the same desktop would hand over to each other.
/// (An async lock: a test waiting for its turn must not block the thread the other runs on.)
static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl AppWindow {
    /// Starts the app binary with private folders and opens a WebDriver session on its main window.
    pub async fn launch() -> Self {
        Self::launch_with(|_| Vec::new()).await
    }

    /// Like [`AppWindow::launch`], with more environment for the app (tauri-driver hands its
    /// environment to WebKitWebDriver, which starts the app). `env` gets the app's private
    /// folders first, so that it can put files there (a `BROWSER` script, say).
    pub async fn launch_with(env: impl FnOnce(&AppDirs) -> Vec<(String, String)>) -> Self {
        require_desktop();
        let one_at_a_time = ONE_WINDOW.lock().await;
        let dirs = AppDirs::new();
        let sandbox_admin_token = random_token();
        let (port, native) = (free_port(), free_port());
        let mut cmd = Command::new("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
        .envs(dirs.env())
        .env(SANDBOX_ADMIN_TOKEN_ENV, &sandbox_admin_token)
        .envs(env(&dirs))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        let driver = Group::spawn(cmd);
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app_binary() }),
        );
        caps.insert("browserName".into(), "wry".into());
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            let mut builder = fantoccini::ClientBuilder::rustls().expect("rustls");
            builder.capabilities(caps.clone());
            let connect = builder.connect(&url);
            // A session request can hang when the app dies while starting: bound each try.
            match tokio::time::timeout(Duration::from_secs(45), connect).await {
                Ok(Ok(c)) => break c,
                Ok(Err(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Ok(Err(e)) => panic!("tauri-driver did not start a session: {e}"),
                Err(_) => panic!("the app window did not open within 45 s (did the app crash at start? see its output above)"),
            }
        };
        // The session opens when the page has loaded; the window builds its page once its
        // first data has come (ui/src/lib/boot.ts). Hand the window over as a person first
        // sees it: built.
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(fantoccini::Locator::Css("#app > *"))
            .await
            .unwrap_or_else(|e| panic!("the window's page was not built within 20 s: {e}"));
        AppWindow {
            client,
            _driver: driver,
            _attached: Vec::new(),
            dirs,
            sandbox_admin_token,
            _one_at_a_time: one_at_a_time,
        }
    }

    /// Drives the window of the process `pid` from now on: the window came back in a new
    /// process image (the resident became the window's process, see src-tauri/src/resident.rs),
    /// which tauri-driver's session cannot follow. That process kept the environment
    /// WebKitWebDriver started the first with, so its WebKit serves automation at the same
    /// `WEBKIT_INSPECTOR_SERVER` address, where a WebKitWebDriver of our own attaches
    /// (`--target`).
    pub async fn reattach(&mut self, pid: u32) {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("the app's environment");
        let target = environ
            .split(|b| *b == 0)
            .filter_map(|v| std::str::from_utf8(v).ok())
            .find_map(|v| v.strip_prefix("WEBKIT_INSPECTOR_SERVER="))
            .expect("WebKitWebDriver started the app with WEBKIT_INSPECTOR_SERVER")
            .to_owned();
        let port = free_port();
        let mut cmd = Command::new("/usr/bin/WebKitWebDriver");
        cmd.arg(format!("--port={port}"))
            .arg(format!("--target={target}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let driver = Group::spawn(cmd);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            let builder = fantoccini::ClientBuilder::rustls().expect("rustls");
            match tokio::time::timeout(Duration::from_secs(30), builder.connect(&url)).await {
                Ok(Ok(c)) => break c,
                Ok(Err(_)) | Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Ok(Err(e)) => panic!("WebKitWebDriver did not attach to {target}: {e}"),
                Err(_) => panic!("WebKitWebDriver did not attach to {target} within 30 s"),
            }
        };
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(fantoccini::Locator::Css("#app > *"))
            .await
            .unwrap_or_else(|e| panic!("the window's page was not built within 20 s: {e}"));
        self.client = client;
        self._attached.push(driver);
    }

    /// Waits for an element and returns its text.
    pub async fn text_of(&self, css: &str) -> String {
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        el.text().await.unwrap()
    }

    /// Saves a screenshot of the window under target/screenshots/NAME.png and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // WebKitWebDriver answers after the page's next paint, and a page where nothing changes
        // never paints again (the request then hangs): keep one nearly transparent pixel
        // changing for a moment, so that a paint follows the request.
        self.client
            .execute(REPAINT_FOR_SCREENSHOT, vec![])
            .await
            .expect("the window runs a script");
        let shot = tokio::time::timeout(Duration::from_secs(15), self.client.screenshot());
        let png = shot
            .await
            .expect("the screenshot did not come within 15 s")
            .expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session (the app quits) and stops the drivers.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    /// Ends the session, stops the drivers and the app with them, and hands back the app's
    /// private folders, so that a test can look at what the app left on disk.
    pub async fn quit(self) -> AppDirs {
        let AppWindow {
            client,
            _driver,
            dirs,
            _one_at_a_time,
            ..
        } = self;
        let _ = client.close().await;
        // Dropping the group stops tauri-driver, WebKitWebDriver and the app, all in it.
        drop(_driver);
        dirs
    }
}
