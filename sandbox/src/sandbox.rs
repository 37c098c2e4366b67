//! Starting and stopping the sandbox, and the handle tests and the app use to control it.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::{http_router, https_router};
use crate::mailbox::StoredMessage;
use crate::oauth::clients::Client;
use crate::oauth::grants::Store;
use crate::oauth::id_token::Signer;
use crate::smtp::{self, SmtpMode};
use crate::state::{Shared, SharedParts};
use crate::tls::{self, TlsListener};
use crate::SandboxError;

/// Where the sandbox listens and keeps its files. Port 0 means "any free port".
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// Directory for `ca.pem`; `None` makes a temporary directory that lives as long as
    /// the [`Sandbox`].
    pub state_dir: Option<PathBuf>,
    /// The HTTPS port (token, revoke, tokeninfo, userinfo, discovery, JWKS).
    pub https_port: u16,
    /// The plain-HTTP port (consent page and `/admin`).
    pub http_port: u16,
    /// The implicit-TLS SMTP port (Gmail's 465).
    pub smtp_tls_port: u16,
    /// The STARTTLS SMTP port (Gmail's 587).
    pub smtp_starttls_port: u16,
}

/// Everything a client needs to talk to the sandbox; the binary prints it as one JSON line.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// `https://127.0.0.1:<https_port>`, the `iss` of id_tokens.
    pub issuer: String,
    /// The consent page, on the plain-HTTP port.
    pub authorization_endpoint: String,
    /// `POST` code and refresh grants.
    pub token_endpoint: String,
    /// `POST token=…`.
    pub revocation_endpoint: String,
    /// `GET ?access_token=…`.
    pub tokeninfo_endpoint: String,
    /// `GET` with a Bearer token.
    pub userinfo_endpoint: String,
    /// The base of the admin JSON API.
    pub admin_endpoint: String,
    /// Always `127.0.0.1`.
    pub smtp_host: String,
    /// Implicit TLS, like smtp.gmail.com:465.
    pub smtp_tls_port: u16,
    /// Plain text then STARTTLS, like smtp.gmail.com:587.
    pub smtp_starttls_port: u16,
    /// The PEM file of the CA that signed the sandbox's certificate.
    pub ca_cert: PathBuf,
    /// A Desktop client registered at start (publishing status "In production").
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
}

/// A running sandbox. Dropping it stops the servers; [`Sandbox::stop`] also waits for them.
pub struct Sandbox {
    endpoints: Endpoints,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _tempdir: Option<tempfile::TempDir>,
}

async fn bind(what: &'static str, port: u16) -> Result<TcpListener, SandboxError> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| SandboxError::Bind { what, port, source })
}

fn port_of(listener: &TcpListener, what: &'static str) -> Result<u16, SandboxError> {
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| SandboxError::Bind {
            what,
            port: 0,
            source,
        })
}

/// Starts every server on 127.0.0.1 and returns once all of them accept connections.
pub async fn start(cfg: SandboxConfig) -> Result<Sandbox, SandboxError> {
    let (tempdir, state_dir) = match cfg.state_dir {
        Some(dir) => (None, dir),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("postern-sandbox-")
                .tempdir()
                .map_err(|source| SandboxError::StateDir {
                    path: std::env::temp_dir(),
                    source,
                })?;
            let path = dir.path().to_path_buf();
            (Some(dir), path)
        }
    };
    std::fs::create_dir_all(&state_dir).map_err(|source| SandboxError::StateDir {
        path: state_dir.clone(),
        source,
    })?;
    let acceptor = tls::create(&state_dir)?;
    let signer = Signer::generate()?;

    let https = bind("the HTTPS server", cfg.https_port).await?;
    let http = bind("the HTTP server", cfg.http_port).await?;
    let smtps = bind("the SMTP implicit-TLS server", cfg.smtp_tls_port).await?;
    let submission = bind("the SMTP STARTTLS server", cfg.smtp_starttls_port).await?;
    let https_port = port_of(&https, "the HTTPS server")?;
    let http_port = port_of(&http, "the HTTP server")?;
    let issuer = format!("https://127.0.0.1:{https_port}");
    let http_base = format!("http://127.0.0.1:{http_port}");

    let client = Client::generate(false);
    let endpoints = Endpoints {
        authorization_endpoint: format!("{http_base}{}", crate::oauth::AUTH_PATH),
        token_endpoint: format!("{issuer}/token"),
        revocation_endpoint: format!("{issuer}/revoke"),
        tokeninfo_endpoint: format!("{issuer}/tokeninfo"),
        userinfo_endpoint: format!("{issuer}/v1/userinfo"),
        admin_endpoint: format!("{http_base}/admin"),
        smtp_host: "127.0.0.1".to_owned(),
        smtp_tls_port: port_of(&smtps, "the SMTP implicit-TLS server")?,
        smtp_starttls_port: port_of(&submission, "the SMTP STARTTLS server")?,
        ca_cert: state_dir.join("ca.pem"),
        client_id: client.id.clone(),
        client_secret: client.secret.clone(),
        issuer: issuer.clone(),
    };
    let shared = Arc::new(Shared::new(SharedParts {
        signer,
        tls: acceptor.clone(),
        issuer,
        http_base,
        smtp_idle_timeout: smtp::IDLE_TIMEOUT,
        store: Store::new(client),
    }));

    let (shutdown, rx) = watch::channel(false);
    let tls_listener = TlsListener::new(https, acceptor).map_err(|source| SandboxError::Bind {
        what: "the HTTPS server",
        port: https_port,
        source,
    })?;
    let tasks = vec![
        serve(tls_listener, https_router(shared.clone()), rx.clone()),
        serve(http, http_router(shared.clone()), rx.clone()),
        tokio::spawn(smtp::listen(smtps, SmtpMode::ImplicitTls, shared.clone())),
        tokio::spawn(smtp::listen(submission, SmtpMode::StartTls, shared.clone())),
    ];
    tracing::info!(
        issuer = %endpoints.issuer,
        http = http_port,
        smtps = endpoints.smtp_tls_port,
        submission = endpoints.smtp_starttls_port,
        "sandbox started"
    );
    Ok(Sandbox {
        endpoints,
        shared,
        shutdown,
        tasks,
        _tempdir: tempdir,
    })
}

fn serve<L>(listener: L, router: axum::Router, mut rx: watch::Receiver<bool>) -> JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::warn!("http server ended: {e}");
        }
    })
}

impl Sandbox {
    /// The URLs, ports, CA and client of this sandbox.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Stops every server and waits (up to two seconds) for them to finish.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.iter().skip(2) {
            task.abort();
        }
        for task in self.tasks.drain(..) {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        tracing::info!("sandbox stopped");
    }

    /// Moves the sandbox clock forward (tokens, codes and quotas age accordingly).
    pub fn advance_clock(&self, d: Duration) {
        self.shared.clock.advance(d);
    }

    /// Sandbox time in Unix seconds.
    pub fn now(&self) -> i64 {
        self.shared.clock.now()
    }

    /// Sets a client's publishing status; under "Testing" new refresh tokens with
    /// non-Sign-In scopes die 7 days after consent.
    pub fn set_testing(&self, client_id: &str, testing: bool) {
        self.shared.store().set_testing(client_id, testing);
    }

    /// Registers another Desktop client; returns its (id, secret).
    pub fn register_client(&self, testing: bool) -> (String, String) {
        let client = Client::generate(testing);
        let pair = (client.id.clone(), client.secret.clone());
        self.shared.store().clients.push(client);
        pair
    }

    /// Removes every grant of the account, as when the person removes the app's access.
    pub fn revoke_grants(&self, email: &str) {
        self.shared.store().revoke_grants(email);
    }

    /// The account's password changed: grants carrying a Gmail scope die.
    pub fn password_changed(&self, email: &str) {
        self.shared.store().password_changed(email);
    }

    /// The number of live refresh tokens per client and account (Google: 100).
    pub fn set_refresh_token_limit(&self, n: usize) {
        self.shared.store().refresh_limit = n.max(1);
    }

    /// The next `times` SMTP transactions lose their connection in the middle of DATA.
    pub fn fault_smtp_drop_in_data(&self, times: usize) {
        self.shared.faults.set_smtp_drop_in_data(clamp(times));
    }

    /// The next `commands` SMTP commands get `421 4.7.0` and the connection closes.
    pub fn fault_smtp_421(&self, commands: usize) {
        self.shared.faults.set_smtp_421(clamp(commands));
    }

    /// The next `commands` SMTP commands get no reply, and neither does anything after them
    /// on that connection: a server that hangs with the connection open.
    pub fn fault_smtp_silent(&self, commands: usize) {
        self.shared.faults.set_smtp_silent(clamp(commands));
    }

    /// The next `times` token requests get HTTP 500.
    pub fn fault_token_500(&self, times: usize) {
        self.shared.faults.set_token_500(clamp(times));
    }

    /// Every token request waits `d` before answering (zero turns it off).
    pub fn fault_token_delay(&self, d: Duration) {
        self.shared.faults.set_token_delay(d);
    }

    /// How often the named event happened (see the README for the names).
    pub fn count(&self, name: &str) -> u64 {
        self.shared.counts.get(name)
    }

    /// Sets every counter back to zero.
    pub fn reset_counts(&self) {
        self.shared.counts.reset();
    }

    /// Recipients per account over a rolling 24 h (default 500); beyond it, `550 5.4.5`.
    pub fn set_daily_recipient_limit(&self, n: usize) {
        self.shared.daily_recipient_limit.store(n, Ordering::SeqCst);
    }

    /// The message size limit in bytes, advertised in EHLO's SIZE (default 35882577).
    pub fn set_max_message_size(&self, n: usize) {
        self.shared.max_message_size.store(n, Ordering::SeqCst);
    }

    /// Whether SMTP offers OAUTHBEARER (default true, as Gmail). When false, EHLO's AUTH line
    /// leaves it out and `AUTH OAUTHBEARER` gets `504 5.7.4 Unrecognized Authentication Type`.
    pub fn set_oauthbearer_offered(&self, offered: bool) {
        self.shared
            .oauthbearer_offered
            .store(offered, Ordering::SeqCst);
    }

    /// Every message accepted so far, oldest first.
    pub fn mailbox(&self) -> Vec<StoredMessage> {
        self.shared.mailbox().clone()
    }
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        // The HTTP servers shut down gracefully on the signal; the SMTP listeners (and
        // with them every session) are aborted.
        for task in self.tasks.iter().skip(2) {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("issuer", &self.endpoints.issuer)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shareable<T: Send + Sync + 'static>() {}

    #[test]
    fn the_handle_can_be_shared_between_tasks() {
        shareable::<Sandbox>();
        shareable::<Endpoints>();
    }
}
