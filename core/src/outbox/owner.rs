//! Who carries a message: every process marks the rows it is sending with an owner tag
//! (`pid:<pid>:<random>:<start ticks>`), and a row whose owner is gone goes back to the queue.

/// When process `pid` started (clock ticks after boot, field 22 of /proc/<pid>/stat): tells
/// it apart from a later process given the same pid (after a crash and a reboot, say).
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 2, the command name, is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// `pid:<pid>:<random>:<start ticks>`, the start left out where it cannot be read.
pub(crate) fn new_owner() -> String {
    let pid = std::process::id();
    let start = start_ticks(pid)
        .map(|t| format!(":{t}"))
        .unwrap_or_default();
    format!("pid:{pid}:{}{start}", uuid::Uuid::new_v4().simple())
}

/// Whether the process that wrote `owner` is still running (Linux: /proc, and the same start
/// time when the owner names one; elsewhere we cannot tell, so only our own rows count as
/// alive).
pub(crate) fn owner_alive(owner: &str, me: &str) -> bool {
    if owner == me {
        return true;
    }
    let mut parts = owner.split(':').skip(1);
    let pid = parts.next().and_then(|p| p.parse::<u32>().ok());
    let started = parts.nth(1).and_then(|t| t.parse::<u64>().ok());
    match pid {
        Some(pid) if pid == std::process::id() => false, // an earlier Outbox in this process
        Some(pid) if cfg!(target_os = "linux") => match started {
            Some(started) => start_ticks(pid) == Some(started),
            None => std::path::Path::new(&format!("/proc/{pid}")).exists(),
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn an_owner_whose_pid_now_belongs_to_another_process_is_dead() {
        let mut other = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = other.id();
        let me = new_owner();
        let started = start_ticks(pid).expect("a running process has a start time");
        assert!(owner_alive(&format!("pid:{pid}:feed:{started}"), &me));
        // The same pid, started at another time: the process that wrote the row is gone.
        assert!(!owner_alive(
            &format!("pid:{pid}:feed:{}", started + 1),
            &me
        ));
        assert!(
            owner_alive(&format!("pid:{pid}:feed"), &me),
            "older rows: pid only"
        );
        other.kill().unwrap();
        other.wait().unwrap();
        assert!(!owner_alive(&format!("pid:{pid}:feed:{started}"), &me));
        assert!(owner_alive(&me, &me));
        assert!(me.ends_with(&format!(":{}", start_ticks(std::process::id()).unwrap())));
    }
}
