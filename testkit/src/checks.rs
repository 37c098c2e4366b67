//! The harness checks: a test that needs the private desktop fails (never skips) outside it,
//! and the scan that looks for secrets in the files a run left.

use std::path::{Path, PathBuf};

/// Fails when the harness keychain (a private D-Bus session with gnome-keyring) is not there.
pub fn require_keychain() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        panic!(
            "this test needs the harness keychain (a private D-Bus session with gnome-keyring, \
             DBUS_SESSION_BUS_ADDRESS is not set); run it inside scripts/with-desktop, e.g. \
             `scripts/with-desktop cargo test -p postern-core --test send_app`"
        );
    }
}

/// Fails when the private desktop of `scripts/with-desktop` (display, D-Bus, keychain) is not
/// there.
pub fn require_desktop() {
    for var in ["DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "POSTERN_HARNESS"] {
        assert!(
            std::env::var_os(var).is_some(),
            "{var} is not set: run the end-to-end suites inside scripts/with-desktop (make test does)"
        );
    }
}

/// Every regular file under `dir`.
pub fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => collect_files(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}
