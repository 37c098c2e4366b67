//! The App-level fixture: a sandbox provider profile, a browser stand-in that presses Allow,
//! and an `App` on a private data folder and keychain service.

use std::path::Path;
use std::sync::Arc;

use postern_core::provider::SmtpSecurity;
use postern_core::{App, Launcher, Mode, Secret, Settings};
use postern_sandbox::Endpoints;

use super::consent;

#[path = "../common/sandbox_provider.rs"]
mod sandbox_provider;
pub use sandbox_provider::sandbox_provider;

/// Plays the browser: loads the consent page, presses Allow, follows the loopback redirect.
pub struct FormBrowser {
    pub ep: Endpoints,
    pub email: String,
}

impl Launcher for FormBrowser {
    fn open(&self, url: &str) -> postern_core::Result<()> {
        let (ep, email, url) = (self.ep.clone(), self.email.clone(), url.to_string());
        tokio::spawn(async move {
            let redirect = consent(&ep, &url, &email).await;
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

pub fn require_desktop() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests use the real OS keychain: run them under the private desktop, \
         `scripts/with-desktop cargo test -p postern-core --test send_app` (or send_app_crash) \
         (DBUS_SESSION_BUS_ADDRESS is not set, so there is no Secret Service to talk to)"
    );
}

/// A browser stand-in for `email`.
pub fn browser(ep: &Endpoints, email: &str) -> Arc<dyn Launcher> {
    Arc::new(FormBrowser {
        ep: ep.clone(),
        email: email.into(),
    })
}

/// Settings for an App in `dir` (data/ and config/) using keychain service `service`.
pub fn settings(ep: &Endpoints, security: SmtpSecurity, dir: &Path, service: &str) -> Settings {
    let mut settings = Settings::with_dirs(dir.join("data"), dir.join("config"));
    settings.keyring_service = service.into();
    settings.mode = Mode::Sandbox;
    settings.extra_providers = vec![sandbox_provider(ep, security)];
    settings
}

/// Opens an App on the sandbox with its client secret in the keychain.
pub async fn open_app(ep: &Endpoints, security: SmtpSecurity, dir: &Path, service: &str) -> App {
    require_desktop();
    let app = App::open(settings(ep, security, dir, service))
        .await
        .unwrap();
    app.set_client_secret("sandbox", Secret::new(ep.client_secret.clone()))
        .unwrap();
    app
}
