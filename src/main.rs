//! The `switchboard` binary: parse the command line, load the configuration, run.

use clap::Parser;

use switchboard::cli::{self, Cli};
use switchboard::config::Config;

/// mimalloc frees memory across threads without locks (the store's writer frees what the
/// async threads allocated, and the other way round), where glibc's allocator takes the other
/// thread's arena lock: about a tenth less of the hub's CPU per webhook delivery.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Sets `arena_eager_commit` to 0 before the first allocation, which is when mimalloc reserves
/// its first arena: memory is then committed as it is used and returned to the OS when freed.
/// A hub holding 10,000 idle connections stays under 100 MB resident this way, against 134–166
/// MB with arenas committed at once or with glibc's allocator. Setting it in `main` is too
/// late: the first arena is already committed by then.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static COMMIT_ARENAS_LAZILY: extern "C" fn() = commit_arenas_lazily;

#[cfg(target_os = "linux")]
extern "C" fn commit_arenas_lazily() {
    // SAFETY: `mi_option_set` only stores a value in mimalloc's option table; it allocates
    // nothing and is safe to call before any other mimalloc function.
    unsafe { mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

/// `mi_option_arena_eager_commit` in mimalloc v3's `mimalloc.h` (the `mi_option_e` enum); the
/// test below checks it by name against the linked mimalloc.
#[cfg(target_os = "linux")]
const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;

/// Hands memory freed since the last pass back to the OS every 10 s. mimalloc returns freed
/// memory on a later allocation; a hub gone quiet makes none and would keep it.
fn release_freed_memory_while_idle() -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("mem-release".into())
        .spawn(|| loop {
            std::thread::sleep(std::time::Duration::from_secs(10));
            // SAFETY: `mi_collect` may be called from any thread at any time.
            unsafe { mi_collect(true) };
        })
        .map(drop)
}

unsafe extern "C" {
    #[cfg(target_os = "linux")]
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    fn mi_collect(force: bool);
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let loaded = match Config::load() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Commands whose output is data (`account ...`) keep stdout for it; logs go to stderr.
    switchboard::telemetry::init(loaded.config.log_format, cli.command.prints_data());
    loaded.log();
    let config = loaded.config;
    if let Err(e) = release_freed_memory_while_idle() {
        tracing::warn!("freed memory is returned to the OS only under load: {e}");
    }
    let code = match cli::run(cli, config).await {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("switchboard: {e:#}");
            1
        }
    };
    // Everything that matters has finished (requests in flight, commits); background workers
    // keep their state in the database, so leave now instead of waiting on them to wind down.
    leave(code)
}

/// Ends the process at once with `code`, once what was written to stdout and stderr is out.
/// Other threads (the store's writers, the pool's reaper) may still hold database connections:
/// the C library's exit handlers would tear libpq, OpenSSL and the allocator down under them
/// (a crash after `stopped`), so they do not run.
fn leave(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    #[cfg(unix)]
    {
        unsafe extern "C" {
            fn _exit(status: std::ffi::c_int) -> !;
        }
        // SAFETY: `_exit` ends the process without running exit handlers; the output is
        // flushed above and nothing else remains to be written.
        unsafe { _exit(code) }
    }
    #[cfg(not(unix))]
    std::process::exit(code)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::ffi::{c_char, c_void, CStr};

    unsafe extern "C" {
        fn mi_options_print_out(out: extern "C" fn(*const c_char, *mut c_void), arg: *mut c_void);
    }

    extern "C" fn collect(message: *const c_char, arg: *mut c_void) {
        // SAFETY: mimalloc passes a NUL-terminated message and the `arg` given below.
        let (message, printed) = unsafe { (CStr::from_ptr(message), &mut *(arg as *mut String)) };
        printed.push_str(&message.to_string_lossy());
    }

    #[test]
    fn mimalloc_commits_its_arenas_lazily_from_the_start() {
        let mut printed = String::new();
        // SAFETY: `collect` appends to `printed`, which outlives the call.
        unsafe { mi_options_print_out(collect, &mut printed as *mut String as *mut c_void) };
        assert!(
            printed.contains("option 'arena_eager_commit': 0 "),
            "mimalloc's options:\n{printed}"
        );
    }
}
