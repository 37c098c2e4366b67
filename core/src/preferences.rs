//! The person's choices made in the window's Settings, kept in `preferences.json` in the config
//! folder: whether desktop notifications are shown, and what Postern already told them once.
//! (`settings.toml` stays the hand-edited file; this one is written by Postern.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// The file's name in the config folder.
pub const PREFERENCES_FILE: &str = "preferences.json";

/// What the person chose. Unknown keys are kept out; missing ones take their default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Preferences {
    /// Desktop notifications (revoked grants, failed messages, waiting mail sent). On by default.
    pub notifications: bool,
    /// Whether the person was told, at the first close of the window, that Postern keeps
    /// running in the tray.
    pub tray_hint_shown: bool,
    /// The name shown beside each account's address in From (`"Pat Doe" <pat@…>`), by address.
    pub sender_names: BTreeMap<String, String>,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            notifications: true,
            tray_hint_shown: false,
            sender_names: BTreeMap::new(),
        }
    }
}

fn path(config_dir: &Path) -> PathBuf {
    config_dir.join(PREFERENCES_FILE)
}

impl Preferences {
    /// Sets (or, when blank, removes) the sender name for an address. A name cannot hold a
    /// line break, which would end the From header.
    pub fn set_sender_name(&mut self, address: &str, name: &str) -> Result<()> {
        let name = name.trim();
        if name.contains(['\r', '\n']) {
            return Err(Error::InvalidInput {
                what: "sender name".into(),
                why: "it holds a line break; type the name on one line".into(),
            });
        }
        let key = address.trim().to_ascii_lowercase();
        if name.is_empty() {
            self.sender_names.remove(&key);
        } else {
            self.sender_names.insert(key, name.to_owned());
        }
        Ok(())
    }

    /// The saved preferences, or the defaults when none were saved.
    pub fn load(config_dir: &Path) -> Result<Preferences> {
        let path = path(config_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(Error::Storage {
                    why: format!("cannot read {}: {e}", path.display()),
                })
            }
        };
        serde_json::from_str(&text).map_err(|e| Error::InvalidInput {
            what: path.display().to_string(),
            why: format!("{e} (delete the file to go back to the defaults)"),
        })
    }

    /// Saves them, replacing the file in one step so that a crash never leaves half of it.
    pub fn save(&self, config_dir: &Path) -> Result<()> {
        let storage = |e: std::io::Error| Error::Storage {
            why: format!("cannot write {}: {e}", path(config_dir).display()),
        };
        std::fs::create_dir_all(config_dir).map_err(storage)?;
        let tmp = config_dir.join(format!("{PREFERENCES_FILE}.tmp"));
        let body = serde_json::to_string_pretty(self).unwrap_or_default();
        std::fs::write(&tmp, body).map_err(storage)?;
        std::fs::rename(&tmp, path(config_dir)).map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_on_until_turned_off_and_stay_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Preferences::load(dir.path()).unwrap();
        assert!(p.notifications);
        p.notifications = false;
        p.save(dir.path()).unwrap();
        assert!(!Preferences::load(dir.path()).unwrap().notifications);
    }

    #[test]
    fn a_sender_name_is_kept_per_account_and_a_blank_one_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Preferences::default();
        p.set_sender_name("Pat@Example.com", "  Pat Doe ").unwrap();
        p.set_sender_name("sam@example.org", "Sam").unwrap();
        p.save(dir.path()).unwrap();
        let mut back = Preferences::load(dir.path()).unwrap();
        assert_eq!(back.sender_names["pat@example.com"], "Pat Doe");
        back.set_sender_name("sam@example.org", " ").unwrap();
        assert!(!back.sender_names.contains_key("sam@example.org"));
        let e = back
            .set_sender_name("pat@example.com", "Pat\r\nBcc: x@y")
            .unwrap_err();
        assert!(e.to_string().contains("line break"), "{e}");
    }

    #[test]
    fn a_damaged_file_is_an_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PREFERENCES_FILE), "{not json").unwrap();
        let e = Preferences::load(dir.path()).unwrap_err();
        assert!(e.to_string().contains("delete the file"), "{e}");
    }
}
