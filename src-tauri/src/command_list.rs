// The window's commands (functions of src-tauri/src/desktop/commands.rs), listed once.
// `with_commands!(m)` hands the list to macro `m`: build.rs makes each a permission that
// capabilities/ can grant, the desktop registers them with `tauri::generate_handler!`, and the
// bindings test writes ui/src/lib/bindings/commands.ts from them. Included with `include!`
// (build.rs cannot use a module), so this file holds macros only.

macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            window_start,
            app_info,
            list_accounts,
            account_status,
            authorize,
            cancel_authorize,
            complete_authorize,
            refresh_now,
            revoke,
            reauthorize,
            remove_account,
            stage_attachment,
            send,
            list_outbox,
            retry_outbox,
            discard_outbox,
            list_activity,
            save_google_client,
            import_google_client,
            set_publishing_status,
            forget_account,
            open_compose,
            get_preferences,
            window_shown,
            set_notifications,
            get_autostart,
            set_autostart,
            set_sender_name,
        }
    };
}

/// The names as a `&[&str]`: `with_commands!(command_names)`.
#[allow(unused_macros)]
macro_rules! command_names {
    ($($command:ident),* $(,)?) => {
        &[$(stringify!($command)),*]
    };
}
