//! postern-sandbox: a local emulator of Google's OAuth 2.0 endpoints and Gmail's SMTP
//! server, written from Google's documentation (summed up in docs/google.md) so that tests of
//! Postern check it against the protocol rather than against itself. Its strict [`Profile`] plays a
//! standards-conformant, non-Google OAuth 2.0 / OpenID Connect provider instead.
//!
//! [`start`] binds everything on 127.0.0.1 and returns a [`Sandbox`] handle whose methods
//! move the clock, inject faults and read the mailbox; the same controls are exposed as
//! JSON under `/admin` on the plain-HTTP port, for whoever holds the per-run admin token
//! (see the crate's README).

#![warn(missing_docs)]

mod access;
mod admin;
mod clock;
mod conn;
mod controls;
mod counts;
mod error;
mod faults;
mod mailbox;
mod oauth;
mod profile;
mod random;
mod routers;
mod sandbox;
mod smtp;
mod state;
mod store;
mod tls;
mod web;

pub use error::SandboxError;
pub use mailbox::{Attachment, StoredMessage};
pub use profile::{Profile, UnknownProfile};
pub use sandbox::{start, Endpoints, Sandbox, SandboxConfig};

/// The only scope Gmail's SMTP server accepts.
pub const MAIL_SCOPE: &str = "https://mail.google.com/";
