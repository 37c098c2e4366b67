//! Sandbox mode's emulator, in a child process of the app.
//!
//! Postern changes process image when its window closes to the tray and when the window comes
//! back (see [`crate::resident`]): the window's process becomes the small tray process and back,
//! keeping its process ID. An emulator inside that process would lose its grants at each change,
//! so sandbox mode runs it as `postern sandbox-child`, a child that outlives those changes
//! because a child belongs to the process ID, not to the program in it. It ends by itself once
//! Postern has ended (its parent changes), also after a crash.
//!
//! The child tells its endpoints and client secret on a pipe, never in a file. The process
//! image that follows gets the endpoints, without the secret, in [`RUNNING_ENV`]; the secret is
//! in the keychain by then, where every client secret is.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use postern_sandbox::{Endpoints, SandboxConfig};
use serde::{Deserialize, Serialize};

/// The running child's process ID and public endpoints, handed to the next process image.
pub const RUNNING_ENV: &str = "POSTERN_SANDBOX_RUNNING";

/// The emulator of this app: its process and where it listens.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Running {
    /// The child's process ID.
    pub pid: u32,
    /// Its endpoints; `client_secret` is empty here (it is in the keychain).
    pub endpoints: Endpoints,
}

impl Running {
    /// The emulator a previous process image of this app started, when it still runs.
    pub fn inherited() -> Option<Running> {
        let text = std::env::var(RUNNING_ENV).ok()?;
        let running: Running = serde_json::from_str(&text).ok()?;
        is_our_child(running.pid).then_some(running)
    }

    /// Puts this emulator in the environment of the process images that follow.
    pub fn pass_on(&self) {
        let public = Running {
            pid: self.pid,
            endpoints: Endpoints {
                client_secret: String::new(),
                ..self.endpoints.clone()
            },
        };
        if let Ok(text) = serde_json::to_string(&public) {
            std::env::set_var(RUNNING_ENV, text);
        }
    }

    /// Stops the emulator (Quit); it would end by itself a moment after this process anyway.
    pub fn stop(&self) {
        if is_our_child(self.pid) {
            // SAFETY: kill and waitpid on our own child's ID, checked just above.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
                libc::waitpid(self.pid as libc::pid_t, std::ptr::null_mut(), 0);
            }
        }
    }
}

/// Whether `pid` is a child of this process (its parent, in /proc, is us).
fn is_our_child(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The second field is the command in parentheses, which may hold spaces; the parent is
    // the second field after it.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
        .and_then(|ppid| ppid.parse::<u32>().ok())
        == Some(std::process::id())
}

/// `postern` beside the running program (the child's program).
fn command_line_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(format!("postern{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        path.is_file(),
        "the command line program ({}) is not installed beside the desktop app; reinstall Postern",
        path.display()
    );
    Ok(path)
}

/// Starts the emulator as a child, with its files in `state_dir`, and waits for its endpoints.
pub fn spawn(state_dir: &Path) -> anyhow::Result<Running> {
    let mut child = Command::new(command_line_binary()?)
        .arg("sandbox-child")
        .arg("--state-dir")
        .arg(state_dir)
        .arg("--parent")
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let pid = child.id();
    let stdout = child.stdout.take().expect("piped above");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(read.map(|_| line));
    });
    let line = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(line)) if !line.trim().is_empty() => line,
        other => {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!(
                "the sandbox did not start ({}); see the lines above",
                match other {
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "no answer within 30 s".into(),
                    Ok(Ok(_)) => "it ended before saying where it listens".into(),
                }
            );
        }
    };
    let endpoints: Endpoints = serde_json::from_str(line.trim())?;
    // The child is waited for by `Running::stop`, or ends after this process.
    std::mem::forget(child);
    Ok(Running { pid, endpoints })
}

/// `postern sandbox-child`: runs the emulator until the app that started it (`parent`) has
/// ended. The app names itself: had it ended before this child first looked, the parent seen
/// here would already be another process.
pub async fn run_child(state_dir: PathBuf, parent: u32) -> i32 {
    if std::os::unix::process::parent_id() != parent {
        return 0;
    }
    let started = postern_sandbox::start(SandboxConfig {
        state_dir: Some(state_dir),
        admin_token: std::env::var(crate::startup::SANDBOX_ADMIN_TOKEN_ENV)
            .ok()
            .filter(|t| !t.is_empty()),
        ..SandboxConfig::default()
    })
    .await;
    let sandbox = match started {
        Ok(s) => s,
        Err(e) => {
            eprintln!("postern: the sandbox could not start: {e}");
            return 1;
        }
    };
    match serde_json::to_string(sandbox.endpoints()) {
        Ok(line) => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                return 1;
            }
        }
        Err(_) => return 1,
    }
    // Once a second: has the app ended (this child was handed to another parent)? A pipe
    // would not tell, as the app's later children (the browser) would hold it open.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        let tick = tokio::time::sleep(Duration::from_secs(1));
        match term.as_mut() {
            Some(t) => {
                tokio::select! {
                    _ = tick => {}
                    _ = t.recv() => break,
                }
            }
            None => tick.await,
        }
        if std::os::unix::process::parent_id() != parent {
            break;
        }
    }
    sandbox.stop().await;
    0
}
