//! A hello-world Tauri window: one page with a heading and a line of text, nothing else.
//! `make bench` measures Postern's window against it (benches/window.rs).

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the hello-world window runs");
}
