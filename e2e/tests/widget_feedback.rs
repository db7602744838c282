//! 有用 / 没用 under the robot's knowledge answers, in real Chromium against the real server:
//! a customer says an answer did not help, sees the choice pressed and the next steps right
//! there (the robot's other suggestions, and 转人工, which works from there), and the admin
//! sees the vote counted next to the item in the knowledge settings, in English and Chinese.
//! Screenshots: `widget-feedback-offer.png`, `admin-knowledge-votes-en.png`.

use kefu_e2e::{Agent, Browser, Customer, KefuServer};
use serde_json::json;

/// The text of the cell under the column header `header` in the row of the item whose
/// question cell is `question`.
fn cell_under(browser: &Browser, question: &str, header: &str) -> String {
    let cell = browser.find_by_role("cell", question);
    let text = browser.execute(
        "const row = arguments[0].closest('tr');
         const headers = [...row.closest('table').querySelectorAll('thead th')]
             .map(th => th.textContent.trim());
         const index = headers.indexOf(arguments[1]);
         return index < 0 ? null : row.cells[index].textContent.trim();",
        &[cell.to_arg(), json!(header)],
    );
    text.as_str()
        .unwrap_or_else(|| panic!("no column {header:?}"))
        .to_string()
}

#[test]
fn a_customer_says_an_answer_did_not_help_gets_the_next_steps_and_the_admin_sees_the_count() {
    let server = KefuServer::start();
    let customer = Customer::visit(&server);
    customer.open_panel();
    let panel = &customer.browser;

    customer.say("忘记密码怎么办？");
    panel.wait_for_text("在登录页点击「忘记密码」");
    let votes = panel.find_by_role("group", "这个回答有用吗？");
    assert!(votes.text().contains("有用") && votes.text().contains("没用"));
    let not_helpful = panel.find_by_role("button", "没用");
    assert_eq!(
        not_helpful.attribute("aria-pressed").as_deref(),
        Some("false")
    );
    not_helpful.click();
    panel.wait_until(
        "没用 is shown pressed",
        "return [...document.querySelectorAll('.kefu-vote button')]
            .some(b => b.textContent === '没用' && b.getAttribute('aria-pressed') === 'true');",
    );
    assert_eq!(
        panel
            .find_by_role("button", "有用")
            .attribute("aria-pressed")
            .as_deref(),
        Some("false")
    );
    // The next steps, right under the answer: a person (human service is offered in the
    // demo's robot_first mode), and the robot's other questions when it had some.
    let offer = panel.find_by_role("group", "抱歉没帮上忙。您还可以：");
    assert!(offer.text().contains("转人工"), "{}", offer.text());
    panel.screenshot("widget-feedback-offer");
    // The offer's 转人工 is the first in the page (the panel's own is below the transcript)
    // and asks for a person.
    panel.find_by_role("button", "转人工").click();
    panel.wait_for_text("正在为您转接人工客服");

    // The admin sees the vote next to the item.
    let boss = Agent::admin_settings(&server);
    boss.find_by_role("button", "Knowledge base").click();
    boss.find_by_role("heading", "Knowledge base");
    boss.find_by_role("columnheader", "Helpful");
    boss.find_by_role("columnheader", "Not helpful");
    assert_eq!(cell_under(&boss, "忘记密码怎么办？", "Not helpful"), "1");
    assert_eq!(cell_under(&boss, "忘记密码怎么办？", "Helpful"), "0");
    boss.screenshot("admin-knowledge-votes-en");
    boss.find_by_role("button", "中文").click();
    boss.find_by_role("button", "知识库").click();
    boss.find_by_role("heading", "知识库");
    assert_eq!(cell_under(&boss, "忘记密码怎么办？", "没用"), "1");
    assert_eq!(cell_under(&boss, "忘记密码怎么办？", "有用"), "0");
}
