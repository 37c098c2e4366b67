//! The whole App killed (SIGKILL) while sending, then opened again on the same data folder and
//! keychain: the message is delivered, once. The child is this test binary re-executed.
//!
//!     scripts/with-desktop cargo test -p postern-core --test send_app_crash

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use postern_core::mail::Draft;
use postern_core::outbox::OutboxState;
use postern_core::provider::SmtpSecurity;
use postern_core::store::Store;
use postern_core::App;
use postern_sandbox::Endpoints;
use postern_testkit::send::app::*;
use postern_testkit::send::*;

const ANN: &str = "ann@example.com";
const CHILD: &str = "POSTERN_APP_CRASH_CHILD";

fn draft() -> Draft {
    Draft {
        from: ANN.into(),
        to: "bob@example.org".into(),
        subject: "the app was killed".into(),
        text: "and the message survived".into(),
        ..Draft::default()
    }
}

/// The sandbox's endpoints, passed to the child as JSON.
fn endpoints_from(json: &str) -> Endpoints {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    let port = |k: &str| v[k].as_u64().unwrap() as u16;
    Endpoints {
        issuer: s("issuer"),
        authorization_endpoint: s("authorization_endpoint"),
        token_endpoint: s("token_endpoint"),
        revocation_endpoint: s("revocation_endpoint"),
        tokeninfo_endpoint: s("tokeninfo_endpoint"),
        userinfo_endpoint: s("userinfo_endpoint"),
        admin_endpoint: s("admin_endpoint"),
        smtp_host: s("smtp_host"),
        smtp_tls_port: port("smtp_tls_port"),
        smtp_starttls_port: port("smtp_starttls_port"),
        ca_cert: PathBuf::from(s("ca_cert")),
        client_id: s("client_id"),
        client_secret: s("client_secret"),
    }
}

/// The child half: the App thinks its token expired (its clock moved an hour), so sending
/// starts with a refresh that the parent has slowed; it is killed while `sending`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_crash_child() {
    let Ok(json) = std::env::var(CHILD) else {
        return;
    };
    let ep = endpoints_from(&json);
    let dir = PathBuf::from(std::env::var("CRASH_DIR").unwrap());
    let service = std::env::var("CRASH_SERVICE").unwrap();
    let app = App::open(settings(&ep, SmtpSecurity::ImplicitTls, &dir, &service))
        .await
        .unwrap();
    app.settings().clock.advance(Duration::from_secs(3700));
    let _ = app.send_and_wait(draft(), Duration::from_secs(120)).await;
    panic!("the parent should have killed this process");
}

fn state_in_db(dir: &std::path::Path) -> Option<String> {
    let store = Store::open(&dir.join("data").join("postern.db")).ok()?;
    store
        .with(|c| c.query_row("SELECT state FROM outbox LIMIT 1", [], |r| r.get(0)))
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_killed_mid_send_delivers_after_restart() {
    require_desktop();
    let sb = sandbox().await;
    let ep = sb.endpoints().clone();
    let dir = tempfile::tempdir().unwrap();
    let service = format!("postern-send-crash-{}", uuid::Uuid::new_v4().simple());
    {
        let app = open_app(&ep, SmtpSecurity::ImplicitTls, dir.path(), &service).await;
        app.authorize("sandbox", Some(ANN), browser(&ep, ANN))
            .await
            .unwrap();
    }
    let refreshes = sb.count("token.refresh_token");
    sb.fault_token_delay(Duration::from_secs(60));

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "app_crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, serde_json::to_string(&ep).unwrap())
        .env("CRASH_DIR", dir.path())
        .env("CRASH_SERVICE", &service)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually(60, "the child App to be mid-send", || {
        sb.count("token.refresh_token") > refreshes
            && state_in_db(dir.path()).as_deref() == Some("sending")
    })
    .await;
    child.kill().unwrap(); // SIGKILL: no destructor, no cleanup
    child.wait().unwrap();
    sb.fault_token_delay(Duration::ZERO);
    assert!(sb.mailbox().is_empty());

    // The restart: a new App on the same folder and keychain.
    let app = open_app(&ep, SmtpSecurity::ImplicitTls, dir.path(), &service).await;
    let item = app.outbox().await.unwrap().remove(0);
    assert_eq!(
        item.state,
        OutboxState::Queued,
        "taken back from the dead process"
    );
    app.start_background();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while app.outbox().await.unwrap()[0].state != OutboxState::Sent {
        assert!(
            std::time::Instant::now() < deadline,
            "never sent after restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = sb.mailbox();
    assert_eq!(got.len(), 1, "delivered exactly once");
    assert_eq!(got[0].message_id.as_deref(), Some(item.message_id.as_str()));
    let _ = app.forget_account(ANN).await;
    sb.stop().await;
}
