//! Postern in the tray with no window open: `postern resident`, a process without GTK or WebKit.
//!
//! When the last window closes and a tray host is there, the window's process replaces itself
//! with this program (`exec`, keeping its process ID); when a window is wanted again (Open
//! Postern, Quick compose, Revoke & reauthorize, a click on a notification, a second launch),
//! this one replaces itself with the window's program. So one Postern process runs at a time,
//! with one database connection, one delivery worker and one tray icon, and what stays running
//! in the tray is this small program, not a GTK/WebKit process whose libraries and heap stay
//! mapped after its window is gone. Sandbox mode's emulator is a child process
//! ([`crate::sandbox_child`]), so it lives through both changes.
//!
//! Here the tray is a StatusNotifierItem served with `ksni` (the same menu as the window's
//! tray, [`crate::tray_words`]), notifications go through `notify-rust`, and a second launch of
//! the desktop app reaches this process on the D-Bus name and interface that Tauri's
//! single-instance plugin uses, so it cannot tell the two apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ksni::menu::{MenuItem, StandardItem, SubMenu};
use ksni::TrayMethods;
use postern_core::events::Event;
use postern_core::notices::Notices;
use postern_core::preferences::Preferences;
use postern_core::status::{TokenState, TokenStatus};

use tokio::sync::mpsc;

use crate::tray_words;
use crate::{launch, startup};

/// How long the background work gets to reach a clean point before the process changes or
/// ends (the window's Quit waits as long).
const SETTLE_WITHIN: Duration = Duration::from_secs(10);

/// What the desktop app's window process is asked to show when it starts (its arguments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    /// The main window.
    Main,
    /// Only the quick-compose window.
    Compose,
    /// The main window on one account's status.
    Account(String),
    /// The main window, revoking and authorizing one account again.
    Reauthorize(String),
}

impl Intent {
    /// The desktop app's arguments for this intent.
    pub fn args(&self) -> Vec<String> {
        match self {
            Intent::Main => vec![],
            Intent::Compose => vec!["--compose".into()],
            Intent::Account(a) => vec!["--account".into(), a.clone()],
            Intent::Reauthorize(a) => vec!["--reauthorize".into(), a.clone()],
        }
    }

    /// Reads the desktop app's arguments (without the program's name); anything else is Main.
    pub fn parse(args: &[String]) -> Intent {
        match args {
            [flag] if flag == "--compose" => Intent::Compose,
            [flag, address, ..] if flag == "--account" => Intent::Account(address.clone()),
            [flag, address, ..] if flag == "--reauthorize" => Intent::Reauthorize(address.clone()),
            _ => Intent::Main,
        }
    }
}

/// What the tray, a notification or a second launch asks of the resident.
enum Action {
    Window(Intent),
    Quit,
}

/// The single-instance plugin's D-Bus interface, answered by the resident.
struct SingleInstance {
    actions: mpsc::UnboundedSender<Action>,
}

#[zbus::interface(name = "org.SingleInstance.DBus")]
impl SingleInstance {
    fn execute_callback(&self, argv: Vec<String>, _cwd: String) {
        let intent = Intent::parse(argv.get(1..).unwrap_or_default());
        let _ = self.actions.send(Action::Window(intent));
    }
}

/// The single-instance plugin's bus name and object path for this app (tauri.conf.json's
/// identifier, as the plugin makes them).
pub fn single_instance_name() -> Option<(String, String)> {
    let config: serde_json::Value =
        serde_json::from_str(include_str!("../../tauri.conf.json")).ok()?;
    let name = format!("{}.SingleInstance", config["identifier"].as_str()?);
    let path = format!("/{}", name.replace('.', "/").replace('-', "_"));
    Some((name, path))
}

/// One account as the menu shows it.
#[derive(Clone)]
struct Row {
    state: TokenState,
    headline: String,
}

fn row(s: &TokenStatus) -> Row {
    Row {
        state: s.state.clone(),
        headline: s.headline.clone(),
    }
}

/// The tray item: the accounts as last told by core.
struct Tray {
    accounts: BTreeMap<String, Row>,
    icons: PathBuf,
    actions: mpsc::UnboundedSender<Action>,
}

/// dbusmenu reads `_` as a mnemonic mark; `__` is the character itself.
fn menu_label(text: &str) -> String {
    text.replace('_', "__")
}

impl Tray {
    fn attention(&self) -> bool {
        self.accounts.values().any(|r| r.state.needs_person())
    }

    fn send(&self, action: Action) {
        let _ = self.actions.send(action);
    }
}

impl ksni::Tray for Tray {
    fn id(&self) -> String {
        "postern".into()
    }

    fn title(&self) -> String {
        "Postern".into()
    }

    fn status(&self) -> ksni::Status {
        if self.attention() {
            ksni::Status::NeedsAttention
        } else {
            ksni::Status::Active
        }
    }

    fn icon_theme_path(&self) -> String {
        self.icons.display().to_string()
    }

    fn icon_name(&self) -> String {
        if self.attention() {
            "postern-tray-attention".into()
        } else {
            "postern-tray".into()
        }
    }

    fn attention_icon_name(&self) -> String {
        "postern-tray-attention".into()
    }

    fn tool_tip(&self) -> ksni::ToolTip {
        ksni::ToolTip {
            title: "Postern".into(),
            ..Default::default()
        }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        self.send(Action::Window(Intent::Main));
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        let mut items: Vec<MenuItem<Self>> = Vec::new();
        for (address, row) in &self.accounts {
            let reauth = address.clone();
            items.push(
                SubMenu {
                    label: menu_label(&format!(
                        "{address}: {}",
                        tray_words::state_words(&row.state)
                    )),
                    submenu: vec![
                        StandardItem {
                            label: menu_label(&row.headline),
                            enabled: false,
                            ..Default::default()
                        }
                        .into(),
                        StandardItem {
                            label: menu_label(tray_words::REAUTHORIZE),
                            activate: Box::new(move |t: &mut Self| {
                                t.send(Action::Window(Intent::Reauthorize(reauth.clone())))
                            }),
                            ..Default::default()
                        }
                        .into(),
                    ],
                    ..Default::default()
                }
                .into(),
            );
        }
        if !self.accounts.is_empty() {
            items.push(MenuItem::Separator);
        }
        items.push(
            StandardItem {
                label: menu_label(tray_words::QUICK_COMPOSE),
                activate: Box::new(|t: &mut Self| t.send(Action::Window(Intent::Compose))),
                ..Default::default()
            }
            .into(),
        );
        items.push(
            StandardItem {
                label: menu_label(tray_words::OPEN),
                activate: Box::new(|t: &mut Self| t.send(Action::Window(Intent::Main))),
                ..Default::default()
            }
            .into(),
        );
        items.push(MenuItem::Separator);
        items.push(
            StandardItem {
                label: menu_label(tray_words::QUIT),
                activate: Box::new(|t: &mut Self| t.send(Action::Quit)),
                ..Default::default()
            }
            .into(),
        );
        items
    }

    fn watcher_offline(&self, _reason: ksni::OfflineReason) -> bool {
        // The tray host went away (the panel restarts, say): keep serving, so that the icon
        // comes back with it; a second launch still brings the window.
        true
    }
}

/// Writes the two icons where the tray host can read them (the icon theme path of the item).
fn write_icons(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("postern-tray.png"), tray_words::ICON)?;
    std::fs::write(
        dir.join("postern-tray-attention.png"),
        tray_words::ATTENTION_ICON,
    )
}

/// `postern resident`: runs until Quit, or until a window is wanted (then this process
/// becomes the window's). Returns the exit code.
pub fn run() -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("postern: could not start: {e}");
            return 1;
        }
    };
    runtime.block_on(resident())
}

async fn resident() -> i32 {
    reap_previous_children();
    let opened = match startup::open_for_gui().await {
        Ok(o) => o,
        Err(e) => return startup::report_failed_start(&e),
    };
    let startup::Opened { app, sandbox } = opened;
    // Held like the window's process holds it (see the desktop app's `early_open`): a launch
    // that does not get it never empties sandbox mode's data.
    let _lock = lock_data_folder();
    app.start_background();

    let (actions, mut wanted) = mpsc::unbounded_channel();
    let _single = match serve_single_instance(actions.clone()).await {
        Ok(conn) => Some(conn),
        Err(e) => {
            eprintln!("postern: a second launch will not find this one ({e})");
            None
        }
    };
    let icons = app.settings().data_dir.join("icons");
    if let Err(e) = write_icons(&icons) {
        eprintln!("postern: the tray icon cannot be written ({e})");
    }
    let mut accounts = BTreeMap::new();
    let mut notices = Notices::new();
    let mut events = app.subscribe();
    if let Ok(list) = app.accounts().await {
        for a in &list {
            accounts.insert(a.address.clone(), row(&a.status));
        }
        notices.observe(&Event::Accounts(list));
    }
    let tray = Tray {
        accounts,
        icons,
        actions: actions.clone(),
    };
    let tray = match tray.spawn().await {
        Ok(handle) => Some(handle),
        Err(e) => {
            eprintln!("postern: no tray icon ({e}); start Postern again to open its window");
            None
        }
    };
    let notifications = Preferences::load(&app.settings().config_dir)
        .map(|p| p.notifications)
        .unwrap_or(true);

    let action = loop {
        tokio::select! {
            action = wanted.recv() => break action.unwrap_or(Action::Quit),
            event = events.recv() => {
                let event = match event {
                    Ok(event) => event,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break Action::Quit,
                };
                if let Some(tray) = &tray {
                    match &event {
                        Event::Accounts(list) => {
                            let list = list.clone();
                            tray.update(move |t| {
                                t.accounts = list.iter().map(|a| (a.address.clone(), row(&a.status))).collect();
                            }).await;
                        }
                        Event::Status(s) => {
                            let s = s.clone();
                            tray.update(move |t| { t.accounts.insert(s.address.clone(), row(&s)); }).await;
                        }
                        _ => {}
                    }
                }
                for notice in notices.observe(&event) {
                    if notifications {
                        let actions = actions.clone();
                        tray_words::show_notice(&notice, move |address| {
                            let _ = actions.send(Action::Window(Intent::Account(address)));
                        });
                    }
                }
            }
        }
    };
    if !app.stop_background(SETTLE_WITHIN).await {
        eprintln!(
            "postern: a message or a refresh was still under way; it is settled on the next start"
        );
    }
    match action {
        Action::Quit => {
            if let Some(sandbox) = sandbox {
                sandbox.stop();
            }
            0
        }
        Action::Window(intent) => become_window(&intent),
    }
}

/// Replaces this process with the desktop app's window, showing `intent`.
fn become_window(intent: &Intent) -> i32 {
    let Some(path) = launch::desktop_binary() else {
        eprintln!(
            "postern: the desktop app ({}) is not installed next to this program; reinstall Postern",
            launch::DESKTOP_BINARY
        );
        return 1;
    };
    replace_process(&path, &intent.args())
}

/// `exec`: this process (its ID, its children, its environment) runs `program` from now on.
/// Returns only when that failed, with the exit code to end with.
pub fn replace_process(program: &Path, args: &[String]) -> i32 {
    use std::os::unix::process::CommandExt;
    let e = std::process::Command::new(program).args(args).exec();
    eprintln!("postern: could not start {}: {e}", program.display());
    1
}

/// Owns the single-instance plugin's name, so that a second launch hands over to this process.
async fn serve_single_instance(
    actions: mpsc::UnboundedSender<Action>,
) -> anyhow::Result<zbus::Connection> {
    let (name, path) = single_instance_name()
        .ok_or_else(|| anyhow::anyhow!("no identifier in tauri.conf.json"))?;
    Ok(zbus::connection::Builder::session()?
        .name(name.as_str())?
        .serve_at(path.as_str(), SingleInstance { actions })?
        .build()
        .await?)
}

/// Takes the data folder's `gui.lock`, as the window's process does, for the life of this one.
fn lock_data_folder() -> Option<std::fs::File> {
    // Under the person's own data folder, not sandbox mode's.
    let settings = postern_core::settings::Settings::from_env().ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(settings.data_dir.join("gui.lock"))
        .ok()?;
    // The window's process had it until its `exec`; a launch in that instant may hold it.
    for _ in 0..20 {
        if file.try_lock().is_ok() {
            return Some(file);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The window's process left children behind (WebKit's processes, which end once their
/// connection to the window's process closed at the `exec`): wait for them, so none stays as
/// a zombie. The sandbox's child is not among them: it is waited for at Quit.
fn reap_previous_children() {
    let me = std::process::id();
    let keep = crate::sandbox_child::Running::inherited().map(|r| r.pid);
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if Some(pid) == keep {
            continue;
        }
        let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|p| p.parse::<u32>().ok())
            });
        if parent == Some(me) {
            let _ = std::thread::Builder::new()
                .name("reap".into())
                // SAFETY: waitpid on one of our own children.
                .spawn(move || unsafe {
                    libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_go_through_the_desktop_apps_arguments_and_back() {
        for intent in [
            Intent::Main,
            Intent::Compose,
            Intent::Account("pat@example.com".into()),
            Intent::Reauthorize("sam@example.org".into()),
        ] {
            assert_eq!(Intent::parse(&intent.args()), intent);
        }
        assert_eq!(Intent::parse(&["--what".into()]), Intent::Main);
        assert_eq!(Intent::parse(&["--account".into()]), Intent::Main);
    }

    #[test]
    fn the_single_instance_name_is_the_plugins() {
        let (name, path) = single_instance_name().unwrap();
        assert_eq!(name, "org.postern.desktop.SingleInstance");
        assert_eq!(path, "/org/postern/desktop/SingleInstance");
    }

    #[test]
    fn menu_labels_keep_underscores() {
        assert_eq!(
            menu_label("pat_doe@example.com: valid"),
            "pat__doe@example.com: valid"
        );
    }
}
