//! Forged postMessage, in real Chromium: windows that are not the loader's own iframe (a
//! foreign site's frame, a frame of the Kefu server's origin, a frame of the host's own
//! origin) post the loader's and the panel's messages to the host page and to every frame of
//! it. Both the loader (`embed/embed.js`) and the panel (`src/customer/host.rs`) ignore them
//! all, which the test sees: the panel stays open (or closed) and in Chinese, no badge, no
//! event on the page, and the agent never hears of "Mallory". The real API still works.
//!
//! A message being ignored cannot be seen, so each attack is followed by real messages that
//! must arrive after the forged ones (the panel telling the page about the robot's answer,
//! the page's real `open` to the panel), and the test looks for damage only once those have
//! taken effect.

use kefu_e2e::{Agent, Browser, Customer, KefuServer, ServerOptions, TestSite};

/// Every message the loader and the panel understand, forged.
const FORGED: &str = "[
    { kefu: 1, type: 'close' },
    { kefu: 1, type: 'unread', count: 7 },
    { kefu: 1, type: 'message', message: { from: 'agent', text: 'forged message' } },
    { kefu: 1, type: 'ready' },
    { kefu: 1, type: 'setLocale', locale: 'en' },
    { kefu: 1, type: 'setUser', user: { id: 'mallory', name: 'Mallory' } },
    { kefu: 1, type: 'open', page: { url: 'https://evil.example/', title: 'Evil page', referrer: '' } },
]";

/// Runs in an attacker's frame: posts every forged message to the host page and to each of
/// its frames (the panel among them), with any target origin.
fn post_everything() -> String {
    format!(
        "const forged = {FORGED};
         for (const message of forged) {{
           parent.postMessage(message, '*');
           for (let i = 0; i < parent.length; i++) parent[i].postMessage(message, '*');
         }}
         return parent.length;"
    )
}

#[test]
fn forged_post_messages_reach_neither_the_loader_nor_the_panel() {
    let site = TestSite::start();
    let settings = format!(
        "identity_secret = \"e2e-secret\"\nallowed_origins = [\"{}\"]\n",
        site.origin()
    );
    let server = KefuServer::start_with(ServerOptions::default().file("kefu.toml", settings));
    let kefu = server.base_url();
    site.page(
        "/shop",
        format!("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>Shop</title></head><body><h1>Shop</h1><script src=\"{kefu}/embed.js\" async></script></body></html>"),
        None,
    );
    site.page("/frame", "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>frame</title></head><body>an ad</body></html>", None);

    let agent = Agent::online(&server, "mei", "小美", 5);
    let customer = Customer {
        browser: Browser::start(),
        launcher: "在线客服".to_owned(),
    };
    let browser = &customer.browser;
    browser.goto(&format!("{}/shop", site.origin()));
    browser.find_by_role("button", "在线客服");
    browser.execute(
        "window.kefuEvents = [];
         for (const name of ['open', 'close', 'message', 'unread']) Kefu.on(name, arg => kefuEvents.push(name + ' ' + JSON.stringify(arg === undefined ? null : arg)));",
        &[],
    );
    customer.open_panel();

    // Three attackers join the page: a foreign site, the Kefu server's own origin (another
    // window than the panel), and the host's own origin (another window than the host).
    browser.switch_to_top();
    let attackers = [
        ("foreign", format!("{}/frame", site.foreign_origin())),
        ("kefu-origin", format!("{kefu}/demo")),
        ("host-origin", format!("{}/frame", site.origin())),
    ];
    for (title, src) in &attackers {
        browser.execute(
            "const frame = document.createElement('iframe');
             frame.title = arguments[0]; frame.src = arguments[1];
             document.body.prepend(frame);",
            &[(*title).into(), src.clone().into()],
        );
    }
    // Every attacker posts every forged message. postMessage is asynchronous: the test
    // cannot see a message being ignored, so after each attack it waits for the effect of a
    // legitimate message sent later to the same windows, and only then looks for damage.
    let attack = || {
        for (title, _) in &attackers {
            browser.switch_to_top();
            let frame = browser.find_css(&format!("iframe[title='{title}']"));
            browser.switch_to_frame(&frame);
            browser.wait_until(
                "the attacker's page has loaded",
                "return document.readyState === 'complete';",
            );
            let frames = browser.execute(&post_everything(), &[]);
            assert_eq!(
                frames.as_i64(),
                Some(4),
                "{title} reached every frame of the page"
            );
        }
        browser.switch_to_top();
    };
    let panel_display = || {
        browser.switch_to_top();
        browser
            .execute(
                "return getComputedStyle(document.querySelector('iframe[src*=\"/widget\"]')).display;",
                &[],
            )
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let events = || -> Vec<String> {
        browser.switch_to_top();
        let events = browser.execute("return kefuEvents;", &[]);
        serde_json::from_value(events).expect("the events are strings")
    };

    // The panel open: the forged messages go in, then the customer asks the robot. Its answer
    // is shown in the panel and the panel tells the page (a `message` event): both come after
    // the forged messages reached the panel and the page.
    attack();
    customer.enter_panel();
    customer.say("怎么开发票？");
    browser.wait_for_text("申请开票");
    browser.switch_to_top();
    browser.wait_until(
        "the page heard of the robot's answer",
        "return kefuEvents.some(event => event.startsWith('message ') && event.includes('申请开票'));",
    );
    assert_eq!(panel_display(), "block", "a forged message moved the panel");
    browser.find_by_role("button", "在线客服");
    customer.enter_panel();
    // Still in Chinese: the forged setLocale was not taken.
    browser.find_by_role("textbox", "输入消息");

    // The panel closed, where a forged unread count would show as a badge. The caret leaves
    // the composer first, so that only the panel can put it back: it does when it hears the
    // page's real `open`, which the page sends after the forged messages.
    browser.execute("document.activeElement.blur();", &[]);
    browser.wait_until(
        "the composer has lost the focus",
        "return document.activeElement === document.body;",
    );
    browser.switch_to_top();
    browser.execute("Kefu.close();", &[]);
    assert_eq!(panel_display(), "none");
    attack();
    browser.execute("Kefu.open();", &[]);
    customer.enter_panel();
    browser.wait_until(
        "the panel put the caret in its composer",
        "return document.activeElement && document.activeElement.tagName === 'TEXTAREA';",
    );
    browser.find_by_role("textbox", "输入消息");
    let events = events();
    let forged: Vec<&String> = events
        .iter()
        .filter(|event| {
            event.contains("forged") || event.contains("Mallory") || *event == "unread 7"
        })
        .collect();
    assert!(
        forged.is_empty(),
        "a forged message reached the page: {forged:?} in {events:?}"
    );
    let count = |name: &str| events.iter().filter(|event| *event == name).count();
    assert_eq!(
        count("close null"),
        1,
        "only the real close reached the page: {events:?}"
    );
    assert_eq!(
        count("open null"),
        2,
        "only the real opens reached the page: {events:?}"
    );

    // Had the panel taken the forged setUser or open, it would have reconnected as Mallory
    // (and with the forged page): the agent who now takes the chat sees who the server was
    // told.
    customer.enter_panel();
    assert!(
        !customer.transcript().contains("forged"),
        "{}",
        customer.transcript()
    );
    customer.say_and_wait("转人工");
    customer.wait_for_status("小美");
    agent
        .browser
        .find_by_role_containing("button", "转人工")
        .click();
    agent.browser.find_by_role("complementary", "Customer info");
    // Told no identity, the server shows an anonymous visitor; Mallory had the forged
    // setUser been taken.
    agent.browser.wait_for_text("Anonymous visitor");
    let agent_sees = agent.browser.visible_text();
    assert!(
        !agent_sees.contains("Mallory") && !agent_sees.contains("Evil page"),
        "{agent_sees}"
    );

    // The control: the same message through the real API takes effect, so the quiet above is
    // the panel and the loader refusing, not a test too quick to notice. (That setUser
    // reaches the agent is `widget_js_api.rs`.)
    browser.switch_to_top();
    browser.execute("Kefu.setLocale('en');", &[]);
    customer.enter_panel();
    browser.find_by_role("textbox", "Type a message");
}
