//! `make bench`: Postern's speed as ratios against baselines measured in the same run.
//!
//! (a) 200 messages through Postern's pooled SMTP transport, one after another, vs the same
//!     200 sent by msmtp with `passwordeval "postern token …"` (a process, a token lookup and
//!     a TLS connection each). Target: at least 10x msmtp's messages per second.
//! (b) `postern token ADDRESS` with a cached access token vs `secret-tool lookup` of one
//!     secret: the floor of any program that reads the keychain. Target: within 2x.
//!
//! Runs against `postern sandbox` (a child process) inside `scripts/with-desktop`, with its own
//! folders and keyring service, after one real authorization in headless Chromium.

#[path = "../tests/common/browser.rs"]
mod browser;
#[path = "../tests/common/msmtp.rs"]
mod msmtp;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use browser::{Browser, Consent};
use msmtp::Msmtp;
use postern_core::auth::flow::Launcher;
use postern_core::settings::Settings;
use postern_core::{App, Draft};

const MESSAGES: usize = 200;
const TOKEN_CALLS: usize = 40;
const ME: &str = "bench@sandbox.test";

/// Answers the consent page in headless Chromium, as a person would.
struct ChromiumLauncher;

impl Launcher for ChromiumLauncher {
    fn open(&self, url: &str) -> postern_core::Result<()> {
        let url = url.to_string();
        tokio::runtime::Handle::current().spawn(async move {
            let browser = Browser::start().await;
            browser.consent(&url, &Consent::allow(ME)).await;
            browser.close().await;
        });
        Ok(())
    }
}

fn postern() -> Command {
    Command::new(env!("CARGO_BIN_EXE_postern"))
}

fn draft(i: usize) -> Draft {
    Draft {
        from: ME.into(),
        to: "friend@example.com".into(),
        cc: String::new(),
        bcc: String::new(),
        subject: format!("bench {i}"),
        text: "A short message, as most are.\n".repeat(20),
        html: None,
        attachments: Vec::new(),
    }
}

fn per_call(total: Duration, n: usize) -> f64 {
    total.as_secs_f64() * 1000.0 / n as f64
}

#[tokio::main]
async fn main() {
    postern_app::install_tls_provider();
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run inside scripts/with-desktop (make bench does)"
    );
    let root = tempfile::tempdir().unwrap();
    let keyring = format!("postern-bench-{}", std::process::id());
    std::env::set_var("POSTERN_DATA_DIR", root.path().join("data"));
    std::env::set_var("POSTERN_CONFIG_DIR", root.path().join("config"));
    std::env::set_var("POSTERN_KEYRING_SERVICE", &keyring);

    // The sandbox as the command line knows it: `postern sandbox`, registered as provider "sandbox".
    let mut sandbox = postern()
        .arg("sandbox")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sandbox.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoints: serde_json::Value = serde_json::from_str(&line).unwrap();

    let mut settings = Settings::from_env().unwrap();
    let provider = postern_app::foreground_sandbox::running_provider(&settings)
        .expect("postern sandbox is running");
    settings.extra_providers.push(provider);
    let app = App::open(settings).await.unwrap();
    app.authorize("sandbox", Some(ME), Arc::new(ChromiumLauncher))
        .await
        .expect("authorize in Chromium");

    // (a) Postern's pooled transport: one connection, reused.
    app.send_and_wait(draft(0), Duration::from_secs(60))
        .await
        .unwrap(); // warm: TLS + AUTH once
    let started = Instant::now();
    for i in 0..MESSAGES {
        let item = app
            .send_and_wait(draft(i), Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(item.state).unwrap(),
            "sent",
            "message {i}"
        );
    }
    let pooled = started.elapsed();

    // (a) baseline: msmtp, a process and a connection per message, its token from `postern token`.
    let eval = format!("{} token {ME}", env!("CARGO_BIN_EXE_postern"));
    let client = Msmtp::configure(
        root.path(),
        &endpoints["smtp_tls_port"].to_string(),
        endpoints["ca_cert"].as_str().unwrap(),
        ME,
        &eval,
    );
    let message = format!(
        "From: {ME}\nTo: friend@example.com\nSubject: bench\n\n{}",
        "A short message, as most are.\n".repeat(20)
    );
    let started = Instant::now();
    for i in 0..MESSAGES {
        let out = client.send("friend@example.com", message.as_bytes());
        assert!(out.status.success(), "msmtp message {i}");
    }
    let msmtp = started.elapsed();

    // (b) `postern token` with a cached token vs the keychain's floor.
    let started = Instant::now();
    for _ in 0..TOKEN_CALLS {
        let out = postern().args(["token", ME]).output().unwrap();
        assert!(out.status.success());
    }
    let token = started.elapsed();
    let mut store = Command::new("secret-tool")
        .args([
            "store",
            "--label=postern bench",
            "service",
            &keyring,
            "account",
            "floor",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    store
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-secret-of-token-size-0123456789abcdef0123456789abcdef")
        .unwrap();
    assert!(store.wait().unwrap().success());
    let started = Instant::now();
    for _ in 0..TOKEN_CALLS {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", &keyring, "account", "floor"])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let floor = started.elapsed();

    let pooled_rate = MESSAGES as f64 / pooled.as_secs_f64();
    let msmtp_rate = MESSAGES as f64 / msmtp.as_secs_f64();
    println!("Postern benchmarks ({MESSAGES} messages, {TOKEN_CALLS} token calls; sandbox over TLS on 127.0.0.1)");
    println!(
        "(a) pooled transport: {pooled_rate:.1} msg/s ({:.1} ms each); msmtp + postern token: {msmtp_rate:.1} msg/s ({:.1} ms each); ratio {:.1}x (target >= 10x)",
        per_call(pooled, MESSAGES),
        per_call(msmtp, MESSAGES),
        pooled_rate / msmtp_rate
    );
    println!(
        "(b) postern token (cached): {:.1} ms/call; secret-tool lookup: {:.1} ms/call; ratio {:.2}x (target <= 2x)",
        per_call(token, TOKEN_CALLS),
        per_call(floor, TOKEN_CALLS),
        token.as_secs_f64() / floor.as_secs_f64()
    );

    let _ = Command::new("kill").arg(sandbox.id().to_string()).status();
    let _ = sandbox.wait();
}
