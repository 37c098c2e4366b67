//! The command line against `postern sandbox` (a real child process, real TCP and TLS), with
//! the harness keychain and a real Chromium answering the consent page; msmtp as a real mail
//! client that takes its tokens from `postern token`. The person's journey runs against both
//! of the sandbox's profiles: Google's shapes and a strict, standards-conformant provider.

#[path = "cli/client.rs"]
mod client;
mod common;
#[path = "cli/refresh.rs"]
mod refresh;
#[path = "cli/revocation.rs"]
mod revocation;
#[path = "cli/sandbox_admin.rs"]
mod sandbox_admin;
#[path = "cli/sandbox_child.rs"]
mod sandbox_child;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cli_sandbox::{assert_no_file_contains, text, Profile, Sandbox};
use common::msmtp::Msmtp;
use common::*;
use postern_testkit::Plan as Consent;

#[tokio::test(flavor = "multi_thread")]
async fn authorize_token_send_and_revoke_against_a_google_like_provider() {
    authorize_token_send_and_revoke(Profile::Google).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn authorize_token_send_and_revoke_against_a_strict_standard_provider() {
    authorize_token_send_and_revoke(Profile::Strict).await;
}

/// authorize → status → token → send → outbox → revoke, each answer checked against what the
/// provider itself says.
async fn authorize_token_send_and_revoke(profile: Profile) {
    let sandbox = Sandbox::start_with(&format!("flow-{profile}"), profile, None);
    let me = "cli-flow@sandbox.test";
    let out = sandbox.authorize(&Consent::allow(me)).await;
    assert!(
        out.status.success(),
        "authorize failed: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains(me),
        "authorize prints the account: {}",
        text(&out.stdout)
    );
    // A sandbox grant lives in the sandbox's world, never beside the person's real accounts.
    let own = sandbox.run_own_world(&["accounts", "--json"]);
    assert!(own.status.success(), "{}", text(&own.stderr));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&own.stdout).unwrap(),
        serde_json::json!([]),
        "the person's own accounts are untouched"
    );

    let out = sandbox.run(&["status", me, "--json"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["state"], "valid", "{status}");
    // Google's tokeninfo confirms the audience; a standard provider has no tokeninfo, and
    // Postern then claims nothing either way.
    let audience = match profile {
        Profile::Google => serde_json::Value::Bool(true),
        Profile::Strict => serde_json::Value::Null,
    };
    assert_eq!(status["audienceOk"], audience, "{status}");
    assert_eq!(sandbox.live_grants(me).await, 1);
    assert!(
        status["scopesMissing"].as_array().unwrap().is_empty(),
        "{status}"
    );

    let out = sandbox.run(&["token", me], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_string();
    assert!(token.len() > 20, "a token, not {token:?}");

    let body = b"Hello from the command line.\n";
    let out = sandbox.run(
        &[
            "send",
            "--from",
            me,
            "--to",
            "friend@example.com",
            "--subject",
            "CLI hello",
        ],
        body,
    );
    assert!(out.status.success(), "send failed: {}", text(&out.stderr));
    let mailbox = sandbox.mailbox().await;
    assert_eq!(mailbox.len(), 1, "{mailbox:?}");
    assert_eq!(mailbox[0]["subject"], "CLI hello");

    let out = sandbox.run(&["outbox", "--json"], b"");
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items[0]["state"], "sent", "{items}");

    // A whole RFC 5322 message, as mutt or a script hands it over: sender and recipients from
    // its headers, its Message-ID kept.
    let raw = format!(
        "From: {me}\r\nTo: other@example.com\r\nSubject: raw one\r\n\
         Message-ID: <raw-1@sandbox.test>\r\n\r\nRaw body.\r\n"
    );
    let out = sandbox.run(&["send", "--raw"], raw.as_bytes());
    assert!(
        out.status.success(),
        "send --raw failed: {}",
        text(&out.stderr)
    );
    let mailbox = sandbox.mailbox().await;
    assert_eq!(mailbox.len(), 2, "{mailbox:?}");
    assert_eq!(mailbox[1]["subject"], "raw one");
    assert_eq!(mailbox[1]["recipients"][0], "other@example.com");
    assert!(
        mailbox[1]["message_id"]
            .to_string()
            .contains("raw-1@sandbox.test"),
        "{}",
        mailbox[1]
    );

    // A bad address is refused before anything is queued, and the error names it.
    let out = sandbox.run(
        &["send", "--from", me, "--to", "bob@", "--subject", "x"],
        b"body",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("bob@"),
        "the error names the bad address: {}",
        text(&out.stderr)
    );
    let out = sandbox.run(&["outbox", "--json"], b"");
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        items.as_array().map(Vec::len),
        Some(2),
        "nothing more was queued: {items}"
    );

    let out = sandbox.run(&["revoke", me], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Revoked"),
        "revoke prints the new state: {}",
        text(&out.stdout)
    );
    assert_eq!(
        sandbox.live_grants(me).await,
        0,
        "the provider ended the grant, as Postern says"
    );
    let out = sandbox.run(&["token", me], b"");
    assert_eq!(
        out.status.code(),
        Some(3),
        "a revoked account needs authorizing: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("What to do:"),
        "{}",
        text(&out.stderr)
    );

    // No token, refresh token or client secret in any file the run left behind.
    assert_no_file_contains(sandbox.dirs.root.path(), &token);
}

#[tokio::test(flavor = "multi_thread")]
async fn msmtp_sends_with_tokens_from_postern() {
    let sandbox = Sandbox::start("msmtp");
    let me = "cli-msmtp@sandbox.test";
    let out = sandbox.authorize(&Consent::allow(me)).await;
    assert!(
        out.status.success(),
        "authorize failed: {}",
        text(&out.stderr)
    );

    let eval = format!(
        "env POSTERN_DATA_DIR={} POSTERN_CONFIG_DIR={} POSTERN_KEYRING_SERVICE={} {} --sandbox token {me}",
        sandbox.dirs.data().display(),
        sandbox.dirs.config().display(),
        sandbox.keyring,
        cli_binary().display()
    );
    let msmtp = Msmtp::configure(
        sandbox.dirs.root.path(),
        &sandbox.endpoint("smtp_tls_port"),
        &sandbox.endpoint("ca_cert"),
        me,
        &eval,
    );
    let message = format!("From: {me}\nTo: friend@example.com\nSubject: via msmtp\n\nHi.\n");
    let out = msmtp.send("friend@example.com", message.as_bytes());
    assert!(out.status.success(), "msmtp failed: {}", text(&out.stderr));
    let mailbox = sandbox.mailbox().await;
    assert_eq!(mailbox.len(), 1);
    assert_eq!(mailbox[0]["subject"], "via msmtp");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_plain_error_and_its_exit_code() {
    let sandbox = Sandbox::start("input");
    let out = sandbox.run(&["token", "nobody@sandbox.test"], b"");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("What to do:"));

    let out = sandbox.run(
        &["send", "--attach", "/nonexistent/file", "--to", "a@b.c"],
        b"x",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot read it to attach: No such file or directory")
            && !err.contains("os error"),
        "plain words: {err}"
    );

    for action in ["retry", "discard"] {
        let out = sandbox.run(&["outbox", action, "99"], b"");
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("has no message 99"));
    }

    let out = sandbox.run(&["--help"], b"");
    let help = text(&out.stdout);
    for code in ["0  done", "3  the account needs you", "4  the OS keychain"] {
        assert!(help.contains(code), "--help documents exit codes: {help}");
    }
}

#[test]
fn without_a_display_the_app_says_so_in_one_line() {
    let dirs = AppDirs::new();
    let out = Command::new(cli_binary())
        .envs(dirs.env())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(
        err.trim().lines().count(),
        1,
        "one line, not a backtrace: {err}"
    );
    assert!(err.contains("no display"), "{err}");
}

#[test]
fn without_postern_sandbox_running_the_sandbox_provider_is_explained() {
    require_desktop();
    let dirs = AppDirs::new();
    let out = Command::new(cli_binary())
        .args(["authorize", "--provider", "sandbox", "--no-browser"])
        .envs(dirs.env())
        .env(
            "POSTERN_KEYRING_SERVICE",
            format!("postern-test-cli-nosb-{}", std::process::id()),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("The sandbox is not running."), "{err}");
    assert!(
        err.contains("What to do: Start it with `postern sandbox`"),
        "{err}"
    );
    assert!(
        !err.contains("browser is open"),
        "nothing was opened: {err}"
    );
}

/// Answers the sandbox's consent page without a browser, as `curl` would: the form's fields as
/// the page fills them, with Allow. Returns the address the browser would be sent to.
async fn allow_without_browser(url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(url).send().await.unwrap().text().await.unwrap();
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        tag[start..].split('"').next().map(str::to_owned)
    };
    let mut form: Vec<(String, String)> = page
        .split("<input")
        .skip(1)
        .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default())))
        .collect();
    form.push(("decision".into(), "allow".into()));
    let reply = http.post(url).form(&form).send().await.unwrap();
    assert!(
        reply.status().is_redirection(),
        "consent: {}",
        reply.status()
    );
    reply.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_paste_is_explained_and_the_right_one_still_taken() {
    let sandbox = Sandbox::start("paste");
    let mut cmd = sandbox.postern(&["authorize", "--provider", "sandbox", "--no-browser"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A group, so that a failing test does not leave `postern authorize` waiting behind it.
    let mut child = Group::spawn(cmd);
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.take_stderr();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |want: &dyn Fn(&str) -> bool| loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("postern authorize kept talking");
        if want(&line) {
            return line;
        }
    };
    let consent = sandbox.endpoint("authorization_endpoint");
    let url = wait_for(&|l| l.trim().starts_with(&consent))
        .trim()
        .to_owned();
    let mut stdin = child.take_stdin();
    stdin.write_all(b"not an address\n").unwrap();
    wait_for(&|l| l.contains("What to do:"));
    wait_for(&|l| l.contains("Paste the address again"));
    let redirect = allow_without_browser(&url).await;
    stdin.write_all(format!("{redirect}\n").as_bytes()).unwrap();
    let mut stdout = child.take_stdout();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "authorize did not take the corrected paste"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "authorize: {status:?}");
    let mut shown = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut shown).unwrap();
    assert!(shown.contains("Valid for"), "{shown}");
}
