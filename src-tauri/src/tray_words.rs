//! What the tray says and shows, the same in the window's process (Tauri's tray) and in the
//! resident tray process (`crate::resident`): the menu's words, the icons, and desktop
//! notifications about an account that open that account when clicked.

use postern_core::notices::Notice;
use postern_core::status::TokenState;

/// The per-account entry that revokes and authorizes again.
pub const REAUTHORIZE: &str = "Revoke & reauthorize…";
/// The entry that opens quick compose.
pub const QUICK_COMPOSE: &str = "Quick compose…";
/// The entry that opens the main window.
pub const OPEN: &str = "Open Postern";
/// The entry that ends Postern.
pub const QUIT: &str = "Quit Postern";

/// The tray icon, and its variant while an account needs the person.
pub const ICON: &[u8] = include_bytes!("../../icons/tray.png");
/// See [`ICON`].
pub const ATTENTION_ICON: &[u8] = include_bytes!("../../icons/tray-attention.png");

/// Words for a state in the menu ("needs you" exactly where core says the person must act).
pub fn state_words(state: &TokenState) -> String {
    let words = match state {
        TokenState::Valid => "valid",
        TokenState::Expiring => "expiring soon",
        TokenState::Expired => "expired (refreshes on next use)",
        TokenState::Refreshing => "refreshing",
        TokenState::Revoked { .. } => "revoked",
        TokenState::ScopeMissing => "Gmail access missing",
        TokenState::Error => "refresh failing, retried",
        TokenState::Unknown => "not checked yet",
        TokenState::RevocationPending { .. } => "revocation pending",
        TokenState::SecretMissing => "secret missing from the keychain",
    };
    if state.needs_person() {
        format!("{words} — needs you")
    } else {
        words.to_owned()
    }
}

/// Shows a notification through the desktop's notification service. When it is about an
/// account, clicking it (its default action, where the desktop offers one) calls `on_click`
/// with the address, from a thread of its own.
pub fn show_notice(notice: &Notice, on_click: impl FnOnce(String) + Send + 'static) {
    show(
        &notice.title,
        &notice.body,
        notice.address.clone(),
        on_click,
    );
}

/// Shows a notification about nothing to click through to (the tray hint). It has reached
/// the notification service when this returns.
pub fn show_plain(title: &str, body: &str) {
    show(title, body, None, |_| {});
}

fn show(
    title: &str,
    body: &str,
    address: Option<String>,
    on_click: impl FnOnce(String) + Send + 'static,
) {
    let mut n = notify_rust::Notification::new();
    n.appname("Postern").summary(title).body(body);
    if address.is_some() {
        n.action("default", "Show the account");
    }
    match n.show() {
        Ok(shown) => {
            let Some(address) = address else {
                return;
            };
            // Waits until the notification is clicked or closed.
            let waiting = std::thread::Builder::new()
                .name("notice-click".into())
                .spawn(move || {
                    shown.wait_for_action(|action| {
                        if action == "default" {
                            on_click(address);
                        }
                    })
                });
            if let Err(e) = waiting {
                eprintln!("postern: a click on the notification will do nothing ({e})");
            }
        }
        Err(e) => eprintln!(
            "postern: could not show a desktop notification ({e}); is a notification service running?"
        ),
    }
}
