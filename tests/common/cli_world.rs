//! `postern sandbox` as a child process and the command line pointed at it (`--sandbox`),
//! with the folders and keyring service of one test; its admin API for faults, counts and
//! the mailbox.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::browser::{Browser, Consent};
use super::{cli_binary, require_desktop, AppDirs, Group};

/// A running `postern sandbox` and the world around it.
pub struct CliWorld {
    _proc: Group,
    pub endpoints: serde_json::Value,
    pub dirs: AppDirs,
    pub keyring: String,
}

impl CliWorld {
    /// Starts `postern sandbox` with extra arguments (`--profile strict`, …).
    pub fn start(name: &str, sandbox_args: &[&str]) -> CliWorld {
        require_desktop();
        let dirs = AppDirs::new();
        let keyring = format!("postern-test-{name}-{}", std::process::id());
        let mut cmd = Command::new(cli_binary());
        cmd.arg("sandbox")
            .args(sandbox_args)
            .envs(dirs.env())
            .env("POSTERN_KEYRING_SERVICE", &keyring)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut group = Group::spawn(cmd);
        let mut line = String::new();
        BufReader::new(group.take_stdout())
            .read_line(&mut line)
            .unwrap();
        let endpoints: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON line: {line:?}: {e}"));
        CliWorld {
            _proc: group,
            endpoints,
            dirs,
            keyring,
        }
    }

    /// `postern --sandbox ARGS…` in this world.
    pub fn postern(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(cli_binary());
        cmd.arg("--sandbox")
            .args(args)
            .envs(self.dirs.env())
            .env("POSTERN_KEYRING_SERVICE", &self.keyring);
        cmd
    }

    /// Runs a command to its end with `stdin`.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .postern(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn endpoint(&self, key: &str) -> String {
        match &self.endpoints[key] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// `postern authorize --provider sandbox`, $BROWSER recording the consent URL and a real
    /// Chromium answering it.
    pub async fn authorize(&self, consent: &Consent) -> Output {
        let record = self.dirs.root.path().join("browser-url");
        let _ = std::fs::remove_file(&record);
        let script = self.dirs.root.path().join("browser.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", record.display()),
        )
        .unwrap();
        make_executable(&script);
        let child = self
            .postern(&["authorize", "--provider", "sandbox"])
            .env("BROWSER", &script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let url = wait_for_file(&record, Duration::from_secs(30));
        let browser = Browser::start().await;
        browser.consent(&url, consent).await;
        browser.close().await;
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap()
    }

    pub async fn admin_get(&self, path: &str) -> serde_json::Value {
        let url = format!("{}{path}", self.endpoint("admin_endpoint"));
        reqwest::get(&url)
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .json()
            .await
            .unwrap()
    }

    pub async fn admin_post(&self, path: &str, body: serde_json::Value) {
        let url = format!("{}{path}", self.endpoint("admin_endpoint"));
        reqwest::Client::new()
            .post(&url)
            .json(&body)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    }

    pub async fn mailbox(&self) -> Vec<serde_json::Value> {
        self.admin_get("/mailbox")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The sandbox's request count `name` (0 when never counted).
    pub async fn count(&self, name: &str) -> u64 {
        self.admin_get("/counts").await[name].as_u64().unwrap_or(0)
    }

    /// The outbox as `postern outbox --json` prints it.
    pub fn outbox(&self) -> serde_json::Value {
        let out = self.run(&["outbox", "--json"], b"");
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

pub fn wait_for_file(path: &Path, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if !s.is_empty() {
                return s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
