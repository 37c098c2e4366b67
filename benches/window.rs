//! `make bench`, the window's part: Postern's desktop app against a hello-world Tauri window
//! (benches/hello-world, the same Tauri version and features, built by `make bench` in the
//! same run), each started as a person starts it, under the private desktop of
//! `scripts/with-desktop` with a test tray host on its D-Bus.
//!
//! (g) Start: from spawning the process to its window showing what it loads at start (the
//!     accounts and the sandbox banner for Postern, the page for hello-world), the median (and the
//!     spread) of several starts, the two apps started in turn. "Showing" is read from the
//!     screen, not from either app: the first frame after which the window's pixels stay the
//!     same for a second. Target: within 1.2x. Under Xvfb some starts of either app wait about
//!     500 ms before WebKit begins to load the page (after Tauri's Ready, so in neither app's
//!     code), and in some runs most of one app's starts do: the median of all starts then
//!     measures that wait. So the bench also prints the medians of the starts without it (a
//!     start more than 300 ms over the app's fastest), with how many waited, and the ratio of
//!     the fastest starts.
//!     With POSTERN_BENCH_FRAMES set, each new frame's time is printed on standard error.
//! (h) PSS of all the app's processes (the app, WebKit's web and network processes) with the
//!     main window open, three seconds after it showed. Target: within 1.2x. Also by process,
//!     and without the sandbox's emulator (in sandbox mode, the mode the bench runs in, a child
//!     process plays Google's servers; with a real Google client it is not there).
//! (i) PSS of everything Postern keeps running in the tray, with no window open (after the
//!     window was closed as a window manager closes it), as a ratio to hello-world's
//!     window-open PSS. Target: within 0.3x.
//! (j) CPU time (user + system, all processes) in 60 s idle with the window open, Postern vs
//!     hello-world; and Postern's in the tray, in seconds per minute. Target in the tray:
//!     within 0.1 s per minute.

#[path = "../tests/common/desktop.rs"]
#[allow(dead_code)]
mod desktop;
#[path = "../tests/common/tray_host.rs"]
#[allow(dead_code)]
mod tray_host;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use postern_testkit::Group;

/// Where `desktop::screenshot_screen` saves (unused by this bench, needed by the module).
#[allow(dead_code)]
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const STARTS: usize = 15;
const IDLE: Duration = Duration::from_secs(60);
const SETTLE: Duration = Duration::from_secs(3);

/// One app under measure.
struct Subject {
    label: &'static str,
    binary: PathBuf,
    title: &'static str,
}

/// A started app: its own process group, stopped (with every helper) when dropped.
struct Running {
    group: Group,
    started: Instant,
    _dirs: tempfile::TempDir,
}

impl Running {
    fn start(subject: &Subject) -> Running {
        let dirs = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(&subject.binary);
        cmd.env("POSTERN_DATA_DIR", dirs.path().join("data"))
            .env("POSTERN_CONFIG_DIR", dirs.path().join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let started = Instant::now();
        Running {
            group: Group::spawn(cmd),
            started,
            _dirs: dirs,
        }
    }

    fn pid(&self) -> u32 {
        self.group.id()
    }

    /// The app's process and every process below it.
    fn processes(&self) -> Vec<u32> {
        let mut all = vec![self.pid()];
        all.extend(desktop::descendant_pids(self.pid()));
        all
    }

    fn pss_kib(&self) -> u64 {
        self.processes().into_iter().map(pss_kib).sum()
    }

    /// Each process's PSS in KiB, by name; the sandbox's emulator (src-tauri/src/sandbox_child.rs,
    /// a `postern sandbox-child` that plays Google's servers) is named as such.
    fn pss_each(&self) -> Vec<(String, u64)> {
        self.processes()
            .into_iter()
            .map(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let emulator = cmdline.split(|b| *b == 0).any(|a| a == b"sandbox-child");
                let name = if emulator {
                    EMULATOR.to_owned()
                } else {
                    desktop::program(pid)
                };
                (name, pss_kib(pid))
            })
            .collect()
    }

    fn cpu_ticks(&self) -> u64 {
        self.processes().into_iter().map(cpu_ticks).sum()
    }
}

/// How `pss_each` names the sandbox's emulator.
const EMULATOR: &str = "sandbox emulator";

/// `name size, …` in MiB.
fn each_mib(each: &[(String, u64)]) -> String {
    each.iter()
        .map(|(name, kib)| format!("{name} {:.1}", mib(*kib)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Proportional set size of one process, in KiB (0 when it is gone).
fn pss_kib(pid: u32) -> u64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of one process so far, in clock ticks (0 when it is gone).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(close) = stat.rfind(')') else {
        return 0;
    };
    // After "pid (comm)": state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    field(14).unwrap_or(0) + field(15).unwrap_or(0)
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant of the system.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as f64
}

/// A cheap fingerprint of what the window shows: 35 rows across it (enough to cross every
/// line of text), read from the X server. None while the window is not there.
fn window_pixels(title: &str) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, ImageFormat};
    let (conn, window) = desktop::window_named(title)?;
    let geometry = conn.get_geometry(window).ok()?.reply().ok()?;
    let (w, h) = (geometry.width, geometry.height);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut colours = std::collections::HashSet::new();
    for row in (0..h).step_by(usize::from(h / 35).max(1)) {
        let image = conn
            .get_image(ImageFormat::Z_PIXMAP, window, 0, row as i16, w, 1, !0)
            .ok()?
            .reply()
            .ok()?;
        image.data.hash(&mut hasher);
        for p in image.data.chunks_exact(4).step_by(7) {
            colours.insert([p[0], p[1], p[2]]);
        }
    }
    conn.flush().ok()?;
    // A window that is one colour has not painted its page yet.
    (colours.len() > 2).then(|| hasher.finish())
}

/// Seconds from spawn to the first frame after which the window stays the same for a second.
fn time_to_shown(app: &Running, title: &str) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut stable_since: Option<(u64, Instant)> = None;
    loop {
        assert!(Instant::now() < deadline, "{title:?} never showed a page");
        let now = Instant::now();
        match (window_pixels(title), stable_since) {
            (Some(px), Some((seen, since))) if px == seen => {
                if now.duration_since(since) >= Duration::from_secs(1) {
                    return since.duration_since(app.started).as_secs_f64();
                }
            }
            (Some(px), _) => {
                if std::env::var_os("POSTERN_BENCH_FRAMES").is_some() {
                    eprintln!(
                        "{title}: new frame at {:.0} ms",
                        now.duration_since(app.started).as_secs_f64() * 1e3
                    );
                }
                stable_since = Some((px, now))
            }
            (None, _) => stable_since = None,
        }
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times to shown of `a` and `b`, started in turn STARTS times each: alternating, so that a
/// machine that slows down or speeds up during the run weighs on both alike.
fn start_times(a: &Subject, b: &Subject) -> (Vec<f64>, Vec<f64>) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..STARTS {
        for (subject, times) in [(a, &mut ta), (b, &mut tb)] {
            let app = Running::start(subject);
            times.push(time_to_shown(&app, subject.title));
            drop(app);
            // The single-instance plugin's D-Bus name goes with the process; let it.
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    (ta, tb)
}

/// Starts the app once more and waits until its window shows (for memory and CPU).
fn shown(subject: &Subject) -> Running {
    let app = Running::start(subject);
    time_to_shown(&app, subject.title);
    app
}

/// The starts that did not wait about 500 ms before WebKit loaded the page: those within
/// 300 ms of the app's fastest (the wait is outside both apps; see (g) above).
fn unwaited(times: &[f64]) -> Vec<f64> {
    let floor = fastest(times);
    times.iter().copied().filter(|t| *t < floor + 0.3).collect()
}

fn fastest(times: &[f64]) -> f64 {
    times.iter().copied().fold(f64::INFINITY, f64::min)
}

/// "median ms (min–max)" of times in seconds.
fn spread(times: &[f64]) -> String {
    let min = fastest(times);
    let max = times.iter().copied().fold(0.0, f64::max);
    format!(
        "{:.0} ms ({:.0}-{:.0})",
        median(times.to_vec()) * 1e3,
        min * 1e3,
        max * 1e3
    )
}

/// CPU seconds all the app's processes use in IDLE.
fn idle_cpu(app: &Running) -> f64 {
    let before = app.cpu_ticks();
    std::thread::sleep(IDLE);
    (app.cpu_ticks() - before) as f64 / ticks_per_second()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn release_dir() -> PathBuf {
    // target/release/deps/window-… → target/release
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "run inside scripts/with-desktop (make bench does)"
    );
    let hello_binary = release_dir().join("postern-bench-hello");
    assert!(
        hello_binary.exists(),
        "{} is missing: `make bench` builds it first (cargo build --profile bench -p postern-bench-hello)",
        hello_binary.display()
    );
    let hello = Subject {
        label: "hello-world",
        binary: hello_binary,
        title: "Hello world",
    };
    let postern = Subject {
        label: "Postern",
        binary: PathBuf::from(env!("CARGO_BIN_EXE_postern-desktop")),
        title: "Postern",
    };
    // Postern keeps running in the tray only where a tray host is there to show it.
    let host = tray_host::TrayHost::start().await;
    let date = Command::new("date")
        .arg("-u")
        .arg("+%F")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!(
        "window figures, {date}, {} starts each, alternating (median, min-max), release build",
        STARTS
    );

    let (postern_times, hello_times) = start_times(&postern, &hello);
    let (postern_start, hello_start) = (median(postern_times.clone()), median(hello_times.clone()));

    let hello_app = shown(&hello);
    std::thread::sleep(SETTLE);
    let hello_each = hello_app.pss_each();
    let hello_pss: u64 = hello_each.iter().map(|(_, kib)| kib).sum();
    let hello_cpu = idle_cpu(&hello_app);
    drop(hello_app);
    std::thread::sleep(Duration::from_secs(1));

    let postern_app = shown(&postern);
    std::thread::sleep(SETTLE);
    let postern_each = postern_app.pss_each();
    let postern_pss: u64 = postern_each.iter().map(|(_, kib)| kib).sum();
    let emulator_pss: u64 = postern_each
        .iter()
        .filter(|(name, _)| name == EMULATOR)
        .map(|(_, kib)| kib)
        .sum();
    let postern_cpu = idle_cpu(&postern_app);
    host.item(Duration::from_secs(10)).await;
    let in_tray = close_to_tray(&postern_app, postern.title);
    std::thread::sleep(SETTLE);
    let tray_pss = postern_app.pss_kib();
    let tray_cpu = idle_cpu(&postern_app);
    drop(postern_app);

    println!(
        "(g) start to window shown: {}: {}; {}: {}; ratio of medians {:.2}x (target <= 1.2x)",
        postern.label,
        spread(&postern_times),
        hello.label,
        spread(&hello_times),
        postern_start / hello_start,
    );
    let (postern_unwaited, hello_unwaited) = (unwaited(&postern_times), unwaited(&hello_times));
    println!(
        "    without the wait before WebKit loads the page ({} of {}'s starts waited, {} of {}'s): {}: {}; {}: {}; ratio of medians {:.2}x; of the fastest starts {:.2}x",
        STARTS - postern_unwaited.len(),
        postern.label,
        STARTS - hello_unwaited.len(),
        hello.label,
        postern.label,
        spread(&postern_unwaited),
        hello.label,
        spread(&hello_unwaited),
        median(postern_unwaited.clone()) / median(hello_unwaited.clone()),
        fastest(&postern_times) / fastest(&hello_times)
    );
    println!(
        "(h) PSS with the window open: {}: {:.1} MiB; {}: {:.1} MiB; ratio {:.2}x (target <= 1.2x)",
        postern.label,
        mib(postern_pss),
        hello.label,
        mib(hello_pss),
        postern_pss as f64 / hello_pss as f64
    );
    println!(
        "    by process (MiB): {}: {}; {}: {}; without the sandbox's emulator, which stands in for Google's servers: ratio {:.2}x",
        postern.label,
        each_mib(&postern_each),
        hello.label,
        each_mib(&hello_each),
        (postern_pss - emulator_pss) as f64 / hello_pss as f64
    );
    println!(
        "(i) PSS in the tray, no window: {:.1} MiB ({}); ratio to hello-world's window-open {:.2}x (target <= 0.3x)",
        mib(tray_pss),
        in_tray,
        tray_pss as f64 / hello_pss as f64
    );
    println!(
        "(j) CPU in {} s idle: window open: {}: {:.2} s; {}: {:.2} s; ratio {:.2}x; in the tray: {:.2} s per minute (target <= 0.1 s)",
        IDLE.as_secs(),
        postern.label,
        postern_cpu,
        hello.label,
        hello_cpu,
        postern_cpu / hello_cpu.max(0.01),
        tray_cpu * 60.0 / IDLE.as_secs_f64()
    );
}

/// Closes Postern's window as a window manager does and waits for its web process to end;
/// returns what is left running, by name.
fn close_to_tray(app: &Running, title: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut asked = Instant::now() - Duration::from_secs(10);
    loop {
        let left = desktop::descendants(app.pid());
        let web = left.iter().any(|p| p.starts_with("WebKitWeb"));
        // The window's process becomes the resident (`postern`, src-tauri/src/resident.rs).
        if !web && !desktop::window_exists(title) && desktop::program(app.pid()) == "postern" {
            let mut names = vec![desktop::program(app.pid())];
            names.extend(left);
            return names.join(", ");
        }
        assert!(
            Instant::now() < deadline,
            "closing the window left it or its web process running: {left:?}"
        );
        // Under Xvfb without a window manager a close request is sometimes missed: ask again.
        if asked.elapsed() > Duration::from_secs(3) && desktop::window_exists(title) {
            desktop::close_window(title);
            asked = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
