//! `data-group` on the pasted tag: a site owner's page chooses the skill group its customers
//! reach, in real Chromium against the real server (the demo configuration has `support`,
//! 在线客服, and `sales`, 售前咨询).

use kefu_e2e::{Agent, Browser, Customer, KefuServer, ServerOptions, TestSite};

/// A page whose tag says `data-group="sales"`: the panel is titled with the sales group's
/// display name, and a transfer goes to the sales agent, not to the support agent who has
/// more room.
#[test]
fn the_group_chosen_on_the_host_page_names_the_panel_and_gets_the_chat() {
    let site = TestSite::start();
    let settings = format!(
        "identity_secret = \"e2e-secret\"\nallowed_origins = [\"{}\"]\n",
        site.origin()
    );
    let server = KefuServer::start_with(ServerOptions::default().file("kefu.toml", settings));
    let kefu = server.base_url();
    site.page(
        "/pricing",
        format!(
            "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>Pricing</title></head>\
             <body><h1>Pricing</h1><script src=\"{kefu}/embed.js\" data-group=\"sales\" async></script></body></html>"
        ),
        None,
    );
    let mei = Agent::online(&server, "mei", "小美", 5);
    let kai = Agent::online_in(&server, "kai", "Kai", 1, "sales");

    let customer = Customer {
        browser: Browser::start(),
        launcher: "在线客服".to_owned(),
    };
    customer.browser.goto(&format!("{}/pricing", site.origin()));
    customer.open_panel();
    customer.browser.find_by_role("dialog", "售前咨询");
    customer.browser.find_by_role("heading", "售前咨询");
    customer.say_and_wait("转人工");
    customer.wait_for_status("客服 Kai 为您服务");
    kai.browser.wait_for_text("转人工");
    kai.reply("转人工", "您好，我是售前顾问 Kai");
    customer.browser.wait_for_text("您好，我是售前顾问 Kai");
    // Routing is over (Kai has the chat): the support agent never got it.
    let mei_sees = mei.browser.visible_text();
    assert!(
        mei_sees.contains("No conversations yet") && !mei_sees.contains("转人工"),
        "the support agent got a sales chat: {mei_sees}"
    );
}
