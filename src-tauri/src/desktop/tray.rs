//! The tray icon: quick compose, open the window, revoke-and-reauthorize per account, quit.
//! The icon turns to its "attention" variant while any account needs the person.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use postern_core::auth::flow::SystemLauncher;
use postern_core::events::Event;
use postern_core::App;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Manager, Wry};

use crate::gui;

const TRAY_ID: &str = "postern";
const REAUTH_PREFIX: &str = "reauth:";
/// States in which an account cannot send until the person acts.
const NEEDS_ATTENTION: &[&str] = &["revoked", "scope_missing", "error", "expired"];

/// What the tray knows: each account's state, by address.
#[derive(Default)]
struct TrayState {
    accounts: Mutex<BTreeMap<String, String>>,
}

fn icon(attention: bool) -> tauri::Result<Image<'static>> {
    if attention {
        Image::from_bytes(include_bytes!("../../../icons/tray-attention.png"))
    } else {
        Image::from_bytes(include_bytes!("../../../icons/tray.png"))
    }
}

/// Installs the tray icon. On desktops without a tray the app works the same from its window.
pub fn install(handle: &AppHandle) -> tauri::Result<()> {
    handle.manage(Arc::new(TrayState::default()));
    let menu = build_menu(handle, &BTreeMap::new())?;
    tauri::tray::TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(false)?)
        .tooltip("Postern")
        .menu(&menu)
        .on_menu_event(|handle, event| on_menu(handle, event.id().as_ref()))
        .build(handle)?;
    // Core publishes changes only: start from the stored accounts, so that an account revoked
    // before this launch shows in the menu and on the icon without waiting for a change.
    if let Some(app) = handle.try_state::<App>() {
        if let Ok(list) = tauri::async_runtime::block_on(app.inner().accounts()) {
            on_event(handle, &Event::Accounts(list));
        }
    }
    Ok(())
}

fn build_menu(handle: &AppHandle, accounts: &BTreeMap<String, String>) -> tauri::Result<Menu<Wry>> {
    let compose = MenuItem::with_id(handle, "compose", "Quick compose…", true, None::<&str>)?;
    let open = MenuItem::with_id(handle, "open", "Open Postern", true, None::<&str>)?;
    let reauth = Submenu::with_id(
        handle,
        "reauth",
        "Revoke and reauthorize",
        !accounts.is_empty(),
    )?;
    for (address, state) in accounts {
        let label = if NEEDS_ATTENTION.contains(&state.as_str()) {
            format!("{address} (needs you)")
        } else {
            address.clone()
        };
        let id = format!("{REAUTH_PREFIX}{address}");
        reauth.append(&MenuItem::with_id(handle, id, label, true, None::<&str>)?)?;
    }
    let separator = PredefinedMenuItem::separator(handle)?;
    let quit = MenuItem::with_id(handle, "quit", "Quit Postern", true, None::<&str>)?;
    Menu::with_items(handle, &[&compose, &open, &reauth, &separator, &quit])
}

fn on_menu(handle: &AppHandle, id: &str) {
    match id {
        "compose" => {
            if let Err(e) = gui::open_compose(handle) {
                eprintln!("postern: could not open the compose window: {e}");
            }
        }
        "open" => gui::show_main(handle),
        "quit" => handle.exit(0),
        _ => {
            if let Some(address) = id.strip_prefix(REAUTH_PREFIX) {
                revoke_and_reauthorize(handle, address.to_string());
            }
        }
    }
}

/// Revokes the grant, then runs the consent flow again for the same address; the main window
/// shows the progress (and any error with its fix) through the usual events.
fn revoke_and_reauthorize(handle: &AppHandle, address: String) {
    gui::show_main(handle);
    let app = handle.state::<App>().inner().clone();
    tauri::async_runtime::spawn(async move {
        // Failures reach the window as status and activity events, with their fix.
        let _ = app
            .revoke_and_reauthorize(&address, Arc::new(SystemLauncher))
            .await;
    });
}

/// Keeps the menu's accounts and the icon's attention state in step with core.
pub fn on_event(handle: &AppHandle, event: &Event) {
    let state = handle.state::<Arc<TrayState>>().inner().clone();
    let snapshot = {
        let mut accounts = state.accounts.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Accounts(list) => {
                accounts.clear();
                for a in list {
                    accounts.insert(a.address.clone(), state_name(&a.status.state));
                }
            }
            Event::Status(s) => {
                accounts.insert(s.address.clone(), state_name(&s.state));
            }
            _ => return,
        }
        accounts.clone()
    };
    let Some(tray) = handle.tray_by_id(TRAY_ID) else {
        return;
    };
    let attention = snapshot
        .values()
        .any(|s| NEEDS_ATTENTION.contains(&s.as_str()));
    if let Ok(image) = icon(attention) {
        let _ = tray.set_icon(Some(image));
    }
    if let Ok(menu) = build_menu(handle, &snapshot) {
        let _ = tray.set_menu(Some(menu));
    }
}

/// The wire name of a token state ("valid", "revoked", …), as the UI sees it.
fn state_name<S: serde::Serialize>(state: &S) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
