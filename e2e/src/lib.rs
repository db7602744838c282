//! The end-to-end harness: a real `kefu` server and real headless Chromium, driven the way a
//! customer and an agent use them.
//!
//! - [`KefuServer`] (`server.rs`) starts the server binary on a free loopback port with a
//!   fresh data directory, waits for `/healthz`, and can kill, restart and run CLI commands.
//! - [`Browser`] (`browser.rs`) is one Chromium under its own ChromeDriver. Tests find
//!   elements like a person or a screen reader does, by role and accessible name (taken from
//!   Chrome's accessibility tree through WebDriver's `computedrole`/`computedlabel`), not by
//!   CSS classes, so a test breaks when the page stops being usable, not when markup moves.
//! - [`Customer`] and [`Agent`] (`people.rs`): a visitor of the demo page and an online agent,
//!   with the steps widget tests repeat (open the panel, say something, reply).
//! - [`TestSite`] (`site.rs`): a site owner's pages on a port of their own (and a foreign
//!   origin on the same port), for the widget embedded across origins and under a CSP.
//! - `webdriver.rs` is the wire: one function per W3C WebDriver command over one HTTP client.
//!
//! Everything is blocking and every wait polls with a deadline, because a test reads best
//! as a straight sequence of steps. Failures panic with what was expected and what was seen;
//! a failing test also leaves the server's logs, a screenshot and ChromeDriver's log behind
//! and prints where they are.
//!
//! The tests in `e2e/tests/` run through `cargo xtask test` (or `cargo xtask e2e`), which
//! builds the server and the widget and passes them in `KEFU_BIN` and `KEFU_ASSETS`. Two
//! test files run at the same time, so a test must not assume it has the machine (or any
//! fixed port) to itself: it takes free ports and its own directories, as the harness does.

mod axe;
mod browser;
mod people;
mod server;
mod site;
mod webdriver;

use std::{
    net::{Ipv4Addr, TcpListener},
    path::PathBuf,
    sync::atomic::{AtomicU32, Ordering},
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

pub use axe::Violation;
pub use browser::{Browser, BrowserOptions, Element};
pub use people::{Agent, Customer, RECONNECT_TIMEOUT};
pub use server::{KefuServer, ServerOptions};
pub use site::TestSite;

/// The workspace root.
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ lives directly under the workspace root")
        .to_path_buf()
}

/// Cargo's target directory, where the harness keeps screenshots and per-test directories.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => project_root().join(dir),
        None => project_root().join("target"),
    }
}

/// A loopback port that was free a moment ago. The listener is closed before returning, so
/// another process could take it in between; on a test machine that race does not happen.
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|error| panic!("cannot bind a loopback port: {error}"));
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}

/// A new, empty directory `target/e2e-runs/<kind>-<pid>-<n>-<time>`: inside the target
/// directory so that what a failed test leaves behind is easy to find and `cargo clean`
/// removes it.
pub(crate) fn fresh_dir(kind: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let dir = target_dir()
        .join("e2e-runs")
        .join(format!("{kind}-{}-{n}-{nanos:09}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
    dir
}

/// Calls `attempt` every `interval` until it returns `Some`, or returns `None` once `timeout`
/// has passed (after one last attempt).
pub(crate) fn poll<T>(
    timeout: Duration,
    interval: Duration,
    mut attempt: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = attempt() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(interval);
    }
}

/// The last `max_chars` characters of `text`, for failure messages about long pages or logs.
pub(crate) fn tail(text: &str, max_chars: usize) -> String {
    let n_chars = text.chars().count();
    if n_chars <= max_chars {
        text.to_string()
    } else {
        let tail: String = text.chars().skip(n_chars - max_chars).collect();
        format!("…{tail}")
    }
}
