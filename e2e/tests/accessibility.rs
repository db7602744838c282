//! axe-core scans in real Chromium (`Browser::axe_violations`, axe-core from npm, injected
//! into the page): the customer panel in both colour schemes and both languages, the agent
//! workspace with a chat open and its phrase settings, and every page of the admin
//! settings. None may have a critical or serious violation; the workspace also keeps its
//! landmarks whole (one `main`, one `banner`), its header on one row at 1280 px, and does
//! not scroll sideways on a phone.

use kefu_e2e::{Agent, Browser, BrowserOptions, Customer, KefuServer};

/// The panel after a robot answer with a list and a link, and one with suggestion chips, in
/// Chinese and then (the header's language button) in English, in one colour scheme.
fn scan_panel(server: &KefuServer, options: BrowserOptions, scheme: &str) {
    let customer = Customer::visit_with(server, options);
    let browser = &customer.browser;
    customer.open_panel();
    customer.say_and_wait("退款多久到账？");
    browser.wait_for_text("银行卡：3–7 个工作日");
    customer.say_and_wait("密码");
    browser.wait_for_text("忘记密码怎么办？");
    browser.assert_no_serious_axe_violations(&format!("the panel ({scheme}, zh-CN)"));

    browser.find_by_role("button", "English").click();
    browser.find_by_role("button", "Send");
    browser.assert_no_serious_axe_violations(&format!("the panel ({scheme}, en)"));
}

#[test]
fn the_panel_has_no_serious_violation_in_light_and_dark_in_both_languages() {
    let server = KefuServer::start();
    scan_panel(&server, BrowserOptions::default(), "light");
    scan_panel(&server, BrowserOptions::default().dark(), "dark");
}

/// An admin who also takes chats of `support`, logged in and online.
fn admin_online(server: &KefuServer) -> Browser {
    let browser = Agent::log_in_new(server, "boss", "Boss", &["--admin", "--groups", "support"]);
    Agent::go_online(&browser);
    browser
}

#[test]
fn the_workspace_and_every_settings_page_have_no_serious_violation() {
    let server = KefuServer::start();
    let boss = admin_online(&server);
    let customer = Customer::visit(&server);
    customer.open_panel();
    customer.say_and_wait("退款多久到账？");
    customer.say_and_wait("转人工");
    customer.browser.wait_for_text("Boss");

    boss.find_by_role_containing("button", "转人工").click();
    boss.find_by_role("textbox", "Reply");
    boss.wait_for_text("退款多久到账？");
    let lesser = boss.assert_no_serious_axe_violations("the workspace with a chat open");
    let landmark_problems: Vec<_> = lesser
        .iter()
        .filter(|v| v.id.starts_with("landmark") || v.id == "region")
        .collect();
    assert!(
        landmark_problems.is_empty(),
        "the workspace's landmarks: {landmark_problems:?}"
    );

    boss.find_by_role("button", "Canned phrase settings")
        .click();
    boss.find_by_role("button", "Add phrase");
    let lesser = boss.assert_no_serious_axe_violations("the phrase settings");
    let landmark_problems: Vec<_> = lesser
        .iter()
        .filter(|v| v.id.starts_with("landmark"))
        .collect();
    assert!(
        landmark_problems.is_empty(),
        "the phrase settings add no landmark twice: {landmark_problems:?}"
    );
    boss.find_by_role("button", "Canned phrase settings")
        .click();

    // The header is one row at 1280 px in English (the widest words), and on a phone the
    // workspace does not scroll sideways.
    let header = boss.execute(
        "const h = document.querySelector('header'); const r = h.getBoundingClientRect();
         return [r.height, h.scrollWidth <= h.clientWidth];",
        &[],
    );
    assert!(
        header[0].as_f64().unwrap_or(f64::MAX) < 64.0 && header[1] == serde_json::json!(true),
        "the header fits one row at 1280 px: [height, no overflow] = {header}"
    );
    boss.set_window_size(390, 844);
    boss.wait_until(
        "the workspace fits a phone's width",
        "return document.documentElement.scrollWidth <= window.innerWidth;",
    );
    boss.set_window_size(1280, 900);

    boss.find_by_role("button", "Admin settings").click();
    for (tab, loaded) in [
        ("Skill groups", Loaded::Field("Skill group 1 name")),
        ("Service rules", Loaded::Field("Rule 1 name")),
        ("Service mode", Loaded::Role("radio", "Robot first")),
        (
            "Agents",
            Loaded::Field("Max concurrent chats of Boss (boss)"),
        ),
        (
            "Knowledge base",
            Loaded::Role("button", "Edit: 忘记密码怎么办？"),
        ),
        ("Widget", Loaded::Field("Accent colour (e.g. #1f6feb)")),
        ("Audit log", Loaded::Role("heading", "Audit log")),
    ] {
        boss.find_by_role("button", tab).click();
        boss.find_by_role("heading", tab);
        match loaded {
            Loaded::Field(label) => drop(boss.find_by_label(label)),
            Loaded::Role(role, name) => drop(boss.find_by_role(role, name)),
        }
        boss.assert_no_serious_axe_violations(&format!("the settings page {tab:?}"));
    }
}

/// What a settings page shows once its data has loaded.
enum Loaded {
    Field(&'static str),
    Role(&'static str, &'static str),
}
