//! One real headless Chromium, driven through chromedriver (WebDriver, fantoccini). Both run
//! in their own process group, which is killed when the browser is closed or dropped.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::consent::{answer, Plan};
use crate::ports::free_port;

/// chromedriver plus one Chromium session.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Mutex<Option<Child>>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and Chromium on a fresh profile.
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed: run scripts/bootstrap");
        let driver = Mutex::new(Some(driver));
        let profile = tempfile::Builder::new()
            .prefix("postern-chromium-")
            .tempdir()
            .expect("profile dir");
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        let caps = caps.as_object().expect("capabilities").clone();
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen: try again until it answers.
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("rustls connector")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(e) => {
                    kill(&driver);
                    panic!("chromedriver did not start Chromium: {e}")
                }
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Opens the consent page at `url` and answers it by `plan`; returns the address the
    /// browser went to (the loopback), or where it still is after 15 seconds.
    pub async fn consent(&self, url: &str, plan: &Plan) -> String {
        answer(&self.client, url, plan)
            .await
            .unwrap_or_else(|e| panic!("the browser could not answer the consent page: {e}"));
        let page = url.split('?').next().unwrap_or(url);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = self
                .client
                .current_url()
                .await
                .expect("the browser's address");
            if !now.as_str().starts_with(page) || Instant::now() > deadline {
                return now.to_string();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the page the browser shows now.
    pub async fn page_text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("the page has a body")
            .text()
            .await
            .expect("the body's text")
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn close(&self) {
        let _ = self.client.clone().close().await;
        kill(&self.driver);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill(&self.driver);
    }
}

/// Kills chromedriver's process group: chromedriver and the Chromium it started.
fn kill(driver: &Mutex<Option<Child>>) {
    let child = driver.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(mut child) = child {
        let pgid = child.id() as i32;
        // SAFETY: signalling the process group created for chromedriver; no memory is touched.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = child.wait();
    }
}
