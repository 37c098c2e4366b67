//! Start at login, the XDG way: a desktop entry in `$XDG_CONFIG_HOME/autostart/` (what GNOME,
//! KDE, Xfce and the others read at login). Off until the person turns it on in Settings; the
//! file itself is the setting, so removing it by hand turns it off too.

use std::path::{Path, PathBuf};

const FILE: &str = "postern.desktop";

/// `$XDG_CONFIG_HOME/autostart`, or `~/.config/autostart`.
pub fn dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(config) => Some(PathBuf::from(config).join("autostart")),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/autostart")),
    }
}

/// The entry that starts `exec` at login.
pub fn entry(exec: &Path) -> String {
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=Postern\n\
         Comment=Send mail through Gmail with OAuth 2.0, and see the tokens\n\
         Exec=\"{}\"\n\
         Icon=postern\n\
         Terminal=false\n\
         X-GNOME-Autostart-enabled=true\n",
        exec.display()
    )
}

/// Whether Postern starts at login.
pub fn enabled_in(dir: &Path) -> bool {
    dir.join(FILE).is_file()
}

/// Turns starting at login on or off.
pub fn set_in(dir: &Path, on: bool, exec: &Path) -> std::io::Result<()> {
    let path = dir.join(FILE);
    if on {
        std::fs::create_dir_all(dir)?;
        std::fs::write(path, entry(exec))
    } else {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The program the entry runs: the `postern` installed beside this one, which hands over to
/// the desktop app (or this program when it runs alone, as in development).
pub fn program() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("postern"));
    let beside = me.with_file_name("postern");
    if beside.is_file() {
        beside
    } else {
        me
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_on_writes_a_valid_entry_off_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let autostart = dir.path().join("autostart");
        assert!(!enabled_in(&autostart));
        set_in(&autostart, true, Path::new("/usr/bin/postern")).unwrap();
        assert!(enabled_in(&autostart));
        let file = autostart.join(FILE);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("Exec=\"/usr/bin/postern\""), "{text}");
        // The desktop's own validator accepts it (desktop-file-utils, installed by bootstrap).
        let checked = std::process::Command::new("desktop-file-validate")
            .arg(&file)
            .output()
            .expect("desktop-file-validate (scripts/bootstrap installs desktop-file-utils)");
        assert!(
            checked.status.success() && checked.stdout.is_empty(),
            "{}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
        set_in(&autostart, false, Path::new("/usr/bin/postern")).unwrap();
        assert!(!enabled_in(&autostart));
        // Turning off what is already off is fine.
        set_in(&autostart, false, Path::new("/usr/bin/postern")).unwrap();
    }
}
