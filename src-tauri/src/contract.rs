//! The contract between the window and the shell, in one place: the commands
//! (command_list.rs), the events (core's `events!` list, plus the one the shell sends itself),
//! and the types they carry (core's, deriving `ts_rs::TS`). The UI's TypeScript in
//! ui/src/lib/bindings/ is generated from these by the test below; `make bindings` rewrites it,
//! and `cargo test` fails while the committed files differ from what it would write.

include!("command_list.rs");

/// Every command the window may invoke, by name.
pub const COMMANDS: &[&str] = with_commands!(command_names);

/// The shell's own event: a notification about an account was clicked (payload: its address).
pub const SHOW_ACCOUNT: &str = "postern://show-account";

/// The shell's own event: Revoke & reauthorize was chosen in the tray (payload: the address).
/// The window shows the account and does what its own button does, asking first while the
/// grant still works.
pub const REAUTHORIZE_ACCOUNT: &str = "postern://reauthorize-account";

/// What a window shows first, in one round trip: `window_start` (docs/ipc.md, How a window
/// starts). One call instead of five, because before its first paint each call costs the
/// window a round trip to the shell and, the first time, a CORS preflight as well.
#[derive(serde::Serialize, Debug, Clone)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct WindowStart {
    pub info: postern_core::AppInfo,
    pub accounts: Vec<postern_core::status::Account>,
    /// The outbox, newest first; null for the quick-compose window, which may not see it.
    pub outbox: Option<Vec<postern_core::outbox::OutboxItem>>,
    /// The newest activity, up to the limit asked for; null for the quick-compose window.
    pub activity: Option<Vec<postern_core::activity::Activity>>,
    pub preferences: postern_core::preferences::Preferences,
}

#[cfg(test)]
mod bindings;
