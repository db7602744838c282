//! Sessions survive what happens to browsers and servers: a reload restores the whole
//! transcript (the visitor token lives in the panel's localStorage), and a server killed
//! with SIGKILL mid-conversation loses no acknowledged message, takes the messages typed
//! while it was down once and in order, and shows none twice.

use kefu_e2e::{Customer, KefuServer, RECONNECT_TIMEOUT};

/// A reload of the host page reopens the panel with the same conversation, each line once.
#[test]
fn a_reload_restores_the_transcript() {
    let server = KefuServer::start();
    let customer = Customer::visit(&server);
    customer.open_panel();
    customer.say_and_wait("退款多久到账？");
    customer.browser.wait_for_text("银行卡：3–7 个工作日");
    customer.say_and_wait("量子纠缠是什么意思");
    customer.browser.wait_for_text("抱歉，这个问题我还不会回答");

    customer.browser.switch_to_top();
    customer.browser.goto(&server.url("/demo"));
    // The panel was open, so it opens again by itself.
    customer.enter_panel();
    customer.browser.wait_for_text("量子纠缠是什么意思");
    customer.browser.wait_for_text("银行卡：3–7 个工作日");
    for line in [
        "退款多久到账？",
        "量子纠缠是什么意思",
        "银行卡：3–7 个工作日",
        "抱歉，这个问题我还不会回答",
    ] {
        assert_eq!(
            customer.count_in_transcript(line),
            1,
            "{line:?} once:\n{}",
            customer.transcript()
        );
    }
}

/// kill -9 mid-conversation: what was acknowledged is still there after the restart, what
/// was typed while the server was down shows "sending", then goes out once, in order.
#[test]
fn a_server_crash_loses_no_acknowledged_message_and_repeats_none() {
    let mut server = KefuServer::start();
    let customer = Customer::visit(&server);
    customer.open_panel();
    customer.say_and_wait("崩溃前的第一句 alpha");
    customer.say_and_wait("崩溃前的第二句 beta");

    server.kill9();
    customer.wait_for_status("正在连接");
    customer.say("断线时写的 gamma");
    customer.say("断线时写的 delta");
    customer.browser.wait_for_text("发送中");
    assert_eq!(
        customer.browser.execute(
            "return document.querySelectorAll('.kefu-line.pending').length;",
            &[]
        ),
        serde_json::json!(2)
    );

    server.restart();
    customer.wait_until_all_sent(RECONNECT_TIMEOUT);
    let messages = [
        "崩溃前的第一句 alpha",
        "崩溃前的第二句 beta",
        "断线时写的 gamma",
        "断线时写的 delta",
    ];
    let check = |when: &str| {
        let transcript = customer.transcript();
        let positions: Vec<usize> = messages
            .iter()
            .map(|message| {
                assert_eq!(
                    transcript.matches(message).count(),
                    1,
                    "{message:?} once {when}:\n{transcript}"
                );
                transcript.find(message).expect("counted above")
            })
            .collect();
        assert!(
            positions.windows(2).all(|pair| pair[0] < pair[1]),
            "in the order typed {when}:\n{transcript}"
        );
    };
    check("after the reconnection");

    // What the server stored is the same: a reload shows the same lines, once each.
    customer.browser.switch_to_top();
    customer.browser.goto(&server.url("/demo"));
    customer.enter_panel();
    customer.browser.wait_for_text("断线时写的 delta");
    check("after a reload");
}
