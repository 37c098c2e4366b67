//! Where Postern keeps things and how it behaves: data and config folders (per-OS through
//! `directories`, overridable by `POSTERN_DATA_DIR` / `POSTERN_CONFIG_DIR`), the keychain
//! service name (`POSTERN_KEYRING_SERVICE`), extra providers, the loopback port and the authorization timeout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::provider::{Provider, PublishingStatus};

/// Talking to Google, or to the local sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Real Google accounts.
    Google,
    /// The local emulator (`postern-sandbox`).
    Sandbox,
}

/// Everything [`App::open`](crate::app::App::open) needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The SQLite database (`postern.db`) lives here.
    pub data_dir: PathBuf,
    /// `settings.toml`, `providers.toml`, `google-client.json` (client ID only).
    pub config_dir: PathBuf,
    /// The keychain service name: "postern" normally, "postern-sandbox" in sandbox mode.
    pub keyring_service: String,
    /// Providers added by the caller (e.g. the in-process sandbox).
    pub extra_providers: Vec<Provider>,
    /// The loopback port for the redirect; `None` picks a free one.
    pub loopback_port: Option<u16>,
    /// How long the browser flow may take.
    pub authorize_timeout: Duration,
    /// Google or sandbox.
    pub mode: Mode,
    /// The clock expiries are measured with (tests move it).
    pub clock: Clock,
    /// How long a sent message keeps its body, attachments and Bcc envelope; its headers and
    /// outcome stay. `sent_retention_days` in settings.toml.
    pub sent_retention: Duration,
    /// How long activity log entries are kept. `activity_retention_days` in settings.toml.
    pub activity_retention: Duration,
}

/// The optional `settings.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    /// 0 or absent: a free port.
    redirect_port: Option<u16>,
    authorize_timeout_secs: Option<u64>,
    sent_retention_days: Option<u32>,
    activity_retention_days: Option<u32>,
}

/// The file holding the Google client ID (the secret is in the keychain).
pub(crate) const GOOGLE_CLIENT_FILE: &str = "google-client.json";

/// How long a sent message's body is kept by default (30 days).
pub const DEFAULT_SENT_RETENTION: Duration = Duration::from_secs(30 * 86_400);
/// How long activity entries are kept by default (90 days).
pub const DEFAULT_ACTIVITY_RETENTION: Duration = Duration::from_secs(90 * 86_400);

fn days(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * 86_400)
}

/// The default time allowed for the browser flow.
pub const DEFAULT_AUTHORIZE_TIMEOUT: Duration = Duration::from_secs(300);

impl Settings {
    /// Settings for the two folders given, with defaults for the rest.
    pub fn with_dirs(data_dir: impl Into<PathBuf>, config_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            data_dir: data_dir.into(),
            config_dir: config_dir.into(),
            keyring_service: "postern".to_owned(),
            extra_providers: Vec::new(),
            loopback_port: None,
            authorize_timeout: DEFAULT_AUTHORIZE_TIMEOUT,
            mode: Mode::Google,
            clock: Clock::default(),
            sent_retention: DEFAULT_SENT_RETENTION,
            activity_retention: DEFAULT_ACTIVITY_RETENTION,
        }
    }

    /// The per-OS folders (or `POSTERN_DATA_DIR` / `POSTERN_CONFIG_DIR`), plus `settings.toml`.
    pub fn from_env() -> Result<Settings> {
        let dirs = directories::ProjectDirs::from("", "", "postern");
        let pick = |var: &str, default: Option<&Path>| -> Result<PathBuf> {
            match std::env::var_os(var) {
                Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
                _ => default
                    .map(Path::to_path_buf)
                    .ok_or_else(|| Error::Storage {
                        why: format!("no home folder was found; set {var}"),
                    }),
            }
        };
        let data = pick("POSTERN_DATA_DIR", dirs.as_ref().map(|d| d.data_dir()))?;
        let config = pick("POSTERN_CONFIG_DIR", dirs.as_ref().map(|d| d.config_dir()))?;
        let mut s = Settings::with_dirs(data, config);
        // Side-by-side profiles (and parallel tests) keep their own keychain entries.
        if let Some(service) = std::env::var("POSTERN_KEYRING_SERVICE")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            s.keyring_service = service;
        }
        let file = read_settings_file(&s.config_dir)?;
        s.loopback_port = file.redirect_port.filter(|p| *p != 0);
        if let Some(secs) = file.authorize_timeout_secs {
            s.authorize_timeout = Duration::from_secs(secs.max(10));
        }
        if let Some(n) = file.sent_retention_days {
            s.sent_retention = days(n);
        }
        if let Some(n) = file.activity_retention_days {
            s.activity_retention = days(n);
        }
        Ok(s)
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("postern.db")
    }

    /// Whether a Google client ID is saved in the config folder (the secret is checked at use).
    pub fn google_client_configured(&self) -> bool {
        read_google_client_id(&self.config_dir)
            .ok()
            .flatten()
            .is_some()
    }
}

fn read_settings_file(config_dir: &Path) -> Result<SettingsFile> {
    let path = config_dir.join("settings.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| Error::InvalidInput {
            what: path.display().to_string(),
            why: e.message().to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SettingsFile::default()),
        Err(e) => Err(Error::Storage {
            why: format!("cannot read {}: {e}", path.display()),
        }),
    }
}

/// The saved Google client ID, if any.
pub(crate) fn read_google_client_id(config_dir: &Path) -> Result<Option<String>> {
    let path = config_dir.join(GOOGLE_CLIENT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Storage {
                why: format!("cannot read {}: {e}", path.display()),
            })
        }
    };
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::InvalidInput {
        what: path.display().to_string(),
        why: e.to_string(),
    })?;
    Ok(v["client_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned))
}

/// The Google client's publishing status as the person said it (unknown when never said).
pub(crate) fn read_google_publishing_status(config_dir: &Path) -> PublishingStatus {
    std::fs::read_to_string(config_dir.join(GOOGLE_CLIENT_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v["publishing_status"]
                .as_str()
                .and_then(PublishingStatus::parse)
        })
        .unwrap_or_default()
}

/// Saves the Google client ID (never the secret) and its publishing status in the config
/// folder.
pub(crate) fn write_google_client(
    config_dir: &Path,
    client_id: &str,
    status: PublishingStatus,
) -> Result<()> {
    std::fs::create_dir_all(config_dir).map_err(|e| Error::Storage {
        why: format!("cannot create {}: {e}", config_dir.display()),
    })?;
    let path = config_dir.join(GOOGLE_CLIENT_FILE);
    let body = serde_json::json!({ "client_id": client_id, "publishing_status": status.as_str() })
        .to_string();
    std::fs::write(&path, body).map_err(|e| Error::Storage {
        why: format!("cannot write {}: {e}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_file_sets_port_and_timeout() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("settings.toml"),
            "redirect_port = 8765\nauthorize_timeout_secs = 60\n\
             sent_retention_days = 7\nactivity_retention_days = 365\n",
        )
        .unwrap();
        let f = read_settings_file(dir.path()).unwrap();
        assert_eq!(f.redirect_port, Some(8765));
        assert_eq!(f.authorize_timeout_secs, Some(60));
        assert_eq!(f.sent_retention_days, Some(7));
        assert_eq!(f.activity_retention_days, Some(365));
    }

    #[test]
    fn google_client_id_round_trips_and_holds_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::with_dirs(dir.path().join("d"), dir.path().join("c"));
        assert!(!s.google_client_configured());
        write_google_client(
            &s.config_dir,
            "123.apps.googleusercontent.com",
            PublishingStatus::Testing,
        )
        .unwrap();
        assert!(s.google_client_configured());
        assert_eq!(
            read_google_publishing_status(&s.config_dir),
            PublishingStatus::Testing
        );
        let text = std::fs::read_to_string(s.config_dir.join(GOOGLE_CLIENT_FILE)).unwrap();
        assert!(!text.contains("secret"));
    }
}
