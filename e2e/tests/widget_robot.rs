//! The customer widget with the robot, in real Chromium against the real server: the demo
//! page carries nothing but the pasted tag; the robot answers (with its safe links and
//! lists), misses, and offers suggestions that ask with a click; the panel is a labelled
//! dialog used from the keyboard; and the in-browser backend answers without a server.

use kefu_e2e::{Customer, KefuServer};
use serde_json::json;

/// The demo page is a host page with only the pasted tag; the widget's panel opens from
/// the launcher as a labelled dialog with the focus in the composer, the robot answers a
/// question with a list and a safe link, misses an unrelated one, and a suggestion chip
/// asks its question when clicked. Escape closes the panel and gives the focus back to the
/// launcher.
#[test]
fn the_robot_answers_misses_and_suggests_on_the_demo_page() {
    let server = KefuServer::start();
    let (status, demo_html) = server.get("/demo");
    assert_eq!(status, 200);
    assert_eq!(
        demo_html.matches("<script").count(),
        1,
        "only the pasted tag: {demo_html}"
    );
    assert!(
        demo_html.contains(r#"/embed.js" data-site="demo" async></script>"#),
        "{demo_html}"
    );

    let customer = Customer::visit(&server);
    let browser = &customer.browser;
    assert_eq!(
        browser.execute("return document.querySelectorAll('iframe').length;", &[]),
        json!(0),
        "no iframe before the first open"
    );
    customer.open_panel();
    browser.find_by_role("dialog", "在线客服");
    browser.wait_until(
        "the composer has the focus",
        "return document.activeElement && document.activeElement.tagName === 'TEXTAREA';",
    );
    customer.wait_for_status("智能助手");
    // The transfer button is there in robot_first mode.
    browser.find_by_role("button", "转人工");

    // A hit: the answer keeps its list and its link, and the link opens safely elsewhere.
    customer.say("退款多久到账？");
    browser.wait_for_text("银行卡：3–7 个工作日");
    assert_eq!(
        browser.execute(
            "return document.querySelectorAll('[role=log] li').length;",
            &[]
        ),
        json!(2)
    );
    customer.say("退货政策是什么？");
    let link = browser.find_by_role("link", "退货政策");
    assert_eq!(
        link.attribute("href").as_deref(),
        Some("https://example.com/returns")
    );
    assert_eq!(
        link.attribute("rel").as_deref(),
        Some("noopener noreferrer")
    );
    assert_eq!(link.attribute("target").as_deref(), Some("_blank"));

    // Typed HTML stays text.
    customer.say_and_wait("<b>不是粗体</b>");
    assert!(customer.transcript().contains("<b>不是粗体</b>"));
    assert_eq!(
        browser.execute(
            "return document.querySelectorAll('[role=log] b').length;",
            &[]
        ),
        json!(0)
    );

    // A miss gets the no-answer reply.
    customer.say("今天天气怎么样");
    browser.wait_for_text("抱歉，这个问题我还不会回答");

    // A suggestion asks its question.
    customer.say("密码");
    browser.find_by_role("button", "忘记密码怎么办？").click();
    browser.wait_for_text("别担心！在登录页点击「忘记密码」");
    assert_eq!(customer.count_in_transcript("别担心！"), 1);

    // Keyboard: Escape closes the panel; the focus returns to the launcher.
    browser
        .find_by_role_containing("textbox", "")
        .type_text("\u{E00C}");
    browser.switch_to_top();
    browser.wait_until(
        "the panel is hidden",
        "return getComputedStyle(document.querySelector('iframe')).display === 'none';",
    );
    browser.wait_until(
        "the launcher has the focus again",
        "return document.activeElement && document.activeElement.getAttribute('aria-expanded') === 'false';",
    );
    // The demo page has no favicon; that 404 is the browser's, not the widget's.
    let errors: Vec<String> = browser
        .console_errors()
        .into_iter()
        .filter(|error| !error.contains("favicon.ico"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// `/widget?backend=local` runs kefu-core's robot in the browser: the panel answers from the
/// demo knowledge base without a round trip, in English when asked to.
#[test]
fn the_in_browser_backend_answers_without_the_server() {
    let server = KefuServer::start();
    let customer = Customer::visit(&server);
    let browser = &customer.browser;
    browser.goto(&server.url("/widget?backend=local&lang=en"));
    customer.wait_for_status("Assistant");
    browser.find_by_role("dialog", "Customer service");
    customer.say("How long does a refund take?");
    browser.wait_for_text("Did you mean:");
    assert!(
        customer.transcript().to_lowercase().contains("refund"),
        "{}",
        customer.transcript()
    );
    browser.find_by_role("button", "Talk to a person").click();
    browser.wait_for_text("No agent is online right now");
    customer.wait_for_status("Assistant");
}
