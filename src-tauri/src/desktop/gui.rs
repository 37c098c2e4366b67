//! The desktop app: windows, the tray, and core's events forwarded to the windows.

use postern_core::App;
use tauri::{AppHandle, Emitter, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder, WindowEvent};

use crate::{commands, notify, tray};
use postern_app::resident::Intent;
use postern_app::{contract, startup};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// The quick-compose window's label (capabilities/compose.json grants it only what it uses).
pub const COMPOSE_LABEL: &str = "compose";

/// `tauri::generate_handler!` over the one list of commands (src-tauri/src/command_list.rs).
macro_rules! handler {
    ($($command:ident),* $(,)?) => {
        tauri::generate_handler![$(commands::$command),*]
    };
}

/// Starts the GUI; returns the process exit code.
pub fn run() -> i32 {
    if let Some(why) = no_display() {
        eprintln!("postern: {why}");
        return 1;
    }
    // The first launch opens its world (keychain, database, the sandbox's servers) while GTK
    // and WebKit start, instead of after them with the window waiting: see `early_open`.
    let early = early_open();
    // What the resident (src-tauri/src/resident.rs) asked this start to show.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let intent = Intent::parse(&args);
    let built = tauri::Builder::default()
        // First: a second launch hands over to the first here, before it opens anything.
        .plugin(tauri_plugin_single_instance::init(|handle, argv, _cwd| {
            show(handle, &Intent::parse(argv.get(1..).unwrap_or_default()));
        }))
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(window_state())
                .with_denylist(&[COMPOSE_LABEL])
                .build(),
        )
        .on_window_event(|window, event| {
            if window.label() == MAIN_LABEL && matches!(event, WindowEvent::CloseRequested { .. }) {
                tray::on_main_closing(window.app_handle());
            }
        })
        .manage(crate::staged::Staged::default())
        .invoke_handler(with_commands!(handler))
        .setup(move |tauri_app| {
            let handle = tauri_app.handle().clone();
            // The main window is made here, where Tauri would make it from tauri.conf.json
            // (`create: false` there), unless only quick compose was asked for.
            if intent == Intent::Compose {
                if let Err(e) = open_compose(&handle) {
                    eprintln!("postern: could not open the compose window: {e}");
                }
            } else {
                open_main(&handle, start_page(&intent));
            }
            // Opened by `early_open` while Tauri started, or here, after the single-instance
            // check, by a launch that did not get the first launch's lock. Failing here would
            // make Tauri panic; say why in plain words instead and stop with the documented
            // exit code.
            let opening = early;
            let opened = tauri::async_runtime::block_on(async move {
                match opening {
                    Some(task) => task.await.unwrap_or_else(|e| {
                        Err(anyhow::anyhow!("opening Postern stopped unexpectedly: {e}"))
                    }),
                    None => startup::open_for_gui().await,
                }
            });
            let startup::Opened { app, sandbox } = match opened {
                Ok(opened) => opened,
                Err(e) => {
                    startup::report_failed_start(&e);
                    show_failed_start(&handle, &startup::explain_failed_start(&e));
                    return Ok(());
                }
            };
            // The sandbox lives as long as the app; dropping it stops its servers.
            tauri_app.manage(SandboxHandle(sandbox));
            tauri_app.manage(app.clone());
            notify::manage_prefs(&handle, &app);
            tray::prepare(&handle);
            tray::install_after_first_paint(&handle);
            forward_events(&handle, &app);
            // Core's background work (refresh timer, outbox worker) runs on Tauri's runtime.
            let _runtime = tauri::async_runtime::handle().inner().enter();
            app.start_background();
            Ok(())
        })
        .build(tauri::generate_context!());
    let tauri_app = match built {
        Ok(app) => app,
        Err(e) => {
            eprintln!("postern: could not start: {e}");
            return 1;
        }
    };
    tauri_app.run(|handle, event| {
        // The last window closed (not Quit, which gives an exit code): stay in the tray when
        // there is one to come back from. The window itself is gone, and its web process too.
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            if tray::keeps_running(handle) {
                api.prevent_exit();
                become_resident(handle);
            }
        }
    });
    0
}

/// Starts opening the app on Tauri's runtime at once, when this is the first launch.
///
/// A second launch must never open anything (opening sandbox mode empties the sandbox's data,
/// which the first launch is using), and the single-instance plugin only tells after Tauri
/// has started. So the first launch is known here by a lock of its own, held for the life of
/// the process: `gui.lock` in the data folder. A launch that does not get it opens nothing
/// early; the plugin then hands it over to the first, or, when the first was just ending, it
/// opens in `setup` as before.
fn early_open() -> Option<tauri::async_runtime::JoinHandle<anyhow::Result<startup::Opened>>> {
    // The lock is per data folder; a first launch on another folder (another
    // POSTERN_DATA_DIR, same keychain service) is the plugin's to find.
    if another_instance_runs() {
        return None;
    }
    let settings = postern_core::settings::Settings::from_env().ok()?;
    let mut folder = std::fs::DirBuilder::new();
    let mut file = std::fs::OpenOptions::new();
    file.create(true).truncate(false).write(true);
    // The data folder's own modes (core/src/store.rs), in case this makes it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        folder.mode(0o700);
        file.mode(0o600);
    }
    folder.recursive(true).create(&settings.data_dir).ok()?;
    let lock = file.open(settings.data_dir.join("gui.lock")).ok()?;
    lock.try_lock().ok()?;
    // Held until the process ends; the OS lets go of it then, also after a crash.
    std::mem::forget(lock);
    Some(tauri::async_runtime::spawn(startup::open_for_gui()))
}

/// Whether a Postern window process already runs in this desktop session: the
/// single-instance plugin's name (tauri.conf.json's identifier and ".SingleInstance") has an
/// owner on the session bus. Unsure counts as yes: the launch then opens in `setup`.
#[cfg(target_os = "linux")]
fn another_instance_runs() -> bool {
    let config: serde_json::Value =
        serde_json::from_str(include_str!("../../../tauri.conf.json")).unwrap_or_default();
    let Some(identifier) = config["identifier"].as_str() else {
        return true;
    };
    let name = format!("{identifier}.SingleInstance");
    let asked = || -> zbus::Result<bool> {
        let bus = zbus::blocking::Connection::session()?;
        let dbus = zbus::blocking::fdo::DBusProxy::new(&bus)?;
        Ok(dbus.name_has_owner(name.as_str().try_into()?)?)
    };
    asked().unwrap_or(true)
}

/// Elsewhere there is no session bus to ask; the data folder's lock alone decides.
#[cfg(not(target_os = "linux"))]
fn another_instance_runs() -> bool {
    false
}

/// Postern could not start (the keychain locked or missing, say): the main window says why and
/// what to do, for a person who started it from a menu and sees no terminal. Nothing else runs.
fn show_failed_start(handle: &AppHandle, why: &postern_core::Explanation) {
    let Some(window) = handle.get_webview_window("main") else {
        return;
    };
    let Ok(mut url) = window.url() else {
        return;
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("kind", &why.kind)
        .append_pair("message", &why.message)
        .append_pair("fix", &why.fix)
        .finish();
    url.set_fragment(Some(&format!("/startup-error?{query}")));
    let _ = window.navigate(url);
}

/// What is remembered of the main window: its size, its place, whether it was maximized.
fn window_state() -> StateFlags {
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED
}

/// Sandbox mode's emulator (a child process), stopped at Quit.
pub struct SandboxHandle(pub Option<postern_app::sandbox_child::Running>);

/// How long the background work gets to reach a clean point before the process changes.
const SETTLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// No window is left and a tray host is there: this process becomes `postern resident`, the
/// small tray process without GTK and WebKit (see src-tauri/src/resident.rs), keeping its
/// process ID, its sandbox child and its environment. The window's place and size are saved
/// first (the plugin would save them at an exit, which an `exec` is not), and the background
/// work ends at a clean point. Should that program not start, this process stays in the tray.
fn become_resident(handle: &AppHandle) {
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = handle.save_window_state(window_state()) {
            eprintln!("postern: the window's place could not be saved ({e})");
        }
        let Some(app) = handle.try_state::<App>().map(|a| a.inner().clone()) else {
            return;
        };
        if !app.stop_background(SETTLE_WITHIN).await {
            eprintln!(
                "postern: a message or a refresh was still under way; it is settled on the next start"
            );
        }
        let resident = std::env::current_exe()
            .map(|exe| exe.with_file_name(format!("postern{}", std::env::consts::EXE_SUFFIX)));
        if let Ok(program) = resident {
            postern_app::resident::replace_process(&program, &["resident".to_string()]);
        }
        // Still here: the window's process keeps the tray, as it did before.
        let _runtime = tauri::async_runtime::handle().inner().enter();
        app.start_background();
    });
}

/// A window has painted its first data: the tray icon comes up (`tray::install_soon`), and,
/// once per process, the memory the start freed goes back to the system.
pub fn after_first_paint(handle: &AppHandle) {
    tray::install_soon(handle);
    static TRIMMED: std::sync::Once = std::sync::Once::new();
    TRIMMED.call_once(|| {
        // GTK, WebKit's UI side and core's opening allocate and free a lot while the window
        // starts; glibc keeps what was freed for later unless asked to give it back. Off the
        // main thread, as it walks the whole heap.
        let _ = std::thread::Builder::new()
            .name("trim".into())
            .spawn(release_freed_memory);
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_freed_memory() {
    // SAFETY: malloc_trim only returns free pages of glibc's heap to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}

/// Shows what a start or a second launch asked for.
fn show(handle: &AppHandle, intent: &Intent) {
    match intent {
        Intent::Main => show_main(handle),
        Intent::Compose => {
            if let Err(e) = open_compose(handle) {
                eprintln!("postern: could not open the compose window: {e}");
            }
        }
        Intent::Account(address) => show_account(handle, address),
        Intent::Reauthorize(address) => ask_reauthorize(handle, address),
    }
}

/// The main window's label (tauri.conf.json).
pub const MAIN_LABEL: &str = "main";

/// Brings the main window to the front (a second launch, the tray's "Open Postern"), creating
/// it again when it was closed to the tray.
pub fn show_main(handle: &AppHandle) {
    open_main(handle, None);
}

/// Shows one account's status (a click on a notification about it).
pub fn show_account(handle: &AppHandle, address: &str) {
    on_account(handle, address, contract::SHOW_ACCOUNT, None);
}

/// Revoke & reauthorize, chosen in the tray: the window shows the account and does what its
/// own button does there (asking first while the grant still works; see TokenStatusPanel).
pub fn ask_reauthorize(handle: &AppHandle, address: &str) {
    on_account(
        handle,
        address,
        contract::REAUTHORIZE_ACCOUNT,
        Some("reauthorize"),
    );
}

/// Tells the open main window `event` about `address`, or opens it on that account (with
/// `ask`, the action it asks for at once).
fn on_account(handle: &AppHandle, address: &str, event: &str, ask: Option<&str>) {
    if handle.get_webview_window(MAIN_LABEL).is_some() {
        show_main(handle);
        let _ = handle.emit_to(MAIN_LABEL, event, address);
    } else {
        open_main(handle, Some(account_page(address, ask)));
    }
}

/// The main window's page on one account's status (`ask`: an action to start there).
fn account_page(address: &str, ask: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("account", address);
    if let Some(ask) = ask {
        query.append_pair("ask", ask);
    }
    format!("index.html#/status?{}", query.finish())
}

/// The page the main window starts on for what this start was asked to show (None: the
/// configured page; quick compose alone opens no main window).
fn start_page(intent: &Intent) -> Option<String> {
    match intent {
        Intent::Main | Intent::Compose => None,
        Intent::Account(address) => Some(account_page(address, None)),
        Intent::Reauthorize(address) => Some(account_page(address, Some("reauthorize"))),
    }
}

/// Focuses the main window, or creates it (at `url`, or the configured page).
fn open_main(handle: &AppHandle, url: Option<String>) {
    if let Some(window) = handle.get_webview_window(MAIN_LABEL) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let config = handle
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN_LABEL)
        .cloned()
        .map(|mut c| {
            if let Some(url) = url {
                c.url = WebviewUrl::App(url.into());
            }
            c
        });
    let built = config
        .ok_or(tauri::Error::WindowNotFound)
        .and_then(|c| WebviewWindowBuilder::from_config(handle, &c)?.build());
    match built {
        Ok(window) => {
            let _ = window.set_focus();
        }
        Err(e) => eprintln!("postern: could not open the window again: {e}"),
    }
}

/// Opens the small quick-compose window, or focuses it when it is already open.
pub fn open_compose(handle: &AppHandle) -> tauri::Result<()> {
    if let Some(window) = handle.get_webview_window(COMPOSE_LABEL) {
        window.show()?;
        return window.set_focus();
    }
    WebviewWindowBuilder::new(
        handle,
        COMPOSE_LABEL,
        WebviewUrl::App("index.html#/compose".into()),
    )
    .title("Quick compose — Postern")
    .inner_size(480.0, 560.0)
    .min_inner_size(380.0, 420.0)
    .build()?;
    Ok(())
}

/// Core publishes every change on one channel; the windows get each as a `postern://` event.
fn forward_events(handle: &AppHandle, app: &App) {
    let mut events = app.subscribe();
    let handle = handle.clone();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut notices = notify::seeded(&app).await;
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                // A slow window missed some events: the next ones still carry whole states.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            tray::on_event(&handle, &event);
            notify::on_event(&handle, &mut notices, &event);
            let _ = handle.emit(event.name(), event.payload());
        }
    });
}

/// On Linux a window needs an X11 or Wayland display; say so in one line instead of GTK's panic.
#[cfg(target_os = "linux")]
fn no_display() -> Option<&'static str> {
    let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
    (!set("DISPLAY") && !set("WAYLAND_DISPLAY")).then_some(
        "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset). \
         Run it in a desktop session, use the command line (postern --help), or try it \
         headless with scripts/with-desktop.",
    )
}

#[cfg(not(target_os = "linux"))]
fn no_display() -> Option<&'static str> {
    None
}
