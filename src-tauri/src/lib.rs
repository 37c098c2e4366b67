//! The Postern shell: the desktop app (windows, tray, thin commands, events) and the command
//! line, both over one `postern_core::App`.

mod cli;
mod commands;
mod exit;
pub mod foreground_sandbox;
mod gui;
mod render;
pub mod startup;
mod tray;

use clap::Parser;

/// Runs the GUI when no command is given, else the command; returns the exit code.
pub fn main() -> i32 {
    install_tls_provider();
    let cli = cli::Cli::parse();
    match cli.command {
        None => gui::run(),
        Some(command) => cli::run(command),
    }
}

/// Every TLS connection of the process (token endpoint, SMTP, the in-process sandbox) uses ring.
/// Chosen explicitly, so that a second provider linked in by some dependency cannot make the
/// choice ambiguous at run time.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
