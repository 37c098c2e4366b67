//! Where an account's SMTP server is and how its certificate is checked: what the mailer, the
//! pool and the sign-in all take, so it sits below them.

use std::path::PathBuf;

use lettre::transport::smtp::client::{Certificate, CertificateStore, TlsParameters};

use crate::error::{Error, Result};
use crate::provider::SmtpSecurity;

/// Where an account's SMTP server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpEndpoint {
    /// Host name (or IP literal) the certificate must name.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Implicit TLS or STARTTLS.
    pub security: SmtpSecurity,
    /// A PEM file with an extra CA to trust (the sandbox's), on top of the usual roots.
    pub extra_ca_pem: Option<PathBuf>,
}

/// TLS settings: the usual roots plus the provider's extra CA, certificates always checked.
pub fn tls_parameters(endpoint: &SmtpEndpoint) -> Result<TlsParameters> {
    let mut builder =
        TlsParameters::builder(endpoint.host.clone()).certificate_store(CertificateStore::Default);
    if let Some(path) = &endpoint.extra_ca_pem {
        let pem = std::fs::read(path).map_err(|e| Error::ProviderConfig {
            why: format!("cannot read the extra CA file {}: {e}", path.display()),
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| Error::ProviderConfig {
            why: format!("{} is not a PEM certificate: {e}", path.display()),
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| Error::Tls {
        host: endpoint.host.clone(),
        why: e.to_string(),
        profile: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_extra_ca_file_is_a_configuration_error() {
        let e = tls_parameters(&SmtpEndpoint {
            host: "127.0.0.1".into(),
            port: 465,
            security: SmtpSecurity::ImplicitTls,
            extra_ca_pem: Some("/nonexistent/ca.pem".into()),
        })
        .err()
        .unwrap();
        assert_eq!(e.code(), "provider_config");
    }
}
