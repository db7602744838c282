//! `cargo xtask test`: everything CI checks (`.ci/run` calls only this), cheapest first, and
//! stopping at the first failing step. A summary of step durations ends the output either way.
//!
//! The gates come first: `cargo fmt --check` (seconds, before anything is installed), then
//! clippy with `-D warnings` for the native crates and for the widget on wasm32, so a
//! formatting slip or a lint fails in minutes rather than after the browsers.
//!
//! The native tests exclude the widget (built for wasm32 only) and the e2e crate (which
//! needs the built server and widget); both run later against the real artefacts: the
//! widget's wasm-bindgen tests in headless Chromium, then the e2e suite one test at a time,
//! since each test drives its own server and browsers and the machine has few cores.
//! Right after the server is built, the short run of the history checker (`kefu-reliability
//! short`, see RELIABILITY.md) drives it under faults and fails on any lost or duplicated
//! acknowledged message.

use std::time::{Duration, Instant};

use crate::{Result, cmd::Cmd, project_root, reliability, setup, target_dir, widget};

pub(crate) fn test() -> Result<()> {
    let mut steps = Steps::default();
    let result = run_steps(&mut steps);
    steps.print_summary(result.is_ok());
    result
}

fn run_steps(steps: &mut Steps) -> Result<()> {
    let kefu = target_dir().join("debug/kefu");
    let assets = project_root().join("target/dist");
    steps.run("fmt", || {
        Cmd::cargo().args(["fmt", "--all", "--check"]).run()
    })?;
    steps.run("setup --test", || setup::setup(true))?;
    steps.run("clippy (native)", || {
        Cmd::cargo()
            .args([
                "clippy",
                "--workspace",
                "--exclude",
                "kefu-widget",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .run()
    })?;
    steps.run("clippy (wasm32)", || {
        Cmd::cargo()
            .args([
                "clippy",
                "--package",
                "kefu-widget",
                "--target",
                "wasm32-unknown-unknown",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .run()
    })?;
    steps.run("native tests", || {
        Cmd::cargo()
            .args([
                "test",
                "--no-fail-fast",
                "--workspace",
                "--exclude",
                "kefu-widget",
                "--exclude",
                "kefu-e2e",
            ])
            .run()
    })?;
    steps.run("build-widget", widget::build_widget)?;
    steps.run("build server", || {
        Cmd::cargo()
            .args(["build", "--package", "kefu-server"])
            .run()
    })?;
    steps.run("reliability (short)", || {
        reliability::run_short(&kefu, &assets)
    })?;
    steps.run("widget browser tests", || {
        // wasm-bindgen-test-runner (the wasm32 runner in .cargo/config.toml) starts this
        // ChromeDriver with the Chromium options of webdriver.json, read from the root.
        Cmd::cargo()
            .args([
                "test",
                "--target",
                "wasm32-unknown-unknown",
                "--package",
                "kefu-widget",
            ])
            .env("CHROMEDRIVER", "/usr/bin/chromedriver")
            .run()
    })?;
    steps.run("e2e tests", || {
        Cmd::cargo()
            .args([
                "test",
                "--no-fail-fast",
                "--package",
                "kefu-e2e",
                "--",
                "--test-threads=1",
            ])
            .env("KEFU_BIN", &kefu)
            .env("KEFU_ASSETS", &assets)
            .env("KEFU_AXE_JS", setup::axe_core_script()?)
            .run()
    })?;
    Ok(())
}

#[derive(Default)]
struct Steps {
    finished: Vec<(&'static str, Duration)>,
    failed: Option<(&'static str, Duration)>,
}

impl Steps {
    fn run(&mut self, name: &'static str, step: impl FnOnce() -> Result<()>) -> Result<()> {
        println!("\n==> {name}");
        let start = Instant::now();
        let result = step();
        match result {
            Ok(()) => self.finished.push((name, start.elapsed())),
            Err(_) => self.failed = Some((name, start.elapsed())),
        }
        result
    }

    fn print_summary(&self, all_passed: bool) {
        println!("\nxtask test summary:");
        let mut total = Duration::ZERO;
        for (name, duration) in &self.finished {
            println!("  ok      {name:<24} {:>7.1} s", duration.as_secs_f64());
            total += *duration;
        }
        if let Some((name, duration)) = &self.failed {
            println!("  FAILED  {name:<24} {:>7.1} s", duration.as_secs_f64());
            total += *duration;
        }
        let verdict = if all_passed {
            "all steps passed"
        } else {
            "stopped at the failure"
        };
        println!(
            "  total   {:<24} {:>7.1} s  ({verdict})",
            "",
            total.as_secs_f64()
        );
    }
}
