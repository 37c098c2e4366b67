//! The sandbox's own certificate authority and the server certificate it signs for
//! 127.0.0.1, ::1 and localhost; clients trust `<state_dir>/ca.pem`, never "accept any".

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::SandboxError;

/// How long a client may take to finish the TLS handshake.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn crypto(e: impl std::fmt::Display) -> SandboxError {
    SandboxError::Crypto(e.to_string())
}

/// Creates a fresh CA and server certificate, writes the CA to `<state_dir>/ca.pem`, and
/// returns the acceptor used by the HTTPS and SMTP listeners.
pub(crate) fn create(state_dir: &Path) -> Result<TlsAcceptor, SandboxError> {
    let ca_key = KeyPair::generate().map_err(crypto)?;
    let mut ca_params = CertificateParams::default();
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "Postern Sandbox CA");
    ca_name.push(DnType::OrganizationName, "postern-sandbox");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(crypto)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().map_err(crypto)?;
    let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).map_err(crypto)?;
    leaf_params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    leaf_params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).map_err(crypto)?;

    let ca_path = state_dir.join("ca.pem");
    std::fs::write(&ca_path, ca_cert.pem()).map_err(|source| SandboxError::StateDir {
        path: ca_path.clone(),
        source,
    })?;

    let chain: Vec<CertificateDer<'static>> = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(crypto)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(crypto)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
