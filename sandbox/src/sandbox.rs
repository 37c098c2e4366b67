//! Starting and stopping the sandbox, and the handle tests and the app use to control it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::access;
use crate::conn::{Cutter, TlsListener};
use crate::routers::{http_router, https_router};
use crate::smtp::{self, SmtpMode};
use crate::state::{Shared, SharedParts};
use crate::store::clients::Client;
use crate::store::grants::{lifetime_secs, Store, DEFAULT_ACCESS_TOKEN_SECS};
use crate::store::id_token::Signer;
use crate::tls;
use crate::{Profile, SandboxError};

/// Where the sandbox listens, which provider it plays, and where it keeps its files.
/// Port 0 means "any free port".
#[derive(Clone, Default)]
pub struct SandboxConfig {
    /// Google's behaviour (the default) or a strict standards-conformant provider's.
    pub profile: Profile,
    /// The lifetime of access tokens; `None` is Google's 3599 s. Changeable later with
    /// [`Sandbox::set_access_token_lifetime`].
    pub access_token_lifetime: Option<Duration>,
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
    /// What every `/admin` request must carry as `Authorization: Bearer <token>`: at least
    /// 16 visible ASCII characters. `None` (the default) draws 256 random bits from the
    /// operating system at each start. Read it back with [`Sandbox::admin_token`].
    pub admin_token: Option<String>,
}

/// Leaves the admin token out, so a logged configuration never carries it.
impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("profile", &self.profile)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("state_dir", &self.state_dir)
            .field("https_port", &self.https_port)
            .field("http_port", &self.http_port)
            .field("smtp_tls_port", &self.smtp_tls_port)
            .field("smtp_starttls_port", &self.smtp_starttls_port)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<hidden>"),
            )
            .finish()
    }
}

/// Everything a client needs to talk to the sandbox; the binary prints it as one JSON line.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
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
    pub(crate) shared: Arc<Shared>,
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
    let admin_token = match cfg.admin_token {
        Some(token) => {
            access::check_admin_token(&token)?;
            token
        }
        None => access::new_admin_token(),
    };
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
        admin_token,
        smtp_idle_timeout: smtp::IDLE_TIMEOUT,
        store: Store::new(
            client,
            cfg.profile == Profile::Strict,
            cfg.access_token_lifetime
                .map_or(DEFAULT_ACCESS_TOKEN_SECS, lifetime_secs),
        ),
        profile: cfg.profile,
    }));

    let (shutdown, rx) = watch::channel(false);
    let tls_listener = TlsListener::new(https, acceptor).map_err(|source| SandboxError::Bind {
        what: "the HTTPS server",
        port: https_port,
        source,
    })?;
    let tasks = vec![
        serve_https(
            tls_listener,
            https_router(shared.clone(), https_port),
            rx.clone(),
        ),
        serve_http(http, http_router(shared.clone(), http_port), rx.clone()),
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

/// The HTTPS port's handlers may cut their connection (see [`crate::conn`]).
fn serve_https(
    listener: TlsListener,
    router: axum::Router,
    mut rx: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let service = router.into_make_service_with_connect_info::<Cutter>();
        if let Err(e) = axum::serve(listener, service)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::warn!("https server ended: {e}");
        }
    })
}

fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    mut rx: watch::Receiver<bool>,
) -> JoinHandle<()> {
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

    /// What every `/admin` request must carry as `Authorization: Bearer <token>`: the
    /// configured token, or the one drawn at start. A local test credential: show it to
    /// the person who runs the sandbox, never write it to a log.
    pub fn admin_token(&self) -> &str {
        &self.shared.admin_token
    }

    /// The binary's JSON line: every field of [`Endpoints`] plus `"profile"` and
    /// `"admin_token"`.
    pub fn json_line(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(flatten)]
            endpoints: &'a Endpoints,
            profile: Profile,
            admin_token: &'a str,
        }
        serde_json::to_string(&Line {
            endpoints: &self.endpoints,
            profile: self.shared.profile,
            admin_token: self.admin_token(),
        })
        .expect("strings, numbers and a path serialize to JSON")
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
