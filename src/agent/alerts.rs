//! Telling an agent who looks elsewhere that a chat was assigned: the tab title flashes, a
//! short tone plays, and a desktop notification appears once the agent allowed it. Nothing
//! here decides anything; the workspace calls [`new_assignment`] when the session says so.

use wasm_bindgen::JsCast;

/// Whether the agent is looking at the workspace right now.
pub fn page_visible() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_some_and(|document| {
            document.visibility_state() == web_sys::VisibilityState::Visible
                && document.has_focus().unwrap_or(true)
        })
}

/// A short two-note tone through Web Audio (no audio file, so no extra request and nothing
/// for the CSP to allow). Browsers may keep audio muted until the first click; that is fine.
pub fn play_tone() {
    let Ok(context) = web_sys::AudioContext::new() else {
        return;
    };
    let now = context.current_time();
    for (index, frequency) in [880.0_f32, 1175.0].into_iter().enumerate() {
        let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain())
        else {
            return;
        };
        oscillator.frequency().set_value(frequency);
        let start = now + index as f64 * 0.15;
        gain.gain().set_value(0.0);
        let _ = gain.gain().linear_ramp_to_value_at_time(0.2, start + 0.02);
        let _ = gain.gain().linear_ramp_to_value_at_time(0.0, start + 0.14);
        let _ = oscillator.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(&context.destination());
        let _ = oscillator.start_with_when(start);
        let _ = oscillator.stop_with_when(start + 0.15);
    }
}

/// Shows a desktop notification if the agent granted permission.
pub fn notify(title: &str, body: &str) {
    if web_sys::Notification::permission() != web_sys::NotificationPermission::Granted {
        return;
    }
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_tag("kefu-new-chat");
    let _ = web_sys::Notification::new_with_options(title, &options);
}

/// Asks for permission to show desktop notifications (must follow a click).
pub fn request_notification_permission() {
    let _ = web_sys::Notification::request_permission();
}

/// Whether notifications can still be enabled (not yet granted nor denied).
pub fn can_ask_for_notifications() -> bool {
    web_sys::window().is_some_and(|window| {
        js_sys::Reflect::has(&window, &"Notification".into()).unwrap_or(false)
    }) && web_sys::Notification::permission() == web_sys::NotificationPermission::Default
}

/// Sets the tab title.
pub fn set_title(title: &str) {
    if let Some(document) = web_sys::window().and_then(|window| window.document()) {
        document.set_title(title);
    }
}

/// Runs `callback` when the page becomes visible or focused again.
pub fn on_return(callback: impl Fn() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let closure = wasm_bindgen::closure::Closure::<dyn Fn()>::new(callback);
    let function: &js_sys::Function = closure.as_ref().unchecked_ref();
    let _ = window.add_event_listener_with_callback("focus", function);
    if let Some(document) = window.document() {
        let _ = document.add_event_listener_with_callback("visibilitychange", function);
    }
    closure.forget();
}
