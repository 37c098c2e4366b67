//! A process killed (SIGKILL) while sending: the message is still in the outbox on restart and
//! is delivered, once. The child is this test binary re-executed, running `crash_child`.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use postern_core::mail::{compose, Draft};
use postern_core::outbox::{OutboxHooks, OutboxState};
use postern_core::provider::SmtpSecurity as Security;
use postern_core::store::Store;
use postern_sandbox::Endpoints;
use postern_testkit::send::*;
const ANN: &str = "ann@example.com";
const CHILD: &str = "POSTERN_CRASH_CHILD";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the parent test"))
}

/// The child half: opens the outbox and sends; the token endpoint is slowed by the parent,
/// so it is killed while the message is `sending`. Does nothing when run on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() {
    if std::env::var(CHILD).is_err() {
        return;
    }
    let ep = Endpoints {
        issuer: String::new(),
        authorization_endpoint: String::new(),
        token_endpoint: env("CRASH_TOKEN_ENDPOINT"),
        revocation_endpoint: String::new(),
        tokeninfo_endpoint: String::new(),
        userinfo_endpoint: String::new(),
        admin_endpoint: String::new(),
        smtp_host: "127.0.0.1".into(),
        smtp_tls_port: env("CRASH_SMTP_PORT").parse().unwrap(),
        smtp_starttls_port: 0,
        ca_cert: env("CRASH_CA").into(),
        client_id: env("CRASH_CLIENT_ID"),
        client_secret: env("CRASH_CLIENT_SECRET"),
    };
    let mut hooks = SandboxHooks::new(&ep, Security::ImplicitTls);
    Arc::get_mut(&mut hooks).unwrap().refresh_first = true;
    hooks.add(
        ANN,
        Grant {
            access: String::new(),
            refresh: env("CRASH_REFRESH"),
        },
    );
    let outbox = outbox(std::path::Path::new(&env("CRASH_DIR")));
    let m = compose(&draft(), 35_882_577).unwrap();
    let _ = outbox
        .send_and_wait(&*hooks, &m, Duration::from_secs(120))
        .await;
    panic!("the parent should have killed this process");
}

fn draft() -> Draft {
    Draft {
        from: ANN.into(),
        to: "bob@example.org".into(),
        subject: "survives kill -9".into(),
        text: "still here".into(),
        ..Draft::default()
    }
}

fn state_in_db(dir: &std::path::Path) -> Option<String> {
    let store = Store::open(&dir.join("postern.db")).ok()?;
    store
        .with(|c| c.query_row("SELECT state FROM outbox LIMIT 1", [], |r| r.get(0)))
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_send_delivers_the_message_after_restart() {
    let sb = sandbox().await;
    let ep = sb.endpoints().clone();
    let g = grant(&ep, ANN).await;
    let dir = tempfile::tempdir().unwrap();
    sb.fault_token_delay(Duration::from_secs(60));

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("CRASH_DIR", dir.path())
        .env("CRASH_TOKEN_ENDPOINT", &ep.token_endpoint)
        .env("CRASH_SMTP_PORT", ep.smtp_tls_port.to_string())
        .env("CRASH_CA", &ep.ca_cert)
        .env("CRASH_CLIENT_ID", &ep.client_id)
        .env("CRASH_CLIENT_SECRET", &ep.client_secret)
        .env("CRASH_REFRESH", &g.refresh)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // The child has claimed the message and is waiting on the (slowed) token endpoint.
    eventually(60, "the child to be mid-send", || {
        sb.count("token.refresh_token") >= 1
            && state_in_db(dir.path()).as_deref() == Some("sending")
    })
    .await;

    // While the child lives, another process opening the outbox leaves its message alone.
    {
        let other = outbox(dir.path());
        assert_eq!(other.list().unwrap()[0].state, OutboxState::Sending);
    }

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    sb.fault_token_delay(Duration::ZERO);
    assert!(sb.mailbox().is_empty());

    // Restart: the row left `sending` by the dead process is queued again and delivered.
    let hooks = SandboxHooks::new(&ep, Security::ImplicitTls);
    hooks.add(ANN, g);
    let outbox = outbox(dir.path());
    let item = outbox.list().unwrap().remove(0);
    assert_eq!(item.state, OutboxState::Queued);
    assert_eq!(item.attempts, 1);
    outbox.start_worker(hooks.clone() as Arc<dyn OutboxHooks>);
    eventually(30, "the message to be sent after restart", || {
        outbox.get(item.id).unwrap().state == OutboxState::Sent
    })
    .await;
    let mailbox = sb.mailbox();
    assert_eq!(mailbox.len(), 1);
    assert_eq!(
        mailbox[0].message_id.as_deref(),
        Some(item.message_id.as_str())
    );
    assert_eq!(outbox.get(item.id).unwrap().attempts, 2);
    sb.stop().await;
}
