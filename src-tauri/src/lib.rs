//! The Postern shell, apart from the window: the command line, how the app opens (Google or
//! sandbox mode), and `postern sandbox`. The window and tray are the `postern-desktop` binary
//! (src-tauri/src/desktop/), which uses this library too.
//!
//! This library never links Tauri, GTK or WebKit, so `postern token` starts in milliseconds.

mod cli;
pub mod contract;
mod exit;
pub mod foreground_sandbox;
pub mod launch;
mod render;
pub mod resident;
pub mod sandbox_child;
pub mod startup;
pub mod tray_words;

use clap::Parser;

/// `postern`: runs the command given, or starts the desktop app when there is none; returns
/// the exit code.
pub fn main() -> i32 {
    install_tls_provider();
    let cli = cli::Cli::parse();
    match cli.command {
        None => launch::desktop(),
        Some(cli::Command::Resident) => resident::run(),
        Some(command) => cli::run(command, cli.sandbox),
    }
}

/// Every TLS connection of the process (token endpoint, SMTP, the in-process sandbox) uses ring.
/// Chosen explicitly, so that a second provider linked in by some dependency cannot make the
/// choice ambiguous at run time.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
