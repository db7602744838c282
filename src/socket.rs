//! A WebSocket that reconnects by itself, with exponential backoff and jitter.
//!
//! It knows nothing of the protocol: the session types ([`crate::customer::session`],
//! [`crate::agent::session`]) say what to send on open (a `hello` with resume cursors) and
//! what a received text means.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::{Interval, Timeout};
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// What the owner of a socket is told.
pub struct Handlers {
    pub on_open: Box<dyn Fn()>,
    pub on_text: Box<dyn Fn(String)>,
    pub on_close: Box<dyn Fn()>,
}

/// A reconnecting WebSocket; cheap to clone.
#[derive(Clone)]
pub struct Socket {
    inner: Rc<RefCell<Inner>>,
    handlers: Rc<Handlers>,
}

struct Inner {
    url: String,
    socket: Option<WebSocket>,
    attempt: u32,
    stopped: bool,
    retry: Option<Timeout>,
    keep_alive: Option<Interval>,
    // Kept alive as long as the socket they are attached to.
    closures: Vec<Closure<dyn FnMut(JsValue)>>,
}

/// The delay before reconnect attempt `attempt` (0-based): 0.5 s doubling up to 30 s, times
/// a random factor in [0.5, 1) so that a server restart is not met by every client at once.
pub fn backoff_ms(attempt: u32, random: f64) -> u32 {
    let base = 500u32.saturating_mul(1u32 << attempt.min(6)).min(30_000);
    (f64::from(base) * (0.5 + random.clamp(0.0, 1.0) * 0.5)) as u32
}

impl Socket {
    /// Starts connecting to `url` and keeps reconnecting until [`Socket::stop`].
    pub fn connect(url: String, handlers: Handlers) -> Socket {
        let socket = Socket {
            inner: Rc::new(RefCell::new(Inner {
                url,
                socket: None,
                attempt: 0,
                stopped: false,
                retry: None,
                keep_alive: None,
                closures: Vec::new(),
            })),
            handlers: Rc::new(handlers),
        };
        socket.open();
        socket
    }

    fn open(&self) {
        let url = self.inner.borrow().url.clone();
        let Ok(ws) = WebSocket::new(&url) else {
            self.schedule_reconnect();
            return;
        };
        let on_open = {
            let this = self.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                this.inner.borrow_mut().attempt = 0;
                (this.handlers.on_open)();
            })
        };
        let on_message = {
            let this = self.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                if let Some(text) = event.unchecked_into::<MessageEvent>().data().as_string() {
                    (this.handlers.on_text)(text);
                }
            })
        };
        let on_close = {
            let this = self.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
                let _ = _event.dyn_into::<CloseEvent>();
                (this.handlers.on_close)();
                this.schedule_reconnect();
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut inner = self.inner.borrow_mut();
        inner.socket = Some(ws);
        inner.closures = vec![on_open, on_message, on_close];
    }

    fn schedule_reconnect(&self) {
        let mut inner = self.inner.borrow_mut();
        if inner.stopped {
            return;
        }
        if let Some(old) = inner.socket.take() {
            old.set_onopen(None);
            old.set_onmessage(None);
            old.set_onclose(None);
        }
        let delay = backoff_ms(inner.attempt, js_sys::Math::random());
        inner.attempt = inner.attempt.saturating_add(1);
        let this = self.clone();
        inner.retry = Some(Timeout::new(delay, move || this.open()));
    }

    /// Sends a text frame; false when the socket is not open (the caller keeps the frame
    /// and sends it after the next `on_open`).
    pub fn send(&self, text: &str) -> bool {
        let inner = self.inner.borrow();
        match &inner.socket {
            Some(ws) if ws.ready_state() == WebSocket::OPEN => ws.send_with_str(text).is_ok(),
            _ => false,
        }
    }

    /// Closes the socket now; it reconnects after the backoff (used when the network comes
    /// back, or by tests to simulate a drop).
    pub fn drop_connection(&self) {
        let ws = self.inner.borrow().socket.clone();
        if let Some(ws) = ws {
            let _ = ws.close();
        }
    }

    /// Sends `text` every `every_ms` milliseconds while the socket is open: the protocol's
    /// `ping`, without which the server closes a quiet connection (PROTOCOL.md, "Keep-alive").
    pub fn keep_alive(&self, text: String, every_ms: u32) {
        let this = self.clone();
        let interval = Interval::new(every_ms, move || {
            this.send(&text);
        });
        self.inner.borrow_mut().keep_alive = Some(interval);
    }

    /// Closes for good.
    pub fn stop(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.stopped = true;
        inner.retry = None;
        inner.keep_alive = None;
        if let Some(ws) = inner.socket.take() {
            ws.set_onclose(None);
            let _ = ws.close();
        }
    }
}

/// `ws://host/path` or `wss://host/path` for the page's own origin.
pub fn same_origin_url(path: &str) -> String {
    let location = web_sys::window().expect("a window").location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{}{path}", location.host().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        assert_eq!(backoff_ms(0, 1.0), 500);
        assert_eq!(backoff_ms(0, 0.0), 250);
        assert!(backoff_ms(3, 1.0) > backoff_ms(2, 1.0));
        assert_eq!(backoff_ms(20, 1.0), 30_000);
    }
}
