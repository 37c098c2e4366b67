//! `postern sandbox` as a real child process, and the `postern --sandbox …` commands of one
//! test run against it: private folders, a private keyring service, the sandbox's admin API.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use postern_sandbox::Profile;

use super::{cli_binary, require_desktop, AppDirs, Group};
use postern_testkit::{Browser, Plan as Consent};

/// `postern sandbox` running as a child, with the folders and keyring service of one test.
pub struct Sandbox {
    _proc: Group,
    endpoints: serde_json::Value,
    pub dirs: AppDirs,
    pub keyring: String,
    http: reqwest::Client,
}

impl Sandbox {
    /// The google profile with Google's token lifetime.
    pub fn start(name: &str) -> Sandbox {
        Sandbox::start_with(name, Profile::Google, None)
    }

    /// `postern sandbox --profile PROFILE [--access-token-lifetime SECS]`.
    pub fn start_with(name: &str, profile: Profile, token_lifetime: Option<u64>) -> Sandbox {
        require_desktop();
        let dirs = AppDirs::new();
        let keyring = format!("postern-test-cli-{name}-{}", std::process::id());
        let mut cmd = Command::new(cli_binary());
        cmd.args(["sandbox", "--profile", &profile.to_string()])
            .envs(dirs.env())
            .env("POSTERN_KEYRING_SERVICE", &keyring)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(secs) = token_lifetime {
            cmd.args(["--access-token-lifetime", &secs.to_string()]);
        }
        let mut group = Group::spawn(cmd);
        let stdout = group.take_stdout();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let endpoints: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON line: {line:?}: {e}"));
        assert_eq!(
            endpoints["profile"],
            profile.to_string(),
            "the sandbox plays the profile asked for: {endpoints}"
        );
        Sandbox {
            _proc: group,
            endpoints,
            dirs,
            keyring,
            http: reqwest::Client::new(),
        }
    }

    /// `postern --sandbox ARGS…`: the sandbox's world, apart from the person's accounts.
    pub fn postern(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(cli_binary());
        cmd.arg("--sandbox")
            .args(args)
            .envs(self.dirs.env())
            .env("POSTERN_KEYRING_SERVICE", &self.keyring);
        cmd
    }

    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .postern(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        postern_testkit::feed(&mut child, stdin);
        child.wait_with_output().unwrap()
    }

    /// `postern ARGS…` without `--sandbox`: the person's own world, with this test's folders.
    pub fn run_own_world(&self, args: &[&str]) -> Output {
        Command::new(cli_binary())
            .args(args)
            .envs(self.dirs.env())
            .env("POSTERN_KEYRING_SERVICE", &self.keyring)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// The keyring service the command line's sandbox world keeps its secrets under.
    pub fn world_keyring(&self) -> String {
        format!("{}-sandbox-cli", self.keyring)
    }

    pub fn endpoint(&self, key: &str) -> String {
        match &self.endpoints[key] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// `postern authorize --provider sandbox`, with $BROWSER recording the URL that `open` is
    /// handed and a real Chromium answering it.
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
        assert!(
            url.starts_with(&self.endpoint("authorization_endpoint")),
            "consent URL: {url}"
        );
        let browser = Browser::start().await;
        browser.consent(&url, consent).await;
        let shown = browser.page_text().await;
        browser.close().await;
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        assert!(
            !shown.is_empty(),
            "the browser tab shows a page after the redirect"
        );
        out
    }

    /// A request to `<admin>/PATH` with the admin token of the sandbox's JSON line.
    pub fn admin_request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/{}",
            self.endpoint("admin_endpoint"),
            path.trim_start_matches('/')
        );
        self.http
            .request(method, url)
            .bearer_auth(self.endpoint("admin_token"))
    }

    /// `GET <admin>/PATH` as JSON.
    pub async fn admin_get(&self, path: &str) -> serde_json::Value {
        let url = format!("{}/{path}", self.endpoint("admin_endpoint"));
        self.admin_request(reqwest::Method::GET, path)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// `POST <admin>/PATH` with a JSON body.
    pub async fn admin_post(&self, path: &str, body: serde_json::Value) {
        let url = format!("{}/{path}", self.endpoint("admin_endpoint"));
        self.admin_request(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    }

    pub async fn mailbox(&self) -> Vec<serde_json::Value> {
        let v = self.admin_get("mailbox").await;
        v.as_array().cloned().unwrap_or_default()
    }

    /// One of the sandbox's counters (sandbox/README.md, "Count names"); 0 when never touched.
    pub async fn count(&self, name: &str) -> i64 {
        self.admin_get("counts").await[name].as_i64().unwrap_or(0)
    }

    /// How many grants of the address still have a working refresh token at the provider.
    pub async fn live_grants(&self, email: &str) -> i64 {
        let v = self.admin_get(&format!("live-grants?email={email}")).await;
        v["live_grants"]
            .as_i64()
            .unwrap_or_else(|| panic!("live-grants: {v}"))
    }
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

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// Fails when `needle` occurs in any file under `root`.
pub fn assert_no_file_contains(root: &Path, needle: &str) {
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                assert!(!found, "a secret was written to {}", path.display());
            }
        }
    }
}
