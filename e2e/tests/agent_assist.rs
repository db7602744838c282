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
