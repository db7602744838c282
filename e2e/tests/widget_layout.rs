//! The customer panel's layout as a visitor meets it: on a phone whose host page overflows
//! sideways, the launcher and the panel stay on the screen and every button is in reach; the
//! 转人工 pill's text sits in its middle (the workspace's styles must not leak into the
//! panel); and after an agent ends the chat, the returning 转人工 button never hides the last
//! line. Screenshot: `widget-phone-overflowing-page.png`.

use kefu_e2e::{Agent, BrowserOptions, Customer, KefuServer};
use serde_json::Value;

/// Whether the element `selector` finds lies inside the visual viewport (±1 px).
const INSIDE_THE_SCREEN: &str = "
    const element = arguments[0] ? document.querySelector(arguments[0]) : null;
    if (!element) return false;
    const r = element.getBoundingClientRect(), v = visualViewport;
    return r.width > 0 && r.left >= v.offsetLeft - 1 && r.top >= v.offsetTop - 1
        && r.right <= v.offsetLeft + v.width + 1 && r.bottom <= v.offsetTop + v.height + 1;";

fn inside_the_screen(customer: &Customer, selector: &str) -> bool {
    customer
        .browser
        .execute(INSIDE_THE_SCREEN, &[Value::String(selector.to_string())])
        == Value::Bool(true)
}

#[test]
fn on_a_phone_a_host_page_wider_than_the_screen_keeps_the_launcher_and_the_panel_in_reach() {
    let server = KefuServer::start();
    let customer = Customer::visit_with(&server, BrowserOptions::phone());
    let browser = &customer.browser;
    // The demo page's snippet (<pre>) is wider than the phone: the layout viewport widens.
    browser.find_by_role("button", "在线客服");
    let widths = browser.execute(
        "return [document.documentElement.scrollWidth, visualViewport.width, innerWidth];",
        &[],
    );
    let (page, screen) = (
        widths[0].as_f64().unwrap_or_default(),
        widths[1].as_f64().unwrap_or_default(),
    );
    assert!(
        page > screen + 50.0,
        "the demo page overflows the phone's screen: [page, visual viewport, layout viewport] = {widths}"
    );
    assert!(
        inside_the_screen(&customer, "button[aria-haspopup=dialog]"),
        "the launcher is on the screen: {}",
        browser.execute(
            "return JSON.stringify([document.querySelector('button[aria-haspopup=dialog]').getBoundingClientRect(), visualViewport.offsetLeft, visualViewport.width]);",
            &[]
        )
    );

    // Tapped where it is, as a visitor would.
    browser.find_by_role("button", "在线客服").tap();
    browser.wait_until(
        "the panel covers exactly the screen",
        "const r = document.querySelector('iframe[src*=\"/widget\"]').getBoundingClientRect(), v = visualViewport;
         return Math.abs(r.left - v.offsetLeft) < 1 && Math.abs(r.top - v.offsetTop) < 1
             && Math.abs(r.width - v.width) < 1 && Math.abs(r.height - v.height) < 1;",
    );
    customer.enter_panel();
    // Inside the frame, its own viewport is the screen: close and Send are within it.
    for name in ["关闭对话窗口", "发送"] {
        let button = browser.find_by_role("button", name);
        let fits = browser.execute(
            "const r = arguments[0].getBoundingClientRect();
             return r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;",
            &[button.to_arg()],
        );
        assert_eq!(fits, Value::Bool(true), "{name} is in reach");
    }
    customer.say_and_wait("退款多久到账？");
    browser.wait_for_text("银行卡：3–7 个工作日");
    browser.execute(
        "document.activeElement && document.activeElement.blur();",
        &[],
    );
    browser.switch_to_top();
    browser.screenshot("widget-phone-overflowing-page");
    customer.enter_panel();
    browser.find_by_role("button", "关闭对话窗口").tap();
    browser.switch_to_top();
    browser.find_by_role("button", "在线客服");
    assert!(
        inside_the_screen(&customer, "button[aria-haspopup=dialog]"),
        "the launcher is back on the screen"
    );
}

#[test]
fn the_transfer_pill_is_centred_and_the_last_line_stays_visible_after_the_agent_ends() {
    let server = KefuServer::start();
    let agent = Agent::online(&server, "mei", "小美", 1);
    let customer = Customer::visit(&server);
    let browser = &customer.browser;
    customer.open_panel();

    // The pill's text sits in its middle: the panel's rule, not the workspace's, styles it.
    let pill = browser.find_by_role("button", "转人工");
    let offsets = browser.execute(
        "const b = arguments[0], r = b.getBoundingClientRect();
         const range = document.createRange(); range.selectNodeContents(b);
         const t = range.getBoundingClientRect();
         return [(t.top + t.bottom) / 2 - (r.top + r.bottom) / 2, (t.left + t.right) / 2 - (r.left + r.right) / 2];",
        &[pill.to_arg()],
    );
    let off = |index: usize| offsets[index].as_f64().unwrap_or(f64::NAN).abs();
    assert!(
        off(0) <= 1.5 && off(1) <= 1.5,
        "the 转人工 text is centred in its pill (vertical, horizontal offset): {offsets}"
    );

    // A chat long enough to scroll, then the agent ends it.
    pill.click();
    customer.wait_for_status("客服 小美 为您服务");
    for n in 1..=12 {
        customer.say_and_wait(&format!("第 {n} 个问题"));
    }
    agent.reply("第 12 个问题", "好的，已经处理完了。");
    browser.wait_for_text("好的，已经处理完了。");
    agent
        .browser
        .find_by_role("button", "End conversation")
        .click();
    agent.browser.find_by_role("button", "End").click();
    browser.wait_for_text("客服已结束本次会话。");
    browser.find_by_role("button", "转人工");
    browser.wait_until(
        "the last line is fully visible above the 转人工 button",
        "const log = document.querySelector('[role=log]');
         const lines = log.querySelectorAll('.kefu-line');
         const last = lines[lines.length - 1];
         return last.textContent.includes('客服已结束本次会话')
             && last.getBoundingClientRect().bottom <= log.getBoundingClientRect().bottom + 1;",
    );
}
