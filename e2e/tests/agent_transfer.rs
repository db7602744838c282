//! The agent workspace beyond one agent's desk: both sides see the other typing, the agent
//! sees who the customer is (browser, visits), transfers the chat to another skill group
//! whose agent takes it with the whole log, and is told plainly when a transfer cannot be
//! made. A deliberate transfer and an agent who left read differently on both sides, and
//! the chat that left an agent says so above its log.

use kefu_e2e::{Agent, Customer, KefuServer};

#[test]
fn typing_both_ways_then_a_transfer_to_sales_and_a_refused_one_back() {
    let server = KefuServer::start();
    let mei = Agent::online(&server, "mei", "小美", 3);
    let kai = Agent::online_in(&server, "kai", "Kai", 3, "sales");

    let customer = Customer::visit(&server);
    customer.open_panel();
    customer.say_and_wait("我想批量采购，能开专票吗");
    customer.browser.find_by_role("button", "转人工").click();
    customer.wait_for_status("小美");
    mei.browser.wait_for_text("我想批量采购，能开专票吗");

    // The customer types without sending: the agent sees it, never the text.
    customer
        .browser
        .find_by_role("textbox", "输入消息")
        .type_text("我们公司需要两百");
    mei.browser.wait_for_text("Typing…");
    assert!(
        !mei.browser.visible_text().contains("我们公司需要两百"),
        "the draft must not leak to the agent"
    );
    // And the other way round.
    mei.browser
        .find_by_role("textbox", "Reply")
        .type_text("好的，我帮您");
    customer.browser.wait_for_text("对方正在输入…");

    // Who the customer is: the browser from its User-Agent, one visit, nothing earlier.
    let info = mei.browser.text_of("complementary", "Customer info");
    for expected in [
        "Browser / OS",
        "Chrome",
        "Linux",
        "Visits",
        "No earlier conversations",
    ] {
        assert!(info.contains(expected), "{expected:?} missing in {info}");
    }

    // 小美 hands the chat to the sales group: Kai gets it with everything said so far.
    mei.browser
        .find_by_role("combobox", "Transfer to skill group");
    mei.browser.screenshot("agent-transfer-en");
    mei.browser.find_by_role("button", "Transfer").click();
    kai.browser.wait_for_text("我想批量采购，能开专票吗");
    customer.wait_for_status("Kai");
    mei.browser.wait_for_text("No conversations yet");
    // Said as a transfer, by whom and where to, not as an agent who walked out.
    customer
        .browser
        .wait_for_text("小美 已将您转接到「售前咨询」，请稍候。");
    assert!(
        !customer.transcript().contains("重新排队"),
        "a transfer is not an agent leaving: {}",
        customer.transcript()
    );
    kai.browser
        .wait_for_text("小美 transferred the chat to “售前咨询”");
    // 小美's pane of the chat that left her says so, and its controls look disabled.
    mei.browser.find_by_role("button", "Ended").click();
    mei.browser
        .find_by_role_containing("button", "我想批量采购")
        .click();
    mei.browser
        .wait_for_text("Transferred: the chat went to “售前咨询”.");
    let transfer_button = mei.browser.find_by_role("button", "Transfer");
    let looks = mei.browser.execute(
        "const b = arguments[0]; return [b.disabled, getComputedStyle(b).opacity];",
        &[transfer_button.to_arg()],
    );
    assert_eq!(
        looks[0],
        serde_json::json!(true),
        "the transfer button is disabled"
    );
    assert!(
        looks[1]
            .as_str()
            .and_then(|o| o.parse::<f64>().ok())
            .unwrap_or(1.0)
            < 0.9,
        "a disabled 转接 button looks disabled: {looks}"
    );

    // Kai tries to send it back while nobody of the support group is online: refused, said
    // next to the control, and the chat stays with Kai.
    mei.browser.find_by_role("button", "Go offline").click();
    mei.browser.wait_for_text("Offline");
    kai.browser.find_by_role("button", "Transfer").click();
    kai.browser
        .wait_for_text("Cannot transfer: that group is closed now or nobody in it is online.");
    kai.reply("我想批量采购", "您好，我是售前的 Kai");
    customer.browser.wait_for_text("您好，我是售前的 Kai");

    // Kai goes offline: now the customer is told their agent left and they are back in line.
    kai.browser.find_by_role("button", "Go offline").click();
    customer
        .browser
        .wait_for_text("您的客服已离开，正在为您重新排队。");
    kai.browser.find_by_role("button", "Ended").click();
    kai.browser
        .find_by_role_containing("button", "您好，我是售前的 Kai")
        .click();
    kai.browser
        .wait_for_text("Kai went offline; the chat is back in the queue");
    assert!(
        !kai.browser
            .visible_text()
            .contains("Cannot transfer: that group is closed now"),
        "an earlier refusal is not carried into the pane of a chat that left"
    );
}
