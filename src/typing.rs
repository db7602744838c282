//! Typing indicators in the browser, both directions, on top of kefu-core's rules
//! (`kefu_core::presence`): the composer tells a [`TypingSender`] about each change and it
//! decides when to send `typing: true/false`; a received indicator is forgotten by
//! [`forget_later`] unless the other side repeats it.

use std::time::Duration;

use kefu_core::presence::{TYPING_IDLE_MS, TYPING_SHOWN_MS, TypingSignal};
use leptos::prelude::*;

/// The outgoing indicator of one composer. `send` gets the value to put on the wire.
#[derive(Clone, Copy)]
pub struct TypingSender {
    signal: StoredValue<TypingSignal>,
    send: StoredValue<Box<dyn Fn(bool)>, LocalStorage>,
}

impl TypingSender {
    pub fn new(send: impl Fn(bool) + 'static) -> TypingSender {
        TypingSender {
            signal: StoredValue::new(TypingSignal::new()),
            send: StoredValue::new_local(Box::new(send)),
        }
    }

    /// The composer now holds `text`.
    pub fn input(self, text: &str) {
        let now = js_sys::Date::now() as i64;
        let empty = text.trim().is_empty();
        self.emit(
            self.signal
                .try_update_value(|signal| signal.on_input(now, empty))
                .flatten(),
        );
        if !empty {
            // If no keystroke follows, this ends typing.
            set_timeout(
                move || {
                    let now = js_sys::Date::now() as i64;
                    self.emit(
                        self.signal
                            .try_update_value(|signal| signal.on_timer(now))
                            .flatten(),
                    );
                },
                Duration::from_millis(TYPING_IDLE_MS as u64),
            );
        }
    }

    /// The message was sent, or the person left the conversation: typing ends now.
    pub fn stop(self) {
        self.emit(
            self.signal
                .try_update_value(TypingSignal::on_send)
                .flatten(),
        );
    }

    fn emit(self, typing: Option<bool>) {
        if let Some(typing) = typing {
            self.send.try_with_value(|send| send(typing));
        }
    }
}

/// Runs `forget` when a received "typing…" has been shown for as long as it may be without
/// being repeated. Callers compare a counter so that a repeated indicator is not cut short.
pub fn forget_later(forget: impl FnOnce() + 'static) {
    set_timeout(forget, Duration::from_millis(TYPING_SHOWN_MS as u64));
}
