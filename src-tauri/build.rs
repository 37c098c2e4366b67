//! Declares the app's own commands so that capabilities/ can grant each window only the ones it uses.

const COMMANDS: &[&str] = &[
    "app_info",
    "list_accounts",
    "account_status",
    "authorize",
    "cancel_authorize",
    "complete_authorize",
    "refresh_now",
    "revoke",
    "reauthorize",
    "remove_account",
    "send",
    "list_outbox",
    "retry_outbox",
    "discard_outbox",
    "list_activity",
    "save_google_client",
    "import_google_client",
    "set_publishing_status",
    "forget_account",
    "open_compose",
    "get_preferences",
    "set_notifications",
    "get_autostart",
    "set_autostart",
    "set_sender_name",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
