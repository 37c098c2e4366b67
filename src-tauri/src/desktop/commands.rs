//! The `#[tauri::command]`s of docs/ipc.md: each unpacks its arguments and makes one call into
//! core. A failure reaches the window as core's explanation `{kind, message, fix}`.

use std::sync::Arc;

use postern_app::contract::WindowStart;
use postern_app::startup;
use postern_core::activity::Activity;
use postern_core::auth::flow::SystemLauncher;
use postern_core::mail::compose::Draft;
use postern_core::outbox::OutboxItem;
use postern_core::preferences::Preferences;
use postern_core::provider::PublishingStatus;
use postern_core::status::{Account, TokenStatus};
use postern_core::AppInfo;
use postern_core::{App, Error, Secret};
use tauri::State;

type Result<T> = std::result::Result<T, Error>;

#[tauri::command]
pub fn app_info(app: State<'_, App>) -> AppInfo {
    app.info()
}

/// What a window shows first, in one call (docs/ipc.md, How a window starts). The
/// quick-compose window gets no outbox and no activity: its capability grants it neither.
#[tauri::command]
pub async fn window_start(
    window: tauri::WebviewWindow,
    app: State<'_, App>,
    prefs: State<'_, crate::notify::Prefs>,
    limit: usize,
) -> Result<WindowStart> {
    let main = window.label() != crate::gui::COMPOSE_LABEL;
    let accounts = app.accounts().await?;
    let (outbox, activity) = if main {
        (Some(app.outbox().await?), Some(app.activity(limit).await?))
    } else {
        (None, None)
    };
    Ok(WindowStart {
        info: app.info(),
        accounts,
        outbox,
        activity,
        preferences: prefs.get(),
    })
}

#[tauri::command]
pub async fn list_accounts(app: State<'_, App>) -> Result<Vec<Account>> {
    app.accounts().await
}

#[tauri::command]
pub async fn account_status(app: State<'_, App>, address: String) -> Result<TokenStatus> {
    app.status(&address).await
}

#[tauri::command]
pub async fn authorize(
    app: State<'_, App>,
    provider: String,
    login_hint: Option<String>,
) -> Result<Account> {
    app.authorize(&provider, login_hint.as_deref(), Arc::new(SystemLauncher))
        .await
}

#[tauri::command]
pub fn cancel_authorize(app: State<'_, App>) {
    app.cancel_authorize()
}

#[tauri::command]
pub fn complete_authorize(app: State<'_, App>, url: String) -> Result<()> {
    app.complete_authorize(&url)
}

#[tauri::command]
pub async fn refresh_now(app: State<'_, App>, address: String) -> Result<TokenStatus> {
    app.refresh_now(&address).await
}

#[tauri::command]
pub async fn revoke(app: State<'_, App>, address: String) -> Result<TokenStatus> {
    app.revoke(&address).await
}

#[tauri::command]
pub async fn reauthorize(app: State<'_, App>, address: String) -> Result<Account> {
    app.revoke_and_reauthorize(&address, Arc::new(SystemLauncher))
        .await
}

#[tauri::command]
pub async fn remove_account(app: State<'_, App>, address: String) -> Result<()> {
    app.remove_account(&address).await
}

#[tauri::command]
pub async fn forget_account(app: State<'_, App>, address: String) -> Result<()> {
    app.forget_account(&address).await
}

#[tauri::command]
pub async fn set_publishing_status(
    app: State<'_, App>,
    provider: String,
    status: PublishingStatus,
) -> Result<AppInfo> {
    app.set_publishing_status(&provider, status).await
}

/// One attachment's bytes, as the binary body of the call (not JSON); returns the id the
/// draft's attachment names in `staged`.
#[tauri::command]
pub fn stage_attachment(
    request: tauri::ipc::Request<'_>,
    staged: State<'_, crate::staged::Staged>,
) -> Result<String> {
    match request.body() {
        tauri::ipc::InvokeBody::Raw(bytes) => Ok(staged.put(bytes.clone())),
        tauri::ipc::InvokeBody::Json(_) => Err(Error::InvalidInput {
            what: "attachment".into(),
            why: "its bytes must come as the call's binary body".into(),
        }),
    }
}

#[tauri::command]
pub async fn send(
    app: State<'_, App>,
    staged: State<'_, crate::staged::Staged>,
    mut draft: Draft,
) -> Result<OutboxItem> {
    staged.resolve(&mut draft);
    app.send(draft).await
}

#[tauri::command]
pub async fn list_outbox(app: State<'_, App>) -> Result<Vec<OutboxItem>> {
    app.outbox().await
}

#[tauri::command]
pub async fn retry_outbox(app: State<'_, App>, id: i64) -> Result<OutboxItem> {
    app.retry_outbox(id).await
}

#[tauri::command]
pub async fn discard_outbox(app: State<'_, App>, id: i64) -> Result<()> {
    app.discard_outbox(id).await
}

#[tauri::command]
pub async fn list_activity(app: State<'_, App>, limit: usize) -> Result<Vec<Activity>> {
    app.activity(limit).await
}

#[tauri::command]
pub async fn save_google_client(
    app: State<'_, App>,
    client_id: String,
    client_secret: String,
    publishing_status: PublishingStatus,
) -> Result<AppInfo> {
    startup::app_for_google_client(&app)
        .await?
        .save_google_client(&client_id, Secret::new(client_secret), publishing_status)
        .await?;
    Ok(app.info())
}

#[tauri::command]
pub async fn import_google_client(
    app: State<'_, App>,
    json: String,
    publishing_status: PublishingStatus,
) -> Result<AppInfo> {
    startup::app_for_google_client(&app)
        .await?
        .import_google_client(&json, publishing_status)
        .await?;
    Ok(app.info())
}

#[tauri::command]
pub fn open_compose(handle: tauri::AppHandle) -> std::result::Result<(), String> {
    crate::gui::open_compose(&handle).map_err(|e| e.to_string())
}

/// A window painted its first data: what was held back so as not to slow that paint comes
/// now (see `gui::after_first_paint`).
#[tauri::command]
pub fn window_shown(handle: tauri::AppHandle) {
    crate::gui::after_first_paint(&handle);
}

#[tauri::command]
pub fn get_preferences(prefs: State<'_, crate::notify::Prefs>) -> Preferences {
    prefs.get()
}

#[tauri::command]
pub fn set_notifications(
    app: State<'_, App>,
    prefs: State<'_, crate::notify::Prefs>,
    on: bool,
) -> Result<Preferences> {
    let mut p = prefs.0.lock().unwrap_or_else(|e| e.into_inner());
    let mut next = p.clone();
    next.notifications = on;
    next.save(&app.settings().config_dir)?;
    *p = next.clone();
    Ok(next)
}

#[tauri::command]
pub fn get_autostart() -> bool {
    crate::autostart::dir().is_some_and(|d| crate::autostart::enabled_in(&d))
}

#[tauri::command]
pub fn set_autostart(on: bool) -> Result<bool> {
    let dir = crate::autostart::dir().ok_or_else(|| Error::Storage {
        why: "no home folder was found for the autostart entry; set HOME or XDG_CONFIG_HOME".into(),
    })?;
    crate::autostart::set_in(&dir, on, &crate::autostart::program()).map_err(|e| {
        Error::Storage {
            why: format!("cannot change {}: {e}", dir.display()),
        }
    })?;
    Ok(on)
}

#[tauri::command]
pub fn set_sender_name(
    app: State<'_, App>,
    prefs: State<'_, crate::notify::Prefs>,
    address: String,
    name: String,
) -> Result<Preferences> {
    let mut p = prefs.0.lock().unwrap_or_else(|e| e.into_inner());
    let mut next = p.clone();
    next.set_sender_name(&address, &name)?;
    next.save(&app.settings().config_dir)?;
    *p = next.clone();
    Ok(next)
}
