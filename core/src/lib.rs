//! postern-core: everything of Postern that is not GUI.
//!
//! A library a command-line program could use: it never names Tauri. The shell holds one
//! [`App`](crate::app::App) and forwards its [`Event`](crate::events::Event)s to the windows.

mod accounts;
pub mod activity;
pub mod app;
pub mod auth;
pub mod background;
pub mod clock;
pub mod error;
pub mod events;
#[doc(hidden)]
pub mod fuzzing;
pub mod mail;
pub mod notices;
pub mod outbox;
pub mod preferences;
pub mod provider;
pub mod redact;
pub mod retention;
pub mod secret;
pub mod settings;
pub mod status;
pub mod store;
pub mod vault;

pub use app::{App, AppInfo};
pub use auth::{Launcher, SystemLauncher};
pub use error::{Error, Explanation, Result, RevokedCause};
pub use mail::{Attachment, Draft};
pub use outbox::{OutboxItem, OutboxState};
pub use secret::Secret;
pub use settings::{Mode, Settings};
