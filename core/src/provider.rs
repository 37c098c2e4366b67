//! Provider profiles: Google built in (endpoints, scopes and SMTP from docs/google.md),
//! custom ones from `<config_dir>/providers.toml` (the sandbox is one), and the
//! import of the JSON file Google's console downloads for a Desktop client.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// The only scope Gmail's SMTP server accepts.
pub const MAIL_SCOPE: &str = "https://mail.google.com/";
/// The URL alias Google adds for `email`.
pub const USERINFO_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";

/// How the SMTP connection is secured: the profile's `smtp.security` (`implicit_tls` or
/// `start_tls`) and what the mailer connects with. Never plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// TLS from the first byte (port 465, Gmail's default).
    ImplicitTls,
    /// Plain text, then STARTTLS before anything else (port 587). Never sends without TLS.
    #[serde(alias = "starttls")]
    StartTls,
}

/// How the client proves who it is to an endpoint (RFC 6749 §2.3.1, RFC 7009 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// HTTP Basic with the form-urlencoded id and secret; what RFC 6749 says every server
    /// must accept, so it is the default for custom profiles.
    #[default]
    ClientSecretBasic,
    /// No client authentication: Google's documented revocation request (docs/google.md).
    None,
}

/// Where a Google Cloud project's OAuth consent screen stands; it decides whether Google
/// ends grants after 7 days (docs/google.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PublishingStatus {
    /// Not told: Postern makes no claim about a 7-day end.
    #[default]
    Unknown,
    /// Testing: refresh tokens end 7 days after consent (unless only sign-in scopes).
    Testing,
    /// In production: no 7-day end.
    InProduction,
    /// Internal (Workspace only): no 7-day end.
    Internal,
}

impl PublishingStatus {
    /// Parses the words people type (`testing`, `production`, `in_production`, `internal`,
    /// `unknown`).
    pub fn parse(s: &str) -> Option<PublishingStatus> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "testing" => Some(PublishingStatus::Testing),
            "production" | "in_production" => Some(PublishingStatus::InProduction),
            "internal" => Some(PublishingStatus::Internal),
            "unknown" | "" => Some(PublishingStatus::Unknown),
            _ => None,
        }
    }

    /// The stable name (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            PublishingStatus::Unknown => "unknown",
            PublishingStatus::Testing => "testing",
            PublishingStatus::InProduction => "in_production",
            PublishingStatus::Internal => "internal",
        }
    }
}

/// Where and how to send mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The server's host name.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Implicit TLS or STARTTLS; never plain.
    pub security: SmtpSecurity,
}

/// One OAuth + SMTP provider. Unknown keys are refused: a misspelt one would otherwise be
/// dropped silently and its default used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// A short, stable name (`google`, `sandbox`, …).
    pub name: String,
    /// What people see.
    pub label: String,
    /// The consent page, opened in the browser.
    pub authorization_endpoint: String,
    /// Code and refresh grants.
    pub token_endpoint: String,
    /// RFC 7009 revocation.
    pub revocation_endpoint: String,
    /// Tokeninfo, for the audience check.
    #[serde(default)]
    pub tokeninfo_endpoint: Option<String>,
    /// OIDC UserInfo.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// The `iss` its id_tokens carry.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The scopes Postern asks for (and needs).
    pub scopes: Vec<String>,
    /// SMTP.
    pub smtp: SmtpSettings,
    /// A PEM file of a CA to trust besides the system's (for the sandbox).
    #[serde(default)]
    pub extra_ca_pem: Option<PathBuf>,
    /// The OAuth client ID (public); its secret is in the keychain.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The largest message the server takes.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: u64,
    /// How the client authenticates at the revocation endpoint.
    #[serde(default)]
    pub revocation_auth: ClientAuth,
    /// The provider puts `iss` on its redirects (RFC 9207) and says so; then a redirect
    /// without the right `iss` is refused. A present `iss` is always checked.
    #[serde(default)]
    pub authorization_response_iss: bool,
    /// The client's publishing status (Google's Testing mode ends grants after 7 days).
    #[serde(default)]
    pub publishing_status: PublishingStatus,
    /// The provider's own page where a person removes an app's access, named when a
    /// revocation cannot be confirmed.
    #[serde(default)]
    pub access_page: Option<String>,
}

fn default_max_message_bytes() -> u64 {
    35_882_577
}

/// The scopes Postern asks Google for: identity (to learn the address) and Gmail SMTP.
pub fn default_scopes() -> Vec<String> {
    ["openid", "email", MAIL_SCOPE]
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Google, built in.
pub fn google() -> Provider {
    Provider {
        name: "google".to_owned(),
        label: "Google (Gmail)".to_owned(),
        authorization_endpoint: "https://accounts.google.com/o/oauth2/v2/auth".to_owned(),
        token_endpoint: "https://oauth2.googleapis.com/token".to_owned(),
        revocation_endpoint: "https://oauth2.googleapis.com/revoke".to_owned(),
        tokeninfo_endpoint: Some("https://oauth2.googleapis.com/tokeninfo".to_owned()),
        userinfo_endpoint: Some("https://openidconnect.googleapis.com/v1/userinfo".to_owned()),
        issuer: Some("https://accounts.google.com".to_owned()),
        scopes: default_scopes(),
        smtp: SmtpSettings {
            host: "smtp.gmail.com".to_owned(),
            port: 465,
            security: SmtpSecurity::ImplicitTls,
        },
        extra_ca_pem: None,
        client_id: None,
        max_message_bytes: default_max_message_bytes(),
        // Google's revocation example sends only the token (docs/google.md).
        revocation_auth: ClientAuth::None,
        // Google puts `iss` on redirects but does not advertise it; it is checked when present.
        authorization_response_iss: false,
        publishing_status: PublishingStatus::Unknown,
        access_page: Some("https://myaccount.google.com/connections".to_owned()),
    }
}

/// Whether `url` is `http` on a loopback host (127.0.0.1, [::1], localhost).
fn is_loopback_http(url: &url::Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        }
}

impl Provider {
    /// Checks the profile: https everywhere, except that the consent page may be http on
    /// loopback (a local emulator's); at least one scope; a name.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Error::ProviderConfig {
            why: format!("provider {:?}: {why}", self.name),
        };
        if self.name.trim().is_empty() {
            return Err(bad("the name is empty".to_owned()));
        }
        let mut endpoints = vec![
            ("token_endpoint", Some(&self.token_endpoint)),
            ("revocation_endpoint", Some(&self.revocation_endpoint)),
            ("tokeninfo_endpoint", self.tokeninfo_endpoint.as_ref()),
            ("userinfo_endpoint", self.userinfo_endpoint.as_ref()),
        ];
        endpoints.retain(|(_, v)| v.is_some());
        for (field, value) in endpoints {
            let value = value.map(String::as_str).unwrap_or_default();
            let url = url::Url::parse(value).map_err(|e| bad(format!("{field} {value:?}: {e}")))?;
            if url.scheme() != "https" {
                return Err(bad(format!("{field} must be https, got {value:?}")));
            }
        }
        let auth = &self.authorization_endpoint;
        let url = url::Url::parse(auth)
            .map_err(|e| bad(format!("authorization_endpoint {auth:?}: {e}")))?;
        if url.scheme() != "https" && !is_loopback_http(&url) {
            return Err(bad(format!(
                "authorization_endpoint must be https (or http on 127.0.0.1), got {auth:?}"
            )));
        }
        if self.scopes.is_empty() {
            return Err(bad("no scopes".to_owned()));
        }
        if self.smtp.host.trim().is_empty() || self.smtp.port == 0 {
            return Err(bad("smtp host and port are required".to_owned()));
        }
        Ok(())
    }

    /// The scopes this provider needs for sending (those it asks for).
    pub fn needed_scopes(&self) -> &[String] {
        &self.scopes
    }

    /// An HTTP client that trusts the system roots plus `extra_ca_pem`; invalid
    /// certificates are never accepted, and redirects are not followed (a token endpoint
    /// never redirects; following one would re-send codes and secrets to another host).
    pub(crate) fn http_client(&self) -> Result<reqwest::Client> {
        let mut b = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .connect_timeout(std::time::Duration::from_secs(10));
        if let Some(path) = &self.extra_ca_pem {
            let pem = std::fs::read(path).map_err(|e| Error::ProviderConfig {
                why: format!("cannot read the CA file {}: {e}", path.display()),
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| Error::ProviderConfig {
                why: format!(
                    "the CA file {} is not a PEM certificate: {e}",
                    path.display()
                ),
            })?;
            b = b.add_root_certificate(cert);
        }
        b.build().map_err(|e| Error::Internal {
            why: format!("cannot build the HTTP client: {e}"),
        })
    }
}

/// The `providers.toml` file: `[[provider]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvidersFile {
    #[serde(default)]
    provider: Vec<Provider>,
}

/// Custom profiles from `<config_dir>/providers.toml` (none when the file is absent).
pub fn load_custom(config_dir: &Path) -> Result<Vec<Provider>> {
    let path = config_dir.join("providers.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Storage {
                why: format!("cannot read {}: {e}", path.display()),
            })
        }
    };
    parse_providers(&text, &path.display().to_string())
}

/// Reads and checks the text of a providers.toml (`origin` names it in errors).
pub fn parse_providers(text: &str, origin: &str) -> Result<Vec<Provider>> {
    let file: ProvidersFile = toml::from_str(text).map_err(|e| Error::ProviderConfig {
        why: format!("{origin}: {}", e.message().trim_end()),
    })?;
    for p in &file.provider {
        p.validate()?;
    }
    Ok(file.provider)
}

/// A Desktop client from Google's console JSON: `{"installed": {"client_id", "client_secret", …}}`.
pub(crate) struct ImportedClient {
    pub(crate) client_id: String,
    pub(crate) client_secret: crate::Secret,
}

/// Google's console JSON: one of `installed` (Desktop app) or `web`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    installed: Option<InstalledClient>,
    web: Option<serde::de::IgnoredAny>,
}

/// The keys Google writes for a Desktop app client; all but the ID and secret are accepted
/// and not used.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct InstalledClient {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    project_id: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    auth_uri: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    token_uri: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    auth_provider_x509_cert_url: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    redirect_uris: Option<serde::de::IgnoredAny>,
}

/// Reads the `installed` form of the client JSON Google's console downloads. Unknown keys are
/// refused: they mean another kind of file, or one edited by hand.
pub(crate) fn parse_google_client_json(json: &str) -> Result<ImportedClient> {
    let bad = |why: &str| Error::InvalidInput {
        what: "the client file".to_owned(),
        why: why.to_owned(),
    };
    let v: serde_json::Value = serde_json::from_str(json).map_err(|_| {
        bad("it is not JSON; choose the file Google Cloud Console downloads for an OAuth client")
    })?;
    let file: ClientFile = serde_json::from_value(v).map_err(|e| {
        // Only the key's name is repeated: other serde messages can quote values (a secret).
        let e = e.to_string();
        let what = match e.split(',').next() {
            Some(unknown) if unknown.starts_with("unknown field") => unknown.to_owned(),
            _ => "a value of the wrong type".to_owned(),
        };
        bad(&format!(
            "it has {what}; choose the unedited file Google Cloud Console downloads for a \
             Desktop app client"
        ))
    })?;
    let Some(installed) = file.installed else {
        if file.web.is_some() {
            return Err(bad(
                "it is a Web application client; create a Desktop app client instead",
            ));
        }
        return Err(bad(
            "it has no \"installed\" section; download the JSON of a Desktop app client",
        ));
    };
    let id = installed.client_id.trim();
    let secret = installed.client_secret.trim();
    if id.is_empty() || secret.is_empty() {
        return Err(bad("client_id or client_secret is missing"));
    }
    Ok(ImportedClient {
        client_id: id.to_owned(),
        client_secret: crate::Secret::new(secret),
    })
}

impl Error {
    /// Names the custom provider profile in a certificate error, whose `extra_ca_pem` may be
    /// the fix; Google's own servers never need one.
    pub fn in_profile(self, provider: &Provider) -> Error {
        let custom = (provider.name != "google").then_some(provider.name.as_str());
        self.in_named_profile(custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_is_valid_and_asks_for_mail() {
        let g = google();
        g.validate().unwrap();
        assert!(g.scopes.iter().any(|s| s == MAIL_SCOPE));
        assert_eq!(g.smtp.host, "smtp.gmail.com");
    }

    #[test]
    fn http_is_refused_except_for_a_loopback_consent_page() {
        let mut p = google();
        p.authorization_endpoint = "http://127.0.0.1:9000/o/oauth2/v2/auth".to_owned();
        p.validate().unwrap();
        p.authorization_endpoint = "http://example.com/auth".to_owned();
        assert_eq!(p.validate().unwrap_err().code(), "provider_config");
        p = google();
        p.token_endpoint = "http://127.0.0.1:9000/token".to_owned();
        assert!(p.validate().unwrap_err().to_string().contains("https"));
    }

    #[test]
    fn custom_profiles_load_from_toml() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("providers.toml"),
            r#"
[[provider]]
name = "corp"
label = "Corp mail"
authorization_endpoint = "https://id.corp.test/auth"
token_endpoint = "https://id.corp.test/token"
revocation_endpoint = "https://id.corp.test/revoke"
tokeninfo_endpoint = "https://id.corp.test/tokeninfo"
scopes = ["openid", "email", "https://mail.google.com/"]
extra_ca_pem = "/etc/corp-ca.pem"
[provider.smtp]
host = "smtp.corp.test"
port = 587
security = "starttls"
"#,
        )
        .unwrap();
        let ps = load_custom(dir.path()).unwrap();
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].smtp.security, SmtpSecurity::StartTls);
        assert_eq!(ps[0].max_message_bytes, 35_882_577);
        assert!(load_custom(&dir.path().join("none")).unwrap().is_empty());
        let misspelt = "[[provider]]\nname = \"x\"\nlable = \"X\"\n";
        let e = parse_providers(misspelt, "providers.toml").unwrap_err();
        assert_eq!(e.code(), "provider_config");
        assert!(e.to_string().contains("unknown field `lable`"), "{e}");
        let top = "[[providers]]\nname = \"x\"\n";
        assert!(parse_providers(top, "providers.toml").is_err());
    }

    #[test]
    fn console_json_imports_the_installed_form_only() {
        let ok = r#"{"installed":{"client_id":"1-a.apps.googleusercontent.com","project_id":"p","client_secret":"GOCSPX-x","redirect_uris":["http://localhost"]}}"#;
        let c = parse_google_client_json(ok).unwrap();
        assert_eq!(c.client_id, "1-a.apps.googleusercontent.com");
        assert_eq!(c.client_secret.expose(), "GOCSPX-x");
        let full = r#"{"installed":{"client_id":"1-a.apps.googleusercontent.com","project_id":"p","auth_uri":"https://accounts.google.com/o/oauth2/auth","token_uri":"https://oauth2.googleapis.com/token","auth_provider_x509_cert_url":"https://www.googleapis.com/oauth2/v1/certs","client_secret":"GOCSPX-x","redirect_uris":["http://localhost"]}}"#;
        assert!(parse_google_client_json(full).is_ok());
        for unknown in [
            r#"{"installed":{"client_id":"a","client_secret":"b","clientsecret":"c"}}"#,
            r#"{"installed":{"client_id":"a","client_secret":"b"},"extra":1}"#,
        ] {
            let e = parse_google_client_json(unknown).err().unwrap();
            assert_eq!(e.code(), "invalid_input");
            assert!(e.to_string().contains("unknown field"), "{e}");
            assert!(!e.to_string().contains("GOCSPX"), "{e}");
        }
        let web = r#"{"web":{"client_id":"x","client_secret":"y"}}"#;
        let e = parse_google_client_json(web).err().unwrap();
        assert!(e.to_string().contains("Desktop"));
    }
}
