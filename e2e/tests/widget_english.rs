//! An English visitor from the first word to the end, in real Chromium against the real
//! server: the panel's own language button turns the launcher, the title, the greeting and
//! the operator's notices English; the visitor ends a chat with the End chat button (after a
//! confirmation) and another by typing "end chat"; the agent reads agent wording, never the
//! customer's, and sees `Kefu.setUser` and a language switch during the chat at once. Screenshot: `widget-en-end-to-end.png`.

use kefu_e2e::{Agent, Customer, KefuServer};

#[test]
fn an_english_visitor_reads_english_and_ends_chats_by_button_and_by_phrase() {
    let server = KefuServer::start();
    let customer = Customer::visit(&server);
    let browser = &customer.browser;
    customer.open_panel();
    browser.wait_for_text("您好，有什么可以帮您？");
    browser.find_by_role("button", "English").click();
    // The panel reconnects in English: title and greeting come from the server in English.
    browser.wait_for_text("Hello! How can we help you?");
    browser.find_by_role("heading", "Customer service");
    customer.wait_for_status("Assistant");
    browser.switch_to_top();
    browser.find_by_role("button", "Chat with us");
    customer.enter_panel();

    // Nobody is online: the operator's no-agent notice, in English.
    customer.say_and_wait("human");
    browser.wait_for_text("No agent is online right now; please try again a little later.");

    let agent = Agent::online(&server, "mei", "Mei", 2);
    customer.say_and_wait("talk to a human");
    customer.wait_for_status("Chatting with Mei");
    let info = agent.browser.text_of("complementary", "Customer info");
    assert!(info.contains("Language") && info.contains("en"), "{info}");
    agent.reply("talk to a human", "Hi, Mei here.");
    browser.wait_for_text("Hi, Mei here.");

    // Who the visitor is and their language reach the agent during the chat, no reload.
    browser.switch_to_top();
    browser.execute("Kefu.setUser({ id: 'u-7', name: 'Alice Zhang' });", &[]);
    customer.enter_panel();
    agent.browser.wait_until(
        "the agent sees the name setUser gave",
        "return document.querySelector('aside').innerText.includes('Alice Zhang');",
    );
    browser.find_by_role("button", "中文").click();
    agent.browser.wait_until(
        "the agent sees the visitor switch to Chinese",
        "return document.querySelector('aside').innerText.includes('zh-CN');",
    );
    browser.find_by_role("button", "English").click();
    customer.wait_for_status("Chatting with Mei");
    agent.browser.wait_until(
        "the agent sees the visitor back in English",
        "return !document.querySelector('aside').innerText.includes('zh-CN');",
    );

    // The End chat button asks first; Cancel keeps the chat.
    browser.find_by_role("button", "End chat").click();
    browser.find_by_role("button", "Cancel").click();
    customer.wait_for_status("Chatting with Mei");
    browser.find_by_role("button", "End chat").click();
    browser.find_by_role("group", "End this chat?");
    browser.find_by_role("button", "End").click();
    browser.wait_for_text("You ended the conversation with the agent.");
    customer.wait_for_status("Conversation ended");
    agent.browser.find_by_role("button", "Ended").click();
    agent
        .browser
        .find_by_role_containing("button", "Alice Zhang")
        .click();
    agent.browser.wait_for_text("The visitor ended the chat");
    assert!(
        !agent
            .browser
            .visible_text()
            .contains("You ended the conversation with the agent."),
        "the agent reads agent wording"
    );

    // A second chat, ended by typing the English end phrase.
    customer.say_and_wait("agent please");
    customer.wait_for_status("Chatting with Mei");
    customer.say_and_wait("End Chat");
    customer.wait_for_status("Conversation ended");
    assert_eq!(
        customer.count_in_transcript("You ended the conversation with the agent."),
        2,
        "{}",
        customer.transcript()
    );
    browser.execute(
        "document.activeElement && document.activeElement.blur();",
        &[],
    );
    browser.switch_to_top();
    browser.screenshot("widget-en-end-to-end");
}
