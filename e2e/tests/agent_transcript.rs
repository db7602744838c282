//! The agent's transcript follows the chat: a chat opens at its newest message, new lines
//! are followed while the agent is at the bottom (and always their own replies), and while
//! they read further up the transcript stays put and a "N new ↓" button counts what came.
//! Each message shows its time, under a heading per day; the agent's replies are marked
//! "Read" once the customer's panel has shown them; a visitor who left is marked.
//! Screenshot: `agent-transcript-30-messages.png`.

use kefu_e2e::{Agent, Customer, KefuServer};

const AT_THE_BOTTOM: &str = "const log = document.querySelector('[role=log]');
     return log.scrollHeight > log.clientHeight + 100
         && log.scrollTop + log.clientHeight >= log.scrollHeight - 2;";

#[test]
fn the_transcript_opens_at_the_newest_message_follows_it_and_counts_what_came_while_reading() {
    let server = KefuServer::start();
    let agent = Agent::online(&server, "mei", "小美", 2);
    let customer = Customer::visit(&server);
    customer.open_panel();
    customer.say_and_wait("转人工");
    customer.wait_for_status("客服 小美 为您服务");
    // 30 messages: 20 from the customer (well within their rate limit), 10 replies.
    for n in 1..=20 {
        customer.say_and_wait(&format!("第 {n} 条消息"));
    }
    let browser = &agent.browser;
    let reply = browser.find_by_role("textbox", "Reply");
    for n in 21..=30 {
        reply.type_text(&format!("第 {n} 条消息"));
        reply.press_enter();
        customer.browser.wait_for_text(&format!("第 {n} 条消息"));
    }
    browser
        .find_by_role_containing("button", "第 30 条消息")
        .click();
    browser.wait_for_text("第 30 条消息");
    browser.wait_until("the chat opens at its newest message", AT_THE_BOTTOM);
    browser.screenshot("agent-transcript-30-messages");
    // Every message carries its time, and the log is grouped by day ("Today").
    let stamps = browser.execute(
        "const log = document.querySelector('[role=log]');
         return [[...log.querySelectorAll('time')].filter(t => /^\\d\\d:\\d\\d$/.test(t.textContent)).length,
                 [...log.querySelectorAll('p')].some(p => p.textContent === 'Today')];",
        &[],
    );
    assert!(
        stamps[0].as_u64().unwrap_or_default() >= 30 && stamps[1] == serde_json::json!(true),
        "[messages with a time, a 'Today' heading]: {stamps}"
    );

    // Reading further up: a new message does not move the transcript, a button counts it.
    browser.execute(
        "const log = document.querySelector('[role=log]'); log.scrollTop = 0;
         log.dispatchEvent(new Event('scroll'));",
        &[],
    );
    customer.say_and_wait("第 31 条消息");
    let button = browser.find_by_role("button", "1 new ↓");
    assert_eq!(
        browser.execute(
            "return document.querySelector('[role=log]').scrollTop;",
            &[]
        ),
        serde_json::json!(0),
        "the transcript stays where the agent reads"
    );
    button.click();
    browser.wait_until(
        "the button took the agent to the newest line",
        AT_THE_BOTTOM,
    );
    browser.wait_until(
        "the button is gone",
        "return ![...document.querySelectorAll('button')].some(b => b.textContent.includes('new ↓'));",
    );

    // At the bottom, the customer's next message and the agent's reply are followed.
    customer.say_and_wait("第 32 条消息");
    browser.wait_for_text("第 32 条消息");
    browser.wait_until("the customer's message is followed", AT_THE_BOTTOM);
    let reply = browser.find_by_role("textbox", "Reply");
    reply.type_text("收到，马上处理。");
    reply.press_enter();
    customer.browser.wait_for_text("收到，马上处理。");
    browser.wait_until("the agent's own reply is followed", AT_THE_BOTTOM);

    // Read receipts: the reply the open panel showed is "Read"; one that arrives while the
    // panel is closed is not, until the customer opens it.
    const LAST_REPLY_READ: &str = "const mine = document.querySelectorAll('[role=log] .kefu-line.mine');
         const last = mine[mine.length - 1];
         return last.textContent.includes(arguments[0]) && last.querySelector('.kefu-read') !== null;";
    let last_reply_read = |text: &str| {
        browser.execute(LAST_REPLY_READ, &[serde_json::json!(text)]) == serde_json::json!(true)
    };
    browser.wait_until(
        "the reply the customer saw is marked read",
        &LAST_REPLY_READ.replace("arguments[0]", "'收到，马上处理。'"),
    );
    customer
        .browser
        .find_by_role("button", "关闭对话窗口")
        .click();
    customer.browser.switch_to_top();
    let reply = browser.find_by_role("textbox", "Reply");
    reply.type_text("处理好了。");
    reply.press_enter();
    // The sentinel: the closed panel counted the reply on the launcher's badge.
    customer.browser.find_by_role("button", "在线客服 (1)");
    assert!(
        !last_reply_read("处理好了。"),
        "read while the panel was closed"
    );
    customer
        .browser
        .find_by_role("button", "在线客服 (1)")
        .click();
    browser.wait_until(
        "the reply is read once the panel shows it",
        &LAST_REPLY_READ.replace("arguments[0]", "'处理好了。'"),
    );

    // The visitor closes their browser: their chat says so in the agent's list.
    assert!(!browser.visible_text().contains("Visitor left"));
    drop(customer);
    browser.find_by_role_containing("button", "Visitor left");
}
