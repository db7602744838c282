//! The widget's components in headless Chromium: mounted, used like a person would (found by
//! role and accessible name), and checked by what is visible.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts a view into a fresh container and returns the container.
fn mount(view: impl FnOnce() -> AnyView + 'static) -> HtmlElement {
    let document = document();
    let container: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&container).unwrap();
    let handle = leptos::mount::mount_to(container.clone(), view);
    std::mem::forget(handle);
    container
}

/// The accessible name as a screen reader would compute it for these simple controls:
/// aria-label, else the text of a wrapping label, else the element's own text.
fn accessible_name(element: &web_sys::Element) -> String {
    if let Some(label) = element.get_attribute("aria-label") {
        return label;
    }
    if let Some(id) = element.get_attribute("aria-labelledby")
        && let Some(label) = document().get_element_by_id(&id)
    {
        return label.text_content().unwrap_or_default().trim().to_owned();
    }
    if let Ok(Some(label)) = element.closest("label") {
        return label.text_content().unwrap_or_default().trim().to_owned();
    }
    element.text_content().unwrap_or_default().trim().to_owned()
}

/// Finds a control by role and accessible name, like a person reading the screen would.
fn by_role(container: &HtmlElement, role: &str, name: &str) -> HtmlElement {
    let selector = match role {
        "button" => "button, [role=button]",
        "textbox" => "textarea, input:not([type]), input[type=text], input[type=password], [role=textbox]",
        "log" => "[role=log]",
        "dialog" => "[role=dialog]",
        other => panic!("unknown role {other}"),
    };
    let found = container.query_selector_all(selector).unwrap();
    let mut seen = Vec::new();
    for index in 0..found.length() {
        let element: web_sys::Element = found.item(index).unwrap().unchecked_into();
        let element_name = accessible_name(&element);
        if element_name == name {
            return element.unchecked_into();
        }
        seen.push(element_name);
    }
    panic!("no {role} named {name:?}; seen {seen:?}");
}

async fn settle() {
    leptos::task::tick().await;
    gloo_timers::future::TimeoutFuture::new(20).await;
}

fn type_into(textarea: &HtmlElement, text: &str) {
    let textarea: HtmlTextAreaElement = textarea.clone().unchecked_into();
    textarea.set_value(text);
    textarea.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
}

fn press_enter(element: &HtmlElement, shift: bool) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    element.dispatch_event(&event).unwrap();
}

/// Typed while offline, a message stays visible as "sending" (it goes out on reconnect);
/// Shift+Enter does not send; the text is shown literally, never as HTML.
#[wasm_bindgen_test]
async fn customer_panel_keeps_offline_messages_as_sending_and_shows_text_literally() {
    let container = mount(|| view! { <kefu_widget::customer::panel::CustomerPanel/> }.into_any());
    settle().await;
    by_role(&container, "dialog", "Customer service");
    let composer = by_role(&container, "textbox", "Type a message");

    type_into(&composer, "first line");
    press_enter(&composer, true);
    settle().await;
    let log = by_role(&container, "log", "Conversation");
    assert!(!log.inner_text().contains("first line"), "Shift+Enter must not send");

    type_into(&composer, "<img src=x onerror=alert(1)>");
    press_enter(&composer, false);
    settle().await;
    let text = log.inner_text();
    assert!(text.contains("<img src=x onerror=alert(1)>"), "{text}");
    assert!(text.contains("Sending"), "{text}");
    assert!(log.query_selector("img").unwrap().is_none(), "message text must never become HTML");
    assert_eq!(composer.unchecked_ref::<HtmlTextAreaElement>().value(), "", "the composer is cleared");
}

/// The agent workspace starts at the login form, with labelled fields, and switches language.
#[wasm_bindgen_test]
async fn agent_app_starts_with_a_labelled_login_form_in_both_languages() {
    let container = mount(|| view! { <kefu_widget::agent::workspace::AgentApp/> }.into_any());
    settle().await;
    by_role(&container, "textbox", "Login");
    by_role(&container, "textbox", "Password");
    by_role(&container, "button", "Log in");
    by_role(&container, "button", "中文").click();
    settle().await;
    by_role(&container, "textbox", "账号");
    by_role(&container, "button", "登录");
}
