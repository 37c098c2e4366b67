//! The Postern shell: window and tray wiring, thin commands, events.
pub fn main() -> i32 {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("tauri");
    0
}
