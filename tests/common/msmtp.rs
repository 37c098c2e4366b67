//! msmtp, a real mail client, configured to take its XOAUTH2 tokens from `postern token`.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// An msmtp configuration with one account, "sandbox", on the sandbox's implicit-TLS port.
pub struct Msmtp {
    conf: PathBuf,
}

impl Msmtp {
    /// Writes `dir/msmtprc` (mode 0600, as msmtp requires): `user` signs in with the token
    /// that `passwordeval` prints, over TLS verified against `ca`.
    pub fn configure(dir: &Path, port: &str, ca: &str, user: &str, passwordeval: &str) -> Msmtp {
        use std::os::unix::fs::PermissionsExt;
        let conf = dir.join("msmtprc");
        std::fs::write(
            &conf,
            format!(
                "account sandbox\nhost 127.0.0.1\nport {port}\ntls on\ntls_starttls off\n\
                 tls_trust_file {ca}\nauth xoauth2\nuser {user}\nfrom {user}\n\
                 passwordeval \"{passwordeval}\"\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
        Msmtp { conf }
    }

    /// Sends one message (headers and body) to `to`, as `msmtp -a sandbox TO < message`.
    pub fn send(&self, to: &str, message: &[u8]) -> Output {
        let mut child = Command::new("msmtp")
            .args(["-C", self.conf.to_str().unwrap(), "-a", "sandbox", to])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("msmtp (Debian package) must be installed: run scripts/bootstrap");
        child.stdin.take().unwrap().write_all(message).unwrap();
        child.wait_with_output().unwrap()
    }
}
