//! Start, stop and reboot of the device's services.
//!
//! Reboot re-executes this binary in place. The listening socket is handed
//! over (its descriptor number in `VTO_LISTEN_FD`), so browsers that connect
//! during the restart wait in the socket's backlog instead of being refused,
//! and the port stays the same even when it was chosen with port 0.

#![allow(unsafe_code)] // fcntl and from_raw_fd on the handed-over socket, nowhere else

use std::{
    net::TcpListener,
    os::fd::{AsRawFd, FromRawFd, RawFd},
    os::unix::process::CommandExt,
    time::Duration,
};

use tokio::sync::watch;

pub const LISTEN_FD_ENV: &str = "VTO_LISTEN_FD";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Shutdown,
    Reboot,
}

/// A handle to ask the running services to stop or reboot.
#[derive(Clone)]
pub struct Lifecycle {
    tx: watch::Sender<Option<Stop>>,
    boot_id: u64,
}

impl Lifecycle {
    pub fn new() -> (Self, watch::Receiver<Option<Stop>>) {
        let (tx, rx) = watch::channel(None);
        let mut raw = [0u8; 8];
        // A boot id only needs to differ between starts; fall back to the
        // process id and time if the system has no randomness to give.
        if getrandom::fill(&mut raw).is_err() {
            let t = crate::clock::Clock::now(&crate::clock::SystemClock)
                .0
                .unsigned_abs();
            raw = (t ^ u64::from(std::process::id())).to_le_bytes();
        }
        (
            Self {
                tx,
                boot_id: u64::from_le_bytes(raw),
            },
            rx,
        )
    }

    pub fn boot_id(&self) -> u64 {
        self.boot_id
    }

    pub fn stop(&self, how: Stop) {
        self.tx.send_replace(Some(how));
    }

    pub fn reboot_after(&self, delay: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            me.stop(Stop::Reboot);
        });
    }
}

/// The listener handed over by a previous process, if any.
pub fn inherited_listener() -> std::io::Result<Option<TcpListener>> {
    let Some(value) = std::env::var_os(LISTEN_FD_ENV) else {
        return Ok(None);
    };
    // Not passed on to anything this process starts.
    std::env::remove_var(LISTEN_FD_ENV);
    let fd: RawFd = value
        .to_str()
        .and_then(|v| v.parse().ok())
        .filter(|fd| *fd > 2)
        .ok_or_else(|| std::io::Error::other(format!("{LISTEN_FD_ENV} is not a descriptor")))?;
    // SAFETY: the previous process of this binary put a listening TCP socket
    // at this descriptor and nothing else in this process owns it yet.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    set_cloexec(fd, true)?;
    // Fails unless it really is a socket.
    listener.local_addr()?;
    listener.set_nonblocking(true)?;
    Ok(Some(listener))
}

/// Replaces this process with a fresh start of the same binary and
/// arguments, keeping `listener` open for it. Returns only on failure.
pub fn reexec(listener: &TcpListener) -> std::io::Error {
    let fd = listener.as_raw_fd();
    if let Err(e) = set_cloexec(fd, false) {
        return e;
    }
    // /proc/self/exe still works when the binary was replaced on disk; the
    // original argv[0] keeps the process's name in ps and top.
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| "vto".into());
    std::process::Command::new("/proc/self/exe")
        .arg0(argv0)
        .args(args)
        .env(LISTEN_FD_ENV, fd.to_string())
        .exec()
}

fn set_cloexec(fd: RawFd, on: bool) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor this process owns; no memory involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let flags = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
