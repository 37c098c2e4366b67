//! The production launcher on a desktop whose opener fails (xdg-open with no browser set up):
//! the opener's error quotes its command line, and so the consent URL with its `state`; none
//! of that may reach the log, the progress event or the error the person sees.
//! Alone in its binary because it changes PATH and BROWSER for the whole process.

use std::sync::Arc;
use std::time::Duration;

use postern_core::events::{AuthorizePhase, Event};
use postern_core::{Error, SystemLauncher};
use postern_testkit::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_system_browser_keeps_the_state_out_of_logs_and_errors() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    let opener = dir.path().join("xdg-open");
    std::fs::write(&opener, "#!/bin/sh\nexit 3\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::env::remove_var("BROWSER");
    std::env::set_var("PATH", dir.path());

    let mut rx = h.app.subscribe();
    let app = h.app.clone();
    let flow = tokio::spawn(async move {
        app.authorize("sandbox", None, Arc::new(SystemLauncher))
            .await
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (url, error) = loop {
        let e = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the flow says it waits for the person")
            .expect("events");
        if let Event::Authorize(p) = e {
            if p.phase == AuthorizePhase::Waiting {
                break (p.url.expect("the URL is shown"), p.error.expect("why"));
            }
        }
    };
    let state = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("the consent URL has a state");
    h.remember(&state);
    assert_eq!(error.kind, "browser_launch");
    for words in [&error.message, &error.fix] {
        assert!(!words.contains(&state), "the state is in {words:?}");
    }
    assert!(
        error.message.contains("xdg-open"),
        "the reason still names the opener: {}",
        error.message
    );

    h.app.cancel_authorize();
    assert!(matches!(
        flow.await.unwrap(),
        Err(Error::AuthorizationCancelled)
    ));
    // Scans the log file (where the failed launch is reported) for the state.
    h.finish().await;
}
