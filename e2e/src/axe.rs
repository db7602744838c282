//! Accessibility scans with axe-core, the engine browsers' own audits use: injected into the
//! current frame of a [`Browser`] and run there, so a test can say "this page has no serious
//! accessibility problem" the way it says "this button is there".
//!
//! `cargo xtask setup --test` installs the pinned release from npm (`axe-core@4.14.1`) under
//! `~/.cache/kefu-tools/axe-core-4.14.1`; `cargo xtask test` passes the script's path in
//! `KEFU_AXE_JS`, and without it the harness looks in that same place.

use std::{fs, path::PathBuf, sync::OnceLock};

use serde_json::Value;

use crate::Browser;

/// The folder `cargo xtask setup --test` installs axe-core into, under `~/.cache/kefu-tools`.
const AXE_CORE_DIR: &str = "axe-core-4.14.1";

/// One rule axe-core found broken, with the elements that break it.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The rule, e.g. `color-contrast`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    /// What the rule wants, in axe-core's words.
    pub help: String,
    /// Each offending element: its CSS selector and axe-core's summary of what is wrong.
    pub nodes: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "[{}] {}: {}", self.impact, self.id, self.help)?;
        for node in &self.nodes {
            writeln!(f, "    {node}")?;
        }
        Ok(())
    }
}

fn axe_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        let path = std::env::var_os("KEFU_AXE_JS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let home = std::env::var_os("HOME").unwrap_or_default();
                PathBuf::from(home)
                    .join(".cache/kefu-tools")
                    .join(AXE_CORE_DIR)
                    .join("node_modules/axe-core/axe.min.js")
            });
        fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "cannot read axe-core at {} ({error}); run `cargo xtask setup --test`",
                path.display()
            )
        })
    })
}

impl Browser {
    /// Runs axe-core on the current frame's document (WCAG 2.0–2.2 A and AA rules and
    /// axe's best practices) and returns every violation. The script is injected as the
    /// body of WebDriver's script, not through `eval`, so pages with a strict CSP can be
    /// scanned too.
    pub fn axe_violations(&self) -> Vec<Violation> {
        let loaded = self.execute("return typeof window.axe === 'object';", &[]);
        if loaded != Value::Bool(true) {
            self.execute(&format!("{}\nreturn typeof window.axe;", axe_script()), &[]);
        }
        let result = self.execute(
            "return window.axe.run(document, {
                 runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
                 resultTypes: ['violations'],
             }).then(results => results.violations.map(v => ({
                 id: v.id, impact: v.impact || '', help: v.help,
                 nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\\s+/g, ' ')),
             })));",
            &[],
        );
        result
            .as_array()
            .map(|violations| {
                violations
                    .iter()
                    .map(|v| Violation {
                        id: v["id"].as_str().unwrap_or_default().to_string(),
                        impact: v["impact"].as_str().unwrap_or_default().to_string(),
                        help: v["help"].as_str().unwrap_or_default().to_string(),
                        nodes: v["nodes"]
                            .as_array()
                            .map(|nodes| {
                                nodes
                                    .iter()
                                    .map(|n| n.as_str().unwrap_or_default().to_string())
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fails the test when axe-core finds a critical or serious violation in the current
    /// frame; `what` names the page in the message ("the panel, dark, en"). The moderate
    /// and minor ones found are returned, for a test that wants those gone too.
    pub fn assert_no_serious_axe_violations(&self, what: &str) -> Vec<Violation> {
        let (serious, lesser): (Vec<Violation>, Vec<Violation>) = self
            .axe_violations()
            .into_iter()
            .partition(|v| v.impact == "critical" || v.impact == "serious");
        assert!(
            serious.is_empty(),
            "axe-core finds {} critical or serious violation(s) in {what}:\n{}",
            serious.len(),
            serious.iter().map(ToString::to_string).collect::<String>()
        );
        lesser
    }
}

#[cfg(test)]
mod tests {
    use crate::Browser;

    /// The scan finds what it should: grey-on-white text below 4.5:1 and a button without a
    /// name are serious or critical; a page without them has none.
    #[test]
    fn axe_core_finds_low_contrast_and_an_unnamed_button() {
        let browser = Browser::start();
        browser.goto(
            "data:text/html;charset=utf-8,<!doctype html><html lang=en><title>t</title><main><h1>Scan</h1>\
             <p style='color:%23aaa;background:%23fff'>faint</p><button></button></main>",
        );
        let ids: Vec<String> = browser
            .axe_violations()
            .into_iter()
            .filter(|v| v.impact == "serious" || v.impact == "critical")
            .map(|v| v.id)
            .collect();
        assert!(ids.contains(&"color-contrast".to_owned()), "{ids:?}");
        assert!(ids.contains(&"button-name".to_owned()), "{ids:?}");

        browser.goto(
            "data:text/html;charset=utf-8,<!doctype html><html lang=en><title>t</title><main><h1>Scan</h1>\
             <p>plain</p><button>Go</button></main>",
        );
        browser.assert_no_serious_axe_violations("a plain page");
    }
}
