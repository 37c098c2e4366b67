//! Desktop notifications through the OS notification service. Core decides what deserves one
//! ([`postern_core::notices`]); this only shows it, unless the person turned them off.

use std::sync::Mutex;

use postern_core::events::Event;
use postern_core::notices::{Notice, Notices};
use postern_core::preferences::Preferences;
use postern_core::App;
use tauri::{AppHandle, Manager};

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
    let handle = handle.clone();
    postern_app::tray_words::show_notice(notice, move |address| {
        crate::gui::show_account(&handle, &address)
    });
}

/// Shows a notification whatever the preference says (the one-time tray hint). It is shown
/// before this returns: the process may change to the resident's right after.
pub fn send(title: &str, body: &str) {
    postern_app::tray_words::show_plain(title, body);
}
