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
/// with the address. Sending waits for the service's answer, so it is sent from a thread of
/// its own, which then waits for the click: a slow or stuck service never holds up the caller
/// (the resident runs its tray and its background work on one thread).
pub fn show_notice(notice: &Notice, on_click: impl FnOnce(String) + Send + 'static) {
    let (title, body, address) = (
        notice.title.clone(),
        notice.body.clone(),
        notice.address.clone(),
    );
    let sent = std::thread::Builder::new()
        .name("notice".into())
        .spawn(move || {
            let shown = send(&title, &body, address.is_some());
            // Waits until the notification is clicked or closed.
            if let (Some(shown), Some(address)) = (shown, address) {
                shown.wait_for_action(|action| {
                    if action == "default" {
                        on_click(address);
                    }
                });
            }
        });
    if let Err(e) = sent {
        eprintln!("postern: a notification could not be sent ({e})");
    }
}

/// Shows a notification about nothing to click through to (the tray hint). It has reached
/// the notification service when this returns.
pub fn show_plain(title: &str, body: &str) {
    send(title, body, false);
}

/// Sends one notification; `clickable` gives it the default action.
fn send(title: &str, body: &str, clickable: bool) -> Option<notify_rust::NotificationHandle> {
    let mut n = notify_rust::Notification::new();
    n.appname("Postern").summary(title).body(body);
    if clickable {
        n.action("default", "Show the account");
    }
    match n.show() {
        Ok(shown) => Some(shown),
        Err(e) => {
            eprintln!(
                "postern: could not show a desktop notification ({e}); is a notification service running?"
            );
            None
        }
    }
}
