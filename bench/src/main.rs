//! `kefu-bench`: the benchmark suite behind `cargo xtask bench`.
//!
//! Every figure is a median or a percentile over many samples, and every server figure is
//! reported next to the same traffic through a bare WebSocket relay measured in the same run
//! ([`relay`]), as a ratio. Modules: [`sizes`] (what a visitor downloads), [`load`] (the
//! WebSocket load generator), [`relay`] (the baseline), [`robot`] (matcher throughput),
//! [`page`] (host-page cost in headless Chromium), [`workspace`] (the agent workspace with 50
//! chats, input to paint).
//!
//! Usage: `kefu-bench all --kefu target/release/kefu --assets target/dist [--quick] [--no-page]`, or
//! `kefu-bench relay --listen 127.0.0.1:9000 --agents 10` to run the baseline alone, or
//! `kefu-bench workspace --kefu … --assets …` for the agent workspace measurement alone, or
//! `kefu-bench idle --kefu … --assets … [--low 1000] [--high 10000]` for the memory per idle
//! connection alone (Kefu and the relay).

mod idle;
mod load;
mod page;
mod relay;
mod robot;
mod sizes;
mod workspace;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use load::{LoadResult, Scenario, Target, percentile_ms};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("relay") => {
            let listen = value(&args, "--listen").unwrap_or_else(|| "127.0.0.1:0".to_owned());
            let agents: u64 = value(&args, "--agents").map_or(Ok(10), |value| value.parse())?;
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind(&listen).await?;
                println!("relay listening on {}", listener.local_addr()?);
                relay::serve(listener, agents).await
            })
        }
        Some("workspace") => {
            let kefu = PathBuf::from(value(&args, "--kefu").context("--kefu PATH is required")?);
            let assets =
                PathBuf::from(value(&args, "--assets").context("--assets DIR is required")?);
            print!(
                "{}",
                workspace::measure(&kefu, &assets, args.iter().any(|arg| arg == "--quick"))?
            );
            Ok(())
        }
        Some("page") => {
            let kefu = PathBuf::from(value(&args, "--kefu").context("--kefu PATH is required")?);
            let assets =
                PathBuf::from(value(&args, "--assets").context("--assets DIR is required")?);
            let runs: usize = value(&args, "--runs").map_or(Ok(5), |value| value.parse())?;
            print!("{}", page::measure(&kefu, &assets, runs)?);
            Ok(())
        }
        Some("idle") => {
            raise_open_files_limit();
            let kefu = PathBuf::from(value(&args, "--kefu").context("--kefu PATH is required")?);
            let assets =
                PathBuf::from(value(&args, "--assets").context("--assets DIR is required")?);
            let low: usize = value(&args, "--low").map_or(Ok(1_000), |value| value.parse())?;
            let high: usize = value(&args, "--high").map_or(Ok(10_000), |value| value.parse())?;
            print!("{}", idle_section(&kefu, &assets, low, high)?);
            Ok(())
        }
        Some("all") => {
            let kefu = PathBuf::from(value(&args, "--kefu").context("--kefu PATH is required")?);
            let assets =
                PathBuf::from(value(&args, "--assets").context("--assets DIR is required")?);
            let out = PathBuf::from(
                value(&args, "--out").unwrap_or_else(|| "target/bench/results.md".to_owned()),
            );
            let quick = args.iter().any(|arg| arg == "--quick");
            let with_page = !args.iter().any(|arg| arg == "--no-page");
            all(&kefu, &assets, &out, quick, with_page)
        }
        _ => bail!(
            "usage: kefu-bench all --kefu PATH --assets DIR [--out FILE] [--quick] [--no-page]\n\
             \x20      kefu-bench workspace --kefu PATH --assets DIR [--quick]   (the agent workspace with 50 chats only)\n\
             \x20      kefu-bench idle --kefu PATH --assets DIR [--low N] [--high N]   (memory per idle connection only)\n\
             \x20      kefu-bench relay --listen ADDR --agents N"
        ),
    }
}

fn value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1))
        .cloned()
}

/// The whole suite; prints a table as it goes and writes the Markdown report to `out`.
fn all(kefu: &Path, assets: &Path, out: &Path, quick: bool, with_page: bool) -> Result<()> {
    raise_open_files_limit();
    let suite_started = Instant::now();
    let mut report = String::new();
    writeln!(report, "Machine: {}", machine())?;
    writeln!(
        report,
        "Run: `{}`{}\n",
        std::env::args().collect::<Vec<_>>().join(" "),
        if quick { " (smoke sizes)" } else { "" }
    )?;

    // Sizes.
    writeln!(
        report,
        "### Sizes (bytes)\n\n| file | raw | gzip | brotli |\n|---|---:|---:|---:|"
    )?;
    let embed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../embed");
    let mut widget_gzip = 0;
    // embed.min.js is what the server sends; embed.js, its readable source, for comparison.
    for path in [
        embed_dir.join("embed.min.js"),
        embed_dir.join("embed.js"),
        assets.join("kefu-widget_bg.wasm"),
        assets.join("kefu-widget.js"),
        assets.join("kefu.css"),
    ] {
        let size = sizes::measure(&path)?;
        if !size.name.starts_with("embed") {
            widget_gzip += size.gzip;
        }
        writeln!(
            report,
            "| {} | {} | {} | {} |",
            size.name, size.raw, size.gzip, size.brotli
        )?;
    }
    writeln!(
        report,
        "| widget total (wasm + js + css) | | {widget_gzip} | |\n"
    )?;
    print!("{report}");

    // Page cost in headless Chromium.
    if with_page {
        let page_section = page::measure(kefu, assets, if quick { 3 } else { 15 })?;
        print!("{page_section}");
        report.push_str(&page_section);
    }

    if with_page {
        let workspace_section = workspace::measure(kefu, assets, quick)?;
        print!("{workspace_section}");
        report.push_str(&workspace_section);
    }

    // Server load, Kefu against the relay, scenario by scenario.
    let scenarios: Vec<Scenario> = if quick {
        vec![Scenario {
            idle: 10,
            active: 10,
            messages: 2,
        }]
    } else {
        [100, 1_000, 10_000]
            .into_iter()
            .map(|idle| Scenario {
                idle,
                active: 1_000,
                messages: 10,
            })
            .collect()
    };
    let agents = if quick { 2 } else { 10 };
    let mut load_section = String::new();
    writeln!(
        load_section,
        "### Server under load (loopback, {agents} agents)\n\nRound trip: customer → agent → customer; one way: customer → agent. Latencies in ms.\n\n\
         | idle + active | server | messages/s | round trip p50 | p99 | p999 | one way p50 | p99 | failed |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for scenario in scenarios {
        let kefu_result = run_kefu(kefu, assets, scenario, agents)?;
        let relay_result = run_relay(scenario, agents)?;
        for (name, result) in [("kefu", &kefu_result), ("relay", &relay_result)] {
            writeln!(
                load_section,
                "| {} + {} | {name} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
                scenario.idle,
                scenario.active,
                result.messages_per_second(),
                percentile_ms(&result.round_trip_us, 0.5),
                percentile_ms(&result.round_trip_us, 0.99),
                percentile_ms(&result.round_trip_us, 0.999),
                percentile_ms(&result.one_way_us, 0.5),
                percentile_ms(&result.one_way_us, 0.99),
                result.failed_conversations,
            )?;
        }
        writeln!(
            load_section,
            "| {} + {} | **kefu ÷ relay** | {:.2}× | {:.2}× | {:.2}× | | | | |",
            scenario.idle,
            scenario.active,
            kefu_result.messages_per_second() / relay_result.messages_per_second(),
            percentile_ms(&kefu_result.round_trip_us, 0.5)
                / percentile_ms(&relay_result.round_trip_us, 0.5),
            percentile_ms(&kefu_result.round_trip_us, 0.99)
                / percentile_ms(&relay_result.round_trip_us, 0.99),
        )?;
        println!(
            "{}",
            load_section
                .lines()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    load_section.push('\n');
    report.push_str(&load_section);

    // Memory per idle connection, as a slope.
    let (low, high) = if quick { (10, 100) } else { (1_000, 10_000) };
    let idle_section = idle_section(kefu, assets, low, high)?;
    print!("\n{idle_section}");
    report.push_str(&idle_section);

    // The robot.
    let mut robot_section = String::from(
        "### Robot (KnowledgeIndex::ask, one core)\n\n| items | index build ms | queries/s | p50 µs | p99 µs |\n|---:|---:|---:|---:|---:|\n",
    );
    let sizes: &[usize] = if quick { &[100] } else { &[100, 1_000, 10_000] };
    for &size in sizes {
        let result = robot::measure(size, if quick { 2 } else { 20 });
        writeln!(
            robot_section,
            "| {} | {:.1} | {:.0} | {:.1} | {:.1} |",
            result.items, result.build_ms, result.queries_per_second, result.p50_us, result.p99_us
        )?;
    }
    print!("\n{robot_section}");
    report.push_str(&robot_section);
    writeln!(
        report,
        "\nSuite time: {:.0} s",
        suite_started.elapsed().as_secs_f64()
    )?;
    println!(
        "\nSuite time: {:.0} s",
        suite_started.elapsed().as_secs_f64()
    );

    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(out, &report).with_context(|| format!("writing {}", out.display()))?;
    println!("Report written to {}", out.display());
    Ok(())
}

/// 10,000 idle connections need more than the usual 1,024 file descriptors; the servers
/// started from here inherit the raised limit.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .map(|line| line.split(':').nth(1).unwrap_or_default().trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .next()
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024 / 1024);
    format!("{cores} cores ({cpu}), {memory} GiB")
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A child process killed when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_for_port(addr: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listens on {addr} after 30 s")
}

/// `kefu.toml` for the benchmarks: every client comes from 127.0.0.1, so the per-IP rate
/// limit (meant for the public) would throttle the load generator itself. The idle
/// connections send nothing (the relay's neither), where a widget pings every 25 s: the
/// server's idle close is set beyond any run so that it holds them all, as it would hold
/// pinging ones.
pub const BENCH_SETTINGS: &str = "identity_secret = \"bench\"\nvisitor_frames_per_second = 1000000.0\nvisitor_frame_burst = 1000000.0\nip_frames_per_second = 1000000.0\nip_frame_burst = 1000000.0\nidle_close_seconds = 86400\n";

/// Starts `kefu serve` on a fresh data directory with `agents` agents.
pub fn start_kefu(kefu: &Path, assets: &Path, agents: usize) -> Result<(Process, String, PathBuf)> {
    let dir = std::env::temp_dir().join(format!(
        "kefu-bench-{}-{}",
        std::process::id(),
        free_port()?
    ));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("kefu.toml"), BENCH_SETTINGS)?;
    for index in 0..agents {
        let status = Command::new(kefu)
            .args([
                "agent",
                "add",
                "--login",
                &format!("bench{index}"),
                "--password",
                "bench-password",
                "--max-chats",
                "100",
            ])
            .arg("--data-dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("kefu agent add failed");
        }
    }
    let addr = format!("127.0.0.1:{}", free_port()?);
    let child = Command::new(kefu)
        .args(["serve", "--listen", &addr])
        .arg("--data-dir")
        .arg(&dir)
        .arg("--assets")
        .arg(assets)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting kefu")?;
    let process = Process(child);
    wait_for_port(&addr)?;
    Ok((process, addr, dir))
}

fn run_kefu(kefu: &Path, assets: &Path, scenario: Scenario, agents: usize) -> Result<LoadResult> {
    let (process, addr, dir) = start_kefu(kefu, assets, agents)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(async {
        let mut tokens = Vec::new();
        for index in 0..agents {
            tokens
                .push(load::agent_login(&addr, &format!("bench{index}"), "bench-password").await?);
        }
        load::run(
            &Target::Kefu {
                addr: addr.clone(),
                agent_tokens: tokens,
            },
            scenario,
        )
        .await
    });
    drop(process);
    let _ = std::fs::remove_dir_all(dir);
    result
}

fn run_relay(scenario: Scenario, agents: usize) -> Result<LoadResult> {
    let (process, addr) = start_relay(agents)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(load::run(&Target::Relay { addr, agents }, scenario));
    drop(process);
    result
}

/// Kefu's and the relay's memory per idle connection between `low` and `high` idle
/// connections, one after the other in this run, as a Markdown section.
fn idle_section(kefu: &Path, assets: &Path, low: usize, high: usize) -> Result<String> {
    let runtime = tokio::runtime::Runtime::new()?;
    let kefu_slope = {
        let (process, addr, dir) = start_kefu(kefu, assets, 0)?;
        let target = Target::Kefu {
            addr,
            agent_tokens: Vec::new(),
        };
        let slope = runtime.block_on(idle::measure(&target, low, high, process.0.id()));
        drop(process);
        let _ = std::fs::remove_dir_all(dir);
        slope?
    };
    let relay_slope = {
        let (process, addr) = start_relay(1)?;
        let target = Target::Relay { addr, agents: 1 };
        let slope = runtime.block_on(idle::measure(&target, low, high, process.0.id()));
        drop(process);
        slope?
    };
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    idle::section(&command, &kefu_slope, &relay_slope)
}

fn start_relay(agents: usize) -> Result<(Process, String)> {
    let addr = format!("127.0.0.1:{}", free_port()?);
    let child = Command::new(std::env::current_exe()?)
        .args(["relay", "--listen", &addr, "--agents", &agents.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .context("starting the relay")?;
    let process = Process(child);
    wait_for_port(&addr)?;
    Ok((process, addr))
}
