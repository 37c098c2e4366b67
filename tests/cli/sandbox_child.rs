//! Sandbox mode's emulator as a child of the desktop app (src-tauri/src/sandbox_child.rs): it
//! says where it listens on a pipe, answers there, and ends by itself once the app that
//! started it has ended, also when that app was killed, so nothing is left running.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_child_answers_and_ends_after_its_app_was_killed() {
    let state = tempfile::tempdir().unwrap();
    // A shell plays the app: it starts the child naming itself as the parent, says the child's
    // process ID, and waits; the test then kills it as a crash would.
    let mut app = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" sandbox-child --state-dir "$1" --parent $$ & echo "pid $!"; wait"#)
        .arg(cli_binary())
        .arg(state.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(app.stdout.take().unwrap()).lines();
    let (mut child, mut endpoints) = (None, None);
    while child.is_none() || endpoints.is_none() {
        let line = lines.next().expect("the child ended early").unwrap();
        match line.strip_prefix("pid ") {
            Some(pid) => child = Some(pid.parse::<u32>().unwrap()),
            None => endpoints = Some(serde_json::from_str::<serde_json::Value>(&line).unwrap()),
        }
    }
    let (child, endpoints) = (child.unwrap(), endpoints.unwrap());
    let secret = endpoints["client_secret"].as_str().unwrap_or("").to_owned();
    assert!(
        !secret.is_empty(),
        "the child tells its client secret on the pipe"
    );
    for entry in std::fs::read_dir(state.path()).unwrap() {
        let path = entry.unwrap().path();
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds the client secret",
                path.display()
            );
        }
    }

    // It answers where it said, over TLS checked against its own CA: tokeninfo refuses a
    // token it never issued.
    let ca = std::fs::read(endpoints["ca_cert"].as_str().unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let answer = http
        .get(endpoints["tokeninfo_endpoint"].as_str().unwrap())
        .query(&[("access_token", "never-issued")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status().as_u16(),
        400,
        "{}",
        answer.text().await.unwrap()
    );
    assert!(desktop::alive(child));

    app.kill().unwrap();
    app.wait().unwrap();
    let since = Instant::now();
    while desktop::alive(child) && since.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !desktop::alive(child),
        "the sandbox child (pid {child}) still runs {:?} after its app was killed",
        since.elapsed()
    );
}

#[test]
fn a_sandbox_child_whose_app_already_ended_does_not_start() {
    let state = tempfile::tempdir().unwrap();
    // Process ID 1 is never this test's own process: the named app is not the parent.
    let out = Command::new(cli_binary())
        .args(["sandbox-child", "--parent", "1", "--state-dir"])
        .arg(state.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "it said where it listens: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
