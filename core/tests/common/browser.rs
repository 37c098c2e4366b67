//! A real headless Chromium driven through chromedriver (WebDriver, fantoccini), behind
//! core's `Launcher` trait: it opens the consent URL and clicks as a person would.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use postern_core::{Launcher, Result};
use tokio::task::JoinHandle;

/// chromedriver plus one Chromium session. Dropping it kills the process group.
pub struct Browser {
    driver: Mutex<Option<Child>>,
    pub client: Client,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver on a free port and a fresh headless Chromium profile.
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts (install chromium-driver)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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
        let caps = match caps {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        };
        let client = ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session starts");
        Browser {
            driver: Mutex::new(Some(driver)),
            client,
            _profile: profile,
        }
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn close(&self) {
        let _ = self.client.clone().close().await;
        self.kill();
    }

    fn kill(&self) {
        if let Some(mut child) = self.driver.lock().unwrap().take() {
            let pgid = child.id() as i32;
            // The whole group: chromedriver and the Chromium it started.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            let _ = child.wait();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Allow or Deny on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

/// What the person does in the browser.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Typed into `#email` (replacing what is there); `None` keeps the prefilled value.
    pub email: Option<String>,
    /// Scopes whose checkbox is unticked.
    pub untick: Vec<String>,
    pub decision: Decision,
    /// Before consenting, visit the loopback with a forged redirect and a favicon request.
    pub forge_first: bool,
    /// Time-based access chosen on the consent page (`#access-duration`, in seconds).
    pub access_duration: Option<&'static str>,
}

impl Plan {
    /// Allow as `email`.
    pub fn allow(email: &str) -> Plan {
        Plan {
            email: Some(email.to_owned()),
            untick: Vec::new(),
            decision: Decision::Allow,
            forge_first: false,
            access_duration: None,
        }
    }
}

/// What the browser ended up showing.
#[derive(Debug, Clone, Default)]
pub struct Landing {
    /// The `#title` of the loopback page the flow ended on.
    pub title: String,
    /// Its `#message`.
    pub message: String,
    /// Titles of the stray pages visited before (forged redirect, favicon).
    pub stray_titles: Vec<String>,
    /// The address the browser was finally sent to.
    pub url: String,
}

/// The test's `Launcher`: drives [`Browser`] by `plan`.
pub struct ChromeLauncher {
    browser: Arc<Browser>,
    plan: Plan,
    task: Mutex<Option<JoinHandle<std::result::Result<Landing, String>>>>,
    urls: Mutex<Vec<String>>,
    codes: Arc<Mutex<Vec<String>>>,
}

impl ChromeLauncher {
    pub fn new(browser: Arc<Browser>, plan: Plan) -> ChromeLauncher {
        ChromeLauncher {
            browser,
            plan,
            task: Mutex::new(None),
            urls: Mutex::new(Vec::new()),
            codes: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The consent URLs it was handed.
    pub fn urls(&self) -> Vec<String> {
        self.urls.lock().unwrap().clone()
    }

    /// Authorization codes seen in the redirect (for the secret scan).
    pub fn codes_seen(&self) -> Vec<String> {
        self.codes.lock().unwrap().clone()
    }

    /// Waits for the browser to finish and returns what it shows.
    pub async fn landing(&self) -> Landing {
        let task = self
            .task
            .lock()
            .unwrap()
            .take()
            .expect("the launcher was opened");
        task.await
            .expect("the browser task")
            .expect("the browser did what was planned")
    }
}

impl Launcher for ChromeLauncher {
    fn open(&self, url: &str) -> Result<()> {
        self.urls.lock().unwrap().push(url.to_owned());
        let client = self.browser.client.clone();
        let plan = self.plan.clone();
        let url = url.to_owned();
        let codes = self.codes.clone();
        let task = tokio::spawn(async move { drive(client, plan, url, codes).await });
        *self.task.lock().unwrap() = Some(task);
        Ok(())
    }
}

async fn text_of(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

fn redirect_uri_of(consent: &str) -> String {
    url::Url::parse(consent)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .expect("the consent URL has a redirect_uri")
}

async fn drive(
    c: Client,
    plan: Plan,
    consent: String,
    codes: Arc<Mutex<Vec<String>>>,
) -> std::result::Result<Landing, String> {
    let e = |what: &str| {
        let what = what.to_owned();
        move |err: fantoccini::error::CmdError| format!("{what}: {err}")
    };
    let redirect = redirect_uri_of(&consent);
    let mut landing = Landing::default();
    if plan.forge_first {
        c.goto(&format!("{redirect}?code=forged-code&state=forged-state"))
            .await
            .map_err(e("forged redirect"))?;
        landing.stray_titles.push(text_of(&c, "#title").await);
        c.goto(&format!("{redirect}favicon.ico"))
            .await
            .map_err(e("favicon"))?;
        landing.stray_titles.push(text_of(&c, "#title").await);
    }
    c.goto(&consent).await.map_err(e("consent page"))?;
    let email = c.find(Locator::Css("#email")).await.map_err(e("#email"))?;
    if let Some(addr) = &plan.email {
        email.clear().await.map_err(e("clear #email"))?;
        email.send_keys(addr).await.map_err(e("type #email"))?;
    }
    for scope in &plan.untick {
        let sel = format!("input.scope[value=\"{scope}\"]");
        let cb = c.find(Locator::Css(&sel)).await.map_err(e(&sel))?;
        if cb.is_selected().await.map_err(e("checkbox"))? {
            cb.click().await.map_err(e("untick"))?;
        }
    }
    if let Some(secs) = plan.access_duration {
        let sel = format!("#access-duration option[value=\"{secs}\"]");
        c.find(Locator::Css(&sel))
            .await
            .map_err(e(&sel))?
            .click()
            .await
            .map_err(e("choose the access duration"))?;
    }
    let button = match plan.decision {
        Decision::Allow => "#allow",
        Decision::Deny => "#deny",
    };
    c.find(Locator::Css(button))
        .await
        .map_err(e(button))?
        .click()
        .await
        .map_err(e("click"))?;
    let title = c
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("#title"))
        .await
        .map_err(e("the loopback page"))?;
    landing.title = title.text().await.map_err(e("title"))?;
    landing.message = text_of(&c, "#message").await;
    landing.url = c.current_url().await.map_err(e("url"))?.to_string();
    if let Ok(u) = url::Url::parse(&landing.url) {
        if let Some((_, code)) = u.query_pairs().find(|(k, _)| k == "code") {
            codes.lock().unwrap().push(code.into_owned());
        }
    }
    Ok(landing)
}
