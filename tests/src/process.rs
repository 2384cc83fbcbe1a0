//! Test peers and vto itself run as a [`ProcessGroup`]: each in a process
//! group of its own, so that whatever it forks (Kamailio's workers) goes
//! with it. Dropping one kills the whole group and waits for it, also when
//! the test panics; if the test process dies without unwinding, the leader
//! is sent SIGTERM by the kernel (`PR_SET_PDEATHSIG`) and takes its
//! children along as it does on any SIGTERM.

use std::{
    ops::{Deref, DerefMut},
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

/// How long a drop waits for the group to be gone.
const GONE_WITHIN: Duration = Duration::from_secs(5);

/// A child process leading a process group of its own (see the module
/// note). Derefs to the [`Child`] for its pipes and `wait`.
pub struct ProcessGroup {
    child: Child,
    /// The group's id: the leader's pid, kept after the leader is reaped.
    pgid: i32,
}

impl ProcessGroup {
    /// Spawns `cmd` as the leader of a new process group.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<ProcessGroup> {
        let parent = std::process::id();
        cmd.process_group(0).kill_on_drop(true);
        #[allow(unsafe_code)]
        // SAFETY: only async-signal-safe calls (prctl, getppid, _exit)
        // between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // The test process gone without unwinding (killed, Ctrl-C
                // in a terminal: the peer is in another group and would not
                // see the SIGINT): the leader gets SIGTERM.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong);
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        let pgid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| std::io::Error::other("spawned child has no pid"))?;
        Ok(ProcessGroup { child, pgid })
    }

    /// The leader's pid (the group's id).
    pub fn pid(&self) -> i32 {
        self.pgid
    }

    /// Sends `signal` to every process of the group.
    pub fn signal_group(&self, signal: i32) {
        // The id cannot have been reused while a member, or the unreaped
        // leader, still holds it; with none left there is nothing to do.
        if self.leader_unreaped() || group_alive(self.pgid) {
            #[allow(unsafe_code)]
            // SAFETY: kill(2) on a process group this struct created.
            unsafe {
                libc::kill(-self.pgid, signal);
            }
        }
    }

    /// SIGKILL to the whole group, then waits until the leader is reaped
    /// and no member is left (at most 5 s).
    pub async fn kill_group(&mut self) {
        self.signal_group(libc::SIGKILL);
        let _ = tokio::time::timeout(GONE_WITHIN, self.child.wait()).await;
        let until = Instant::now() + GONE_WITHIN;
        while group_alive(self.pgid) && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn leader_unreaped(&self) -> bool {
        // `id()` is None once tokio has reaped the leader.
        self.child.id().is_some()
    }
}

impl Deref for ProcessGroup {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.child
    }
}

impl DerefMut for ProcessGroup {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.signal_group(libc::SIGKILL);
        // Drop cannot await: reap the leader and watch the group with
        // short blocking sleeps (SIGKILL ends them at once).
        let until = Instant::now() + GONE_WITHIN;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        while group_alive(self.pgid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        if group_alive(self.pgid) {
            eprintln!("process group {} still alive after SIGKILL", self.pgid);
        }
    }
}

/// Whether a process of group `pgid` is alive (zombies, waiting for
/// whoever reaps them, do not count).
pub fn group_alive(pgid: i32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
        pgrp == Some(pgid) && state != Some("Z") && state != Some("X")
    })
}
