//! `make bench`: Postern's speed as ratios against baselines measured in the same run.
//!
//! (a) 200 messages through Postern's pooled SMTP transport, one after another, vs the same
//!     200 sent by msmtp with `passwordeval "postern token …"` (a process, a token lookup and
//!     a TLS connection each). Target: at least 10x msmtp's messages per second.
//! (b) `postern token ADDRESS` with a cached access token vs `secret-tool lookup` of one
//!     secret: the floor of any program that reads the keychain. Target: within 2x.
//! (c) One `postern send` process per message vs one msmtp process per message (like for like).
//! (d) The pooled path's cost per 10 KB message on a warm connection, in ms (1,000 messages).
//!     Target: within 3 ms on the development machine.
//! (e) Peak RSS of `postern send --attach` of 25 MB (`/usr/bin/time -v`) as a ratio to the
//!     encoded message. Target: within 2.5x.
//! (f) `postern.db` and its WAL after (d)'s 1,000 messages of 10 KB and (e)'s one of 25 MB,
//!     with this process still holding the database open.
//!
//! Every line is printed with the machine's `secret-tool lookup` time beside it, so figures
//! from different machines can be compared.
//!
//! Runs against `postern sandbox` (a child process) inside `scripts/with-desktop`, with its own
//! folders and keyring service, after one real authorization in headless Chromium.

#[path = "../tests/common/msmtp.rs"]
mod msmtp;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use msmtp::Msmtp;
use postern_core::auth::flow::Launcher;
use postern_core::settings::Settings;
use postern_core::{App, Draft};
use postern_testkit::{Browser, Plan as Consent};

const MESSAGES: usize = 200;
const TOKEN_CALLS: usize = 40;
const PROCESSES: usize = 30;
const POOLED_10K: usize = 1_000;
const ATTACHMENT: usize = 25 * 1024 * 1024;
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

/// `postern --sandbox`: a command in the sandbox's world.
fn postern_in_sandbox() -> Command {
    let mut c = postern();
    c.arg("--sandbox");
    c
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

/// A 10 KB message.
fn draft_10k(i: usize) -> Draft {
    Draft {
        text: "Ten kilobytes of an ordinary message, line by line.\n".repeat(200),
        ..draft(i)
    }
}

/// `postern send` of a short message, as one process.
fn postern_send(subject: &str) -> std::process::Output {
    let mut child = postern_in_sandbox()
        .args(["send", "--from", ME, "--to", "friend@example.com"])
        .args(["--subject", subject])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("A short message, as most are.\n".repeat(20).as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Peak RSS in bytes of `postern send --attach FILE`, from `/usr/bin/time -v`.
fn send_attachment_rss(file: &std::path::Path) -> u64 {
    let mut child = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_postern"))
        .args([
            "--sandbox",
            "send",
            "--from",
            ME,
            "--to",
            "friend@example.com",
        ])
        .args(["--subject", "25 MB", "--attach"])
        .arg(file)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/time (Debian package time)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"attached\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "postern send --attach: {report}");
    let kb: u64 = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .expect("time -v reports the maximum resident set size");
    kb * 1024
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn size_of(path: std::path::PathBuf) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
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

    // Gmail's 500 recipients a day, which the sandbox plays, would stop the bench halfway.
    let admin = endpoints["admin_endpoint"].as_str().unwrap();
    let token = endpoints["admin_token"].as_str().unwrap();
    let raised = reqwest::Client::new()
        .post(format!("{admin}/limits/daily-recipients"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "limit": 1_000_000 }))
        .send()
        .await
        .unwrap();
    assert!(raised.status().is_success());

    // The command line's sandbox world (`postern --sandbox …`), where `postern sandbox` keeps
    // the client secret.
    let base = Settings::from_env().unwrap();
    let provider = postern_app::foreground_sandbox::running_provider(&base)
        .expect("postern sandbox is running");
    let mut settings = postern_app::startup::sandbox_world(&base);
    let data = settings.data_dir.clone();
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
    let eval = format!("{} --sandbox token {ME}", env!("CARGO_BIN_EXE_postern"));
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

    // (c) a process per message: `postern send` vs msmtp (its token from `postern token`).
    let started = Instant::now();
    for i in 0..PROCESSES {
        let out = postern_send(&format!("process {i}"));
        assert!(
            out.status.success(),
            "postern send {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let per_process = started.elapsed();
    let started = Instant::now();
    for i in 0..PROCESSES {
        let out = client.send("friend@example.com", message.as_bytes());
        assert!(out.status.success(), "msmtp message {i}");
    }
    let msmtp_processes = started.elapsed();

    // (d) the pooled path, 10 KB messages on a warm connection.
    app.send_and_wait(draft_10k(0), Duration::from_secs(60))
        .await
        .unwrap();
    let started = Instant::now();
    for i in 0..POOLED_10K {
        let item = app
            .send_and_wait(draft_10k(i), Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(item.state).unwrap(),
            "sent",
            "10 KB message {i}: {:?}",
            item.last_error
        );
    }
    let pooled_10k = started.elapsed();

    // (e) peak RSS of one process sending a 25 MB attachment of random-looking bytes.
    let file = root.path().join("attachment.bin");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..ATTACHMENT)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(&file, &bytes).unwrap();
    drop(bytes);
    let rss = send_attachment_rss(&file);
    let encoded = app
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.subject == "25 MB")
        .expect("the 25 MB message is in the outbox")
        .size_bytes;

    // (f) the database and its WAL, this process still holding them open.
    let db = size_of(data.join("postern.db"));
    let wal = size_of(data.join("postern.db-wal"));

    // (b) `postern token` with a cached token vs the keychain's floor.
    let started = Instant::now();
    for _ in 0..TOKEN_CALLS {
        let out = postern_in_sandbox().args(["token", ME]).output().unwrap();
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

    let lookup = per_call(floor, TOKEN_CALLS);
    let pooled_rate = MESSAGES as f64 / pooled.as_secs_f64();
    let msmtp_rate = MESSAGES as f64 / msmtp.as_secs_f64();
    println!("Postern benchmarks ({MESSAGES} messages, {TOKEN_CALLS} token calls; sandbox over TLS on 127.0.0.1)");
    println!(
        "(a) pooled transport: {pooled_rate:.1} msg/s ({:.1} ms each); msmtp + postern token: {msmtp_rate:.1} msg/s ({:.1} ms each); ratio {:.1}x (target >= 10x) [secret-tool lookup {lookup:.1} ms]",
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

    println!(
        "(c) one process per message: postern send {:.1} ms each; msmtp + postern token {:.1} ms each; ratio {:.2}x [secret-tool lookup {lookup:.1} ms]",
        per_call(per_process, PROCESSES),
        per_call(msmtp_processes, PROCESSES),
        msmtp_processes.as_secs_f64() / per_process.as_secs_f64()
    );
    println!(
        "(d) pooled, 10 KB on a warm connection: {:.2} ms per message over {POOLED_10K} (target <= 3 ms) [secret-tool lookup {lookup:.1} ms]",
        per_call(pooled_10k, POOLED_10K)
    );
    println!(
        "(e) postern send --attach 25 MB: peak RSS {:.1} MB for a {:.1} MB encoded message; ratio {:.2}x (target <= 2.5x) [secret-tool lookup {lookup:.1} ms]",
        megabytes(rss),
        megabytes(encoded),
        rss as f64 / encoded as f64
    );
    println!(
        "(f) after {POOLED_10K} messages of 10 KB and one of 25 MB (and the others above): postern.db {:.1} MB, WAL {:.1} MB [secret-tool lookup {lookup:.1} ms]",
        megabytes(db),
        megabytes(wal)
    );

    let _ = Command::new("kill").arg(sandbox.id().to_string()).status();
    let _ = sandbox.wait();
}
