//! A person's whole journey in the real app window (sandbox mode, WebKitGTK under Xvfb, driven
//! through tauri-driver), with a real headless Chromium answering the consent page: add an
//! account, send a message with an attachment, revoke, authorize again, consent without Gmail
//! access and grant it again. Each step asserts what the window shows and saves a screenshot
//! (target/screenshots/gui-*.png); at the end no token may be left in any file.

mod common;
#[path = "gui_flow/journey.rs"]
mod journey;

use fantoccini::Locator;
use journey::{Journey, MAIL_SCOPE};
use postern_testkit::Plan as Consent;

#[tokio::test(flavor = "multi_thread")]
async fn a_person_adds_an_account_sends_mail_revokes_and_authorizes_again() {
    let mut j = Journey::start().await;
    let me = "pat@example.com";
    assert_eq!(j.text("#app-title").await, "Postern");

    // 1. Add an account: the browser says Allow, the window shows a valid token.
    let url = j
        .add_account(&Consent::allow(me), "gui-1-authorizing")
        .await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    let headline = j.text("[data-testid=token-headline]").await;
    assert!(
        headline.starts_with("Valid for") && headline.contains("minute"),
        "headline: {headline}"
    );
    let left = j.text("[data-testid=seconds-left]").await;
    assert!(
        left.starts_with("59:") || left.starts_with("58:"),
        "time left: {left}"
    );
    let mail = j
        .text(&format!(
            "[data-testid=scopes] li[data-scope=\"{MAIL_SCOPE}\"]"
        ))
        .await;
    assert!(mail.contains("granted"), "the Gmail scope reads {mail:?}");
    let item = j
        .text(&format!(
            "[data-testid=account-item][data-address=\"{me}\"]"
        ))
        .await;
    assert!(
        item.contains("Valid for"),
        "the account list shows {item:?}"
    );
    j.app.screenshot("gui-1-account-valid").await;
    j.remember_tokens(me).await;

    // 2. Write a message with a small attachment and send it; the outbox shows it sent.
    j.click("[data-testid=tab-write]").await;
    let from = j.find("#compose-from").await;
    assert_eq!(from.prop("value").await.unwrap().as_deref(), Some(me));
    j.type_into("#compose-to", "friend@example.net").await;
    j.type_into("#compose-subject", "Minutes of Tuesday").await;
    // Enter as a person presses it (WebDriver's key, not "\n").
    let enter = char::from(fantoccini::key::Key::Enter).to_string();
    let body = ["Hello,", "the minutes are attached.", "Pat"].join(&enter);
    j.type_into("#compose-text", &body).await;
    let attachment = j.app.dirs.root.path().join("minutes.txt");
    let content = b"1. Budget approved.\n2. Next meeting on Friday.\n";
    std::fs::write(&attachment, content).unwrap();
    j.find("#compose-files")
        .await
        .send_keys(&attachment.display().to_string())
        .await
        .expect("WebKitWebDriver takes a file path for a file input");
    let picked = j.text("[data-testid=compose-attachments]").await;
    assert!(picked.contains("minutes.txt"), "attachments: {picked}");
    j.app.screenshot("gui-2-compose").await;
    j.click("[data-testid=compose-send]").await;
    let queued = j.text("[data-testid=compose-queued]").await;
    assert!(
        queued.contains("Minutes of Tuesday"),
        "after Send: {queued}"
    );
    j.click("[data-testid=tab-outbox]").await;
    j.wait_attr("[data-testid=outbox-item]", "data-state", "sent")
        .await;
    let row = j.text("[data-testid=outbox-item]").await;
    assert!(
        row.contains("Minutes of Tuesday")
            && row.contains("Sent")
            && row.contains("friend@example.net"),
        "outbox row: {row}"
    );
    j.app.screenshot("gui-3-outbox-sent").await;
    // The sandbox's mailbox got it, attachment and all.
    let admin = j.sandbox_admin(&url);
    let mailbox = admin.get_json("mailbox").await;
    let got = &mailbox[0];
    assert_eq!(got["subject"], "Minutes of Tuesday", "mailbox: {mailbox}");
    assert_eq!(got["account"], me);
    assert_eq!(got["attachments"][0]["name"], "minutes.txt");
    let text = got["text_body"].as_str().unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        ["Hello,", "the minutes are attached.", "Pat"],
        "body: {text:?}"
    );
    let bytes = admin
        .get("mailbox/0/attachments/0")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], content);
    // Without the token, or addressed by another name, the window's sandbox shows nothing.
    let bare = reqwest::get(format!("{}/mailbox", admin.base))
        .await
        .unwrap();
    assert_eq!(bare.status(), 401, "the mailbox without the admin token");
    let rebound = reqwest::Client::new()
        .get(format!("{}/mailbox", admin.base))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        rebound.status(),
        421,
        "the mailbox asked for by another name"
    );

    // 3. Revoke, after saying yes to the question.
    j.click("[data-testid=tab-status]").await;
    j.click("[data-testid=action-revoke]").await;
    j.find("[data-testid=confirm-revoke]").await;
    j.app.screenshot("gui-4-revoke-confirm").await;
    j.click("[data-testid=confirm-revoke]").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "revoked")
        .await;
    let cause = j.text("[data-testid=revoked-cause]").await;
    assert!(
        cause.contains("You revoked Postern's access."),
        "revoked cause: {cause}"
    );
    assert_eq!(
        j.text("[data-testid=token-headline]").await,
        "Revoked by you"
    );
    j.app.screenshot("gui-5-revoked").await;

    // 4. Authorize again: valid again, and the cause is gone.
    let again = j.text("[data-testid=action-reauthorize]").await;
    assert_eq!(again, "Authorize again");
    j.click("[data-testid=action-reauthorize]").await;
    j.consent(&Consent::allow(me), "gui-6-authorizing-again")
        .await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    assert!(j
        .app
        .client
        .find(Locator::Css("[data-testid=revoked-cause]"))
        .await
        .is_err());
    j.app.screenshot("gui-6-valid-again").await;
    j.remember_tokens(me).await;
    assert_ne!(
        j.tokens[0], j.tokens[2],
        "a new refresh token after authorizing again"
    );

    j.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_without_gmail_access_shows_scope_missing_until_granted_again() {
    let mut j = Journey::start().await;
    let me = "sam@example.org";

    // 5. The person unticks Gmail on the consent page.
    let without_mail = Consent {
        untick: vec![MAIL_SCOPE.to_owned()],
        ..Consent::allow(me)
    };
    j.add_account(&without_mail, "gui-7-authorizing").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "scope_missing")
        .await;
    let headline = j.text("[data-testid=token-headline]").await;
    assert!(
        headline.contains("Gmail access was not granted"),
        "headline: {headline}"
    );
    let mail = j
        .text(&format!(
            "[data-testid=scopes] li[data-scope=\"{MAIL_SCOPE}\"]"
        ))
        .await;
    assert!(mail.contains("missing"), "the Gmail scope reads {mail:?}");
    let problem = j
        .text("[data-testid=token-status] [data-testid=error][data-kind=scope_missing]")
        .await;
    assert!(
        problem.contains("The permission to send mail was not granted")
            && problem.contains("What to do: Grant again"),
        "the window explains: {problem:?}"
    );
    assert_eq!(
        j.text("[data-testid=action-grant_again]").await,
        "Grant again"
    );
    j.app.screenshot("gui-7-scope-missing").await;
    j.remember_tokens(me).await;

    // Grant again, this time with every box ticked.
    j.click("[data-testid=action-grant_again]").await;
    j.consent(&Consent::allow(me), "gui-8-granting-again").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    let mail = j
        .text(&format!(
            "[data-testid=scopes] li[data-scope=\"{MAIL_SCOPE}\"]"
        ))
        .await;
    assert!(mail.contains("granted"), "the Gmail scope reads {mail:?}");
    j.app.screenshot("gui-8-granted-again").await;
    j.remember_tokens(me).await;

    j.finish().await;
}

/// A 25 MB file of random letters, digits and spaces (xorshift, the same every run). Text
/// below 0x7F other than '?' never base64-encodes to '/', and every token shape the leak scan
/// at the end looks for needs a '/' (or a '.' or '-', which base64 lacks): so the stored
/// message cannot look like a token by chance.
fn big_file(len: usize) -> Vec<u8> {
    const LETTERS: &[u8; 64] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n";
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            LETTERS[(x >> 8) as usize & 63]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_25_mb_attachment_sent_from_the_window_arrives_byte_identical() {
    let mut j = Journey::start().await;
    let me = "lee@example.com";
    let url = j.add_account(&Consent::allow(me), "gui-big-1").await;
    j.wait_attr("[data-testid=token-state]", "data-state", "valid")
        .await;
    j.remember_tokens(me).await;

    // The window hands the file's bytes to the shell as a binary IPC body (docs/ipc.md,
    // stage_attachment), so 25 MB crosses once, as bytes.
    let content = big_file(25_000_000);
    let path = j.app.dirs.root.path().join("site-survey.txt");
    std::fs::write(&path, &content).unwrap();
    j.click("[data-testid=tab-write]").await;
    j.type_into("#compose-to", "archive@example.net").await;
    j.type_into("#compose-subject", "Site survey").await;
    j.find("#compose-files")
        .await
        .send_keys(&path.display().to_string())
        .await
        .expect("WebKitWebDriver takes a file path for a file input");
    let picked = j.text("[data-testid=compose-attachments]").await;
    assert!(picked.contains("site-survey.txt"), "attachments: {picked}");
    j.click("[data-testid=compose-send]").await;
    j.click("[data-testid=tab-outbox]").await;
    // 34 MB on the wire to the sandbox, in a debug build: give it time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    loop {
        if let Ok(row) = j
            .app
            .client
            .find(Locator::Css("[data-testid=outbox-item]"))
            .await
        {
            match row.attr("data-state").await.ok().flatten().as_deref() {
                Some("sent") => break,
                Some("failed") | Some("waiting") => {
                    j.fail("the 25 MB message did not go out").await
                }
                _ => {}
            }
        }
        if std::time::Instant::now() > deadline {
            j.fail("the 25 MB message was not sent within 3 minutes")
                .await
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    j.app.screenshot("gui-big-2-sent").await;
    let admin = j.sandbox_admin(&url);
    let mailbox = admin.get_json("mailbox").await;
    assert_eq!(mailbox[0]["subject"], "Site survey");
    assert_eq!(mailbox[0]["attachments"][0]["name"], "site-survey.txt");
    let got = admin
        .get("mailbox/0/attachments/0")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.len(), content.len(), "the attachment's size");
    assert!(got[..] == content[..], "the attachment's bytes differ");
    j.finish().await;
}
