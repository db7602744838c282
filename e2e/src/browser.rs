//! One headless Chromium under its own ChromeDriver, with the vocabulary of a test: go to a
//! page, find what a person would look for (a `button` named "发送"), click, type, wait until
//! something is visible, take a screenshot.
//!
//! Every lookup and wait polls until a deadline ([`TIMEOUT`]) instead of sleeping, so tests
//! are as fast as the page and still tolerate a slow machine. On timeout the panic says what
//! was seen instead, e.g. every role and accessible name on the page.

use std::{
    fs,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    thread,
    time::{Duration, Instant},
};

use base64::Engine;
use serde_json::{Value, json};

use crate::{
    free_port, fresh_dir, poll, tail, target_dir,
    webdriver::{Driver, ElementId, SessionId, WebDriverError},
};

/// How long lookups and waits poll before they fail the test.
pub const TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Between two measurements of an element that must stay put before a click.
const SETTLE_INTERVAL: Duration = Duration::from_millis(50);
static BROWSERS_STARTED: AtomicU32 = AtomicU32::new(0);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Chromium flags for a root user in a container without a display; the same as
/// `webdriver.json` at the root, which the widget's wasm-bindgen tests use.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
];

/// How to start a [`Browser`].
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Viewport width in CSS pixels (default 1280).
    pub width: u32,
    /// Viewport height in CSS pixels (default 900).
    pub height: u32,
    /// The UI language the page sees in `navigator.language` and `Accept-Language`, e.g.
    /// `"zh-CN"`; `None` keeps Chromium's default (`en-US`).
    pub language: Option<String>,
    /// Extra Chromium command-line flags, e.g. `--force-dark-mode` (see
    /// [`BrowserOptions::dark`]).
    pub chromium_args: Vec<String>,
    /// Emulates a phone's screen (ChromeDriver's `mobileEmulation`, `width`×`height` at 3×):
    /// the page's `<meta name=viewport>` counts, and a page wider than the screen widens the
    /// layout viewport past it, as on a real phone (see [`BrowserOptions::phone`]).
    pub phone: bool,
}

impl Default for BrowserOptions {
    fn default() -> BrowserOptions {
        BrowserOptions {
            width: 1280,
            height: 900,
            language: None,
            chromium_args: Vec::new(),
            phone: false,
        }
    }
}

impl BrowserOptions {
    /// A phone-sized viewport (390×844, an iPhone 12–15).
    pub fn mobile() -> BrowserOptions {
        BrowserOptions {
            width: 390,
            height: 844,
            ..BrowserOptions::default()
        }
    }

    /// A real phone's screen of 375×812 (an iPhone X–13 mini), emulated as a mobile device
    /// rather than a narrow desktop window: what a visitor's phone does with the page.
    pub fn phone() -> BrowserOptions {
        BrowserOptions {
            width: 375,
            height: 812,
            phone: true,
            ..BrowserOptions::default()
        }
    }

    /// The same options with the system in dark mode, so that pages see
    /// `prefers-color-scheme: dark`.
    pub fn dark(mut self) -> BrowserOptions {
        self.chromium_args.push("--force-dark-mode".to_string());
        self
    }
}

/// A headless Chromium driven through its own ChromeDriver.
///
/// Methods panic with a descriptive message when the browser fails or a wait times out,
/// which is what a test wants. Dropping the browser closes it; if the test is panicking it
/// first saves a screenshot `failed-<test name>-browser<n>` and prints the page's text.
pub struct Browser {
    driver: Driver,
    session: SessionId,
    chromedriver: Child,
    /// Holds the Chromium profile and ChromeDriver's log.
    run_dir: PathBuf,
    /// 1 for the first browser of the test process, 2 for the next…, so that the failure
    /// screenshots of a customer's and an agent's browser do not overwrite each other.
    number: u32,
}

impl Browser {
    /// Starts Chromium with a 1280×900 viewport.
    pub fn start() -> Browser {
        Browser::start_with(BrowserOptions::default())
    }

    /// Starts Chromium with the given viewport size and language.
    pub fn start_with(options: BrowserOptions) -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing; run the tests via `cargo xtask test`, which installs it"
            );
        }
        let run_dir = fresh_dir("browser");
        let port = free_port();
        let log = run_dir.join("chromedriver.log");
        let log_file = fs::File::create(&log)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", log.display()));
        let log_file_too = log_file
            .try_clone()
            .expect("a log file handle can be cloned");
        let chromedriver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_file_too)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {CHROMEDRIVER}: {error}"));
        let driver = Driver::new(format!("http://127.0.0.1:{port}"));
        // From here on a panic must stop ChromeDriver, so the browser's parts live in a guard.
        let mut starting = Starting {
            chromedriver: Some(chromedriver),
            log,
        };
        if poll(Duration::from_secs(20), Duration::from_millis(50), || {
            driver.is_ready().then_some(())
        })
        .is_none()
        {
            panic!(
                "ChromeDriver did not become ready in 20 s; {}",
                starting.log_tail()
            );
        }

        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|arg| arg.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            run_dir.join("profile").display()
        ));
        args.push(format!(
            "--window-size={},{}",
            options.width, options.height
        ));
        args.extend(options.chromium_args.iter().cloned());
        let mut chrome_options = json!({ "binary": CHROMIUM, "args": args });
        if options.phone {
            chrome_options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": options.width,
                    "height": options.height,
                    "pixelRatio": 3.0,
                    "mobile": true,
                    "touch": false,
                }
            });
        }
        if let Some(language) = &options.language {
            chrome_options["args"]
                .as_array_mut()
                .expect("args is an array")
                .push(json!(format!("--lang={language}")));
            chrome_options["prefs"] = json!({ "intl.accept_languages": language });
        }
        let capabilities = json!({
            "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": chrome_options,
                // Keeps the console for `console_errors`.
                "goog:loggingPrefs": { "browser": "ALL" },
            }
        });
        let session = driver.new_session(capabilities).unwrap_or_else(|error| {
            panic!("cannot start Chromium: {error}; {}", starting.log_tail())
        });
        let browser = Browser {
            driver,
            session,
            chromedriver: starting
                .chromedriver
                .take()
                .expect("ChromeDriver is still owned here"),
            run_dir,
            number: BROWSERS_STARTED.fetch_add(1, Ordering::Relaxed) + 1,
        };
        browser
            .driver
            .set_timeouts(
                &browser.session,
                Duration::from_secs(30),
                Duration::from_secs(30),
            )
            .unwrap_or_else(|error| panic!("cannot set WebDriver timeouts: {error}"));
        if !options.phone {
            browser.set_window_size(options.width, options.height);
        }
        browser
    }

    /// Navigates the window to `url` and waits for the page's load event.
    pub fn goto(&self, url: &str) {
        self.driver
            .navigate(&self.session, url)
            .unwrap_or_else(|error| panic!("cannot load {url}: {error}"));
    }

    /// The URL of the top-level page.
    pub fn current_url(&self) -> String {
        self.driver
            .current_url(&self.session)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Runs `script` as the body of a function in the current frame, with `args` as
    /// `arguments`, and returns its result (`return ...;`). An [`Element::to_arg`] in `args`
    /// arrives as the DOM element; DOM elements returned come back as WebDriver references.
    pub fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.driver
            .execute(&self.session, script, args)
            .unwrap_or_else(|error| panic!("script failed: {error}\nscript: {script}"))
    }

    /// Finds the element with `role` (an ARIA role such as `button`, `textbox`, `link`,
    /// `heading`, `log`, `dialog`, and `iframe` for a frame named by its `title`) whose
    /// accessible name equals `name` (whitespace collapsed), as Chrome's accessibility tree
    /// computes them: from `<label>`, `aria-label`, `aria-labelledby`, alt text or content. Hidden elements have no role there and are
    /// never found. Polls until found; panics after [`TIMEOUT`] listing the roles and names
    /// on the page. When several match, the first in document order is returned.
    pub fn find_by_role(&self, role: &str, name: &str) -> Element<'_> {
        self.find_role(role, &NameMatch::Exact(normalize_space(name)))
    }

    /// The form field whose label (accessible name) is `label`, whatever its role: a password
    /// field has no ARIA role, and a person finds it by its label, as Testing Library's
    /// `getByLabelText` does.
    pub fn find_by_label(&self, label: &str) -> Element<'_> {
        let wanted = NameMatch::Exact(normalize_space(label));
        let found = poll(TIMEOUT, POLL_INTERVAL, || {
            self.accessible_elements("input, textarea, select")
                .into_iter()
                .find(|(_, _, name)| wanted.matches(name))
        });
        match found {
            Some((id, _, name)) => self.element(id, format!("field labelled {name:?}")),
            None => panic!(
                "no form field labelled {label:?} after {} s in {}",
                TIMEOUT.as_secs(),
                self.url_for_messages()
            ),
        }
    }

    /// Like [`Browser::find_by_role`], with an accessible name that contains `name_part`.
    pub fn find_by_role_containing(&self, role: &str, name_part: &str) -> Element<'_> {
        self.find_role(role, &NameMatch::Contains(normalize_space(name_part)))
    }

    /// The visible text of the element [`Browser::find_by_role`] finds.
    pub fn text_of(&self, role: &str, name: &str) -> String {
        self.find_by_role(role, name).text()
    }

    /// The first element matching a CSS `selector`, polling like `find_by_role`. For what a
    /// person cannot name, such as an `<iframe>` without a title; prefer `find_by_role`.
    pub fn find_css(&self, selector: &str) -> Element<'_> {
        let found = poll(TIMEOUT, POLL_INTERVAL, || {
            let value = self.execute(
                "return document.querySelector(arguments[0]);",
                &[json!(selector)],
            );
            ElementId::from_json(&value)
        });
        match found {
            Some(id) => self.element(id, format!("`{selector}`")),
            None => panic!(
                "no element matches `{selector}` after {} s in {}",
                TIMEOUT.as_secs(),
                self.url_for_messages()
            ),
        }
    }

    /// Waits until the visible text of the current frame (`document.body.innerText`)
    /// contains `text`; panics after [`TIMEOUT`] showing the text that was there.
    pub fn wait_for_text(&self, text: &str) {
        self.wait_for_text_within(text, TIMEOUT);
    }

    /// Like [`Browser::wait_for_text`] with another deadline, for what legitimately takes
    /// longer, such as a reconnection after a server restart (backoff grows to seconds).
    pub fn wait_for_text_within(&self, text: &str, timeout: Duration) {
        let mut last_seen = String::new();
        let found = poll(timeout, POLL_INTERVAL, || {
            last_seen = self.visible_text();
            last_seen.contains(text).then_some(())
        });
        if found.is_none() {
            panic!(
                "text {text:?} did not appear within {} s in {}; the visible text was:\n{}",
                timeout.as_secs(),
                self.url_for_messages(),
                tail(&last_seen, 2000)
            );
        }
    }

    /// The visible text of the current frame (`document.body.innerText`).
    pub fn visible_text(&self) -> String {
        let text = self.execute("return document.body ? document.body.innerText : '';", &[]);
        text.as_str().unwrap_or_default().to_string()
    }

    /// Waits until `js_predicate`, a function body such as
    /// `return document.querySelectorAll('li').length === 2;`, returns something truthy in the
    /// current frame. Exceptions count as "not yet". Panics after [`TIMEOUT`] with
    /// `description` ("two messages are listed") and the last exception, if any.
    pub fn wait_until(&self, description: &str, js_predicate: &str) {
        let mut last_error = None;
        let found = poll(TIMEOUT, POLL_INTERVAL, || {
            match self.driver.execute(&self.session, js_predicate, &[]) {
                Ok(value) => is_truthy(&value).then_some(()),
                Err(error) => {
                    last_error = Some(error.to_string());
                    None
                }
            }
        });
        if found.is_none() {
            let error = last_error
                .map(|error| format!("; last error: {error}"))
                .unwrap_or_default();
            panic!(
                "timed out after {} s waiting until {description}{error}",
                TIMEOUT.as_secs()
            );
        }
    }

    /// Waits until `attempt` (a check made from the test, such as reading the browser's
    /// console) returns `Some`, and returns its value; panics after [`TIMEOUT`] with
    /// `description`.
    pub fn wait_for<T>(&self, description: &str, attempt: impl FnMut() -> Option<T>) -> T {
        poll(TIMEOUT, POLL_INTERVAL, attempt).unwrap_or_else(|| {
            panic!(
                "timed out after {} s waiting until {description} in {}",
                TIMEOUT.as_secs(),
                self.url_for_messages()
            )
        })
    }

    /// Makes `frame` (an `<iframe>` element of the current frame) the context of the
    /// following lookups, scripts and waits.
    pub fn switch_to_frame(&self, frame: &Element<'_>) {
        self.driver
            .switch_to_frame(&self.session, frame.to_arg())
            .unwrap_or_else(|error| {
                panic!("cannot switch to frame {}: {error}", frame.description)
            });
    }

    /// Returns to the frame that contains the current one.
    pub fn switch_to_parent(&self) {
        self.driver
            .switch_to_parent_frame(&self.session)
            .unwrap_or_else(|error| panic!("cannot switch to the parent frame: {error}"));
    }

    /// Returns to the top-level page.
    pub fn switch_to_top(&self) {
        self.driver
            .switch_to_frame(&self.session, Value::Null)
            .unwrap_or_else(|error| panic!("cannot switch to the top frame: {error}"));
    }

    /// Saves the viewport as `<target>/e2e-screenshots/<name>.png` and returns the path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        self.try_screenshot(name)
            .unwrap_or_else(|error| panic!("screenshot {name}: {error}"))
    }

    /// Resizes the window so that pages see a `width`×`height` viewport (`innerWidth`,
    /// `innerHeight`, CSS media queries), e.g. to check a phone layout. Chromium's window is
    /// larger than its viewport even when headless, so the difference is added.
    pub fn set_window_size(&self, width: u32, height: u32) {
        let resize = |window_width: i64, window_height: i64| {
            let (w, h) = (window_width.max(1) as u32, window_height.max(1) as u32);
            self.driver
                .set_window_size(&self.session, w, h)
                .unwrap_or_else(|error| panic!("cannot resize the window to {w}×{h}: {error}"));
        };
        let (width, height) = (i64::from(width), i64::from(height));
        resize(width, height);
        let viewport = self.execute("return [window.innerWidth, window.innerHeight];", &[]);
        let (inner_width, inner_height) = (
            viewport[0].as_i64().unwrap_or(width),
            viewport[1].as_i64().unwrap_or(height),
        );
        if (inner_width, inner_height) != (width, height) {
            resize(2 * width - inner_width, 2 * height - inner_height);
        }
    }

    /// Runs one Chrome DevTools protocol command (e.g. `Performance.getMetrics`) on the
    /// current page and returns its result.
    pub fn cdp(&self, command: &str, params: Value) -> Value {
        self.driver
            .cdp(&self.session, command, params)
            .unwrap_or_else(|error| panic!("DevTools command {command} failed: {error}"))
    }

    /// The console errors (level `SEVERE`: `console.error`, uncaught exceptions, failed
    /// requests) logged since the previous call.
    pub fn console_errors(&self) -> Vec<String> {
        let entries = self
            .driver
            .browser_log(&self.session)
            .unwrap_or_else(|error| panic!("cannot read the browser console: {error}"));
        entries
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    fn find_role(&self, role: &str, name: &NameMatch) -> Element<'_> {
        let wanted_role = canonical_role(role);
        let selector = role_selector(wanted_role);
        let found = poll(TIMEOUT, POLL_INTERVAL, || {
            self.accessible_elements(&selector)
                .into_iter()
                .find(|(_, role, label)| canonical_role(role) == wanted_role && name.matches(label))
        });
        if let Some((id, _, label)) = found {
            return self.element(id, format!("{role} {label:?}"));
        }
        // Everything with a role worth naming; unnamed structure (paragraphs, list items,
        // generic containers) would only bury the interesting lines.
        let seen: Vec<String> = self
            .accessible_elements("body *")
            .into_iter()
            .filter(|(_, role, label)| {
                let is_structure = matches!(
                    role.as_str(),
                    "" | "none" | "generic" | "LabelText" | "StaticText"
                );
                !is_structure && (!label.is_empty() || is_interactive(role))
            })
            .map(|(_, role, label)| format!("  {role} {label:?}"))
            .take(60)
            .collect();
        panic!(
            "no {role} {name} after {} s in {}; the page has:\n{}",
            TIMEOUT.as_secs(),
            self.url_for_messages(),
            if seen.is_empty() {
                "  (no element with a role)".to_string()
            } else {
                seen.join("\n")
            }
        );
    }

    /// The elements matching `selector` (at most 400) with their computed role and
    /// accessible name. Elements that disappear while being inspected are skipped.
    fn accessible_elements(&self, selector: &str) -> Vec<(ElementId, String, String)> {
        let script = "return Array.from(document.querySelectorAll(arguments[0])).slice(0, 400);";
        let candidates = match self
            .driver
            .execute(&self.session, script, &[json!(selector)])
        {
            Ok(Value::Array(values)) => values,
            _ => return Vec::new(),
        };
        candidates
            .iter()
            .filter_map(ElementId::from_json)
            .filter_map(|id| {
                let role = self.driver.computed_role(&self.session, &id).ok()?;
                let label = self.driver.computed_label(&self.session, &id).ok()?;
                Some((id, role, normalize_space(&label)))
            })
            .collect()
    }

    /// The current URL, shortened: a `data:` URL can be a whole page long.
    fn url_for_messages(&self) -> String {
        let url = self.driver.current_url(&self.session).unwrap_or_default();
        if url.chars().count() > 100 {
            format!("{}…", url.chars().take(100).collect::<String>())
        } else {
            url
        }
    }

    fn element(&self, id: ElementId, description: String) -> Element<'_> {
        Element {
            browser: self,
            id,
            description,
        }
    }

    fn try_screenshot(&self, name: &str) -> Result<PathBuf, String> {
        let base64_png = self
            .driver
            .screenshot(&self.session)
            .map_err(|error| error.to_string())?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(base64_png)
            .map_err(|error| format!("the screenshot is not base64: {error}"))?;
        let dir = target_dir().join("e2e-screenshots");
        fs::create_dir_all(&dir)
            .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        fs::write(&path, png)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        Ok(path)
    }

    /// On a failing test: a screenshot and the visible text, so the failure can be seen.
    fn report_failure(&self) {
        let test_name = thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "-");
        let _ = self.driver.switch_to_frame(&self.session, Value::Null);
        match self.try_screenshot(&format!("failed-{test_name}-browser{}", self.number)) {
            Ok(path) => eprintln!(
                "e2e: browser {} at the failure: {}",
                self.number,
                path.display()
            ),
            Err(error) => eprintln!("e2e: no screenshot of the failed test: {error}"),
        }
        if let Ok(text) = self.driver.execute(
            &self.session,
            "return document.body ? document.body.innerText : '';",
            &[],
        ) {
            eprintln!(
                "e2e: visible text of browser {}'s top page:\n{}",
                self.number,
                tail(text.as_str().unwrap_or_default(), 2000)
            );
        }
        if let Ok(entries) = self.driver.browser_log(&self.session) {
            for entry in entries.iter().filter(|entry| entry["level"] == "SEVERE") {
                let message = entry["message"].as_str().unwrap_or_default();
                eprintln!("e2e: browser {} console error: {message}", self.number);
            }
        }
        eprintln!(
            "e2e: ChromeDriver log: {}",
            self.run_dir.join("chromedriver.log").display()
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let failed = thread::panicking();
        if failed {
            self.report_failure();
        }
        // Errors are ignored: Drop may run during a panic, where a second panic would abort.
        let _ = self.driver.delete_session(&self.session);
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        // The profile is tens of MB; ChromeDriver's log stays when the test failed.
        let _ = fs::remove_dir_all(self.run_dir.join("profile"));
        if !failed {
            let _ = fs::remove_dir_all(&self.run_dir);
        }
    }
}

/// ChromeDriver while the session is being created: killed if that panics.
struct Starting {
    chromedriver: Option<Child>,
    log: PathBuf,
}

impl Starting {
    fn log_tail(&mut self) -> String {
        if let Some(child) = &mut self.chromedriver {
            let _ = child.kill();
            let _ = child.wait();
        }
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        format!(
            "ChromeDriver's log ({}):\n{}",
            self.log.display(),
            tail(&log, 3000)
        )
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(child) = &mut self.chromedriver {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An element found in the current frame of a [`Browser`].
pub struct Element<'b> {
    browser: &'b Browser,
    id: ElementId,
    /// How it was found, e.g. `button "发送"`, for messages.
    description: String,
}

impl Element<'_> {
    /// Clicks the element's centre like a mouse. First brings it to the middle of its frame's
    /// viewport at once and waits until it stays put ([`Element::scroll_into_view`]), since
    /// WebDriver clicks the point it measured and a page still moving (a smooth scroll, a
    /// layout settling) would have put something else there. Retries, settling again, while
    /// another element covers it or it is not yet interactable (an animation, an overlay
    /// going away), up to [`TIMEOUT`].
    pub fn click(&self) {
        self.scroll_into_view();
        self.retry_while_busy("click", || {
            let clicked = self.browser.driver.click(&self.browser.session, &self.id);
            if clicked.as_ref().is_err_and(is_busy) {
                self.scroll_into_view();
            }
            clicked
        });
    }

    /// Taps the element's centre where it is on the screen, as a phone user does: no
    /// scrolling first (WebDriver's click would pan the visual viewport to centre it, which
    /// no visitor does, and then miss). The point is the element's centre in the top page's
    /// visual viewport, through same-origin frames; the press and release go through the
    /// DevTools protocol, which takes screen coordinates.
    pub fn tap(&self) {
        const CENTRE_ON_SCREEN: &str = "const r = arguments[0].getBoundingClientRect();
             let x = r.left + r.width / 2, y = r.top + r.height / 2, w = window;
             while (w.frameElement) {
                 const f = w.frameElement.getBoundingClientRect();
                 x += f.left; y += f.top; w = w.parent;
             }
             return [x - w.visualViewport.offsetLeft, y - w.visualViewport.offsetTop];";
        let centre = self.browser.execute(CENTRE_ON_SCREEN, &[self.to_arg()]);
        for kind in ["mousePressed", "mouseReleased"] {
            self.browser.cdp(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": centre[0], "y": centre[1], "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// Scrolls the element to the centre of its frame's viewport instantly (whatever the
    /// page's `scroll-behavior`), then waits until its bounding rectangle is the same in two
    /// polls in a row. Panics when it is still moving after [`TIMEOUT`].
    pub fn scroll_into_view(&self) {
        const SCROLL_AND_MEASURE: &str = "const element = arguments[0];
             if (arguments[1]) element.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
             const rect = element.getBoundingClientRect();
             return [rect.x, rect.y, rect.width, rect.height];";
        let measure = |scroll: bool| -> Value {
            self.browser
                .driver
                .execute(
                    &self.browser.session,
                    SCROLL_AND_MEASURE,
                    &[self.to_arg(), json!(scroll)],
                )
                .unwrap_or_else(|error| panic!("cannot scroll to {}: {error}", self.description))
        };
        let mut last = measure(true);
        let settled = poll(TIMEOUT, SETTLE_INTERVAL, || {
            let now = measure(false);
            let still = now == last;
            last = now;
            still.then_some(())
        });
        if settled.is_none() {
            panic!(
                "{} still moves after {} s (last rect {last})",
                self.description,
                TIMEOUT.as_secs()
            );
        }
    }

    /// Focuses the element and types `text` as key presses (any Unicode, e.g. Chinese;
    /// `"\u{E007}"` is Enter).
    pub fn type_text(&self, text: &str) {
        self.retry_while_busy("type into", || {
            self.browser
                .driver
                .send_keys(&self.browser.session, &self.id, text)
        });
    }

    /// Presses Enter in the element.
    pub fn press_enter(&self) {
        self.type_text("\u{E007}");
    }

    /// Empties a text field.
    pub fn clear(&self) {
        self.retry_while_busy("clear", || {
            self.browser.driver.clear(&self.browser.session, &self.id)
        });
    }

    /// The rendered text of the element (what `innerText` shows).
    pub fn text(&self) -> String {
        self.browser
            .driver
            .element_text(&self.browser.session, &self.id)
            .unwrap_or_else(|error| panic!("text of {}: {error}", self.description))
    }

    /// The HTML attribute `name`, or `None` when the element does not have it.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.browser
            .driver
            .attribute(&self.browser.session, &self.id, name)
            .unwrap_or_else(|error| panic!("attribute {name} of {}: {error}", self.description))
    }

    /// The DOM property `name`, e.g. `value` for what a text field currently holds.
    pub fn property(&self, name: &str) -> Value {
        self.browser
            .driver
            .property(&self.browser.session, &self.id, name)
            .unwrap_or_else(|error| panic!("property {name} of {}: {error}", self.description))
    }

    /// The element as an argument of [`Browser::execute`].
    pub fn to_arg(&self) -> Value {
        self.id.to_json()
    }

    fn retry_while_busy(
        &self,
        action: &str,
        mut attempt: impl FnMut() -> Result<(), WebDriverError>,
    ) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match attempt() {
                Ok(()) => return,
                Err(error) if is_busy(&error) && Instant::now() < deadline => {
                    thread::sleep(POLL_INTERVAL);
                }
                Err(error) => panic!("cannot {action} {}: {error}", self.description),
            }
        }
    }
}

/// Whether WebDriver refused an action only for now: something covers the element, or it is
/// not interactable yet.
fn is_busy(error: &WebDriverError) -> bool {
    matches!(
        error.code(),
        "element click intercepted" | "element not interactable"
    )
}

/// How an accessible name must match.
enum NameMatch {
    Exact(String),
    Contains(String),
}

impl NameMatch {
    fn matches(&self, label: &str) -> bool {
        match self {
            NameMatch::Exact(name) => label == name,
            NameMatch::Contains(part) => label.contains(part.as_str()),
        }
    }
}

impl std::fmt::Display for NameMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameMatch::Exact(name) => write!(f, "named {name:?}"),
            NameMatch::Contains(part) => write!(f, "with a name containing {part:?}"),
        }
    }
}

/// Roles with several spellings: ARIA 1.3 renamed `img` to `image`, `presentation` means
/// `none`, and Chrome reports an `<iframe>` (named by its `title`) as `Iframe`. Chrome
/// reports one spelling; a test may use any.
fn canonical_role(role: &str) -> &str {
    match role {
        "img" => "image",
        "presentation" => "none",
        "Iframe" => "iframe",
        other => other,
    }
}

/// The HTML elements whose implicit role is `role`, per HTML-AAM.
fn implicit_role_elements(role: &str) -> &'static str {
    match role {
        "button" => {
            "button, input[type=button], input[type=submit], input[type=reset], input[type=image], summary"
        }
        "textbox" => {
            "textarea, input:not([type]), input[type=text], input[type=email], input[type=tel], input[type=url], input[type=password]"
        }
        "searchbox" => "input[type=search]",
        "link" => "a[href], area[href]",
        "heading" => "h1, h2, h3, h4, h5, h6",
        "checkbox" => "input[type=checkbox]",
        "radio" => "input[type=radio]",
        "combobox" => "select, input[list]",
        "listbox" => "select[multiple], select[size], datalist",
        "option" => "option",
        "list" => "ul, ol, menu",
        "listitem" => "li",
        "image" => "img, svg",
        "dialog" => "dialog",
        "form" => "form",
        "navigation" => "nav",
        "main" => "main",
        "banner" => "header",
        "contentinfo" => "footer",
        "complementary" => "aside",
        "region" => "section",
        "article" => "article",
        "table" => "table",
        "row" => "tr",
        "cell" => "td",
        "columnheader" | "rowheader" => "th",
        "spinbutton" => "input[type=number]",
        "slider" => "input[type=range]",
        "progressbar" => "progress",
        "meter" => "meter",
        "group" => "fieldset, details, optgroup",
        "paragraph" => "p",
        "status" => "output",
        "separator" => "hr",
        "iframe" => "iframe",
        _ => "",
    }
}

/// Candidates for `role`: its implicit elements and anything with an explicit `role`.
/// The computed role then decides, since an explicit role overrides the implicit one.
fn role_selector(role: &str) -> String {
    let implicit = implicit_role_elements(role);
    let explicit = format!("[role~={role:?}]");
    if implicit.is_empty() {
        explicit
    } else {
        format!("{implicit}, {explicit}")
    }
}

/// Roles a person operates, worth listing even without a name.
fn is_interactive(role: &str) -> bool {
    matches!(
        role,
        "button"
            | "textbox"
            | "searchbox"
            | "link"
            | "checkbox"
            | "radio"
            | "combobox"
            | "listbox"
            | "spinbutton"
            | "slider"
            | "switch"
            | "tab"
            | "menuitem"
            | "option"
            | "Iframe"
    )
}

fn normalize_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// JavaScript truthiness of a WebDriver result.
fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0 && !n.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page with what the harness must handle: labelled text fields (one a password), a hidden and a
    /// visible button with the same name, a live region, Enter in a search field, a console
    /// error and an iframe.
    const PAGE: &str = r#"<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>harness</title>
<label for="message">消息</label><textarea id="message"></textarea>
<label>密码 <input type="password"></label>
<button style="display:none" onclick="document.title='wrong button'">发送</button>
<button onclick="document.getElementById('out').textContent = '已发送：' + document.getElementById('message').value">发送</button>
<p id="out" role="status" aria-label="结果"></p>
<input type="search" aria-label="搜索知识库" onkeydown="if (event.key === 'Enter') document.title = 'searched: ' + this.value">
<iframe title="聊天窗口" srcdoc="<button>结束会话</button>"></iframe>
<script>console.error('harness console error')</script>"#;

    /// Finds by role and accessible name, types Chinese, clicks, reads text, presses Enter,
    /// enters a frame, reads console errors, resizes and saves a PNG screenshot.
    #[test]
    fn browser_harness_works_like_a_person_on_a_page() {
        let browser = Browser::start();
        browser.goto(&format!(
            "data:text/html;charset=utf-8,{}",
            percent_encode(PAGE)
        ));

        let message = browser.find_by_role("textbox", "消息");
        message.type_text("你好，世界");
        assert_eq!(message.property("value"), json!("你好，世界"));
        browser.find_by_role("button", "发送").click();
        browser.wait_for_text("已发送：你好，世界");
        assert_eq!(browser.text_of("status", "结果"), "已发送：你好，世界");
        assert_eq!(
            browser.execute("return document.title;", &[]),
            json!("harness")
        );

        browser.find_by_role("textbox", "密码").type_text("mima-1");

        let search = browser.find_by_role_containing("searchbox", "知识");
        search.type_text("退货");
        search.press_enter();
        browser.wait_until(
            "the search ran",
            "return document.title === 'searched: 退货';",
        );

        assert_eq!(
            browser
                .find_css("iframe[title='聊天窗口']")
                .attribute("title")
                .as_deref(),
            Some("聊天窗口")
        );
        let frame = browser.find_by_role("iframe", "聊天窗口");
        browser.switch_to_frame(&frame);
        assert_eq!(
            browser.find_by_role("button", "结束会话").text(),
            "结束会话"
        );
        browser.switch_to_parent();
        assert_eq!(
            browser
                .find_by_role("textbox", "消息")
                .attribute("id")
                .as_deref(),
            Some("message")
        );

        let errors = browser.console_errors();
        assert!(
            errors
                .iter()
                .any(|error| error.contains("harness console error")),
            "{errors:?}"
        );

        browser.set_window_size(390, 844);
        assert_eq!(
            browser.execute("return window.innerWidth;", &[]),
            json!(390)
        );

        let path = browser.screenshot("harness-self-test");
        let png = fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            path.display()
        );
    }

    fn percent_encode(text: &str) -> String {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (byte as char).to_string()
                }
                _ => format!("%{byte:02X}"),
            })
            .collect()
    }
}
