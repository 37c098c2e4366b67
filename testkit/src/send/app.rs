//! The send suites' App: an `App` on a private data folder and keychain service with the
//! sandbox as its provider, and a browser stand-in that presses Allow.

use std::path::Path;
use std::sync::Arc;

use postern_core::provider::SmtpSecurity;
use postern_core::{App, Launcher, Mode, Secret, Settings};
use postern_sandbox::Endpoints;

use crate::checks::require_keychain;
use crate::launchers::FormBrowser;
use crate::sandbox::sandbox_provider;

/// The send suites' name for the keychain check.
pub use crate::checks::require_keychain as require_desktop;

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
    require_keychain();
    let app = App::open(settings(ep, security, dir, service))
        .await
        .unwrap();
    app.set_client_secret("sandbox", Secret::new(ep.client_secret.clone()))
        .unwrap();
    app
}
