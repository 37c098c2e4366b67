//! The browsers core's flow opens, as `Launcher`s: the real Chromium following a [`Plan`], a
//! stand-in that posts the consent form, and one that only records the URL.

use std::sync::{Arc, Mutex};

use postern_core::{Launcher, Result};
use postern_sandbox::Endpoints;
use tokio::task::JoinHandle;

use crate::chromium::Browser;
use crate::consent::{by_form, walk, Landing, Plan};

/// Drives the real [`Browser`] by `plan` when the flow opens the consent URL.
pub struct ChromeLauncher {
    browser: Arc<Browser>,
    plan: Plan,
    task: Mutex<Option<JoinHandle<std::result::Result<Landing, String>>>>,
    urls: Mutex<Vec<String>>,
    codes: Arc<Mutex<Vec<String>>>,
}

impl ChromeLauncher {
    /// A launcher that answers with `browser` as `plan` says.
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
        let browser = self.browser.clone();
        let plan = self.plan.clone();
        let url = url.to_owned();
        let codes = self.codes.clone();
        let task = tokio::spawn(async move {
            let landing = walk(&browser.client, &url, &plan).await?;
            if let Ok(u) = url::Url::parse(&landing.url) {
                if let Some((_, code)) = u.query_pairs().find(|(k, _)| k == "code") {
                    codes.lock().unwrap().push(code.into_owned());
                }
            }
            Ok(landing)
        });
        *self.task.lock().unwrap() = Some(task);
        Ok(())
    }
}

/// A launcher that only records the URL (no browser), or fails like a headless session.
#[derive(Default)]
pub struct RecordingLauncher {
    /// Fail as a session without a display would.
    pub fail: bool,
    /// The URLs it was handed.
    pub urls: Mutex<Vec<String>>,
}

impl Launcher for RecordingLauncher {
    fn open(&self, url: &str) -> Result<()> {
        self.urls.lock().unwrap().push(url.to_owned());
        if self.fail {
            return Err(postern_core::Error::BrowserLaunch {
                why: "no display".to_owned(),
            });
        }
        Ok(())
    }
}

/// Plays the browser without one: posts the consent form (Allow as `email`) and follows the
/// loopback redirect.
pub struct FormBrowser {
    /// The sandbox whose consent page it answers.
    pub ep: Endpoints,
    /// The address it consents as.
    pub email: String,
}

impl Launcher for FormBrowser {
    fn open(&self, url: &str) -> Result<()> {
        let (ep, email, url) = (self.ep.clone(), self.email.clone(), url.to_string());
        tokio::spawn(async move {
            let redirect = by_form(&ep, &url, &email).await;
            let answer = reqwest::get(&redirect).await.expect("the loopback answers");
            assert!(
                answer.status().is_success(),
                "loopback: {}",
                answer.status()
            );
        });
        Ok(())
    }
}
