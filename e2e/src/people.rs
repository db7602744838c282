//! The two people of most widget tests, as a test tells their story: a [`Customer`] on the
//! demo page (nothing but the pasted tag) and an [`Agent`] in the workspace. Each wraps its
//! own [`Browser`], which stays reachable for anything the helpers do not cover.

use std::time::Duration;

use crate::{Browser, BrowserOptions, KefuServer};

/// How long a reconnection may take after the server comes back: the widget's backoff grows
/// to several seconds while the server is down.
pub const RECONNECT_TIMEOUT: Duration = Duration::from_secs(40);

/// A visitor of the demo page, with the chat panel's iframe as the current frame once opened.
pub struct Customer {
    pub browser: Browser,
    /// The launcher's accessible name, "在线客服" on the Chinese demo page.
    pub launcher: String,
}

impl Customer {
    /// A new visitor (own browser profile, so own visitor token) on the demo page.
    pub fn visit(server: &KefuServer) -> Customer {
        Customer::visit_with(server, BrowserOptions::default())
    }

    pub fn visit_with(server: &KefuServer, options: BrowserOptions) -> Customer {
        let browser = Browser::start_with(options);
        browser.goto(&server.url("/demo"));
        Customer {
            browser,
            launcher: "在线客服".to_string(),
        }
    }

    /// Clicks the launcher and enters the panel's frame; waits until the panel is connected
    /// (the composer is there and the header no longer says it is connecting).
    pub fn open_panel(&self) {
        self.browser.switch_to_top();
        self.browser.find_by_role("button", &self.launcher).click();
        self.enter_panel();
    }

    /// Makes the panel's iframe the current frame and waits until it is connected.
    pub fn enter_panel(&self) {
        self.browser.switch_to_top();
        // The loader's frame, not any other frame the page may have.
        let frame = self.browser.find_css("iframe[src*='/widget']");
        self.browser.switch_to_frame(&frame);
        self.browser.wait_until(
            "the panel is connected",
            "const status = document.querySelector('[role=status]');
             return status && !/连接|Connecting/.test(status.textContent);",
        );
    }

    /// Types `text` in the composer and presses Enter (in the panel's frame).
    pub fn say(&self, text: &str) {
        let composer = self.browser.find_by_role_containing("textbox", "");
        composer.type_text(text);
        composer.press_enter();
    }

    /// Says `text` and waits until the server acknowledged it (no "sending" line left).
    pub fn say_and_wait(&self, text: &str) {
        self.say(text);
        self.browser.wait_until(
            "the message is acknowledged",
            "return document.querySelector('.kefu-line.pending') === null;",
        );
    }

    /// Waits up to `timeout` until no message is left "sending" (all acknowledged).
    pub fn wait_until_all_sent(&self, timeout: Duration) {
        let sent = crate::poll(timeout, Duration::from_millis(200), || {
            let value = self.browser.execute(
                "return document.querySelector('.kefu-line.pending') === null;",
                &[],
            );
            (value.as_bool() == Some(true)).then_some(())
        });
        assert!(
            sent.is_some(),
            "messages still sending after {} s:\n{}",
            timeout.as_secs(),
            self.transcript()
        );
    }

    /// The transcript's visible text.
    pub fn transcript(&self) -> String {
        let text = self.browser.execute(
            "return document.querySelector('[role=log]').innerText;",
            &[],
        );
        text.as_str().unwrap_or_default().to_string()
    }

    /// The header's state line (robot / position / agent / ended).
    pub fn status(&self) -> String {
        let text = self.browser.execute(
            "return document.querySelector('[role=status]').innerText;",
            &[],
        );
        text.as_str().unwrap_or_default().to_string()
    }

    /// Waits until the header's state line contains `text`.
    pub fn wait_for_status(&self, text: &str) {
        let script = format!(
            "return document.querySelector('[role=status]').innerText.includes({});",
            serde_json::Value::String(text.to_string())
        );
        self.browser
            .wait_until(&format!("the header says {text:?}"), &script);
    }

    /// How many times `text` appears in the transcript.
    pub fn count_in_transcript(&self, text: &str) -> usize {
        self.transcript().matches(text).count()
    }
}

/// An agent logged in to the workspace and online.
pub struct Agent {
    pub browser: Browser,
}

impl Agent {
    /// Adds the agent with the CLI (`--max-chats`, the default group), logs in and goes online.
    pub fn online(server: &KefuServer, login: &str, name: &str, max_chats: u32) -> Agent {
        Agent::online_in(server, login, name, max_chats, "support")
    }

    /// Like [`Agent::online`], in the skill groups `groups` (comma separated).
    pub fn online_in(
        server: &KefuServer,
        login: &str,
        name: &str,
        max_chats: u32,
        groups: &str,
    ) -> Agent {
        let max_chats = max_chats.to_string();
        let browser = Agent::log_in_new(
            server,
            login,
            name,
            &["--max-chats", &max_chats, "--groups", groups],
        );
        Agent::go_online(&browser);
        Agent { browser }
    }

    /// Adds an agent with the CLI (`options` after its login, name and the password
    /// `<login>-password-1`, such as `--admin`) and logs in to the workspace in a new browser.
    pub fn log_in_new(server: &KefuServer, login: &str, name: &str, options: &[&str]) -> Browser {
        let password = format!("{login}-password-1");
        let mut args = vec![
            "agent",
            "add",
            "--login",
            login,
            "--name",
            name,
            "--password",
            &password,
        ];
        args.extend_from_slice(options);
        server.run_cli_ok(args);
        let browser = Browser::start();
        browser.goto(&server.url("/agent"));
        browser.find_by_role("textbox", "Login").type_text(login);
        browser.find_by_label("Password").type_text(&password);
        browser.find_by_role("button", "Log in").click();
        browser
    }

    /// Adds the admin `boss` with the command line, logs in and opens the admin settings.
    pub fn admin_settings(server: &KefuServer) -> Browser {
        let browser = Agent::log_in_new(server, "boss", "Boss", &["--admin"]);
        browser.find_by_role("button", "Admin settings").click();
        browser
    }

    /// Sets a logged-in workspace online and waits until it says so.
    pub fn go_online(browser: &Browser) {
        browser.find_by_role("button", "Go online").click();
        browser.wait_for_text("Online");
    }

    /// Picks the conversation whose list entry contains `entry_text` (the customer's name or
    /// last message) and replies `text`.
    pub fn reply(&self, entry_text: &str, text: &str) {
        self.browser
            .find_by_role_containing("button", entry_text)
            .click();
        let reply = self.browser.find_by_role("textbox", "Reply");
        reply.type_text(text);
        reply.press_enter();
    }
}
