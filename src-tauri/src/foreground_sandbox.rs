//! `postern sandbox`: the emulator in the foreground, registered as provider "sandbox" so that
//! the other commands (`authorize --provider sandbox`, `token`, `send`) use it while it runs.
//!
//! Its public endpoints go to `<data_dir>/sandbox-server/endpoints.json`; its client secret
//! goes to the keychain like every client secret, never to that file. Its admin token is
//! printed in the JSON line on standard output and kept nowhere else.

#[cfg(not(target_os = "linux"))]
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
#[cfg(not(target_os = "linux"))]
use std::time::Duration;

use clap::Args;
use postern_core::provider::Provider;
use postern_core::settings::Settings;
use postern_core::{App, Error, Secret};
use postern_sandbox::{Endpoints, Profile, SandboxConfig};
use serde::{Deserialize, Serialize};

use crate::startup;

#[derive(Args)]
pub struct SandboxArgs {
    /// Where the sandbox keeps its CA certificate (default: Postern's data folder).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Port of the HTTPS endpoints (token, revoke, tokeninfo); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub https_port: u16,
    /// Port of the consent page and /admin (plain HTTP on 127.0.0.1).
    #[arg(long, default_value_t = 0)]
    pub http_port: u16,
    /// SMTP port with implicit TLS (like smtp.gmail.com:465).
    #[arg(long, default_value_t = 0)]
    pub smtp_tls_port: u16,
    /// SMTP port with STARTTLS (like smtp.gmail.com:587).
    #[arg(long, default_value_t = 0)]
    pub smtp_starttls_port: u16,
    /// "google" plays Google's shapes; "strict" a standards-conformant provider (client
    /// authentication at revocation, the address only at UserInfo, rotated refresh tokens).
    #[arg(long, default_value = "google")]
    pub profile: Profile,
    /// The access tokens' lifetime in seconds (3599 by default).
    #[arg(long)]
    pub access_token_lifetime: Option<u64>,
}

/// The JSON line, and without `admin_token` the endpoints file: everything public about the
/// running sandbox.
#[derive(Serialize, Deserialize)]
struct Registration {
    pid: u32,
    #[serde(default)]
    profile: Profile,
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: String,
    tokeninfo_endpoint: String,
    userinfo_endpoint: String,
    admin_endpoint: String,
    smtp_host: String,
    smtp_tls_port: u16,
    smtp_starttls_port: u16,
    ca_cert: PathBuf,
    client_id: String,
    /// What `/admin` requests must carry as `Authorization: Bearer …`; only in the JSON
    /// line. The file is there for the other commands, which never use the admin API, so a
    /// token written there would only be one more credential on disk for nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin_token: Option<String>,
}

impl Registration {
    /// Without the admin token (see [`Registration::admin_token`]).
    fn of(e: &Endpoints, profile: Profile) -> Self {
        Registration {
            pid: std::process::id(),
            profile,
            issuer: e.issuer.clone(),
            authorization_endpoint: e.authorization_endpoint.clone(),
            token_endpoint: e.token_endpoint.clone(),
            revocation_endpoint: e.revocation_endpoint.clone(),
            tokeninfo_endpoint: e.tokeninfo_endpoint.clone(),
            userinfo_endpoint: e.userinfo_endpoint.clone(),
            admin_endpoint: e.admin_endpoint.clone(),
            smtp_host: e.smtp_host.clone(),
            smtp_tls_port: e.smtp_tls_port,
            smtp_starttls_port: e.smtp_starttls_port,
            ca_cert: e.ca_cert.clone(),
            client_id: e.client_id.clone(),
            admin_token: None,
        }
    }

    fn endpoints(&self) -> Endpoints {
        Endpoints {
            issuer: self.issuer.clone(),
            authorization_endpoint: self.authorization_endpoint.clone(),
            token_endpoint: self.token_endpoint.clone(),
            revocation_endpoint: self.revocation_endpoint.clone(),
            tokeninfo_endpoint: self.tokeninfo_endpoint.clone(),
            userinfo_endpoint: self.userinfo_endpoint.clone(),
            admin_endpoint: self.admin_endpoint.clone(),
            smtp_host: self.smtp_host.clone(),
            smtp_tls_port: self.smtp_tls_port,
            smtp_starttls_port: self.smtp_starttls_port,
            ca_cert: self.ca_cert.clone(),
            client_id: self.client_id.clone(),
            client_secret: String::new(),
        }
    }
}

fn registration_file(settings: &Settings) -> PathBuf {
    startup::foreground_sandbox_dir(settings).join("endpoints.json")
}

/// Runs until Ctrl-C or SIGTERM; prints the endpoints as one JSON line on standard output.
pub async fn run(args: SandboxArgs) -> Result<i32, Error> {
    let settings = Settings::from_env()?;
    let dir = startup::foreground_sandbox_dir(&settings);
    let state_dir = args.state_dir.unwrap_or_else(|| dir.join("state"));
    std::fs::create_dir_all(&state_dir).map_err(|e| storage(&state_dir, e))?;
    let sandbox = postern_sandbox::start(SandboxConfig {
        profile: args.profile,
        access_token_lifetime: args
            .access_token_lifetime
            .map(std::time::Duration::from_secs),
        state_dir: Some(state_dir),
        https_port: args.https_port,
        http_port: args.http_port,
        smtp_tls_port: args.smtp_tls_port,
        smtp_starttls_port: args.smtp_starttls_port,
        admin_token: None,
    })
    .await
    .map_err(|e| Error::Internal {
        why: format!("the sandbox could not start: {e}"),
    })?;
    let endpoints = sandbox.endpoints().clone();
    let registration = Registration::of(&endpoints, args.profile);

    // The client secret goes where every client secret goes: the keychain.
    let mut with_sandbox = startup::sandbox_world(&settings);
    with_sandbox
        .extra_providers
        .push(startup::sandbox_provider(&endpoints, args.profile));
    let app = App::open(with_sandbox).await?;
    app.set_client_secret(
        startup::SANDBOX_PROVIDER,
        Secret::new(endpoints.client_secret.clone()),
    )?;
    let file = registration_file(&settings);
    let text = serde_json::to_string_pretty(&registration).map_err(internal)?;
    std::fs::write(&file, text).map_err(|e| storage(&file, e))?;

    let line = Registration {
        admin_token: Some(sandbox.admin_token().to_owned()),
        ..registration
    };
    println!("{}", serde_json::to_string(&line).map_err(internal)?);
    eprintln!(
        "Sandbox running (provider \"sandbox\", in its own data folder and keychain service). \
         In another terminal:\n  \
         postern authorize --provider sandbox\n  \
         postern --sandbox send --from tester@sandbox.test --to someone@example.com --subject Hi\n\
         The admin API (admin_endpoint) needs the header \"Authorization: Bearer <admin_token>\", \
         both from the JSON line above.\n\
         Stop it with Ctrl-C."
    );
    wait_for_stop().await;
    let _ = std::fs::remove_file(&file);
    sandbox.stop().await;
    eprintln!("Sandbox stopped.");
    Ok(0)
}

pub(crate) async fn wait_for_stop() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// The "sandbox" provider while `postern sandbox` runs, else None.
pub fn running_provider(settings: &Settings) -> Option<Provider> {
    let text = std::fs::read_to_string(registration_file(settings)).ok()?;
    let registration: Registration = serde_json::from_str(&text).ok()?;
    is_running(&registration)
        .then(|| startup::sandbox_provider(&registration.endpoints(), registration.profile))
}

#[cfg(target_os = "linux")]
fn is_running(r: &Registration) -> bool {
    std::path::Path::new(&format!("/proc/{}", r.pid)).exists()
}

#[cfg(not(target_os = "linux"))]
fn is_running(r: &Registration) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], r.smtp_starttls_port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

fn storage(path: &std::path::Path, e: std::io::Error) -> Error {
    Error::Storage {
        why: format!("{}: {e}", path.display()),
    }
}

fn internal(e: serde_json::Error) -> Error {
    Error::Internal { why: e.to_string() }
}
