//! The send suites' fixture: real grants from the sandbox (its consent form posted the way the
//! Allow button does, the code exchanged with PKCE), and [`SandboxHooks`], which hands those
//! real tokens to the outbox.

pub mod app;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use postern_core::mail::SmtpEndpoint;
use postern_core::outbox::{Backoff, Outbox, OutboxHooks, OutboxItem, SendTarget};
use postern_core::provider::SmtpSecurity;
use postern_core::store::Store;
use postern_core::{Error, Result, RevokedCause, Secret};
use postern_sandbox::Endpoints;
use sha2::{Digest, Sha256};

use crate::consent::by_form;
use crate::sandbox::https_client;
pub use crate::sandbox::sandbox;

/// The scopes the send suites' grants carry.
pub const SCOPES: &str = "openid email https://mail.google.com/";

/// Tokens from a real consent + code exchange.
pub struct Grant {
    pub access: String,
    pub refresh: String,
}

/// Consents as `email` (all scopes ticked) and exchanges the code with PKCE.
pub async fn grant(ep: &Endpoints, email: &str) -> Grant {
    let client = https_client(ep);
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect_uri = "http://127.0.0.1:9/cb";
    let mut consent_url = url::Url::parse(&ep.authorization_endpoint).unwrap();
    consent_url.query_pairs_mut().extend_pairs([
        ("client_id", ep.client_id.as_str()),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "st-1"),
        ("access_type", "offline"),
        ("prompt", "consent"),
        ("login_hint", email),
    ]);
    let location = by_form(ep, consent_url.as_str(), email).await;
    let url = url::Url::parse(&location).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("the redirect carries a code");
    let tokens: serde_json::Value = client
        .post(&ep.token_endpoint)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
            ("client_id", ep.client_id.as_str()),
            ("client_secret", ep.client_secret.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Grant {
        access: tokens["access_token"]
            .as_str()
            .expect("access_token")
            .into(),
        refresh: tokens["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .into(),
    }
}

/// Real sandbox tokens for the outbox, refreshed at the real token endpoint.
pub struct SandboxHooks {
    pub ep: Endpoints,
    pub security: SmtpSecurity,
    pub ca: Option<PathBuf>,
    pub max_message_bytes: u64,
    pub tokens: Mutex<HashMap<String, Grant>>,
    pub changes: Mutex<Vec<OutboxItem>>,
    pub activity: Mutex<Vec<(String, String, bool)>>,
    pub refreshes: Mutex<u32>,
    /// Whether `access_token` refreshes first (as the App does); false hands the stored one.
    pub refresh_first: bool,
}

impl SandboxHooks {
    pub fn new(ep: &Endpoints, security: SmtpSecurity) -> Arc<SandboxHooks> {
        Arc::new(SandboxHooks {
            ep: ep.clone(),
            security,
            ca: Some(ep.ca_cert.clone()),
            max_message_bytes: 35_882_577,
            tokens: Mutex::new(HashMap::new()),
            changes: Mutex::new(Vec::new()),
            activity: Mutex::new(Vec::new()),
            refreshes: Mutex::new(0),
            refresh_first: false,
        })
    }

    pub fn add(&self, email: &str, g: Grant) {
        self.tokens.lock().unwrap().insert(email.to_string(), g);
    }

    async fn refresh(&self, account: &str) -> Result<Secret> {
        *self.refreshes.lock().unwrap() += 1;
        let refresh = self
            .tokens
            .lock()
            .unwrap()
            .get(account)
            .map(|g| g.refresh.clone())
            .ok_or(Error::UnknownAccount {
                address: account.into(),
            })?;
        let resp = https_client(&self.ep)
            .post(&self.ep.token_endpoint)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", self.ep.client_id.as_str()),
                ("client_secret", self.ep.client_secret.as_str()),
            ])
            .send()
            .await
            .map_err(|e| Error::Network {
                what: "sandbox".into(),
                why: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        if body["error"] == "invalid_grant" {
            return Err(Error::InvalidGrant {
                cause: RevokedCause::Unknown,
                description: body["error_description"].as_str().unwrap_or("").into(),
                provider: "Sandbox".into(),
            });
        }
        let access = body["access_token"].as_str().ok_or(Error::TokenEndpoint {
            status,
            error: body["error"].as_str().unwrap_or("").into(),
            description: String::new(),
        })?;
        if let Some(g) = self.tokens.lock().unwrap().get_mut(account) {
            g.access = access.to_string();
        }
        Ok(Secret::new(access))
    }
}

#[async_trait]
impl OutboxHooks for SandboxHooks {
    async fn target(&self, account: &str) -> Result<SendTarget> {
        if !self.tokens.lock().unwrap().contains_key(account) {
            return Err(Error::UnknownAccount {
                address: account.into(),
            });
        }
        let port = match self.security {
            SmtpSecurity::ImplicitTls => self.ep.smtp_tls_port,
            SmtpSecurity::StartTls => self.ep.smtp_starttls_port,
        };
        Ok(SendTarget {
            endpoint: SmtpEndpoint {
                host: self.ep.smtp_host.clone(),
                port,
                security: self.security,
                extra_ca_pem: self.ca.clone(),
            },
            max_message_bytes: self.max_message_bytes,
            custom_profile: Some("sandbox".into()),
        })
    }

    async fn access_token(&self, account: &str) -> Result<Secret> {
        if self.refresh_first {
            return self.refresh(account).await;
        }
        self.tokens
            .lock()
            .unwrap()
            .get(account)
            .map(|g| Secret::new(g.access.clone()))
            .ok_or(Error::UnknownAccount {
                address: account.into(),
            })
    }

    async fn refresh_after_rejection(&self, account: &str) -> Result<Secret> {
        self.refresh(account).await
    }

    fn changed(&self, item: &OutboxItem) {
        self.changes.lock().unwrap().push(item.clone());
    }

    fn activity(&self, _account: &str, kind: &str, summary: &str, ok: bool) {
        self.activity
            .lock()
            .unwrap()
            .push((kind.into(), summary.into(), ok));
    }
}

/// A fresh outbox in `dir` with a short backoff.
pub fn outbox(dir: &std::path::Path) -> Arc<Outbox> {
    let store = Arc::new(Store::open(&dir.join("postern.db")).unwrap());
    Outbox::open_with(
        store,
        Backoff {
            first: Duration::from_millis(500),
            max: Duration::from_secs(2),
            max_attempts: 10,
        },
    )
    .unwrap()
}

/// Waits until `f` holds, polling every 50 ms, or panics after `secs`.
pub async fn eventually(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
