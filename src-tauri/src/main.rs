//! `postern`: the command line, and the door to the desktop app (no arguments).

fn main() {
    std::process::exit(postern_app::main());
}
