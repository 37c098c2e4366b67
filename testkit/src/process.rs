//! Processes a suite starts: each in its own process group, so that stopping it (also when
//! the test fails and unwinds) stops every helper it started too.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A process started in its own process group, so that stopping it stops its children too.
pub struct Group {
    child: Child,
}

impl Group {
    /// Starts `cmd` as the leader of a new process group.
    pub fn spawn(mut cmd: Command) -> Self {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        Group {
            child: cmd.spawn().expect("spawn"),
        }
    }
    /// The child's standard output (when it was piped).
    pub fn take_stdout(&mut self) -> std::process::ChildStdout {
        self.child.stdout.take().expect("stdout was not piped")
    }
    /// The child's standard input (when it was piped).
    pub fn take_stdin(&mut self) -> std::process::ChildStdin {
        self.child.stdin.take().expect("stdin was not piped")
    }
    /// The child's standard error (when it was piped).
    pub fn take_stderr(&mut self) -> std::process::ChildStderr {
        self.child.stderr.take().expect("stderr was not piped")
    }
    /// Its process ID (and the group's).
    pub fn id(&self) -> u32 {
        self.child.id()
    }
    /// Its exit status, once it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: signalling a process group we created; no memory is touched.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Writes `input` to a child's piped standard input and closes it. A command that refuses its
/// arguments exits without reading its input, which closes the pipe under the writer: that is
/// the command's answer, for the test to read from its output and exit code, not a failure to
/// write.
pub fn feed(child: &mut Child, input: &[u8]) {
    use std::io::Write;
    let mut stdin = child
        .stdin
        .take()
        .expect("the child's standard input is piped");
    match stdin.write_all(input) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => panic!("could not write the child's standard input: {e}"),
    }
}
