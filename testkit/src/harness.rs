//! Core's fixture for its authorization suites: a started sandbox over real TCP/TLS, private
//! data and config folders, a unique keychain service in the harness keychain, an `App` with
//! the sandbox as a provider, and (on demand) the real headless Chromium.
//!
//! Every secret a test sees is remembered; [`Harness::finish`] scans the store, config and
//! log files for each of them, and none may appear.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use postern_core::provider::SmtpSecurity;
use postern_core::settings::{Mode, Settings};
use postern_core::vault::SecretKind;
use postern_core::{App, Secret};
use postern_sandbox::{Profile, Sandbox, SandboxConfig};

use crate::checks::{collect_files, contains, require_keychain};
use crate::chromium::Browser;
use crate::consent::{Landing, Plan};
use crate::launchers::ChromeLauncher;
use crate::sandbox::{sandbox_provider, strict_provider};

/// The log file every test of this process writes core's tracing output to.
pub fn log_file() -> &'static Path {
    static LOG: OnceLock<PathBuf> = OnceLock::new();
    LOG.get_or_init(|| {
        use tracing_subscriber::prelude::*;
        // Inside the harness's private root (removed by with-desktop) when there is one.
        let base = std::env::var_os("POSTERN_HARNESS_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("postern-core-test-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("log folder");
        let path = dir.join("core.log");
        let file = std::fs::File::create(&path).expect("log file");
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(Mutex::new(file))
            .with_ansi(false);
        let filter = tracing_subscriber::filter::Targets::new()
            .with_target("postern_core", tracing::Level::TRACE);
        let _ = tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .try_init();
        let _ = rustls::crypto::ring::default_provider().install_default();
        path
    })
}

/// A running sandbox, an App wired to it, and the secrets seen so far.
pub struct Harness {
    pub sandbox: Sandbox,
    pub app: App,
    pub dir: tempfile::TempDir,
    pub service: String,
    secrets: Mutex<Vec<String>>,
    browser: Mutex<Option<Arc<Browser>>>,
}

/// Options for [`Harness::start_with`].
pub struct Options {
    /// A configured loopback port.
    pub loopback_port: Option<u16>,
    /// How long the browser flow may take.
    pub authorize_timeout: std::time::Duration,
    /// The sandbox's profile (Google's shapes, or a strict standards provider); the app's
    /// "sandbox" provider profile follows it.
    pub profile: Profile,
    /// The sandbox's access-token lifetime (3599 s when `None`).
    pub access_token_lifetime: Option<std::time::Duration>,
    /// More provider profiles made for the started sandbox, each with its client secret.
    pub more_providers: fn(&Sandbox) -> Vec<(postern_core::provider::Provider, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            loopback_port: None,
            authorize_timeout: std::time::Duration::from_secs(60),
            more_providers: |_| Vec::new(),
            profile: Profile::Google,
            access_token_lifetime: None,
        }
    }
}

impl Harness {
    /// The default fixture.
    pub async fn start() -> Harness {
        Self::start_with(Options::default()).await
    }

    /// The fixture with options.
    pub async fn start_with(opts: Options) -> Harness {
        require_keychain();
        log_file();
        let sandbox = postern_sandbox::start(SandboxConfig {
            profile: opts.profile,
            access_token_lifetime: opts.access_token_lifetime,
            ..SandboxConfig::default()
        })
        .await
        .expect("the sandbox starts");
        let dir = tempfile::Builder::new()
            .prefix("postern-core-test-")
            .tempdir()
            .expect("temp dir");
        let service = format!("postern-test-{}-{}", std::process::id(), rand_suffix());
        let mut settings = Settings::with_dirs(dir.path().join("data"), dir.path().join("config"));
        settings.keyring_service = service.clone();
        let profile_for = match opts.profile {
            Profile::Strict => strict_provider,
            _ => sandbox_provider,
        };
        settings.extra_providers =
            vec![profile_for(sandbox.endpoints(), SmtpSecurity::ImplicitTls)];
        let more = (opts.more_providers)(&sandbox);
        settings
            .extra_providers
            .extend(more.iter().map(|(p, _)| p.clone()));
        settings.mode = Mode::Sandbox;
        settings.loopback_port = opts.loopback_port;
        settings.authorize_timeout = opts.authorize_timeout;
        let app = App::open(settings).await.expect("the app opens");
        let client_secret = sandbox.endpoints().client_secret.clone();
        app.set_client_secret("sandbox", Secret::new(client_secret.clone()))
            .expect("the client secret goes to the keychain");
        for (p, secret) in &more {
            app.set_client_secret(&p.name, Secret::new(secret.clone()))
                .expect("the client secret goes to the keychain");
        }
        Harness {
            sandbox,
            app,
            dir,
            service,
            secrets: Mutex::new(
                std::iter::once(client_secret)
                    .chain(more.into_iter().map(|(_, s)| s))
                    .collect(),
            ),
            browser: Mutex::new(None),
        }
    }

    /// The client ID the sandbox registered for us.
    pub fn client_id(&self) -> String {
        self.sandbox.endpoints().client_id.clone()
    }

    /// A browser (started on first use) that follows `plan` when the flow opens it.
    pub async fn launcher(&self, plan: Plan) -> Arc<ChromeLauncher> {
        let existing = self.browser.lock().unwrap().clone();
        let browser = match existing {
            Some(b) => b,
            None => {
                let b = Arc::new(Browser::start().await);
                *self.browser.lock().unwrap() = Some(b.clone());
                b
            }
        };
        Arc::new(ChromeLauncher::new(browser, plan))
    }

    /// Remembers a secret for the final scan.
    pub fn remember(&self, s: &str) {
        if !s.is_empty() {
            self.secrets.lock().unwrap().push(s.to_owned());
        }
    }

    /// Remembers the account's tokens as they are in the keychain now.
    pub fn remember_tokens(&self, address: &str) {
        let v = self.app.vault();
        if let Ok(Some(rt)) = v.get(address, SecretKind::RefreshToken) {
            self.remember(rt.expose());
        }
        if let Ok(Some((at, _))) = v.get_access(address) {
            self.remember(at.expose());
        }
    }

    /// Remembers what the browser saw (the authorization code in the redirect).
    pub fn remember_landing(&self, launcher: &ChromeLauncher) {
        for code in launcher.codes_seen() {
            self.remember(&code);
        }
        for url in launcher.urls() {
            let u = url::Url::parse(&url).expect("consent URL");
            if let Some((_, state)) = u.query_pairs().find(|(k, _)| k == "state") {
                self.remember(&state);
            }
        }
    }

    /// Scans the store, config and log files for every remembered secret; then deletes the
    /// test's keychain entries and closes the browser.
    pub async fn finish(self) {
        let secrets = self.secrets.lock().unwrap().clone();
        let mut files = Vec::new();
        collect_files(self.dir.path(), &mut files);
        files.push(log_file().to_path_buf());
        assert!(files.len() > 1, "the scan found the test's files");
        for file in &files {
            let bytes = std::fs::read(file).unwrap_or_default();
            for s in &secrets {
                assert!(
                    !contains(&bytes, s.as_bytes()),
                    "a secret ({} bytes) was found in {}",
                    s.len(),
                    file.display()
                );
            }
        }
        let v = self.app.vault().clone();
        for a in self.app.accounts().await.unwrap_or_default() {
            let _ = v.delete_tokens(&a.address);
        }
        for p in self.app.info().providers {
            let _ = v.delete(&format!("client:{}", p.name), SecretKind::ClientSecret);
        }
        let browser = self.browser.lock().unwrap().take();
        if let Some(b) = browser {
            b.close().await;
        }
        self.sandbox.stop().await;
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let c = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{n:x}{c}")
}

impl Harness {
    /// Moves the sandbox's clock and core's together.
    pub fn advance(&self, d: std::time::Duration) {
        self.sandbox.advance_clock(d);
        self.app.settings().clock.advance(d);
    }

    /// Authorizes `email` through the real browser and returns the account.
    pub async fn authorize_as(&self, email: &str) -> postern_core::status::Account {
        let (account, landing) = self
            .authorize_following(Plan::allow(email), "authorization succeeds")
            .await;
        assert_eq!(landing.title, "Postern is authorized", "{landing:?}");
        account
    }

    /// Authorizes through the browser following `plan`, which must succeed (`expect` says
    /// why it should); remembers the run's secrets for the final scan and returns what the
    /// browser ended on.
    pub async fn authorize_following(
        &self,
        plan: Plan,
        expect: &str,
    ) -> (postern_core::status::Account, Landing) {
        let launcher = self.launcher(plan).await;
        let account = self
            .app
            .authorize("sandbox", None, launcher.clone())
            .await
            .expect(expect);
        let landing = launcher.landing().await;
        self.remember_landing(&launcher);
        self.remember_tokens(&account.address);
        (account, landing)
    }
}
