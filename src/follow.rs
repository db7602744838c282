//! Following a transcript: a scrolling log stays at its newest line while the reader is
//! there, and leaves them alone once they scroll up to read (the workspace then counts what
//! arrived below, "3 new messages ↓").
//!
//! "At the bottom" is what the reader last left it at: measured on every scroll, not on
//! every change, so a line arriving below a reader at the bottom (which moves the bottom
//! away) still counts as "they were at the bottom". The box itself also changes size (a
//! button appearing under it, the composer growing, a phone keyboard); a
//! `ResizeObserver` keeps a reader who was at the bottom there, so nothing new is hidden
//! behind what appeared.

use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// How close to the end still counts as "at the bottom", in CSS pixels.
const SLACK_PX: i32 = 24;

/// The state of one followed transcript; `Copy`, so closures can share it.
#[derive(Clone, Copy)]
pub struct Follow {
    /// The scrolling element (`node_ref` on the transcript).
    pub node: NodeRef<Div>,
    at_bottom: RwSignal<bool>,
    /// Where this code last put the scroll position (at the bottom, then). Its own scroll
    /// event may arrive after more lines came, when the position no longer looks like the
    /// bottom: it still says "at the bottom", only a reader's scroll elsewhere says not.
    placed_at: RwSignal<i32>,
    /// Lines that arrived while the reader was scrolled up.
    pub unseen: RwSignal<usize>,
}

impl Default for Follow {
    fn default() -> Follow {
        Follow::new()
    }
}

impl Follow {
    /// A transcript that starts at the bottom; call [`Follow::watch`] once it is mounted.
    pub fn new() -> Follow {
        let follow = Follow {
            node: NodeRef::new(),
            at_bottom: RwSignal::new(true),
            placed_at: RwSignal::new(-1),
            unseen: RwSignal::new(0),
        };
        follow.watch();
        follow
    }

    /// Installs the size observer whenever the element is (re)mounted; the previous one is
    /// disconnected with the effect's cleanup.
    fn watch(self) {
        let node = self.node;
        Effect::new(move |_| {
            let Some(element) = node.get() else {
                return;
            };
            let callback = Closure::<dyn FnMut()>::new(move || {
                if self.at_bottom.get_untracked() {
                    self.to_end_now();
                }
            });
            let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref())
            else {
                return;
            };
            // The callback lives as long as the page: one per mounted transcript, a few bytes.
            callback.forget();
            observer.observe(&element);
            let observer = StoredValue::new_local(observer);
            on_cleanup(move || observer.with_value(web_sys::ResizeObserver::disconnect));
        });
    }

    /// For the transcript's `on:scroll`: remembers whether the reader is at the bottom.
    pub fn on_scroll(self) {
        let Some(element) = self.node.get_untracked() else {
            return;
        };
        let placed_at = self.placed_at.get_untracked();
        let at_bottom = (placed_at > 0 && element.scroll_top() == placed_at)
            || element.scroll_top() + element.client_height() >= element.scroll_height() - SLACK_PX;
        if at_bottom != self.at_bottom.get_untracked() {
            self.at_bottom.set(at_bottom);
        }
        if at_bottom && self.unseen.get_untracked() > 0 {
            self.unseen.set(0);
        }
    }

    /// Whether the reader was at the bottom when they last scrolled.
    pub fn at_bottom(self) -> bool {
        self.at_bottom.get_untracked()
    }

    /// Jumps to the newest line once the lines just added are laid out (the next frame).
    pub fn to_end(self) {
        self.at_bottom.set(true);
        self.unseen.set(0);
        request_animation_frame(move || self.to_end_now());
    }

    fn to_end_now(self) {
        if let Some(element) = self.node.get_untracked() {
            element.set_scroll_top(element.scroll_height());
            self.placed_at.set(element.scroll_top());
        }
    }

    /// `added` lines arrived: follow them when the reader was at the bottom or `own` (they
    /// wrote the newest one themselves), count them otherwise.
    pub fn arrived(self, added: usize, own: bool) {
        if own || self.at_bottom() {
            self.to_end();
        } else {
            self.unseen.update(|unseen| *unseen += added);
        }
    }
}
