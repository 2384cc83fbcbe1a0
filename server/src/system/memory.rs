//! The allocator's handling of large blocks (issue 22, floods).
//!
//! Each password check (argon2id) takes a 19 MiB block. glibc serves blocks
//! that large with mmap and unmaps them when freed, but after the first
//! such free it raises its mmap threshold to that size ("dynamic
//! threshold"), so later checks take their 19 MiB from per-thread arenas,
//! which keep it. A flood of wrong logins, checked on rotating blocking
//! threads, grew the device to 480 MiB resident (`.ci/bench-flood`). A
//! fixed threshold keeps large blocks on mmap: they go back to the system
//! when the check ends (84 MiB in the same flood).

/// Fixes the mmap threshold (glibc); elsewhere nothing. Called once at start,
/// before any thread.
#[allow(unsafe_code)] // mallopt, nowhere else
pub fn return_large_blocks() {
    /// Blocks at least this large are mapped and unmapped on their own.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    const MMAP_THRESHOLD: libc::c_int = 4 * 1024 * 1024;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; no memory is touched.
    unsafe {
        if libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1 {
            eprintln!("vto: the allocator's mmap threshold is left as it is");
        }
    }
}
