//! The host page drives the widget through `window.Kefu`, as a site owner's script does:
//! calls made before the panel is loaded are queued, `open`/`close`/`toggle` move the panel,
//! `on` reports what happens, `setLocale` switches the language, and `setUser` tells the
//! agent who the customer is (the agent's conversation list shows the customer's name).

use kefu_e2e::{Agent, Customer, KefuServer};
use serde_json::json;

/// Kefu.setUser/setLocale before the panel exists, then Kefu.open(); the agent sees 王小明.
#[test]
fn the_js_api_opens_the_panel_and_set_user_reaches_the_agent() {
    let server = KefuServer::start();
    let agent = Agent::online(&server, "mei", "小美", 5);
    let customer = Customer::visit(&server);
    let browser = &customer.browser;
    browser.find_by_role("button", "在线客服");
    browser.execute(
        "window.kefuEvents = [];
         Kefu.on('open', () => kefuEvents.push('open'));
         Kefu.on('close', () => kefuEvents.push('close'));
         window.kefuMessages = [];
         Kefu.on('message', message => kefuMessages.push(message.from + ': ' + message.text));
         Kefu.setUser({ id: 'u-42', name: '王小明', email: 'wang@example.com', attributes: { plan: 'gold' } });
         Kefu.setLocale('en');",
        &[],
    );
    // The launcher follows the language at once.
    browser.find_by_role("button", "Chat with us");
    browser.execute("Kefu.open();", &[]);
    browser.wait_until(
        "the panel is shown",
        "return getComputedStyle(document.querySelector('iframe')).display === 'block';",
    );
    customer.enter_panel();
    // The English panel has the English title too (the operator's, or the built-in one).
    browser.find_by_role("dialog", "Customer service");
    // The panel in English: the loader sent setLocale after setUser, in order, so the panel
    // has taken the identity too. setUser drops the connection so that the next `hello`
    // carries it; what the customer types from now on waits for that `hello`.
    browser.find_by_role("textbox", "Type a message");
    customer.wait_for_status("Assistant");
    customer.say("How long does a refund take?");
    browser.wait_for_text("Did you mean:");
    browser.find_by_role("button", "Talk to a person").click();
    customer.wait_for_status("Chatting with 小美");
    agent.browser.find_by_role_containing("button", "王小明");

    browser.switch_to_top();
    browser.execute("Kefu.close();", &[]);
    browser.wait_until(
        "the panel is hidden",
        "return getComputedStyle(document.querySelector('iframe')).display === 'none';",
    );
    browser.execute("Kefu.toggle();", &[]);
    browser.wait_until(
        "the panel is shown again",
        "return getComputedStyle(document.querySelector('iframe')).display === 'block';",
    );
    assert_eq!(
        browser.execute("return kefuEvents;", &[]),
        json!(["open", "close", "open"])
    );
    let messages = browser.execute("return kefuMessages;", &[]);
    let robot_said = messages
        .as_array()
        .and_then(|messages| messages.first())
        .and_then(|message| message.as_str())
        .unwrap_or_default();
    assert!(
        robot_said.starts_with("robot: ") && robot_said.to_lowercase().contains("refund"),
        "{messages}"
    );
}
