//! postern-core: everything of Postern that is not GUI.
//!
//! A library a command-line program could use: it never names Tauri. The shell holds one
//! [`App`](crate::app::App) and forwards its [`Event`](crate::events::Event)s to the windows.

pub mod error;
pub mod secret;

pub use error::{Error, Explanation, Result, RevokedCause};
pub use secret::Secret;
