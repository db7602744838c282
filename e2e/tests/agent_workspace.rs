//! The agent workspace with several people at once: two customers, two agents of the
//! support group and one agent of another group, each in their own Chromium.

use kefu_e2e::{Agent, Customer};
use kefu_e2e::{Browser, KefuServer};

/// Chats are spread by free capacity, arrive live both ways with the robot's part visible,
/// an agent's end reaches the customer and moves the chat to 已结束, and an agent of another
/// group never sees any of it.
#[test]
fn two_agents_two_customers_and_an_agent_of_another_group() {
    let server = KefuServer::start();
    let mei = Agent::online(&server, "mei", "小美", 2);
    let lei = Agent::online(&server, "lei", "李雷", 1);

    // An agent of another skill group, online as well.
    server.run_cli_ok([
        "agent",
        "add",
        "--login",
        "kai",
        "--name",
        "Kai",
        "--password",
        "kai-password-1",
        "--groups",
        "sales",
    ]);
    let kai = Browser::start();
    kai.goto(&server.url("/agent"));
    kai.find_by_role("textbox", "Login").type_text("kai");
    kai.find_by_label("Password").type_text("kai-password-1");
    kai.find_by_role("button", "Log in").click();
    kai.find_by_role("button", "Go online").click();
    kai.wait_for_text("Online");

    // The first customer asks the robot, then asks for a person: 小美 has the most free
    // capacity (2 against 1), so she takes it, and sees what the robot already answered.
    let first = Customer::visit(&server);
    first.open_panel();
    first.say_and_wait("忘记密码怎么办？");
    // The robot's answer itself (the header says 智能助手 before anyone answers).
    first
        .browser
        .wait_for_text("别担心！在登录页点击「忘记密码」");
    first.browser.find_by_role("button", "转人工").click();
    first.wait_for_status("小美");
    mei.browser.wait_for_text("忘记密码怎么办？");
    mei.browser.wait_for_text("Assistant");

    // The second customer: both agents now have one free slot; 李雷 has waited longer.
    let second = Customer::visit(&server);
    second.open_panel();
    second.say_and_wait("转人工");
    second.wait_for_status("李雷");
    lei.browser.wait_for_text("转人工");

    // Live in both directions, each agent with their own customer only.
    mei.reply("忘记密码", "您好，我来帮您重置密码");
    first.browser.wait_for_text("您好，我来帮您重置密码");
    first.say_and_wait("好的，谢谢");
    mei.browser.wait_for_text("好的，谢谢");
    lei.reply("转人工", "您好，我是李雷");
    second.browser.wait_for_text("您好，我是李雷");
    let mei_sees = mei.browser.visible_text();
    assert!(
        !mei_sees.contains("您好，我是李雷"),
        "小美 sees 李雷's chat: {mei_sees}"
    );
    assert!(mei_sees.contains("1 / 2"), "小美's load: {mei_sees}");

    // 李雷 ends his chat: the customer is told, the chat moves to 已结束.
    // A message arriving while he confirms leaves the question where it is.
    lei.browser
        .find_by_role("button", "End conversation")
        .click();
    let end = lei.browser.find_by_role("button", "End");
    second.say_and_wait("最后一个问题");
    lei.browser.wait_for_text("最后一个问题");
    end.click();
    second.browser.wait_for_text("客服已结束本次会话。");
    lei.browser.wait_for_text("No conversations yet");
    lei.browser.find_by_role("button", "Ended").click();
    lei.browser
        .find_by_role_containing("button", "最后一个问题");

    // The agent of the sales group saw nothing of the support chats.
    let kai_sees = kai.visible_text();
    assert!(kai_sees.contains("No conversations yet"), "{kai_sees}");
    for private in ["忘记密码", "转人工", "您好，我是李雷"] {
        assert!(
            !kai_sees.contains(private),
            "an agent of another group saw {private:?}: {kai_sees}"
        );
    }

    mei.browser.screenshot("agent-workspace-en");
    mei.browser.find_by_role("button", "中文").click();
    mei.browser.wait_for_text("会员信息");
    // The knowledge suggestions already on screen switch language too.
    mei.browser.find_by_role_containing("button", "使用答案");
    let mei_sees = mei.browser.visible_text();
    assert!(!mei_sees.contains("Use answer"), "{mei_sees}");
    mei.browser.screenshot("agent-workspace-zh");
}
