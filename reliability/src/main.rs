//! `kefu-reliability short|long [--kefu PATH] [--assets DIR] [--allow-no-disk-full]`: runs
//! the history checker against the `kefu` binary (default `$KEFU_BIN`, else
//! `target/debug/kefu`) and exits non-zero when any acknowledged message is lost or
//! duplicated, any other rule of the checker is broken, a fault of the plan was never
//! injected (a `kill -9` counts only when it hit running traffic), or the run is below one
//! of its plan's minimums (it would pass vacuously). Without a tmpfs for the disk-full
//! fault the run fails, unless `--allow-no-disk-full`, which the summary then shouts about.
//! The seed is printed;
//! `KEFU_SEED=<n>` replays its choices. `cargo xtask test` runs `short`, `cargo xtask
//! reliability` runs `long`.

use std::path::PathBuf;
use std::process::ExitCode;

use kefu_reliability::checker;
use kefu_reliability::driver::{self, Plan};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|index| args.get(index + 1))
            .cloned()
    };
    let seed = match std::env::var("KEFU_SEED") {
        Ok(seed) => match seed.parse() {
            Ok(seed) => seed,
            Err(_) => {
                eprintln!("kefu-reliability: KEFU_SEED={seed:?} is not a number");
                return ExitCode::FAILURE;
            }
        },
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 % 1_000_000_007),
    };
    let plan = match args.first().map(String::as_str) {
        Some("short") => Plan::short(seed),
        Some("long") => Plan::long(seed),
        _ => {
            eprintln!(
                "usage: kefu-reliability short|long [--kefu PATH] [--assets DIR] [--allow-no-disk-full]   (KEFU_SEED=<n> replays a run)"
            );
            return ExitCode::FAILURE;
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("reliability/ is in the workspace")
        .to_path_buf();
    let kefu = value("--kefu")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("KEFU_BIN").map(PathBuf::from))
        .unwrap_or_else(|| root.join("target/debug/kefu"));
    let assets = value("--assets")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("KEFU_ASSETS").map(PathBuf::from))
        .unwrap_or_else(|| root.join("target/dist"));
    if !kefu.exists() {
        eprintln!(
            "kefu-reliability: no server binary at {} (build it: cargo build -p kefu-server --bin kefu)",
            kefu.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "kefu-reliability: {} run, seed {seed} (replay with KEFU_SEED={seed}), server {}",
        plan.name,
        kefu.display()
    );
    let allow_no_disk_full = args.iter().any(|arg| arg == "--allow-no-disk-full");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome = match runtime.block_on(driver::run(
        plan.clone(),
        &kefu,
        &assets,
        allow_no_disk_full,
    )) {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln!("kefu-reliability: the run failed (seed {seed}): {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let report = checker::check(&outcome.history);
    let figures = &outcome.figures;
    figures.print(&report);
    let mut missing_faults = Vec::new();
    if figures.kills_mid_run < figures.kills_planned {
        missing_faults.push(format!(
            "kill -9 + restart ({} of the {} planned hit running traffic: the clients still ran and acks came after the restart)",
            figures.kills_mid_run, figures.kills_planned
        ));
    }
    for (name, count) in [
        ("dropped before the ack", figures.drop_before_ack),
        ("dropped after the ack", figures.drop_after_ack),
        ("resumed from an old seq", figures.old_resume),
        ("duplicate client_msg_id", figures.duplicate_send),
    ] {
        if count == 0 {
            missing_faults.push(name.to_owned());
        }
    }
    if figures.disk_unavailable.is_none()
        && figures
            .disk_windows
            .iter()
            .map(|w| w.refused_writes)
            .sum::<u64>()
            == 0
        && plan.disk_fulls > 0
    {
        missing_faults.push("disk full (no write was refused during the windows)".to_owned());
    }
    let shortfalls = plan.minimums.shortfalls(plan.name, figures, &report);
    let mut failed = false;
    if !shortfalls.is_empty() {
        failed = true;
        println!(
            "\nFAILED: the run is below {} of its minimums (seed {seed}):",
            shortfalls.len()
        );
        for shortfall in &shortfalls {
            println!("  {shortfall}");
        }
    }
    if !report.passed() {
        failed = true;
        println!(
            "\nFAILED: {} violations (seed {seed}):",
            report.violations.len()
        );
        for violation in report.violations.iter().take(40) {
            println!("  {violation}");
        }
        if report.violations.len() > 40 {
            println!("  … and {} more", report.violations.len() - 40);
        }
    }
    if !missing_faults.is_empty() {
        failed = true;
        println!(
            "\nFAILED: faults never injected: {}",
            missing_faults.join(", ")
        );
    }
    if failed {
        let errors: Vec<&str> = outcome
            .server_log
            .lines()
            .filter(|line| {
                line.contains("ERROR") || line.contains("WARN") || line.contains("panic")
            })
            .collect();
        println!(
            "\nThe server's errors and warnings ({} lines; the first 10 and the last 10):",
            errors.len()
        );
        for (index, line) in errors.iter().enumerate() {
            if index < 10 || index + 10 >= errors.len() {
                println!("  {line}");
            } else if index == 10 {
                println!("  …");
            }
        }
        ExitCode::FAILURE
    } else {
        println!(
            "\nOK: every acknowledged message is stored exactly once, in order, and held by both sides; no gaps after resume."
        );
        if let Some(why) = &figures.disk_unavailable {
            println!(
                "\n!!!!!!!! BUT THE DISK-FULL FAULT WAS NOT INJECTED (--allow-no-disk-full): {why}\n!!!!!!!! This run says nothing about a full disk."
            );
        }
        ExitCode::SUCCESS
    }
}
