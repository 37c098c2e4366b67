//! The sandbox as Postern sees it: a provider profile for a started sandbox (what the shell
//! builds in sandbox mode), and an HTTPS client that trusts only the sandbox's CA.

use postern_core::provider::{
    self, ClientAuth, Provider, PublishingStatus, SmtpSecurity, SmtpSettings,
};
use postern_sandbox::{Endpoints, Sandbox, SandboxConfig};

/// Starts a sandbox (Google's profile) on free ports.
pub async fn sandbox() -> Sandbox {
    postern_sandbox::start(SandboxConfig::default())
        .await
        .expect("the sandbox starts")
}

/// A reqwest client trusting only the sandbox's CA, following no redirects.
pub fn https_client(ep: &Endpoints) -> reqwest::Client {
    let pem = std::fs::read(&ep.ca_cert).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A profile for the sandbox at `ep`, sending on its port for `security`.
pub fn sandbox_provider(ep: &Endpoints, security: SmtpSecurity) -> Provider {
    let port = match security {
        SmtpSecurity::ImplicitTls => ep.smtp_tls_port,
        SmtpSecurity::StartTls => ep.smtp_starttls_port,
    };
    Provider {
        name: "sandbox".into(),
        label: "Sandbox".into(),
        authorization_endpoint: ep.authorization_endpoint.clone(),
        token_endpoint: ep.token_endpoint.clone(),
        revocation_endpoint: ep.revocation_endpoint.clone(),
        tokeninfo_endpoint: Some(ep.tokeninfo_endpoint.clone()),
        userinfo_endpoint: Some(ep.userinfo_endpoint.clone()),
        issuer: Some(ep.issuer.clone()),
        scopes: provider::default_scopes(),
        smtp: SmtpSettings {
            host: ep.smtp_host.clone(),
            port,
            security,
        },
        extra_ca_pem: Some(ep.ca_cert.clone()),
        client_id: Some(ep.client_id.clone()),
        // The sandbox registers its client "In production".
        publishing_status: PublishingStatus::InProduction,
        access_page: None,
        ..provider::google()
    }
}

/// A profile for the sandbox's strict (standards, not Google) profile: client authentication
/// at revocation, no tokeninfo (the address is at UserInfo), RFC 9207 `iss` advertised.
pub fn strict_provider(ep: &Endpoints, security: SmtpSecurity) -> Provider {
    Provider {
        label: "Strict sandbox".into(),
        tokeninfo_endpoint: None,
        revocation_auth: ClientAuth::ClientSecretBasic,
        authorization_response_iss: true,
        ..sandbox_provider(ep, security)
    }
}
