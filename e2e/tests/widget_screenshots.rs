//! Screenshots of the customer widget for people to look at: zh-CN and en, desktop and a
//! 375 px phone, light and dark (`target/e2e-screenshots/widget-<lang>-<device>-<scheme>.png`).
//! Each shows the demo page with the panel open after a robot answer with a list, a link
//! and suggestion chips. The test also checks what the pictures rely on: the phone layout
//! fills the screen, inputs are at least 16 px (no zoom on iOS), and dark mode is dark.

use kefu_e2e::{BrowserOptions, Customer, KefuServer};
use serde_json::json;

#[test]
fn screenshots_in_both_languages_on_desktop_and_phone_in_light_and_dark() {
    let server = KefuServer::start();
    for (device, options) in [
        ("desktop", BrowserOptions::default()),
        (
            "mobile",
            BrowserOptions {
                width: 375,
                height: 812,
                ..BrowserOptions::mobile()
            },
        ),
    ] {
        for scheme in ["light", "dark"] {
            let options = if scheme == "dark" {
                options.clone().dark()
            } else {
                options.clone()
            };
            let customer = Customer::visit_with(&server, options);
            let browser = &customer.browser;
            for lang in ["zh", "en"] {
                if lang == "en" {
                    // A new visitor in English: forget the Chinese one, then open in English.
                    customer.browser.execute("localStorage.clear();", &[]);
                    browser.switch_to_top();
                    browser.execute("sessionStorage.clear();", &[]);
                    browser.goto(&server.url("/demo"));
                    browser.execute("Kefu.setLocale('en'); Kefu.open();", &[]);
                    customer.enter_panel();
                    customer.say_and_wait("How long does a refund take?");
                    browser.wait_for_text("Did you mean:");
                    customer.say_and_wait("invoice");
                    browser.wait_for_text("How do I change my billing email?");
                } else {
                    customer.open_panel();
                    customer.say_and_wait("退款多久到账？");
                    browser.wait_for_text("银行卡：3–7 个工作日");
                    customer.say_and_wait("密码");
                    browser.wait_for_text("忘记密码怎么办？");
                }
                let dark = browser.execute(
                    "return matchMedia('(prefers-color-scheme: dark)').matches;",
                    &[],
                );
                assert_eq!(
                    dark,
                    json!(scheme == "dark"),
                    "the panel sees the colour scheme"
                );
                let input_font = browser.execute("return parseFloat(getComputedStyle(document.querySelector('textarea')).fontSize);", &[]);
                assert!(
                    input_font.as_f64().unwrap_or_default() >= 16.0,
                    "inputs are at least 16 px: {input_font}"
                );
                browser.wait_until(
                    "the transcript follows the newest message",
                    "const log = document.querySelector('[role=log]');
                     return log.scrollTop + log.clientHeight >= log.scrollHeight - 2;",
                );
                browser.execute(
                    "document.activeElement && document.activeElement.blur();",
                    &[],
                );
                browser.switch_to_top();
                if device == "mobile" {
                    let geometry = browser.execute(
                        "const r = document.querySelector('iframe').getBoundingClientRect();
                         return [r.left, r.top, r.width, r.height, visualViewport.width, visualViewport.height,
                                 getComputedStyle(document.documentElement).overflow];",
                        &[],
                    );
                    let number = |index: usize| geometry[index].as_f64().unwrap_or(f64::NAN);
                    let fills = number(0) == 0.0
                        && number(1) == 0.0
                        && (number(2) - number(4)).abs() < 2.0
                        && (number(3) - number(5)).abs() < 2.0
                        && geometry[6] == json!("hidden");
                    assert!(
                        fills,
                        "under 640 px the panel fills the screen and the page does not scroll: {geometry}"
                    );
                }
                browser.screenshot(&format!("widget-{lang}-{device}-{scheme}"));
                customer.enter_panel();
            }
        }
    }
}
