//! The e2e step of `cargo xtask test`: the browser tests of `e2e/`, each test file its own
//! binary, run two binaries at a time.
//!
//! A test file drives its own `kefu` server, its own site and its own Chromium sessions on
//! ports it picks, so two files never share anything but the machine. Most of a test is
//! waiting (for a page, a socket, a browser round trip): one binary at a time keeps one core
//! about 80 % busy, so two at a time nearly halves the step on a 2-core CI machine. Inside
//! a binary the tests still run one after another (`--test-threads=1`). Each binary's
//! output is printed in one piece when it ends, so the log reads like `cargo test`'s.
//! `KEFU_E2E_JOBS=1` runs them one at a time.

use std::{
    collections::VecDeque,
    env,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Mutex,
    thread,
    time::Instant,
};

use crate::{Error, Result, cmd::Cmd, project_root, setup};

/// Builds the e2e test binaries, then runs them `KEFU_E2E_JOBS` (default 2) at a time with the
/// server binary `kefu`, the widget in `assets` and axe-core (installed by `setup --test`).
pub(crate) fn run(kefu: &Path, assets: &Path) -> Result<()> {
    let build_log = Cmd::cargo()
        .args(["test", "--package", "kefu-e2e", "--no-run"])
        .read_stderr()?;
    let binaries = test_binaries(&build_log);
    if binaries.is_empty() {
        return Err(Error::new(
            "`cargo test --no-run` listed no e2e test binary".to_string(),
        ));
    }
    let jobs = jobs()?;
    let axe = setup::axe_core_script()?;
    println!(
        "running {} e2e test binaries, {jobs} at a time",
        binaries.len()
    );

    let queue = Mutex::new(binaries.into_iter().collect::<VecDeque<_>>());
    let failed = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while let Some((name, path)) = pop(&queue) {
                    let started = Instant::now();
                    let outcome = Command::new(&path)
                        .arg("--test-threads=1")
                        .env("KEFU_BIN", kefu)
                        .env("KEFU_ASSETS", assets)
                        .env("KEFU_AXE_JS", &axe)
                        .current_dir(project_root().join("e2e"))
                        .stdin(Stdio::null())
                        .output();
                    let seconds = started.elapsed().as_secs_f64();
                    // One print per binary, so the outputs of two binaries never interleave.
                    let passed = match outcome {
                        Ok(output) => {
                            println!(
                                "\n     Ran {name} ({seconds:.1} s)\n{}{}",
                                String::from_utf8_lossy(&output.stdout),
                                String::from_utf8_lossy(&output.stderr)
                            );
                            output.status.success()
                        }
                        Err(error) => {
                            println!("\n     Could not start {}: {error}", path.display());
                            false
                        }
                    };
                    if !passed {
                        failed.lock().unwrap_or_else(|e| e.into_inner()).push(name);
                    }
                }
            });
        }
    });

    let failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "e2e test binaries failed: {}",
            failed.join(", ")
        )))
    }
}

fn pop(queue: &Mutex<VecDeque<(String, PathBuf)>>) -> Option<(String, PathBuf)> {
    queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
}

/// `KEFU_E2E_JOBS`, else 2 (or 1 on a single core).
fn jobs() -> Result<usize> {
    match env::var("KEFU_E2E_JOBS") {
        Ok(value) => value
            .parse::<usize>()
            .ok()
            .filter(|jobs| *jobs > 0)
            .ok_or_else(|| {
                Error::new(format!(
                    "KEFU_E2E_JOBS must be a positive number, not {value:?}"
                ))
            }),
        Err(_) => Ok(thread::available_parallelism().map_or(1, |n| n.get().min(2))),
    }
}

/// The test binaries `cargo test --no-run` reports, as (source file, executable), from its
/// lines `  Executable tests/xss.rs (target/debug/deps/xss-4068f1e1785064a1)`. The library's
/// own unit tests come first (they are quick); the test files follow in cargo's order.
fn test_binaries(build_log: &str) -> Vec<(String, PathBuf)> {
    build_log
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("Executable ")?;
            let (name, path) = rest.rsplit_once(" (")?;
            let path = path.strip_suffix(')')?;
            Some((name.trim().to_string(), project_root().join(path)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_executables_cargo_lists() {
        let log = "   Compiling kefu-e2e v0.1.0 (/w/e2e)\n    Finished `test` profile [unoptimized] target(s) in 19.07s\n  Executable unittests src/lib.rs (target/debug/deps/kefu_e2e-1)\n  Executable tests/xss.rs (target/debug/deps/xss-2)\n";
        let binaries = test_binaries(log);
        assert_eq!(
            binaries,
            vec![
                (
                    "unittests src/lib.rs".to_string(),
                    project_root().join("target/debug/deps/kefu_e2e-1")
                ),
                (
                    "tests/xss.rs".to_string(),
                    project_root().join("target/debug/deps/xss-2")
                ),
            ]
        );
    }
}
