//! `postern-desktop`: the window and the tray. Kept apart from the `postern` command so that
//! the command line (`postern token`, run by msmtp for every message) never loads GTK and
//! WebKit, whose loading alone costs a process about 40 ms.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// `with_commands!`, for the handler in gui.rs.
include!("../command_list.rs");

mod autostart;
mod commands;
mod gui;
mod notify;
mod staged;
mod tray;

fn main() {
    postern_app::install_tls_provider();
    std::process::exit(gui::run());
}
