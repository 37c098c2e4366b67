//! The private desktop's other parts, as a person's desktop would use them: the notification
//! server (dunst) and the X server's window close, and the app's processes.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ClientMessageEvent, ConnectionExt, EventMask, Window, CLIENT_MESSAGE_EVENT,
};

/// One notification the notification server received.
#[derive(Debug, Clone)]
pub struct Received {
    pub summary: String,
    pub body: String,
}

/// Closes every notification dunst shows now (they move to its history), so that what a test
/// makes next is the only one on the screen: earlier suites share this notification server.
pub fn close_shown_notifications() {
    let ok = Command::new("dunstctl").arg("close-all").status();
    assert!(
        ok.is_ok_and(|s| s.success()),
        "dunstctl close-all failed: is dunst running on the harness's bus (scripts/with-desktop)?"
    );
}

/// Every notification dunst received so far (shown ones are closed first, which moves them to
/// its history).
pub fn notifications() -> Vec<Received> {
    close_shown_notifications();
    let out = Command::new("dunstctl").arg("history").output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("dunstctl history is not JSON ({e})"));
    let field = |n: &serde_json::Value, k: &str| n[k]["data"].as_str().unwrap_or("").to_owned();
    json["data"][0]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|n| Received {
            summary: field(n, "summary"),
            body: field(n, "body"),
        })
        .collect()
}

/// Waits up to `within` for a notification whose summary contains `summary`.
pub async fn wait_notification(summary: &str, within: Duration) -> Received {
    let deadline = Instant::now() + within;
    loop {
        let all = notifications();
        if let Some(n) = all.iter().find(|n| n.summary.contains(summary)) {
            return n.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no notification {summary:?} within {within:?}; received: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The X atom named `name`.
fn atom(conn: &impl Connection, name: &[u8]) -> u32 {
    conn.intern_atom(false, name).unwrap().reply().unwrap().atom
}

fn top_level_windows_named(title: &str) -> (impl Connection, Vec<Window>) {
    let (conn, screen) = x11rb::connect(None).expect("connect to the X server");
    let root = conn.setup().roots[screen].root;
    let net_wm_name = atom(&conn, b"_NET_WM_NAME");
    let utf8 = atom(&conn, b"UTF8_STRING");
    let tree = conn.query_tree(root).unwrap().reply().unwrap();
    let mut found = Vec::new();
    for w in tree.children {
        let name = conn
            .get_property(false, w, net_wm_name, utf8, 0, 1024)
            .unwrap()
            .reply()
            .map(|r| r.value)
            .unwrap_or_default();
        if name == title.as_bytes() {
            found.push(w);
        }
    }
    (conn, found)
}

/// The X connection and the first top-level window with this exact title, if there is one.
pub fn window_named(title: &str) -> Option<(impl Connection, Window)> {
    let (conn, windows) = top_level_windows_named(title);
    let first = *windows.first()?;
    Some((conn, first))
}

/// Every top-level window: its title and whether it is mapped (for failure messages).
pub fn window_list() -> String {
    let out = Command::new("xwininfo")
        .args(["-root", "-children"])
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Whether a top-level window with this exact title exists.
pub fn window_exists(title: &str) -> bool {
    !top_level_windows_named(title).1.is_empty()
}

/// Asks the window titled `title` to close, as a window manager does when the person clicks ×
/// (WM_DELETE_WINDOW): the app decides what closing means.
pub fn close_window(title: &str) {
    let (conn, windows) = top_level_windows_named(title);
    assert!(!windows.is_empty(), "no window titled {title:?}");
    let protocols = atom(&conn, b"WM_PROTOCOLS");
    let delete = atom(&conn, b"WM_DELETE_WINDOW");
    for w in windows {
        let event = ClientMessageEvent {
            response_type: CLIENT_MESSAGE_EVENT,
            format: 32,
            sequence: 0,
            window: w,
            type_: protocols,
            data: [delete, x11rb::CURRENT_TIME, 0, 0, 0].into(),
        };
        conn.send_event(false, w, EventMask::NO_EVENT, event)
            .unwrap();
    }
    conn.flush().unwrap();
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// (pid, parent pid, command name) of every process.
fn processes() -> Vec<(u32, u32, String)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = read(format!("/proc/{pid}/stat"));
        // "pid (comm) state ppid …": comm may hold spaces, so split after its closing bracket.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = stat[stat.find('(').unwrap_or(0) + 1..close].to_owned();
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        all.push((pid, ppid, comm));
    }
    all
}

/// The running desktop app that uses this data folder (found by its environment).
pub fn app_pid(data_dir: &Path) -> Option<u32> {
    let want = format!("POSTERN_DATA_DIR={}", data_dir.display());
    processes().into_iter().find_map(|(pid, _, comm)| {
        let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let has = env.split(|b| *b == 0).any(|kv| kv == want.as_bytes());
        (comm.starts_with("postern-desktop") && has).then_some(pid)
    })
}

/// The command name of process `pid` (empty once it is gone).
pub fn program(pid: u32) -> String {
    read(format!("/proc/{pid}/comm")).trim().to_owned()
}

/// The command names of every process below `pid`.
pub fn descendants(pid: u32) -> Vec<String> {
    below(pid).into_iter().map(|(_, comm)| comm).collect()
}

/// The process IDs of every process below `pid`.
pub fn descendant_pids(pid: u32) -> Vec<u32> {
    below(pid).into_iter().map(|(child, _)| child).collect()
}

fn below(pid: u32) -> Vec<(u32, String)> {
    let all = processes();
    let mut found = Vec::new();
    let mut parents = vec![pid];
    while let Some(p) = parents.pop() {
        for (child, ppid, comm) in &all {
            if *ppid == p {
                found.push((*child, comm.clone()));
                parents.push(*child);
            }
        }
    }
    found
}

/// Whether a process is still running (not a zombie).
pub fn alive(pid: u32) -> bool {
    let stat = read(format!("/proc/{pid}/stat"));
    !stat.is_empty()
        && !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
}

/// Saves the whole X screen (windows, and the notifications dunst shows on it) as
/// target/screenshots/NAME.png and returns its path.
pub fn screenshot_screen(name: &str) -> std::path::PathBuf {
    use x11rb::protocol::xproto::ImageFormat;
    let (conn, screen) = x11rb::connect(None).expect("connect to the X server");
    let root = &conn.setup().roots[screen];
    let (w, h) = (root.width_in_pixels, root.height_in_pixels);
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, root.root, 0, 0, w, h, !0)
        .unwrap()
        .reply()
        .expect("the X server hands over the screen");
    assert_eq!(
        image.depth, 24,
        "a 24-bit screen (scripts/with-desktop starts one)"
    );
    // 32 bits per pixel, blue first on this little-endian server.
    let rgb: Vec<u8> = image
        .data
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    let path = super::screenshot_dir().join(format!("{name}.png"));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut encoder = png::Encoder::new(file, u32::from(w), u32::from(h));
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&rgb)
        .unwrap();
    path
}

/// Waits until dunst shows a notification on the screen, then saves the screen as NAME.png.
pub async fn screenshot_shown_notification(name: &str) -> std::path::PathBuf {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new("dunstctl")
            .args(["count", "displayed"])
            .output()
            .unwrap();
        let shown: u32 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        if shown > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "dunst showed no notification within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let it draw.
    tokio::time::sleep(Duration::from_millis(700)).await;
    screenshot_screen(name)
}
