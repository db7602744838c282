//! What the widget costs the host page, measured in headless Chromium on the demo page (a
//! plain page with the pasted tag), each run in a fresh browser profile (a first visit):
//! time to the launcher's first paint, bytes fetched before the visitor opens the chat, and
//! time from the click to a connected panel with its composer, and the main-thread time the
//! page's renderer spent until idle (DevTools `Performance.getMetrics`), next to the same page
//! with the loader blocked (`Network.setBlockedURLs`) as the baseline, in the same run.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use kefu_e2e::Browser;
use serde_json::{Value, json};

struct Run {
    main_thread_ms: f64,
    launcher_paint_ms: f64,
    load_event_ms: f64,
    bytes_before_open: f64,
    requests_before_open: Vec<String>,
    click_to_interactive_ms: f64,
}

/// Runs `runs` cold visits and returns the Markdown section with medians.
pub fn measure(kefu: &Path, assets: &Path, runs: usize) -> Result<String> {
    let (_server, addr, _dir) = crate::start_kefu(kefu, assets, 0)?;
    let url = format!("http://{addr}/demo");
    let mut results = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..runs {
        results.push(visit(&url)?);
        baseline.push(visit_without_loader(&url)?);
    }
    let median = |values: Vec<f64>| -> f64 {
        let mut values = values;
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let mut section = String::new();
    writeln!(
        section,
        "### Host page cost (headless Chromium, loopback, {runs} cold visits, medians)\n"
    )?;
    writeln!(section, "| measure | median |\n|---|---:|")?;
    writeln!(
        section,
        "| page load event | {:.0} ms |",
        median(results.iter().map(|run| run.load_event_ms).collect())
    )?;
    writeln!(
        section,
        "| launcher painted (embed.js's performance mark) | {:.0} ms |",
        median(results.iter().map(|run| run.launcher_paint_ms).collect())
    )?;
    writeln!(
        section,
        "| bytes fetched by the widget before the first open | {:.0} B |",
        median(results.iter().map(|run| run.bytes_before_open).collect())
    )?;
    writeln!(
        section,
        "| click to connected panel with composer | {:.0} ms |",
        median(
            results
                .iter()
                .map(|run| run.click_to_interactive_ms)
                .collect()
        )
    )?;
    let with_loader = median(results.iter().map(|run| run.main_thread_ms).collect());
    let without = median(baseline.clone());
    writeln!(
        section,
        "| main-thread time until idle, page with the loader | {with_loader:.1} ms |"
    )?;
    writeln!(
        section,
        "| main-thread time until idle, same page, loader blocked (baseline) | {without:.1} ms |"
    )?;
    writeln!(
        section,
        "| the loader's share (difference of medians) | {:.1} ms ({:.2}x the baseline) |",
        with_loader - without,
        with_loader / without
    )?;
    writeln!(
        section,
        "\nRequests of the widget before the first open: {}\n",
        results[0].requests_before_open.join(", ")
    )?;
    Ok(section)
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

/// How long after the load a page is taken to be idle before its main-thread time is read.
const SETTLE: Duration = Duration::from_millis(1_000);

/// The renderer's main-thread busy time so far (DevTools `TaskDuration`), in ms.
fn main_thread_ms(browser: &Browser) -> Result<f64> {
    let metrics = browser.cdp("Performance.getMetrics", json!({}));
    metrics["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|metric| metric["name"] == "TaskDuration")
        .and_then(|metric| metric["value"].as_f64())
        .map(|seconds| seconds * 1_000.0)
        .ok_or_else(|| anyhow::anyhow!("no TaskDuration in {metrics}"))
}

/// The baseline: the same demo page in a fresh browser, with requests for the loader blocked.
fn visit_without_loader(url: &str) -> Result<f64> {
    let browser = Browser::start();
    browser.execute("return 1;", &[]);
    browser.cdp("Performance.enable", json!({}));
    browser.cdp("Network.enable", json!({}));
    browser.cdp("Network.setBlockedURLs", json!({ "urls": ["*/embed.js*"] }));
    browser.goto(url);
    std::thread::sleep(SETTLE);
    let launchers = browser.execute("return document.querySelectorAll('button').length;", &[]);
    if launchers.as_u64() != Some(0) {
        bail!("the loader was not blocked for the baseline: {launchers} buttons on the page");
    }
    main_thread_ms(&browser)
}

fn visit(url: &str) -> Result<Run> {
    let browser = Browser::start();
    browser.execute("return 1;", &[]);
    browser.cdp("Performance.enable", json!({}));
    browser.goto(url);
    browser.find_by_role("button", "在线客服");
    // embed.js marks the frame after the launcher's first paint.
    let launcher_paint_ms = wait_for_number(
        &browser,
        "const mark = performance.getEntriesByName('kefu:launcher-painted')[0]; return mark ? mark.startTime : null;",
    )?;
    std::thread::sleep(SETTLE);
    let main_thread_ms = main_thread_ms(&browser)?;
    let load_event_ms = number(&browser.execute(
        "return performance.getEntriesByType('navigation')[0].loadEventEnd;",
        &[],
    ));
    // Everything fetched besides the host page itself is the widget's doing.
    let resources = browser.execute(
        "return performance.getEntriesByType('resource').map(entry => [entry.name, entry.transferSize || entry.encodedBodySize]);",
        &[],
    );
    let mut bytes_before_open = 0.0;
    let mut requests_before_open = Vec::new();
    for entry in resources.as_array().into_iter().flatten() {
        let name = entry[0].as_str().unwrap_or_default();
        // The browser asks for the host page's icon by itself: not the widget's doing.
        if name.ends_with("/favicon.ico") {
            continue;
        }
        bytes_before_open += number(&entry[1]);
        requests_before_open.push(name.rsplit('/').next().unwrap_or(name).to_owned());
    }
    if requests_before_open
        .iter()
        .any(|name| name.contains(".wasm"))
    {
        bail!("the Wasm was fetched before the first open: {requests_before_open:?}");
    }
    browser.execute(
        "window.__kefuReady = null;
         const launcher = Array.from(document.querySelectorAll('button')).find(b => b.textContent.includes('在线客服'));
         launcher.addEventListener('click', () => {
           window.__kefuClick = performance.now();
           (function poll() {
             const frame = document.querySelector('iframe');
             const panel = frame && frame.contentDocument;
             const composer = panel && panel.querySelector('textarea');
             const status = panel && panel.querySelector('[role=status]');
             if (composer && status && !/连接|Connecting/.test(status.textContent)) window.__kefuReady = performance.now() - window.__kefuClick;
             else requestAnimationFrame(poll);
           })();
         }, { capture: true });
         return 1;",
        &[],
    );
    browser.find_by_role("button", "在线客服").click();
    let click_to_interactive_ms = wait_for_number(&browser, "return window.__kefuReady;")?;
    // The panel's page preloads its Wasm; a second download would mean the preload missed.
    let wasm_fetches = browser.execute(
        "return document.querySelector('iframe').contentWindow.performance.getEntriesByType('resource')
                .filter(entry => entry.name.includes('.wasm')).length;",
        &[],
    );
    if wasm_fetches.as_u64() != Some(1) {
        bail!("the panel fetched its Wasm {wasm_fetches} times (expected once)");
    }
    Ok(Run {
        main_thread_ms,
        launcher_paint_ms,
        load_event_ms,
        bytes_before_open,
        requests_before_open,
        click_to_interactive_ms,
    })
}

fn wait_for_number(browser: &Browser, script: &str) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let value = browser.execute(script, &[]);
        if let Some(number) = value.as_f64() {
            return Ok(number);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("no value from `{script}` within 20 s")
}
