//! What helps an agent answer, end to end: the knowledge base (search, matches for the
//! customer's question, click to put an answer in the composer) and canned phrases (created
//! in the settings, inserted with `/`, sent).

use kefu_e2e::{Agent, Customer};

/// A knowledge answer found by search and a canned phrase made in the settings both reach
/// the customer, each after one deliberate send.
#[test]
fn knowledge_and_canned_phrases_reach_the_customer() {
    let server = kefu_e2e::KefuServer::start();
    let agent = Agent::online(&server, "mei", "小美", 5);
    let customer = Customer::visit(&server);
    customer.open_panel();
    customer.say_and_wait("转人工");
    customer.wait_for_status("小美");
    customer.say_and_wait("我想退货，怎么办");

    // The best match for the customer's latest question is offered without searching.
    agent.browser.wait_for_text("For the latest question");
    agent
        .browser
        .find_by_role("button", "Use answer: 退货政策是什么？");
    // Its preview reads as text: the link's words, not the markdown around them.
    let knowledge = agent.browser.text_of("region", "Knowledge");
    assert!(
        knowledge.contains("详见退货政策。") && !knowledge.contains("]("),
        "the preview shows raw markdown: {knowledge}"
    );

    // Search, click an answer: it lands in the composer, and only Enter sends it.
    let search = agent
        .browser
        .find_by_role("searchbox", "Search the knowledge base");
    search.type_text("怎么开发票");
    agent
        .browser
        .find_by_role("button", "Use answer: 怎么开发票？")
        .click();
    let composer = agent.browser.find_by_role("textbox", "Reply");
    let answer = composer
        .property("value")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        answer.contains("申请开票"),
        "the answer is in the composer: {answer:?}"
    );
    assert!(
        !customer.transcript().contains("申请开票"),
        "nothing is sent before the agent sends"
    );
    composer.press_enter();
    customer.browser.wait_for_text("申请开票");

    // A canned phrase made in the settings, inserted with / and sent.
    agent
        .browser
        .find_by_role("button", "Canned phrase settings")
        .click();
    agent
        .browser
        .find_by_role("textbox", "Category")
        .type_text("售后");
    agent
        .browser
        .find_by_role("textbox", "Content")
        .type_text("已为您登记退货，请保持电话畅通。");
    agent.browser.find_by_role("button", "Add phrase").click();
    agent
        .browser
        .find_by_role_containing("button", "Edit: 已为您登记退货");
    agent.browser.screenshot("agent-canned-phrase-settings");
    agent.browser.find_by_role("button", "Close").click();
    let composer = agent.browser.find_by_role("textbox", "Reply");
    composer.type_text("/售后");
    agent
        .browser
        .find_by_role_containing("button", "已为您登记退货");
    composer.press_enter();
    let inserted = composer
        .property("value")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        inserted, "已为您登记退货，请保持电话畅通。",
        "Enter takes the offered phrase"
    );
    composer.press_enter();
    customer
        .browser
        .wait_for_text("已为您登记退货，请保持电话畅通。");
    agent.browser.screenshot("agent-knowledge-and-phrases");
}

/// 高频问题: the knowledge items customers hit most are listed for the agent, most asked
/// first, and a click puts the answer in the composer without sending it.
#[test]
fn the_frequently_asked_panel_lists_the_most_hit_items_and_fills_the_composer() {
    let server = kefu_e2e::KefuServer::start();
    // Customers' questions the robot answers: invoices twice, the password once.
    let customer = Customer::visit(&server);
    customer.open_panel();
    customer.say("怎么开发票？");
    customer.browser.wait_for_text("申请开票");
    customer.say("可以开发票吗");
    customer.browser.wait_until(
        "the robot answered twice",
        "return document.querySelector('[role=log]').innerText.split('申请开票').length === 3;",
    );
    customer.say("忘记密码怎么办？");
    customer.browser.wait_for_text("别担心！");
    // Last, something the robot does not know, so that no item matches the latest question.
    customer.say_and_wait("qwzx blorp");
    customer.browser.wait_for_text("抱歉，这个问题我还不会回答");

    let agent = Agent::online(&server, "mei", "小美", 5);
    agent.browser.find_by_role("heading", "Frequently asked");
    let listed = agent.browser.execute(
        "const heading = [...document.querySelectorAll('h3')].find(h => h.textContent.trim() === 'Frequently asked');
         return [...heading.nextElementSibling.querySelectorAll('button')].map(button => button.getAttribute('aria-label'));",
        &[],
    );
    assert_eq!(
        listed,
        serde_json::json!(["Use answer: 怎么开发票？", "Use answer: 忘记密码怎么办？"]),
        "the items hit, most hit first"
    );

    customer.browser.find_by_role("button", "转人工").click();
    customer.wait_for_status("小美");
    agent
        .browser
        .find_by_role_containing("button", "qwzx blorp")
        .click();
    let composer = agent.browser.find_by_role("textbox", "Reply");
    agent
        .browser
        .find_by_role("button", "Use answer: 怎么开发票？")
        .click();
    agent.browser.wait_until(
        "the answer is in the composer",
        "return document.querySelector('.kefu-conversation textarea').value.includes('申请开票');",
    );
    assert_eq!(
        composer.property("value"),
        serde_json::json!(
            "在订单详情页点击「申请开票」，填写发票抬头和税号即可，电子发票会在 1–3 个工作日内发送到你的邮箱。需要增值税专用发票的话，开票时请选择「专票」并上传资质。"
        )
    );
    assert_eq!(
        customer.count_in_transcript("申请开票"),
        2,
        "nothing is sent before the agent sends"
    );
}
