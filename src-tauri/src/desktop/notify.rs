//! Desktop notifications through the OS notification service. Core decides what deserves one
//! ([`postern_core::notices`]); this only shows it, unless the person turned them off.

use std::sync::Mutex;

use postern_core::events::Event;
use postern_core::notices::{Notice, Notices};
use postern_core::preferences::Preferences;
use postern_core::App;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

/// The person's preferences as last saved (Settings changes them through `set_preferences`).
pub struct Prefs(pub Mutex<Preferences>);

impl Prefs {
    /// A copy of the current preferences.
    pub fn get(&self) -> Preferences {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Loads the saved preferences into the app's state (the defaults when the file is damaged,
/// which is said on standard error with what to do).
pub fn manage_prefs(handle: &AppHandle, app: &App) {
    let prefs = Preferences::load(&app.settings().config_dir).unwrap_or_else(|e| {
        eprintln!("postern: {e}");
        Preferences::default()
    });
    handle.manage(Prefs(Mutex::new(prefs)));
}

/// Core's notices, seeded with the accounts as they are now so that a grant revoked before this
/// launch is not announced again.
pub async fn seeded(app: &App) -> Notices {
    let mut notices = Notices::new();
    if let Ok(list) = app.accounts().await {
        notices.observe(&Event::Accounts(list));
    }
    notices
}

/// Shows what core decided for one event.
pub fn on_event(handle: &AppHandle, notices: &mut Notices, event: &Event) {
    for notice in notices.observe(event) {
        show(handle, &notice);
    }
}

/// Shows one notice, when notifications are on. Clicking it (where the desktop offers that)
/// opens the main window on the account it is about.
pub fn show(handle: &AppHandle, notice: &Notice) {
    if !handle.state::<Prefs>().get().notifications {
        return;
    }
    let Some(address) = notice.address.clone() else {
        send(handle, &notice.title, &notice.body);
        return;
    };
    let mut n = notify_rust::Notification::new();
    n.appname("Postern")
        .summary(&notice.title)
        .body(&notice.body)
        .action("default", "Show the account");
    match n.show() {
        Ok(shown) => {
            let handle = handle.clone();
            // Waits, on its own thread, until the notification is clicked or closed.
            let waiting = std::thread::Builder::new()
                .name("notice-click".into())
                .spawn(move || {
                    shown.wait_for_action(|action| {
                        if action == "default" {
                            crate::gui::show_account(&handle, &address);
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

/// Shows a notification whatever the preference says (the one-time tray hint).
pub fn send(handle: &AppHandle, title: &str, body: &str) {
    let shown = handle
        .notification()
        .builder()
        .title(title)
        .body(body)
        .show();
    if let Err(e) = shown {
        eprintln!("postern: could not show a desktop notification ({e}); is a notification service running?");
    }
}
