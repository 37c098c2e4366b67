//! A real headless Chromium, driven through chromedriver, that answers a consent page the way
//! a person would: type the address, untick scopes, press Allow or Deny.
#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// What the person does on the consent page.
#[derive(Clone, Debug)]
pub struct Consent {
    pub email: String,
    pub untick: Vec<String>,
    /// Time-based access: the value to pick in `#access-duration` ("86400" is one day);
    /// `None` leaves "Until I revoke access".
    pub access_duration: Option<String>,
    pub allow: bool,
}

impl Consent {
    pub fn allow(email: &str) -> Self {
        Consent {
            email: email.into(),
            untick: Vec::new(),
            access_duration: None,
            allow: true,
        }
    }
}

/// chromedriver and the headless Chromium it starts; both stopped on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    pub async fn start() -> Browser {
        let port = free_port();
        let mut cmd = Command::new("/usr/bin/chromedriver");
        cmd.arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let driver = cmd
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed: run scripts/bootstrap");
        let profile = tempfile::tempdir().unwrap();
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(e) => panic!("chromedriver did not start Chromium: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Opens `url` (a consent page) and answers it; returns the address the browser ended on.
    pub async fn consent(&self, url: &str, consent: &Consent) -> String {
        self.client.goto(url).await.expect("open the consent page");
        let email = self
            .client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css("#email"))
            .await
            .expect("the consent page has an #email field");
        email.clear().await.unwrap();
        email.send_keys(&consent.email).await.unwrap();
        for scope in &consent.untick {
            let css = format!("input.scope[value=\"{scope}\"]");
            let boxed = self
                .client
                .find(Locator::Css(&css))
                .await
                .expect("scope box");
            if boxed.is_selected().await.unwrap() {
                boxed.click().await.unwrap();
            }
        }
        if let Some(duration) = &consent.access_duration {
            self.client
                .find(Locator::Css("#access-duration"))
                .await
                .expect("the consent page offers time-based access")
                .select_by_value(duration)
                .await
                .expect("a duration the consent page offers");
        }
        let button = if consent.allow { "#allow" } else { "#deny" };
        self.client
            .find(Locator::Css(button))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // Wait until the browser has left the consent page (the loopback answered).
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = self.client.current_url().await.unwrap().to_string();
            if !now.starts_with(url.split('?').next().unwrap()) || Instant::now() > deadline {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the page the browser shows now.
    pub async fn page_text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.stop();
    }

    fn stop(&mut self) {
        let pgid = self.driver.id() as i32;
        // SAFETY: signalling the process group we created for chromedriver and its Chromium.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop();
    }
}
