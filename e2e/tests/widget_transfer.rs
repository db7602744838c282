//! From the robot to a person, in real Chromium against the real server (the demo service
//! is robot_first with 3 misses before a transfer): transfer by keyword, by misses and by the
//! button; the queue position while the only agent (max 1 chat) is busy; the agent's reply
//! and the launcher's unread badge while the panel is closed; `结束会话` ends the human
//! session and frees the agent for the next in line.

use kefu_e2e::{Agent, Customer, KefuServer};

/// Three customers, one agent who takes one chat at a time.
#[test]
fn customers_reach_the_agent_by_keyword_misses_and_button_and_wait_in_line() {
    let server = KefuServer::start();
    let agent = Agent::online(&server, "mei", "小美", 1);

    // A: the keyword 转人工 transfers at once, and the free agent takes the chat.
    let first = Customer::visit(&server);
    first.open_panel();
    first.say("转人工");
    first.wait_for_status("客服 小美 为您服务");
    first.browser.wait_for_text("客服 小美 已接入，为您服务。");
    agent.browser.wait_for_text("转人工");

    // B: three questions the robot cannot answer transfer; the agent is busy, so B waits first in line.
    let second = Customer::visit(&server);
    second.open_panel();
    for question in ["量子纠缠是什么意思", "我的猫会唱歌", "qwzx blorp"] {
        second.say_and_wait(question);
    }
    second.wait_for_status("排队中，您排在第 1 位");
    second.browser.wait_for_text("已进入排队，请稍候。");
    assert_eq!(
        second.count_in_transcript("抱歉，这个问题我还不会回答"),
        3,
        "{}",
        second.transcript()
    );

    // C: the 转人工 button; second in line.
    let third = Customer::visit(&server);
    third.open_panel();
    third.say_and_wait("你们几点上班");
    third.browser.find_by_role("button", "转人工").click();
    third.wait_for_status("排队中，您排在第 2 位");
    // The button is only offered while the robot serves.
    assert!(
        third
            .browser
            .execute(
                "return document.querySelector('.kefu-transfer') === null;",
                &[]
            )
            .as_bool()
            == Some(true),
        "no transfer button while queued"
    );

    // A closes the panel; the agent's reply shows as an unread badge on the launcher.
    first.browser.find_by_role("button", "关闭对话窗口").click();
    first.browser.switch_to_top();
    agent.reply("转人工", "您好，我是小美，请问有什么可以帮您？");
    first.browser.find_by_role("button", "在线客服 (1)").click();
    first.enter_panel();
    first
        .browser
        .wait_for_text("您好，我是小美，请问有什么可以帮您？");
    first.browser.switch_to_top();
    first.browser.find_by_role("button", "在线客服");
    first.enter_panel();

    // A ends the human session by typing 结束会话; the agent takes B, and C moves up.
    first.say("结束会话");
    first.browser.wait_for_text("您已结束本次人工会话。");
    first.wait_for_status("会话已结束");
    second.wait_for_status("客服 小美 为您服务");
    third.wait_for_status("排队中，您排在第 1 位");
    agent.browser.wait_for_text("qwzx blorp");
}
