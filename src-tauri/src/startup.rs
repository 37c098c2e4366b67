//! Which world the app opens in: the person's Google client, or the in-process sandbox.
//!
//! With a Google client configured (client ID in settings, secret in the keychain) the app is
//! in Google mode. Without one it starts `postern-sandbox` in a child process and adds it as
//! the provider "sandbox", with its own keyring service and data folder, both emptied at each
//! launch: the sandbox forgets its grants when it stops, so yesterday's tokens are dead anyway.

use std::path::{Path, PathBuf};

use postern_core::provider::{ClientAuth, Provider, PublishingStatus, SmtpSecurity, SmtpSettings};
use postern_core::settings::{Mode, Settings};
use postern_core::{App, Secret};
use postern_sandbox::{Endpoints, Profile};

/// The keyring service of sandbox mode, apart from the person's real secrets.
pub const SANDBOX_KEYRING_SERVICE: &str = "postern-sandbox";
/// The provider name the sandbox gets in Postern.
pub const SANDBOX_PROVIDER: &str = "sandbox";
/// Sets the admin token of the window's sandbox (tests reach its admin API with
/// it); without it the token is random for each launch.
pub const SANDBOX_ADMIN_TOKEN_ENV: &str = "POSTERN_SANDBOX_ADMIN_TOKEN";

/// An opened app and, in sandbox mode, the emulator it talks to (a child process, see
/// [`crate::sandbox_child`]).
pub struct Opened {
    pub app: App,
    pub sandbox: Option<crate::sandbox_child::Running>,
}

/// Says on standard error, in the command line's words and with what to do, why the GUI could
/// not open (the keychain locked or missing, say), and returns the documented exit code.
pub fn report_failed_start(error: &anyhow::Error) -> i32 {
    match error.downcast_ref::<postern_core::Error>() {
        Some(e) => crate::exit::report(e),
        None => {
            eprintln!("postern: could not start: {error:#}");
            1
        }
    }
}

/// The explanation of a failed start, for the window (core's words when core said why).
pub fn explain_failed_start(error: &anyhow::Error) -> postern_core::Explanation {
    match error.downcast_ref::<postern_core::Error>() {
        Some(e) => e.explain(),
        None => postern_core::Explanation {
            kind: "internal".into(),
            message: format!("Postern could not start: {error:#}"),
            fix: "Start Postern again; if it keeps failing, run `postern-desktop` from a terminal and report what it prints.".into(),
        },
    }
}

/// Opens the app the GUI uses: Google mode when a Google client is configured, else sandbox mode.
pub async fn open_for_gui() -> anyhow::Result<Opened> {
    let settings = Settings::from_env()?;
    if settings.google_client_configured() && std::env::var_os("POSTERN_SANDBOX").is_none() {
        let app = App::open(settings).await?;
        return Ok(Opened { app, sandbox: None });
    }
    open_sandbox_mode(settings).await
}

/// Sandbox mode: the emulator in a child process, its own keyring service and a fresh data
/// folder; or, in a process image that follows one of this app's (the window closed to the
/// tray, or back), the emulator and data that one left running.
async fn open_sandbox_mode(mut settings: Settings) -> anyhow::Result<Opened> {
    let data_dir = settings.data_dir.join("sandbox");
    let running = match crate::sandbox_child::Running::inherited() {
        Some(running) => running,
        None => {
            forget_previous_sandbox(&settings, &data_dir).await;
            let state_dir = data_dir.join("server");
            std::fs::create_dir_all(&state_dir)?;
            tokio::task::spawn_blocking(move || crate::sandbox_child::spawn(&state_dir)).await??
        }
    };
    settings.mode = Mode::Sandbox;
    settings.data_dir = data_dir;
    settings.keyring_service = SANDBOX_KEYRING_SERVICE.to_string();
    settings
        .extra_providers
        .push(sandbox_provider(&running.endpoints, Profile::Google));
    let app = App::open(settings).await?;
    if !running.endpoints.client_secret.is_empty() {
        app.set_client_secret(
            SANDBOX_PROVIDER,
            Secret::new(running.endpoints.client_secret.clone()),
        )?;
    }
    running.pass_on();
    Ok(Opened {
        app,
        sandbox: Some(running),
    })
}

/// Deletes the keychain entries and data a previous sandbox launch left behind.
async fn forget_previous_sandbox(settings: &Settings, data_dir: &Path) {
    if data_dir.join("postern.db").exists() {
        let mut old = settings.clone();
        old.mode = Mode::Sandbox;
        old.data_dir = data_dir.to_path_buf();
        old.keyring_service = SANDBOX_KEYRING_SERVICE.to_string();
        if let Ok(app) = App::open(old).await {
            for account in app.accounts().await.unwrap_or_default() {
                let _ = app.forget_account(&account.address).await;
            }
        }
    }
    let _ = std::fs::remove_dir_all(data_dir);
}

/// The app that keeps the Google client: the running one in Google mode. In sandbox mode the
/// running app has the sandbox's keyring service, where a Google client secret would be lost
/// to the next launch in Google mode; there it is an app on the person's own settings.
pub async fn app_for_google_client(running: &App) -> postern_core::Result<App> {
    if running.settings().mode != Mode::Sandbox {
        return Ok(running.clone());
    }
    App::open(Settings::from_env()?).await
}

/// The provider profile that points Postern at a running sandbox: Google's shapes, or a
/// standards-conformant provider (client authentication at revocation, no tokeninfo, the
/// address at UserInfo, RFC 9207 `iss`) for the strict profile.
pub fn sandbox_provider(e: &Endpoints, profile: Profile) -> Provider {
    if profile == Profile::Strict {
        return Provider {
            label: "Sandbox (strict standard provider)".into(),
            tokeninfo_endpoint: None,
            revocation_auth: ClientAuth::ClientSecretBasic,
            authorization_response_iss: true,
            ..sandbox_provider(e, Profile::Google)
        };
    }
    Provider {
        name: SANDBOX_PROVIDER.into(),
        label: "Sandbox (local stand-in for Google)".into(),
        authorization_endpoint: e.authorization_endpoint.clone(),
        token_endpoint: e.token_endpoint.clone(),
        revocation_endpoint: e.revocation_endpoint.clone(),
        tokeninfo_endpoint: Some(e.tokeninfo_endpoint.clone()),
        userinfo_endpoint: Some(e.userinfo_endpoint.clone()),
        issuer: Some(e.issuer.clone()),
        scopes: postern_core::provider::google().scopes,
        smtp: SmtpSettings {
            host: e.smtp_host.clone(),
            port: e.smtp_tls_port,
            security: SmtpSecurity::ImplicitTls,
        },
        extra_ca_pem: Some(e.ca_cert.clone()),
        client_id: Some(e.client_id.clone()),
        // The sandbox registers its client "In production" (sandbox/README.md).
        publishing_status: PublishingStatus::InProduction,
        access_page: None,
        ..postern_core::provider::google()
    }
}

/// The command line's sandbox world: apart from the person's accounts, as the window's
/// sandbox mode is, so that a sandbox grant can never overwrite a real one; unlike the
/// window's it is kept between runs (the grants die with `postern sandbox` anyway).
pub fn sandbox_world(settings: &Settings) -> Settings {
    let mut world = settings.clone();
    world.mode = Mode::Sandbox;
    world.data_dir = settings.data_dir.join("sandbox-cli");
    world.keyring_service = format!("{}-sandbox-cli", settings.keyring_service);
    world
}

/// Where `postern sandbox` keeps its state and its public endpoints (never the client secret).
pub fn foreground_sandbox_dir(settings: &Settings) -> PathBuf {
    settings.data_dir.join("sandbox-server")
}
