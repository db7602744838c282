//! The XSS corpus, rendered in real Chromium on both sides: script tags, event-handler
//! attributes, `javascript:` links in the robot's formatting, template expressions, bidi
//! overrides and zero-width characters, put in every place a customer, a site or an operator
//! controls — the customer's messages, the visitor's name, email and attributes
//! (`Kefu.setUser`), the page title, a knowledge answer and its question, a canned phrase and
//! the agent's messages. `window.alert` is hooked in every page; the test fails if any
//! payload runs (the hook, or an alert WebDriver trips over), if any of them became markup
//! (an element with an event handler, an inline script, a `javascript:` link), or if any is
//! not shown literally, character for character, or if a right-to-left override in a user id
//! or a page title turns the workspace's own words after it around.

use std::ffi::OsStr;

use kefu_e2e::{Agent, Browser, Customer, KefuServer};
use serde_json::{Value, json};

/// Every payload, in one line; each place gets it behind its own marker (`N:` the name…).
const PAYLOADS: &[&str] = &[
    "<script>alert('script')</script>",
    "<img src=x onerror=alert('img')>",
    "<svg onload=alert('svg')>",
    "[点我](javascript:alert('link'))",
    "<a href=\"javascript:alert('href')\">链接</a>",
    "{{constructor.constructor('alert(1)')()}}",
    "\u{202E}gnp.exe\u{202C}",
    "zero\u{200B}width\u{200D}joiner\u{FEFF}",
];

fn all_payloads() -> String {
    PAYLOADS.join(" ")
}

/// Hooks `window.alert` in the current frame: a payload that runs is recorded, not shown.
fn hook_alert(browser: &Browser) {
    browser.execute("window.alert = message => { window.xssRan = (window.xssRan || []).concat([String(message)]); };", &[]);
}

/// What a payload could have done in the current frame: `ran` (alerts), `markup` (elements
/// a payload would have made: event handlers, inline scripts, `javascript:` links) and the
/// `wanted` texts that are not in the page literally.
fn damage(browser: &Browser, wanted: &[String]) -> Value {
    browser.execute(
        "const text = document.body.textContent;
         const markup = [...document.querySelectorAll('[onerror], [onload], [onclick], script:not([src]), a[href^=\"javascript:\" i], img[src=\"x\"]')]
           .map(element => element.outerHTML.slice(0, 120));
         return { ran: window.xssRan || [], markup, missing: arguments[0].filter(wanted => !text.includes(wanted)) };",
        &[json!(wanted)],
    )
}

/// Whether, in the text node holding `context`, the character `first` (its last occurrence)
/// is shown before `then` (the first occurrence after it): left of it on one line, or on an
/// earlier line. A bidi override leaking out of a visitor's text shows them swapped.
fn shown_in_order(browser: &Browser, context: &str, first: &str, then: &str) -> Value {
    browser.execute(
        "const [context, first, then] = arguments;
         const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
         let node;
         while ((node = walker.nextNode()) && !node.data.includes(context)) {}
         if (!node) return 'no text node with ' + context;
         const i = node.data.lastIndexOf(first), j = node.data.indexOf(then, i + 1);
         const rect = at => { const range = document.createRange(); range.setStart(node, at); range.setEnd(node, at + 1); return range.getBoundingClientRect(); };
         const [a, b] = [rect(i), rect(j)];
         return Math.abs(a.top - b.top) < 2 ? a.left < b.left : a.top < b.top;",
        &[json!(context), json!(first), json!(then)],
    )
}

fn assert_harmless(browser: &Browser, side: &str, wanted: &[String]) {
    let found = damage(browser, wanted);
    let clean = json!({ "ran": [], "markup": [], "missing": [] });
    assert_eq!(
        found, clean,
        "{side}: a payload ran, became markup, or is not shown literally"
    );
}

#[test]
fn xss_payloads_everywhere_are_shown_as_text_and_never_run() {
    let all = all_payloads();
    let marked = |marker: &str| format!("{marker}:{all}");
    let server = KefuServer::start();

    // A knowledge item whose question and answer carry the payloads, imported by the operator.
    let question = "xss测试问题 <svg onload=alert('question')>";
    let knowledge = json!([{ "id": "xss-1", "category": "测试", "question": question, "similar": [], "answer": marked("K") }]);
    let file = server.data_dir().join("xss-knowledge.json");
    std::fs::write(&file, knowledge.to_string()).expect("the knowledge file is written");
    server.run_cli_ok([OsStr::new("kb"), OsStr::new("import"), file.as_os_str()]);

    let agent = Agent::online(&server, "mei", "小美", 5);
    hook_alert(&agent.browser);
    let customer = Customer::visit(&server);
    let browser = &customer.browser;
    browser.find_by_role("button", "在线客服");
    hook_alert(browser);
    let bad_key = "<img src=x onerror=alert('key')>";
    browser.execute(
        "document.title = arguments[0];
         Kefu.setUser({ id: 'u-xss\\u202E', name: arguments[1], email: arguments[2], attributes: { [arguments[3]]: arguments[4] } });
         Kefu.open();",
        &[json!(format!("{}\u{202E}", marked("T"))), json!(marked("N")), json!(marked("E")), json!(bad_key), json!(marked("V"))],
    );
    customer.enter_panel();
    hook_alert(browser);
    // The panel puts the caret in its composer when it hears the loader's `open`, which the
    // loader sends after setUser: so the panel has taken the identity. setUser drops the
    // connection so that the next `hello` carries it (and the page); what the customer
    // types from now on waits for that `hello`.
    browser.wait_until(
        "the composer has the focus",
        "return document.activeElement && document.activeElement.tagName === 'TEXTAREA';",
    );
    customer.enter_panel();

    // The robot answers from the item: the answer (and its question, when suggested) as text.
    customer.say_and_wait(question);
    browser.wait_for_text("K:");
    customer.say_and_wait(&marked("M"));
    customer.say_and_wait("转人工");
    customer.wait_for_status("小美");

    // The agent: the chat in the list under the visitor's name, the visitor's details and page.
    agent
        .browser
        .find_by_role_containing("button", "N:")
        .click();
    agent.browser.wait_for_text("T:");
    // The knowledge search shows the item.
    agent
        .browser
        .find_by_role("searchbox", "Search the knowledge base")
        .type_text("xss测试问题");
    agent
        .browser
        .find_by_role_containing("button", "Use answer: xss测试问题");
    // A canned phrase with the payloads, made in the settings and sent with `/`.
    agent
        .browser
        .find_by_role("button", "Canned phrase settings")
        .click();
    agent
        .browser
        .find_by_role("textbox", "Category")
        .type_text("xss");
    agent
        .browser
        .find_by_role("textbox", "Content")
        .type_text(&marked("P"));
    agent.browser.find_by_role("button", "Add phrase").click();
    agent.browser.find_by_role_containing("button", "Edit: P:");
    assert_harmless(&agent.browser, "the phrase settings", &[marked("P")]);
    agent.browser.find_by_role("button", "Close").click();
    let composer = agent.browser.find_by_role("textbox", "Reply");
    composer.type_text("/xss");
    agent.browser.find_by_role_containing("button", "P:");
    composer.press_enter();
    composer.press_enter();
    agent.reply("N:", &marked("A"));
    // A last, harmless message: once both sides show it, everything sent before it has been
    // rendered. Markup a payload made (an image with its onerror, a script) would be in the
    // page by then, and `damage` finds it whether or not it has run yet.
    let last = "以上就是全部内容";
    agent.reply("N:", last);

    browser.wait_for_text("P:");
    browser.wait_for_text("A:");
    browser.wait_for_text(last);
    agent.browser.wait_for_text(last);
    assert_harmless(
        browser,
        "the customer's panel",
        &[marked("K"), marked("M"), marked("P"), marked("A")],
    );
    let agent_sees: Vec<String> = ["N", "E", "V", "T", "M", "K", "P", "A"]
        .iter()
        .map(|marker| marked(marker))
        .chain([bad_key.to_owned(), question.to_owned()])
        .collect();
    assert_harmless(&agent.browser, "the agent workspace", &agent_sees);
    // A user id and a page title ending in an unterminated right-to-left override: the words
    // after them ("(not verified)", " — <url>") still read left to right.
    assert_eq!(
        shown_in_order(&agent.browser, "not verified", "(", ")"),
        json!(true),
        "the verdict after the user id is turned around"
    );
    assert_eq!(
        shown_in_order(&agent.browser, "T:", "—", "h"),
        json!(true),
        "the URL after the page title is turned around"
    );
    browser.switch_to_top();
    assert_harmless(browser, "the host page", &[]);
    assert_eq!(
        browser.execute("return document.title;", &[]),
        json!(format!("{}\u{202E}", marked("T"))),
        "the title is text too"
    );
    agent.browser.screenshot("xss-agent");
}
