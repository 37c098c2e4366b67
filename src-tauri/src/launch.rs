//! `postern` without a command starts the desktop app, which is installed beside it.

use std::path::PathBuf;

/// The desktop app's binary name (tauri.conf.json's `mainBinaryName`).
pub const DESKTOP_BINARY: &str = "postern-desktop";

/// Where the desktop app is: next to this binary.
pub fn desktop_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe
        .parent()?
        .join(format!("{DESKTOP_BINARY}{}", std::env::consts::EXE_SUFFIX));
    path.exists().then_some(path)
}

/// Replaces this process with the desktop app (on Unix), or runs it and passes on its exit code.
pub fn desktop() -> i32 {
    let Some(path) = desktop_binary() else {
        eprintln!(
            "postern: the desktop app ({DESKTOP_BINARY}) is not installed next to this program. \
             Reinstall Postern, or use the command line: postern --help"
        );
        return 1;
    };
    let mut cmd = std::process::Command::new(&path);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = cmd.exec();
        eprintln!("postern: could not start {}: {e}", path.display());
        1
    }
    #[cfg(not(unix))]
    match cmd.status() {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("postern: could not start {}: {e}", path.display());
            1
        }
    }
}
