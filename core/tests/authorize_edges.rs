//! The flow's edges: a taken port, cancel and timeout freeing the port, no browser (the URL
//! is shown and the pasted redirect completes the flow), and the production launcher.

use std::sync::Arc;
use std::time::Duration;

use postern_core::events::{AuthorizePhase, Event};
use postern_core::{Error, SystemLauncher};
use postern_testkit::{free_port, Harness, Options, RecordingLauncher};

/// Waits for the first authorize progress event with `phase`.
async fn wait_phase(
    rx: &mut tokio::sync::broadcast::Receiver<Event>,
    phase: AuthorizePhase,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let e = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the phase is published")
            .expect("events");
        if let Event::Authorize(p) = e {
            if p.phase == phase {
                return p.url;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let h = Harness::start_with(Options {
        loopback_port: Some(port),
        ..Options::default()
    })
    .await;
    let launcher = Arc::new(RecordingLauncher::default());
    let err = h
        .app
        .authorize("sandbox", None, launcher.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::PortInUse { port: p } if p == port),
        "{err:?}"
    );
    assert_eq!(
        err.explain().message,
        format!("Port {port} on 127.0.0.1 is already in use.")
    );
    assert!(
        launcher.urls.lock().unwrap().is_empty(),
        "no browser was opened"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_timeout_end_the_flow_and_free_the_port() {
    let port = free_port();
    let h = Harness::start_with(Options {
        loopback_port: Some(port),
        authorize_timeout: Duration::from_secs(2),
        ..Options::default()
    })
    .await;
    let mut rx = h.app.subscribe();
    let app = h.app.clone();
    let flow = tokio::spawn(async move {
        app.authorize("sandbox", None, Arc::new(RecordingLauncher::default()))
            .await
    });
    wait_phase(&mut rx, AuthorizePhase::BrowserOpened).await;
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_err(),
        "listening while in flight"
    );
    h.app.cancel_authorize();
    let err = flow.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::AuthorizationCancelled), "{err:?}");
    drop(std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free after cancel"));

    let err = h
        .app
        .authorize("sandbox", None, Arc::new(RecordingLauncher::default()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::AuthorizationTimedOut { secs: 2 }),
        "{err:?}"
    );
    drop(
        std::net::TcpListener::bind(("127.0.0.1", port))
            .expect("the port is free after the timeout"),
    );
    h.finish().await;
}

fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let attr = |chunk: &str, name: &str| {
        chunk
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(|s| {
                s.replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&amp;", "&")
            })
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|c| Some((attr(c, "name")?, attr(c, "value")?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_browser_the_url_is_shown_and_the_pasted_redirect_completes_the_flow() {
    let h = Harness::start().await;
    let mut rx = h.app.subscribe();
    let app = h.app.clone();
    let failing = Arc::new(RecordingLauncher {
        fail: true,
        ..Default::default()
    });
    let flow = tokio::spawn(async move { app.authorize("sandbox", None, failing).await });
    let url = wait_phase(&mut rx, AuthorizePhase::Waiting)
        .await
        .expect("the URL is shown");

    // The person opens the URL elsewhere and copies the address the browser was sent to.
    let pem = std::fs::read(&h.sandbox.endpoints().ca_cert).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(&url).send().await.unwrap().text().await.unwrap();
    let mut form = hidden_fields(&page);
    form.push(("email".into(), "ivan@sandbox.test".into()));
    form.push(("decision".into(), "allow".into()));
    for s in ["openid", "email", postern_core::provider::MAIL_SCOPE] {
        form.push(("scope".into(), s.into()));
    }
    let resp = http.post(&url).form(&form).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    h.remember(&code);

    let forged = location.replace("state=", "state=x");
    assert_eq!(
        h.app.complete_authorize(&forged).unwrap_err().code(),
        "redirect_invalid"
    );
    h.app
        .complete_authorize(&location)
        .expect("the pasted redirect is taken");
    let account = flow.await.unwrap().expect("authorized through the paste");
    assert_eq!(account.address, "ivan@sandbox.test");
    h.remember_tokens(&account.address);
    assert_eq!(
        h.app.complete_authorize(&location).unwrap_err().code(),
        "no_authorization"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_launcher_hands_browser_exactly_the_consent_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("opened.txt");
    let script = dir.path().join("record-browser");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$*\" > '{}.tmp' && mv '{0}.tmp' '{0}'\n",
            out.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Only this test in this binary reads BROWSER.
    std::env::set_var("BROWSER", &script);

    let h = Harness::start().await;
    let mut rx = h.app.subscribe();
    let app = h.app.clone();
    let flow = tokio::spawn(async move {
        app.authorize("sandbox", None, Arc::new(SystemLauncher))
            .await
    });
    let url = wait_phase(&mut rx, AuthorizePhase::BrowserOpened)
        .await
        .unwrap();
    let mut opened = None;
    for _ in 0..100 {
        if let Ok(s) = std::fs::read_to_string(&out) {
            opened = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        opened.as_deref(),
        Some(url.as_str()),
        "BROWSER got exactly the consent URL"
    );
    h.app.cancel_authorize();
    assert!(matches!(
        flow.await.unwrap(),
        Err(Error::AuthorizationCancelled)
    ));
    h.finish().await;
}
