//! Shared by the widget's browser tests: mount a view, find controls by role and accessible
//! name as a person (or a screen reader) would, type, press keys, let effects run.
#![allow(dead_code)]

use std::rc::Rc;

use kefu_widget::customer::backend::Backend;
use kefu_widget::customer::panel::CustomerPanel;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// Mounts a view into a fresh container and returns the container.
pub fn mount(view: impl FnOnce() -> AnyView + 'static) -> HtmlElement {
    let document = document();
    let container: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&container).unwrap();
    let handle = leptos::mount::mount_to(container.clone(), view);
    std::mem::forget(handle);
    container
}

/// The accessible name of the simple controls the widget uses: aria-label, aria-labelledby,
/// a wrapping label, else the element's own text.
pub fn accessible_name(element: &web_sys::Element) -> String {
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

fn selector(role: &str) -> &'static str {
    match role {
        "button" => "button, [role=button]",
        "textbox" => {
            "textarea, input:not([type]), input[type=text], input[type=password], [role=textbox]"
        }
        "searchbox" => "input[type=search], [role=searchbox]",
        "log" => "[role=log]",
        "dialog" => "[role=dialog]",
        "complementary" => "aside, [role=complementary]",
        "navigation" => "nav, [role=navigation]",
        "link" => "a[href]",
        "region" => "section[aria-label], section[aria-labelledby], [role=region]",
        "combobox" => "select, [role=combobox]",
        "group" => "fieldset, [role=group]",
        "alert" => "[role=alert]",
        "checkbox" => "input[type=checkbox]",
        "radio" => "input[type=radio]",
        other => panic!("unknown role {other}"),
    }
}

/// Every control of `role` in `container`, with its accessible name.
pub fn all_by_role(container: &HtmlElement, role: &str) -> Vec<(String, HtmlElement)> {
    let found = container.query_selector_all(selector(role)).unwrap();
    (0..found.length())
        .map(|index| {
            let element: web_sys::Element = found.item(index).unwrap().unchecked_into();
            (accessible_name(&element), element.unchecked_into())
        })
        .collect()
}

/// The control of `role` named `name`; panics listing what there is.
pub fn by_role(container: &HtmlElement, role: &str, name: &str) -> HtmlElement {
    let all = all_by_role(container, role);
    match all.iter().find(|(element_name, _)| element_name == name) {
        Some((_, element)) => element.clone(),
        None => panic!(
            "no {role} named {name:?}; seen {:?}",
            all.iter().map(|(name, _)| name).collect::<Vec<_>>()
        ),
    }
}

/// Lets Leptos effects and the DOM catch up.
pub async fn settle() {
    leptos::task::tick().await;
    gloo_timers::future::TimeoutFuture::new(20).await;
}

/// Types into an input or textarea as a person would (value + input event).
pub fn type_into(element: &HtmlElement, text: &str) {
    js_sys::Reflect::set(element, &"value".into(), &text.into()).unwrap();
    element
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// Dispatches a keydown with modifiers on `target`.
pub fn key_down(target: &web_sys::EventTarget, key: &str, shift: bool, alt: bool) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_shift_key(shift);
    init.set_alt_key(alt);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&event).unwrap();
}

/// Waits (up to 100 settles, about 2 s) until `check` holds; panics with `what` otherwise.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        settle().await;
    }
    panic!("timed out waiting until {what}");
}

/// Mounts the customer panel over `backend`, as the widget's entry point does.
pub fn mount_panel(backend: Rc<dyn Backend>) -> HtmlElement {
    mount(move || view! { <CustomerPanel backend=backend/> }.into_any())
}

/// Types `text` into the panel's composer and presses Enter, as a customer sends.
pub async fn ask(container: &HtmlElement, text: &str) {
    let composer = by_role(container, "textbox", "Type a message");
    type_into(&composer, text);
    key_down(&composer, "Enter", false, false);
    settle().await;
}

/// The text of the panel's transcript.
pub fn log_text(container: &HtmlElement) -> String {
    by_role(container, "log", "Conversation").inner_text()
}
