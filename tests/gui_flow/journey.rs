//! The app window with `$BROWSER` recording the address the app opens, a Chromium to answer
//! the consent page, and the steps a person takes, each bounded in time and failing with a
//! screenshot and the window's text.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::Locator;
use postern_app::startup::SANDBOX_KEYRING_SERVICE;
use postern_core::vault::{SecretKind, Vault};
use postern_testkit::leaks;
use postern_testkit::{Browser, Plan as Consent};

use crate::common::AppWindow;

/// Gmail's scope, the one sending needs.
pub const MAIL_SCOPE: &str = "https://mail.google.com/";

/// The app window, with `$BROWSER` set to a script that records the address the app opens.
pub struct Journey {
    /// The real app window.
    pub app: AppWindow,
    browser: Browser,
    /// Where the `$BROWSER` script writes the consent address.
    opened: PathBuf,
    /// Every token the run put in the keychain, to look for on disk at the end.
    pub tokens: Vec<String>,
}

impl Journey {
    /// Opens the app window (with `$BROWSER` set) and starts Chromium.
    pub async fn start() -> Journey {
        let app = AppWindow::launch_with(|dirs| {
            let script = dirs.root.path().join("browser.sh");
            let opened = dirs.root.path().join("browser-url");
            std::fs::write(
                &script,
                format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
            )
            .unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
            vec![
                ("BROWSER".into(), script.display().to_string()),
                // The window writes times in its time zone: UTC, so tests can compare them.
                ("TZ".into(), "UTC".into()),
            ]
        })
        .await;
        let opened = app.dirs.root.path().join("browser-url");
        let browser = Browser::start().await;
        Journey {
            app,
            browser,
            opened,
            tokens: Vec::new(),
        }
    }

    /// Waits up to 20 s for an element.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .app
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => self.fail(&format!("no element {css}: {e}")).await,
        }
    }

    /// Clicks an element, as the mouse would.
    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        // WebKitWebDriver never answers a click on a disabled button: say so instead.
        if !el.is_enabled().await.unwrap() {
            self.fail(&format!("{css} is disabled")).await
        }
        match tokio::time::timeout(Duration::from_secs(20), el.click()).await {
            Ok(r) => r.unwrap(),
            Err(_) => {
                self.fail(&format!("clicking {css} did not return within 20 s"))
                    .await
            }
        }
    }

    /// Empties a field and types `text` into it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// The visible text of an element.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Whether the window shows an element matching `css` now (without waiting for one).
    pub async fn exists(&self, css: &str) -> bool {
        self.app.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Waits until the element's attribute reads `want`.
    pub async fn wait_attr(&self, css: &str, name: &str, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(el) = self.app.client.find(Locator::Css(css)).await {
                last = el.attr(name).await.ok().flatten();
                if last.as_deref() == Some(want) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.fail(&format!("{css} [{name}] is {last:?}, not {want:?}"))
            .await
    }

    /// Takes a screenshot of what went wrong, then fails with `why` and the window's text.
    pub async fn fail(&self, why: &str) -> ! {
        // A stuck WebDriver session answers nothing: bound what is asked of it here.
        let limit = Duration::from_secs(10);
        let _ = tokio::time::timeout(limit, self.app.screenshot("gui-failure")).await;
        let body = async {
            let b = self.app.client.find(Locator::Css("body")).await.ok()?;
            b.text().await.ok()
        };
        let body = tokio::time::timeout(limit, body)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| "(the window did not answer)".into());
        panic!("{why}\n--- the window shows ---\n{body}\n(see target/screenshots/gui-failure.png)")
    }

    /// Waits for the address the app handed to `$BROWSER`, then answers the consent page.
    pub async fn consent(&self, consent: &Consent, shot: &str) -> String {
        let url = self.opened().await;
        self.answer(&url, consent, shot).await;
        url
    }

    /// Waits for the consent address the app handed to `$BROWSER` (not answered yet), and
    /// checks that the window shows the same address.
    pub async fn opened(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            if let Ok(url) = std::fs::read_to_string(&self.opened) {
                if !url.is_empty() {
                    break url;
                }
            }
            if Instant::now() > deadline {
                self.fail("the app did not open a browser within 30 s")
                    .await
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        std::fs::remove_file(&self.opened).unwrap();
        // The window shows the same address, for a person whose browser did not open.
        self.wait_attr(
            "[data-testid=authorize-progress]",
            "data-phase",
            "browser_opened",
        )
        .await;
        let shown = self.find("[data-testid=authorize-url]").await;
        assert_eq!(
            shown.prop("value").await.unwrap().as_deref(),
            Some(url.as_str())
        );
        url
    }

    /// Takes the screenshot `shot` of the waiting window, then answers the consent page at
    /// `url` in Chromium.
    pub async fn answer(&self, url: &str, consent: &Consent, shot: &str) {
        self.app.screenshot(shot).await;
        let ended_on = self.browser.consent(url, consent).await;
        assert!(
            ended_on.starts_with("http://127.0.0.1:"),
            "the browser ended on {ended_on}, not Postern's loopback"
        );
    }

    /// "Add account" → sandbox → the email as a hint → "Continue in browser" → the consent page.
    pub async fn add_account(&self, consent: &Consent, shot: &str) -> String {
        let email = consent.email.as_deref().expect("the plan types an address");
        let url = self.start_adding(email).await;
        self.answer(&url, consent, shot).await;
        self.find_account(email).await;
        url
    }

    /// "Add account" → sandbox → `email` as a hint → "Continue in browser"; returns the
    /// consent address the app opened, not answered yet.
    pub async fn start_adding(&self, email: &str) -> String {
        self.click("[data-testid=add-account]").await;
        self.type_into("#login-hint", email).await;
        // Sandbox mode: the sandbox is offered first (Google needs the person's own client).
        let sandbox = self.find("input[name=provider][value=sandbox]").await;
        assert!(
            sandbox.is_selected().await.unwrap(),
            "the sandbox is not preselected"
        );
        self.click("[data-testid=authorize-start]").await;
        self.opened().await
    }

    /// The account list's entry for `address`, once it is there.
    pub async fn find_account(&self, address: &str) -> Element {
        self.find(&format!(
            "[data-testid=account-item][data-address=\"{address}\"]"
        ))
        .await
    }

    /// The tokens the keychain holds for `address` now.
    pub async fn remember_tokens(&mut self, address: &str) {
        let address = address.to_owned();
        // The keychain client blocks (and may run its own runtime): off the async threads.
        let (refresh, access) = tokio::task::spawn_blocking(move || {
            let vault = Vault::new(SANDBOX_KEYRING_SERVICE);
            let refresh = vault.get(&address, SecretKind::RefreshToken).unwrap();
            let access = vault.get_access(&address).unwrap();
            (refresh, access)
        })
        .await
        .unwrap();
        let refresh = refresh.expect("a refresh token in the keychain");
        let (access, _) = access.expect("an access token in the keychain");
        self.tokens.push(refresh.expose().to_owned());
        self.tokens.push(access.expose().to_owned());
    }

    /// Closes the window and the browser, then looks for tokens in every file the app wrote.
    pub async fn finish(self) {
        let Journey {
            app,
            browser,
            tokens,
            ..
        } = self;
        browser.close().await;
        let dirs = app.quit().await;
        let mut roots = vec![dirs.root.path().to_path_buf()];
        // The webview's own storage (local storage, caches) lives in the harness's XDG folders.
        for var in ["XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"] {
            roots.extend(std::env::var_os(var).map(PathBuf::from));
        }
        leaks::assert_no_tokens(&roots, &tokens);
    }
}

/// The sandbox's own address (scheme, host, port), from its consent page's address.
pub fn sandbox_base(consent_url: &str) -> String {
    reqwest::Url::parse(consent_url)
        .unwrap()
        .origin()
        .ascii_serialization()
}

impl Journey {
    /// The admin API of the window's in-process sandbox, found from a consent address the
    /// window opened, with the admin token the window was launched with.
    pub fn sandbox_admin(&self, consent_url: &str) -> SandboxAdmin {
        SandboxAdmin {
            base: format!("{}/admin", sandbox_base(consent_url)),
            token: self.app.sandbox_admin_token.clone(),
            http: reqwest::Client::new(),
        }
    }
}

/// The window's sandbox's `/admin` (sandbox/README.md lists its routes); every request
/// carries the admin token.
pub struct SandboxAdmin {
    /// `http://127.0.0.1:<port>/admin`
    pub base: String,
    token: String,
    http: reqwest::Client,
}

impl SandboxAdmin {
    /// `GET <admin>/PATH` with the token, whatever the answer.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        self.http
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// `GET <admin>/PATH` as JSON; fails unless the answer is a success.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let resp = self.get(path).await;
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert!(status.is_success(), "GET /admin/{path}: {status} {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET /admin/{path}: {e}: {body}"))
    }

    /// `POST <admin>/PATH` with a JSON body; fails unless the answer is a success.
    #[allow(dead_code)] // not every suite that shares these helpers changes the sandbox
    pub async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        let resp = self
            .http
            .post(&url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "POST {url}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {url}: {e}: {text}"))
    }
}
