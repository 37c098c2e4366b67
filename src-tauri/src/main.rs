// No console window on Windows release builds; the command line still prints.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    std::process::exit(postern_app::main());
}
