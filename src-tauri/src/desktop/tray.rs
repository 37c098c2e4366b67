//! The tray icon and its menu: per account its state and Revoke & reauthorize; then Quick
//! compose, Open Postern, Quit. The icon turns to its "attention" variant while any account
//! needs the person. Closing the main window leaves Postern here, when a tray host exists.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postern_core::events::Event;
use postern_core::preferences::Preferences;
use postern_core::status::{TokenState, TokenStatus};
use postern_core::App;
use tauri::image::Image;
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Manager, Wry};

use crate::{gui, notify};
use postern_app::tray_words;

const TRAY_ID: &str = "postern";
const REAUTH_PREFIX: &str = "reauth:";
/// The name a tray host (the StatusNotifierItem watcher) owns on the session bus.
const TRAY_HOST: &str = "org.kde.StatusNotifierWatcher";

/// One account as the menu shows it.
#[derive(Clone)]
struct Row {
    state: TokenState,
    headline: String,
}

/// What the tray knows: each account's state, by address.
#[derive(Default)]
struct TrayState {
    accounts: Mutex<BTreeMap<String, Row>>,
    /// Whether a tray host is on the session bus (followed by `watch_host`).
    host: AtomicBool,
    /// Whether "no tray host" was already said.
    absence_reported: AtomicBool,
    /// Whether the icon was asked for (it is built once).
    icon_asked: AtomicBool,
}

fn icon(attention: bool) -> tauri::Result<Image<'static>> {
    Image::from_bytes(if attention {
        tray_words::ATTENTION_ICON
    } else {
        tray_words::ICON
    })
}

/// A menu label for muda, where a single & marks a mnemonic and && is the character itself.
fn muda_label(text: &str) -> String {
    text.replace('&', "&&")
}

/// Follows, on its own thread, whether a tray host is on the session bus (desktops start and
/// stop them at run time), so that the window's close never waits for D-Bus.
fn watch_host(handle: &AppHandle) {
    let handle = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("tray-host".into())
        .spawn(move || {
            let state = handle.state::<Arc<TrayState>>().inner().clone();
            let follow = || -> zbus::Result<()> {
                let bus = zbus::blocking::Connection::session()?;
                let dbus = zbus::blocking::fdo::DBusProxy::new(&bus)?;
                // Listening first, then asking: a host that comes in between is not missed.
                let changes = dbus.receive_name_owner_changed_with_args(&[(0, TRAY_HOST)])?;
                let present = dbus.name_has_owner(TRAY_HOST.try_into()?)?;
                state.host.store(present, Ordering::SeqCst);
                if !present {
                    report_absent_host(&handle);
                }
                for change in changes {
                    let owner = change.args()?.new_owner().is_some();
                    state.host.store(owner, Ordering::SeqCst);
                }
                Ok(())
            };
            if let Err(e) = follow() {
                state.host.store(false, Ordering::SeqCst);
                eprintln!("postern: cannot follow the tray host on the session bus ({e})");
                report_absent_host(&handle);
            }
        });
    if let Err(e) = spawned {
        eprintln!("postern: cannot follow the tray host ({e})");
    }
}

/// Says once, in plain words, that there is no tray to live in.
fn report_absent_host(handle: &AppHandle) {
    let state = handle.state::<Arc<TrayState>>();
    if !state.absence_reported.swap(true, Ordering::SeqCst) {
        eprintln!(
            "postern: no system tray was found on this desktop, so Postern shows no tray icon. \
             Everything works from the window; closing the window quits Postern."
        );
    }
}

/// Gets the tray ready: its state, and following the tray host. The icon itself comes with
/// [`install_after_first_paint`].
pub fn prepare(handle: &AppHandle) {
    handle.manage(Arc::new(TrayState::default()));
    watch_host(handle);
}

/// The latest the tray icon comes when no window says it has painted (the quick-compose window
/// and the main window both do, see `window_shown` in commands.rs).
const ICON_AT_LATEST: Duration = Duration::from_secs(2);

/// Puts the tray icon up once a window has painted its first data, or after [`ICON_AT_LATEST`].
///
/// Building the icon and its menu takes the main thread 10-20 ms, and at start that thread is
/// what the window waits for (README.md, Benchmarks, (g)); a tray icon a moment later costs the
/// person nothing. Closing the window before the icon is up still keeps Postern in the tray:
/// that depends on the tray host being there, not on this icon.
pub fn install_after_first_paint(handle: &AppHandle) {
    let later = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("tray-icon".into())
        .spawn(move || {
            std::thread::sleep(ICON_AT_LATEST);
            install_soon(&later);
        });
    if spawned.is_err() {
        install_soon(handle);
    }
}

/// Puts the tray icon up on the main thread, once (a window's first paint, or the latest time).
pub fn install_soon(handle: &AppHandle) {
    let Some(state) = handle.try_state::<Arc<TrayState>>() else {
        // A failed start: nothing runs, so there is nothing to show in a tray.
        return;
    };
    if state.icon_asked.swap(true, Ordering::SeqCst) {
        return;
    }
    let on_main = handle.clone();
    let asked = handle.run_on_main_thread(move || {
        if let Err(e) = install(&on_main) {
            say_no_icon(&e);
        }
    });
    if let Err(e) = asked {
        say_no_icon(&e);
    }
}

fn say_no_icon(e: &tauri::Error) {
    eprintln!("postern: the tray icon could not be shown ({e}); everything works from the window");
}

/// Builds the tray icon. On desktops without a tray the app works the same from its window.
fn install(handle: &AppHandle) -> tauri::Result<()> {
    // Core publishes changes only: start from the stored accounts, so that an account revoked
    // before this launch shows in the menu and on the icon without waiting for a change. When
    // they cannot be read here, what core's events told meanwhile is shown.
    let stored = handle
        .try_state::<App>()
        .and_then(|app| tauri::async_runtime::block_on(app.inner().accounts()).ok());
    if let Some(list) = stored {
        remember(handle, &Event::Accounts(list));
    }
    let known = known(handle);
    let menu = build_menu(handle, &known)?;
    tauri::tray::TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(needs_person(&known))?)
        .tooltip("Postern")
        .title("Postern")
        .menu(&menu)
        .on_menu_event(|handle, event| on_menu(handle, event.id().as_ref()))
        .build(handle)?;
    Ok(())
}

/// Whether Postern stays running once its last window closed: only when it started (a failed
/// start has nothing to keep) and a tray host is there to bring the window back from.
pub fn keeps_running(handle: &AppHandle) -> bool {
    if handle.try_state::<App>().is_none() {
        return false;
    }
    let state = handle.state::<Arc<TrayState>>();
    if state.host.load(Ordering::SeqCst) {
        return true;
    }
    report_absent_host(handle);
    false
}

/// The main window is about to close: the first time Postern stays in the tray, say so once.
pub fn on_main_closing(handle: &AppHandle) {
    let (Some(app), Some(prefs)) = (
        handle.try_state::<App>(),
        handle.try_state::<notify::Prefs>(),
    ) else {
        return;
    };
    if prefs.get().tray_hint_shown || !keeps_running(handle) {
        return;
    }
    notify::send(
        "Postern keeps running in the tray",
        "Mail still goes out and you are told when an account needs you. Open Postern from the \
         tray icon or by starting it again; to stop it, choose Quit Postern in the tray menu.",
    );
    let mut p = prefs.0.lock().unwrap_or_else(|e| e.into_inner());
    let next = Preferences {
        tray_hint_shown: true,
        ..p.clone()
    };
    if let Err(e) = next.save(&app.settings().config_dir) {
        eprintln!("postern: {e}");
    }
    *p = next;
}

fn build_menu(handle: &AppHandle, accounts: &BTreeMap<String, Row>) -> tauri::Result<Menu<Wry>> {
    let mut rows: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    for (address, row) in accounts {
        let label = format!("{address}: {}", tray_words::state_words(&row.state));
        let headline = MenuItem::with_id(
            handle,
            format!("state:{address}"),
            &row.headline,
            false,
            None::<&str>,
        )?;
        let reauth = MenuItem::with_id(
            handle,
            format!("{REAUTH_PREFIX}{address}"),
            muda_label(tray_words::REAUTHORIZE),
            true,
            None::<&str>,
        )?;
        let sub = Submenu::with_id_and_items(
            handle,
            format!("account:{address}"),
            label,
            true,
            &[&headline, &reauth],
        )?;
        rows.push(Box::new(sub));
    }
    if !accounts.is_empty() {
        rows.push(Box::new(PredefinedMenuItem::separator(handle)?));
    }
    rows.push(Box::new(MenuItem::with_id(
        handle,
        "compose",
        tray_words::QUICK_COMPOSE,
        true,
        None::<&str>,
    )?));
    rows.push(Box::new(MenuItem::with_id(
        handle,
        "open",
        tray_words::OPEN,
        true,
        None::<&str>,
    )?));
    rows.push(Box::new(PredefinedMenuItem::separator(handle)?));
    rows.push(Box::new(MenuItem::with_id(
        handle,
        "quit",
        tray_words::QUIT,
        true,
        None::<&str>,
    )?));
    let refs: Vec<&dyn IsMenuItem<Wry>> = rows.iter().map(|b| b.as_ref()).collect();
    Menu::with_items(handle, &refs)
}

/// How long Quit waits for work under way (a refresh, a message on the wire) to finish.
const QUIT_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Quit: the background work ends at a clean point first (core's `App::stop_background`),
/// then the process exits.
fn quit(handle: &AppHandle) {
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        if let Some(app) = handle.try_state::<App>().map(|a| a.inner().clone()) {
            if !app.stop_background(QUIT_WITHIN).await {
                eprintln!(
                    "postern: quitting while a message or a refresh was still under way; \
                     it is settled on the next start"
                );
            }
        }
        if let Some(sandbox) = handle.try_state::<gui::SandboxHandle>() {
            if let Some(running) = &sandbox.0 {
                running.stop();
            }
        }
        handle.exit(0);
    });
}

fn on_menu(handle: &AppHandle, id: &str) {
    match id {
        "compose" => {
            if let Err(e) = gui::open_compose(handle) {
                eprintln!("postern: could not open the compose window: {e}");
            }
        }
        "open" => gui::show_main(handle),
        "quit" => quit(handle),
        _ => {
            if let Some(address) = id.strip_prefix(REAUTH_PREFIX) {
                gui::ask_reauthorize(handle, address);
            }
        }
    }
}

fn row(s: &TokenStatus) -> Row {
    Row {
        state: s.state.clone(),
        headline: s.headline.clone(),
    }
}

/// Keeps the menu's accounts and the icon's attention state in step with core (nothing is
/// shown while the icon is not up yet: it shows them when it comes).
pub fn on_event(handle: &AppHandle, event: &Event) {
    if !remember(handle, event) {
        return;
    }
    let Some(tray) = handle.tray_by_id(TRAY_ID) else {
        return;
    };
    let known = known(handle);
    if let Ok(image) = icon(needs_person(&known)) {
        let _ = tray.set_icon(Some(image));
    }
    if let Ok(menu) = build_menu(handle, &known) {
        let _ = tray.set_menu(Some(menu));
    }
}

/// Takes an event's accounts into what the tray knows; false for an event about something else.
fn remember(handle: &AppHandle, event: &Event) -> bool {
    let state = handle.state::<Arc<TrayState>>();
    let mut accounts = state.accounts.lock().unwrap_or_else(|e| e.into_inner());
    match event {
        Event::Accounts(list) => {
            accounts.clear();
            for a in list {
                accounts.insert(a.address.clone(), row(&a.status));
            }
        }
        Event::Status(s) => {
            accounts.insert(s.address.clone(), row(s));
        }
        _ => return false,
    }
    true
}

/// The accounts the tray knows, by address.
fn known(handle: &AppHandle) -> BTreeMap<String, Row> {
    handle
        .state::<Arc<TrayState>>()
        .accounts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Whether any account needs the person: the icon's attention variant.
fn needs_person(known: &BTreeMap<String, Row>) -> bool {
    known.values().any(|r| r.state.needs_person())
}
