//! Tandem: a language server that brings a coding agent into any editor for Python projects.
//!
//! The crate is a library plus the `tandem` binary. `lsp` is the only module that knows LSP
//! types and JSON-RPC; `session` owns the open documents, positions and configuration;
//! `analysis` turns Python text into facts and does no I/O; `cli` is the command line, which
//! calls the same engine as the language server. See `ARCHITECTURE.md`.

pub mod agent;
pub mod analysis;
pub mod cli;
pub mod context;
pub mod edits;
pub mod logging;
pub mod lsp;
pub mod models;
pub mod runs;
pub mod session;

/// jemalloc for every allocation of any program built on this crate (the `tandem` binary, its
/// tests and benchmarks), the C parts included: with `unprefixed_malloc_on_supported_platforms`
/// it provides `malloc` and `free` themselves, so tree-sitter's syntax trees (most of the
/// allocations when parsing) come from it too. Measured against glibc's allocator with two
/// builds of `tandem check --select TDM --no-cache` on Django, 5 interleaved runs each: median
/// wall time 0.46 s with glibc, 0.42 s with jemalloc (2 cores).
#[cfg(all(unix, not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read once when it starts (a `MALLOC_CONF` variable in the environment
/// is read after them and wins).
///
/// `oversize_threshold`: allocations of 1 MiB and more come from jemalloc's dedicated arena,
/// which gives freed memory back to the system at once rather than keeping it for ten seconds.
/// The solver's vectors grow by doubling: solving the standard library frees about 250 MB of
/// outgrown buffers between 256 KiB and 8 MiB (the default threshold), which stayed resident.
/// Peak (MiB, as the command prints it) and page faults, from
/// `MALLOC_CONF=oversize_threshold:N /usr/bin/time -f %R tandem-bench index-memory-child DIR ROOT`
/// (`MALLOC_CONF` overrides this setting):
///
/// | threshold | standard library | Django |
/// |---|---|---|
/// | 8 MiB (default) | 542–550 MiB, 173k faults | 102–103 MiB, 25k faults |
/// | 2 MiB | 518 MiB, 205k faults | 101–102 MiB, 28k faults |
/// | 1 MiB (this) | 514–517 MiB, 220k faults | 96 MiB, 29k faults |
/// | 256 KiB | 511–512 MiB, 252k faults | 94 MiB, 35k faults |
///
/// Each fault costs time (256 KiB added about 50 ms of system time on the standard library
/// and 10k faults on Django, which sits at its speed target); 1 MiB keeps most of the memory
/// for a third of Django's extra faults.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[unsafe(export_name = "malloc_conf")]
pub static JEMALLOC_CONF: &[u8; 27] = b"oversize_threshold:1048576\0";

/// Gives the pages of freed memory back to the system now (jemalloc otherwise keeps them for
/// ten seconds, for reuse). For after a phase that freed much that the next phase will not
/// reuse: analysis leaves freed syntax trees and plain texts in the worker threads' arenas,
/// which the solver, allocating large tables from its own, does not take back. A no-op
/// where jemalloc is not the allocator.
pub fn release_free_pages() {
    let rc = purge_all_arenas();
    if rc != 0 {
        tracing::debug!("jemalloc purge failed: {rc}");
    }
}

/// jemalloc's answer to a purge of every arena: 0 when done.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
fn purge_all_arenas() -> i32 {
    // `MALLCTL_ARENAS_ALL` (4096): every arena.
    const PURGE_ALL: &[u8] = b"arena.4096.purge\0";
    // SAFETY: the name is a NUL-terminated string jemalloc knows; a purge reads and writes
    // no value, so every other argument is null or zero, as mallctl(3) documents.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            PURGE_ALL.as_ptr().cast(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    }
}

#[cfg(not(all(target_os = "linux", not(target_env = "musl"))))]
fn purge_all_arenas() -> i32 {
    0
}

#[cfg(all(test, target_os = "linux", not(target_env = "musl")))]
mod allocator_tests {
    /// A purge reaches jemalloc and succeeds, with memory freed on other threads or not.
    #[test]
    fn jemalloc_purges_every_arena() {
        std::thread::spawn(|| drop(vec![1u8; 4 << 20]))
            .join()
            .unwrap();
        assert_eq!(super::purge_all_arenas(), 0);
        assert_eq!(super::purge_all_arenas(), 0);
    }

    /// The settings reach jemalloc (the linker keeps `JEMALLOC_CONF` in place of jemalloc's
    /// empty default), unless the environment overrides them.
    #[test]
    fn jemalloc_reads_the_oversize_threshold() {
        if std::env::var_os("MALLOC_CONF").is_some() {
            return;
        }
        unsafe extern "C" {
            fn mallctl(
                name: *const std::ffi::c_char,
                old: *mut std::ffi::c_void,
                old_len: *mut usize,
                new: *mut std::ffi::c_void,
                new_len: usize,
            ) -> i32;
        }
        let mut value: usize = 0;
        let mut len = std::mem::size_of::<usize>();
        // SAFETY: `opt.oversize_threshold` is a `size_t`; `value` and `len` describe it.
        let status = unsafe {
            mallctl(
                c"opt.oversize_threshold".as_ptr(),
                (&mut value as *mut usize).cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        assert_eq!(status, 0);
        assert_eq!(value, 1024 * 1024);
    }
}
