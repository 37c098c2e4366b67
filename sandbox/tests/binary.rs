//! The `postern-sandbox` binary: one JSON line with exactly the agreed keys, a working
//! server behind it, the profile and token-lifetime flags, and a clean exit on SIGTERM
//! and on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const KEYS: [&str; 15] = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "tokeninfo_endpoint",
    "userinfo_endpoint",
    "admin_endpoint",
    "smtp_host",
    "smtp_tls_port",
    "smtp_starttls_port",
    "ca_cert",
    "client_id",
    "client_secret",
    "profile",
    "admin_token",
];

fn spawn(state_dir: &std::path::Path) -> (Child, Value) {
    spawn_with(state_dir, &[])
}

fn spawn_with(state_dir: &std::path::Path, args: &[&str]) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_postern-sandbox"))
        .arg("--state-dir")
        .arg(state_dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next().and_then(Result::ok));
        // Anything more on stdout would break the one-line contract.
        assert!(lines.next().is_none(), "exactly one line on stdout");
    });
    let line = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            panic!("no line on stdout within 60 s");
        }
    };
    let value = serde_json::from_str(&line.expect("one line on stdout")).expect("JSON");
    (child, value)
}

fn signal_and_wait(child: &mut Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "clean exit on SIG{signal}: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no exit within 20 s of SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn prints_exactly_the_agreed_keys_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, v) = spawn(dir.path());
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(v["ca_cert"], dir.path().join("ca.pem").to_str().unwrap());
    assert!(std::fs::read_to_string(dir.path().join("ca.pem"))
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(v["smtp_host"], "127.0.0.1");
    assert_eq!(v["profile"], "google");
    assert!(v["smtp_tls_port"].as_u64().unwrap() > 0);
    assert!(v["issuer"]
        .as_str()
        .unwrap()
        .starts_with("https://127.0.0.1:"));
    assert!(v["client_id"]
        .as_str()
        .unwrap()
        .ends_with(".apps.googleusercontent.com"));

    // The admin endpoint answers (plain HTTP) with the line's token, and only with it.
    let admin = v["admin_endpoint"].as_str().unwrap().to_owned();
    let token = v["admin_token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 43, "256 bits, base64url: {}", token.len());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (with, without) = rt.block_on(async {
        let http = reqwest::Client::new();
        let counts = format!("{admin}/counts");
        let with = http.get(&counts).bearer_auth(&token).send().await.unwrap();
        let without = http.get(&counts).send().await.unwrap();
        (with.status().as_u16(), without.status().as_u16())
    });
    assert_eq!((with, without), (200, 401));

    signal_and_wait(&mut child, "TERM");
}

#[test]
fn stops_cleanly_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _) = spawn(dir.path());
    signal_and_wait(&mut child, "INT");
}

fn https_client(ca: &str) -> reqwest::Client {
    let pem = std::fs::read(ca).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap()
}

#[test]
fn the_strict_profile_and_a_short_token_lifetime_are_chosen_by_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, v) = spawn_with(
        dir.path(),
        &["--profile", "strict", "--access-token-lifetime", "60"],
    );
    assert_eq!(v["profile"], "strict");
    let issuer = v["issuer"].as_str().unwrap().to_owned();
    let admin = v["admin_endpoint"].as_str().unwrap().to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (discovery, profile) = rt.block_on(async {
        let http = https_client(v["ca_cert"].as_str().unwrap());
        let d: Value = http
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let p: Value = reqwest::Client::new()
            .get(format!("{admin}/profile"))
            .bearer_auth(v["admin_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (d, p)
    });
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        discovery["introspection_endpoint"],
        format!("{issuer}/introspect")
    );
    assert_eq!(profile["profile"], "strict");
    signal_and_wait(&mut child, "TERM");
}

#[test]
fn an_unknown_profile_is_refused_with_the_names_to_use() {
    let out = Command::new(env!("CARGO_BIN_EXE_postern-sandbox"))
        .args(["--profile", "okta"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no JSON line for a refused start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("google") && err.contains("strict"),
        "stderr names the profiles: {err}"
    );
}
