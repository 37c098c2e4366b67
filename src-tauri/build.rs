//! Declares the app's own commands so that capabilities/ can grant each window only the ones it uses.

include!("src/command_list.rs");

const COMMANDS: &[&str] = with_commands!(command_names);

fn main() {
    println!("cargo::rerun-if-changed=src-tauri/src/command_list.rs");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
