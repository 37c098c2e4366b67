//! The command line refuses an endless attachment or standard input while reading it, before
//! memory is spent: `--attach /dev/zero` and a stream that never ends both stop at the
//! provider's size limit with a plain error and exit code 2.
//!
//!     scripts/with-desktop cargo test -p postern --test cli_limits

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Waits for the child up to `within`; its exit code, standard error and peak memory (KiB).
fn finish(mut child: std::process::Child, within: Duration) -> (Option<i32>, String, i64) {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > within {
            child.kill().unwrap();
            panic!("postern still reading after {within:?}: the size is not checked while reading");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    // SAFETY: getrusage only writes the struct it is given.
    let peak_kib = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss
    };
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        peak_kib,
    )
}

fn postern(dirs: &AppDirs, args: &[&str]) -> std::process::Child {
    Command::new(cli_binary())
        .args(args)
        .envs(dirs.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn an_endless_attachment_or_stdin_is_refused_while_reading() {
    let dirs = AppDirs::new();

    let mut child = postern(
        &dirs,
        &["send", "--attach", "/dev/zero", "--to", "a@b.test"],
    );
    postern_testkit::feed(&mut child, b"body");
    let (code, err, peak) = finish(child, Duration::from_secs(60));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("ttachment /dev/zero") && err.contains("over the limit"),
        "{err}"
    );

    let mut child = postern(&dirs, &["send", "--to", "a@b.test"]);
    let mut stdin = child.stdin.take().unwrap();
    // Feeds zeros until postern stops reading (a broken pipe) or 1 GiB went in.
    let feeder = std::thread::spawn(move || {
        let block = vec![b'a'; 1 << 16];
        let mut sent = 0u64;
        while sent < 1 << 30 && stdin.write_all(&block).is_ok() {
            sent += block.len() as u64;
        }
        sent
    });
    let (code, err, peak_after) = finish(child, Duration::from_secs(60));
    let sent = feeder.join().unwrap();
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("larger than") && err.contains("bytes"),
        "{err}"
    );
    assert!(sent < 1 << 30, "postern read all of a 1 GiB stream");
    // Gmail's limit is about 35 MB; a whole 1 GiB read would show here.
    assert!(
        peak.max(peak_after) < 400 * 1024,
        "peak memory {peak} / {peak_after} KiB"
    );
}
