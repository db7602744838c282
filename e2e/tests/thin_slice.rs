//! The walking skeleton's slice, end to end: a customer on the demo page (nothing but the
//! pasted tag) opens the widget and says 你好; an agent logged in on the agent page sees it
//! arrive live and replies; the customer sees the reply. Two real Chromium sessions, one real
//! `kefu` process.

use kefu_e2e::{Browser, KefuServer};

/// Customer and agent see each other's messages live, through the real server.
#[test]
fn customer_and_agent_talk_through_the_real_server() {
    let server = KefuServer::start();
    server.run_cli_ok([
        "agent",
        "add",
        "--login",
        "mei",
        "--name",
        "小美",
        "--password",
        "mei-password-1",
    ]);

    // The agent logs in and goes online (上线接线).
    let agent = Browser::start();
    agent.goto(&server.url("/agent"));
    agent.find_by_role("textbox", "Login").type_text("mei");
    agent.find_by_label("Password").type_text("mei-password-1");
    agent.find_by_role("button", "Log in").click();
    agent.find_by_role("button", "Go online").click();
    agent.wait_for_text("Online");

    // The customer opens the widget from the launcher on the demo page and says hello.
    let customer = Browser::start();
    customer.goto(&server.url("/demo"));
    customer.find_by_role("button", "在线客服").click();
    let frame = customer.find_css("iframe");
    customer.switch_to_frame(&frame);
    let composer = customer.find_by_role("textbox", "输入消息");
    composer.type_text("你好");
    composer.press_enter();
    customer.wait_for_text("你好");
    // The robot answers first (robot_first); the customer asks for a person.
    customer.find_by_role("button", "转人工").click();
    customer.wait_for_text("小美");

    // The agent has the conversation, with what the customer said before the transfer.
    agent.wait_for_text("你好");
    let reply = agent.find_by_role("textbox", "Reply");
    reply.type_text("您好，我是小美，很高兴为您服务");
    reply.press_enter();

    // The customer sees the reply, then writes again; the agent sees it arrive live.
    customer.wait_for_text("您好，我是小美，很高兴为您服务");
    let composer = customer.find_by_role("textbox", "输入消息");
    composer.type_text("我想查一下订单");
    composer.press_enter();
    agent.wait_for_text("我想查一下订单");

    let customer_text = customer.visible_text();
    assert!(
        customer_text.contains("客服 小美 为您服务"),
        "the header shows who serves: {customer_text}"
    );
    let agent_text = agent.visible_text();
    assert!(
        agent_text.contains("1 / 5"),
        "the agent's load is shown: {agent_text}"
    );

    customer.switch_to_top();
    customer.screenshot("thin-slice-customer-widget");
    agent.screenshot("thin-slice-agent-workspace");
}
