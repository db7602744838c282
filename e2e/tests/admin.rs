//! The admin settings in real Chromium against the real server, without a restart in
//! between: working hours closed and opened again decide the next transfer, a lowered
//! capacity is obeyed by routing, a knowledge item added in the browser is answered in the
//! widget, a malformed import names its line and changes nothing; a non-admin agent gets
//! 403 from every admin route and never sees the settings. Screenshots of every page in
//! English and Chinese go to `target/e2e-screenshots/admin-<page>-<lang>.png`.

use std::time::Duration;

use kefu_e2e::{Agent, Browser, Customer, KefuServer};
use serde_json::json;

#[path = "../../server/src/admin_routes.rs"]
mod admin_routes;

/// Replaces what a field holds.
fn set_field(browser: &Browser, label: &str, text: &str) {
    let field = browser.find_by_label(label);
    field.clear();
    field.type_text(text);
}

fn open_page(browser: &Browser, tab: &str, heading: &str) {
    browser.find_by_role("button", tab).click();
    browser.find_by_role("heading", heading);
}

#[test]
fn settings_changed_in_the_browser_decide_the_next_transfers_and_answers_without_a_restart() {
    let server = KefuServer::start();
    let mei = Agent::online(&server, "mei", "小美", 2);
    let boss = Agent::admin_settings(&server);

    // Close the hours: the only range goes, the preview says so, and the next transfer gets
    // the off-hours message.
    open_page(&boss, "Service rules", "Service rules");
    boss.wait_for_text("Status now: Open now");
    boss.find_by_role("button", "Remove range 1").click();
    boss.wait_for_text("Status now: Not open within a year");
    boss.find_by_role("button", "Save").click();
    boss.wait_for_text("Saved; in force now");
    let first = Customer::visit(&server);
    first.open_panel();
    first.say_and_wait("转人工");
    first.browser.wait_for_text("现在是非工作时间");

    // Open only the day after tomorrow (in the rule's zone, Asia/Shanghai): the notice
    // says when service starts again, as the core computed it.
    boss.find_by_role("button", "Add range").click();
    let days = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let shanghai_days = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 8 * 3600)
        / 86_400;
    // 1970-01-01 was a Thursday (index 3 from Monday).
    let open_day = days[((shanghai_days + 2 + 3) % 7) as usize];
    for day in days {
        let checkbox = boss.find_by_role("checkbox", day);
        if (checkbox.property("checked") == json!(true)) != (day == open_day) {
            checkbox.click();
        }
    }
    set_field(&boss, "Range 1 from", "09:00");
    set_field(&boss, "Range 1 to", "18:00");
    boss.wait_for_text("Status now: Opens");
    boss.find_by_role("button", "Save").click();
    boss.wait_for_text("Saved; in force now");
    first.say_and_wait("转人工");
    first.browser.wait_until(
        "a second off-hours notice says when service starts",
        "return [...document.querySelectorAll('.kefu-opens')].some(p => /开始服务$/.test(p.textContent));",
    );
    boss.find_by_role("button", "Remove range 1").click();
    boss.wait_for_text("Status now: Not open within a year");

    // Open again around the clock: the next request is queued and 小美 takes it.
    boss.find_by_role("button", "Add range").click();
    boss.find_by_role("checkbox", "Saturday").click();
    boss.find_by_role("checkbox", "Sunday").click();
    set_field(&boss, "Range 1 from", "00:00");
    set_field(&boss, "Range 1 to", "24:00");
    boss.wait_for_text("Status now: Open now");
    boss.find_by_role("button", "Save").click();
    boss.wait_for_text("Saved; in force now");
    first.say("转人工");
    first.wait_for_status("小美");
    mei.browser.wait_for_text("转人工");

    // A knowledge item added in the browser: the robot box and a customer get its answer.
    open_page(&boss, "Knowledge base", "Knowledge base");
    boss.find_by_role("button", "Add item").click();
    // The category is picked from those in use (or typed anew).
    boss.find_by_role("combobox", "Category");
    set_field(&boss, "Category", "活动");
    set_field(&boss, "Question", "周年庆有什么优惠");
    set_field(
        &boss,
        "Similar questions (one per line)",
        "周年庆活动\n店庆优惠",
    );
    set_field(&boss, "Answer", "周年庆全场满300减50。");
    boss.find_by_role("button", "Save item").click();
    boss.wait_for_text("Saved “周年庆有什么优惠”");
    boss.find_by_role("button", "Edit: 周年庆有什么优惠");
    set_field(&boss, "A customer's question", "周年庆有什么优惠？");
    boss.find_by_role("button", "Ask").click();
    boss.wait_for_text("周年庆全场满300减50。");
    let second = Customer::visit(&server);
    second.open_panel();
    second.say_and_wait("店庆优惠");
    second.browser.wait_for_text("周年庆全场满300减50。");

    // 小美's capacity goes down to 1: she has one chat, so the next customer waits.
    open_page(&boss, "Agents", "Agents");
    set_field(&boss, "Max concurrent chats of 小美 (mei)", "1");
    boss.find_by_role("button", "Save 小美 (mei)").click();
    boss.wait_for_text("Saved; in force now");
    second.say("转人工");
    second.wait_for_status("排队中，您排在第 1 位");

    // A malformed import names its bad line and imports nothing, not even the good line.
    open_page(&boss, "Knowledge base", "Knowledge base");
    let bad = server.data_dir().join("bad-knowledge.csv");
    std::fs::write(&bad, "id,category,question,similar,answer\nnew-1,售后,火星快递几天到,,三天\nnew-2,售后,发票抬头能改吗,,\n").unwrap();
    boss.find_by_label("Import a file (CSV or JSON, all or nothing)")
        .type_text(&bad.display().to_string());
    boss.wait_for_text("The file has problems; nothing was imported:");
    boss.wait_for_text("Line 3:");
    boss.find_by_role("button", "Edit: 周年庆有什么优惠");
    assert!(
        !boss.visible_text().contains("火星快递几天到"),
        "a line of the bad file was imported"
    );

    // The audit log says who changed what, in words: the changes made here and the agents
    // added with the command line, without raw keys or JSON paths.
    open_page(&boss, "Audit log", "Audit log");
    boss.wait_for_text("Changed the service rules");
    boss.wait_for_text("Changed agent mei");
    boss.wait_for_text("Added knowledge");
    boss.wait_for_text("Rule 1 · Working hours · Range 1");
    boss.wait_for_text("Command line");
    let log = boss.visible_text();
    assert!(log.contains("boss"), "{log}");
    assert!(
        log.contains("Added an agent mei") && log.contains("name customers see: \"小美\""),
        "the CLI's agent.add of mei: {log}"
    );
    for raw in ["config.rules", "agent.update", "working_hours", "[0]"] {
        assert!(!log.contains(raw), "{raw:?} in the audit log: {log}");
    }
}

#[test]
fn a_non_admin_gets_403_from_every_admin_route_and_never_sees_the_settings() {
    let server = KefuServer::start();
    let mei = Agent::online(&server, "mei", "小美", 2);
    mei.browser.wait_for_text("Online");
    assert!(
        !mei.browser.visible_text().contains("Admin settings"),
        "{}",
        mei.browser.visible_text()
    );

    let http = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .new_agent();
    let mut login = http
        .post(&server.url("/api/agent/login"))
        .send_json(json!({ "login": "mei", "password": "mei-password-1" }))
        .unwrap();
    let body: serde_json::Value = login.body_mut().read_json().unwrap();
    assert_eq!(body["role"], "agent");
    let token = body["token"].as_str().unwrap().to_owned();
    for (method, path) in admin_routes::ADMIN_ROUTES {
        let url = server.url(
            &path
                .replace("{section}", "rules")
                .replace("{login}", "mei")
                .replace("{id}", "x"),
        );
        let status = match *method {
            "GET" => http
                .get(&url)
                .header("Authorization", &format!("Bearer {token}"))
                .call(),
            "POST" => http
                .post(&url)
                .header("Authorization", &format!("Bearer {token}"))
                .send_json(json!({})),
            "PUT" => http
                .put(&url)
                .header("Authorization", &format!("Bearer {token}"))
                .send_json(json!({})),
            other => panic!("no client for {other}"),
        }
        .unwrap()
        .status()
        .as_u16();
        assert_eq!(status, 403, "{method} {path}");
    }
}

#[test]
fn screenshots_of_every_settings_page_in_english_and_chinese() {
    let server = KefuServer::start();
    let boss = Agent::admin_settings(&server);
    let pages = [
        ("groups", "Skill groups", "技能组"),
        ("rules", "Service rules", "人工服务规则"),
        ("mode", "Service mode", "服务模式"),
        ("agents", "Agents", "客服"),
        ("knowledge", "Knowledge base", "知识库"),
        ("widget", "Widget", "挂件设置"),
        ("audit", "Audit log", "操作日志"),
    ];
    // What each page shows once its data has loaded, so the screenshot has it filled in.
    let loaded_en = [
        Loaded::Field("Skill group 1 name"),
        Loaded::Field("Rule 1 name"),
        Loaded::Role("radio", "Robot first"),
        Loaded::Field("Max concurrent chats of Boss (boss)"),
        Loaded::Role("button", "Edit: 忘记密码怎么办？"),
        Loaded::Field("Accent colour (e.g. #1f6feb)"),
        // Boss was added with the command line: the log's first entry.
        Loaded::Text("Command line"),
    ];
    for ((name, english, _), loaded) in pages.into_iter().zip(loaded_en) {
        open_page(&boss, english, english);
        loaded.wait(&boss);
        boss.screenshot(&format!("admin-{name}-en"));
    }
    // The widget page: a bad colour is shown next to its field, and the snippet follows a
    // saved launcher text.
    open_page(&boss, "Widget", "Widget");
    set_field(&boss, "Accent colour (e.g. #1f6feb)", "blue");
    boss.find_by_role("button", "Save").click();
    boss.wait_for_text("must be a colour such as #1f6feb");
    set_field(&boss, "Accent colour (e.g. #1f6feb)", "#d4380d");
    set_field(&boss, "Launcher text", "联系我们");
    boss.find_by_role("button", "Save").click();
    boss.wait_for_text("Saved; in force now");
    let snippet = boss
        .find_by_label("The tag to paste into your site")
        .property("value");
    assert!(
        snippet
            .as_str()
            .unwrap()
            .contains(r##"data-color="#d4380d" data-label="联系我们""##),
        "{snippet}"
    );
    boss.find_by_role("button", "Copy the tag");
    // The operator's English greeting reaches English visitors.
    set_field(&boss, "Greeting (English)", "Hi from Acme support!");
    boss.find_by_role("button", "Save").click();
    boss.wait_for_text("Saved; in force now");
    let visitor = Customer::visit(&server);
    visitor
        .browser
        .execute("Kefu.setLocale('en'); Kefu.open();", &[]);
    visitor.enter_panel();
    visitor.browser.wait_for_text("Hi from Acme support!");

    boss.find_by_role("button", "中文").click();
    let loaded_zh = [
        Loaded::Field("技能组 1 名称"),
        Loaded::Field("规则 1 名称"),
        Loaded::Role("radio", "机器人优先"),
        Loaded::Field("Boss (boss) 在线最大接单人数"),
        Loaded::Role("button", "编辑：忘记密码怎么办？"),
        Loaded::Field("主题色（如 #1f6feb）"),
        // The change of the widget settings above.
        Loaded::Text("修改挂件设置"),
    ];
    for ((name, _, chinese), loaded) in pages.into_iter().zip(loaded_zh) {
        open_page(&boss, chinese, chinese);
        loaded.wait(&boss);
        boss.screenshot(&format!("admin-{name}-zh"));
    }
    // The audit log (the last page) words the command line's addition of Boss in Chinese.
    boss.wait_for_text("添加客服 boss");
    let log = boss.visible_text();
    assert!(log.contains("管理员: 是"), "{log}");
    for english in ["added", "chats", "true"] {
        assert!(
            !log.contains(english),
            "{english:?} in the Chinese audit log: {log}"
        );
    }
}

/// What a settings page shows once its data has loaded.
enum Loaded {
    /// A form field with this label.
    Field(&'static str),
    /// An element with this role and accessible name.
    Role(&'static str, &'static str),
    /// This text.
    Text(&'static str),
}

impl Loaded {
    fn wait(&self, browser: &Browser) {
        match self {
            Loaded::Field(label) => {
                browser.find_by_label(label);
            }
            Loaded::Role(role, name) => {
                browser.find_by_role(role, name);
            }
            Loaded::Text(text) => browser.wait_for_text(text),
        }
    }
}

/// The operator's own no-agent message, set on the rules page, is what a customer who asks
/// for a person gets while nobody is online: the robot keeps serving and nobody is queued.
/// Once an agent is online, the same request reaches her.
#[test]
fn a_customer_asking_for_a_person_while_no_agent_is_online_gets_the_operators_message() {
    let server = KefuServer::start();
    let boss = Agent::admin_settings(&server);
    open_page(&boss, "Service rules", "Service rules");
    let message = "客服都下班了，请留下您的问题，我们明早回复。";
    set_field(&boss, "No-agent-online message", message);
    boss.find_by_role("button", "Save").click();
    boss.wait_for_text("Saved; in force now");

    // The admin is logged in but not online, and so is nobody else.
    let customer = Customer::visit(&server);
    customer.open_panel();
    customer.wait_for_status("智能助手");
    customer.browser.find_by_role("button", "转人工").click();
    customer.browser.wait_for_text(message);
    customer.wait_for_status("智能助手");
    customer.browser.find_by_role("button", "转人工");
    assert!(
        !customer.status().contains("排队"),
        "queued with nobody online: {}",
        customer.status()
    );

    let mei = Agent::online(&server, "mei", "小美", 2);
    customer.browser.find_by_role("button", "转人工").click();
    customer.wait_for_status("客服 小美 为您服务");
    mei.browser.wait_for_text(message);
    assert_eq!(customer.count_in_transcript(message), 1);
}

/// The admin switches the service mode to robot only in the browser: a customer who opens
/// the panel afterwards has no 转人工 button, and asking for a person by keyword gets the
/// robot-only reply instead of an agent, although one is online.
#[test]
fn the_service_mode_switched_in_the_browser_takes_the_person_away_from_customers() {
    let server = KefuServer::start();
    let mei = Agent::online(&server, "mei", "小美", 2);
    let boss = Agent::admin_settings(&server);

    // Before: robot first, with the button.
    let before = Customer::visit(&server);
    before.open_panel();
    before.browser.find_by_role("button", "转人工");

    open_page(&boss, "Service mode", "Service mode");
    let robot_only = boss.find_by_role("radio", "Robot only");
    robot_only.click();
    assert_eq!(robot_only.property("checked"), serde_json::json!(true));
    boss.find_by_role("button", "Save").click();
    boss.wait_for_text("Saved; in force now");

    let customer = Customer::visit(&server);
    customer.open_panel();
    customer.wait_for_status("智能助手");
    customer.say("转人工");
    customer
        .browser
        .wait_for_text("当前仅提供智能机器人服务，暂时无法转接人工客服");
    customer.wait_for_status("智能助手");
    // The panel learned the mode when it connected, before that reply: no button.
    assert_eq!(
        customer
            .browser
            .execute(
                "return [...document.querySelectorAll('button')].filter(button => button.textContent.includes('转人工')).length;",
                &[],
            ),
        serde_json::json!(0),
        "a 转人工 button in robot-only mode"
    );
    // The robot still answers; when it cannot, its reply does not offer the person this
    // mode refuses (the built-in no-answer reply follows the mode).
    customer.say("怎么开发票？");
    customer.browser.wait_for_text("申请开票");
    customer.say_and_wait("量子纠缠是什么意思");
    customer.browser.wait_for_text("请换个说法试试");
    assert!(
        !customer.transcript().contains("输入“转人工”"),
        "robot-only offers 转人工: {}",
        customer.transcript()
    );
    let mei_sees = mei.browser.visible_text();
    assert!(
        mei_sees.contains("No conversations yet"),
        "an agent got a chat in robot-only mode: {mei_sees}"
    );

    // Agents only: the robot is off, so the panel does not say the assistant serves.
    boss.find_by_role("radio", "Agents only").click();
    boss.find_by_role("button", "Save").click();
    boss.wait_for_text("Saved; in force now");
    let human_only = Customer::visit(&server);
    human_only.open_panel();
    human_only.wait_for_status("人工客服为您服务");
    assert!(
        !human_only.status().contains("智能助手"),
        "{}",
        human_only.status()
    );
}
