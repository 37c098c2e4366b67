//! The consent page in a real headless Chromium (through chromedriver): a person types an
//! address and presses Allow or Deny, the browser lands on a loopback listener, and the
//! code it carries buys a token that sends mail through smtplib.

mod common;

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{pkce, Harness, SCOPES};
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        // fantoccini's rustls sees both ring and aws-lc-rs in this workspace: pick one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver must be installed (Debian: chromium-driver; see scripts/bootstrap)",
            );
        let profile = tempfile::tempdir().unwrap();
        let caps = serde_json::json!({"goog:chromeOptions": {"args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            format!("--user-data-dir={}", profile.path().display()),
        ]}});
        let caps = caps.as_object().unwrap().clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let attempt = ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match attempt {
                Ok(client) => break client,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(e) => panic!("chromedriver did not start Chromium: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Stops chromedriver (by its pid) even when a test panics.
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A one-shot loopback redirect catcher, like a desktop app's: returns the request target.
async fn catch_redirect(listener: TcpListener) -> String {
    let (mut tcp, _) = listener.accept().await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut chunk).await.unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = "<html><body><p id=done>You can close this window.</p></body></html>";
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(reply.as_bytes()).await.unwrap();
    let head = String::from_utf8_lossy(&buf).into_owned();
    head.split(' ').nth(1).unwrap_or_default().to_owned()
}

async fn answer(browser: &Browser, url: &str, email: &str, button: &str) {
    answer_choosing(browser, url, email, None, button).await
}

/// Fills the page in, picks `duration` (an option value) in `#access-duration` when given,
/// and presses `button`.
async fn answer_choosing(
    browser: &Browser,
    url: &str,
    email: &str,
    duration: Option<&str>,
    button: &str,
) {
    let c = &browser.client;
    c.goto(url).await.expect("open the consent page");
    let field = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#email"))
        .await
        .expect("#email");
    assert_eq!(
        field.prop("value").await.unwrap().as_deref(),
        Some("tester@sandbox.test")
    );
    field.clear().await.unwrap();
    field.send_keys(email).await.unwrap();
    let boxes = c.find_all(Locator::Css("input.scope")).await.unwrap();
    assert_eq!(boxes.len(), 3, "one checkbox per requested scope");
    let select = c
        .find(Locator::Css("select#access-duration"))
        .await
        .unwrap();
    assert_eq!(
        select.prop("value").await.unwrap().as_deref(),
        Some(""),
        "\"Until I revoke access\" is the default"
    );
    if let Some(value) = duration {
        select.select_by_value(value).await.unwrap();
    }
    c.find(Locator::Css(button))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("done"))
        .await
        .expect("the browser reached the loopback redirect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_allows_in_chromium_and_the_token_sends_mail() {
    let h = Harness::start().await;
    let browser = Browser::start().await;
    let ep = h.ep().clone();

    // Allow.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr().unwrap().port()
    );
    let caught = tokio::spawn(catch_redirect(listener));
    let (verifier, challenge) = pkce();
    let url = h.auth_url(&[
        ("client_id", &ep.client_id),
        ("redirect_uri", &redirect),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "browser-state"),
        ("access_type", "offline"),
    ]);
    answer(&browser, &url, "person@example.com", "#allow").await;
    let target = caught.await.unwrap();
    let query = url::Url::parse(&format!("http://x{target}")).unwrap();
    let param = |name: &str| {
        query
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some("browser-state"));
    let code = param("code").expect("a code in the redirect");
    let (status, body) = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &ep.client_id),
            ("client_secret", &ep.client_secret),
            ("redirect_uri", &redirect),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let out = h
        .python(
            &[("TOKEN", &token)],
            r#"
s = smtps(); s.ehlo()
rec(s.auth('XOAUTH2', lambda _=None: 'user=person@example.com\x01auth=Bearer %s\x01\x01' % os.environ['TOKEN']))
s.sendmail('person@example.com', ['friend@example.org'], b'Subject: From the browser\r\n\r\nHi.\r\n')
s.quit()
"#,
        )
        .await;
    assert_eq!(out[0], "235 2.7.0 Accepted <sid> - gsmtp");
    let mailbox = h.sandbox.mailbox();
    assert_eq!(mailbox[0].account, "person@example.com");
    assert_eq!(mailbox[0].subject.as_deref(), Some("From the browser"));

    // Deny.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    let caught = tokio::spawn(catch_redirect(listener));
    let url = h.auth_url(&[
        ("client_id", &ep.client_id),
        ("redirect_uri", &redirect),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "s2"),
    ]);
    answer(&browser, &url, "person@example.com", "#deny").await;
    let target = caught.await.unwrap();
    assert_eq!(target, "/?error=access_denied&state=s2");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_chooses_one_hour_of_access_and_the_grant_ends_after_it() {
    let h = Harness::start().await;
    let browser = Browser::start().await;
    let ep = h.ep().clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!(
        "http://127.0.0.1:{}/cb",
        listener.local_addr().unwrap().port()
    );
    let caught = tokio::spawn(catch_redirect(listener));
    let (verifier, challenge) = pkce();
    let url = h.auth_url(&[
        ("client_id", &ep.client_id),
        ("redirect_uri", &redirect),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("access_type", "offline"),
    ]);
    answer_choosing(&browser, &url, "hour@example.com", Some("3600"), "#allow").await;
    let target = caught.await.unwrap();
    let query = url::Url::parse(&format!("http://x{target}")).unwrap();
    let code = query
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code in the redirect");
    let (status, body) = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &ep.client_id),
            ("client_secret", &ep.client_secret),
            ("redirect_uri", &redirect),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let left = body["refresh_token_expires_in"]
        .as_i64()
        .expect("time-based access");
    assert!((3590..=3600).contains(&left), "{left}");
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    h.sandbox.advance_clock(Duration::from_secs(3601));
    let (status, body) = h.refresh(&refresh).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Token has been expired or revoked."))
    );
    assert_eq!(h.sandbox.live_grants("hour@example.com"), 0);
    browser.close().await;
}
