//! What the widget costs the host page, measured in headless Chromium on the demo page (a
//! plain page with the pasted tag), each run in a fresh browser profile (a first visit):
//! time to the launcher's first paint, bytes fetched before the visitor opens the chat, and
//! time from the click to a connected panel with its composer.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use kefu_e2e::Browser;
use serde_json::Value;

struct Run {
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
    for _ in 0..runs {
        results.push(visit(&url)?);
    }
    let median = |values: Vec<f64>| -> f64 {
        let mut values = values;
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let mut section = String::new();
    writeln!(section, "### Host page cost (headless Chromium, loopback, {runs} cold visits, medians)\n")?;
    writeln!(section, "| measure | median |\n|---|---:|")?;
    writeln!(section, "| page load event | {:.0} ms |", median(results.iter().map(|run| run.load_event_ms).collect()))?;
    writeln!(section, "| launcher painted (embed.js's performance mark) | {:.0} ms |", median(results.iter().map(|run| run.launcher_paint_ms).collect()))?;
    writeln!(section, "| bytes fetched by the widget before the first open | {:.0} B |", median(results.iter().map(|run| run.bytes_before_open).collect()))?;
    writeln!(section, "| click to connected panel with composer | {:.0} ms |", median(results.iter().map(|run| run.click_to_interactive_ms).collect()))?;
    writeln!(section, "\nRequests of the widget before the first open: {}\n", results[0].requests_before_open.join(", "))?;
    Ok(section)
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

fn visit(url: &str) -> Result<Run> {
    let browser = Browser::start();
    browser.execute("return 1;", &[]);
    browser.goto(url);
    browser.find_by_role("button", "在线客服");
    // embed.js marks the frame after the launcher's first paint.
    let launcher_paint_ms = wait_for_number(
        &browser,
        "const mark = performance.getEntriesByName('kefu:launcher-painted')[0]; return mark ? mark.startTime : null;",
    )?;
    let load_event_ms = number(&browser.execute("return performance.getEntriesByType('navigation')[0].loadEventEnd;", &[]));
    // Everything fetched besides the host page itself is the widget's doing.
    let resources = browser.execute(
        "return performance.getEntriesByType('resource').map(entry => [entry.name, entry.transferSize || entry.encodedBodySize]);",
        &[],
    );
    let mut bytes_before_open = 0.0;
    let mut requests_before_open = Vec::new();
    for entry in resources.as_array().into_iter().flatten() {
        let name = entry[0].as_str().unwrap_or_default();
        bytes_before_open += number(&entry[1]);
        requests_before_open.push(name.rsplit('/').next().unwrap_or(name).to_owned());
    }
    if requests_before_open.iter().any(|name| name.contains(".wasm")) {
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
    Ok(Run { launcher_paint_ms, load_event_ms, bytes_before_open, requests_before_open, click_to_interactive_ms })
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
